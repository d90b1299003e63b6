"""landjax's own iteration loops (`lax.while_loop`; jit- and vmap-safe).

Each loop takes a closed function (`f(y)` residual, or `g(y)` map) and returns
`(y, steps, code)` with code 0 (stopped normally), 1 (max steps) or 3 (stalled).
Differentiation is never traced through these loops: `landjax.engine.solve` wraps
them in `jax.lax.custom_root` (implicit function theorem).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from landjax.engine.linalg import BlockTridiagonal, Dense


def _inf_norm(x):
    return jnp.max(jnp.abs(x)) if x.size else jnp.asarray(0.0, x.dtype)


def _safe_norm(x):
    n = _inf_norm(x)
    return jnp.where(jnp.isfinite(n), n, jnp.inf)


def _backtrack(f, y, dx, fnorm, max_halvings: int = 30):
    """Largest t in {1, 1/2, 1/4, ...} with a finite and sufficiently smaller residual."""

    def cond(c):
        t, fn_new, k = c
        return (fn_new > (1.0 - 1e-4 * t) * fnorm) & (k < max_halvings)

    def body(c):
        t, _, k = c
        t = 0.5 * t
        return t, _safe_norm(f(y + t * dx)), k + 1

    t0 = jnp.asarray(1.0, y.dtype)
    t, _, _ = jax.lax.while_loop(cond, body, (t0, _safe_norm(f(y + dx)), 0))
    return t


def newton(f, y0, *, tol, ftol, max_steps, linear_solver=Dense(), line_search=False):
    """Newton's method with a materialised Jacobian and optional backtracking on ||f||_inf."""

    def jac_solve(y, rhs):
        _, lin = jax.linearize(f, y)
        return linear_solver(lin, rhs)

    def cond(c):
        y, fy, k, done, code = c
        return (~done) & (k < max_steps)

    def body(c):
        y, fy, k, _, _ = c
        dx = -jac_solve(y, fy)
        fnorm = _safe_norm(fy)
        t = _backtrack(f, y, dx, fnorm) if line_search else jnp.asarray(1.0, y.dtype)
        y_new = y + t * dx
        f_new = f(y_new)
        step = _inf_norm(t * dx)
        small = step <= tol * (1.0 + _inf_norm(y_new))
        fn_new = _safe_norm(f_new)
        finite = jnp.isfinite(fn_new) & jnp.all(jnp.isfinite(y_new))
        tiny = fn_new <= 1e-3 * ftol
        stalled = small & (fn_new > ftol)
        done = small | tiny | ~finite
        code = jnp.where(stalled, 3, 0)
        return y_new, f_new, k + 1, done, code

    f0 = f(y0)
    init = (y0, f0, 0, ~jnp.all(jnp.isfinite(f0)) | (_safe_norm(f0) <= 1e-3 * ftol), 0)
    y, _, k, done, code = jax.lax.while_loop(cond, body, init)
    return y, k, jnp.where(done, code, 1)


