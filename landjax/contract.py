"""The model contract: the same verbs, parameters, options and results for every landjax model.

Every model is one sub-package `landjax.models.<name>` exporting (`__all__`):

* `Params`: the paper's parameters, a frozen pytree dataclass declared with `param` fields
  (leaves: differentiable and vmappable). Every field is checked on construction, whatever its
  type (Python, NumPy or JAX scalar): finite, in range, right shape; errors are
  `InputError` naming the field and the allowed range.
* `Options`: the readings of the paper's ambiguities and other discrete choices, one frozen
  dataclass of `option` fields (static: inside the argument pytree, so `jax.jit` caches on
  it). Its metadata is the ambiguity register (`landjax options MODEL`, `docs/ambiguities.md`).
* `Solver`: the solver settings of the model, also `option` fields (one frozen object
  instead of keyword dictionaries).
* `residual(unknowns, params, options)` and `outcomes(unknowns, params, options)`: pure JAX, in
  the same coordinates (`unknowns` a dict of named arrays).
* `solve(params=None, options=None, *, solver=None, throw=True, ...)` -> `Result`.
* `sweep(grid, params=None, options=None, ...)` -> `pandas.DataFrame`: one row per grid point,
  the grid columns, then `converged`, `residual_norm`, `steps`, then the reported numbers
  flattened with the JSON key paths of `Result.to_dict` joined by dots.
* `calibrate(...)` where the paper calibrates.
* `MODEL`: a `ModelSpec` the command line is built from.

"No equilibrium exists" is `NoEquilibriumError` (a
`ConvergenceError`) for every model; `InputError` is
only for bad input.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar, dataclass_transform

import jax
import jax.numpy as jnp
import numpy as np

from landjax._pytree import params_dataclass, static_field
from landjax.engine._solution import MESSAGES
from landjax.errors import InputError, as_float64

T = TypeVar("T")

__all__ = [
    "as_batch",
    "check_single",
    "parse_option",
    "check_types",
    "Interval",
    "param",
    "option",
    "OptionInfo",
    "ParamInfo",
    "model_params",
    "model_options",
    "Result",
    "ModelSpec",
    "parse_value",
    "json_safe",
    "flatten_json",
    "options_table",
]


# ------------------------------------------------------------------------------------------------
# ranges
# ------------------------------------------------------------------------------------------------

_INTERVAL = re.compile(r"^\s*([\[(])\s*([^,\s]+)\s*,\s*([^\])\s]+)\s*([\])])\s*$")


@dataclasses.dataclass(frozen=True)
class Interval:
    """A real interval such as `(0, 1)`, `[0, 1)` or `(0, inf)`; `Interval.parse("(0, 1]")`."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_closed: bool = False
    hi_closed: bool = False

    @classmethod
    def parse(cls, text: str) -> Interval:
        m = _INTERVAL.match(text)
        if not m:
            raise ValueError(f"not an interval: {text!r} (write e.g. '(0, 1)', '[0, inf)')")
        lo, hi = float(m.group(2)), float(m.group(3))
        return cls(lo, hi, m.group(1) == "[", m.group(4) == "]")

    def contains(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        lo_ok = (x >= self.lo) if self.lo_closed else (x > self.lo)
        hi_ok = (x <= self.hi) if self.hi_closed else (x < self.hi)
        return lo_ok & hi_ok

    def __str__(self) -> str:
        def f(v: float) -> str:
            return "inf" if v == math.inf else "-inf" if v == -math.inf else f"{v:g}"

        return f"{'[' if self.lo_closed else '('}{f(self.lo)}, {f(self.hi)}{']' if self.hi_closed else ')'}"


def shown(v: Any) -> str:
    """`repr` of a value for a message, NumPy scalars as the plain number (`0.5`, not
    `np.float64(0.5)`)."""
    if isinstance(v, np.generic):
        v = v.item()
    return repr(v)


def _as_interval(bounds: str | Interval | None) -> Interval | None:
    if bounds is None or isinstance(bounds, Interval):
        return bounds
    return Interval.parse(bounds)


# ------------------------------------------------------------------------------------------------
# parameters
# ------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ParamInfo:
    """Metadata of one parameter: allowed range, shape, unit, meaning and the paper's reference."""

    bounds: Interval | None
    doc: str
    ref: str = ""
    unit: str = ""
    shape: tuple[int | None, ...] = ()


def param(
    default: Any,
    bounds: str | Interval | None = None,
    doc: str = "",
    *,
    ref: str = "",
    unit: str = "",
    shape: tuple[int | None, ...] = (),
) -> Any:
    """A parameter field: `alpha: float = param(0.67, "(0, 1)", "labour share", ref="eq. (1)")`.

    `bounds`: the allowed range (an interval string; `None`: any finite number). `shape`: the
    trailing shape of the value (`()` a scalar, `(2,)` one value per city, `(None,)` a vector
    of any length); leading batch axes are allowed (sweeps). Array defaults are given as lists or
    tuples and stored as float64 arrays; a callable default is a factory called for each instance.
    """
    info = ParamInfo(_as_interval(bounds), doc, ref, unit, tuple(shape))
    meta = {"param": info}
    if callable(default):  # a factory (e.g. data read from disk when the default is first needed)
        return dataclasses.field(default_factory=default, metadata=meta)
    if isinstance(default, (list, tuple, np.ndarray)):
        arr = np.asarray(default, dtype=np.float64)
        return dataclasses.field(default_factory=lambda: jnp.asarray(arr), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _concrete(v: Any) -> bool:
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(v))


def _describe(a: np.ndarray) -> str:
    if a.ndim == 0:
        return f"{float(a):g}"
    flat = a.reshape(-1)
    return f"{flat.size} values in [{np.nanmin(flat):g}, {np.nanmax(flat):g}]" if flat.size > 4 else str(flat.tolist())


def check_param(cls_name: str, name: str, value: Any, info: ParamInfo) -> None:
    """Raise `InputError` unless `value` is numeric, finite, of the declared shape, in range."""
    if isinstance(value, jax.core.Tracer):
        return
    if isinstance(value, (str, bytes)) or value is None:
        raise InputError(f"{cls_name}.{name}: expected a number, got {shown(value)}")
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{cls_name}.{name}: expected a number, got {shown(value)}") from None
    want = info.shape
    if want:
        tail = a.shape[len(a.shape) - len(want) :] if a.ndim >= len(want) else None
        if tail is None or any(w is not None and w != t for w, t in zip(want, tail, strict=True)):
            shape_txt = "(" + ", ".join("n" if w is None else str(w) for w in want) + (",)" if len(want) == 1 else ")")
            raise InputError(f"{cls_name}.{name}: expected shape {shape_txt} (trailing), got {a.shape}")
        if a.size == 0:
            raise InputError(f"{cls_name}.{name}: empty array")
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))
        where = f" (first at index {tuple(int(i) for i in bad[0])})" if a.ndim else ""
        raise InputError(f"{cls_name}.{name}: must be finite, got {_describe(a)}{where}")
    if info.bounds is not None:
        ok = info.bounds.contains(a)
        if not np.all(ok):
            bad = np.argwhere(~ok)
            where = f" (first at index {tuple(int(i) for i in bad[0])})" if a.ndim else ""
            raise InputError(
                f"{cls_name}.{name}={_describe(a)} is outside its allowed range {info.bounds}{where}"
                + (f": {info.doc}" if info.doc else "")
            )


