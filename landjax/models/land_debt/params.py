"""Parameters of the two-city land-debt model of Zhao & Liu (2024) (annual; defaults as in
``docs/zhao_liu2024.md``, section "Parameters"). Equation numbers refer to the model's equations as
numbered in ``docs/zhao_liu2024.md`` (the paper's own equations are not public)."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

from landjax.contract import model_params, param, validate_params
from landjax.errors import InputError, as_float64

#: parameters with one value per city ``(city 1, city 2)``
PER_CITY = ("tau", "N_bar", "L", "A", "omega", "s", "b")


def _txt(a: np.ndarray) -> str:
    a = np.asarray(a)
    return f"{float(a):g}" if a.ndim == 0 else str(a.tolist())


@model_params
class Params:
    """Parameters (annual); per-city arrays are ``(city 1, city 2)``. Every field is checked on
    construction and on ``replace`` (finite, right shape, in the allowed range given by
    :func:`Params.fields_info`); float32 inputs are converted to float64 with a
    :class:`~landjax.errors.DtypeWarning`.
    """

    beta: Any = param(0.96, "(0, 1)", "saver discount factor (r = 1/beta - 1)", ref="eq. (7)")
    beta_g: Any = param(0.90, "(0, 1)", "local-government discount factor (below beta)", ref="eq. (13)")
    chi: Any = param(0.13 / 0.87, "(0, inf)", "housing weight in utility (housing share chi/(1+chi))", ref="eq. (2)")
    a_n: Any = param(0.48, "(0, 1)", "labour elasticity of output", ref="eq. (8)")
    a_l: Any = param(0.10, "(0, 1)", "industrial-land elasticity of output (a_n + a_l < 1)", ref="eq. (8)")
    gamma: Any = param(0.08, "(0, 1)", "public-capital elasticity of output (gamma < a_n + a_l)", ref="eq. (8)")
    psi_s: Any = param(0.5, "[0, inf)", "productivity weight of land-servicing infrastructure", ref="eq. (8)")
    delta_k: Any = param(0.10, "(0, 1]", "depreciation rate of private capital", ref="eq. (7)")
    delta_g: Any = param(0.05, "(0, 1]", "depreciation rate of public capital", ref="eq. (14)")
    delta_L: Any = param(1.0 / 70.0, "(0, 1]", "lease expiry rate (1/70: 70-year tenures)", ref="eq. (11)")
    lam: Any = param(0.70, "(0, 1)", "non-residential (industrial) share of urban land", ref="eq. (10)")
    tau: Any = param([0.10, 0.10], "[0, 1)", "local production tax", ref="eq. (9)", shape=(2,))
    theta_L: Any = param(0.05, "[0, 1]", "pledgeable share of land value", ref="eq. (15)")
    theta_K: Any = param(0.25, "[0, 1]", "pledgeable share of infrastructure", ref="eq. (15)")
    sigma: Any = param(3.0, "(0, inf)", "Armington elasticity between the cities' goods (not 1)", ref="eq. (1)")
    kappa: Any = param(1.5, "(0, inf)", "Frechet shape of location tastes", ref="eq. (5)")
    mu: Any = param(1.0, "[1, inf)", "hukou utility cost of living outside one's city (mobile only)", ref="eq. (5)")
    rho_N: Any = param(0.10, "(0, 1]", "partial-adjustment speed of migration (transitions)", ref="eq. (6)")
    N_bar: Any = param([0.40, 0.60], "(0, 1)", "hukou population shares (sum 1)", ref="eq. (5)", shape=(2,))
    L: Any = param(
        [0.45, 0.55], "(0, inf)", "urban construction land (central quota stock)", ref="eq. (10)", shape=(2,)
    )
    A: Any = param([1.353, 1.0], "(0, inf)", "total factor productivity", ref="eq. (8)", shape=(2,))
    xi: Any = param(0.934, "(0, 1)", "weight of GDP in the government objective", ref="eq. (13)")
    k_bar: Any = param(1.206, "[0, inf)", "land-servicing infrastructure per unit of urban land", ref="eq. (14)")
    omega: Any = param([0.545, 0.455], "(0, inf)", "Armington weights", ref="eq. (1)", shape=(2,))
    g_bar: Any = param(0.0, "[0, inf)", "per-hukou public-service mandate", ref="eq. (12)")
    s: Any = param(
        [0.0, 0.0], "[0, 1)", "investment-attraction subsidy on the capital rental", ref="eq. (9)", shape=(2,)
    )
    b: Any = param([1.0, 1.0], "(0, inf)", "amenities", ref="eq. (3)", shape=(2,))

    def check(self, v: dict[str, np.ndarray]) -> None:
        """Cross-field conditions (leading batch axes allowed)."""
        if np.any(v["beta_g"] >= v["beta"]):
            raise InputError(
                "Params.beta_g must be below Params.beta (an impatient government: the collateral "
                f"constraint binds), got beta_g={_txt(v['beta_g'])}, beta={_txt(v['beta'])}"
            )
        if np.any(v["a_n"] + v["a_l"] >= 1.0):
            raise InputError(
                "Params.a_l: a_n + a_l must be below 1 (capital elasticity a_k = 1 - a_n - a_l > 0), "
                f"got a_n={_txt(v['a_n'])}, a_l={_txt(v['a_l'])}"
            )
        if np.any(v["gamma"] >= v["a_n"] + v["a_l"]):
            raise InputError(
                "Params.gamma must be below a_n + a_l (diminishing returns to infrastructure once private "
                f"capital adjusts), got gamma={_txt(v['gamma'])}, a_n + a_l={_txt(v['a_n'] + v['a_l'])}"
            )
        if np.any(np.abs(v["sigma"] - 1.0) <= 1e-8):
            raise InputError("Params.sigma must differ from 1 (the Armington composite is CES), got 1")
        if np.any(np.abs(np.sum(v["N_bar"], axis=-1) - 1.0) > 1e-9):
            raise InputError(
                f"Params.N_bar must sum to 1 (hukou population shares), got {np.asarray(v['N_bar']).tolist()}"
            )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # arrays -> float64 JAX arrays (DtypeWarning for float32/float16)
            v = getattr(self, f.name)
            if "param" in f.metadata and not isinstance(v, (float, int, jax.core.Tracer)):
                if not (isinstance(v, jax.Array) and v.dtype == np.float64):  # lists, numpy, other dtypes
                    object.__setattr__(self, f.name, as_float64(v, f"Params.{f.name}"))


def validate(p: Params) -> None:
    """Check every field of ``p`` again (construction already does; parameters rebuilt by JAX tree
    operations skip ``__init__``). Raises :class:`InputError` naming the field and its allowed range;
    a no-op for traced parameters."""
    if not isinstance(p, Params):
        raise InputError(f"land_debt: expected land_debt.Params, got {type(p).__name__}")
    validate_params(p)


def unchecked_replace(p: Params, **changes: Any) -> Params:
    """``p.replace(**changes)`` without the range checks (as JAX's own tree rebuilds do): for batches
    whose failed members carry NaN and for the calibration map. Unknown names still raise."""
    names = {f.name for f in dataclasses.fields(p)}
    bad = sorted(set(changes) - names)
    if bad:
        raise InputError(f"Params: unknown field(s) {', '.join(bad)}; valid: {', '.join(sorted(names))}")
    obj = object.__new__(type(p))
    for f in dataclasses.fields(p):
        object.__setattr__(obj, f.name, changes.get(f.name, getattr(p, f.name)))
    return obj
