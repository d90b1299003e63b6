"""Two-city land finance and local-government debt (Zhao & Liu 2024): steady state and calibration.

The paper's own equations are not public (only an English summary is available, seed 000).
Every functional form here follows the project specification ``../shared/specs/land_debt.md``
("spec"), and each function cites the spec section it implements ("spec §4"), not a paper
equation number. Departures from the spec are listed in ``docs/zhao_liu2024.md``.

Cities ``j = 1`` (developed east) and ``j = 2`` (central-west). The numeraire is the national
composite good. Per-city arrays have shape ``(2,)``.

Modules:

* this one: :class:`Params`, the steady-state residual (spec §8), :func:`solve_steady_state`,
  :func:`calibrate` (spec §8 calibration loop), :func:`outcomes` (spec §10), :func:`cli_solve`.
* :mod:`landjax.models.land_debt_transition`: perfect-foresight transitions (spec §9).
* :mod:`landjax.models.land_debt_experiments`: the four experiments, the sigma sweep, the
  tax-difference extension, claims and random-draw robustness (spec §13).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax._pytree import static_field
from landjax.cli import parse_pairs
from landjax.contract import dumps, flatten_json, model_params, param, validate_params
from landjax.engine import solve
from landjax.errors import InputError, as_float64

MOBILITY = ("immobile", "mobile")
VARIANTS = ("baseline", "homothetic")
ATTRACTION = ("exogenous", "optimal")


def _txt(a: np.ndarray) -> str:
    a = np.asarray(a)
    return f"{float(a):g}" if a.ndim == 0 else str(a.tolist())


@model_params
class Params:
    """Parameters (annual); per-city arrays are ``(city 1, city 2)``. Every field is checked on
    construction and on ``replace`` (finite, right shape, in the allowed range given by
    :func:`Params.fields_info`); float32 inputs are converted to float64 with a
    :class:`~landjax.errors.DtypeWarning`.

    Static options (kept on ``Params`` for the old API; the contract's :class:`Options` carries
    the same choices):

    * ``mobility``: ``"immobile"`` (mu -> infinity, N = N_bar; default) or ``"mobile"`` (Frechet
      location choice with hukou cost ``mu``).
    * ``variant``: ``"baseline"`` (land-servicing infrastructure k_bar * L) or ``"homothetic"``
      (k_bar forced to 0: equal leverage in both cities).
    * ``attraction``: ``"exogenous"`` (subsidy ``s`` given; default) or ``"optimal"`` (each
      government chooses ``s_j`` by its first-order condition, evaluated with ``jax.grad``).
    """

    beta: Any = param(0.96, "(0, 1)", "saver discount factor (r = 1/beta - 1)", ref="eq. (7)")
    beta_g: Any = param(0.90, "(0, 1)", "local-government discount factor (below beta)", ref="eq. (13)")
    chi: Any = param(0.13 / 0.87, "(0, inf)", "housing weight in utility (housing share chi/(1+chi))", ref="eq. (3)")
    a_n: Any = param(0.48, "(0, 1)", "labour elasticity of output", ref="eq. (8)")
    a_l: Any = param(0.10, "(0, 1)", "industrial-land elasticity of output (a_n + a_l < 1)", ref="eq. (8)")
    gamma: Any = param(0.08, "(0, 1)", "public-capital elasticity of output (gamma < a_n + a_l)", ref="eq. (8)")
    psi_s: Any = param(0.5, "[0, inf)", "productivity weight of land-servicing infrastructure", ref="eq. (8)")
    delta_k: Any = param(0.10, "(0, 1]", "depreciation rate of private capital", ref="eq. (9)")
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
    mobility: str = static_field(default="immobile")
    variant: str = static_field(default="baseline")
    attraction: str = static_field(default="exogenous")

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
        for name, allowed in (("mobility", MOBILITY), ("variant", VARIANTS), ("attraction", ATTRACTION)):
            if getattr(self, name) not in allowed:
                raise InputError(f"Params.{name}={getattr(self, name)!r}; valid: {', '.join(allowed)}")
        for f in dataclasses.fields(self):  # arrays -> float64 JAX arrays (DtypeWarning for float32/float16)
            v = getattr(self, f.name)
            if "param" in f.metadata and not isinstance(v, (float, int, jax.core.Tracer)):
                if not (isinstance(v, jax.Array) and v.dtype == np.float64):  # lists, numpy, other dtypes
                    object.__setattr__(self, f.name, as_float64(v, f"Params.{f.name}"))


PER_CITY = ("tau", "N_bar", "L", "A", "omega", "s", "b")
SCALARS = tuple(f.name for f in dataclasses.fields(Params) if not f.metadata.get("static") and f.name not in PER_CITY)


def validate(p: Params) -> None:
    """Check every field of ``p`` (what construction already does; for parameters rebuilt by JAX
    tree operations, which skip ``__init__``). Raises :class:`InputError` naming the field and its
    allowed range; a no-op for traced parameters."""
    if not isinstance(p, Params):
        raise InputError(f"land_debt: expected land_debt.Params, got {type(p).__name__}")
    validate_params(p)


# ---------------------------------------------------------------------------------------------
# building blocks (shared with the transition module)
# ---------------------------------------------------------------------------------------------


def a_k(p: Params):
    """Capital elasticity a_k = 1 - a_n - a_l, spec §4."""
    return 1.0 - p.a_n - p.a_l


def k_bar_eff(p: Params):
    """Land-servicing infrastructure per unit of land; 0 in the ``homothetic`` variant, spec §0."""
    return p.k_bar * 0.0 if p.variant == "homothetic" else p.k_bar


def rates(p: Params):
    """r = 1/beta - 1 and r^k = r + delta_k (risk-neutral national saver), spec §3."""
    r = 1.0 / p.beta - 1.0
    return r, r + p.delta_k


def armington(lnY, p: Params):
    """Composite X and prices p_j = (omega_j X / Y_j)^(1/sigma), spec §1. Returns (lnX, ln p)."""
    sig = p.sigma
    z = jnp.log(p.omega) / sig + (sig - 1.0) / sig * lnY
    lnX = sig / (sig - 1.0) * jax.scipy.special.logsumexp(z, axis=-1, keepdims=True)
    lnp = (jnp.log(p.omega) + lnX - lnY) / sig
    return lnX[..., 0], lnp


def land_value_multiple(p: Params):
    """Perceived capitalisation v_j = V_j / (p_j Y_j), spec §6."""
    hs = p.chi / (1.0 + p.chi)
    return (1.0 - p.tau) * (p.a_l + hs * p.a_n) / (1.0 - p.beta * (1.0 - p.delta_L))


def fiscal_yield(p: Params, s):
    """Net fiscal yield of GDP phi_j = tau_j + delta_L v_j - s_j a_k (1 - tau_j)/(1 - s_j), spec §6."""
    return p.tau + p.delta_L * land_value_multiple(p) - s * a_k(p) * (1.0 - p.tau) / (1.0 - s)


def gamma_tilde(p: Params):
    """Output elasticity of infrastructure when private capital follows, gamma/(1 - a_k), spec §6."""
    return p.gamma / (1.0 - a_k(p))


def indirect_utility(w, R, p: Params):
    """Worker utility V_j = (1+chi) ln w_j - chi ln R_j + ln b_j (constants dropped), spec §2."""
    return (1.0 + p.chi) * jnp.log(w) - p.chi * jnp.log(R) + jnp.log(p.b)


def location_shares(V, p: Params):
    """Frechet location choice with hukou cost mu: returns (N*_1, N*_2) and the welfare
    W_o = (1/kappa) ln sum_d (e^{V_d}/mu_od)^kappa of each hukou group, spec §2."""
    lnmu = jnp.log(p.mu) * (1.0 - jnp.eye(2))  # [origin, destination]
    z = p.kappa * (V[None, :] - lnmu)
    lse = jax.scipy.special.logsumexp(z, axis=1, keepdims=True)
    m = jnp.exp(z - lse)
    Nstar = p.N_bar @ m
    return Nstar, lse[:, 0] / p.kappa


def welfare(V, p: Params):
    """Hukou-weighted welfare sum_o N_bar_o W_o, eq. (5).

    With ``mobility='mobile'``, ``W_o`` is the expected utility of hukou group ``o`` under Frechet
    location tastes with hukou cost ``mu``, eq. (5). With ``mobility='immobile'`` (mu -> infinity)
    every group lives in its own city, so ``W_o = V_o`` (the own-city utility, eq. (3)) and
    welfare does not depend on ``mu`` (neither does the steady state)."""
    if p.mobility == "mobile":
        _, W = location_shares(V, p)
    else:
        W = V
    return jnp.sum(p.N_bar * W, axis=-1)


# ---------------------------------------------------------------------------------------------
# steady state, spec §8
# ---------------------------------------------------------------------------------------------


def n_unknowns(p: Params) -> int:
    return 6 + (p.mobility == "mobile") + 2 * (p.attraction == "optimal")


def unpack(y, p: Params) -> dict:
    """Steady-state unknowns -> named levels: (ln Y_j, ln K^p_j, ln G^c_j) [, logit N_1] [, s_j]."""
    out = {"lnY": y[0:2], "lnKp": y[2:4], "lnGc": y[4:6]}
    i = 6
    if p.mobility == "mobile":
        N1 = jax.nn.sigmoid(y[i])
        i += 1
    else:
        N1 = p.N_bar[0] + 0.0 * y[0]
    out["N"] = jnp.stack([N1, 1.0 - N1])
    out["s"] = y[i : i + 2] if p.attraction == "optimal" else p.s + 0.0 * y[0:2]
    return out


def _attraction_objective(s, s0, pY0, p: Params, Gc, eta_over_lambda):
    """Government's intratemporal objective in the subsidy s (spec §6, extension B), holding K^p, N, L
    and p fixed: xi ln(pY) + Lambda[tau pY + delta_L v pY - s r^k K] + Lambda (eta/Lambda)/beta_g theta_L v pY,
    with Y(s) and K(s) from the firm's conditions (spec §4)."""
    _, rk = rates(p)
    ak = a_k(p)
    e = ak / (1.0 - ak)
    pY = pY0 * ((1.0 - s) / (1.0 - s0)) ** (-e)
    K = ak * (1.0 - p.tau) * pY / ((1.0 - s) * rk)
    v = land_value_multiple(p)
    Lam = (1.0 - p.xi) / Gc
    val = (
        p.xi * jnp.log(pY)
        + Lam * (p.tau * pY + p.delta_L * v * pY - s * rk * K)
        + Lam * eta_over_lambda / p.beta_g * p.theta_L * v * pY
    )
    return jnp.sum(val), Lam


