"""The equilibrium conditions of the Cheng & Liu (2021) urban-rural model, paper eqs. (1)-(23).

Six unknowns `x = (hbar, p_n, R_a, R_n, R_u, g_u)` with `p_a = 1` the numeraire: the
marginal migrant's human capital and five prices. `residual_levels` is the six conditions
E1-E6; `residual` the same in the log coordinates the solver uses. `reduced` is the
model reduced to one equation in `hbar` (given `hbar`, E2-E6 pin every price in closed form);
`initial_guess` brackets its root by a grid scan refined towards the edges of the admissible
region, then bisection, so that the whole solve is jittable and vmappable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp

from landjax.models.urban_rural.options import Options
from landjax.models.urban_rural.params import P_A, S_DATA, UNKNOWNS, Params

#: number of grid points of the hbar scan that provides the initial guess
_SCAN_N = 241
_SCAN_T = (-12.0, 9.0)  # t = log(hbar - h_low) range of the scan


def _goods_share(p: Params, o: Options):
    """Goods expenditure share of urban consumers (option `theta`)."""
    return p.theta if o.theta == "goods" else 1.0 - p.theta


def population(hbar, p: Params, o: Options) -> dict:
    """Closed-form Pareto integrals (section IV) (migrant share, capital of stayers/migrants).

    `hbar` is the true threshold on `h`."""
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
    """Land accounting, eqs. (17)-(18), (20)-(21) ."""
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
    """Urban productivity A_n = A_bar (E_u h)^psi L_u^gamma, eq. (4) (option `Eu`)."""
    H_u = p.N_u * pop["Ebar"] + p.N_r * pop["H_m"]
    L_u = p.N_u + p.N_r * pop["s"]
    H_avg = H_u if o.Eu == "post" else p.N_u * pop["Ebar"] + p.N_r * pop["Hplus"]
    A_n = p.A_bar * (H_avg / L_u) ** p.psi * L_u**p.gamma
    return H_u, L_u, A_n


def state(x, p: Params, o: Options) -> dict:
    """Every equilibrium object given the six unknowns `x = (hbar, p_n, R_a, R_n, R_u, g_u)`.

    Individual problems eqs. (1)-(12) in closed form and the aggregates they imply."""
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
    leak = (1.0 - p.mu) * L["S"] * Rc  # land-operation cost: the (1 - mu) share of stock rent, eq. (13)
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
    """The six equilibrium conditions E1-E6 at unknowns `x` (levels).

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
    """Log coordinates `z = (log(hbar - h_low), log p_n, log R_a, log R_n, log R_u, log g_u)` -> levels."""
    return jnp.concatenate([jnp.atleast_1d(p.h_low + jnp.exp(z[0])), jnp.exp(z[1:])])


def to_logs(x, p: Params):
    return jnp.concatenate([jnp.atleast_1d(jnp.log(x[0] - p.h_low)), jnp.log(x[1:])])


#: the names of the six conditions in the dict returned by :func:`residual` for named unknowns
CONDITIONS = ("E1", "E2", "E3", "E4", "E5", "E6")


def levels_vector(unknowns: Mapping[str, Any]) -> jax.Array:
    """The named unknowns of a `Result` (`{"hbar", "p_n", ...}`, levels)
    as the vector `x` of `residual_levels` (a leading batch axis is kept)."""
    return jnp.stack([jnp.asarray(unknowns[k], dtype=jnp.float64) for k in UNKNOWNS], axis=-1)


def residual(z, p: Params, o: Options = Options()):
    """E1-E6 in the log coordinates used by the solver (positivity of every unknown).

    Given the named unknowns of a result (a dict in levels, the coordinates of `outcomes`),
    returns `{"E1": ..., "E6": ...}` instead (the model contract's form)."""
    if isinstance(z, Mapping):
        r = residual_levels(levels_vector(z), p, o)
        return {k: r[i] for i, k in enumerate(CONDITIONS)}
    return residual_levels(to_levels(z, p), p, o)


def residual_engine(z: jax.Array, args: tuple[Params, Options]) -> jax.Array:
    """`residual` as the engine's `fn(z, args)` with `args = (params, options)` (the options
    are static: one compiled program per option set, reused across calls)."""
    p, o = args
    return residual(z, p, o)


def reduced(hbar, p: Params, o: Options = Options()):
    """The model reduced to one equation: given `hbar`, E2-E6 pin every price in closed form; returns
    `(F, x)` with `F = U_m(hbar)/U_r(hbar) - 1` (E1, eq. 14) and `x` the six unknowns."""
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


