"""Urban-rural spatial equilibrium with land conversion (Cheng & Liu 2021).

The model (paper eqs. (1)-(23); full derivation in ``shared/specs/urban_rural.md``):

* rural residents with Pareto human capital ``h`` farm (eq. 1-2) or migrate to the city, losing
  ``phi`` units of capital (eq. 10-12); the marginal migrant ``hbar`` is indifferent (eq. 14);
* migrants' farmland and unused land are partly converted (``omega_a``, ``omega_0``) into rural
  (``phi_r``) and urban construction land, urban land splits into production (``sigma_z``) and
  housing land; migrants get a share ``m`` of the new land's rent as compensation (eq. 12);
* the government spends stock-land rent (share ``mu``), the rest of the new-land rent and
  subsidises production land at rate ``tau_n`` on public capital ``g_u`` (eq. 13).

Six unknowns ``(hbar, p_n, R_a, R_n, R_u, g_u)`` with ``p_a = 1`` the numeraire; six conditions
E1-E6 of the spec (section 5). The system is solved in logs (``log(hbar - h_low)`` and the
logs of the five prices) with :func:`landjax.engine.solve` (Newton, implicit differentiation);
the initial guess comes from the spec's reduction to one equation in ``hbar`` (section 6),
found by a vectorised grid scan plus bisection, so that the whole solve is jittable and
vmappable.

Every ambiguity of the spec's section 9 is a named field of :class:`Options`; the default of
each is the printed-equations reading (the first option listed in the spec).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import sys
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax._pytree import params_dataclass
from landjax.cli import parse_pairs
from landjax.errors import ConvergenceError, InputError, NoEquilibriumError

P_A = 1.0  # numeraire (spec A1)
UNKNOWNS = ("hbar", "p_n", "R_a", "R_n", "R_u", "g_u")
MOMENTS = ("Y_ratio", "R_ratio", "migrant_share")
WELFARE = ("TU", "TU_r", "TU_m", "TU_u")
OUTPUT = ("Y_a", "Y_n")
#: Gauss-Legendre nodes on [0, 1] for the rural welfare integral (in t = log(h / h_low))
_GL_X, _GL_W = np.polynomial.legendre.leggauss(64)
_GL_X = (_GL_X + 1.0) / 2.0
_GL_W = _GL_W / 2.0
#: number of grid points of the hbar scan that provides the initial guess
_SCAN_N = 241
_SCAN_T = (-12.0, 9.0)  # t = log(hbar - h_low) range of the scan


@params_dataclass
class Params:
    """Parameters in the paper's symbols (defaults: Table 1; ``A_bar = A_a = 1``).

    Land stocks are Table 1's normalised areas; ``phi_r`` etc. are shares in [0, 1]."""

    N_r: float = 0.524  # rural population share
    N_u: float = 0.476  # urban population share
    Omega_a: float = 0.480  # farmland
    Omega_r: float = 0.021  # rural construction land
    Omega_n: float = 0.003  # urban production land
    Omega_u: float = 0.003  # urban housing land
    Omega_0: float = 0.196  # unused land
    theta: float = 0.83  # goods expenditure share (text); see option `theta`
    epsilon: float = 0.21  # output elasticity of public capital
    k: float = 2.8  # Pareto shape
    h_low: float = 2.0  # Pareto lower bound of human capital
    psi: float = 7.5  # human-capital externality (quality)
    gamma: float = 0.05  # scale externality
    beta_a: float = 0.75  # human-capital share in agriculture
    beta_n: float = 0.91  # human-capital share in non-agriculture
    A_bar: float = 1.0  # urban TFP level
    A_a: float = 1.0  # agricultural TFP (not given in the paper; spec A1)
    omega_a: float = 0.0128  # farmland conversion coefficient
    omega_0: float = 0.0173  # unused-land conversion coefficient
    sigma_c: float = 0.5101  # production share of the urban stock
    sigma_z: float = 0.5547  # production share of new urban land
    m: float = 0.5354  # compensation / land-sale revenue
    mu: float = 0.6879  # usable share of stock rent
    phi_r: float = 0.5240  # rural share of newly converted land
    alpha: float = 0.2717  # agricultural goods weight in utility (calibrated)
    phi: float = 3.3250  # human capital lost by migrating (calibrated)
    tau_n: float = 0.8107  # production-land rent subsidy (calibrated)


PARAM_NAMES = tuple(f.name for f in dataclasses.fields(Params))

#: option name -> (allowed values, default first; one-line reason). Spec section 9.
OPTION_CHOICES: dict[str, tuple[tuple[str, ...], str]] = {
    "numeraire": (("p_a",), "A1: p_a = 1 (p_a is not among the unknowns); A_a = 1 is a parameter default"),
    "closure": (
        ("ag", "nonag", "rebate_u"),
        "A2: 7 equations for 6 unknowns; impose the ag market (22), the non-ag market (23), "
        "or rebate the (1-mu) leak to urban natives",
    ),
    "rratio": (("net", "gross"), "A3: R_ratio = R_u/((1-tau_n)R_n) (appendix) or R_u/R_n (main text)"),
    "yratio": (("value", "qty"), "A4: Y_ratio = p_n Y_n / (p_a Y_a) or Y_n / Y_a"),
    "loss": (
        ("sub", "div", "shift"),
        "A5: migrant capital h - phi, h / phi, or h - phi with the code's hbar a threshold on h - phi",
    ),
    "Eu": (("post", "pre"), "A6: E_u h averages migrants' capital after (h - phi) or before the loss"),
    "Omega": (("sum", "one"), "A7: total land = sum of Table-1 stocks (0.703) or 1"),
    "lr": (("post", "pre"), "A8: rural utility (6) uses l'_r of (21) or the initial l_r"),
    "rural_inc": (("full", "wage"), "A9: rural income includes farmland rent R_a l'_a (eq. 2) or only the wage"),
    "theta": (("goods", "swap"), "A10: theta = 0.83 is the goods share (text) or the housing share"),
    "bounds": (
        ("corrected",),
        "A11: integration-bound typos read as natives h_low..inf, stayers h_low..hbar, migrants hbar..inf",
    ),
    "left_behind": (
        ("paper",),
        "A12: a migrant's l_r stays in Omega_r, (1-omega_a) l_a is redistributed, compensation on initial l_a, l_0",
    ),
    "welfare": (("sum",), "A13: TU = literal sum of cardinal utilities"),
    "share_target": (("printed", "annual"), "A14: migrant-share target 0.2744 as printed, or 0.02744 per year"),
    "table4": (("both",), "A15: Table 4 optima computed one at a time and jointly"),
    "y_target": (("data", "model"), "A16: Y_ratio target 10.3826 (data column) or 10.3774 (model column)"),
    "stocks": (("rounded", "data"), "A17: Table-1 rounded urban stocks (0.003 each) or the data's S = 0.00622"),
}

