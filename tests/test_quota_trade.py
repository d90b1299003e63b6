"""Quota-trade model (Ma & Ni): zero shock, level identities (eqs. (1)-(17)) in every Table 2/3
scenario, an independent numpy solve, scenario compiler, feasibility, CLI."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq

from landjax.cli import main
from landjax.data.china import load_dataset
from landjax.errors import ConvergenceError, InputError
from landjax.models import quota_trade as M
from landjax.models.quota_trade import policy as Q

P = M.Params()


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


@pytest.fixture(scope="module")
def base(ds):
    return M.build_baseline(ds, P)


@pytest.fixture(scope="module")
def base_model_split(ds):
    return M.build_baseline(ds, P, labour_split="model")


def test_zero_shock_returns_ones(base):
    eq = M.solve(base, M.zero_shock(base))
    for name in ("L_hat", "Y_hat", "w_hat", "V_hat", "W_hat", "Ph_hat", "G_hat", "A_hat"):
        assert float(jnp.max(jnp.abs(getattr(eq, name) - 1.0))) < 1e-14, name
    st = M.statistics(base, M.zero_shock(base), eq)
    assert all(abs(float(v)) < 1e-11 for v in st.values())


def test_baseline_matches_paper_shares(base):
    # the datasets' land prices are set to the paper's 2017 shares of tau > 0 (documented)
    assert abs(float(jnp.mean(base.tauY > 0)) - 0.802) < 0.01
    assert abs(float(jnp.mean(base.tauH > 0)) - 0.6675) < 0.01
    # closed forms of eqs. (2)-(4), (13)-(17): G - F = gamma Y under the model's labour split
    b = M.build_baseline(load_dataset(), P, labour_split="model")
    gamma = (1 - P.alpha) + P.alpha * P.eta * (1 - P.sigma) / (1 - P.sigma * P.eta)
    np.testing.assert_allclose(np.asarray(b.G), gamma * np.asarray(b.Y), rtol=1e-12)


def _levels(b, sh, eq, p):
    """Counterfactual levels rebuilt from the hats (eqs. (1)-(17) in levels)."""
    al, rho = p.alpha, p.rho
    Y1 = b.Y * eq.Y_hat
    L1 = b.L * eq.L_hat
    w1 = b.w * eq.w_hat
    F1 = sh.f * b.G
    G1 = (1 - al) * Y1 + b.GH * eq.w_hat * eq.L_hat + F1  # government budget from levels, eq. (17)
    A1 = G1**rho * b.Abar ** (1 - rho)  # eq. (16)
    return Y1, L1, w1, F1, G1, A1


@pytest.mark.parametrize("scenario", Q.table_scenarios(), ids=lambda s: s.name)
def test_level_identities(base, base_model_split, scenario):
    for b in (base, base_model_split):
        sh = Q.compile_scenario(b, scenario)
        eq = M.solve(b, sh, P)
        assert bool(eq.converged) and bool(eq.feasible)
        Y1, L1, w1, F1, G1, A1 = _levels(b, sh, eq, P)
        m1 = M.migration_shares(b, sh, eq, P)
        # rows of m' sum to 1; L' = L0 m'; labour adds up
        np.testing.assert_allclose(np.asarray(m1.sum(axis=1)), 1.0, rtol=0, atol=1e-12)
        np.testing.assert_allclose(np.asarray(b.L0 @ m1), np.asarray(L1), rtol=1e-10)
        assert abs(float(jnp.sum(L1)) / float(jnp.sum(b.L0)) - 1) < 1e-10
        # government budget: G' = G G-hat = (1-alpha) Y' + G^H w-hat L-hat + F'
        np.testing.assert_allclose(np.asarray(b.G * eq.G_hat), np.asarray(G1), rtol=1e-10)
        # production function in levels with A' rebuilt from G' and Abar, eq. (1)
        np.testing.assert_allclose(
            np.asarray(Y1),
            np.asarray(A1 * (b.LY * eq.L_hat) ** P.alpha * (b.RY * sh.RY_hat) ** (1 - P.alpha)),
            rtol=1e-10,
        )
        # ACR welfare: W-hat = V-hat m-hat_oo^(-1/kappa)
        mhat_oo = jnp.diag(m1) / jnp.diag(b.m)
        np.testing.assert_allclose(np.asarray(eq.W_hat), np.asarray(eq.V_hat * mhat_oo ** (-1 / P.kappa)), rtol=1e-10)
    # national goods market with the central residual (holds in levels under the model's labour split)
    b = base_model_split
    sh = Q.compile_scenario(b, scenario)
    eq = M.solve(b, sh, P)
    Y1, L1, w1, F1, G1, A1 = _levels(b, sh, eq, P)
    lhs = float(jnp.sum(Y1))
    rhs = float(jnp.sum((1 - P.eta) * w1 * L1) + jnp.sum(G1 - F1))
    assert abs(lhs / rhs - 1) < 1e-10
    # total demand exceeds supply by exactly sum F' (the central government's residual)
    demand = float(jnp.sum((1 - P.eta) * w1 * L1) + jnp.sum(G1))
    assert abs((demand - lhs) - float(jnp.sum(F1))) < 1e-10 * lhs


def numpy_solve(b, sh, p, damping=0.7, tol=1e-15):
    """An independent solve of H1-H6 with numpy and scipy.brentq (no JAX)."""
    al, et, ka, si, rho = p.alpha, p.eta, p.kappa, p.sigma, p.rho
    L0, m, L = (np.asarray(v) for v in (b.L0, b.m, b.L))
    RYh, RHh, f = (np.asarray(v) for v in (sh.RY_hat, sh.RH_hat, sh.f))
    x = np.zeros_like(L0)
    for _ in range(3000):
        Lh = np.exp(x)
        K = Lh**al * RYh ** (1 - al)
        Yh = np.empty_like(K)
        for i in range(K.size):
            lo = max((rho * K[i]) ** (1 / (1 - rho)) - f[i], 1e-12)  # the minimum of y - K(y+f)^rho (or ~0)
            hi = 10.0 * (K[i] ** (1 / (1 - rho)) + abs(f[i]) + 1.0)
            Yh[i] = brentq(lambda y: y - K[i] * (y + f[i]) ** rho, lo, hi, xtol=1e-300, rtol=1e-15, maxiter=500)
        wh = Yh / Lh
        Vh = wh ** (1 - et) * Lh ** (-et * (1 - si)) * RHh ** (et * (1 - si))
        D = m @ Vh**ka
        Lnew = Vh**ka * (m.T @ (L0 / D)) / L
        xn = np.log(Lnew)
        if np.max(np.abs(xn - x)) < tol:
            x = xn
            break
        x = x + damping * (xn - x)
    Lh = np.exp(x)
    return Lh, Yh, D ** (1 / ka)


@pytest.mark.parametrize(
    "name", ["inter_all_area_both", "intra_pilot_proportion_productive", "inter_pilot_area_residential"]
)
def test_independent_numpy_solve_agrees(base, name):
    sh = Q.compile_scenario(base, Q.Scenario.from_name(name))
    eq = M.solve(base, sh, P)
    Lh, Yh, Wh = numpy_solve(base, sh, P)
    np.testing.assert_allclose(np.asarray(eq.L_hat), Lh, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(eq.Y_hat), Yh, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(eq.W_hat), Wh, rtol=1e-10)
    # the statistics from the numpy hats
    b = base
    gdp = 100 * (np.sum(np.asarray(b.Y) * Yh) / np.sum(np.asarray(b.Y)) - 1)
    st = M.statistics(base, sh, eq)
    assert abs(float(st["gdp_change"]) - gdp) < 1e-10


def test_scenario_compiler_conserves_area_and_classifies(base):
    for sc in Q.table_scenarios():
        sh = Q.compile_scenario(base, sc)
        for R, Rh, tau in ((base.RY, sh.RY_hat, base.tauY), (base.RH, sh.RH_hat, base.tauH)):
            d = np.asarray(R * (Rh - 1))
            assert abs(d.sum()) < 1e-6 * np.abs(d).sum() + 1e-9  # land is only moved
            t = np.asarray(tau)
            assert np.all(t[d < 0] < 0) and np.all(t[d > 0] > 0)  # sellers tau<0, buyers tau>0
        if sc.market.startswith("intra"):
            prov = np.asarray(base.province)
            for R, Rh in ((base.RY, sh.RY_hat), (base.RH, sh.RH_hat)):
                d = np.asarray(R * (Rh - 1))
                sums = np.bincount(prov, weights=d)
                assert np.max(np.abs(sums)) < 1e-6 * (np.abs(d).sum() + 1)
        if sc.market.endswith("pilot"):
            pil = np.asarray(base.pilot)
            assert np.all(np.asarray(sh.RY_hat)[~pil] >= 1.0) and np.all(np.asarray(sh.RH_hat)[~pil] >= 1.0)
        if sc.market == "intra_pilot":
            pil = np.asarray(base.pilot)
            assert np.all(np.asarray(sh.RY_hat)[~pil] == 1.0)
    # sellers sell exactly 15 % of their stock of the traded type
    sh = Q.compile_scenario(base, Q.Scenario.from_name("inter_all_area_productive"))
    sellers = np.asarray(base.tauY) < 0
    np.testing.assert_allclose(np.asarray(sh.RY_hat)[sellers], 0.85, rtol=1e-14)
    # equal area: every buyer gets the same area
    buyers = np.asarray(base.tauY) > 0
    got = np.asarray(base.RY * (sh.RY_hat - 1))[buyers]
    np.testing.assert_allclose(got, got[0], rtol=1e-12)
    # equal proportion: every buyer gets the same percentage increase
    sh = Q.compile_scenario(base, Q.Scenario.from_name("inter_all_proportion_productive"))
    r = np.asarray(sh.RY_hat)[buyers]
    np.testing.assert_allclose(r, r[0], rtol=1e-12)
    # money: F = 525 sold - r_buy bought; balanced prices make sum F = 0
    sh_b = Q.compile_scenario(base, Q.Scenario.from_name("inter_all_area_both", prices="balanced"))
    assert abs(float(jnp.sum(sh_b.f * base.G))) < 1e-6 * float(jnp.sum(jnp.abs(sh_b.f * base.G)))
    # surplus TS (Options.ts, eq. (18)): sellers sell share * (-tau) R
    sh_s = Q.compile_scenario(base, Q.Scenario.from_name("inter_all_area_productive", ts="surplus"))
    np.testing.assert_allclose(
        np.asarray(sh_s.RY_hat)[sellers], 1 - 0.15 * (-np.asarray(base.tauY)[sellers]), rtol=1e-13
    )


def test_scenario_names_and_errors():
    s = Q.Scenario.from_name("intra_pilot_proportion_residential", share="0.2")
    assert (s.market, s.allocation, s.land, s.share) == ("intra_pilot", "proportion", "residential", 0.2)
    assert s.name == "intra_pilot_proportion_residential"
    assert Q.Scenario.from_name("none").name == "none"
    with pytest.raises(InputError, match="expected 'none' or"):
        Q.Scenario.from_name("inter_some_area_both")
    with pytest.raises(InputError, match="unknown scenario option 'colour'"):
        Q.Scenario.from_name("inter_all_area_both", colour="red")
    with pytest.raises(InputError, match="prices"):
        Q.Scenario(prices="cheap")


def test_migration_cost_cut_and_tenure(ds, base):
    ch = Q.migration_cost_change(base, "inter_pilot")
    pil, _prov = np.asarray(base.pilot), np.asarray(base.province)
    C = np.asarray(ch)
    assert np.all(np.diag(C) == 1.0)
    i = int(np.flatnonzero(pil)[0])
    j = int(np.flatnonzero(~pil)[0])
    assert C[i, j] == 0.9 and C[j, i] == 0.9
    k, l = np.flatnonzero(~pil)[:2]
    assert C[k, l] == 1.0
    sh = Q.compile_scenario(base, Q.Scenario.from_name("none", migration_cut="all"))
    eq = M.solve(base, sh)
    assert bool(eq.converged)
    assert float(M.statistics(base, sh, eq)["welfare_change"]) > 0  # cheaper migration raises expected utility
    # eq. (21): P_ry x 1.0595 only reclassifies tau^Y; G unchanged
    bt = M.build_baseline(ds, P, tenure=True)
    assert M.TENURE_FACTOR == pytest.approx(1.0595, abs=1e-4)
    np.testing.assert_allclose(np.asarray(bt.G), np.asarray(base.G), rtol=1e-14)
    assert float(jnp.mean(bt.tauY > 0)) <= float(jnp.mean(base.tauY > 0))


def test_parameter_change_rederives_tau_and_G(ds, base):
    b2 = M.build_baseline(ds, M.Params(alpha=0.83))
    assert not np.allclose(np.asarray(b2.G), np.asarray(base.G))
    assert float(jnp.mean(b2.tauY > 0)) < float(jnp.mean(base.tauY > 0))  # re-derived wedges: fewer short cities


def test_infeasible_purchase_is_reported(base):
    sh = M.zero_shock(base)
    f = np.zeros(base.n)
    f[0] = -5.0  # pays five times its land revenue: no TFP root (eqs. (16)-(17))
    sh = M.Shock(sh.RY_hat, sh.RH_hat, jnp.asarray(f))
    eq = M.solve(base, sh, throw=False)
    assert not bool(eq.feasible) and not bool(eq.feasible_city[0])
    assert all(np.isnan(float(v)) for v in M.statistics(base, sh, eq).values())
    with pytest.raises(ConvergenceError, match="no TFP root"):
        M.solve(base, sh)
    with pytest.raises(InputError, match="Shock.RY_hat"):
        M.solve(base, M.Shock(jnp.ones(3), sh.RH_hat, sh.f))


def test_tfp_root_closed_form_and_bound():
    K = jnp.array([0.9, 1.0, 1.2])
    y = M.tfp_root(K, jnp.zeros(3), 0.103 * jnp.ones(3))
    np.testing.assert_allclose(np.asarray(y), np.asarray(K ** (1 / (1 - 0.103))), rtol=1e-14)
    # largest root for f < 0 near the bound: still solves the equation
    rho = 0.103
    fb = float(M.equations._tfp_bound(1.0, rho))
    assert fb == pytest.approx(-((1 - rho) / rho) * rho ** (1 / (1 - rho)))
    yv = float(M.tfp_root(jnp.array(1.0), jnp.array(0.9 * fb), jnp.array(rho)))
    assert abs(yv - (yv + 0.9 * fb) ** rho) < 1e-13
    # with K-hat = 1 a buyer can pay at most ~69 % of its land revenue (eqs. (16)-(17))
    assert -fb == pytest.approx(0.69, abs=0.01)


def test_vmap_batch_and_trade_list(ds, base):
    sc = Q.Scenario.from_name("inter_all_area_both")
    shares = jnp.array([0.05, 0.10, 0.15, 0.20])

    def gdp(s):
        sh = Q.compile_scenario(base, sc, share=s)
        eq = M.solve(base, sh, throw=False)
        return M.statistics(base, sh, eq)["gdp_change"]

    v = jax.jit(jax.vmap(gdp))(shares)
    single = float(gdp(0.15))
    assert abs(float(v[2]) - single) < 1e-10
    assert np.all(np.diff(np.asarray(v)) > 0)
    ids = list(ds.cities["city"])
    trades = pd.DataFrame(
        {"seller": [ids[0], ids[1]], "buyer": [ids[2], ids[2]], "area": [1e5, 2e5], "price": [600.0, np.nan]}
    )
    sh = Q.trades_to_shock(base, trades, ids, land="half")
    assert float(base.RY[2] * (sh.RY_hat[2] - 1)) == pytest.approx(1.5e5)
    assert float(sh.f[0] * base.G[0]) == pytest.approx(525 * 1e5)
    assert float(sh.f[2] * base.G[2]) == pytest.approx(-(600 * 1e5 + float(base.buy_price[2]) * 2e5))
    assert bool(M.solve(base, sh).converged)
    with pytest.raises(InputError, match="row 1, column 'seller'"):
        Q.trades_to_shock(base, trades.assign(seller=["X", ids[1]]), ids)


def test_cli_solve(tmp_path, capsys):
    out = tmp_path / "cities.csv"
    rc = main(
        [
            "solve",
            "quota_trade",
            "--scenario",
            "inter_all_area_both",
            "--option",
            "gap=gini",
            "--json",
            "--city-out",
            str(out),
        ]
    )
    res = json.loads(capsys.readouterr().out)
    assert rc == 0 and res["converged"] is True
    assert set(res["statistics"]) == set(M.STATISTICS)
    assert res["options"]["gap"] == "gini" and res["options"]["dataset"] == "china_semireal"
    assert res["diagnostics"]["sellers_productive"] > 0
    assert len(pd.read_csv(out)) == len(load_dataset().cities)
    rc = main(["solve", "quota_trade", "--scenario", "none", "--json"])
    res = json.loads(capsys.readouterr().out)
    assert rc == 0 and abs(res["statistics"]["gdp_change"]) < 1e-10
    rc = main(["solve", "quota_trade", "--scenario", "inter_bad", "--json"])
    assert rc == 2 and "error" in json.loads(capsys.readouterr().out)


def test_alternative_options_run_and_differ(base):
    sc = Q.Scenario.from_name("inter_all_area_both")
    sh = Q.compile_scenario(base, sc)
    eq = M.solve(base, sh)
    st = M.statistics(base, sh, eq)
    # fixed-price closure (Options.closure): G' = (1+tau) P R' + F'; zero shock still returns ones
    pf = M.Params(closure="fixed_price")
    eq0 = M.solve(base, M.zero_shock(base), pf)
    assert float(jnp.max(jnp.abs(eq0.L_hat - 1))) < 1e-14
    eqf = M.solve(base, sh, pf)
    stf = M.statistics(base, sh, eqf)
    assert bool(eqf.converged) and stf["gdp_change"] != st["gdp_change"]
    # Options.gdp / welfare / welfare_gap alternatives are finite and differ from the defaults where they should
    alt = M.statistics(base, sh, eq, gdp="real_housing", welfare="geometric", welfare_gap="destination")
    assert all(np.isfinite(float(v)) for v in alt.values())
    assert float(alt["gdp_change"]) != float(st["gdp_change"])
    assert float(alt["output_gap_change"]) == float(st["output_gap_change"])
    with pytest.raises(InputError, match="gap='bogus'"):
        M.statistics(base, sh, eq, gap="bogus")
    with pytest.raises(InputError, match="closure"):
        M.Params(closure="other")


def _largest_root_bisection(K, f, rho):
    """Reference: the largest root of y = K (y + f)^rho by bisection in numpy (right of the tangency)."""
    zt = (rho * K) ** (1.0 / (1.0 - rho))  # z at the tangency
    lo, hi = zt - f, max(K ** (1.0 / (1.0 - rho)) * 2.0 ** (rho / (1.0 - rho)) + abs(f), zt - f) * 2.0 + 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid - K * (mid + f) ** rho > 0:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def test_tfp_root_series_start_matches_bisection_everywhere():
    """The series start with the unrolled Newton steps gives the largest root to ~1 ulp for f/u from
    near the feasibility bound to large payments (both start branches), and its derivative is the
    implicit-function one."""
    rho = 0.103
    rng = np.random.default_rng(3)
    K = rng.uniform(0.5, 2.0, 400)
    u = K ** (1.0 / (1.0 - rho))
    fb = np.asarray(M.equations._tfp_bound(K, rho))
    g = np.concatenate([rng.uniform(-0.6, 0.6, 200), rng.uniform(1.0, 20.0, 100), np.zeros(100)])
    f = np.maximum(g * u, 0.999 * fb)
    y = np.asarray(M.tfp_root(jnp.asarray(K), jnp.asarray(f), rho * jnp.ones(400)))
    ref = np.array([_largest_root_bisection(k, fi, rho) for k, fi in zip(K, f, strict=True)])
    np.testing.assert_allclose(y, ref, rtol=1e-14)
    yu = M.equations._tfp_root_given_u(jnp.asarray(K), jnp.asarray(u), jnp.asarray(f), rho * jnp.ones(400))
    np.testing.assert_allclose(np.asarray(yu), y, rtol=1e-15)
    # derivative in f by central differences on the reference root
    i = 7
    d = float(jax.grad(lambda ff: M.tfp_root(jnp.asarray(K[i]), ff, jnp.asarray(rho)))(jnp.asarray(f[i])))
    h = 1e-6
    fd = (_largest_root_bisection(K[i], f[i] + h, rho) - _largest_root_bisection(K[i], f[i] - h, rho)) / (2 * h)
    assert d == pytest.approx(fd, rel=1e-7)
