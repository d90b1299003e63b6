"""Parameters of the two-city land-debt model of Zhao & Liu (2024) (annual; defaults as in
`docs/zhao_liu2024.md`, section "Parameters"). Equation numbers refer to the model's equations as
numbered in `docs/zhao_liu2024.md` (the paper's own equations are not public)."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

from landjax.contract import ParamsBase, model_params, param, validate_params
from landjax.errors import InputError, as_float64

#: parameters with one value per city ``(city 1, city 2)``
PER_CITY = ("tau", "N_bar", "L", "A", "omega", "s", "b")


def _txt(a: np.ndarray) -> str:
    a = np.asarray(a)
    return f"{float(a):g}" if a.ndim == 0 else str(a.tolist())


@model_params
class Params(ParamsBase):
    """Parameters (annual); per-city arrays are `(city 1, city 2)`. Every field is checked on
    construction and on `replace` (finite, right shape, in the allowed range given by
    `Params.fields_info`); float32 inputs are converted to float64 with a
    `DtypeWarning`.
    """

    beta: Any = param(default=0.96, bounds="(0, 1)", doc="saver discount factor (r = 1/beta - 1)", ref="eq. (7)")
    beta_g: Any = param(
        default=0.90, bounds="(0, 1)", doc="local-government discount factor (below beta)", ref="eq. (13)"
    )
    chi: Any = param(
        default=0.13 / 0.87,
        bounds="(0, inf)",
        doc="housing weight in utility (housing share chi/(1+chi))",
        ref="eq. (2)",
    )
    a_n: Any = param(default=0.48, bounds="(0, 1)", doc="labour elasticity of output", ref="eq. (8)")
    a_l: Any = param(
        default=0.10, bounds="(0, 1)", doc="industrial-land elasticity of output (a_n + a_l < 1)", ref="eq. (8)"
    )
    gamma: Any = param(
        default=0.08, bounds="(0, 1)", doc="public-capital elasticity of output (gamma < a_n + a_l)", ref="eq. (8)"
    )
    psi_s: Any = param(
        default=0.5, bounds="[0, inf)", doc="productivity weight of land-servicing infrastructure", ref="eq. (8)"
    )
    delta_k: Any = param(default=0.10, bounds="(0, 1]", doc="depreciation rate of private capital", ref="eq. (7)")
    delta_g: Any = param(default=0.05, bounds="(0, 1]", doc="depreciation rate of public capital", ref="eq. (14)")
    delta_L: Any = param(
        default=1.0 / 70.0, bounds="(0, 1]", doc="lease expiry rate (1/70: 70-year tenures)", ref="eq. (11)"
    )
    lam: Any = param(
        default=0.70, bounds="(0, 1)", doc="non-residential (industrial) share of urban land", ref="eq. (10)"
    )
    tau: Any = param(default=[0.10, 0.10], bounds="[0, 1)", doc="local production tax", ref="eq. (9)", shape=(2,))
    theta_L: Any = param(default=0.05, bounds="[0, 1]", doc="pledgeable share of land value", ref="eq. (15)")
    theta_K: Any = param(default=0.25, bounds="[0, 1]", doc="pledgeable share of infrastructure", ref="eq. (15)")
    sigma: Any = param(
        default=3.0, bounds="(0, inf)", doc="Armington elasticity between the cities' goods (not 1)", ref="eq. (1)"
    )
    kappa: Any = param(default=1.5, bounds="(0, inf)", doc="Frechet shape of location tastes", ref="eq. (4)")
    mu: Any = param(
        default=1.0,
        bounds="[1, inf)",
        doc="hukou utility cost of living outside one's city (mobile only)",
        ref="eq. (4)",
    )
    rho_N: Any = param(
        default=0.10, bounds="(0, 1]", doc="partial-adjustment speed of migration (transitions)", ref="eq. (6)"
    )
    N_bar: Any = param(
        default=[0.40, 0.60], bounds="(0, 1)", doc="hukou population shares (sum 1)", ref="eq. (4)", shape=(2,)
    )
    L: Any = param(
        default=[0.45, 0.55],
        bounds="(0, inf)",
        doc="urban construction land (central quota stock)",
        ref="eq. (10)",
        shape=(2,),
    )
    A: Any = param(default=[1.353, 1.0], bounds="(0, inf)", doc="total factor productivity", ref="eq. (8)", shape=(2,))
    xi: Any = param(default=0.934, bounds="(0, 1)", doc="weight of GDP in the government objective", ref="eq. (13)")
    k_bar: Any = param(
        default=1.206, bounds="[0, inf)", doc="land-servicing infrastructure per unit of urban land", ref="eq. (14)"
    )
    omega: Any = param(default=[0.545, 0.455], bounds="(0, inf)", doc="Armington weights", ref="eq. (1)", shape=(2,))
    g_bar: Any = param(default=0.0, bounds="[0, inf)", doc="per-hukou public-service mandate", ref="eq. (13)")
    s: Any = param(
        default=[0.0, 0.0],
        bounds="[0, 1)",
        doc="investment-attraction subsidy on the capital rental",
        ref="eq. (9)",
        shape=(2,),
    )
    b: Any = param(default=[1.0, 1.0], bounds="(0, inf)", doc="amenities", ref="eq. (3)", shape=(2,))

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
    """Check every field of `p` again (construction already does; parameters rebuilt by JAX tree
    operations skip `__init__`). Raises `InputError` naming the field and its allowed range;
    a no-op for traced parameters."""
    from landjax.contract import check_types

    check_types("land_debt", params=(p, Params))
    validate_params(p)


def unchecked_replace(p: Params, **changes: Any) -> Params:
    """`p.replace(**changes)` without the range checks (as JAX's own tree rebuilds do): for batches
    whose failed members carry NaN and for the calibration map. Unknown names still raise."""
    names = {f.name for f in dataclasses.fields(p)}
    bad = sorted(set(changes) - names)
    if bad:
        raise InputError(f"Params: unknown field(s) {', '.join(bad)}; valid: {', '.join(sorted(names))}")
    obj = object.__new__(type(p))
    for f in dataclasses.fields(p):
        object.__setattr__(obj, f.name, changes.get(f.name, getattr(p, f.name)))
    return obj
