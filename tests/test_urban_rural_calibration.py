"""Cheng & Liu (2021): Table-2 calibration (what can and cannot be hit), optimal policy, notebook."""

from __future__ import annotations

import numpy as np
import pytest

from landjax.models import urban_rural as ur


def test_printed_equations_cannot_hit_table2():
    """Spec section 8: under the default options no (alpha, phi, tau_n) hits the three targets."""
    r = ur.calibrate_reduced(ur.Options(), starts=4)
    assert not r["exact"]
    assert r["moments"][1] < 2.5  # R_ratio stays near 2 (identity 8.1), target 10.27


def test_gross_rent_ratio_calibrates_exactly():
    o = ur.Options(rratio="gross")
    r = ur.calibrate_reduced(o, starts=4)
    assert r["exact"], r
    np.testing.assert_allclose(r["verified_moments"], ur.targets(o), rtol=1e-8)
    alpha, phi, tau_n = r["params"]
    assert tau_n < -4 and 0.05 < alpha < 0.2  # spec 8.2-8.3: a 450 % land tax, alpha near 0.11


@pytest.mark.slow
def test_engine_calibrate_exact_and_not_exact():
    o = ur.Options(rratio="gross")
    ref = ur.calibrate_reduced(o, starts=4)
    res = ur.calibrate_table2(o, theta0=np.asarray(ref["params"]) * 1.05, max_steps=40)
    assert res.exact, res.message
    np.testing.assert_allclose(res.params, ref["params"], rtol=1e-7)
    np.testing.assert_allclose(res.moments, ur.targets(o), rtol=1e-8)


@pytest.mark.slow
def test_optimal_m_matches_grid():
    r = ur.optimal_policy(["m"], "Y_n", n_screen=0, n_starts=1, x0=[0.1], measure_grad_cost=False)
    grid = ur.policy_sweep("m", np.linspace(0.0, 0.2, 201))
    g = float(grid["value"].iloc[int(np.nanargmax(grid["Y_n"]))])
    assert r.converged
    assert abs(float(r.x[0]) - g) <= 0.001 + 1e-12
    assert r.value >= float(np.nanmax(grid["Y_n"])) - 1e-6
