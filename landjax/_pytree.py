"""Frozen dataclasses registered as JAX pytrees (parameter objects of every model).

Usage:

```python
@params_dataclass
class Params:
    alpha: float = 0.67                      # a leaf: differentiable, vmappable
    closure: str = static_field(default="ag")  # static: part of the treedef
```

Leaves are every field not declared with `static_field` (or with `metadata={"static": True}`).
JAX rebuilds these objects (`tree_map`, `vmap`, `jit` outputs) without calling `__init__`,
so `__post_init__` checks run only when a user constructs or `dataclasses.replace`-s one, never
on the placeholder leaves JAX and equinox put into pytrees internally.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar, dataclass_transform

import jax

T = TypeVar("T")


def static_field(**kwargs: Any) -> Any:
    """A dataclass field that is static (hashable, not a leaf): options and switches."""
    metadata = dict(kwargs.pop("metadata", {}) or {})
    metadata["static"] = True
    return dataclasses.field(metadata=metadata, **kwargs)


def _rebuild(cls: type, names: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    obj: Any = object.__new__(cls)
    for name, value in zip(names, values, strict=True):
        object.__setattr__(obj, name, value)
    return obj


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, static_field))
def params_dataclass(cls: type[T]) -> type[T]:
    """Make `cls` a frozen dataclass registered as a pytree (data fields = leaves)."""
    cls = dataclasses.dataclass(frozen=True)(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    meta = tuple(f.name for f in fields if f.metadata.get("static", False))
    data = tuple(f.name for f in fields if not f.metadata.get("static", False))
    names = data + meta

    def flatten_with_keys(obj: Any) -> tuple[list[tuple[Any, Any]], tuple[Any, ...]]:
        children = [(jax.tree_util.GetAttrKey(n), getattr(obj, n)) for n in data]
        return children, tuple(getattr(obj, n) for n in meta)

    def flatten(obj: Any) -> tuple[list[Any], tuple[Any, ...]]:
        return [getattr(obj, n) for n in data], tuple(getattr(obj, n) for n in meta)

    def unflatten(aux: tuple[Any, ...], children: Any) -> Any:
        return _rebuild(cls, names, tuple(children) + tuple(aux))

    jax.tree_util.register_pytree_with_keys(cls, flatten_with_keys, unflatten, flatten)
    _named_fields_only(cls, names)
    return cls


def _named_fields_only(cls: Any, names: tuple[str, ...]) -> None:
    """`Params(foo=1)` raises `FieldNameError` listing the valid fields (not a bare TypeError)."""
    import functools

    from landjax.errors import FieldNameError

    init = cls.__init__
    valid = set(names)

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        bad = [k for k in kwargs if k not in valid]
        if bad:
            raise FieldNameError(
                f"{cls.__name__}: unknown field(s) {', '.join(bad)}; valid fields: {', '.join(sorted(valid))}"
            )
        if len(args) > len(names):
            raise FieldNameError(f"{cls.__name__}: takes at most {len(names)} values, got {len(args)}")
        init(self, *args, **kwargs)

    cls.__init__ = __init__
