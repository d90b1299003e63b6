"""The Table 4 allocation rule (landjax.models.quota_trade.rules) on small hand-made baselines.

These tests need no equilibrium solve: they check the rule's shares, caps, volume, money and
its gradients.  Objectives through the quota-trade model are in test_optimal_allocation.py.
"""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landjax.engine import gradcheck
from landjax.errors import InputError
from landjax.models.quota_trade import rules as q
from landjax.reproduce import ma_ni_search as S


def toy_baseline(n=30, seed=0):
    """A synthetic Baseline-like namespace (only the fields the rule reads)."""
    rng = np.random.default_rng(seed)
    L = rng.uniform(1e5, 5e6, n)
    f = lambda a: jnp.asarray(a, dtype=jnp.float64)  # noqa: E731
    return SimpleNamespace(
        L=f(L),
        RY=f(rng.uniform(1e5, 1e7, n)),
        RH=f(rng.uniform(1e5, 1e7, n)),
        tauY=f(rng.normal(0.3, 0.6, n)),
        tauH=f(rng.normal(0.1, 0.6, n)),
        A=f(rng.uniform(0.5, 3.0, n)),
        V=f(rng.uniform(1e3, 5e3, n)),
        G=f(rng.uniform(1e8, 1e10, n)),
        buy_price=f(np.where(rng.uniform(size=n) < 0.2, 1050.0, 450.0)),
        sell_price=525.0,
    )


B = toy_baseline()


def test_omega_labels_follow_the_paper():
    assert q.OMEGA_LABELS[0] == "Y_sell_R_per_L" and q.OMEGA_LABELS[5] == "Y_buy_V"
    assert q.OMEGA_LABELS[6] == "H_sell_R_per_L" and q.OMEGA_LABELS[11] == "H_buy_V"