class ParamsBase:
    """Base class a model's `Params` may inherit so type checkers see the methods that
    `model_params` adds (`replace`, `to_dict`, `fields_info`)."""

    def replace(self, **changes: Any) -> Any:
        """A copy with `changes` applied (validated like construction)."""
        return _replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The parameter fields as JSON-safe values."""
        return _params_to_dict(self)

    @classmethod
    def fields_info(cls) -> dict[str, ParamInfo]:
        """Field name -> `ParamInfo` (allowed range, doc, reference, shape)."""
        return _fields_info(cls)


# ``param`` and ``option`` are not listed as field specifiers: they return ``Any`` and take the
# default positionally, so a type checker reads ``x: float = param(...)`` as a field with a default
@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, static_field))
def model_params(cls: type[T]) -> type[T]:
    """Make `cls` a model's `Params`: a frozen pytree dataclass of `param` fields.

    Construction (and `dataclasses.replace`) checks every concrete field against its
    `ParamInfo`, then calls the class's optional `check(values)` hook with the fields as
    NumPy arrays for cross-field conditions (raise `InputError` there). Traced values are
    not checked (inside `jit`/`grad` the caller has validated the concrete inputs).
    """
    user_post_init = getattr(cls, "__post_init__", None)

    def __post_init__(self: Any) -> None:
        validate_params(self)
        if user_post_init is not None:
            user_post_init(self)
        _strong_floats(self)

    cls.__post_init__ = __post_init__  # type: ignore[attr-defined]
    cls.replace = _replace  # type: ignore[attr-defined]
    cls.to_dict = _params_to_dict  # type: ignore[attr-defined]
    cls.fields_info = classmethod(_fields_info)  # type: ignore[attr-defined]
    return params_dataclass(cls)


def type_name(cls: type) -> str:
    """`landjax.models.urban_rural.Params` for a model's class (its package, not the file)."""
    mod = cls.__module__
    if mod.startswith("landjax.models."):
        mod = ".".join(mod.split(".")[:3])
    return f"{mod}.{cls.__qualname__}"


