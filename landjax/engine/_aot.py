"""Programs kept between processes: the warm start of landjax's own solves.

JAX's persistent compilation cache (turned on by the command line, see
`landjax.cli.enable_compilation_cache`) keeps XLA's compiled code, but every new process
still traces and lowers each program before it can look the code up; for the models' solves that
is a large part of a warm `landjax solve MODEL` run. This module keeps the traced program of an
engine verb (`solve`, `fixed_point`, ... through `landjax.engine._compile.jit_call`) as
a `jax.export` StableHLO module in `<compilation cache folder>/landjax-aot`. In a later
process the verb's `jax.jit` program only calls that module: the verb's body is neither traced
nor lowered again, and XLA's code for it comes from the compilation cache. The kept module is the
one the verb's body lowers to, called with the same arguments, so the results are bit-identical
to the traced path (`tests/test_startup.py`); the first process uses it too.

A program is kept only when its identity is stable across processes:

* the function is a module-level function of the `landjax` package (no closure, no `lambda`,
  no bound method, no `functools.partial`): a user's function is never kept;
* nothing in the call is being traced (inside a user's `jit`/`vmap`/`grad` the verb's
  program is inlined and traced as usual);
* the persistent compilation cache is on (`jax_compilation_cache_dir` set; `LANDJAX_CACHE_DIR=`
  empty turns both off) and `jax_disable_jit` is off.

The key is a hash of the function's module and name, the verb's static configuration, the static
part and the shapes/dtypes of the arguments, the versions of jax, jaxlib and numpy, the device,
the JAX settings that change tracing (x64, promotion rules, matmul precision, debug flags) and the
content of every file of the installed `landjax` package (any edit of the code or its bundled
data invalidates every entry). A configuration whose text is not stable (it shows an object
address) is not kept. Any failure (an entry that cannot be read, a program that cannot be
exported, such as one with a host callback) falls back to tracing the body. Entries are pickles:
like the compilation cache, the folder must be the user's own.
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
import numpy as np

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
#: in-process: disk key -> (Exported, output tree), or None where it cannot be kept
_LOADED: dict[str, Any] = {}
#: how many programs were loaded from disk / stored in this process (read by the tests)
STATS = {"loaded": 0, "stored": 0}


def _config(name: str) -> Any:
    """A JAX setting's current value (`jax.config.<name>`)."""
    return getattr(jax.config, name)


#: kept programs are opt-in: set `LANDJAX_KEEP_PROGRAMS=1` (a full test run with them on once
#: crashed a worker inside JAX's persistent-cache write of a program that calls a kept module)
ENV = "LANDJAX_KEEP_PROGRAMS"


def folder() -> Path | None:
    """`<compilation cache folder>/landjax-aot`, or None when the compilation cache is off or
    kept programs are not asked for (`LANDJAX_KEEP_PROGRAMS=1` turns them on)."""
    if os.environ.get(ENV, "").strip().lower() not in ("1", "true", "yes"):
        return None
    d = _config("jax_compilation_cache_dir")
    if not d or _config("jax_disable_jit"):
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


def enabled_for(fn: Any, leaves: Any) -> bool:
    """Whether a call of an engine verb with `fn` on these argument leaves may use a kept program."""
    if not _keepable(fn) or folder() is None:
        return False
    return not any(isinstance(x, jax.core.Tracer) for x in leaves)


def _avals(leaves: list[Any]) -> tuple:
    out = []
    for x in leaves:
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
            np.__version__,
            dev.platform,
            dev.device_kind,
            len(jax.devices()),
            tuple((f, str(_config(f))) for f in _FLAGS),
            _source_hash(),
        )
    )
    if " at 0x" in text:  # an object shown by its address: not the same key in another process
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def traced_call(fn: Any, config: Hashable, body: Callable, dyn_args: tuple, static: Hashable) -> Any:
    """Inside the trace of a verb's `jax.jit` program: `body(*dyn_args, static)`, taken from the
    kept program when there is one (it is read from disk, or exported now and stored).

    The traced program then only calls the kept StableHLO module, so a new process neither traces
    nor lowers the verb's body; any failure traces `body` as usual.
    """
    base = folder()
    leaves, in_tree = jax.tree_util.tree_flatten(dyn_args)
    key = _disk_key(fn, config, static, _avals(leaves)) if base is not None else None
    entry = _LOADED.get(key) if key is not None else None
    if key is not None and key not in _LOADED:
        entry = _load_or_store(key, body, in_tree, leaves, static, base)  # type: ignore[arg-type]
        _LOADED[key] = entry
    if entry is None:
        return body(*dyn_args, static)
    exp, out_tree = entry
    return jax.tree_util.tree_unflatten(out_tree, exp.call(*leaves))


def _load_or_store(key: str, body: Callable, in_tree: Any, leaves: list[Any], static: Hashable, base: Path) -> Any:
    from jax import export

    path = base / f"{key}.pkl"
    if path.exists():
        try:
            with open(path, "rb") as fh:
                fields, out_tree = pickle.load(fh)
            exp = export.Exported(**fields, _get_vjp=None)
            STATS["loaded"] += 1
            return exp, out_tree
        except Exception:  # a damaged or foreign entry: export afresh and replace it
            pass
    out_trees: list[Any] = []

    def flat(*xs: Any) -> list[Any]:
        out, tree = jax.tree_util.tree_flatten(body(*jax.tree_util.tree_unflatten(in_tree, list(xs)), static))
        out_trees.append(tree)
        return out

    try:
        specs = [jax.ShapeDtypeStruct(x.shape, x.dtype, weak_type=x.aval.weak_type) for x in leaves]
        exp = export.export(jax.jit(flat))(*specs)
        # the fields of the Exported (its StableHLO module and calling convention), less the
        # reverse-mode rule (a closure; kept programs are only called on concrete inputs)
        fields = {f.name: getattr(exp, f.name) for f in dataclasses.fields(exp) if f.name != "_get_vjp"}
        blob = pickle.dumps((fields, out_trees[0]))
    except Exception:  # not exportable (e.g. a host callback): trace the body as usual
        return None
    try:
        base.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=base, prefix=".tmp-", suffix=".pkl")
        with os.fdopen(fd, "wb") as out:
            out.write(blob)
        os.replace(tmp, path)
        STATS["stored"] += 1
    except OSError:
        pass
    return exp, out_trees[0]