def ss_blocks(y, p: Params) -> dict:
    """All steady-state quantities implied by the unknowns (spec §1-§8)."""
    u = unpack(y, p)
    lnY, lnKp, lnGc, N, s = u["lnY"], u["lnKp"], u["lnGc"], u["N"], u["s"]
    r, rk = rates(p)
    ak = a_k(p)
    kb = k_bar_eff(p)
    lnX, lnp = armington(lnY, p)
    Y, Kp, Gc, P = jnp.exp(lnY), jnp.exp(lnKp), jnp.exp(lnGc), jnp.exp(lnp)
    pY = P * Y
    K = ak * (1.0 - p.tau) * pY / ((1.0 - s) * rk)
    Ks = kb * p.L
    Ke = Kp + p.psi_s * Ks
    Lf, Lh = p.lam * p.L, (1.0 - p.lam) * p.L
    v = land_value_multiple(p)
    w = p.a_n * (1.0 - p.tau) * pY / N
    hs = p.chi / (1.0 + p.chi)
    R = hs * w * N / Lh
    rho_f = p.a_l * (1.0 - p.tau) * pY / Lf
    disc = 1.0 - p.beta * (1.0 - p.delta_L)
    qf, Ph = rho_f / disc, R / disc
    V = qf * Lf + Ph * Lh
    B = p.theta_L * V + p.theta_K * (Kp + Ks)
    LR = p.delta_L * V - s * rk * K
    Ip, Is = p.delta_g * Kp, p.delta_g * Ks
    return dict(
        lnX=lnX,
        X=jnp.exp(lnX),
        lnp=lnp,
        p=P,
        Y=Y,
        pY=pY,
        Kp=Kp,
        Ks=Ks,
        Ke=Ke,
        Gc=Gc,
        K=K,
        N=N,
        s=s,
        w=w,
        R=R,
        rho_f=rho_f,
        qf=qf,
        Ph=Ph,
        V=V,
        B=B,
        LR=LR,
        Ip=Ip,
        Is=Is,
        v=v,
        Lf=Lf,
        Lh=Lh,
        r=r,
        rk=rk,
    )