#: Table 2 targets (paper p. 13); the share target and Y target depend on options A14/A16
Y_TARGET = {"data": 10.3826, "model": 10.3774}
R_TARGET = 10.2743
SHARE_TARGET = {"printed": 0.2744, "annual": 0.02744}
S_DATA = 0.00622  # urban stock implied by the data (spec A17)


@dataclasses.dataclass(frozen=True)
class Options:
    """Readings of the paper's ambiguities (spec section 9); defaults = printed equations."""

    numeraire: str = "p_a"
    closure: str = "ag"
    rratio: str = "net"
    yratio: str = "value"
    loss: str = "sub"
    Eu: str = "post"
    Omega: str = "sum"
    lr: str = "post"
    rural_inc: str = "full"
    theta: str = "goods"
    bounds: str = "corrected"
    left_behind: str = "paper"
    welfare: str = "sum"
    share_target: str = "printed"
    table4: str = "both"
    y_target: str = "data"
    stocks: str = "rounded"

    def __post_init__(self):
        for name, (choices, _) in OPTION_CHOICES.items():
            v = getattr(self, name)
            if v not in choices:
                raise InputError(f"option {name}={v!r} is not valid; choose one of {', '.join(choices)}")

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)

    def non_default(self) -> dict[str, str]:
        d = Options()
        return {k: v for k, v in self.as_dict().items() if getattr(d, k) != v}

    def label(self) -> str:
        nd = self.non_default()
        return "default" if not nd else ", ".join(f"{k}={v}" for k, v in nd.items())


def make_params(**kw: Any) -> Params:
    """``Params`` with named overrides; unknown names raise :class:`InputError` listing valid ones."""
    bad = [k for k in kw if k not in PARAM_NAMES]
    if bad:
        raise InputError(f"unknown parameter(s) {', '.join(bad)}; valid parameters: {', '.join(PARAM_NAMES)}")
    return Params(**{k: float(v) for k, v in kw.items()})


def make_options(**kw: str) -> Options:
    """``Options`` with named overrides; unknown names raise :class:`InputError` listing valid ones."""
    bad = [k for k in kw if k not in OPTION_CHOICES]
    if bad:
        raise InputError(f"unknown option(s) {', '.join(bad)}; valid options: {', '.join(OPTION_CHOICES)}")
    return Options(**kw)


_SHARES = (
    "theta",
    "epsilon",
    "beta_a",
    "beta_n",
    "omega_a",
    "omega_0",
    "sigma_c",
    "sigma_z",
    "m",
    "mu",
    "phi_r",
    "alpha",
)
_OPEN_SHARES = ("theta", "beta_a", "beta_n", "alpha")  # must be strictly inside (0, 1)
_LANDS = ("Omega_a", "Omega_r", "Omega_n", "Omega_u", "Omega_0")


def check_params(p: Params, o: Options | None = None) -> None:
    """Raise :class:`InputError` naming the field for shares outside [0, 1], negative land, etc.

    Skipped for traced parameters (inside jit/vmap/grad)."""
    o = o or Options()
    vals = {}
    for name in PARAM_NAMES:
        v = getattr(p, name)
        if isinstance(v, jax.core.Tracer):
            return
        arr = np.asarray(v, dtype=float)
        if arr.ndim:
            if arr.size == 0:
                raise InputError(f"parameter {name}: empty array")
            vals[name] = arr
        else:
            vals[name] = arr
        if not np.all(np.isfinite(arr)):
            raise InputError(f"parameter {name}: must be finite, got {v}")
    for name in _SHARES:
        a = vals[name]
        if np.any(a < 0) or np.any(a > 1):
            raise InputError(f"parameter {name}: a share must lie in [0, 1], got {v_str(a)}")
    for name in _OPEN_SHARES:
        a = vals[name]
        if np.any(a <= 0) or np.any(a >= 1):
            raise InputError(f"parameter {name}: must lie strictly inside (0, 1), got {v_str(a)}")
    if np.any(vals["epsilon"] >= 1):
        raise InputError(f"parameter epsilon: must be below 1, got {v_str(vals['epsilon'])}")
    for name in _LANDS:
        if np.any(vals[name] < 0):
            raise InputError(f"parameter {name}: land cannot be negative, got {v_str(vals[name])}")
    for name in ("Omega_a", "Omega_r"):
        if np.any(vals[name] <= 0):
            raise InputError(f"parameter {name}: must be positive (rural stayers need it), got {v_str(vals[name])}")
    for name in ("N_r", "N_u", "h_low", "A_bar", "A_a"):
        if np.any(vals[name] <= 0):
            raise InputError(f"parameter {name}: must be positive, got {v_str(vals[name])}")
    if np.any(vals["k"] <= 1):
        raise InputError(f"parameter k: the Pareto shape must exceed 1 (finite mean), got {v_str(vals['k'])}")
    if np.any(vals["tau_n"] >= 1):
        raise InputError(f"parameter tau_n: the rent subsidy must be below 1, got {v_str(vals['tau_n'])}")
    if np.any(vals["phi"] < 0):
        raise InputError(f"parameter phi: the human-capital loss cannot be negative, got {v_str(vals['phi'])}")
    if o.loss == "div" and np.any(vals["phi"] <= 0):
        raise InputError("parameter phi: must be positive with option loss=div (capital h / phi)")
    if o.Omega == "one":
        tot = sum(vals[n] for n in ("Omega_a", "Omega_r", "Omega_0"))
        if np.any(tot >= 1):
            raise InputError("parameters Omega_a + Omega_r + Omega_0 must be below 1 with option Omega=one")


def v_str(a: np.ndarray) -> str:
    a = np.asarray(a)
    return f"{float(a):g}" if a.ndim == 0 else f"{a.min():g}..{a.max():g}"


# ----------------------------------------------------------------------------------------------
# building blocks
# ----------------------------------------------------------------------------------------------


def _goods_share(p: Params, o: Options):
    """Goods expenditure share of urban consumers (option A10)."""
    return p.theta if o.theta == "goods" else 1.0 - p.theta


def population(hbar, p: Params, o: Options) -> dict:
    """Closed-form Pareto integrals of spec section 1 (migrant share, capital of stayers/migrants).

    ``hbar`` is the true threshold on ``h``."""
    k, hl = p.k, p.h_low
    s = (hl / hbar) ** k  # share of rural residents who migrate, int_hbar^inf f
    Ebar = k * hl / (k - 1.0)
    Hplus = k * hbar * s / (k - 1.0)
    H_r = Ebar - Hplus  # int_hl^hbar h f
    if o.loss == "div":
        H_m, hm_bar = Hplus / p.phi, hbar / p.phi
    else:  # sub, shift: capital h - phi (eq. 10)
        H_m, hm_bar = Hplus - p.phi * s, hbar - p.phi
    return dict(s=s, Ebar=Ebar, Hplus=Hplus, H_r=H_r, H_m=H_m, hm_bar=hm_bar)


