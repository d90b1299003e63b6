"""Compile once: one program per (function, static configuration, argument structure).

A plain Python call of an engine verb (`solve`, `fixed_point`, `solve_batch`, `calibrate`,
`optimize`) runs a `jax.jit`-compiled program. The program is looked up in a cache keyed on

* the **identity** of the user's function (`fn`; a bound method counts by its function and
  instance), so the same function object reuses the program while a new closure, `lambda` or
  `functools.partial` object built for every call compiles anew;
* the **static configuration** of the call (method, tolerances, step limits, linear solver, ...);
* the **argument structure**: the pytree structure of `args` (including static fields of
  parameter dataclasses, such as a model's options), and the shapes and dtypes of its array leaves
  (this part is `jax.jit`'s own cache).

Leaves of `args` that are arrays (JAX, NumPy) or Python `float`/`complex` numbers are traced:
changing their *values* never recompiles. Python numbers and weakly typed JAX arrays (what
`jnp.asarray(0.5)` gives) are passed as strongly typed arrays of JAX's default dtype, so
`0.5`, `np.float64(0.5)` and `jnp.asarray(0.5)` share one program (JAX itself would compile a
second program for the weak type). Every other leaf (`int`, `bool`, `str`, ...) is
static: part of the key, so a new value compiles a new program. Static leaves must be hashable;
when one is not, the call still works but compiles every time.

Inside a user's own `jax.jit`/`vmap`/`grad` the cached program is simply inlined into the
user's trace.

When the persistent compilation cache is on, the programs of landjax's own module-level functions
called on concrete arguments are also kept between processes (`landjax.engine._aot`), so a
new process does not trace them again.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Hashable
from typing import Any, cast

import jax
import numpy as np

from landjax.engine import _aot

_DYNAMIC_TYPES = (jax.Array, np.ndarray, np.generic, float, complex)


def strong(leaf: Any) -> Any:
    """`leaf` as a strongly typed array when it is a Python number or a weakly typed concrete
    JAX array (one program for `0.5` and `np.float64(0.5)`); any other leaf unchanged."""
    if isinstance(leaf, float | complex):  # np.float64 too (a float subclass); bool is not one
        return np.asarray(leaf, dtype=jax.dtypes.canonicalize_dtype(np.result_type(leaf)))
    if isinstance(leaf, jax.Array) and not isinstance(leaf, jax.core.Tracer) and leaf.weak_type:
        # a scalar is copied to the host (about 2 us; a device-side conversion dispatches an
        # operation, about 90 us on every plain call); a weak array is rare and stays on device
        return np.asarray(leaf) if leaf.ndim == 0 else jax.lax.convert_element_type(leaf, leaf.dtype)
    return leaf


#: owner object -> {key: compiled callable}; entries vanish with the owner
_WEAK: weakref.WeakKeyDictionary[Any, dict[Hashable, Any]] = weakref.WeakKeyDictionary()
#: owners that cannot be weakly referenced (kept alive; bounded)
_STRONG: dict[Any, dict[Hashable, Any]] = {}
_STRONG_MAX = 256


def _owner_and_key(fn: Any, config: Hashable) -> tuple[Any, Hashable]:
    """The object the cache entry lives on, and the key within it."""
    if inspect.ismethod(fn):  # a new bound method object at every attribute access: key on its parts
        return fn.__self__, (fn.__func__, config)
    return fn, config


def cached(fn: Any, config: Hashable, build: Callable[[], Any]) -> Any:
    """The compiled callable for `(fn, config)`, built by `build()` on first use.

    `config` must be hashable; if it is not, a fresh callable is built (and compiled) each time.
    """
    owner, key = _owner_and_key(fn, config)
    try:
        hash(key)
    except TypeError:
        return build()
    try:
        table = _WEAK.get(owner)
        if table is None:
            table = _WEAK.setdefault(owner, {})
    except TypeError:  # not weakly referenceable
        table = _STRONG.get(owner)
        if table is None:
            if len(_STRONG) >= _STRONG_MAX:
                _STRONG.pop(next(iter(_STRONG)))
            table = _STRONG.setdefault(owner, {})
    runner = table.get(key)
    if runner is None:
        runner = table[key] = build()
    return runner


def split_args(args: Any) -> tuple[list[Any], Hashable | None]:
    """Split a pytree into traced leaves and a hashable static description.

    Returns `(dynamic_leaves, static)`; `static` is `None` when a static leaf is unhashable
    (the caller then cannot cache). `merge_args` inverts it.
    """
    leaves, treedef = jax.tree_util.tree_flatten(args)
    dyn, fixed = [], []
    for i, leaf in enumerate(leaves):
        if isinstance(leaf, _DYNAMIC_TYPES) and not isinstance(leaf, bool):
            dyn.append(strong(leaf))
        else:
            fixed.append((i, leaf))
    static = (treedef, len(leaves), tuple(fixed))
    try:
        hash(static)
    except TypeError:
        return dyn, None
    return dyn, static


def merge_args(dyn: list[Any], static: Hashable) -> Any:
    """Rebuild the pytree split by `split_args`."""
    treedef, n, fixed = cast(tuple[Any, int, tuple[tuple[int, Any], ...]], static)
    known = dict(fixed)
    it = iter(dyn)
    leaves = [known[i] if i in known else next(it) for i in range(n)]
    return jax.tree_util.tree_unflatten(treedef, leaves)


def jit_call(fn: Any, config: Hashable, impl: Callable, *arrays: Any, args: Any = None) -> Any:
    """Run `impl(*arrays, args)` through the compiled program cached for `(fn, config)`.

    `impl` must be a pure function of its arguments (everything else it needs is part of
    `config` or closed over `fn`). `arrays` are traced as they are; `args` is split into
    traced and static leaves (see the module docstring).
    """
    dyn, static = split_args(args)
    arrays = tuple(jax.tree_util.tree_map(strong, a) for a in arrays)

    def body(arrs, dyn_leaves, static_spec):
        return impl(*arrs, merge_args(dyn_leaves, static_spec))

    def build() -> Callable:
        return jax.jit(body, static_argnums=(2,))

    def build_kept() -> Callable:
        def program(arrs, dyn_leaves, static_spec):
            return _aot.traced_call(fn, config, body, (arrs, dyn_leaves), static_spec)

        return jax.jit(program, static_argnums=(2,))

    if static is None:  # unhashable static leaf: cannot cache, trace and compile this once
        return jax.jit(lambda arrs: impl(*arrs, args))(arrays)
    if _aot.enabled_for(fn, [*jax.tree_util.tree_leaves(arrays), *dyn]):  # landjax's own function on concrete inputs
        return cached(fn, ("kept", config), build_kept)(arrays, dyn, static)
    return cached(fn, config, build)(arrays, dyn, static)