def steady_state_residual(y, p: Params):
    """Steady-state residuals, spec §8: production (1), budget with binding collateral (2),
    infrastructure FOC (3) per city; location choice N_1 = N*_1 (spec §2) when mobile; the
    investment-attraction FOC (spec §6) when ``attraction='optimal'``."""
    q = ss_blocks(y, p)
    u = unpack(y, p)
    r, rk = rates(p)
    ak = a_k(p)
    # (1) production, spec §4 / §8.1
    res_prod = u["lnY"] - (
        jnp.log(p.A)
        + p.gamma * jnp.log(q["Ke"])
        + ak * jnp.log(q["K"])
        + p.a_n * jnp.log(q["N"])
        + p.a_l * jnp.log(q["Lf"])
    )
    # (2) budget, spec §6 / §8.2 (B from the binding collateral constraint; LR = delta_L V - s r^k K)
    gc_implied = p.tau * q["pY"] + q["LR"] - q["Ip"] - q["Is"] - r * q["B"] - p.g_bar * p.N_bar
    res_budget = (q["Gc"] - gc_implied) / q["pY"]
    # (3) infrastructure FOC, spec §6 / §8.3
    eta_t = 1.0 - p.beta_g * (1.0 + r)
    D = 1.0 - eta_t * p.theta_K - p.beta_g * (1.0 - p.delta_g)
    phi = fiscal_yield(p, u["s"])
    rhs = gamma_tilde(p) * (
        (eta_t * p.theta_L * q["v"] + p.beta_g * phi) * q["pY"] + p.beta_g * p.xi / (1.0 - p.xi) * q["Gc"]
    )
    res_foc = jnp.log(q["Ke"] * D) - jnp.log(rhs)
    parts = [res_prod, res_budget, res_foc]
    if p.mobility == "mobile":  # spec §2: N_1 = N*_1(V_1, V_2)
        V = indirect_utility(q["w"], q["R"], p)
        Nstar, _ = location_shares(V, p)
        parts.append(jnp.reshape(jnp.log(q["N"][0] / q["N"][1]) - jnp.log(Nstar[0] / Nstar[1]), (1,)))
    if p.attraction == "optimal":  # spec §6 extension B: dG/ds_j = 0
        s = u["s"]
        g = jax.grad(lambda ss: _attraction_objective(ss, s, q["pY"], p, q["Gc"], eta_t)[0])(s)
        Lam = (1.0 - p.xi) / q["Gc"]
        parts.append(g * (1.0 - s) / (Lam * q["pY"]))
    return jnp.concatenate(parts)


