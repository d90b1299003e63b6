"""Compiled programs kept between processes: the warm start of landjax's own solves.

JAX's persistent compilation cache (turned on by the command line, see
:func:`landjax.cli.enable_compilation_cache`) keeps XLA's compiled code, but every new process
still traces and lowers each program before it can look the code up; for the models' solves that
is most of a warm ``landjax solve MODEL`` run. This module keeps the *loaded executable* of an
engine verb's program on disk (``<compilation cache folder>/landjax-aot``) and, in a later
process, calls it without tracing or lowering. The executable is the very program that
``jax.jit`` would compile for the call, so the results are bit-identical.

A program is kept only when its identity is stable across processes:

* the function is a module-level function of the ``landjax`` package (no closure, no ``lambda``,
  no bound method, no ``functools.partial``): a user's function is never kept;
* nothing in the call is being traced (inside a user's ``jit``/``vmap``/``grad`` the program is
  inlined as usual);
* the persistent compilation cache is on (``jax_compilation_cache_dir`` set) and ``jax_disable_jit``
  is off.

The key is a hash of the function's module and name, the verb's static configuration, the static
part and the shapes/dtypes of the arguments, the versions of jax and jaxlib, the device, the JAX
settings that change tracing (x64, promotion rules, matmul precision, debug flags) and the content
of every file of the installed ``landjax`` package (any edit of the code invalidates every entry).
A configuration whose text is not stable (it shows an object address) is not kept. Any failure
(an entry that cannot be read, a program that cannot be serialized) falls back to ``jax.jit``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import os
import pickle
import tempfile
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import jax
import jaxlib

#: JAX settings that change what a traced program is (or whether tracing succeeds)
_FLAGS = (
    "jax_enable_x64",
    "jax_numpy_rank_promotion",
    "jax_numpy_dtype_promotion",
    "jax_default_matmul_precision",
    "jax_enable_checks",
    "jax_debug_nans",
    "jax_debug_infs",
)
_SOURCE_HASH: list[str] = []
#: in-process: (fn, config, static, avals) -> loaded executable (None: not keepable)
_LOADED: dict[Hashable, Any] = {}
_LOADED_MAX = 512
#: set by tests: how many programs were loaded from disk / stored in this process
STATS = {"loaded": 0, "stored": 0}


def folder() -> Path | None:
    """``<compilation cache folder>/landjax-aot``, or None when the compilation cache is off."""
    d = jax.config.jax_compilation_cache_dir
    if not d or jax.config.jax_disable_jit:
        return None
    return Path(d) / "landjax-aot"


def _source_hash() -> str:
    """Hash of every file in the landjax package (paths and contents), computed once."""
    if not _SOURCE_HASH:
        root = Path(__file__).resolve().parents[1]
        h = hashlib.sha256()
        for p in sorted(root.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo"):
                h.update(str(p.relative_to(root)).encode())
                h.update(p.read_bytes())
        _SOURCE_HASH.append(h.hexdigest())
    return _SOURCE_HASH[0]


def _keepable(fn: Any) -> bool:
    mod = getattr(fn, "__module__", None) or ""
    return (
        inspect.isfunction(fn)
        and (mod == "landjax" or mod.startswith("landjax."))
        and "<" not in fn.__qualname__
        and not fn.__closure__
    )


def _avals(leaves: list[Any]) -> tuple | None:
    out = []
    for x in leaves:
        if isinstance(x, jax.core.Tracer):
            return None
        a = jax.typeof(x)
        out.append((tuple(a.shape), str(a.dtype), bool(getattr(a, "weak_type", False))))
    return tuple(out)


def _disk_key(fn: Any, config: Hashable, static: Hashable, avals: tuple) -> str | None:
    dev = jax.devices()[0]
    text = repr(
        (
            fn.__module__,
            fn.__qualname__,
            config,
            static,
            avals,
            jax.__version__,
            jaxlib.__version__,
            dev.platform,
            dev.device_kind,
            len(jax.devices()),
            tuple((f, str(getattr(jax.config, f))) for f in _FLAGS),
            _source_hash(),
        )
    )
    if " at 0x" in text:  # an object shown by its address: not the same key in another process
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def call(
    fn: Any, config: Hashable, jitted: Callable, arrays: tuple, dyn: list[Any], static: Hashable
) -> tuple[bool, Any]:
    """Run ``jitted(arrays, dyn, static)`` through a kept executable where possible.

    Returns ``(True, output)`` when a kept (loaded or newly stored) executable ran, else
    ``(False, None)``: the caller then calls ``jitted`` itself.
    """
    if not _keepable(fn):
        return False, None
    base = folder()
    if base is None:
        return False, None
    leaves = jax.tree_util.tree_leaves((arrays, dyn))
    avals = _avals(leaves)
    if avals is None:
        return False, None
    mem_key = (fn, config, static, avals, str(base))
    try:
        compiled = _LOADED.get(mem_key, False)
    except TypeError:
        return False, None
    if compiled is False:
        compiled = _load_or_store(fn, config, jitted, arrays, dyn, static, avals, base)
        if len(_LOADED) >= _LOADED_MAX:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[mem_key] = compiled
    if compiled is None:
        return False, None
    return True, compiled(arrays, dyn)


def _load_or_store(
    fn: Any, config: Hashable, jitted: Any, arrays: tuple, dyn: list[Any], static: Hashable, avals: tuple, base: Path
) -> Any:
    from jax import export

    key = _disk_key(fn, config, static, avals)
    if key is None:
        return None
    path = base / f"{key}.pkl"
    in_tree = jax.tree_util.tree_structure((arrays, dyn))
    if path.exists():
        try:
            with open(path, "rb") as fh:
                fields, out_tree = pickle.load(fh)
            exp = export.Exported(**fields, _get_vjp=None)
            STATS["loaded"] += 1
            return _runner(exp, in_tree, out_tree)
        except Exception:  # a damaged or foreign entry: export afresh and replace it
            pass
    out_trees: list[Any] = []

    def flat(*leaves: Any) -> list[Any]:
        a, d = jax.tree_util.tree_unflatten(in_tree, list(leaves))
        out, tree = jax.tree_util.tree_flatten(jitted(a, d, static))
        out_trees.append(tree)
        return out

    try:
        exp = export.export(jax.jit(flat))(*jax.tree_util.tree_leaves((arrays, dyn)))
        # the fields of the Exported (its StableHLO module and calling convention), less the
        # reverse-mode rule (a closure; kept programs only run on concrete inputs)
        fields = {f.name: getattr(exp, f.name) for f in dataclasses.fields(exp) if f.name != "_get_vjp"}
        blob = pickle.dumps((fields, out_trees[0]))
    except Exception:  # not exportable: plain jax.jit
        return None
    try:
        base.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=base, prefix=".tmp-", suffix=".pkl")
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
        STATS["stored"] += 1
    except OSError:
        pass
    return _runner(exp, in_tree, out_trees[0])


def _runner(exp: Any, in_tree: Any, out_tree: Any) -> Callable:
    call = jax.jit(exp.call)  # jit's fast dispatch for repeated calls in this process

    def run(arrays: tuple, dyn: list[Any]) -> Any:
        leaves, tree = jax.tree_util.tree_flatten((arrays, dyn))
        if tree != in_tree:
            raise TypeError("landjax AOT: argument structure changed")
        return jax.tree_util.tree_unflatten(out_tree, call(*leaves))

    return run