_EDGE_N = 96  # points of each refinement towards an edge of the feasible region
_EDGE_BISECT = 60  # bisection steps locating an edge


def _admissible(F, X):
    """Grid points where the reduced form gives finite, positive prices (g_u > 0 etc.)."""
    return jnp.isfinite(F) & jnp.all(jnp.isfinite(X), axis=-1) & jnp.all(X > 0, axis=-1)


def _edge_points(p: Params, o: Options, t, ok):
    """Points clustered towards both edges of the admissible region of the coarse scan.

    Near an edge (where the government budget `g_u` of eq. (13) reaches zero, say) the reduced
    equation can cross zero between the last admissible grid point and the edge, so a coarse scan
    alone would miss the equilibrium (and report none). Each edge (the last ok -> not-ok and the
    first not-ok -> ok transition of the scan) is located by bisection on admissibility between the
    two coarse points around it (both edges in one vmapped loop), then `_EDGE_N` points are placed
    between the inner coarse point and the edge at geometrically shrinking distances (down to 1e-13
    of the gap). Where the scan has no such edge the points repeat the inner coarse point."""
    n = t.shape[0]
    up = ok[:-1] & ~ok[1:]
    i_up = (n - 2) - jnp.argmax(up[::-1])
    down = ~ok[:-1] & ok[1:]
    i_dn = jnp.argmax(down)
    t_in = jnp.stack([t[i_up], t[i_dn + 1]])
    t_out = jnp.stack([t[i_up + 1], t[i_dn]])
    has = jnp.stack([jnp.any(up), jnp.any(down)])

    def adm(tt):
        F, X = jax.vmap(lambda u: reduced(p.h_low + jnp.exp(u), p, o))(tt)
        return _admissible(F, X)

    def body(_, c):
        a, b = c  # a admissible, b not (one entry per edge)
        mid = 0.5 * (a + b)
        good = adm(mid)
        return jnp.where(good, mid, a), jnp.where(good, b, mid)

    a, _ = jax.lax.fori_loop(0, _EDGE_BISECT, body, (t_in, t_out))
    frac = 10.0 ** jnp.linspace(0.0, -13.0, _EDGE_N)
    pts = a[:, None] + (t_in - a)[:, None] * frac[None, :]
    return jnp.where(has[:, None], pts, t_in[:, None]).reshape(-1)


def _bracket_root(p: Params, o: Options):
    """Root `t = log(hbar - h_low)` of the reduced equation by a grid scan and 64 bisection steps.

    The grid is a coarse scan of `_SCAN_N` points over `_SCAN_T` merged with points clustered
    towards both edges of the admissible region (`_edge_points`), so an equilibrium close
    to where the model stops having positive prices is not missed. The root taken is the
    lowest-hbar sign change of F on the merged grid (for Table-1 parameters and every option
    there is exactly one, with F rising through zero); sorting is checked afterwards."""
    p = jax.lax.stop_gradient(p)
    t0, hb0 = _scan_grid(p)
    F0, X0 = jax.vmap(lambda h: reduced(h, p, o))(hb0)
    ok0 = _admissible(F0, X0)
    extra = _edge_points(p, o, t0, ok0)
    Fe, Xe = jax.vmap(lambda tt: reduced(p.h_low + jnp.exp(tt), p, o))(extra)
    t = jnp.concatenate([t0, extra])
    F = jnp.concatenate([F0, Fe])
    ok = jnp.concatenate([ok0, _admissible(Fe, Xe)])
    order = jnp.argsort(t)
    t, F, ok = t[order], F[order], ok[order]
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
    """Initial guess for the six-equation solve from the reduced form (`reduced`); pure JAX
    (vmappable). Returns `(z0, found)` in log coordinates."""
    p = jax.lax.stop_gradient(p)
    tm, found = _bracket_root(p, o)
    _, x = reduced(p.h_low + jnp.exp(tm), p, o)
    z0 = to_logs(x, p)
    z0 = jnp.where(jnp.isfinite(z0), z0, 0.0)
    return z0, found & jnp.all(jnp.isfinite(x)) & jnp.all(x > 0)


def reduced_engine(t: jax.Array, args: tuple[Params, Options]) -> jax.Array:
    """The reduced equation E1 in `t = log(hbar - h_low)` as the engine's `fn(t, args)`."""
    p, o = args
    return reduced(p.h_low + jnp.exp(t), p, o)[0]