def initial_guess(p: Params):
    """A rough starting point: city GDP from TFP and land, public capital 1.2 x GDP."""
    Y = jnp.array([1.35, 1.15]) * jnp.asarray(p.A) / jnp.array([1.353, 1.0])
    y = [jnp.log(Y), jnp.log(0.6 * Y), jnp.log(0.06 * Y)]
    if p.mobility == "mobile":
        y.append(jnp.reshape(jnp.log(p.N_bar[0] / p.N_bar[1]), (1,)))
    if p.attraction == "optimal":
        y.append(jnp.full((2,), 0.05))
    return jnp.concatenate(y)


def solve_steady_state(p: Params, y0=None, *, throw: bool = True, **kw):
    """Solve the steady state (spec §8) with the engine's Newton (implicit differentiation in ``p``).

    Newton with backtracking (native backend) from ``y0`` (default :func:`initial_guess`).
    Returns an engine :class:`~landjax.engine.Solution`.
    """
    validate(p)
    y0 = initial_guess(p) if y0 is None else y0
    opts = dict(SS_SOLVER, **kw)
    sol = _jitted_solve(steady_state_residual, tuple(sorted(opts.items())))(y0, p)
    return _maybe_raise(sol, throw, "land_debt steady state")


#: Newton with backtracking on the native backend (the steady state and calibration)
SS_SOLVER = dict(backend="native", line_search=True, tol=1e-13, ftol=1e-10, max_steps=60)
_JIT_CACHE: dict = {}


def _jitted_solve(fn, opts: tuple):
    """One compiled ``solve`` per (residual, options); parameters and guesses are traced arguments,
    so experiments with the same static options reuse the compiled solver."""
    key = (fn, opts)
    if key not in _JIT_CACHE:
        kw = dict(opts)
        _JIT_CACHE[key] = jax.jit(lambda y0, args: solve(fn, y0, args, throw=False, **kw))
    return _JIT_CACHE[key]


def _maybe_raise(sol, throw: bool, what: str):
    """Raise :class:`ConvergenceError` for a concrete failed solve when ``throw`` (never a silent NaN)."""
    if throw and not isinstance(sol.converged, jax.core.Tracer) and not bool(sol.converged):
        from landjax.errors import ConvergenceError

        raise ConvergenceError(
            f"{what} did not converge: residual norm {float(sol.residual_norm):.3e} after "
            f"{int(sol.steps)} steps ({sol.message})"
        )
    return sol


# ---------------------------------------------------------------------------------------------
# reported statistics, spec §10
# ---------------------------------------------------------------------------------------------


