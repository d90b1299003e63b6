"""Structural parameters of the Ma & Ni quota-trade economy (section 3(2) of the paper)."""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np

from landjax._pytree import static_field
from landjax.contract import ParamsBase, model_params, param
from landjax.errors import InputError

CLOSURES = ("endogenous", "fixed_price")


def tenure_factor(r: float = 0.05) -> float:
    """Eq. (21): `P^ry_70 / P^ry_50 = (1 - (1+r)^-70) / (1 - (1+r)^-50)`.

    **Arguments:**

    - `r`: the discount rate, in (0, 1).

    **Returns:** the ratio of the value of a 70-year to a 50-year land tenure (> 1).
    """
    if isinstance(r, bool) or not isinstance(r, (int, float, np.integer, np.floating)):
        raise InputError(f"land_rate={r!r}: expected a number in (0, 1)")
    r = float(r)
    if not (math.isfinite(r) and 0.0 < r < 1.0):
        raise InputError(f"land_rate={r!r} is outside its allowed range (0, 1): discount rate r of eq. (21)")
    return (1.0 - (1.0 + r) ** -70) / (1.0 - (1.0 + r) ** -50)


TENURE_FACTOR = tenure_factor(0.05)


@model_params
class Params(ParamsBase):
    """Structural parameters (Ma & Ni section 3(2); defaults as printed).

    Every field is checked whatever its type (Python, NumPy or JAX scalar or array; traced values
    are not checked); float32 values are converted to float64 with a `DtypeWarning`. `closure`
    is kept for one release for old code (`Params(closure=...)`);
    the contract's place for it is `Options.closure`.
    """

    alpha: float = param(0.67, "(0, 1)", "labour share in goods production", ref="eq. (1)")
    eta: float = param(0.13, "(0, 1)", "housing expenditure share", ref="eq. (5)")
    kappa: float = param(3.0, "(0, inf)", "Frechet shape of idiosyncratic tastes = migration elasticity", ref="eq. (9)")
    sigma: float = param(0.65, "(0, 1)", "labour share in housing production", ref="eq. (12)")
    rho: float = param(0.103, "(0, 1)", "elasticity of TFP to infrastructure spending", ref="eq. (16)")
    closure: str = static_field(default="endogenous")

    def __post_init__(self) -> None:
        if self.closure not in CLOSURES:
            raise InputError(f"Params.closure={self.closure!r}; allowed: {', '.join(CLOSURES)}")


@functools.cache
def default_params() -> Params:
    """`Params()`, built (and validated) once: a plain call without `params` does not pay for the
    checks again (the object is frozen and its leaves immutable)."""
    return Params()


def with_closure(params: Params, closure: str) -> Params:
    """`params` with the static `closure` set (the contract reads it from `Options.closure`)."""
    if params.closure == closure:
        return params
    return dataclasses.replace(params, closure=closure)


def param_values(params: Params) -> dict[str, Any]:
    """The numeric fields as a dict (for reports)."""
    return {k: getattr(params, k) for k in ("alpha", "eta", "kappa", "sigma", "rho")}
