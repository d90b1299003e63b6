"""N-city quota-trade spatial general equilibrium (Ma & Ni), solved in exact hats.

Specification: ``../shared/specs/quota_trade.md`` (equations E1-E17, hat system H1-H8,
statistics S1-S4, ambiguities A1-A26). Paper: Ma Caoyuan & Ni Xiufeng,
《建设用地指标跨区域交易的要素配置效应》, eqs. (1)-(21).

Public API (stable; the optimal-allocation module ``landjax.allocation.quota_rules`` builds on it)::

    from landjax.data.china import load_dataset          # load_dataset(None) = default dataset
    from landjax.models.quota_trade import (Params, Baseline, Shock, Equilibrium,
        build_baseline, zero_shock, solve, statistics, diagnostics, city_table, cli_solve)

    ds = load_dataset()                                  # semi-real China table (see docs/ma_ni.md)
    base = build_baseline(ds, Params())                  # levels: L0, m, L, Y, W, tau, G, A, V, ...
    shock = zero_shock(base)                             # Shock(RY_hat, RH_hat, f, c_hat=None)
    eq = solve(base, shock, Params())                    # Equilibrium: hats + convergence flags
    statistics(base, shock, eq)                          # {"gdp_change", "output_gap_change",
                                                         #  "welfare_change", "welfare_gap_change"} (%)

* :class:`Params` (pytree): ``alpha`` 0.67, ``eta`` 0.13, ``kappa`` 3, ``sigma`` 0.65, ``rho`` 0.103,
  and the static option ``closure`` (``"endogenous"``: land revenue is the shadow rent, G-hat =
  Y-hat + f, spec A12, default; ``"fixed_price"``: tau held fixed, G' = (1+tau) P R' + F').
* :func:`build_baseline` ``(dataset, params, *, labour_split="data", tenure=False, land_rate=0.05)``
  -> :class:`Baseline`, a pytree of arrays: ``L0, m, L, LY, LH, w, Y, RY, RH, Ph, GY, GH, G, tauY,
  tauH, A, Abar, V, W, lam, PhH, buy_price, sell_price, P_ry, P_rh, pilot, province, region``.
  Everything the policy rules need; re-derived from the data whenever parameters change (A20).
* :class:`Shock` (pytree): ``RY_hat``, ``RH_hat`` (land after trade / before), ``f = F'/G``
  (net quota revenue over baseline land revenue, eq. (17)), ``c_hat`` (optional (N, N) migration
  cost change). ``zero_shock(baseline)`` is no trade.
* :func:`solve` ``(baseline, shock, params, *, throw=True, ...)`` -> :class:`Equilibrium`: damped
  Picard on log L-hat with ``landjax.engine.fixed_point`` (implicit differentiation w.r.t. the
  shock arrays, the baseline arrays and the parameters; jittable and vmappable). Fields: the hats
  ``L_hat, Y_hat, w_hat, V_hat, W_hat, Ph_hat, H_hat, G_hat, A_hat, Pry_hat, Prh_hat, D``, the
  per-city ``feasible_city`` (a TFP root exists, spec A25), ``feasible``, ``converged``,
  ``residual_norm``, ``steps``, ``code``.
* :func:`statistics` ``(baseline, shock, eq, gap="williamson", gdp="goods", welfare="levels")``
  -> dict of jnp scalars ``gdp_change, output_gap_change, welfare_change, welfare_gap_change`` (%),
  NaN where the equilibrium is infeasible or did not converge (check ``eq.converged`` and
  ``eq.feasible``). :func:`diagnostics` gives sellers, buyers, quota traded, sum of F, share of
  workers relocated.
* :func:`cli_solve` implements ``landjax solve quota_trade``.

Scenarios of Tables 2-3 (pools, sellers/buyers, prices, volumes) are compiled into a Shock by
``landjax.scenarios.quota``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax import stats as S
from landjax._pytree import params_dataclass, static_field
from landjax.cli import parse_pairs
from landjax.errors import ConvergenceError, InputError

__all__ = [
    "Params",
    "Baseline",
    "Shock",
    "Equilibrium",
    "build_baseline",
    "zero_shock",
    "solve",
    "statistics",
    "diagnostics",
    "city_table",
    "tfp_root",
    "hat_map",
    "migration_shares",
    "cli_solve",
    "STATISTICS",
    "TENURE_FACTOR",
]

STATISTICS = ("gdp_change", "output_gap_change", "welfare_change", "welfare_gap_change")


def tenure_factor(r: float = 0.05) -> float:
    """Eq. (21): P^ry_70 / P^ry_50 = (1 - (1+r)^-70) / (1 - (1+r)^-50)."""
    return (1.0 - (1.0 + r) ** -70) / (1.0 - (1.0 + r) ** -50)


TENURE_FACTOR = tenure_factor(0.05)


@params_dataclass
class Params:
    """Structural parameters (Ma & Ni section 3(2)).

    Attributes:
        alpha: labour share in goods production, eq. (1) (0.67).
        eta: housing expenditure share, eq. (5) (0.13).
        kappa: Frechet shape = migration elasticity, eq. (9) (3).
        sigma: labour share in housing production, eq. (12) (0.65).
        rho: elasticity of TFP to infrastructure, eq. (16) (0.103).
        closure: ``"endogenous"`` (default, A12: land revenue is the shadow rent, G-hat = Y-hat + f)
            or ``"fixed_price"`` (tau fixed: G' = (1+tau^Y) P^ry R^Y' + (1+tau^H) P^rh R^H' + F').
    """

    alpha: float = 0.67
    eta: float = 0.13
    kappa: float = 3.0
    sigma: float = 0.65
    rho: float = 0.103
    closure: str = static_field(default="endogenous")

    def __post_init__(self):
        if self.closure not in ("endogenous", "fixed_price"):
            raise InputError(f"Params.closure={self.closure!r}; allowed: endogenous, fixed_price")
        for name, lo, hi in (("alpha", 0, 1), ("eta", 0, 1), ("sigma", 0, 1), ("rho", 0, 1), ("kappa", 0, math.inf)):
            v = getattr(self, name)
            if type(v) in (int, float) and not (lo < v < hi):  # python numbers only (pytree rebuilds pass other leaves)
                raise InputError(f"Params.{name}={v} must lie in ({lo}, {hi})")


@params_dataclass
class Baseline:
    """Baseline (2017) levels derived from a dataset (spec sections 1.1 and 3). Arrays of length N
    unless noted; ``m`` is (N, N); scalars are 0-d arrays. Money in yuan, land in m2."""

    L0: jax.Array  # hukou workforce by origin
    m: jax.Array  # migration shares m_od (rows: origins)
    L: jax.Array  # residents L_d = sum_o m_od L0_o, eq. (10)
    LY: jax.Array  # goods employment
    LH: jax.Array  # housing (real-estate) employment
    w: jax.Array  # wage
    Y: jax.Array  # output Y = w LY / alpha, eq. (2)
    RY: jax.Array  # productive land
    RH: jax.Array  # residential land
    Ph: jax.Array  # house price
    GY: jax.Array  # productive land revenue (1+tauY) P^ry RY = (1-alpha) Y, eqs. (3)-(4)
    GH: jax.Array  # residential land revenue (1+tauH) P^rh RH = (1-sigma)/sigma w LH, eqs. (13)-(15)
    G: jax.Array  # infrastructure spending G = GY + GH (F = 0 at baseline), eq. (17)
    tauY: jax.Array  # productive-land wedge, eq. (4)
    tauH: jax.Array  # residential-land wedge, eq. (15)
    A: jax.Array  # TFP, eq. (1)
    Abar: jax.Array  # fundamental TFP from eq. (16)
    V: jax.Array  # real income w / Ph^eta, eq. (8)
    W: jax.Array  # origin welfare V_o m_oo^(-1/kappa) (B = 1; Gamma(1-1/kappa) omitted: it cancels)
    lam: jax.Array  # welfare weights L0 / sum L0, eq. (11)
    PhH: jax.Array  # housing value eta w L, eq. (7)
    buy_price: jax.Array  # quota buyer price r_buy,d
    sell_price: jax.Array  # quota seller price (scalar)
    P_ry: jax.Array  # national productive land price used for tau (scalar; x eq. (21) factor if tenure)
    P_rh: jax.Array  # national residential land price (scalar)
    pilot: jax.Array  # bool: pilot province
    province: jax.Array  # int: province index 0..P-1
    region: jax.Array  # int: 0 east, 1 central, 2 west, 3 northeast

    @property
    def n(self) -> int:
        return int(self.L0.shape[-1])


@params_dataclass
class Shock:
    """A policy shock in hats. ``RY_hat``, ``RH_hat``: land after / before (eqs. (18)-(19));
    ``f``: F'/G (eq. (17); baseline F = 0, A11); ``c_hat``: optional (N, N) change in migration
    costs (None = 1)."""

    RY_hat: jax.Array
    RH_hat: jax.Array
    f: jax.Array
    c_hat: Any = None


@params_dataclass
class Equilibrium:
    """Counterfactual equilibrium in hats (x' / x) with solver flags."""

    L_hat: jax.Array
    Y_hat: jax.Array
    w_hat: jax.Array
    V_hat: jax.Array
    W_hat: jax.Array
    Ph_hat: jax.Array
    H_hat: jax.Array
    G_hat: jax.Array
    A_hat: jax.Array
    Pry_hat: jax.Array
    Prh_hat: jax.Array
    D: jax.Array
    feasible_city: jax.Array
    feasible: jax.Array
    converged: jax.Array
    residual_norm: jax.Array
    steps: jax.Array
    code: jax.Array

    @property
    def ok(self):
        return self.converged & self.feasible


REGION_CODES = {"east": 0, "central": 1, "west": 2, "northeast": 3}


def build_baseline(
    dataset: Any = None,
    params: Params = Params(),
    *,
    labour_split: str = "data",
    tenure: bool = False,
    land_rate: float = 0.05,
) -> Baseline:
    """Baseline levels from a dataset (spec section 1.1; eqs. (1)-(17)).

    **Arguments:**

    - `dataset`: a :class:`landjax.data.china.Dataset`, a dataset name or a directory
      (None = the default dataset).
    - `params`: :class:`Params`; tau, G, Y, A and W are re-derived from the same data when they
      change (A20). Differentiable in the parameter leaves.
    - `labour_split`: ``"data"`` (A3: L^Y, L^H from the data, as the paper) or ``"model"``
      (L^Y = (1 - sigma eta) L, L^H = sigma eta L, the model's own split; makes the national goods
      market (E17) hold exactly in levels).
    - `tenure`: eq. (21): multiply P^ry by ((1 - (1+r)^-70)/(1 - (1+r)^-50)) (A22).
    - `land_rate`: r in eq. (21) (0.05).
    """
    from landjax.data.china import load_dataset

    if labour_split not in ("data", "model"):
        raise InputError(f"build_baseline: labour_split={labour_split!r}; allowed: data, model")
    ds = load_dataset(dataset)
    c = ds.cities
    al, et, ka, si, rh = params.alpha, params.eta, params.kappa, params.sigma, params.rho
    f64 = lambda col: jnp.asarray(c[col].to_numpy(dtype=np.float64))
    L0 = f64("L0")
    m = jnp.asarray(ds.m)
    L = m.T @ L0
    w = f64("w")
    if labour_split == "data":
        LY, LH = f64("LY"), f64("LH")
    else:
        LY, LH = (1.0 - si * et) * L, si * et * L
    RY, RH, Ph = f64("RY"), f64("RH"), f64("Ph")
    Y = w * LY / al
    P_ry = jnp.asarray(float(ds.meta["P_ry"]) * (tenure_factor(land_rate) if tenure else 1.0))
    P_rh = jnp.asarray(float(ds.meta["P_rh"]))
    GY = (1.0 - al) * Y
    GH = (1.0 - si) / si * w * LH
    tauY = GY / (P_ry * RY) - 1.0
    tauH = GH / (P_rh * RH) - 1.0
    G = GY + GH
    A = Y / (LY**al * RY ** (1.0 - al))
    Abar = (A / G**rh) ** (1.0 / (1.0 - rh))
    V = w / Ph**et
    W = V * jnp.diag(m) ** (-1.0 / ka)
    provs = {p: i for i, p in enumerate(dict.fromkeys(c["province"].astype(str)))}
    return Baseline(
        L0=L0,
        m=m,
        L=L,
        LY=LY,
        LH=LH,
        w=w,
        Y=Y,
        RY=RY,
        RH=RH,
        Ph=Ph,
        GY=GY,
        GH=GH,
        G=G,
        tauY=tauY,
        tauH=tauH,
        A=A,
        Abar=Abar,
        V=V,
        W=W,
        lam=L0 / jnp.sum(L0),
        PhH=et * w * L,
        buy_price=f64("buy_price"),
        sell_price=jnp.asarray(float(ds.meta["sell_price"])),
        P_ry=P_ry,
        P_rh=P_rh,
        pilot=jnp.asarray(c["pilot"].to_numpy(dtype=bool)),
        province=jnp.asarray(np.array([provs[p] for p in c["province"].astype(str)], dtype=np.int32)),
        region=jnp.asarray(np.array([REGION_CODES[r] for r in c["region"]], dtype=np.int32)),
    )


def zero_shock(baseline: Baseline) -> Shock:
    """No trade: every hat 1, f = 0."""
    one = jnp.ones_like(baseline.L0)
    return Shock(RY_hat=one, RH_hat=one, f=jnp.zeros_like(baseline.L0), c_hat=None)


# ------------------------------------------------------------------------------------------------
# The TFP fixed point, H1: y = K (y + f)^rho, largest root (spec 1.1.4, A25)
# ------------------------------------------------------------------------------------------------


def _tfp_bound(K, rho):
    """Smallest admissible f: a root of y = K (y+f)^rho exists iff f >= -((1-rho)/rho) (rho K)^(1/(1-rho))."""
    return -((1.0 - rho) / rho) * (rho * K) ** (1.0 / (1.0 - rho))


def _tfp_root_primal(K, f, rho):
    f_eff = jnp.maximum(f, _tfp_bound(K, rho))  # infeasible cities: the tangency point (flagged)
    y0 = K ** (1.0 / (1.0 - rho)) * 2.0 ** (rho / (1.0 - rho)) + jnp.abs(f_eff)

    def cond(c):
        y, step, i = c
        return (i < 200) & jnp.any(jnp.abs(step) > 1e-15 * jnp.maximum(y, 1e-300))

    def body(c):
        y, _, i = c
        z = y + f_eff
        zr = z**rho
        phi = y - K * zr
        dphi = 1.0 - rho * K * zr / z
        step = jnp.where(dphi > 0, phi / jnp.where(dphi > 0, dphi, 1.0), 0.0)
        y_new = jnp.maximum(y - step, jnp.maximum(-f_eff, 0.0) * (1.0 + 1e-15) + 1e-300)
        return y_new, step, i + 1

    y, _, _ = jax.lax.while_loop(cond, body, (y0, jnp.ones_like(y0), jnp.asarray(0)))
    return y


@jax.custom_jvp
def tfp_root(K, f, rho):
    """Largest root y of y = K (y + f)^rho (H1 with K = L-hat^alpha RY-hat^(1-alpha)), eqs. (1), (16), (17).

    Newton from ``y0 = K^(1/(1-rho)) 2^(rho/(1-rho)) + |f|``, monotone from the right. Where no
    root exists (f below :func:`_tfp_bound`, spec A25) it returns the tangency point; callers flag
    it. Derivatives by the implicit function theorem on the scalar equation (zero at infeasible
    points)."""
    return _tfp_root_primal(K, f, rho)


@tfp_root.defjvp
def _tfp_root_jvp(primals, tangents):
    K, f, rho = primals
    dK, df, drho = tangents
    y = _tfp_root_primal(K, f, rho)
    z = y + f
    zr = z**rho
    phi_y = 1.0 - rho * K * zr / z
    ok = phi_y > 1e-12
    inv = jnp.where(ok, 1.0 / jnp.where(ok, phi_y, 1.0), 0.0)
    num = zr * dK + rho * K * zr / z * df + K * zr * jnp.log(z) * drho
    return y, num * inv


# ------------------------------------------------------------------------------------------------
# The hat system (spec section 2)
# ------------------------------------------------------------------------------------------------


def _migration_weights(baseline: Baseline, shock: Shock, kappa) -> jax.Array:
    """m_od * c-hat_od^(-kappa) (H5)."""
    if shock.c_hat is None:
        return baseline.m
    return baseline.m * jnp.asarray(shock.c_hat) ** (-kappa)


def _block(x, baseline: Baseline, shock: Shock, params: Params, Mt):
    """Everything given x = log L-hat: H1-H5 and the H6 update."""
    al, et, ka, si, rh = params.alpha, params.eta, params.kappa, params.sigma, params.rho
    Lh = jnp.exp(x)
    K = Lh**al * shock.RY_hat ** (1.0 - al)
    if params.closure == "endogenous":
        Yh = tfp_root(K, shock.f, jnp.asarray(rh, dtype=jnp.float64) * jnp.ones_like(K))
        feas = shock.f >= _tfp_bound(K, rh) * (1.0 + 1e-12)
        Gh = Yh + shock.f
    else:  # fixed_price: G' = GY RY-hat + GH RH-hat + F'
        Gh = (baseline.GY * shock.RY_hat + baseline.GH * shock.RH_hat) / baseline.G + shock.f
        feas = Gh > 0
        Yh = jnp.where(feas, Gh, 1.0) ** rh * K
    wh = Yh / Lh
    logV = (1.0 - et) * jnp.log(wh) - et * (1.0 - si) * x + et * (1.0 - si) * jnp.log(shock.RH_hat)
    c = jax.lax.stop_gradient(jnp.max(logV))
    e = jnp.exp(ka * (logV - c))
    Ds = Mt @ e  # D_o / exp(kappa c)
    Lnew = e * (Mt.T @ (baseline.L0 / Ds)) / baseline.L
    return dict(Lh=Lh, Yh=Yh, wh=wh, Gh=Gh, logV=logV, logD=jnp.log(Ds) + ka * c, feas=feas, Lnew=Lnew, e=e, Ds=Ds)


def hat_map(x, args):
    """The Picard map x -> log H6(x) (spec H6), x = log L-hat; ``args = (baseline, shock, params, Mt)``."""
    baseline, shock, params, Mt = args
    return jnp.log(_block(x, baseline, shock, params, Mt)["Lnew"])


def _equilibrium(x, sol, baseline, shock, params, Mt) -> Equilibrium:
    _al, _et, ka, si, rh = params.alpha, params.eta, params.kappa, params.sigma, params.rho
    b = _block(x, baseline, shock, params, Mt)
    Lh, Yh, wh = b["Lh"], b["Yh"], b["wh"]
    Vh = jnp.exp(b["logV"])
    D = jnp.exp(b["logD"])
    Ph_hat = wh * Lh ** (1.0 - si) * shock.RH_hat ** (si - 1.0)  # H3
    H_hat = Lh**si * shock.RH_hat ** (1.0 - si)
    feas = jnp.all(b["feas"])
    return Equilibrium(
        L_hat=Lh,
        Y_hat=Yh,
        w_hat=wh,
        V_hat=Vh,
        W_hat=D ** (1.0 / ka),
        Ph_hat=Ph_hat,
        H_hat=H_hat,
        G_hat=b["Gh"],
        A_hat=b["Gh"] ** rh,
        Pry_hat=Yh / shock.RY_hat,
        Prh_hat=wh * Lh / shock.RH_hat,
        D=D,
        feasible_city=b["feas"],
        feasible=feas,
        converged=sol.converged,
        residual_norm=sol.residual_norm,
        steps=sol.steps,
        code=sol.code,
    )


def _check_shock(baseline: Baseline, shock: Shock) -> None:
    n = baseline.L0.shape[-1]
    for name in ("RY_hat", "RH_hat", "f"):
        v = getattr(shock, name)
        if jnp.shape(v)[-1:] != (n,):
            raise InputError(f"Shock.{name}: expected length {n} (the number of cities), got shape {jnp.shape(v)}")
        if not isinstance(v, jax.core.Tracer):
            a = np.asarray(v)
            if not np.all(np.isfinite(a)):
                raise InputError(
                    f"Shock.{name}: contains NaN or inf (first at index {int(np.argmax(~np.isfinite(a)))})"
                )
            if name != "f" and np.any(a <= 0):
                raise InputError(
                    f"Shock.{name}: land hats must be positive (a city cannot sell all its land); "
                    f"first bad city index {int(np.argmax(a <= 0))}"
                )


def _solve_impl(baseline, shock, params, damping, tol, ftol, max_steps, method, tangent, backend):
    from landjax.engine import fixed_point

    Mt = _migration_weights(baseline, shock, params.kappa)
    x0 = jnp.zeros_like(baseline.L0)
    sol = fixed_point(
        hat_map,
        x0,
        (baseline, shock, params, Mt),
        method=method,
        damping=damping,
        tol=tol,
        ftol=ftol,
        max_steps=max_steps,
        tangent=tangent,
        backend=backend,
        throw=False,
    )
    return _equilibrium(sol.value, sol, baseline, shock, params, Mt)


# compiled once per (shapes, options); called from `solve` when its inputs are concrete
_solve_jit = jax.jit(_solve_impl, static_argnums=(3, 4, 5, 6, 7, 8, 9))


def solve(
    baseline: Baseline,
    shock: Shock,
    params: Params = Params(),
    *,
    throw: bool = True,
    damping: float = 0.7,
    tol: float = 1e-13,
    ftol: float = 1e-10,
    max_steps: int = 1000,
    method: str = "picard",
    tangent: str = "dense",
    backend: str | None = None,
) -> Equilibrium:
    """Counterfactual equilibrium of the hat system H1-H8 (spec section 2).

    Damped Picard iteration on ``x = log L-hat`` (``x <- x + damping (log H6(x) - x)``, spec: 0.7)
    with :func:`landjax.engine.fixed_point`; each step solves H1 city by city for the largest TFP
    root (:func:`tfp_root`) and does two matrix-vector products (H5-H6). Derivatives w.r.t. the
    shock arrays, the baseline arrays and the parameter leaves come from the implicit function
    theorem (``tangent="dense"``: LU of I - dg/dx; ``"neumann"`` for large N).

    ``throw=True`` raises :class:`ConvergenceError` when the iteration did not converge or a city
    has no TFP root (infeasible quota purchase, A25); ``throw=False`` returns the flags
    (``converged``, ``feasible``, ``feasible_city``) for batches and searches.
    """
    _check_shock(baseline, shock)
    opts = (float(damping), float(tol), float(ftol), int(max_steps), method, tangent, backend)
    traced = any(isinstance(l, jax.core.Tracer) for l in jax.tree_util.tree_leaves((baseline, shock, params)))
    eq = (_solve_impl if traced else _solve_jit)(baseline, shock, params, *opts)
    if throw:
        traced = any(isinstance(l, jax.core.Tracer) for l in jax.tree_util.tree_leaves((eq.converged, eq.feasible)))
        if traced:
            import equinox as eqx

            L_hat = eqx.error_if(
                eq.L_hat,
                ~(eq.converged & eq.feasible),
                "quota_trade.solve: no equilibrium (not converged, or a buyer's quota payment exceeds "
                "its feasible land revenue, spec A25); call with throw=False to inspect the flags",
            )
            eq = Equilibrium(**{**{k: getattr(eq, k) for k in eq.__dataclass_fields__}, "L_hat": L_hat})
        else:
            if not bool(eq.feasible):
                bad = np.flatnonzero(~np.asarray(eq.feasible_city))
                raise ConvergenceError(
                    f"quota_trade.solve: no TFP root for {bad.size} cit(y/ies) (indices {bad[:10].tolist()}): their quota "
                    "payment exceeds the feasible share of land revenue (spec A25). Use throw=False to get the flags."
                )
            if not bool(eq.converged):
                raise ConvergenceError(
                    f"quota_trade.solve did not converge: residual {float(eq.residual_norm):.3e} after {int(eq.steps)} "
                    f"steps (code {int(eq.code)}). Try a smaller damping or throw=False."
                )
    return eq


def migration_shares(baseline: Baseline, shock: Shock, eq: Equilibrium, params: Params = Params()) -> jax.Array:
    """Counterfactual migration shares m'_od = m_od (V-hat_d / c-hat_od)^kappa / D_o (H5)."""
    Mt = _migration_weights(baseline, shock, params.kappa)
    return Mt * eq.V_hat[None, :] ** params.kappa / eq.D[:, None]


# ------------------------------------------------------------------------------------------------
# Statistics S1-S4 and diagnostics (spec section 4)
# ------------------------------------------------------------------------------------------------


def statistics(
    baseline: Baseline,
    shock: Shock,
    eq: Equilibrium,
    gap: str = "williamson",
    *,
    gdp: str = "goods",
    welfare: str = "levels",
    welfare_gap: str = "origin",
) -> dict[str, jax.Array]:
    """The four reported statistics in percent (spec S1-S4; Ma & Ni Tables 1-4).

    - ``gdp_change`` (S1): 100 (sum Y' / sum Y - 1); ``gdp="real_housing"`` adds housing at base
      prices, sum (Y Y-hat + P^h H H-hat) (A17).
    - ``output_gap_change`` (S2): 100 (Gap(y', L') / Gap(y, L) - 1), y = Y / L, gap measure ``gap``
      (``williamson`` default; ``cv``, ``var_log``, ``var_log_w``, ``theil``, ``gini``; A16).
    - ``welfare_change`` (S3): 100 (sum lam W W-hat / sum lam W - 1), eq. (11) in levels with
      W_o = V_o m_oo^(-1/kappa); ``welfare="hats"``: sum lam W-hat; ``"geometric"``: exp(sum lam log W-hat) (A15).
    - ``welfare_gap_change`` (S4): the same gap measure of W_o with fixed weights L0;
      ``welfare_gap="destination"``: of V_d with weights L' (A16).

    Values are NaN where the equilibrium did not converge or is infeasible.
    """
    if gap not in S.GAP_MEASURES:
        raise InputError(f"statistics: gap={gap!r}; choose one of: {', '.join(S.GAP_MEASURES)}")
    if gdp not in ("goods", "real_housing"):
        raise InputError(f"statistics: gdp={gdp!r}; allowed: goods, real_housing")
    if welfare not in ("levels", "hats", "geometric"):
        raise InputError(f"statistics: welfare={welfare!r}; allowed: levels, hats, geometric")
    if welfare_gap not in ("origin", "destination"):
        raise InputError(f"statistics: welfare_gap={welfare_gap!r}; allowed: origin, destination")
    b = baseline
    Y1 = b.Y * eq.Y_hat
    if gdp == "goods":
        gdp_c = jnp.sum(Y1) / jnp.sum(b.Y) - 1.0
    else:
        gdp_c = jnp.sum(Y1 + b.PhH * eq.H_hat) / jnp.sum(b.Y + b.PhH) - 1.0
    L1 = b.L * eq.L_hat
    y0 = b.Y / b.L
    y1 = y0 * eq.Y_hat / eq.L_hat
    out_gap = S.gap(y1, L1, gap) / S.gap(y0, b.L, gap) - 1.0
    if welfare == "levels":
        wel = jnp.sum(b.lam * b.W * eq.W_hat) / jnp.sum(b.lam * b.W) - 1.0
    elif welfare == "hats":
        wel = jnp.sum(b.lam * eq.W_hat) - 1.0
    else:
        wel = jnp.exp(jnp.sum(b.lam * jnp.log(eq.W_hat))) - 1.0
    if welfare_gap == "origin":
        wgap = S.gap(b.W * eq.W_hat, b.L0, gap) / S.gap(b.W, b.L0, gap) - 1.0
    else:
        wgap = S.gap(b.V * eq.V_hat, L1, gap) / S.gap(b.V, b.L, gap) - 1.0
    ok = eq.converged & eq.feasible
    out = {"gdp_change": gdp_c, "output_gap_change": out_gap, "welfare_change": wel, "welfare_gap_change": wgap}
    return {k: jnp.where(ok, 100.0 * v, jnp.nan) for k, v in out.items()}


def diagnostics(baseline: Baseline, shock: Shock, eq: Equilibrium) -> dict[str, jax.Array]:
    """Sellers, buyers, quota traded (m2), sum of F (yuan; the central government's residual, A9),
    share of workers relocated (1/2 sum |L' - L| / sum L), solver flags (spec section 4)."""
    b = baseline
    dY = b.RY * (shock.RY_hat - 1.0)
    dH = b.RH * (shock.RH_hat - 1.0)
    F = shock.f * b.G
    L1 = b.L * eq.L_hat
    return {
        "sellers_productive": jnp.sum(dY < 0),
        "buyers_productive": jnp.sum(dY > 0),
        "sellers_residential": jnp.sum(dH < 0),
        "buyers_residential": jnp.sum(dH > 0),
        "quota_traded_productive_m2": jnp.sum(jnp.maximum(-dY, 0.0)),
        "quota_traded_residential_m2": jnp.sum(jnp.maximum(-dH, 0.0)),
        "sum_F_yuan": jnp.sum(F),
        "sum_F_over_sum_G": jnp.sum(F) / jnp.sum(b.G),
        "max_abs_f": jnp.max(jnp.abs(shock.f)),
        "share_relocated": 0.5 * jnp.sum(jnp.abs(L1 - b.L)) / jnp.sum(b.L),
        "converged": eq.converged,
        "feasible": eq.feasible,
        "infeasible_cities": jnp.sum(~eq.feasible_city),
        "steps": eq.steps,
        "residual_norm": eq.residual_norm,
    }


def city_table(baseline: Baseline, shock: Shock, eq: Equilibrium, dataset: Any = None):
    """City-level levels and hats as a DataFrame (for ``--city-out``)."""
    import pandas as pd

    b = baseline
    df = pd.DataFrame(
        {
            "RY_hat": np.asarray(shock.RY_hat),
            "RH_hat": np.asarray(shock.RH_hat),
            "f": np.asarray(shock.f),
            "tauY": np.asarray(b.tauY),
            "tauH": np.asarray(b.tauH),
            "L_hat": np.asarray(eq.L_hat),
            "Y_hat": np.asarray(eq.Y_hat),
            "w_hat": np.asarray(eq.w_hat),
            "V_hat": np.asarray(eq.V_hat),
            "W_hat": np.asarray(eq.W_hat),
            "Ph_hat": np.asarray(eq.Ph_hat),
            "G_hat": np.asarray(eq.G_hat),
            "A_hat": np.asarray(eq.A_hat),
            "feasible": np.asarray(eq.feasible_city),
        }
    )
    if dataset is not None:
        c = dataset.cities
        df.insert(0, "province", c["province"].to_numpy())
        if "name" in c:
            df.insert(0, "name", c["name"].to_numpy())
        df.insert(0, "city", c["city"].to_numpy())
    return df


# ------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------

_SOLVER_OPTIONS = {"damping": float, "tol": float, "max_steps": int}
_PARAM_OPTIONS = {"alpha": float, "eta": float, "kappa": float, "sigma": float, "rho": float, "closure": str}
_BASELINE_OPTIONS = {"labour_split": str, "tenure": lambda s: s.lower() in ("1", "true", "yes"), "land_rate": float}
_STAT_OPTIONS = {"gap": str, "gdp": str, "welfare": str, "welfare_gap": str}


def cli_solve(argv: list[str]) -> int:
    """``landjax solve quota_trade --data DIR --scenario NAME [--option K=V]... --json [--city-out FILE.csv]``."""
    from landjax.data.china import load_dataset
    from landjax.scenarios import quota as Q

    ap = argparse.ArgumentParser(
        prog="landjax solve quota_trade",
        description="Solve one quota-trade scenario of Ma & Ni. NAME is 'none' or "
        "{intra|inter}_{pilot|all}_{area|proportion}_{productive|residential|both}.",
    )
    ap.add_argument("--data", default=None, help="dataset directory or name (default: china_semireal)")
    ap.add_argument("--scenario", default="none")
    ap.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="K=V",
        help="scenario options (share, prices, ts, pilot_pool, migration_cut, cost_factor), parameters "
        "(alpha, eta, kappa, sigma, rho, closure), baseline options (labour_split, tenure, land_rate), "
        "statistics options (gap, gdp, welfare, welfare_gap) or solver options (damping, tol, max_steps)",
    )
    ap.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    ap.add_argument("--city-out", default=None, help="write city-level hats to this CSV")
    a = ap.parse_args(argv)
    try:
        opts = parse_pairs(a.option, "option")
        pk = {k: _PARAM_OPTIONS[k](v) for k, v in opts.items() if k in _PARAM_OPTIONS}
        bk = {k: _BASELINE_OPTIONS[k](v) for k, v in opts.items() if k in _BASELINE_OPTIONS}
        sk = {k: _STAT_OPTIONS[k](v) for k, v in opts.items() if k in _STAT_OPTIONS}
        vk = {k: _SOLVER_OPTIONS[k](v) for k, v in opts.items() if k in _SOLVER_OPTIONS}
        scen_opts = {
            k: v
            for k, v in opts.items()
            if k not in {**_PARAM_OPTIONS, **_BASELINE_OPTIONS, **_STAT_OPTIONS, **_SOLVER_OPTIONS}
        }
        scenario = Q.Scenario.from_name(a.scenario, **scen_opts)
        ds = load_dataset(a.data)
        params = Params(**pk)
        base = build_baseline(ds, params, **bk)
        shock = Q.compile_scenario(base, scenario, params=params)
        eq = solve(base, shock, params, throw=False, **vk)
        st = statistics(base, shock, eq, **sk)
        dg = diagnostics(base, shock, eq)
    except (InputError, ValueError) as exc:
        print(json.dumps({"error": str(exc)}), file=sys.stdout)
        print(f"landjax solve quota_trade: {exc}", file=sys.stderr)
        return 2

    def py(v):
        v = np.asarray(v)
        if v.dtype == bool:
            return bool(v)
        if np.issubdtype(v.dtype, np.integer):
            return int(v)
        fv = float(v)
        return fv if math.isfinite(fv) else None

    ok = bool(eq.converged) and bool(eq.feasible)
    out = {
        "converged": bool(eq.converged),
        "feasible": bool(eq.feasible),
        "statistics": {k: py(v) for k, v in st.items()},
        "diagnostics": {k: py(v) for k, v in dg.items()},
        "options": {
            "dataset": ds.name,
            "dataset_description": ds.describe(),
            "scenario": scenario.describe(),
            **{k: getattr(params, k) for k in ("alpha", "eta", "kappa", "sigma", "rho", "closure")},
            "labour_split": bk.get("labour_split", "data"),
            "tenure": bk.get("tenure", False),
            "gap": sk.get("gap", "williamson"),
            "gdp": sk.get("gdp", "goods"),
            "welfare": sk.get("welfare", "levels"),
            "welfare_gap": sk.get("welfare_gap", "origin"),
        },
    }
    if not ok:
        out["message"] = "no equilibrium: " + (
            "a buyer has no TFP root (A25)"
            if not bool(eq.feasible)
            else f"not converged, residual {float(eq.residual_norm):.3e} after {int(eq.steps)} steps"
        )
    if a.city_out:
        city_table(base, shock, eq, ds).to_csv(a.city_out, index=False)
        out["city_out"] = a.city_out
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0 if ok else 1
