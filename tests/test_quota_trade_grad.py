"""Gradients of the four quota-trade statistics (implicit differentiation) against finite differences."""

import jax.numpy as jnp
import pytest

from landjax.data.china import load_dataset
from landjax.engine import gradcheck
from landjax.models import quota_trade as M
from landjax.models.quota_trade import policy as Q


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


@pytest.mark.parametrize(
    "name,gap,modes",
    [("inter_all_area_both", "williamson", ("rev", "fwd")), ("intra_all_proportion_both", "gini", ("rev",))],
)
def test_statistics_gradient_wrt_share_and_shock(ds, name, gap, modes):
    base = M.build_baseline(ds)
    sc = Q.Scenario.from_name(name)

    def stats(x):
        sh = Q.compile_scenario(base, sc, share=x[0])
        sh = M.Shock(RY_hat=1 + x[1] * (sh.RY_hat - 1), RH_hat=1 + x[2] * (sh.RH_hat - 1), f=x[3] * sh.f)
        eq = M.solve(base, sh, throw=False)
        st = M.statistics(base, sh, eq, gap=gap)
        return jnp.stack([st[k] for k in M.STATISTICS])

    x0 = jnp.array([0.15, 1.0, 1.0, 1.0])
    chk = gradcheck(stats, x0, eps=1e-6, rtol=1e-5, atol=1e-7, modes=modes)
    assert chk.ok, chk
    # the derivative of GDP with respect to the share is not trivially zero
    assert abs(float(chk.ad["rev"][0, 0])) > 0.1


def test_statistics_gradient_wrt_parameters(ds):
    sc = Q.Scenario.from_name("inter_all_area_both")

    def stats(theta):
        p = M.Params(alpha=theta[0], kappa=theta[1], rho=theta[2])
        base = M.build_baseline(ds, p)  # tau, G, Y, A, W re-derived from the same data
        sh = Q.compile_scenario(base, sc)
        eq = M.solve(base, sh, p, throw=False)
        st = M.statistics(base, sh, eq)
        return jnp.stack([st[k] for k in M.STATISTICS])

    chk = gradcheck(stats, jnp.array([0.67, 3.0, 0.103]), eps=1e-6, rtol=1e-5, atol=1e-7, modes=("fwd",))
    assert chk.ok, chk