def land(s, p: Params, o: Options) -> dict:
    """Land accounting, eqs. (17)-(18), (20)-(21) (spec section 2)."""
    if o.stocks == "data":
        S = S_DATA
        Om = p.Omega_a + p.Omega_r + p.Omega_0 + S if o.Omega == "sum" else 1.0
        S = Om - p.Omega_a - p.Omega_r - p.Omega_0
    else:
        Om = (p.Omega_a + p.Omega_r + p.Omega_n + p.Omega_u + p.Omega_0) if o.Omega == "sum" else 1.0
        S = Om - p.Omega_a - p.Omega_r - p.Omega_0  # urban stock, Omega - Omega_a - Omega_r - Omega_0
    l_a, l_r, l_0 = p.Omega_a / p.N_r, p.Omega_r / p.N_r, p.Omega_0 / p.N_r
    c = p.omega_a * l_a + p.omega_0 * l_0  # land converted per migrant
    phi_c = 1.0 - p.phi_r
    Delta = c * phi_c * p.N_r * s  # new urban land
    Oa = p.Omega_a * (1.0 - p.omega_a * s)  # Omega'_a
    stay = p.N_r * (1.0 - s)
    la_p = Oa / stay  # eq. (20)
    Or = p.Omega_r + c * p.phi_r * p.N_r * s
    lr_p = Or / stay  # eq. (21)
    On = p.sigma_c * S + p.sigma_z * Delta  # supply side of (17)
    Ou = (1.0 - p.sigma_c) * S + (1.0 - p.sigma_z) * Delta  # supply side of (18)
    O0 = p.Omega_0 - p.omega_0 * l_0 * p.N_r * s
    return dict(
        Omega=Om,
        S=S,
        l_a=l_a,
        l_r=l_r,
        l_0=l_0,
        c=c,
        phi_c=phi_c,
        Delta=Delta,
        Oa=Oa,
        la_p=la_p,
        Or=Or,
        lr_p=lr_p,
        On=On,
        Ou=Ou,
        O0=O0,
    )


def _productivity(pop: dict, p: Params, o: Options):
    """Urban productivity A_n = A_bar (E_u h)^psi L_u^gamma, eq. (4) (option A6)."""
    H_u = p.N_u * pop["Ebar"] + p.N_r * pop["H_m"]
    L_u = p.N_u + p.N_r * pop["s"]
    H_avg = H_u if o.Eu == "post" else p.N_u * pop["Ebar"] + p.N_r * pop["Hplus"]
    A_n = p.A_bar * (H_avg / L_u) ** p.psi * L_u**p.gamma
    return H_u, L_u, A_n


def state(x, p: Params, o: Options) -> dict:
    """Every equilibrium object given the six unknowns ``x = (hbar, p_n, R_a, R_n, R_u, g_u)``.

    Individual problems eqs. (1)-(12) in closed form (spec section 3) and aggregates (section 4)."""
    hbar, p_n, R_a, R_n, R_u, g_u = (x[i] for i in range(6))
    th = _goods_share(p, o)
    pop = population(hbar, p, o)
    L = land(pop["s"], p, o)
    s = pop["s"]
    # rural producer, eqs. (1)-(2)
    kap_a = ((1.0 - p.beta_a) * P_A * p.A_a / R_a) ** (1.0 / p.beta_a)
    w_a = p.beta_a * P_A * p.A_a * kap_a ** (1.0 - p.beta_a)
    # urban producer, eqs. (3)-(5)
    H_u, L_u, A_n = _productivity(pop, p, o)
    geps = g_u**p.epsilon
    kap_n = ((1.0 - p.beta_n) * p_n * A_n * geps / ((1.0 - p.tau_n) * R_n)) ** (1.0 / p.beta_n)
    w_n = p.beta_n * p_n * A_n * kap_n ** (1.0 - p.beta_n) * geps
    Rz = p.sigma_z * R_n + (1.0 - p.sigma_z) * R_u
    Rc = p.sigma_c * R_n + (1.0 - p.sigma_c) * R_u
    C = L["c"] * L["phi_c"] * p.m * Rz  # compensation, third term of eq. (12)
    Y_a = p.N_r * p.A_a * kap_a ** (1.0 - p.beta_a) * pop["H_r"]
    Y_n = A_n * kap_n ** (1.0 - p.beta_n) * geps * H_u
    leak = (1.0 - p.mu) * L["S"] * Rc  # land-operation cost (spec section 5)
    rebate = leak if o.closure == "rebate_u" else 0.0
    rent_b = R_a * L["la_p"] if o.rural_inc == "full" else 0.0
    I_r = p.N_r * (w_a * pop["H_r"] + rent_b * (1.0 - s))
    I_u = p.N_u * w_n * pop["Ebar"] + p.N_r * (w_n * pop["H_m"] + C * s) + rebate
    spend = I_r + th * I_u
    D_a = p.alpha * spend / P_A
    D_n = (1.0 - p.alpha) * spend / p_n
    gov = p.mu * L["S"] * Rc + (1.0 - p.m) * L["Delta"] * Rz - p.tau_n * R_n * kap_n * H_u  # eq. (13) RHS
    # utilities, eqs. (6)-(10)
    Psi_r = ((p.alpha / P_A) ** p.alpha * ((1.0 - p.alpha) / p_n) ** (1.0 - p.alpha)) ** th
    Psi_u = ((p.alpha * th / P_A) ** p.alpha * ((1.0 - p.alpha) * th / p_n) ** (1.0 - p.alpha)) ** th * (
        (1.0 - th) / R_u
    ) ** (1.0 - th)
    lr_u = L["lr_p"] if o.lr == "post" else L["l_r"]
    pi_m_bar = w_n * pop["hm_bar"] + C
    pi_r_bar = w_a * hbar + rent_b
    unpaid = (0.0 if o.closure == "rebate_u" else leak) + (0.0 if o.rural_inc == "full" else R_a * L["Oa"])
    return dict(
        pop=pop,
        land=L,
        th=th,
        kap_a=kap_a,
        w_a=w_a,
        H_u=H_u,
        L_u=L_u,
        A_n=A_n,
        kap_n=kap_n,
        w_n=w_n,
        C=C,
        Rz=Rz,
        Rc=Rc,
        Y_a=Y_a,
        Y_n=Y_n,
        leak=leak,
        rebate=rebate,
        rent_b=rent_b,
        I_r=I_r,
        I_u=I_u,
        D_a=D_a,
        D_n=D_n,
        gov=gov,
        Psi_r=Psi_r,
        Psi_u=Psi_u,
        lr_u=lr_u,
        pi_m_bar=pi_m_bar,
        pi_r_bar=pi_r_bar,
        unpaid=unpaid,
        x=x,
    )