def outcomes(y, p: Params) -> dict:
    """Reported statistics of a steady state, spec §10 (all JAX, differentiable)."""
    q = ss_blocks(y, p)
    hs = p.chi / (1.0 + p.chi)
    lev = q["B"] / q["pY"]
    own_rev = p.tau * q["pY"] + q["LR"]
    real_w = q["w"] / q["R"] ** hs
    V = indirect_utility(q["w"], q["R"], p)
    consumption = q["X"] - p.delta_k * jnp.sum(q["K"]) - jnp.sum(q["Ip"] + q["Is"] + q["Gc"]) - p.g_bar
    out = {
        "X": q["X"],
        "output_gap": q["pY"][0] / q["pY"][1],
        "real_output_gap": q["Y"][0] / q["Y"][1],
        "income_gap": (q["pY"][0] / q["N"][0]) / (q["pY"][1] / q["N"][1]),
        "wage_gap": q["w"][0] / q["w"][1],
        "rel_wage2": q["w"][1] / q["w"][0],
        "real_wage_gap": real_w[0] / real_w[1],
        "house_price_gap": q["Ph"][0] / q["Ph"][1],
        "land_mpl_gap": q["rho_f"][0] / q["rho_f"][1],
        "lev1": lev[0],
        "lev2": lev[1],
        "lev_gap": lev[1] - lev[0],
        "rel_lev2": lev[1] / lev[0],
        "debt_ratio1": q["B"][0] / own_rev[0],
        "debt_ratio2": q["B"][1] / own_rev[1],
        "land_dep1": q["LR"][0] / own_rev[0],
        "land_dep2": q["LR"][1] / own_rev[1],
        "infra_dep1": (q["Ip"][0] + q["Is"][0]) / q["pY"][0],
        "infra_dep2": (q["Ip"][1] + q["Is"][1]) / q["pY"][1],
        "consumption": consumption,
        "welfare": welfare(V, p),
        "N1": q["N"][0],
        "p1": q["p"][0],
        "p2": q["p"][1],
        "Ph1": q["Ph"][0],
        "Ph2": q["Ph"][1],
        "rho_f1": q["rho_f"][0],
        "rho_f2": q["rho_f"][1],
        "debt_gdp": jnp.sum(q["B"]) / q["X"],
        "pubcap_gdp": jnp.sum(q["Kp"] + q["Ks"]) / q["X"],
        "servicing_share": jnp.sum(q["Ks"]) / jnp.sum(q["Kp"] + q["Ks"]),
        "s1": q["s"][0],
        "s2": q["s"][1],
        "eta_over_lambda": 1.0 - p.beta_g * (1.0 + q["r"]) + 0.0 * q["X"],
    }
    return out


outcomes_jit = jax.jit(outcomes)  # for loops over many solved states (one compile per option set)


def accounts(y, p: Params) -> dict:
    """Every budget and market-clearing condition in a steady state, as residuals (spec §7).

    The savers' consumption is taken from the savers' own budget; the goods-market residual
    then checks Walras' law (it is zero when every other budget and market clears)."""
    q = ss_blocks(y, p)
    r, rk = rates(p)
    hs = p.chi / (1.0 + p.chi)
    N = q["N"]
    h = q["Lh"] / N  # housing per worker from the rental market
    c_w = q["w"] - q["R"] * h
    firm_profit = (1.0 - p.tau) * q["pY"] - q["w"] * N - q["rho_f"] * q["Lf"] - (1.0 - q["s"]) * rk * q["K"]
    gov = q["Gc"] + q["Ip"] + q["Is"] + (1.0 + r) * q["B"] + p.g_bar * p.N_bar - (p.tau * q["pY"] + q["LR"] + q["B"])
    Ik = p.delta_k * q["K"]
    # savers: capital income (firms pay (1-s) r^k K, the land discount pays s r^k K through LR),
    # lease rents, debt service; spending: consumption, investment, new leases (LR), new debt
    income = jnp.sum((1.0 - q["s"]) * rk * q["K"] + q["rho_f"] * q["Lf"] + q["R"] * q["Lh"] + (1.0 + r) * q["B"])
    C_sav = income - jnp.sum(Ik + q["LR"] + q["B"])
    goods = q["X"] - (jnp.sum(c_w * N) + C_sav + jnp.sum(Ik) + jnp.sum(q["Ip"] + q["Is"] + q["Gc"] + p.g_bar * p.N_bar))
    return {
        "worker_budget": c_w + q["R"] * h - q["w"],
        "worker_housing_foc": q["R"] * h - hs * q["w"],
        "housing_market": N * h - q["Lh"],
        "labour_market": jnp.sum(N) - 1.0,
        "firm_zero_profit": firm_profit,
        "capital_foc": a_k(p) * (1.0 - p.tau) * q["pY"] / q["K"] - (1.0 - q["s"]) * rk,
        "government_budget": gov,
        "collateral_binding": q["B"] - p.theta_L * q["V"] - p.theta_K * (q["Kp"] + q["Ks"]),
        "nominal_gdp_equals_absorption": jnp.sum(q["pY"]) - q["X"],
        "price_index": jnp.sum(p.omega * q["p"] ** (1.0 - p.sigma)) - 1.0,
        "goods_market_walras": goods,
        "saver_consumption": C_sav,
        "private_consumption_identity": (jnp.sum(c_w * N) + C_sav) - outcomes(y, p)["consumption"],
    }


