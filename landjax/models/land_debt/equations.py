"""Steady-state equations of the two-city land-debt model (Zhao & Liu 2024).

The paper's own equations are not public (only its English summary); the functional forms are
the project's specification of the model, written out and numbered in `docs/zhao_liu2024.md`
("The model's equations"), and every function cites those numbers. Cities `j = 1` (developed
east) and `j = 2` (central-west); the numeraire is the national composite good; per-city arrays
have shape `(2,)`.

Steady-state unknowns (a flat vector `y` inside the solver; a dict of named arrays in the
contract's `residual`): `lnY` (2), `lnKp` (2), `lnGc` (2), then `logit_N1` (1) when
`mobility='mobile'` and `s` (2) when `attraction='optimal'`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from landjax.models.land_debt.options import Options
from landjax.models.land_debt.params import Params


def a_k(p: Params):
    """Capital elasticity `a_k = 1 - a_n - a_l` of the production function, eq. (8)."""
    return 1.0 - p.a_n - p.a_l


def k_bar_eff(p: Params, o: Options):
    """Land-servicing infrastructure per unit of land `k_bar`, eq. (14); 0 in the `homothetic` variant."""
    return p.k_bar * 0.0 if o.variant == "homothetic" else p.k_bar


def rates(p: Params):
    """Interest rate `r = 1/beta - 1` and capital rental `r^k = r + delta_k` (risk-neutral savers), eq. (7)."""
    r = 1.0 / p.beta - 1.0
    return r, r + p.delta_k


def armington(lnY, p: Params):
    """CES composite `X` and prices `p_j = (omega_j X / Y_j)^(1/sigma)`, eq. (1).

    **Returns:** `(ln X, ln p)`."""
    sig = p.sigma
    z = jnp.log(p.omega) / sig + (sig - 1.0) / sig * lnY
    lnX = sig / (sig - 1.0) * jax.scipy.special.logsumexp(z, axis=-1, keepdims=True)
    lnp = (jnp.log(p.omega) + lnX - lnY) / sig
    return lnX[..., 0], lnp


def land_value_multiple(p: Params):
    """Land value per unit of GDP `v_j = V_j / (p_j Y_j)` in a steady state, eqs. (9)-(11), (17)."""
    hs = p.chi / (1.0 + p.chi)
    return (1.0 - p.tau) * (p.a_l + hs * p.a_n) / (1.0 - p.beta * (1.0 - p.delta_L))


def fiscal_yield(p: Params, s):
    """Net fiscal yield of GDP `phi_j = tau_j + delta_L v_j - s_j a_k (1 - tau_j)/(1 - s_j)`, eqs. (12), (17)."""
    return p.tau + p.delta_L * land_value_multiple(p) - s * a_k(p) * (1.0 - p.tau) / (1.0 - s)


def gamma_tilde(p: Params):
    """Output elasticity of infrastructure once private capital adjusts, `gamma / (1 - a_k)`, eq. (17)."""
    return p.gamma / (1.0 - a_k(p))


def indirect_utility(w, R, p: Params):
    """Worker utility `V_j = (1 + chi) ln w_j - chi ln R_j + ln b_j` (constants dropped), eq. (3)."""
    return (1.0 + p.chi) * jnp.log(w) - p.chi * jnp.log(R) + jnp.log(p.b)


def location_shares(V, p: Params):
    """Frechet location choice with hukou cost mu: returns (N*_1, N*_2) and the welfare
    W_o = (1/kappa) ln sum_d (e^{V_d}/mu_od)^kappa of each hukou group, eqs. (4)-(5)."""
    lnmu = jnp.log(p.mu) * (1.0 - jnp.eye(2))  # [origin, destination]
    z = p.kappa * (V[None, :] - lnmu)
    lse = jax.scipy.special.logsumexp(z, axis=1, keepdims=True)
    m = jnp.exp(z - lse)
    Nstar = p.N_bar @ m
    return Nstar, lse[:, 0] / p.kappa


def n_unknowns(o: Options) -> int:
    """Number of steady-state unknowns: 6, +1 when mobile, +2 with optimal attraction."""
    return 6 + (o.mobility == "mobile") + 2 * (o.attraction == "optimal")


def unpack(y, p: Params, o: Options) -> dict:
    """Steady-state unknowns -> named levels: (ln Y_j, ln K^p_j, ln G^c_j) [, logit N_1] [, s_j]."""
    out = {"lnY": y[0:2], "lnKp": y[2:4], "lnGc": y[4:6]}
    i = 6
    if o.mobility == "mobile":
        N1 = jax.nn.sigmoid(y[i])
        i += 1
    else:
        N1 = p.N_bar[0] + 0.0 * y[0]
    out["N"] = jnp.stack([N1, 1.0 - N1])
    out["s"] = y[i : i + 2] if o.attraction == "optimal" else p.s + 0.0 * y[0:2]
    return out


def _attraction_objective(s, s0, pY0, p: Params, Gc, eta_over_lambda):
    """Government's intratemporal objective in the subsidy s, eq. (18), holding K^p, N, L
    and p fixed: xi ln(pY) + Lambda[tau pY + delta_L v pY - s r^k K] + Lambda (eta/Lambda)/beta_g theta_L v pY,
    with Y(s) and K(s) from the firm's conditions, eqs. (8)-(9)."""
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