def broyden(f, y0, *, tol, ftol, max_steps, linear_solver=Dense(), line_search=True):
    """ "Good" Broyden with Sherman-Morrison updates of the inverse Jacobian.

    The inverse is initialised from the exact Jacobian at `y0` (one dense factorisation), so
    the method needs no user scaling; each later step costs one residual evaluation.
    """
    if isinstance(linear_solver, BlockTridiagonal):
        raise ValueError("method='broyden' keeps a dense inverse Jacobian; use method='newton' with BlockTridiagonal")
    n = y0.shape[0]
    J0 = jax.jacfwd(f)(y0)
    Hinv = jnp.linalg.solve(J0, jnp.eye(n, dtype=y0.dtype))
    Hinv = jnp.where(jnp.all(jnp.isfinite(Hinv)), Hinv, jnp.eye(n, dtype=y0.dtype))

    def cond(c):
        y, fy, H, k, done, code = c
        return (~done) & (k < max_steps)

    def body(c):
        y, fy, H, k, _, _ = c
        dx = -H @ fy
        fnorm = _safe_norm(fy)
        t = _backtrack(f, y, dx, fnorm) if line_search else jnp.asarray(1.0, y.dtype)
        s = t * dx
        y_new = y + s
        f_new = f(y_new)
        dfv = f_new - fy
        Hdf = H @ dfv
        denom = s @ Hdf
        ok = jnp.abs(denom) > 1e-300
        H_new = jnp.where(ok, H + jnp.outer(s - Hdf, s @ H) / jnp.where(ok, denom, 1.0), H)
        step = _inf_norm(s)
        small = step <= tol * (1.0 + _inf_norm(y_new))
        fn_new = _safe_norm(f_new)
        finite = jnp.isfinite(fn_new) & jnp.all(jnp.isfinite(y_new))
        tiny = fn_new <= 1e-3 * ftol
        done = small | tiny | ~finite
        code = jnp.where(small & (fn_new > ftol), 3, 0)
        return y_new, f_new, H_new, k + 1, done, code

    f0 = f(y0)
    init = (y0, f0, Hinv, 0, ~jnp.all(jnp.isfinite(f0)) | (_safe_norm(f0) <= 1e-3 * ftol), 0)
    y, _, _, k, done, code = jax.lax.while_loop(cond, body, init)
    return y, k, jnp.where(done, code, 1)


def picard(g, y0, *, tol, ftol, max_steps, damping=1.0):
    """Damped fixed-point iteration `y <- y + damping * (g(y) - y)`."""

    def cond(c):
        y, r, k, done = c
        return (~done) & (k < max_steps)

    def body(c):
        y, r, k, _ = c
        y_new = y + damping * r
        r_new = g(y_new) - y_new
        rn = _safe_norm(r_new)
        done = (rn <= tol * (1.0 + _inf_norm(y_new))) | ~jnp.isfinite(rn)
        return y_new, r_new, k + 1, done

    r0 = g(y0) - y0
    rn0 = _safe_norm(r0)
    init = (y0, r0, 0, (rn0 <= tol * (1.0 + _inf_norm(y0))) | ~jnp.isfinite(rn0))
    y, _, k, done = jax.lax.while_loop(cond, body, init)
    return y, k, jnp.where(done, 0, 1)


#: Anderson memories up to this size solve their mixing system by unrolled Gauss-Jordan
#: elimination (fused elementwise work, no LAPACK call per step); larger ones use `jnp.linalg.solve`
_UNROLLED_SPD_MAX = 8


def _spd_solve_unrolled(A, b):
    """Solve `A x = b` for a small symmetric positive definite `A` (m x m, m static) by Gauss-Jordan
    elimination without pivoting (safe for such matrices), unrolled over the m columns with whole-row
    operations (a few fused operations per column; cheap to trace). Pivots are floored at a tiny
    fraction of the trace, so a numerically semi-definite `A` gives a finite answer, not NaN."""
    m = A.shape[0]
    floor = 1e-300 + 1e-15 * jnp.abs(jnp.trace(A))
    M = jnp.concatenate([A, b[:, None]], axis=1)  # the augmented matrix [A | b]
    for k in range(m):
        is_k = (jnp.arange(m) == k)[:, None]
        row = M[k] / jnp.maximum(M[k, k], floor)
        # every other row loses its multiple of row k; row k becomes the normalised row
        M = jnp.where(is_k, row[None, :], M - M[:, k : k + 1] * row[None, :])
    return M[:, m]


