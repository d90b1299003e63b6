"""Every number `landjax solve urban_rural` reports, recomputed from the equilibrium unknowns in
plain numpy/scipy from the paper's equations (integrals by adaptive quadrature, not the model's
closed forms or Gauss-Legendre rule)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from landjax.models import urban_rural as ur

CASES = [
    ({}, {}),
    ({"m": 0.3, "phi": 2.5}, {}),
    ({"tau_n": 0.5, "omega_a": 0.03}, {"closure": "nonag"}),
]


def _independent(x: dict, p: ur.Params) -> dict:
    """Moments, welfare and outputs at unknowns ``x`` (default readings: loss = h - phi, full rural
    income, post-conversion l_r, value Y ratio, net R ratio), eqs. (1)-(14) and section V.2."""
    g = {k: float(getattr(p, k)) for k in ur.PARAM_NAMES}
    hbar, p_n, R_a, R_n, R_u, g_u = (x[k] for k in ur.UNKNOWNS)
    k, hl = g["k"], g["h_low"]
    f = lambda h: k * hl**k * h ** (-k - 1.0)  # noqa: E731  Pareto density
    s = quad(f, hbar, np.inf, epsrel=1e-13)[0]  # migrant share
    H_r = quad(lambda h: h * f(h), hl, hbar, epsrel=1e-13)[0]
    Eh = quad(lambda h: h * f(h), hl, np.inf, epsrel=1e-13)[0]
    H_m = quad(lambda h: (h - g["phi"]) * f(h), hbar, np.inf, epsrel=1e-13)[0]
    N_r, N_u, th, al = g["N_r"], g["N_u"], g["theta"], g["alpha"]
    l_a, l_0 = g["Omega_a"] / N_r, g["Omega_0"] / N_r
    c = g["omega_a"] * l_a + g["omega_0"] * l_0
    stay = N_r * (1.0 - s)
    la_p = g["Omega_a"] * (1.0 - g["omega_a"] * s) / stay  # eq. (20)
    lr_p = (g["Omega_r"] + c * g["phi_r"] * N_r * s) / stay  # eq. (21)
    # producers, eqs. (1)-(5)
    kap_a = ((1.0 - g["beta_a"]) * g["A_a"] / R_a) ** (1.0 / g["beta_a"])
    w_a = g["beta_a"] * g["A_a"] * kap_a ** (1.0 - g["beta_a"])
    Y_a = N_r * g["A_a"] * kap_a ** (1.0 - g["beta_a"]) * H_r
    H_u = N_u * Eh + N_r * H_m
    L_u = N_u + N_r * s
    A_n = g["A_bar"] * (H_u / L_u) ** g["psi"] * L_u ** g["gamma"]
    ge = g_u ** g["epsilon"]
    kap_n = ((1.0 - g["beta_n"]) * p_n * A_n * ge / ((1.0 - g["tau_n"]) * R_n)) ** (1.0 / g["beta_n"])
    w_n = g["beta_n"] * p_n * A_n * kap_n ** (1.0 - g["beta_n"]) * ge
    Y_n = A_n * kap_n ** (1.0 - g["beta_n"]) * ge * H_u
    Rz = g["sigma_z"] * R_n + (1.0 - g["sigma_z"]) * R_u
    C = c * (1.0 - g["phi_r"]) * g["m"] * Rz  # compensation per migrant, eq. (12)
    # indirect utilities, eqs. (6)-(10)
    Psi_r = (al**al * ((1.0 - al) / p_n) ** (1.0 - al)) ** th
    Psi_u = ((al * th) ** al * ((1.0 - al) * th / p_n) ** (1.0 - al)) ** th * ((1.0 - th) / R_u) ** (1.0 - th)
    TU_u = Psi_u * N_u * w_n * Eh
    TU_m = N_r * Psi_u * quad(lambda h: (w_n * (h - g["phi"]) + C) * f(h), hbar, np.inf, epsrel=1e-13)[0]
    TU_r = (
        N_r
        * Psi_r
        * lr_p ** (1.0 - th)
        * quad(lambda h: (w_a * h + R_a * la_p) ** th * f(h), hl, hbar, epsrel=1e-13, epsabs=0)[0]
    )
    return {
        "Y_ratio": p_n * Y_n / Y_a,
        "R_ratio": R_u / ((1.0 - g["tau_n"]) * R_n),
        "migrant_share": s,
        "TU": TU_r + TU_m + TU_u,
        "TU_r": TU_r,
        "TU_m": TU_m,
        "TU_u": TU_u,
        "Y_a": Y_a,
        "Y_n": Y_n,
    }


@pytest.mark.parametrize("pkw, okw", CASES, ids=["table1", "policy", "nonag"])
def test_reported_statistics_recomputed(pkw, okw):
    p, o = ur.make_params(**pkw), ur.Options(**okw)
    out = ur.solve(p, o).to_dict()
    ref = _independent(out["unknowns"], p)
    for sec, names in (("moments", ur.MOMENTS), ("welfare", ur.WELFARE), ("output", ur.OUTPUT)):
        for name in names:
            assert out[sec][name] == pytest.approx(ref[name], rel=1e-9), (sec, name)


def test_migrant_share_and_welfare_move_with_policy():
    """Sanity of the recomputation itself: it distinguishes two equilibria."""
    a = ur.solve().to_dict()
    b = ur.solve(ur.make_params(m=0.3)).to_dict()
    ra, rb = _independent(a["unknowns"], ur.Params()), _independent(b["unknowns"], ur.make_params(m=0.3))
    assert abs(ra["TU"] - rb["TU"]) > 1e-6
    assert rb["TU"] == pytest.approx(b["welfare"]["TU"], rel=1e-9)