def ss_blocks(y, p: Params, o: Options) -> dict:
    """All steady-state quantities implied by the unknowns, eqs. (1)-(15)."""
    u = unpack(y, p, o)
    lnY, lnKp, lnGc, N, s = u["lnY"], u["lnKp"], u["lnGc"], u["N"], u["s"]
    r, rk = rates(p)
    ak = a_k(p)
    kb = k_bar_eff(p, o)
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


def steady_state_residual(y, p: Params, o: Options):
    """Steady-state residuals as one vector: production, eq. (8); government budget with a binding
    collateral constraint, eqs. (13), (15); infrastructure first-order condition, eq. (17), per city;
    location choice `N_1 = N*_1`, eq. (4), when mobile; the investment-attraction first-order
    condition, eq. (18), when `attraction='optimal'`."""
    q = ss_blocks(y, p, o)
    u = unpack(y, p, o)
    r, rk = rates(p)
    ak = a_k(p)
    # production, eq. (8)
    res_prod = u["lnY"] - (
        jnp.log(p.A)
        + p.gamma * jnp.log(q["Ke"])
        + ak * jnp.log(q["K"])
        + p.a_n * jnp.log(q["N"])
        + p.a_l * jnp.log(q["Lf"])
    )
    # budget, eq. (13) (B from the binding collateral constraint eq. (15); LR = delta_L V - s r^k K, eq. (12))
    gc_implied = p.tau * q["pY"] + q["LR"] - q["Ip"] - q["Is"] - r * q["B"] - p.g_bar * p.N_bar
    res_budget = (q["Gc"] - gc_implied) / q["pY"]
    # infrastructure first-order condition, eq. (17)
    eta_t = 1.0 - p.beta_g * (1.0 + r)
    D = 1.0 - eta_t * p.theta_K - p.beta_g * (1.0 - p.delta_g)
    phi = fiscal_yield(p, u["s"])
    rhs = gamma_tilde(p) * (
        (eta_t * p.theta_L * q["v"] + p.beta_g * phi) * q["pY"] + p.beta_g * p.xi / (1.0 - p.xi) * q["Gc"]
    )
    res_foc = jnp.log(q["Ke"] * D) - jnp.log(rhs)
    parts = [res_prod, res_budget, res_foc]
    if o.mobility == "mobile":  # eq. (4): N_1 = N*_1(V_1, V_2)
        V = indirect_utility(q["w"], q["R"], p)
        Nstar, _ = location_shares(V, p)
        parts.append(jnp.reshape(jnp.log(q["N"][0] / q["N"][1]) - jnp.log(Nstar[0] / Nstar[1]), (1,)))
    if o.attraction == "optimal":  # eq. (18): dG/ds_j = 0
        s = u["s"]
        g = jax.grad(lambda ss: _attraction_objective(ss, s, q["pY"], p, q["Gc"], eta_t)[0])(s)
        Lam = (1.0 - p.xi) / q["Gc"]
        parts.append(g * (1.0 - s) / (Lam * q["pY"]))
    return jnp.concatenate(parts)


#: names of the residual blocks (the contract's :func:`residual`), in the order of the vector
RESIDUAL_BLOCKS = ("production", "budget", "infrastructure_foc", "location", "attraction_foc")


def pack(unknowns: dict[str, Any], o: Options) -> jax.Array:
    """Named unknowns `{"lnY", "lnKp", "lnGc"[, "logit_N1"][, "s"]}` -> the solver's flat vector."""
    parts = [unknowns["lnY"], unknowns["lnKp"], unknowns["lnGc"]]
    if o.mobility == "mobile":
        parts.append(jnp.reshape(unknowns["logit_N1"], (1,)))
    if o.attraction == "optimal":
        parts.append(unknowns["s"])
    return jnp.concatenate([jnp.asarray(x, dtype=jnp.float64) for x in parts])


def named(y: jax.Array, o: Options) -> dict[str, jax.Array]:
    """The solver's flat vector -> named unknowns (inverse of `pack`)."""
    out = {"lnY": y[0:2], "lnKp": y[2:4], "lnGc": y[4:6]}
    i = 6
    if o.mobility == "mobile":
        out["logit_N1"] = y[i]
        i += 1
    if o.attraction == "optimal":
        out["s"] = y[i : i + 2]
    return out


def residual(unknowns: dict[str, Any], p: Params, o: Options) -> dict[str, jax.Array]:
    """The steady-state conditions of `steady_state_residual` by block (zero at a steady state):
    `production` eq. (8), `budget` eqs. (13), (15), `infrastructure_foc` eq. (17), `location`
    eq. (4) (mobile), `attraction_foc` eq. (18) (optimal attraction)."""
    r = steady_state_residual(pack(unknowns, o), p, o)
    out = {"production": r[0:2], "budget": r[2:4], "infrastructure_foc": r[4:6]}
    i = 6
    if o.mobility == "mobile":
        out["location"] = r[i : i + 1]
        i += 1
    if o.attraction == "optimal":
        out["attraction_foc"] = r[i : i + 2]
    return out