def residual_levels(x, p: Params, o: Options = Options()):
    """The six equilibrium conditions E1-E6 (spec section 5) at unknowns ``x`` (levels).

    E1 eq. (14) as U_m/U_r - 1; E2 eqs. (15),(17); E3 eqs. (16),(18); E4 eq. (19); E5 eq. (22)
    (closure ag/rebate_u) or eq. (23) (closure nonag); E6 eq. (13) as 1 - RHS/(p_n g_u)."""
    st = state(x, p, o)
    L, pop = st["land"], st["pop"]
    p_n, R_u, g_u = x[1], x[4], x[5]
    U_m = st["Psi_u"] * st["pi_m_bar"]
    U_r = st["Psi_r"] * st["pi_r_bar"] ** st["th"] * st["lr_u"] ** (1.0 - st["th"])
    r1 = U_m / U_r - 1.0
    r2 = jnp.log(st["kap_n"] * st["H_u"] / L["On"])
    r3 = jnp.log((1.0 - st["th"]) * st["I_u"] / (R_u * L["Ou"]))
    r4 = jnp.log(p.N_r * st["kap_a"] * pop["H_r"] / L["Oa"])
    if o.closure == "nonag":
        r5 = jnp.log((st["D_n"] + g_u) / st["Y_n"])
    else:
        r5 = jnp.log(st["D_a"] / st["Y_a"])
    r6 = 1.0 - st["gov"] / (p_n * g_u)
    return jnp.stack([r1, r2, r3, r4, r5, r6])


def to_levels(z, p: Params):
    """Log coordinates ``z = (log(hbar - h_low), log p_n, log R_a, log R_n, log R_u, log g_u)`` -> levels."""
    return jnp.concatenate([jnp.atleast_1d(p.h_low + jnp.exp(z[0])), jnp.exp(z[1:])])


def to_logs(x, p: Params):
    return jnp.concatenate([jnp.atleast_1d(jnp.log(x[0] - p.h_low)), jnp.log(x[1:])])


def residual(z, p: Params, o: Options = Options()):
    """E1-E6 in the log coordinates used by the solver (positivity of every unknown)."""
    return residual_levels(to_levels(z, p), p, o)


@functools.cache
def residual_fn(o: Options):
    """``fn(z, params)`` for the engine, one cached function object per option set."""

    def fn(z, p):
        return residual(z, p, o)

    return fn


# ----------------------------------------------------------------------------------------------
# the reduced form: one equation in hbar (spec section 6); initial guess and second route
# ----------------------------------------------------------------------------------------------


def reduced(hbar, p: Params, o: Options = Options()):
    """Spec section 6: given ``hbar``, E2-E6 pin every price in closed form; returns
    ``(F, x)`` with ``F = U_m(hbar)/U_r(hbar) - 1`` (E1, eq. 14) and ``x`` the six unknowns."""
    th = _goods_share(p, o)
    pop = population(hbar, p, o)
    s = pop["s"]
    L = land(s, p, o)
    # step 1: farmland clears (19)
    kap_a = L["Oa"] / (p.N_r * pop["H_r"])
    R_a = (1.0 - p.beta_a) * P_A * p.A_a * kap_a ** (-p.beta_a)
    Y_a = p.N_r * p.A_a * kap_a ** (1.0 - p.beta_a) * pop["H_r"]
    w_a = p.beta_a * P_A * p.A_a * kap_a ** (1.0 - p.beta_a)
    # steps 2-5 in units of X = p_n Y_n
    rb = 1.0 if o.closure == "rebate_u" else 0.0
    lk = (1.0 - p.mu) * L["S"]
    rn = (1.0 - p.beta_n) / ((1.0 - p.tau_n) * L["On"])
    ru = (
        (1.0 - th)
        * (p.beta_n + (p.m * L["Delta"] * p.sigma_z + rb * lk * p.sigma_c) * rn)
        / (L["Ou"] - (1.0 - th) * (p.m * L["Delta"] * (1.0 - p.sigma_z) + rb * lk * (1.0 - p.sigma_c)))
    )
    rz = p.sigma_z * rn + (1.0 - p.sigma_z) * ru
    rc = p.sigma_c * rn + (1.0 - p.sigma_c) * ru
    iota = p.beta_n + p.m * L["Delta"] * rz + rb * lk * rc
    gam = p.mu * L["S"] * rc + (1.0 - p.m) * L["Delta"] * rz - p.tau_n * rn * L["On"]
    rho = 1.0 if o.rural_inc == "full" else p.beta_a
    if o.closure == "nonag":
        X = (1.0 - p.alpha) * rho * P_A * Y_a / (1.0 - gam - (1.0 - p.alpha) * th * iota)
    else:
        X = (1.0 - p.alpha * rho) * P_A * Y_a / (p.alpha * th * iota)
    # step 6: non-agricultural output with g_u = gam Y_n
    H_u, L_u, A_n = _productivity(pop, p, o)
    Y_n = (A_n * gam**p.epsilon * H_u**p.beta_n * L["On"] ** (1.0 - p.beta_n)) ** (1.0 / (1.0 - p.epsilon))
    p_n = X / Y_n
    R_n, R_u = rn * X, ru * X
    g_u = gam * Y_n
    C = L["c"] * L["phi_c"] * p.m * (rz * X)
    w_n = p.beta_n * X / H_u
    pi_m = w_n * pop["hm_bar"] + C
    pi_r = w_a * hbar + (R_a * L["la_p"] if o.rural_inc == "full" else 0.0)
    lr_u = L["lr_p"] if o.lr == "post" else L["l_r"]
    ratio = th**th * ((1.0 - th) / R_u) ** (1.0 - th) * pi_m / (pi_r**th * lr_u ** (1.0 - th))
    x = jnp.stack([jnp.asarray(hbar, dtype=float) * jnp.ones_like(p_n), p_n, R_a * jnp.ones_like(p_n), R_n, R_u, g_u])
    return ratio - 1.0, x


def _scan_grid(p: Params):
    t = jnp.linspace(_SCAN_T[0], _SCAN_T[1], _SCAN_N)
    return t, p.h_low + jnp.exp(t)


def _bracket_root(p: Params, o: Options):
    """Root ``t = log(hbar - h_low)`` of the reduced equation by a grid scan and 64 bisection steps.

    The root taken is the lowest-hbar sign change of F on the grid (for Table-1 parameters and
    every option there is exactly one, with F rising through zero); sorting is checked afterwards."""
    p = jax.lax.stop_gradient(p)
    t, hb = _scan_grid(p)
    F, X = jax.vmap(lambda h: reduced(h, p, o))(hb)
    ok = jnp.isfinite(F) & jnp.all(jnp.isfinite(X), axis=1) & jnp.all(X > 0, axis=1)
    sgn = jnp.sign(F)
    change = ok[:-1] & ok[1:] & (sgn[:-1] != sgn[1:]) & (sgn[:-1] != 0)
    idx = jnp.argmax(change)
    found = jnp.any(change)
    lo, hi = t[idx], t[idx + 1]
    flo = F[idx]

    def body(_, c):
        lo, hi, flo = c
        mid = 0.5 * (lo + hi)
        fm = reduced(p.h_low + jnp.exp(mid), p, o)[0]
        same = jnp.sign(fm) == jnp.sign(flo)
        return jnp.where(same, mid, lo), jnp.where(same, hi, mid), jnp.where(same, fm, flo)

    lo, hi, _ = jax.lax.fori_loop(0, 64, body, (lo, hi, flo))
    return 0.5 * (lo + hi), found


