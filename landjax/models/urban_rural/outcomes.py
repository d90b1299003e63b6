"""Reported statistics of the Cheng & Liu (2021) model: Table 2's moments, welfare (section V.2,
Figs. 7-10), outputs (Figs. 11-12), the sorting check and accounting identities."""

from __future__ import annotations

from collections.abc import Mapping

import jax.numpy as jnp
import numpy as np

from landjax.models.urban_rural.equations import levels_vector, state
from landjax.models.urban_rural.options import Options
from landjax.models.urban_rural.params import P_A, Params

#: Gauss-Legendre nodes on [0, 1] for the rural welfare integral (in t = log(h / h_low))
_GL_X, _GL_W = np.polynomial.legendre.leggauss(64)
_GL_X = (_GL_X + 1.0) / 2.0
_GL_W = _GL_W / 2.0


def rural_welfare_integral(a, b, th, hbar, p: Params):
    """int_{h_low}^{hbar} (a h + b)^theta f(h) dh by 64-point Gauss-Legendre in t = log(h / h_low)
    (the closed form uses 2F1, see `rural_welfare_integral_2f1`)."""
    T = jnp.log(hbar / p.h_low)
    t = T * jnp.asarray(_GL_X)
    h = p.h_low * jnp.exp(t)
    g = (a * h + b) ** th * p.k * jnp.exp(-p.k * t)
    return T * jnp.sum(jnp.asarray(_GL_W) * g)


def rural_welfare_integral_2f1(a, b, th, hbar, p: Params) -> float:
    """The same integral through the hypergeometric closed form (numpy/scipy; a check of the quadrature)."""
    from scipy.special import hyp2f1

    k, hl = float(p.k), float(p.h_low)

    def G(x):
        return a**th * x ** (th - k) / (k - th) * hyp2f1(-th, k - th, k - th + 1.0, -b / (a * x))

    return k * hl**k * (G(hl) - G(hbar))


def sorting_ratios(x, p: Params, o: Options = Options(), n: int = 64):
    """U_m(h)/U_r(h) - 1 at equilibrium prices on a grid below and above `hbar`.

    Below: `n` points geometrically spaced on [h_low, hbar (1 - 1e-6)]; above: `n` points on
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
    """Moments (Table 2), welfare (Figs. 7-10), outputs (Figs. 11-12) and accounting checks at `x`
    (the six unknowns in levels, as a vector or as the named unknowns of a result)."""
    if isinstance(x, Mapping):
        x = levels_vector(x)
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
        share = (p.h_low / (hbar - p.phi)) ** p.k  # the share the code would report (option loss="shift")
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
        walras_gap=excess_a + excess_n + st["unpaid"],  # Walras: the markets plus unpaid rent sum to 0 (up to rounding)
        excess_ag=excess_a,
        excess_nonag=excess_n,
        leak_unpaid=st["unpaid"],
        land_total=land_total,
        land_Omega=L["Omega"],
        s=pop["s"],
        gamma_g=g_u * p_n / (p_n * st["Y_n"]),
        sorting_ok=sorting_ok,
    )