# ---------------------------------------------------------------------------------------------
# calibration, spec §8 ("calibration loop")
# ---------------------------------------------------------------------------------------------

#: default targets: GDP-per-capita ratio east/west, national public capital / GDP, servicing share
TARGETS = {"gdp_pc_ratio": 1.8, "pubcap_gdp": 1.2, "servicing_share": 0.4}


def _calib_residual(z, args):
    """Joint root in (ln Y_j, ln K^p_j, ln G^c_j, ln A_1, logit xi[, ln k_bar]) at p_j = 1 (immobile).

    With p_j = 1 imposed, the Armington weights that make it hold are omega_j = Y_j / sum Y for
    every sigma (spec §8), so the city blocks need no omega."""
    p, targets = args
    homo = p.variant == "homothetic"
    lnA1, xi = z[6], jax.nn.sigmoid(z[7])
    kb = p.k_bar * 0.0 if homo else jnp.exp(z[8])
    Y = jnp.exp(z[0:2])
    pc = p.replace(
        A=jnp.stack([jnp.exp(lnA1), p.A[1]]),
        xi=xi,
        k_bar=kb,
        omega=Y / jnp.sum(Y),
        mobility="immobile",
        attraction="exogenous",
    )
    res = steady_state_residual(z[0:6], pc)
    o = ss_blocks(z[0:6], pc)
    gdp_pc = (o["pY"][0] / o["N"][0]) / (o["pY"][1] / o["N"][1])
    pub = jnp.sum(o["Kp"] + o["Ks"]) / jnp.sum(o["pY"])
    t = [jnp.log(gdp_pc / targets[0]), jnp.log(pub / targets[1])]
    if not homo:
        t.append(jnp.log(jnp.sum(o["Ks"]) / jnp.sum(o["Kp"] + o["Ks"]) / targets[2]))
    return jnp.concatenate([res, jnp.stack(t)])


def calibration_guess(p: Params):
    z = [
        jnp.log(jnp.array([1.37, 1.14])),
        jnp.log(jnp.array([0.98, 0.80])),
        jnp.log(jnp.array([0.08, 0.07])),
        jnp.array([jnp.log(1.35), jnp.log(0.934 / 0.066)]),
    ]
    if p.variant != "homothetic":
        z.append(jnp.array([jnp.log(1.2)]))
    return jnp.concatenate(z)


def calibrate_joint(p: Params, targets=None, z0=None, *, throw: bool = True):
    """Calibrate (A_1, xi, k_bar) jointly with the city blocks (one root, spec §8), then set
    omega = Y / sum Y so that p_j = 1 at baseline for every sigma.

    The ``homothetic`` variant has k_bar = 0 and calibrates (A_1, xi) to the first two targets.
    Returns ``(params, solution)``; ``params`` keep ``p``'s options and are differentiable in ``p``
    and ``targets``. Why a joint root rather than :func:`landjax.engine.calibrate` around a nested
    steady-state solve: it is one Newton system of 8-9 unknowns, it runs under ``vmap`` (the
    random-draw robustness recalibrates 40 parameter sets in one batched solve), and p_j = 1 makes
    omega explicit. :func:`calibrate_nested` runs the engine's ``calibrate`` as a cross-check.
    """
    targets = jnp.asarray(
        [TARGETS["gdp_pc_ratio"], TARGETS["pubcap_gdp"], TARGETS["servicing_share"]] if targets is None else targets,
        dtype=jnp.float64,
    )
    z0 = calibration_guess(p) if z0 is None else z0
    opts = dict(SS_SOLVER, max_steps=80)
    sol = _jitted_solve(_calib_residual, tuple(sorted(opts.items())))(z0, (p, targets))
    _maybe_raise(sol, throw, "land_debt calibration (joint root)")
    return params_from_calibration(sol.value, p), sol