def initial_guess(p: Params, o: Options = Options()):
    """Initial guess for the six-equation solve from the reduced form (spec section 6); pure JAX
    (vmappable). Returns ``(z0, found)`` in log coordinates."""
    p = jax.lax.stop_gradient(p)
    tm, found = _bracket_root(p, o)
    _, x = reduced(p.h_low + jnp.exp(tm), p, o)
    z0 = to_logs(x, p)
    z0 = jnp.where(jnp.isfinite(z0), z0, 0.0)
    return z0, found & jnp.all(jnp.isfinite(x)) & jnp.all(x > 0)


@functools.cache
def reduced_fn(o: Options):
    """``fn(t, params)``: the reduced equation E1 in ``t = log(hbar - h_low)`` (for the engine)."""

    def fn(t, p):
        return reduced(p.h_low + jnp.exp(t), p, o)[0]

    return fn


def solve_reduced_jax(p: Params, o: Options = Options()):
    """The equilibrium through the one-equation reduction (spec section 6), solved with
    :func:`landjax.engine.solve` (scalar Newton, implicit differentiation) from the bracketed root.

    Same equilibrium as :func:`solve_jax` (tests check 1e-10), with a much smaller program: used
    inside calibration and policy optimisation, where compile time dominates. Returns
    ``(x, out)`` like :func:`solve_jax`."""
    from landjax.engine import solve

    t0, found = _bracket_root(p, o)
    sol = solve(reduced_fn(o), t0, p, backend="native", throw=False, tol=1e-14, ftol=1e-11, max_steps=30)
    hbar = p.h_low + jnp.exp(sol.value)
    _, x = reduced(hbar, p, o)
    out = outcomes(x, p, o)
    out["converged"] = sol.converged & found & jnp.all(jnp.isfinite(x)) & jnp.all(x > 0)
    out["residual_norm"] = sol.residual_norm
    out["steps"] = sol.steps
    return x, out


# ----------------------------------------------------------------------------------------------
# outcomes: moments, welfare, output, accounting checks
# ----------------------------------------------------------------------------------------------


def rural_welfare_integral(a, b, th, hbar, p: Params):
    """int_{h_low}^{hbar} (a h + b)^theta f(h) dh by 64-point Gauss-Legendre in t = log(h / h_low)
    (spec section 1; the closed form uses 2F1, see :func:`rural_welfare_integral_2f1`)."""
    T = jnp.log(hbar / p.h_low)
    t = T * jnp.asarray(_GL_X)
    h = p.h_low * jnp.exp(t)
    g = (a * h + b) ** th * p.k * jnp.exp(-p.k * t)
    return T * jnp.sum(jnp.asarray(_GL_W) * g)


def rural_welfare_integral_2f1(a, b, th, hbar, p: Params) -> float:
    """The same integral through the hypergeometric closed form of spec section 1 (numpy/scipy)."""
    from scipy.special import hyp2f1

    k, hl = float(p.k), float(p.h_low)

    def G(x):
        return a**th * x ** (th - k) / (k - th) * hyp2f1(-th, k - th, k - th + 1.0, -b / (a * x))

    return k * hl**k * (G(hl) - G(hbar))


def sorting_ratios(x, p: Params, o: Options = Options(), n: int = 64):
    """U_m(h)/U_r(h) - 1 at equilibrium prices on a grid below and above ``hbar``.

    Below: ``n`` points geometrically spaced on [h_low, hbar (1 - 1e-6)]; above: ``n`` points on
    [hbar (1 + 1e-6), 1000 hbar]. Sorting holds iff every value below is < 0 and every value
    above is > 0 (U_m is linear in h and U_r concave, so the difference is convex and this grid
    check is also exact: a convex function negative at h_low and crossing zero at hbar stays positive)."""
    st = state(x, p, o)
    hbar = x[0]
    u = jnp.linspace(0.0, 1.0, n)
    below = p.h_low * (hbar * (1 - 1e-6) / p.h_low) ** u
    above = hbar * (1 + 1e-6) * 1000.0**u
    hs = jnp.concatenate([below, above])
    if o.loss == "div":
        hm = hs / p.phi
    else:
        hm = hs - p.phi
    U_m = st["Psi_u"] * (st["w_n"] * hm + st["C"])
    U_r = st["Psi_r"] * (st["w_a"] * hs + st["rent_b"]) ** st["th"] * st["lr_u"] ** (1.0 - st["th"])
    return hs, U_m / U_r - 1.0, n


def outcomes(x, p: Params, o: Options = Options()) -> dict:
    """Moments (Table 2), welfare (Figs. 7-10), outputs (Figs. 11-12) and accounting checks at ``x``."""
    st = state(x, p, o)
    pop, L = st["pop"], st["land"]
    hbar, p_n, R_a, R_n, R_u, g_u = (x[i] for i in range(6))
    th = st["th"]
    if o.yratio == "value":
        Y_ratio = p_n * st["Y_n"] / (P_A * st["Y_a"])
    else:
        Y_ratio = st["Y_n"] / st["Y_a"]
    R_ratio = R_u / ((1.0 - p.tau_n) * R_n) if o.rratio == "net" else R_u / R_n
    if o.loss == "shift":
        share = (p.h_low / (hbar - p.phi)) ** p.k  # the share the code would report (spec A5)
    else:
        share = pop["s"]
    # welfare, section V.(2)
    TU_u = st["Psi_u"] * (p.N_u * st["w_n"] * pop["Ebar"] + st["rebate"])
    TU_m = p.N_r * st["Psi_u"] * (st["w_n"] * pop["H_m"] + st["C"] * pop["s"])
    integral = rural_welfare_integral(st["w_a"], st["rent_b"], th, hbar, p)
    TU_r = p.N_r * st["Psi_r"] * st["lr_u"] ** (1.0 - th) * integral
    TU = TU_r + TU_m + TU_u
    excess_a = P_A * (st["D_a"] - st["Y_a"])
    excess_n = p_n * (st["D_n"] + g_u - st["Y_n"])
    land_total = L["Oa"] + L["Or"] + L["On"] + L["Ou"] + L["O0"]
    _, ratios, n = sorting_ratios(x, p, o)
    sorting_ok = jnp.all(ratios[:n] < 0) & jnp.all(ratios[n:] > 0)
    return dict(
        Y_ratio=Y_ratio,
        R_ratio=R_ratio,
        migrant_share=share,
        TU=TU,
        TU_r=TU_r,
        TU_m=TU_m,
        TU_u=TU_u,
        Y_a=st["Y_a"],
        Y_n=st["Y_n"],
        walras_gap=excess_a + excess_n + st["unpaid"],  # identity of spec section 5 (0 up to rounding)
        excess_ag=excess_a,
        excess_nonag=excess_n,
        leak_unpaid=st["unpaid"],
        land_total=land_total,
        land_Omega=L["Omega"],
        s=pop["s"],
        gamma_g=st["gov"] / (p_n * g_u) if False else g_u * p_n / (p_n * st["Y_n"]),
        sorting_ok=sorting_ok,
    )


