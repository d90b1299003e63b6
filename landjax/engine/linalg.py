"""Linear solvers for Newton steps and implicit-differentiation tangent solves.

A linear solver turns a *linear* map `A` (a function `v -> A v` on flat vectors) into
`x = A^{-1} b`. Two are provided:

* `Dense`: materialises `A` with `n` forward-mode products and LU-solves it. Right for
  systems up to a few thousand unknowns.
* `BlockTridiagonal`: for stacked dynamic systems whose period-`t` equations depend only on
  periods `t-1, t, t+1` (unknowns flattened period-major, `block_size` per period). It builds
  the three block diagonals with only `3 * block_size` forward products (columns of periods three
  apart are probed together: their images never overlap) and solves with the block Thomas
  algorithm in `O(T * block_size^3)` time and `O(T * block_size^2)` memory.

Both are linear in the right-hand side, so they transpose (reverse-mode implicit differentiation).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp

Linear = Callable[[jax.Array], jax.Array]


@dataclasses.dataclass(frozen=True)
class Dense:
    """Materialise the matrix with `jax.jacfwd` and solve it by LU."""

    def materialize(self, A: Linear, like: jax.Array) -> jax.Array:
        return jax.jacfwd(A)(jnp.zeros_like(like))

    def solve_materialized(self, M: jax.Array, b: jax.Array) -> jax.Array:
        return jnp.linalg.solve(M, b)

    def __call__(self, A: Linear, b: jax.Array) -> jax.Array:
        return self.solve_materialized(self.materialize(A, b), b)


@dataclasses.dataclass(frozen=True)
class BlockTridiagonal:
    """Block-tridiagonal solve for period-major stacked systems.

    **Arguments:**

    - `block_size`: unknowns per period; the vector length must be a multiple of it.
    """

    block_size: int

    def _blocks(self, A: Linear, like: jax.Array):
        n = self.block_size
        if like.shape[0] % n:
            raise ValueError(f"BlockTridiagonal: length {like.shape[0]} is not a multiple of block_size={n}")
        T = like.shape[0] // n
        t_idx = jnp.arange(T)

        def probe(colour_and_i):
            colour, i = colour_and_i // n, colour_and_i % n
            e = jnp.zeros((T, n), like.dtype).at[:, i].set(jnp.where(t_idx % 3 == colour, 1.0, 0.0))
            return A(e.reshape(-1)).reshape(T, n)

        # out[c*n + i, t, :] = sum over s = t-1, t, t+1 with s % 3 == c of block(t, s)[:, i]
        out = jax.lax.map(probe, jnp.arange(3 * n))
        out = out.reshape(3, n, T, n)  # colour, column i, row-period t, row j

        def block(offset):  # block(t, t+offset)[:, :] as (T, n, n) [row j, column i]
            s = t_idx + offset
            colour = jnp.mod(s, 3)
            b = out[colour, :, t_idx, :]  # (T, n_col, n_row)
            return jnp.swapaxes(b, 1, 2)

        D = block(0)
        L = block(-1)[1:]  # L[t-1] = block(t, t-1), t = 1..T-1
        U = block(1)[:-1]  # U[t]   = block(t, t+1), t = 0..T-2
        return L, D, U

    def materialize(self, A: Linear, like: jax.Array):
        return self._blocks(A, like)

    def solve_materialized(self, blocks, b: jax.Array) -> jax.Array:
        L, D, U = blocks
        T, n = D.shape[0], self.block_size
        bb = b.reshape(T, n)
        Lp = jnp.concatenate([jnp.zeros((1, n, n), D.dtype), L], axis=0)  # Lp[t] couples t to t-1
        Up = jnp.concatenate([U, jnp.zeros((1, n, n), D.dtype)], axis=0)  # Up[t] couples t to t+1

        # factorisation (independent of b) and the sweeps (linear in b) are separate scans, so that
        # reverse mode can transpose the sweeps with the factors as constants
        def factor(Cprev, xs):
            Lt, Dt, Ut = xs
            M = Dt - Lt @ Cprev
            C = jnp.linalg.solve(M, Ut)
            return C, (C, M)

        _, (C, M) = jax.lax.scan(factor, jnp.zeros((n, n), D.dtype), (Lp, D, Up))

        def fwd(dprev, xs):
            Lt, Mt, bt = xs
            d = jnp.linalg.solve(Mt, bt - Lt @ dprev)
            return d, d

        _, d = jax.lax.scan(fwd, jnp.zeros((n,), D.dtype), (Lp, M, bb))

        def bwd(xnext, xs):
            Ct, dt = xs
            x = dt - Ct @ xnext
            return x, x

        _, x = jax.lax.scan(bwd, jnp.zeros((n,), D.dtype), (C, d), reverse=True)
        return x.reshape(-1)

    def __call__(self, A: Linear, b: jax.Array) -> jax.Array:
        return self.solve_materialized(self._blocks(A, b), b)


def resolve(linear_solver) -> Dense | BlockTridiagonal:
    if linear_solver is None or linear_solver == "dense":
        return Dense()
    if isinstance(linear_solver, (Dense, BlockTridiagonal)):
        return linear_solver
    raise ValueError(f"linear_solver must be 'dense', Dense() or BlockTridiagonal(n); got {linear_solver!r}")