def params_from_calibration(z, p: Params) -> Params:
    """Calibrated parameters from the joint root's unknowns ``z`` (in range by construction: exp and
    logistic maps; a failed calibration carries its unconverged values and is flagged by its solve)."""
    Y = jnp.exp(z[0:2])
    kb = p.k_bar * 0.0 if p.variant == "homothetic" else jnp.exp(z[8])
    return unchecked_replace(
        p, A=jnp.stack([jnp.exp(z[6]), p.A[1] + 0.0 * z[6]]), xi=jax.nn.sigmoid(z[7]), k_bar=kb, omega=Y / jnp.sum(Y)
    )


def unchecked_replace(p: Params, **changes) -> Params:
    """``p.replace(**changes)`` without the range checks (as JAX's own tree rebuilds): for batches
    whose failed members carry NaN, and for the calibration map above. Unknown names still raise."""
    names = {f.name for f in dataclasses.fields(p)}
    bad = sorted(set(changes) - names)
    if bad:
        raise InputError(f"Params: unknown field(s) {', '.join(bad)}; valid: {', '.join(sorted(names))}")
    obj = object.__new__(type(p))
    for f in dataclasses.fields(p):
        object.__setattr__(obj, f.name, changes.get(f.name, getattr(p, f.name)))
    return obj


def calibrate_nested(p: Params, targets=None):
    """Cross-check of :func:`calibrate_joint` with :func:`landjax.engine.calibrate`: (A_1, xi, k_bar)
    -> steady-state solve with omega = Y/sum Y (fixed point handled by solving p_j = 1 directly) -> moments.

    Slower (a steady-state solve per moment evaluation); kept for tests and users who prefer the
    engine's calibration report (:meth:`CalibrationResult.to_frame`)."""
    from landjax.engine import calibrate as engine_calibrate

    tg = np.asarray(
        [TARGETS["gdp_pc_ratio"], TARGETS["pubcap_gdp"], TARGETS["servicing_share"]] if targets is None else targets,
        float,
    )
    base = p.replace(mobility="immobile")

    def moments(theta, _):
        # omega is pinned by p_j = 1: solve the city blocks at p = 1 (omega-free), as in spec §8
        pc = base.replace(A=jnp.stack([theta[0], base.A[1]]), xi=theta[1], k_bar=theta[2])

        def fn(y, pp):
            Y = jnp.exp(y[0:2])
            return steady_state_residual(y, pp.replace(omega=Y / jnp.sum(Y)))

        sol = solve(fn, initial_guess(pc), pc, backend="native", line_search=True, ftol=1e-11, tol=1e-13, throw=False)
        y = sol.value_or_nan()
        Y = jnp.exp(y[0:2])
        o = outcomes(y, pc.replace(omega=Y / jnp.sum(Y)))
        return jnp.stack([o["income_gap"], o["pubcap_gdp"], o["servicing_share"]])

    res = engine_calibrate(
        moments,
        np.array([1.3, 0.93, 1.2]),
        tg,
        None,
        lower=[0.5, 0.5, 0.0],
        upper=[3.0, 0.999, 5.0],
        param_names=("A_1", "xi", "k_bar"),
        moment_names=tuple(TARGETS),
    )
    return res


def baseline(p: Params | None = None, **kw) -> tuple[Params, Any]:
    """Calibrated baseline parameters (immobile labour, baseline land) and their steady state."""
    p = Params(**kw) if p is None else p
    pc, _ = calibrate_joint(p.replace(mobility="immobile"))
    pc = pc.replace(mobility=p.mobility, attraction=p.attraction)
    return pc, solve_steady_state(pc)


# ---------------------------------------------------------------------------------------------
# command line: landjax solve land_debt [--set NAME=VALUE]... [--option K=V]... --json
# ---------------------------------------------------------------------------------------------

KEY_STATS = (
    "X",
    "output_gap",
    "income_gap",
    "real_wage_gap",
    "house_price_gap",
    "lev1",
    "lev2",
    "lev_gap",
    "debt_ratio1",
    "debt_ratio2",
    "land_dep1",
    "land_dep2",
    "infra_dep1",
    "infra_dep2",
    "consumption",
    "welfare",
    "N1",
    "p1",
    "p2",
    "debt_gdp",
    "pubcap_gdp",
    "servicing_share",
    "s1",
    "s2",
)
OPTIONS = {"mobility": MOBILITY, "variant": VARIANTS, "attraction": ATTRACTION}


def _parse_set(items: list[str]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(Params) if not f.metadata.get("static")}
    out = {}
    for k, v in parse_pairs(items, "set").items():
        if k not in names:
            raise InputError(f"--set: unknown parameter {k!r}; valid: {', '.join(sorted(names))}")
        try:
            vals = [float(x) for x in v.split(",")]
        except ValueError as exc:
            raise InputError(f"--set {k}: cannot read {v!r} as number(s)") from exc
        if k in PER_CITY:
            if len(vals) != 2:
                raise InputError(f"--set {k}: expected two values 'city1,city2', got {v!r}")
            out[k] = jnp.asarray(vals)
        else:
            if len(vals) != 1:
                raise InputError(f"--set {k}: expected one number, got {v!r}")
            out[k] = vals[0]
    return out