def check_types(model: str, **inputs: tuple[Any, type]) -> None:
    """`InputError` when an input is not of its model's class, e.g. another model's `Options`:
    `check_types("urban_rural", options=(o, Options))`. `None` values are skipped."""
    for field, (value, cls) in inputs.items():
        if value is not None and not isinstance(value, cls):
            got = type_name(type(value)) if hasattr(type(value), "__module__") else type(value).__name__
            raise InputError(f"{model}: {field} must be {type_name(cls)}, got {got}")


def _strong_floats(p: Any) -> None:
    """Store Python `float` leaves as `np.float64` (a `float` subclass, same value) and lists or
    tuples of numbers as one float64 array: JAX traces a
    Python float as a weakly typed scalar and an array as a strongly typed one, so without this
    `Params(alpha=0.5)` and the same parameters coming out of a solve or a batch would compile two
    programs of every jitted function they reach."""
    for f in dataclasses.fields(p):
        if f.metadata.get("static", False):
            continue
        v = getattr(p, f.name)
        if type(v) is float:
            object.__setattr__(p, f.name, np.float64(v))
        elif type(v) in (list, tuple):  # one leaf (an array), not one leaf per element
            object.__setattr__(p, f.name, np.asarray(v, dtype=np.float64))


def validate_params(p: Any) -> None:
    """Check every field of a `Params` (see `model_params`); no-op for traced fields."""
    name = type(p).__name__
    values: dict[str, np.ndarray] = {}
    concrete = True
    for f in dataclasses.fields(p):
        info = f.metadata.get("param")
        if info is None:
            continue
        v = getattr(p, f.name)
        if not _concrete(v):
            concrete = False
            continue
        check_param(name, f.name, v, info)
        dt = getattr(v, "dtype", None)
        if dt is not None and np.dtype(dt).kind in "fc" and np.dtype(dt) != np.float64:
            # landjax computes in float64: convert (and say so) rather than mix precisions
            object.__setattr__(p, f.name, as_float64(v, f"{name}.{f.name}"))
        values[f.name] = np.asarray(v, dtype=np.float64)
    check = getattr(p, "check", None)
    if concrete and check is not None:
        check(values)


def _replace(self: Any, **changes: Any) -> Any:
    names = {f.name for f in dataclasses.fields(self)}
    bad = sorted(set(changes) - names)
    if bad:
        raise InputError(f"{type(self).__name__}: unknown field(s) {', '.join(bad)}; valid: {', '.join(sorted(names))}")
    return dataclasses.replace(self, **changes)


def _params_to_dict(self: Any) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(self):
        if "param" in f.metadata:
            out[f.name] = json_safe(getattr(self, f.name))
    return out


def _fields_info(cls: type) -> dict[str, ParamInfo]:
    return {f.name: f.metadata["param"] for f in dataclasses.fields(cls) if "param" in f.metadata}


# ------------------------------------------------------------------------------------------------
# options
# ------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class OptionInfo:
    """One entry of the ambiguity register: default, allowed values, reason, the paper's reference."""

    name: str
    default: Any
    choices: tuple[Any, ...] | Interval
    why: str
    ref: str
    kind: str  # "choice", "bool", "float", "int"

    def allowed(self) -> str:
        if isinstance(self.choices, Interval):
            return f"{self.kind} in {self.choices}"
        return ", ".join(_fmt_choice(c) for c in self.choices)


def _fmt_choice(c: Any) -> str:
    return ("true" if c else "false") if isinstance(c, bool) else str(c)