def anderson(g, y0, *, tol, ftol, max_steps, damping=1.0, memory=5, reg=1e-12):
    """Anderson acceleration (type II) with `memory` past iterates and damping (mixing) `damping`.

    The differences of the last `memory` iterates and residuals are kept in a circular buffer
    (the least-squares mixing does not depend on their order); the regularised normal equations
    of the mixing are solved by unrolled Gauss-Jordan elimination for memories up to 8.
    """
    n = y0.shape[0]
    m = int(memory)
    small = m <= _UNROLLED_SPD_MAX

    def cond(c):
        return (~c[-1]) & (c[5] < max_steps)

    def body(c):
        y, r, dY, dR, A, k, _ = c
        # least-squares mixing on the stored differences (unused rows are zero); A = dR dR^T is
        # kept up to date row by row (each entry is recomputed whenever one of its rows changes)
        scale = jnp.maximum(jnp.trace(A), 1e-300)
        Areg = A + reg * scale * jnp.eye(m, dtype=y.dtype)
        rhs = jnp.sum(dR * r[None, :], axis=1)
        gamma = _spd_solve_unrolled(Areg, rhs) if small else jnp.linalg.solve(Areg, rhs)
        y_plain = y + damping * r
        y_new = y_plain - jnp.sum(gamma[:, None] * (dY + damping * dR), axis=0)
        y_new = jnp.where(jnp.all(jnp.isfinite(y_new)), y_new, y_plain)
        r_new = g(y_new) - y_new
        slot = jnp.arange(m) == k % m  # a mask, not a scatter: cheap under vmap
        dr = r_new - r
        dY = jnp.where(slot[:, None], (y_new - y)[None, :], dY)
        dR = jnp.where(slot[:, None], dr[None, :], dR)
        row = jnp.sum(dR * dr[None, :], axis=1)
        A = jnp.where(slot[:, None], row[None, :], jnp.where(slot[None, :], row[:, None], A))
        rn = _safe_norm(r_new)
        done = (rn <= tol * (1.0 + _inf_norm(y_new))) | ~jnp.isfinite(rn)
        return y_new, r_new, dY, dR, A, k + 1, done

    r0 = g(y0) - y0
    rn0 = _safe_norm(r0)
    z = jnp.zeros((m, n), y0.dtype)
    init = (y0, r0, z, z, jnp.zeros((m, m), y0.dtype), 0, (rn0 <= tol * (1.0 + _inf_norm(y0))) | ~jnp.isfinite(rn0))
    y, _, _, _, _, k, done = jax.lax.while_loop(cond, body, init)
    return y, k, jnp.where(done, 0, 1)


def levenberg_marquardt(r, z0, *, tol, max_steps, lam0=1e-3):
    """Levenberg-Marquardt for `min ||r(z)||^2` that rejects non-finite trial points.

    A trial step whose residual is NaN/inf (for example an inner equilibrium solve that failed
    there) is treated like a step that did not reduce the objective: it is rejected and the
    damping grows, so the search backs away instead of stopping with an error.
    Returns `(z, steps, code)` with code 0 (step or gradient small), 1 (max steps).
    """

    def obj(rz):
        v = jnp.sum(rz**2)
        return jnp.where(jnp.isfinite(v), v, jnp.inf)

    def cond(c):
        z, rz, lam, k, done = c
        return (~done) & (k < max_steps)

    def body(c):
        z, rz, lam, k, _ = c
        J = jax.jacfwd(r)(z)
        g = J.T @ rz
        A = J.T @ J
        step = -jnp.linalg.solve(A + lam * (jnp.diag(jnp.diag(A)) + 1e-12 * jnp.eye(z.shape[0], dtype=z.dtype)), g)
        z_try = z + step
        r_try = r(z_try)
        better = obj(r_try) < obj(rz)
        z_new = jnp.where(better, z_try, z)
        r_new = jnp.where(better, r_try, rz)
        lam_new = jnp.where(better, jnp.maximum(lam / 3.0, 1e-12), lam * 4.0)
        small_step = better & (_inf_norm(step) <= tol * (1.0 + _inf_norm(z)))
        small_grad = _inf_norm(g) <= tol * 1e-2 * jnp.maximum(1.0, obj(rz))
        stuck = lam_new > 1e16
        return z_new, r_new, lam_new, k + 1, small_step | small_grad | stuck

    r0 = r(z0)
    z, _, _, k, done = jax.lax.while_loop(cond, body, (z0, r0, jnp.asarray(lam0, z0.dtype), 0, obj(r0) == 0.0))
    return z, k, jnp.where(done, 0, 1)