def test_covariates_are_mean_normalised():
    XY, XH = q.covariates(B)
    np.testing.assert_allclose(np.mean(XY, axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(XY[:, 0], (B.RY / B.L) / np.mean(B.RY / B.L), rtol=1e-12)
    np.testing.assert_allclose(XH[:, 2], B.V / np.mean(B.V), rtol=1e-12)


@settings(max_examples=30)
@given(st.integers(0, 10_000), st.floats(0.02, 0.6))
def test_capped_shares_hold_total_and_cap(seed, cap):
    rng = np.random.default_rng(seed)
    n = 25
    s = np.maximum(rng.normal(0.5, 1.0, n), 0.0)
    w = rng.uniform(1.0, 10.0, n)
    total = 0.15 * w.sum()
    phi = np.asarray(q.capped_shares(jnp.asarray(s), jnp.asarray(w), jnp.asarray(total), cap))
    assert np.all(phi <= cap + 1e-12) and np.all(phi >= 0)
    assert np.all(phi[s == 0] == 0)
    if cap * w[s > 0].sum() >= total:  # feasible: the volume is met exactly
        np.testing.assert_allclose(np.sum(w * phi), total, rtol=1e-12)
        free = (phi < cap - 1e-12) & (s > 0)
        if free.sum() > 1:  # proportional to the scores below the cap
            ratio = phi[free] / s[free]
            np.testing.assert_allclose(ratio, ratio[0], rtol=1e-10)
    else:  # infeasible: every positive score is capped
        np.testing.assert_allclose(phi[s > 0], cap, rtol=1e-12)


def test_capped_shares_without_cap_and_without_scores():
    s = jnp.asarray([0.0, 1.0, 3.0])
    np.testing.assert_allclose(q.capped_shares(s, jnp.ones(3), jnp.asarray(1.0), float("inf")), [0, 0.25, 0.75])
    np.testing.assert_allclose(q.capped_shares(jnp.zeros(3), jnp.ones(3), jnp.asarray(1.0), 0.5), 0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_allocation_constraints(seed):
    opts = q.RuleOptions(buy_cap=0.2)
    w = jnp.asarray(np.random.default_rng(seed).uniform(0.1, 1.0, 12))  # positive: every score > 0
    a = q.allocate(w, B, opts)
    for k, tau, R in (("Y", B.tauY, B.RY), ("H", B.tauH, B.RH)):
        ps, pb = np.asarray(getattr(a, f"phi_sell_{k}")), np.asarray(getattr(a, f"phi_buy_{k}"))
        sold, bought = np.asarray(getattr(a, f"sold_{k}")), np.asarray(getattr(a, f"bought_{k}"))
        tau = np.asarray(tau)
        assert np.all(ps[tau >= 0] == 0) and np.all(pb[tau <= 0] == 0)  # sellers tau<0, buyers tau>0
        assert ps.max() <= 0.5 + 1e-12 and pb.max() <= 0.2 + 1e-12
        np.testing.assert_allclose(pb.sum(), 1.0, rtol=1e-12)
        # volume held at the uniform 15 % volume, and one national pool: sold = bought
        np.testing.assert_allclose(sold.sum(), 0.15 * np.asarray(R)[tau < 0].sum(), rtol=1e-12)
        np.testing.assert_allclose(float(getattr(a, f"volume_{k}")), float(getattr(a, f"target_{k}")), rtol=1e-12)
        np.testing.assert_allclose(bought.sum(), sold.sum(), rtol=1e-12)
        np.testing.assert_allclose(sold, ps * np.asarray(R), rtol=1e-12)
    F = 525.0 * (a.sold_Y + a.sold_H) - B.buy_price * (a.bought_Y + a.bought_H)
    np.testing.assert_allclose(a.F, F, rtol=1e-12)


def test_clip_mode_is_the_literal_formula():
    opts = q.RuleOptions(sell_cap_mode="clip", sell_cap=0.3)
    w = jnp.asarray([1.0, -0.2, 0.1] * 4)
    a = q.allocate(w, B, opts)
    XY, _ = q.covariates(B)
    sell = np.asarray(B.tauY) < 0
    s = np.where(sell, np.maximum(np.asarray(XY) @ np.asarray(w[:3]), 0), 0)
    R = np.asarray(B.RY)
    expect = np.minimum(0.3, 0.15 * s * R[sell].sum() / np.sum(s * R))
    np.testing.assert_allclose(a.phi_sell_Y, expect, rtol=1e-12)


def test_balanced_prices_clear_money():
    a = q.allocate(jnp.full(12, 0.5), B, q.RuleOptions.from_options(q.Options(prices="balanced")))
    assert abs(float(jnp.sum(a.F))) < 1e-6 * float(jnp.sum(jnp.abs(a.F)))


def test_uniform_rules():
    area = q.uniform_allocation(B, "area")
    prop = q.uniform_allocation(B, "proportion")
    buyers = np.asarray(B.tauY) > 0
    b = np.asarray(area.bought_Y)[buyers]
    np.testing.assert_allclose(b, b[0], rtol=1e-12)
    inc = np.asarray(prop.bought_Y)[buyers] / np.asarray(B.RY)[buyers]
    np.testing.assert_allclose(inc, inc[0], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(area.phi_sell_Y)[np.asarray(B.tauY) < 0], 0.15)


def _summary(w, opts):
    a = q.allocate(w, B, opts)
    return jnp.stack(
        [
            jnp.sum(a.F / B.G),
            jnp.sum(a.bought_Y / B.RY * B.A),
            jnp.sum(a.sold_H / B.RH * B.V),
            jnp.max(a.phi_buy_H),
            a.volume_Y / a.target_Y,
        ]
    )


@pytest.mark.parametrize("opts", [q.RuleOptions(), q.RuleOptions(buy_cap=0.1, sell_cap=0.3)], ids=["default", "caps"])
def test_allocation_gradients_match_finite_differences(opts):
    rng = np.random.default_rng(5)
    for _ in range(3):
        w = jnp.asarray(rng.uniform(-1, 1, 12))
        chk = gradcheck(jax.jit(lambda x: _summary(x, opts)), w, eps=1e-6, rtol=1e-5, atol=1e-6)
        assert chk.ok, chk


@pytest.mark.parametrize(
    "opts",
    [
        q.RuleOptions(),
        q.RuleOptions(buy_cap=0.1, sell_cap=0.3, shortfall="shrink"),
        q.RuleOptions(sell_cap_mode="clip", normalise="zscore"),
        q.RuleOptions.from_options(q.Options(ts="surplus", prices="balanced"), normalise="none"),
    ],
    ids=["default", "caps-shrink", "clip-zscore", "raw-surplus-balanced"],
)
def test_rule_depends_on_each_block_only_through_its_direction(opts):
    """Positive rescaling of any block of three weights leaves the allocation unchanged (why the
    unconstrained BFGS search loses nothing), and normalise_omega maps into the paper's box."""
    rng = np.random.default_rng(8)
    for _ in range(3):
        w = rng.uniform(-1, 1, 12)
        scaled = w * np.repeat(rng.uniform(0.01, 50.0, 4), 3)
        a, b = q.allocate(jnp.asarray(w), B, opts), q.allocate(jnp.asarray(scaled), B, opts)
        for name in ("phi_sell_Y", "phi_buy_Y", "phi_sell_H", "phi_buy_H", "F"):
            np.testing.assert_allclose(
                np.asarray(getattr(b, name)),
                np.asarray(getattr(a, name)),
                rtol=1e-10,
                atol=1e-12 * float(np.max(np.abs(np.asarray(getattr(a, name))))),
                err_msg=name,
            )
        n = S.normalise_omega(scaled)
        assert np.all(np.abs(n) <= 1.0) and np.allclose(np.max(np.abs(n.reshape(4, 3)), axis=1), 1.0)
        np.testing.assert_allclose(n, S.normalise_omega(w), rtol=1e-12)
    # a negative rescaling is a different rule (the cut at zero flips), so it must change something
    flipped = q.allocate(jnp.asarray(-w), B, opts)
    assert not np.allclose(np.asarray(flipped.phi_buy_Y), np.asarray(a.phi_buy_Y))
    np.testing.assert_array_equal(S.normalise_omega(np.zeros(12)), np.zeros(12))


@pytest.mark.parametrize("w", [-np.ones(12), np.r_[-np.ones(6), np.ones(6)], np.zeros(12)])
def test_gradients_never_nan(w):
    """No positive score in a pool (no trade): the gradient is finite (zero), never NaN."""
    opts = q.RuleOptions(buy_cap=0.1)
    J = jax.jacrev(lambda x: _summary(x, opts))(jnp.asarray(w))
    assert np.all(np.isfinite(np.asarray(J)))
    Jf = jax.jacfwd(lambda x: _summary(x, opts))(jnp.asarray(w))
    assert np.all(np.isfinite(np.asarray(Jf)))


def test_bad_inputs():
    with pytest.raises(InputError, match="normalise"):
        q.RuleOptions(normalise="median")
    with pytest.raises(InputError, match="sell_cap"):
        q.RuleOptions(sell_cap=0.0)
    with pytest.raises(InputError, match="omega"):
        q.allocate(jnp.ones(11), B)
    with pytest.raises(InputError, match="unknown objective"):
        S._objective_key("max_happiness")