def _parse_options(items: list[str]) -> dict[str, str]:
    out = {}
    for k, v in parse_pairs(items, "option").items():
        if k not in OPTIONS:
            raise InputError(f"--option: unknown option {k!r}; valid: {', '.join(OPTIONS)}")
        if v not in OPTIONS[k]:
            raise InputError(f"--option {k}: unknown value {v!r}; valid: {', '.join(OPTIONS[k])}")
        out[k] = v
    return out


def cli_solve(argv: list[str]) -> int:
    """``landjax solve land_debt [--set NAME=VALUE]... [--option K=V]... [--calibrate] --json``.

    Solves the steady state (after recalibrating (A_1, xi, k_bar, omega) to the spec targets when
    ``--calibrate`` is given; otherwise the spec's printed calibration is used) and prints
    ``{"converged", "residual_norm", "steps", "steady_state", "statistics", "options", "params"}``.
    Per-city parameters take two comma-separated values: ``--set L=0.40,0.60``.
    """
    ap = argparse.ArgumentParser(
        prog="landjax solve land_debt", description="Steady state of the Zhao & Liu (2024) two-city land-debt model."
    )
    ap.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="parameter override (per-city: NAME=v1,v2)"
    )
    ap.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="static option: " + "; ".join(k + " in {" + ",".join(v) + "}" for k, v in OPTIONS.items()),
    )
    ap.add_argument(
        "--calibrate",
        action="store_true",
        help="recalibrate A_1, xi, k_bar, omega to the targets (immobile baseline) before solving",
    )
    ap.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        sets = _parse_set(args.set)
        opts = _parse_options(args.option)
        p = Params(**{**sets, **opts})
        validate(p)
        if args.calibrate:
            pc, csol = calibrate_joint(p.replace(mobility="immobile", attraction="exogenous"), throw=False)
            if not bool(csol.converged):
                print(
                    "landjax solve land_debt: --calibrate: the calibration of (A_1, xi, k_bar, omega) to the "
                    f"targets {TARGETS} did not converge (residual {float(csol.residual_norm):.3e} after "
                    f"{int(csol.steps)} steps: {csol.message}); no steady state solved",
                    file=sys.stderr,
                )
                if args.json:
                    print(dumps({"model": "land_debt", "converged": False, "error": "calibration did not converge"}))
                return 1
            p = unchecked_replace(pc, mobility=p.mobility, attraction=p.attraction)
            validate(p)
        sol = solve_steady_state(p, throw=False)
    except InputError as exc:
        print(f"landjax solve land_debt: {exc}", file=sys.stderr)
        return 2
    conv = bool(sol.converged)
    u = unpack(sol.value, p)
    stats = {k: float(v) for k, v in outcomes(sol.value, p).items() if k in KEY_STATS}
    ss = {
        "Y": np.exp(np.asarray(u["lnY"])).tolist(),
        "Kp": np.exp(np.asarray(u["lnKp"])).tolist(),
        "Gc": np.exp(np.asarray(u["lnGc"])).tolist(),
        "N": np.asarray(u["N"]).tolist(),
        "s": np.asarray(u["s"]).tolist(),
    }
    if not conv:  # never report numbers from a failed solve as a result
        stats = {k: None for k in stats}
        ss = None
    out = {
        "model": "land_debt",
        "converged": conv,
        "residual_norm": float(sol.residual_norm),
        "steps": int(sol.steps),
        "message": sol.message,
        "steady_state": ss,
        "statistics": stats,
        "options": {k: getattr(p, k) for k in OPTIONS},
        "params": {
            f.name: np.asarray(getattr(p, f.name)).tolist()
            for f in dataclasses.fields(p)
            if not f.metadata.get("static")
        },
    }
    bad = [k for k, v in flatten_json(out).items() if isinstance(v, float) and not np.isfinite(v)]
    if bad:  # strict JSON: non-finite numbers become null, named here
        out["non_finite"] = bad
    print(dumps(out))
    return 0 if conv else 1


__all__ = [
    "Params",
    "steady_state_residual",
    "solve_steady_state",
    "outcomes",
    "accounts",
    "calibrate_joint",
    "calibrate_nested",
    "baseline",
    "cli_solve",
    "TARGETS",
]