def solve_jax(p: Params, o: Options = Options(), *, method: str = "newton"):
    """Pure-JAX equilibrium: reduced-form initial guess then a 6-D Newton solve (implicit
    differentiation w.r.t. every leaf of ``p``). Returns ``(x, out, sol, found)``; jittable,
    vmappable and differentiable. ``out['converged']`` combines the solver flag and the existence
    of a root of the reduced equation; the sorting check is reported separately in
    ``out['sorting_ok']`` (it fails for some non-default readings, e.g. ``loss=div``)."""
    from landjax.engine import solve

    z0, found = initial_guess(p, o)
    sol = solve(residual_fn(o), z0, p, method=method, backend="native", throw=False, tol=1e-12, ftol=1e-9, max_steps=50)
    x = to_levels(sol.value, p)
    out = outcomes(x, p, o)
    out["converged"] = sol.converged & found & jnp.all(jnp.isfinite(x))
    out["solver_converged"] = sol.converged
    out["found"] = found
    out["residual_norm"] = sol.residual_norm
    out["steps"] = sol.steps
    return x, out, sol, found


_solve_jit = jax.jit(solve_jax, static_argnums=(1,), static_argnames=("method",))


@dataclasses.dataclass(frozen=True)
class Equilibrium:
    """One solved equilibrium (plain floats)."""

    converged: bool
    unknowns: dict
    moments: dict
    welfare: dict
    output: dict
    options: dict
    sorting_ok: bool
    walras_gap: float
    residual_norm: float
    steps: int
    extra: dict

    def to_json(self) -> dict:
        return {
            "converged": self.converged,
            "unknowns": self.unknowns,
            "moments": self.moments,
            "welfare": self.welfare,
            "output": self.output,
            "options": self.options,
            "sorting_ok": self.sorting_ok,
            "walras_gap": self.walras_gap,
            "residual_norm": self.residual_norm,
            "steps": self.steps,
            **self.extra,
        }


def diagnose_no_equilibrium(p: Params, o: Options) -> str:
    """Why the reduced equation in hbar has no root (for the error message)."""
    t, hb = _scan_grid(p)
    F, x = jax.vmap(lambda h: reduced(h, p, o))(hb)
    F, x = np.asarray(F), np.asarray(x)
    fin = np.isfinite(F) & np.all(np.isfinite(x), axis=1) & np.all(x > 0, axis=1)
    rng = f"hbar in [{float(hb[0]):.6g}, {float(hb[-1]):.4g}]"
    if not fin.any():
        return (
            f"no equilibrium with g_u > 0: the government budget (13) is negative for every {rng} "
            f"(the production-land subsidy tau_n={float(p.tau_n):g} costs more than the land revenue it can use)"
        )
    if np.all(F[fin] > 0):
        return f"no interior equilibrium: every rural resident prefers to migrate (U_m > U_r) for every {rng}"
    if np.all(F[fin] < 0):
        return f"no interior equilibrium: no rural resident wants to migrate (U_m < U_r) for every {rng}"
    return f"no interior equilibrium: the migration condition (14) has no admissible root for {rng}"


def solve_equilibrium(p: Params | None = None, o: Options | None = None, *, throw: bool = True) -> Equilibrium:
    """Solve one equilibrium and return plain numbers with every check.

    Raises :class:`InputError` for invalid parameters or parameters without an equilibrium, and
    (``throw=True``) :class:`ConvergenceError` when Newton does not converge. The sorting check
    is reported in ``sorting_ok`` (a failed check is a property of the equilibrium, not of the
    solver). Never returns NaN as a result."""
    p = p or Params()
    o = o or Options()
    check_params(p, o)
    x, out, sol, found = _solve_jit(p, o)
    if not bool(found):
        raise InputError(diagnose_no_equilibrium(p, o) + f"; parameters: {_param_str(p)}")
    xs = np.asarray(x)
    vals = {k: float(np.asarray(v)) for k, v in out.items()}
    finite = bool(np.all(np.isfinite(xs))) and all(math.isfinite(vals[k]) for k in (*MOMENTS, *WELFARE, *OUTPUT))
    conv = bool(out["converged"]) and finite
    if not conv and throw:
        why = []
        if not bool(out["solver_converged"]):
            why.append(
                f"Newton did not converge (residual norm {vals['residual_norm']:.3e} after {int(out['steps'])} steps)"
            )
        if not finite:
            why.append("non-finite outcome")
        raise ConvergenceError("urban_rural: " + "; ".join(why) + f"; options: {o.label()}")
    if not finite:
        raise InputError("urban_rural: the equilibrium has non-finite outcomes for these parameters: " + _param_str(p))
    return Equilibrium(
        converged=conv,
        unknowns={k: float(v) for k, v in zip(UNKNOWNS, xs, strict=False)},
        moments={k: vals[k] for k in MOMENTS},
        welfare={k: vals[k] for k in WELFARE},
        output={k: vals[k] for k in OUTPUT},
        options=o.as_dict(),
        sorting_ok=bool(out["sorting_ok"]),
        walras_gap=vals["walras_gap"],
        residual_norm=vals["residual_norm"],
        steps=int(out["steps"]),
        extra={
            "excess_ag": vals["excess_ag"],
            "excess_nonag": vals["excess_nonag"],
            "leak_unpaid": vals["leak_unpaid"],
            "land_total": vals["land_total"],
            "land_Omega": vals["land_Omega"],
        },
    )


def _param_str(p: Params) -> str:
    d = Params()
    diff = {
        n: getattr(p, n) for n in PARAM_NAMES if np.ndim(getattr(p, n)) == 0 and float(getattr(p, n)) != getattr(d, n)
    }
    return "Table 1 defaults" if not diff else ", ".join(f"{k}={float(v):g}" for k, v in diff.items())


# ----------------------------------------------------------------------------------------------
# command line: landjax solve urban_rural [--set NAME=VALUE]... [--option NAME=VALUE]... --json
# ----------------------------------------------------------------------------------------------