def option(default: Any, choices: Sequence[Any] | str | Interval, why: str, ref: str = "") -> Any:
    """An option field: `closure: str = option("ag", ("ag", "nonag"), "7 equations, 6 unknowns", "eqs. (22)-(23)")`.

    `choices`: the allowed values (the default among them), or an interval string such as
    `"(0, inf)"` for a numeric option. `why`: one line on the ambiguity or choice; `ref`: the
    paper's equation, table or page it concerns.
    """
    if isinstance(choices, (str, Interval)):
        ch: tuple[Any, ...] | Interval = _as_interval(choices)  # type: ignore[assignment]
        kind = "int" if isinstance(default, int) and not isinstance(default, bool) else "float"
    else:
        ch = tuple(choices)
        if default not in ch:
            raise ValueError(f"option default {default!r} is not among its choices {ch}")
        kind = "bool" if all(isinstance(c, bool) for c in ch) else "choice"
    meta = {"static": True, "option": (ch, why, ref, kind)}
    return dataclasses.field(default=default, metadata=meta)


#: a fixed-point `Solver`'s fields and the `landjax.engine.fixed_point` keywords they set
FIXED_POINT_SETTINGS = (
    ("method", "method"),
    ("damping", "damping"),
    ("tol", "tol"),
    ("ftol", "ftol"),
    ("max_steps", "max_steps"),
    ("memory", "anderson_memory"),
    ("tangent", "tangent"),
)


def fixed_point_settings(solver: Any) -> dict[str, Any]:
    """The `landjax.engine.fixed_point` keywords set by a model's fixed-point `Solver` (fields
    `method, damping, tol, ftol, max_steps, memory, tangent`; `memory` is `anderson_memory`)."""
    return {kw: getattr(solver, f) for f, kw in FIXED_POINT_SETTINGS}


class OptionsBase:
    """Base class a model's `Options`/`Solver` may inherit so type checkers see the methods that
    `model_options` adds."""

    @classmethod
    def registry(cls) -> tuple[OptionInfo, ...]:
        """The options' metadata, in field order."""
        return _registry(cls)

    @classmethod
    def from_strings(cls, values: Mapping[str, Any], base: Any = None) -> Any:
        """An instance from `{name: text}` (command-line text, parsed strictly)."""
        return _from_strings(cls, values, base)

    def as_dict(self) -> dict[str, Any]:
        """Option name -> value."""
        return _options_as_dict(self)

    def non_default(self) -> dict[str, Any]:
        """The options that differ from their defaults."""
        return _non_default(self)

    def label(self) -> str:
        """A short label: `default` or `name=value, ...`."""
        return _label(self)

    def replace(self, **changes: Any) -> Any:
        """A copy with `changes` applied (validated like construction)."""
        return _replace(self, **changes)


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def model_options(cls: type[T]) -> type[T]:
    """Make `cls` a model's `Options` (or `Solver`): a frozen dataclass of `option` fields,
    registered as a pytree with no leaves (every field is static, so `jax.jit` caches on it).
    Construction validates every field against its choices; a class attribute
    `canonical: ClassVar[dict[str, Callable]]` maps other spellings of a field's value to its
    choice first (the claims rules' long names)."""
    user_post_init = getattr(cls, "__post_init__", None)

    def __post_init__(self: Any) -> None:
        for info in type(self).registry():
            v = _canonical(type(self), info.name, getattr(self, info.name))
            object.__setattr__(self, info.name, _check_option(type(self).__name__, info, v))
        if user_post_init is not None:
            user_post_init(self)

    cls.__post_init__ = __post_init__  # type: ignore[attr-defined]
    cls.registry = classmethod(_registry)  # type: ignore[attr-defined]
    cls.as_dict = _options_as_dict  # type: ignore[attr-defined]
    cls.non_default = _non_default  # type: ignore[attr-defined]
    cls.label = _label  # type: ignore[attr-defined]
    cls.from_strings = classmethod(_from_strings)  # type: ignore[attr-defined]
    cls.replace = _replace  # type: ignore[attr-defined]
    return params_dataclass(cls)


def _registry(cls: type) -> tuple[OptionInfo, ...]:
    out = []
    for f in dataclasses.fields(cls):
        if "option" in f.metadata:
            ch, why, ref, kind = f.metadata["option"]
            out.append(OptionInfo(f.name, f.default, ch, why, ref, kind))
    return tuple(out)


def _check_option(owner: str, info: OptionInfo, v: Any) -> Any:
    if isinstance(info.choices, Interval):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise InputError(f"{owner}.{info.name}={shown(v)}: expected a number in {info.choices}")
        if info.kind == "int":
            if float(v) != int(v):
                raise InputError(f"{owner}.{info.name}={shown(v)}: expected an integer in {info.choices}")
            v = int(v)
        else:
            v = float(v)
        if not math.isfinite(v) or not bool(info.choices.contains(np.asarray(v))):
            raise InputError(f"{owner}.{info.name}={shown(v)} is outside its allowed range {info.choices}: {info.why}")
        return v
    if info.kind == "bool":
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        raise InputError(f"{owner}.{info.name}={shown(v)}: expected true or false")
    if v not in info.choices:
        raise InputError(f"{owner}.{info.name}={shown(v)} is not valid; choose one of {info.allowed()}")
    return v


