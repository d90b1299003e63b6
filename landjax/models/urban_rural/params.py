"""Parameters of the Cheng & Liu (2021) urban-rural model (Table 1) and their validation."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from landjax.contract import ParamsBase, model_params, param
from landjax.errors import InputError

#: the numeraire: the agricultural good's price p_a = 1
P_A = 1.0
UNKNOWNS = ("hbar", "p_n", "R_a", "R_n", "R_u", "g_u")
MOMENTS = ("Y_ratio", "R_ratio", "migrant_share")
WELFARE = ("TU", "TU_r", "TU_m", "TU_u")
OUTPUT = ("Y_a", "Y_n")

#: Table 2 targets (paper p. 13); the share and Y targets depend on options share_target/y_target
Y_TARGET = {"data": 10.3826, "model": 10.3774}
R_TARGET = 10.2743
SHARE_TARGET = {"printed": 0.2744, "annual": 0.02744}
#: urban land stock implied by the data (option stocks="data"; Table 1 rounds it to 0.003 + 0.003)
S_DATA = 0.00622

_SHARE = "[0, 1]"
_OPEN = "(0, 1)"
_POS = "(0, inf)"
_NONNEG = "[0, inf)"


@model_params
class Params(ParamsBase):
    """Parameters in the paper's symbols (defaults: Table 1; `A_bar = A_a = 1`).

    Land stocks are Table 1's normalised areas; `phi_r` etc. are shares in [0, 1]."""

    N_r: float = param(0.524, _POS, "rural population share", ref="Table 1")
    N_u: float = param(0.476, _POS, "urban population share", ref="Table 1")
    Omega_a: float = param(0.480, _POS, "farmland", ref="Table 1")
    Omega_r: float = param(0.021, _POS, "rural construction land", ref="Table 1")
    Omega_n: float = param(0.003, _NONNEG, "urban production land", ref="Table 1")
    Omega_u: float = param(0.003, _NONNEG, "urban housing land", ref="Table 1")
    Omega_0: float = param(0.196, _NONNEG, "unused land", ref="Table 1")
    theta: float = param(0.83, _OPEN, "goods expenditure share (see option theta)", ref="Table 1, eq. (6)")
    epsilon: float = param(0.21, "[0, 1)", "output elasticity of public capital", ref="Table 1, eq. (3)")
    k: float = param(2.8, "(1, inf)", "Pareto shape of human capital (finite mean)", ref="Table 1")
    h_low: float = param(2.0, _POS, "Pareto lower bound of human capital", ref="Table 1")
    psi: float = param(7.5, None, "human-capital externality (quality)", ref="Table 1, eq. (4)")
    gamma: float = param(0.05, None, "scale externality", ref="Table 1, eq. (4)")
    beta_a: float = param(0.75, _OPEN, "human-capital share in agriculture", ref="Table 1, eq. (1)")
    beta_n: float = param(0.91, _OPEN, "human-capital share in non-agriculture", ref="Table 1, eq. (3)")
    A_bar: float = param(1.0, _POS, "urban TFP level", ref="eq. (4)")
    A_a: float = param(1.0, _POS, "agricultural TFP (not given in the paper)", ref="eq. (1)")
    omega_a: float = param(0.0128, _SHARE, "farmland conversion coefficient", ref="Table 1, eq. (20)")
    omega_0: float = param(0.0173, _SHARE, "unused-land conversion coefficient", ref="Table 1, eq. (20)")
    sigma_c: float = param(0.5101, _SHARE, "production share of the urban stock", ref="Table 1, eq. (17)")
    sigma_z: float = param(0.5547, _SHARE, "production share of new urban land", ref="Table 1, eq. (17)")
    m: float = param(0.5354, _SHARE, "compensation / land-sale revenue", ref="Table 1, eq. (12)")
    mu: float = param(0.6879, _SHARE, "usable share of stock rent", ref="Table 1, eq. (13)")
    phi_r: float = param(0.5240, _SHARE, "rural share of newly converted land", ref="Table 1, eq. (21)")
    alpha: float = param(0.2717, _OPEN, "agricultural goods weight in utility (calibrated)", ref="Table 1")
    phi: float = param(3.3250, _NONNEG, "human capital lost by migrating (calibrated)", ref="Table 1, eq. (10)")
    tau_n: float = param(0.8107, "(-inf, 1)", "production-land rent subsidy (calibrated)", ref="Table 1, eq. (13)")


PARAM_NAMES = tuple(Params.fields_info())


def make_params(**kw: Any) -> Params:
    """`Params` with named overrides; unknown names raise `InputError` listing valid ones."""
    bad = [k for k in kw if k not in PARAM_NAMES]
    if bad:
        raise InputError(f"unknown parameter(s) {', '.join(bad)}; valid parameters: {', '.join(PARAM_NAMES)}")
    return Params(**kw)


def v_str(a: np.ndarray) -> str:
    a = np.asarray(a)
    return f"{float(a):g}" if a.ndim == 0 else f"{a.min():g}..{a.max():g}"


def check_params(p: Params, o: Any = None) -> None:
    """The checks that depend on the options (the ranges of every field are checked when `Params`
    is built): `phi > 0` with `loss="div"`, and land shares below 1 with `Omega="one"`.
    Skipped for traced parameters (inside jit/vmap/grad)."""
    from landjax.models.urban_rural.options import Options

    o = o or Options()
    from landjax.contract import check_types

    check_types("urban_rural", params=(p, Params), options=(o, Options))
    if any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(p)):
        return
    if o.loss == "div" and np.any(np.asarray(p.phi) <= 0):
        raise InputError("Params.phi: must be positive with option loss=div (capital h / phi)")
    if o.Omega == "one":
        tot = sum(np.asarray(getattr(p, n)) for n in ("Omega_a", "Omega_r", "Omega_0"))
        if np.any(tot >= 1):
            raise InputError("Params.Omega_a + Omega_r + Omega_0 must be below 1 with option Omega=one")