def cli_solve(argv: list[str]) -> int:
    """``landjax solve urban_rural``: solve one equilibrium and print JSON (exit 2 on bad names)."""
    ap = argparse.ArgumentParser(
        prog="landjax solve urban_rural",
        description="Cheng & Liu (2021) urban-rural spatial equilibrium. Parameters: "
        + ", ".join(PARAM_NAMES)
        + ". Options: "
        + "; ".join(f"{k} in {{{','.join(v[0])}}}" for k, v in OPTION_CHOICES.items()),
    )
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a Table-1 parameter")
    ap.add_argument(
        "--option", action="append", default=[], metavar="NAME=VALUE", help="pick a reading (spec section 9)"
    )
    ap.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        sets = parse_pairs(args.set, "set")
        vals = {}
        for k, v in sets.items():
            if k not in PARAM_NAMES:
                raise InputError(f"unknown parameter {k!r}; valid parameters: {', '.join(PARAM_NAMES)}")
            try:
                vals[k] = float(v)
            except ValueError:
                raise InputError(f"parameter {k}: {v!r} is not a number") from None
        p = make_params(**vals)
        o = make_options(**parse_pairs(args.option, "option"))
    except InputError as exc:
        print(f"landjax solve urban_rural: {exc}", file=sys.stderr)
        return 2
    try:
        eq = solve_equilibrium(p, o, throw=False)
    except InputError as exc:
        print(f"landjax solve urban_rural: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(eq.to_json(), indent=2))
    return 0 if eq.converged else 1


# ----------------------------------------------------------------------------------------------
# calibration of (alpha, phi, tau_n) to Table 2
# ----------------------------------------------------------------------------------------------

CALIB_NAMES = ("alpha", "phi", "tau_n")
CALIB_LOWER = np.array([1e-3, 0.0, -10.0])
CALIB_UPPER = np.array([0.999, 20.0, 0.999])


def targets(o: Options = Options()) -> np.ndarray:
    """Table 2 targets (Y_ratio, R_ratio, migrant share) under options A14/A16."""
    return np.array([Y_TARGET[o.y_target], R_TARGET, SHARE_TARGET[o.share_target]])


def with_values(p: Params, **kw) -> Params:
    """``p`` with some leaves replaced (works with traced values)."""
    return dataclasses.replace(p, **kw)


@functools.cache
def moments_fn(o: Options):
    """``moments(theta, p)`` for :func:`landjax.engine.calibrate`: theta = (alpha, phi, tau_n)."""

    def moments(theta, p):
        q = with_values(p, alpha=theta[0], phi=theta[1], tau_n=theta[2])
        x, out = solve_reduced_jax(q, o)
        m = jnp.stack([out["Y_ratio"], out["R_ratio"], out["migrant_share"]])
        return jnp.where(out["converged"], m, jnp.nan)

    return jax.jit(moments)


def calibrate_table2(o: Options = Options(), p: Params | None = None, theta0=None, max_steps: int = 60):
    """Calibrate (alpha, phi, tau_n) to Table 2 with :func:`landjax.engine.calibrate`.

    Returns the engine's ``CalibrationResult``; ``.exact`` says whether all three targets are hit."""
    from landjax.engine import calibrate

    p = p or Params()
    check_params(p, o)
    theta0 = np.array([p.alpha, p.phi, p.tau_n]) if theta0 is None else np.asarray(theta0, float)
    return calibrate(
        moments_fn(o),
        theta0,
        targets(o),
        p,
        lower=CALIB_LOWER,
        upper=CALIB_UPPER,
        max_steps=max_steps,
        param_names=CALIB_NAMES,
        moment_names=MOMENTS,
    )


def _reduced_calib_residual(o: Options):
    """Table-2 gaps on the reduced form: v = (alpha, phi, tau_n, log(hbar - h_low)) ->
    (E1, Y gap, R gap, share gap), relative gaps (spec sections 6 and 8)."""

    def r(v, p, tg):
        q = with_values(p, alpha=v[0], phi=v[1], tau_n=v[2])
        hbar = q.h_low + jnp.exp(v[3])
        F, x = reduced(hbar, q, o)
        out = outcomes(x, q, o)
        mom = jnp.stack([out["Y_ratio"], out["R_ratio"], out["migrant_share"]])
        return jnp.concatenate([jnp.atleast_1d(F), (mom - tg) / tg])

    return r


def calibrate_reduced(o: Options = Options(), p: Params | None = None, starts: int = 12, seed: int = 0) -> dict:
    """A second calibration route: least squares on the reduced form (one equation in hbar, spec
    section 6) over (alpha, phi, tau_n, hbar) with ``scipy.optimize.least_squares`` from several
    starts. Fast (no equilibrium solve inside), used to screen which option sets calibrate exactly;
    every exact answer is then verified with the full six-equation solve.

    Returns ``dict(exact, params (alpha, phi, tau_n), moments, hbar, cost, verified_gap, sorting_ok,
    message)``."""
    from scipy.optimize import least_squares

    p = p or Params()
    tg = jnp.asarray(targets(o))
    r = _reduced_calib_residual(o)
    fj = jax.jit(r)
    jj = jax.jit(jax.jacfwd(r))
    lo = np.array([1e-3, 0.0, -10.0, -12.0])
    hi = np.array([0.999, 20.0, 0.999, 9.0])
    rng = np.random.default_rng(seed)
    s_t = float(tg[2])
    t_share = math.log(max(float(p.h_low) * s_t ** (-1.0 / float(p.k)) - float(p.h_low), 1e-6))
    cands = [np.array([float(p.alpha), float(p.phi), float(p.tau_n), t_share])]
    for _ in range(starts - 1):
        cands.append(
            np.array(
                [rng.uniform(0.05, 0.6), rng.uniform(0.0, 6.0), rng.uniform(-6.0, 0.95), t_share + rng.normal(0.0, 0.7)]
            )
        )
    best = None

    def fun(v):
        out = np.asarray(fj(jnp.asarray(v), p, tg))
        return np.where(np.isfinite(out), out, 1e3)

    def jac(v):
        J = np.asarray(jj(jnp.asarray(v), p, tg))
        return np.where(np.isfinite(J), J, 0.0)

    for v0 in cands:
        v0 = np.clip(v0, lo + 1e-9, hi - 1e-9)
        try:
            res = least_squares(fun, v0, jac=jac, bounds=(lo, hi), xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=400)
        except Exception:  # pragma: no cover - scipy failure on a bad start
            continue
        if best is None or res.cost < best.cost:
            best = res
        if best.cost < 1e-24:
            break
    if best is None:
        raise NoEquilibriumError("calibration: every least-squares start failed")
    v = best.x
    gaps = fun(v)
    theta = v[:3]
    info = dict(
        params=theta,
        hbar=float(p.h_low + np.exp(v[3])),
        cost=float(best.cost),
        E1=float(gaps[0]),
        rel_gaps=gaps[1:],
        moments=np.asarray(tg) * (1 + gaps[1:]),
    )
    exact = bool(np.max(np.abs(gaps)) < 1e-9)
    if not exact:  # nothing to verify: the reduced-form fit already misses a target
        info.update(verified=False, verified_gap=float("nan"), sorting_ok=False, exact=False)
        return info
    # verification with the full six-equation solve
    try:
        eq = solve_equilibrium(with_values(p, alpha=float(theta[0]), phi=float(theta[1]), tau_n=float(theta[2])), o)
        m = np.array([eq.moments[k] for k in MOMENTS])
        info.update(
            verified_moments=m,
            verified_gap=float(np.max(np.abs(m - np.asarray(tg)) / np.asarray(tg))),
            sorting_ok=eq.sorting_ok,
            verified=True,
            hbar_full=eq.unknowns["hbar"],
        )
        exact = exact and info["verified_gap"] < 1e-8 and eq.sorting_ok
    except (InputError, ConvergenceError) as exc:
        info.update(verified=False, verified_gap=float("nan"), sorting_ok=False, verify_error=str(exc))
        exact = False
    info["exact"] = exact
    return info


# ----------------------------------------------------------------------------------------------
# comparative statics (Figures 3-12) and optimal policy (Tables 3-4)
# ----------------------------------------------------------------------------------------------

#: policy -> range used in the paper's figures (section V.1)
POLICY_RANGES = {"m": (0.0, 1.0), "phi_r": (0.0, 1.0), "omega_a": (0.0, 0.1), "omega_0": (0.0, 0.1)}
SWEEP_COLUMNS = (*UNKNOWNS, *MOMENTS, *WELFARE, *OUTPUT)


def batch_params(p: Params, n: int, **columns) -> Params:
    """A ``Params`` whose every leaf has leading axis ``n`` (columns override named leaves)."""
    bad = [k for k in columns if k not in PARAM_NAMES]
    if bad:
        raise InputError(f"unknown parameter(s) {', '.join(bad)}; valid parameters: {', '.join(PARAM_NAMES)}")
    leaves: dict[str, Any] = {}
    for name in PARAM_NAMES:
        v = columns.get(name, getattr(p, name))
        leaves[name] = jnp.broadcast_to(jnp.asarray(v, dtype=jnp.float64), (n,))
    return Params(**leaves)


@functools.cache
def _batch_fns(o: Options):
    guess = jax.jit(jax.vmap(lambda q: initial_guess(q, o)))
    outs = jax.jit(jax.vmap(lambda z, q: outcomes(to_levels(z, q), q, o)))
    return guess, outs


def solve_many(pb: Params, o: Options = Options(), *, chunk_size: int = 256):
    """Solve a batch of equilibria (every leaf of ``pb`` has a leading batch axis) with
    :func:`landjax.engine.solve_batch`. Returns a dict of numpy arrays (unknowns, moments, welfare,
    output, converged, sorting_ok, walras_gap, residual_norm, steps); a failed member is flagged
    ``converged=False`` (its numbers are NaN and must not be reported as results)."""
    from landjax.engine import solve_batch

    check_params(pb, o)
    guess, outs = _batch_fns(o)
    z0, found = guess(pb)
    sols = solve_batch(
        residual_fn(o), z0, pb, chunk_size=chunk_size, backend="native", tol=1e-12, ftol=1e-9, max_steps=50
    )
    x = jax.vmap(to_levels)(sols.value, pb)
    out = outs(sols.value, pb)
    conv = np.asarray(sols.converged) & np.asarray(found) & np.all(np.isfinite(np.asarray(x)), axis=1)
    res = {k: np.asarray(x[:, i]) for i, k in enumerate(UNKNOWNS)}
    for k in (*MOMENTS, *WELFARE, *OUTPUT, "walras_gap", "land_total", "land_Omega", "excess_ag", "excess_nonag"):
        res[k] = np.asarray(out[k])
    res["sorting_ok"] = np.asarray(out["sorting_ok"])
    res["converged"] = conv
    res["residual_norm"] = np.asarray(sols.residual_norm)
    res["steps"] = np.asarray(sols.steps)
    for k in SWEEP_COLUMNS:
        res[k] = np.where(conv, res[k], np.nan)
    return res


def sweep(policy: str, values=None, p: Params | None = None, o: Options = Options(), n: int = 101):
    """Comparative statics over one policy (Figures 3-12) as a DataFrame (one row per value)."""
    import pandas as pd

    if policy not in PARAM_NAMES:
        raise InputError(f"unknown parameter {policy!r}; valid parameters: {', '.join(PARAM_NAMES)}")
    p = p or Params()
    if values is None:
        lo, hi = POLICY_RANGES.get(policy, (0.0, 1.0))
        values = np.linspace(lo, hi, n)
    values = np.asarray(values, dtype=float)
    res = solve_many(batch_params(p, len(values), **{policy: values}), o)
    df = pd.DataFrame({"policy": policy, "value": values, **res})
    return df


def classify_shape(y, rel_tol: float = 1e-9) -> str:
    """'up', 'down', 'inverted U', 'U', 'flat' or 'non-monotone' for a sequence on an ordered grid
    (differences smaller than ``rel_tol`` times the range count as flat)."""
    y = np.asarray(y, dtype=float)
    if len(y) < 3 or not np.all(np.isfinite(y)):
        return "undetermined"
    rng = np.max(y) - np.min(y)
    if rng <= rel_tol * max(1.0, np.max(np.abs(y))):
        return "flat"
    d = np.diff(y)
    tol = rel_tol * rng
    up, down = np.all(d >= -tol), np.all(d <= tol)
    if up:
        return "up"
    if down:
        return "down"
    i = int(np.argmax(y))
    if 0 < i < len(y) - 1 and np.all(d[:i] >= -tol) and np.all(d[i:] <= tol):
        return "inverted U"
    j = int(np.argmin(y))
    if 0 < j < len(y) - 1 and np.all(d[:j] <= tol) and np.all(d[j:] >= -tol):
        return "U"
    return "non-monotone"


@functools.cache
def policy_objective(names: tuple[str, ...], target: str, o: Options):
    """``objective(x, p)`` = outcome ``target`` (e.g. 'TU' or 'Y_n') at policy values ``x`` for the
    parameters ``names``; NaN where no equilibrium is found (counts as worst in the engine)."""

    def objective(x, p):
        q = with_values(p, **{n_: x[i] for i, n_ in enumerate(names)})
        _, out = solve_reduced_jax(q, o)
        return jnp.where(out["converged"], out[target], jnp.nan)

    return objective


def optimal_policy(
    names,
    target: str = "TU",
    p: Params | None = None,
    o: Options = Options(),
    *,
    lower=None,
    upper=None,
    n_screen: int = 64,
    n_starts: int = 2,
    max_iter: int = 60,
    x0=None,
    measure_grad_cost: bool = True,
):
    """Maximise ``target`` over the policies ``names`` with :func:`landjax.engine.optimize`
    (vmapped screen, then L-BFGS-B with implicit gradients). Bounds default to the paper's ranges."""
    from landjax.engine import optimize

    names = tuple(names)
    bad = [n_ for n_ in names if n_ not in PARAM_NAMES]
    if bad or target not in (*WELFARE, *OUTPUT, *MOMENTS):
        raise InputError(
            f"optimal_policy: unknown names {bad or target}; parameters: {', '.join(PARAM_NAMES)}; "
            f"targets: {', '.join((*WELFARE, *OUTPUT, *MOMENTS))}"
        )
    p = p or Params()
    lo = np.array([POLICY_RANGES.get(n_, (0.0, 1.0))[0] for n_ in names]) if lower is None else np.asarray(lower, float)
    hi = np.array([POLICY_RANGES.get(n_, (0.0, 1.0))[1] for n_ in names]) if upper is None else np.asarray(upper, float)
    return optimize(
        policy_objective(names, target, o),
        lo,
        hi,
        p,
        maximize=True,
        n_screen=n_screen,
        n_starts=n_starts,
        max_iter=max_iter,
        tol=1e-9,
        x0=np.array([float(getattr(p, n_)) for n_ in names]) if x0 is None else np.asarray(x0, float),
        progress_bar=False,
        measure_grad_cost=measure_grad_cost,
    )