def _options_as_dict(self: Any) -> dict[str, Any]:
    return {info.name: getattr(self, info.name) for info in type(self).registry()}


def _non_default(self: Any) -> dict[str, Any]:
    return {i.name: getattr(self, i.name) for i in type(self).registry() if getattr(self, i.name) != i.default}


def _label(self: Any) -> str:
    nd = self.non_default()
    return "default" if not nd else ", ".join(f"{k}={_fmt_choice(v)}" for k, v in nd.items())


def _from_strings(cls: type, values: Mapping[str, Any], base: Any = None) -> Any:
    """An instance from `{name: text}` (the command line's `--option NAME=VALUE`), each value
    parsed by the option's kind; unknown names raise `InputError` listing the valid ones."""
    infos = {i.name: i for i in cls.registry()}  # type: ignore[attr-defined]
    bad = [k for k in values if k not in infos]
    if bad:
        raise InputError(f"unknown option(s) {', '.join(bad)}; valid options: {', '.join(infos)}")
    kw = {k: parse_option(cls, k, v) for k, v in values.items()}
    return dataclasses.replace(base, **kw) if base is not None else cls(**kw)


def parse_option(cls: type, name: str, text: Any) -> Any:
    """`parse_value` for option `name` of `cls`, after the class's `canonical` spelling map."""
    info = {i.name: i for i in cls.registry()}[name]  # type: ignore[attr-defined]
    return parse_value(name, _canonical(cls, name, text), info)


def _canonical(cls: type, name: str, v: Any) -> Any:
    """`v` through the class's `canonical` spelling map for field `name` (unchanged when the
    map has no entry or does not know the spelling: the choice check names the valid ones)."""
    fn = (getattr(cls, "canonical", None) or {}).get(name)
    if fn is None or not isinstance(v, str):
        return v
    try:
        return fn(v)
    except InputError:
        return v


def parse_value(name: str, text: Any, info: OptionInfo) -> Any:
    """Parse one option value given as text (strictly: `tenure=maybe` is an error, not false)."""
    if not isinstance(text, str):
        return text
    t = text.strip()
    if info.kind == "bool":
        low = t.lower()
        if low in ("true", "1", "yes", "on"):
            return True
        if low in ("false", "0", "no", "off"):
            return False
        raise InputError(f"option {name}={text!r}: expected true or false")
    if info.kind in ("float", "int"):
        try:
            v = float(t)
        except ValueError:
            raise InputError(f"option {name}={text!r}: not a number (allowed: {info.allowed()})") from None
        if not math.isfinite(v):
            raise InputError(f"option {name}={text!r}: must be a finite number (allowed: {info.allowed()})")
        if info.kind == "int":
            if v != int(v):
                raise InputError(f"option {name}={text!r}: expected an integer (allowed: {info.allowed()})")
            return int(v)
        return v
    # a choice: match the text against the allowed values (numbers compare as numbers)
    for c in info.choices:  # type: ignore[union-attr]
        if t == _fmt_choice(c):
            return c
    raise InputError(f"option {name}={text!r} is not valid; choose one of {info.allowed()}")


def parse_param(cls_name: str, name: str, text: str, info: ParamInfo) -> Any:
    """Parse `--set NAME=VALUE` text for a parameter (comma-separated for vector parameters)."""
    parts = [s.strip() for s in str(text).split(",")]
    try:
        vals = [float(s) for s in parts]
    except ValueError:
        want = "a number" if not info.shape else "comma-separated numbers"
        raise InputError(f"parameter {name}: {text!r} is not {want}") from None
    if not info.shape:
        if len(vals) != 1:
            raise InputError(f"parameter {name}: expected one number, got {text!r}")
        return vals[0]
    if info.shape[0] is not None and len(vals) != info.shape[0]:
        raise InputError(f"parameter {name}: expected {info.shape[0]} comma-separated values, got {text!r}")
    return jnp.asarray(vals, dtype=jnp.float64)


# ------------------------------------------------------------------------------------------------
# results
# ------------------------------------------------------------------------------------------------

#: engine codes 0-3 plus the contract's "no equilibrium exists"
RESULT_MESSAGES = {
    **MESSAGES,
    4: "no equilibrium exists for these inputs",
    5: "ill-conditioned: the floating-point computation is not accurate for these inputs",
}


