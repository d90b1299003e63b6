"""Every number ``landjax solve quota_trade --json`` reports, recomputed in plain NumPy from the
dataset and the reported equilibrium (``unknowns.log_L_hat``) by independent formulas: the
baseline levels (eqs. (1)-(17)), the trades and quota money of the scenario (eqs. (18)-(20)), the
hats (TFP root by bracketing, wages, house prices, real income, migration, eqs. (1)-(17)), the
equilibrium condition itself (eq. (10)) and the four statistics and the diagnostics."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from landjax.cli import main
from landjax.contract import loads_strict
from landjax.data.china import load_dataset

CASES = {
    "default": ["--scenario", "inter_all_area_both"],
    "proportion-gini-geometric-housing": [
        "--scenario",
        "inter_all_proportion_both",
        "--option",
        "gap=gini",
        "--option",
        "welfare=geometric",
        "--option",
        "gdp=real_housing",
        "--set",
        "kappa=4",
    ],
    "productive-only-cv-hats": [
        "--scenario",
        "inter_all_area_productive",
        "--option",
        "gap=cv",
        "--option",
        "welfare=hats",
        "--option",
        "share=0.2",
    ],
}


def _gap(x, w, measure):
    s = w / w.sum()
    if measure == "cv":
        s = np.full(x.size, 1.0 / x.size)
    mu = float(np.sum(s * x))
    if measure in ("williamson", "cv"):
        return float(np.sqrt(np.sum(s * (x - mu) ** 2)) / mu)
    if measure == "gini":
        return float(np.sum(s[:, None] * s[None, :] * np.abs(x[:, None] - x[None, :])) / (2.0 * mu))
    raise AssertionError(measure)


def _largest_root(K, f, rho):
    """Largest y with y = K (y + f)^rho (eqs. (1), (16), (17)) by bracketing."""
    tangent = (rho * K) ** (1.0 / (1.0 - rho)) - f  # phi'(y) = 0 here; the largest root lies above
    lo = max(tangent, -f + 1e-300)
    hi = max(2.0 * lo, 10.0) + K ** (1 / (1 - rho)) * 10.0 + abs(f)
    return brentq(lambda y: y - K * (y + f) ** rho, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=500)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_every_reported_number_recomputed_in_numpy(case, capsys):
    code = main(["solve", "quota_trade", *CASES[case], "--json"])
    out = loads_strict(capsys.readouterr().out)
    assert code == 0 and out["converged"] is True and out["feasible"] is True
    o = out["options"]
    al, et, ka, si, rh = (float(o[k]) for k in ("alpha", "eta", "kappa", "sigma", "rho"))
    sc = o["scenario"]
    share, allocation, land = float(sc["share"]), sc["allocation"], sc["land"]
    assert sc["market"] == "inter_all" and sc["ts"] == "stock" and sc["prices"] == "given"

    # --- baseline levels from the raw tables ----------------------------------------------------
    ds = load_dataset(None)
    c = ds.cities
    col = {k: c[k].to_numpy(dtype=float) for k in ("L0", "w", "LY", "LH", "RY", "RH", "Ph", "buy_price")}
    m = np.asarray(ds.m, dtype=float)
    L0, w, LY, LH = col["L0"], col["w"], col["LY"], col["LH"]
    L = m.T @ L0
    Y = w * LY / al
    GY, GH = (1 - al) * Y, (1 - si) / si * w * LH
    G = GY + GH
    tau = {"Y": GY / (float(ds.meta["P_ry"]) * col["RY"]) - 1, "H": GH / (float(ds.meta["P_rh"]) * col["RH"]) - 1}
    V = w / col["Ph"] ** et
    W = V * np.diag(m) ** (-1.0 / ka)
    lam = L0 / L0.sum()

    # --- the scenario: one national pool per land type, eqs. (18)-(20) -------------------------
    R_hat, F, counts, traded = {}, np.zeros(len(c)), {}, {}
    for k, R in (("Y", col["RY"]), ("H", col["RH"])):
        sellers, buyers = tau[k] < 0, tau[k] > 0
        active = (land in ("both", {"Y": "productive", "H": "residential"}[k])) and sellers.any() and buyers.any()
        sold = np.where(sellers, share * R, 0.0) if active else np.zeros(len(c))
        weight = np.where(buyers, 1.0 if allocation == "area" else R, 0.0)
        bought = sold.sum() * weight / weight.sum() if active else np.zeros(len(c))
        R_hat[k] = 1.0 + (bought - sold) / R
        F += 525.0 * sold - col["buy_price"] * bought
        counts[k] = (int(sellers.sum()) if active else 0, int(buyers.sum()) if active else 0)
        traded[k] = sold.sum()
    f = F / G

    # --- the hats at the reported equilibrium ---------------------------------------------------
    Lh = np.exp(np.asarray(out["unknowns"]["log_L_hat"], dtype=float))
    K = Lh**al * R_hat["Y"] ** (1 - al)
    Yh = np.array([_largest_root(K[i], f[i], rh) for i in range(len(K))])
    wh = Yh / Lh
    Ph_hat = wh * Lh ** (1 - si) * R_hat["H"] ** (si - 1)  # P^h H = eta w L, H from eq. (12)
    H_hat = Lh**si * R_hat["H"] ** (1 - si)
    Vh = wh / Ph_hat**et
    D = m @ Vh**ka
    Wh = D ** (1.0 / ka)
    L_new = (m * Vh[None, :] ** ka / D[:, None]).T @ L0  # eq. (10) with the shares of eq. (9)
    np.testing.assert_allclose(L_new / L, Lh, rtol=1e-9)  # the reported point is an equilibrium

    # --- the statistics -------------------------------------------------------------------------
    g = o["gap"]
    if o["gdp"] == "goods":
        gdp = Y @ Yh / Y.sum() - 1
    else:
        PhH = et * w * L
        gdp = (Y @ Yh + PhH @ H_hat) / (Y.sum() + PhH.sum()) - 1
    out_gap = _gap(Y * Yh / (L * Lh), L * Lh, g) / _gap(Y / L, L, g) - 1
    if o["welfare"] == "levels":
        wel = (lam * W) @ Wh / (lam @ W) - 1
    elif o["welfare"] == "hats":
        wel = lam @ Wh - 1
    else:
        wel = np.exp(lam @ np.log(Wh)) - 1
    wgap = _gap(W * Wh, L0, g) / _gap(W, L0, g) - 1
    st = out["statistics"]
    for name, ours in (
        ("gdp_change", gdp),
        ("output_gap_change", out_gap),
        ("welfare_change", wel),
        ("welfare_gap_change", wgap),
    ):
        assert st[name] == pytest.approx(100 * ours, rel=1e-8, abs=1e-10), name
    assert abs(st["gdp_change"]) > 1e-3  # the case is not trivial

    # --- the diagnostics ------------------------------------------------------------------------
    dg = out["diagnostics"]
    assert (dg["sellers_productive"], dg["buyers_productive"]) == counts["Y"]
    assert (dg["sellers_residential"], dg["buyers_residential"]) == counts["H"]
    assert dg["quota_traded_productive_m2"] == pytest.approx(traded["Y"], rel=1e-12)
    assert dg["quota_traded_residential_m2"] == pytest.approx(traded["H"], rel=1e-12, abs=1e-6)
    assert dg["sum_F_yuan"] == pytest.approx(F.sum(), rel=1e-9)
    assert dg["sum_F_over_sum_G"] == pytest.approx(F.sum() / G.sum(), rel=1e-9)
    assert dg["max_abs_f"] == pytest.approx(np.abs(f).max(), rel=1e-12)
    assert dg["share_relocated"] == pytest.approx(0.5 * np.abs(L * Lh - L).sum() / L.sum(), rel=1e-8)
    assert dg["infeasible_cities"] == 0 and dg["feasible"] is True and dg["converged"] is True
    assert dg["output_gap_defined"] is True and dg["welfare_gap_defined"] is True
    assert dg["steps"] == out["steps"] and dg["residual_norm"] == pytest.approx(out["residual_norm"])
