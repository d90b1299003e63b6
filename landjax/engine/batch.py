"""Many problems at once: ``vmap`` inside ``lax.map`` over chunks, optionally sharded over devices.

A vmapped while-loop runs until its slowest member is done, so one hard member would slow a
whole batch; chunking bounds that cost to the member's chunk. Every member gets its own
``converged`` flag; members are independent elementwise, so a failing member (NaN, no root)
never contaminates the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax.engine._solution import Solution
from landjax.engine.solve import fixed_point, solve
from landjax.errors import InputError, as_float64

_CACHE: dict[Any, Callable] = {}


def _batch_size(y0: jax.Array, args: Any, batch_y0: bool) -> int:
    sizes = set()
    if batch_y0:
        sizes.add(int(y0.shape[0]))
    for leaf in jax.tree_util.tree_leaves(args):
        if jnp.ndim(leaf) == 0:
            raise InputError("solve_batch: every array leaf of args needs a leading batch axis (got a scalar leaf)")
        sizes.add(int(jnp.shape(leaf)[0]))
    if len(sizes) != 1:
        raise InputError(f"solve_batch: inconsistent batch sizes in y0/args: {sorted(sizes)}")
    return sizes.pop()


def _pad_reshape(x: jax.Array, n_total: int, lead: tuple[int, ...]) -> jax.Array:
    pad = n_total - x.shape[0]
    if pad:
        x = jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)], axis=0)
    return x.reshape(lead + x.shape[1:])


def solve_batch(
    fn: Callable,
    y0: Any,
    args: Any,
    *,
    kind: str = "root",
    batch_y0: bool = True,
    chunk_size: int = 128,
    devices: Sequence[jax.Device] | int | None = None,
    **solve_kwargs: Any,
) -> Solution:
    """Solve a batch of problems ``fn(y, args[i]) = 0`` (or fixed points) in chunks.

    **Arguments:**

    - `fn`: residual (``kind="root"``) or map (``kind="fixed_point"``), as for :func:`solve`.
    - `y0`: initial guesses, shape ``(B, n)`` (or ``(n,)`` shared by all with ``batch_y0=False``).
    - `args`: a pytree whose every array leaf has leading axis ``B``.
    - `chunk_size`: members solved together by ``vmap``; chunks run one after another (``lax.map``).
    - `devices`: ``None`` (default device), an int (the first k devices) or a list of devices; the
      chunks are split over them with ``jax.shard_map``. On CPU, test with
      ``XLA_FLAGS=--xla_force_host_platform_device_count=4``.
    - `solve_kwargs`: passed to :func:`solve` / :func:`fixed_point` (``throw`` is forced off).

    **Returns:** a :class:`Solution` with a leading batch axis on every field.
    """
    if kind not in ("root", "fixed_point"):
        raise InputError(f"solve_batch: kind must be 'root' or 'fixed_point', got {kind!r}")
    if int(chunk_size) < 1:
        raise InputError(f"solve_batch: chunk_size must be >= 1, got {chunk_size}")
    y0 = as_float64(y0, "solve_batch: y0")
    if batch_y0 and y0.ndim != 2:
        raise InputError(f"solve_batch: y0 must have shape (batch, n) when batch_y0=True, got {y0.shape}")
    B = _batch_size(y0, args, batch_y0)
    if isinstance(devices, int):
        devices = jax.devices()[:devices]
    n_dev = 1 if devices is None else len(devices)
    chunk = int(min(chunk_size, -(-B // n_dev)))
    n_chunks = -(-B // (chunk * n_dev))
    total = n_chunks * chunk * n_dev
    lead = (n_dev * n_chunks, chunk) if n_dev > 1 else (n_chunks, chunk)

    solve_kwargs = dict(solve_kwargs, throw=False)
    key = (fn, kind, batch_y0, chunk, n_chunks, n_dev, tuple(devices or ()), tuple(sorted(solve_kwargs.items())))
    try:
        runner = _CACHE.get(key)
    except TypeError:  # unhashable option value: no caching
        key, runner = None, None
    if runner is None:
        single = solve if kind == "root" else fixed_point

        def one(y, a):
            return single(fn, y, a, **solve_kwargs)

        def run_chunks(yc, ac):
            return jax.lax.map(lambda c: jax.vmap(one)(c[0], c[1]), (yc, ac))

        if n_dev > 1:
            from jax.sharding import Mesh
            from jax.sharding import PartitionSpec as P

            mesh = Mesh(np.array(devices), ("d",))
            spec_y = P("d") if batch_y0 else P()
            runner = jax.jit(
                jax.shard_map(
                    lambda yc, ac: run_chunks(yc, ac) if batch_y0 else _run_shared(one, yc, ac),
                    mesh=mesh,
                    in_specs=(spec_y, P("d")),
                    out_specs=P("d"),
                    check_vma=False,
                )
            )
        else:
            runner = jax.jit(run_chunks if batch_y0 else lambda yc, ac: _run_shared(one, yc, ac))
        if key is not None:
            _CACHE[key] = runner

    yc = _pad_reshape(y0, total, lead) if batch_y0 else y0
    ac = jax.tree_util.tree_map(lambda x: _pad_reshape(jnp.asarray(x), total, lead), args)
    out = runner(yc, ac)
    return jax.tree_util.tree_map(lambda x: x.reshape((total,) + x.shape[2:])[:B], out)


def _run_shared(one: Callable, y: jax.Array, ac: Any) -> Solution:
    """Chunks with a single shared initial guess."""
    return jax.lax.map(lambda a: jax.vmap(one, in_axes=(None, 0))(y, a), ac)
