"""Many problems at once: `vmap` inside `lax.map` over chunks, optionally sharded over devices.

`solve_batch` solves `B` independent problems `fn(y, args_b) = 0` in one compiled
program. Arguments follow `jax.vmap`'s `in_axes` convention: a leaf with axis `None` is
shared by every member and enters the program once (never copied `B` times).

How the batch is cut into chunks matters more than anything else for speed on a CPU:

* A vmapped `while_loop` runs until its slowest member is done: inside a chunk, finished
  members keep computing (their results are discarded). Chunks bound that waste.
* The dense Newton step materialises the Jacobian in forward mode: for `n` unknowns every
  intermediate of the residual gets a tangent axis of length `n`. For a residual with an
  `N x N` block (trade costs between `N` locations) that is `n N^2` numbers per member,
  2 MB at `n = 100, N = 50`. One member's step stays in the CPU caches; a vmapped chunk of
  `c` members moves `c` times as much and is bound by memory bandwidth instead, so each member
  costs about 3x (measured in `benchmarks/engine_batch.py`). Such members are better solved
  one after another (`lax.map`, each with its own stopping rule), while small members (the
  Armington example, a few unknowns) gain a lot from vectorising many at once.

With `chunk_size=None` (default) the chunk is chosen from the largest intermediate array of one
member's solve (read off its traced program, no extra compilation): as many members as fit in
about 1 MiB on a CPU (at most 256), and up to 4096 on an accelerator. Every member gets its own
`converged` flag; members are independent elementwise, so a failing member (NaN, no root)
never contaminates the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax.engine._compile import jit_call
from landjax.engine._solution import Solution
from landjax.engine.solve import fixed_point, solve
from landjax.errors import InputError, as_float64

#: per-chunk working-set target on a CPU (bytes of the largest intermediate times the chunk)
CPU_CHUNK_BYTES = 1 << 20
#: largest automatic chunk on a CPU / on an accelerator
CPU_MAX_CHUNK = 256
ACCEL_MAX_CHUNK = 4096


def _axis_of(ax: Any, where: str) -> int | None:
    if ax is None:
        return None
    if isinstance(ax, bool) or not isinstance(ax, (int, np.integer)):
        raise InputError(f"solve_batch: in_axes{where} must be an int or None, got {ax!r}")
    return int(ax)


def _flat_axes(in_axes: Any, args: Any) -> tuple[int | None, ...]:
    """One axis (or `None`) per leaf of `args`, from a `jax.vmap`-style prefix `in_axes`."""
    leaves = jax.tree_util.tree_leaves(args)
    if in_axes is None or isinstance(in_axes, (int, np.integer)):
        ax = _axis_of(in_axes, "")
        return tuple(ax for _ in leaves)
    is_none = lambda x: x is None  # noqa: E731
    try:
        per_leaf = jax.tree_util.tree_map(
            lambda ax, sub: [ax] * len(jax.tree_util.tree_leaves(sub)), in_axes, args, is_leaf=is_none
        )
    except (ValueError, TypeError) as exc:
        got = jax.tree_util.tree_structure(in_axes, is_leaf=is_none)
        want = jax.tree_util.tree_structure(args)
        raise InputError(
            f"solve_batch: in_axes must be an int, None, or a prefix of the structure of args "
            f"(as for jax.vmap); got in_axes {got} for args {want} ({exc})"
        ) from None
    flat = jax.tree_util.tree_leaves(per_leaf, is_leaf=lambda x: isinstance(x, list))
    out: list[int | None] = []
    for lst in flat:
        out.extend(_axis_of(ax, "") for ax in lst)
    if len(out) != len(leaves):  # pragma: no cover - tree_map guarantees it
        raise InputError("solve_batch: in_axes does not match args")
    return tuple(out)


def _check_batch(y0: jax.Array, y_batched: bool, leaves: list[Any], axes: tuple[int | None, ...]) -> int:
    """The batch size, after checking every batched leaf has the axis it is said to have."""
    sizes: dict[int, str] = {}
    if y_batched:
        sizes.setdefault(int(y0.shape[0]), "y0")
    for k, (leaf, ax) in enumerate(zip(leaves, axes, strict=True)):
        if ax is None:
            continue
        nd = jnp.ndim(leaf)
        if not isinstance(leaf, (jax.Array, np.ndarray, np.generic, float, complex)) or nd == 0:
            raise InputError(
                f"solve_batch: leaf {k} of args is batched (in_axes {ax}) but is a scalar or not an array "
                f"({type(leaf).__name__}); give it a batch axis or in_axes=None to share it"
            )
        if not -nd <= ax < nd:
            raise InputError(
                f"solve_batch: in_axes {ax} is out of range for leaf {k} of args with shape {jnp.shape(leaf)}"
            )
        sizes.setdefault(int(jnp.shape(leaf)[ax]), f"args leaf {k}")
    if not sizes:
        raise InputError("solve_batch: nothing is batched (y0 shared and in_axes None everywhere); use solve")
    if len(sizes) != 1:
        detail = ", ".join(f"{who}: {b}" for b, who in sizes.items())
        raise InputError(f"solve_batch: inconsistent batch sizes ({detail})")
    b = next(iter(sizes))
    if b == 0:
        raise InputError(f"solve_batch: the batch is empty ({sizes[b]} has 0 members along its batch axis)")
    return b


def _devices(devices: Any) -> tuple[jax.Device, ...]:
    """`devices` as a tuple: `None` (the default device), a count 1..len(jax.devices()) or a
    list of devices; anything else is an `InputError`."""
    if devices is None:
        return ()
    avail = jax.devices()
    if isinstance(devices, bool):
        raise InputError(f"solve_batch: devices must be None, a count or a list of devices, got {devices!r}")
    if isinstance(devices, (int, np.integer)):
        if not 1 <= int(devices) <= len(avail):
            raise InputError(
                f"solve_batch: devices={int(devices)}, but {len(avail)} device(s) are available "
                f"({avail[0].platform}); on CPU, XLA_FLAGS=--xla_force_host_platform_device_count=K gives K"
            )
        return tuple(avail[: int(devices)])
    devs = tuple(devices)
    if not devs or not all(isinstance(d, jax.Device) for d in devs):
        raise InputError("solve_batch: devices must be None, a count or a non-empty list of jax devices")
    return devs


def largest_intermediate_bytes(jaxpr: Any) -> int:
    """Bytes of the largest array a (closed) jaxpr creates, including inside loops and calls."""
    best = 0
    stack = [jaxpr]
    while stack:
        j = stack.pop()
        j = getattr(j, "jaxpr", j)
        for eqn in getattr(j, "eqns", ()):
            for v in eqn.outvars:
                aval = getattr(v, "aval", None)
                shape, dtype = getattr(aval, "shape", None), getattr(aval, "dtype", None)
                if shape is not None and dtype is not None:
                    best = max(best, int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize)
            for p in eqn.params.values():
                for sub in p if isinstance(p, (tuple, list)) else (p,):
                    if hasattr(sub, "eqns") or hasattr(getattr(sub, "jaxpr", None), "eqns"):
                        stack.append(sub)
    return best


def auto_chunk(per_member_bytes: int, batch: int, platform: str) -> int:
    """Chunk size for `batch` members whose largest intermediate is `per_member_bytes`."""
    if platform == "cpu":
        c = min(CPU_MAX_CHUNK, max(1, CPU_CHUNK_BYTES // max(per_member_bytes, 1)))
    else:
        c = min(ACCEL_MAX_CHUNK, max(1, (1 << 30) // max(per_member_bytes, 1)))
    return int(max(1, min(c, batch)))


def _layout(B: int, chunk: int, n_dev: int) -> tuple[int, int]:
    """`(chunk, n_chunks)` with the least padding for at most `chunk` members per chunk."""
    per_dev = -(-B // n_dev)
    chunk = max(1, min(chunk, per_dev))
    n_chunks = -(-per_dev // chunk)
    chunk = -(-per_dev // n_chunks)  # same number of chunks, as little padding as possible
    return chunk, n_chunks


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
    in_axes: Any = 0,
    kind: str = "root",
    batch_y0: bool = True,
    chunk_size: int | None = None,
    devices: Sequence[jax.Device] | int | None = None,
    **solve_kwargs: Any,
) -> Solution:
    """Solve a batch of problems `fn(y, args_b) = 0` (or fixed points `y = fn(y, args_b)`).

    **Arguments:**

    - `fn`: residual (`kind="root"`) or map (`kind="fixed_point"`), as for `solve`.
    - `y0`: initial guesses, shape `(B, n)`; or one guess `(n,)` shared by all members with
      `batch_y0=False`.
    - `args`: a pytree of parameters.
    - `in_axes`: as for `jax.vmap`: an int, `None` or a pytree prefix of `args` of ints and
      `None`; the batch axis of each leaf, `None` for a leaf shared by every member (passed
      once, never copied). Default `0`: every leaf has a leading batch axis.
    - `kind`: `"root"` or `"fixed_point"`.
    - `chunk_size`: members solved together by `vmap`; chunks run one after another
      (`lax.map`), so within a chunk every member waits for the slowest. `None` (default)
      chooses it from the size of one member's largest intermediate array (see the module
      docstring): 1 for a 100-unknown model with an `N x N` block, hundreds for a few unknowns.
    - `devices`: `None` (default device), an int (the first k devices) or a list of devices; the
      chunks are split over them with `jax.shard_map`. On CPU, test with
      `XLA_FLAGS=--xla_force_host_platform_device_count=4`.
    - `solve_kwargs`: passed to `solve` / `fixed_point` (`throw` is forced off:
      check `converged` per member).

    The compiled program is cached per `fn` object, options and `in_axes`: a second call with
    new values of the same shapes does not recompile.

    **Returns:** a `Solution` with a leading batch axis on every field.
    """
    if kind not in ("root", "fixed_point"):
        raise InputError(f"solve_batch: kind must be 'root' or 'fixed_point', got {kind!r}")
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or int(chunk_size) < 1
    ):
        raise InputError(f"solve_batch: chunk_size must be None or an integer >= 1, got {chunk_size!r}")
    y0 = as_float64(y0, "solve_batch: y0")
    if batch_y0 and y0.ndim != 2:
        raise InputError(f"solve_batch: y0 must have shape (batch, n) when batch_y0=True, got {y0.shape}")
    if not batch_y0 and y0.ndim != 1:
        raise InputError(f"solve_batch: y0 must have shape (n,) when batch_y0=False, got {y0.shape}")
    leaves = jax.tree_util.tree_leaves(args)
    axes = _flat_axes(in_axes, args)
    _check_batch(y0, batch_y0, leaves, axes)
    axes = tuple(None if ax is None else ax % jnp.ndim(leaf) for ax, leaf in zip(axes, leaves, strict=True))
    devs = _devices(devices)
    kw = dict(solve_kwargs, throw=False)
    config = (
        "solve_batch",
        kind,
        bool(batch_y0),
        axes,
        None if chunk_size is None else int(chunk_size),
        devs,
        tuple(sorted(kw.items())),
    )

    def impl(y0_, args_):
        return _batch_impl(fn, y0_, args_, kind, bool(batch_y0), axes, chunk_size, devs, kw)

    return jit_call(fn, config, impl, y0, args=args)


def _batch_impl(
    fn: Callable,
    y0: jax.Array,
    args: Any,
    kind: str,
    batch_y0: bool,
    axes: tuple[int | None, ...],
    chunk_size: int | None,
    devs: tuple[jax.Device, ...],
    kw: dict[str, Any],
) -> Solution:
    """The traced body of `solve_batch` (one program per function, options and shapes)."""
    leaves, treedef = jax.tree_util.tree_flatten(args)
    idx_b = [k for k, ax in enumerate(axes) if ax is not None]
    idx_s = [k for k, ax in enumerate(axes) if ax is None]
    batched = [jnp.moveaxis(jnp.asarray(leaves[k]), axes[k], 0) for k in idx_b]  # type: ignore[arg-type]
    shared = [leaves[k] for k in idx_s]
    B = int(y0.shape[0]) if batch_y0 else int(batched[0].shape[0])
    single = solve if kind == "root" else fixed_point

    def one(y, b_leaves, s_leaves):
        full: list[Any] = [None] * len(leaves)
        for k, v in zip(idx_b, b_leaves, strict=True):
            full[k] = v
        for k, v in zip(idx_s, s_leaves, strict=True):
            full[k] = v
        return single(fn, y, jax.tree_util.tree_unflatten(treedef, full), **kw)

    n_dev = max(1, len(devs))
    if chunk_size is None:
        y_one = jax.ShapeDtypeStruct(y0.shape[1:] if batch_y0 else y0.shape, y0.dtype)
        b_one = [jax.ShapeDtypeStruct(x.shape[1:], x.dtype) for x in batched]
        jpr = jax.make_jaxpr(one)(y_one, b_one, shared)
        platform = (devs[0] if devs else jax.devices()[0]).platform
        chunk = auto_chunk(largest_intermediate_bytes(jpr), -(-B // n_dev), platform)
    else:
        chunk = int(chunk_size)
    chunk, n_chunks = _layout(B, chunk, n_dev)
    total = n_dev * n_chunks * chunk
    lead = (n_dev * n_chunks, chunk)
    yc = _pad_reshape(y0, total, lead) if batch_y0 else y0
    bc = [_pad_reshape(x, total, lead) for x in batched]
    y_ax = 0 if batch_y0 else None

    def run_chunks(yc_, bc_, s_):
        if chunk == 1:  # no vmap: each member is its own while loop
            if batch_y0:
                return jax.lax.map(lambda c: one(c[0][0], [x[0] for x in c[1]], s_), (yc_, bc_))
            return jax.lax.map(lambda c: one(yc_, [x[0] for x in c], s_), bc_)
        vm = jax.vmap(one, in_axes=(y_ax, 0, None))
        if batch_y0:
            return jax.lax.map(lambda c: vm(c[0], c[1], s_), (yc_, bc_))
        return jax.lax.map(lambda c: vm(yc_, c, s_), bc_)

    if n_dev > 1:
        from jax.sharding import Mesh
        from jax.sharding import PartitionSpec as P

        mesh = Mesh(np.array(devs), ("d",))
        out = jax.shard_map(
            run_chunks,
            mesh=mesh,
            in_specs=(P("d") if batch_y0 else P(), P("d"), P()),
            out_specs=P("d"),
            check_vma=False,
        )(yc, bc, shared)
    else:
        out = run_chunks(yc, bc, shared)
    if chunk == 1:
        return jax.tree_util.tree_map(lambda x: x[:B], out)
    return jax.tree_util.tree_map(lambda x: x.reshape((total,) + x.shape[2:])[:B], out)