@params_dataclass
class Result:
    """The result of every model's `solve`: a pytree (it passes through `jit`/`vmap`; batched
    results carry a leading axis on every array).

    **Attributes:**

    - `unknowns`: named equilibrium unknowns (`{name: array}`).
    - `outcomes`: named reported numbers: `{name: array}` or `{section: {name: array}}` (the
      sections are the JSON keys of `landjax solve MODEL --json`).
    - `converged`: a finite equilibrium within the solver's tolerance was found (and, where the
      model checks it, exists).
    - `residual_norm`, `steps`, `code`: the solver's max-norm residual, iterations and status
      (0 converged, 1 max steps, 2 non-finite, 3 stalled, 4 no equilibrium exists, 5
      ill-conditioned).
    - `params`: the model's `Params`.
    - `model`: the model's name; `options`: its `Options`; `solver`: its `Solver`.
    - `units`: `((key path, unit), ...)` for the numbers in `outcomes`.
    - `note`: a model-specific explanation (e.g. which equilibrium condition has no solution).
    - `extra`: JSON text of further fields for `to_dict` (e.g. the dataset used).
    """

    unknowns: dict[str, Any]
    outcomes: dict[str, Any]
    converged: Any
    residual_norm: Any
    steps: Any
    code: Any
    params: Any
    model: str = static_field(default="")
    options: Any = static_field(default=None)
    solver: Any = static_field(default=None)
    units: tuple[tuple[str, str], ...] = static_field(default=())
    note: str = static_field(default="")
    extra: str = static_field(default="")

    @property
    def message(self) -> str:
        """The status in words (`note` first where the model gave one)."""
        code = np.asarray(self.code)
        if code.ndim:
            n_ok = int(np.sum(np.asarray(self.converged)))
            return f"batch: {n_ok}/{code.size} converged"
        base = RESULT_MESSAGES.get(int(code), f"unknown status {int(code)}")
        if self.note and int(code) != 0:
            return f"{base}: {self.note}"
        return self.note or base

    @property
    def ok(self) -> bool:
        return bool(np.all(np.asarray(self.converged)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready nested dict (floats, ints, bools, lists; non-finite numbers become `None` and
        are named in `non_finite`). Keys: `model, converged, residual_norm, steps, message,
        unknowns`, the outcome sections, `options`, `params`, `units` and any extras."""
        out: dict[str, Any] = {
            "model": self.model,
            "converged": bool(np.all(np.asarray(self.converged))),
            "residual_norm": _num(self.residual_norm),
            "steps": _num(self.steps),
            "message": self.message,
            "unknowns": {k: _num(v) for k, v in self.unknowns.items()},
        }
        for k, v in self.outcomes.items():
            out[k] = {kk: _num(vv) for kk, vv in v.items()} if isinstance(v, Mapping) else _num(v)
        out["options"] = self.options.as_dict() if hasattr(self.options, "as_dict") else {}
        if self.params is not None and hasattr(self.params, "to_dict"):
            out["params"] = self.params.to_dict()
        if self.extra:
            for k, v in json.loads(self.extra).items():
                if isinstance(v, dict) and isinstance(out.get(k), dict):
                    out[k] = {**out[k], **v}
                else:
                    out[k] = v
        out["units"] = dict(self.units)
        bad = [k for k, v in flatten_json(out).items() if isinstance(v, float) and not math.isfinite(v)]
        if bad:
            out = json_safe(out)
            out["non_finite"] = bad
        return out

    def to_json(self, **kw: Any) -> str:
        """Strict JSON text of `to_dict` (never `NaN` or `Infinity`)."""
        return dumps(self.to_dict(), **kw)

    def to_frame(self) -> Any:
        """A DataFrame: one row (or one per batch member) with `converged`, `residual_norm`,
        `steps`, the unknowns and the outcomes flattened with dotted key paths."""
        import pandas as pd

        cols: dict[str, Any] = {
            "converged": np.asarray(self.converged),
            "residual_norm": np.asarray(self.residual_norm),
            "steps": np.asarray(self.steps),
        }
        batch = np.asarray(self.converged).shape
        for prefix, tree in (("unknowns", self.unknowns), ("", self.outcomes)):
            for key, v in _flatten_arrays(tree, prefix, len(batch)).items():
                cols[key] = v
        if not batch:
            cols = {k: np.asarray(v).reshape(1) for k, v in cols.items()}
        return pd.DataFrame(cols)


def _num(v: Any) -> Any:
    a = np.asarray(v)
    if a.dtype == bool:
        return bool(a) if a.ndim == 0 else a.tolist()
    if np.issubdtype(a.dtype, np.integer):
        return int(a) if a.ndim == 0 else a.tolist()
    return float(a) if a.ndim == 0 else a.astype(float).tolist()


def _flatten_arrays(tree: Mapping[str, Any], prefix: str, batch_ndim: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for k, v in tree.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, Mapping):
            out.update(_flatten_arrays(v, key, batch_ndim))
            continue
        a = np.asarray(v)
        if a.ndim > batch_ndim:  # per-city / vector values: one column per element
            flat = a.reshape(tuple(a.shape[:batch_ndim]) + (-1,))
            for j in range(flat.shape[-1]):
                out[f"{key}.{j}"] = flat[..., j]
        else:
            out[key] = a
    return out


# ------------------------------------------------------------------------------------------------
# strict JSON
# ------------------------------------------------------------------------------------------------


def json_safe(x: Any) -> Any:
    """Convert to JSON-ready Python values; NaN and infinities become `None`."""
    if isinstance(x, Mapping):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, (str, bool)) or x is None:
        return x
    if isinstance(x, (int, np.integer)) and not isinstance(x, np.bool_):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    try:
        a = np.asarray(x)
    except Exception:
        return str(x)
    if a.dtype == bool:
        return a.tolist()
    if a.dtype.kind in "iu":
        return a.tolist()
    if a.dtype.kind in "fc":
        if a.ndim == 0:
            v = float(a.real)
            return v if math.isfinite(v) else None
        return [json_safe(v) for v in a.tolist()]
    return str(x)


def flatten_json(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"statistics": {"gdp_change": 1.0}}` -> `{"statistics.gdp_change": 1.0}`; list items get
    their index (`steady_state.Y.0`)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, Mapping):
            out.update(flatten_json(v, key))
        elif isinstance(v, list):
            for j, item in enumerate(v):
                if isinstance(item, Mapping):
                    out.update(flatten_json(item, f"{key}.{j}"))
                else:
                    out[f"{key}.{j}"] = item
        else:
            out[key] = v
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def dumps(obj: Any, **kw: Any) -> str:
    """`json.dumps` that refuses NaN/Infinity (they are converted to `null` first)."""
    kw.setdefault("indent", 2)
    kw.setdefault("ensure_ascii", False)
    return json.dumps(json_safe(obj), allow_nan=False, **kw)


def loads_strict(text: str) -> Any:
    """`json.loads` that raises on `NaN`/`Infinity` (what every landjax output must pass)."""
    return json.loads(text, parse_constant=_reject_constant)


# ------------------------------------------------------------------------------------------------
# the model spec the command line is built from
# ------------------------------------------------------------------------------------------------


def check_single(model: str, p: Any) -> None:
    """`InputError` when a parameter of `p` has more axes than its field declares: a batch handed
    to `solve` (one parameter set at a time; `solve_batch` takes a batch). Traced values (the
    members inside a `vmap`) have the declared shapes and pass."""
    for name, info in _fields_info(type(p)).items():
        v = getattr(p, name)
        if np.ndim(v) > len(info.shape):
            raise InputError(
                f"{model}.solve: one parameter set at a time, got Params.{name} of shape {tuple(np.shape(v))} "
                f"(declared {'a scalar' if not info.shape else f'{len(info.shape)}-D'}); solve_batch takes a batch "
                "(a leading axis)"
            )


def as_batch(model: str, pb: Any) -> Any:
    """`Params` for `solve_batch`: parameters with a leading batch axis are the batch; those
    given at their declared shape are shared by every member (broadcast). Sizes that differ, a
    parameter with two extra axes, or no batch axis at all are an `InputError` naming them."""
    sizes: dict[str, int] = {}
    for name, info in _fields_info(type(pb)).items():
        v = getattr(pb, name)
        extra = np.ndim(v) - len(info.shape)
        if extra > 1:
            raise InputError(
                f"{model}.solve_batch: Params.{name} of shape {tuple(np.shape(v))} has more than one batch axis"
            )
        if extra == 1:
            sizes[name] = int(np.shape(v)[0])
    if not sizes:
        raise InputError(
            f"{model}.solve_batch: no parameter has a leading batch axis; give at least one parameter one value "
            "per member (e.g. Params(m=[0.3, 0.4])) or call solve"
        )
    if len(set(sizes.values())) > 1:
        raise InputError(
            f"{model}.solve_batch: batch sizes differ: " + ", ".join(f"Params.{k}: {n}" for k, n in sizes.items())
        )
    b = next(iter(sizes.values()))
    shared = {
        name: jnp.broadcast_to(jnp.asarray(getattr(pb, name), dtype=jnp.float64), (b, *np.shape(getattr(pb, name))))
        for name in _fields_info(type(pb))
        if name not in sizes
    }
    if not shared:
        return pb
    out: Any = object.__new__(type(pb))  # the fields are valid already (checked when pb was built)
    for f in dataclasses.fields(pb):
        object.__setattr__(out, f.name, shared.get(f.name, getattr(pb, f.name)))
    return out


def batched(solve: Callable[..., Result], name: str = "") -> Callable[..., Result]:
    """The `solve_batch(pb, options=None, *, solver=None, **context)` of a model whose batch is a
    plain `jax.vmap` of `solve` over the leading axis of every parameter leaf (failed members are
    flagged by their own `converged`/`code`, never raised, and never change the others)."""

    def solve_batch(pb: Any, options: Any = None, *, solver: Any = None, **context: Any) -> Result:
        pb = as_batch(name or "model", pb)
        return jax.vmap(lambda q: solve(q, options, solver=solver, throw=False, **context))(pb)

    solve_batch.__doc__ = (
        f"`solve` of the {name or 'model'} for a batch of parameters (a leading batch axis; parameters without"
        " one are shared by every member), one vmapped call; failed members are flagged (`converged` false),"
        " never raised."
    )
    solve_batch.__module__ = solve.__module__
    solve_batch.__qualname__ = "solve_batch"
    return solve_batch


@dataclasses.dataclass(frozen=True)
class CliFlag:
    """A model-specific command-line flag of `landjax solve MODEL` (e.g. `--data DIR`)."""

    flag: str
    help: str
    default: Any = None
    #: ``"value"`` (takes an argument) or ``"switch"`` (store_true)
    kind: str = "value"
    #: ``"input"``: a path the command reads; ``"output"``: a path it writes (never over an input)
    role: str = ""


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What the command line, the ambiguity register and the sweeps need to know about a model.

    `solve(params, options, solver=..., throw=False, **context) -> Result`; `context` holds the
    model-specific command-line flags (`flags`) after `prepare(ns) -> dict` turned them into
    keyword arguments. `write_outputs(result, context, ns)` writes any requested files (paths
    already checked by the CLI) and returns extra JSON fields.
    """

    name: str
    title: str
    Params: type
    Options: type
    Solver: type | None
    solve: Callable[..., Result]
    solve_batch: Callable[..., Result] | None = None
    flags: tuple[CliFlag, ...] = ()
    prepare: Callable[[Any], dict[str, Any]] | None = None
    write_outputs: Callable[..., dict[str, Any]] | None = None
    #: grid columns other than parameters and options that ``sweep`` accepts (e.g. ``scenario``)
    context_columns: tuple[str, ...] = ()
    doc: str = ""
    registry_note: ClassVar[str] = "every option: default, choices, reason, the paper's reference"

    def options_rows(self) -> list[dict[str, Any]]:
        """The ambiguity register of this model (one dict per option)."""
        rows = []
        for info in self.Options.registry():  # type: ignore[attr-defined]
            rows.append(
                {
                    "model": self.name,
                    "option": info.name,
                    "default": _fmt_choice(info.default) if not isinstance(info.default, float) else info.default,
                    "choices": info.allowed(),
                    "why": info.why,
                    "ref": info.ref,
                }
            )
        return rows


def options_table(specs: Iterable[ModelSpec]) -> str:
    """The ambiguity register as markdown (what `docs/ambiguities.md` is generated from)."""
    lines = [
        "# Ambiguity register",
        "",
        "Generated from the models' `Options` metadata by `landjax options --markdown` (a test keeps this",
        "file current). Every option names its default (the printed-equations reading unless stated),",
        "the allowed values, why the choice exists and the part of the paper it concerns.",
        "Show one model's register with `landjax options MODEL` (or `--json`).",
    ]
    for spec in specs:
        lines += [
            "",
            f"## `{spec.name}`: {spec.title}",
            "",
            "| option | default | choices | why | paper |",
            "|---|---|---|---|---|",
        ]
        for r in spec.options_rows():
            cells = [f"`{r['option']}`", f"`{r['default']}`", r["choices"], r["why"], r["ref"]]
            lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
