"""Cheng & Liu (2021) urban-rural model: second routes, accounting identities, sorting, gradients,
bad input and the CLI."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq, root

from landjax.cli import main
from landjax.contract import loads_strict
from landjax.engine import gradcheck
from landjax.errors import InputError, NoEquilibriumError
from landjax.models import urban_rural as ur

OPTION_SETS = [ur.Options(), ur.Options(closure="nonag"), ur.Options(closure="rebate_u")]


@pytest.fixture(scope="module", params=OPTION_SETS, ids=lambda o: o.label())
def solved(request):
    o = request.param
    return o, ur.solve_equilibrium(ur.Params(), o)


def _brentq_route(p, o):
    """Second route: the spec's reduction to one equation in hbar, solved with scipy's brentq
    on a bracket found by scanning hbar (numpy floats in, numpy floats out)."""
    F = jax.jit(lambda h: ur.reduced(h, p, o)[0])
    hs = p.h_low + np.exp(np.linspace(-10, 6, 400))
    vals = np.array([float(F(h)) for h in hs])
    i = int(np.argmax(np.isfinite(vals[:-1]) & np.isfinite(vals[1:]) & (np.sign(vals[:-1]) != np.sign(vals[1:]))))
    hbar = brentq(lambda h: float(F(h)), hs[i], hs[i + 1], xtol=1e-15, rtol=1e-15, maxiter=200)
    return np.asarray(ur.reduced(hbar, p, o)[1])


def test_second_route_brentq_agrees(solved):
    o, eq = solved
    x_full = np.array([eq.unknowns[k] for k in ur.UNKNOWNS])
    x_red = _brentq_route(ur.Params(), o)
    np.testing.assert_allclose(x_full, x_red, rtol=1e-10, atol=0)
    assert eq.converged and eq.residual_norm < 1e-9


def test_third_route_scipy_root_from_perturbed_start(solved):
    """scipy.optimize.root (hybr) on the same six residuals, started 20 % away in logs."""
    o, eq = solved
    p = ur.Params()
    x_full = np.array([eq.unknowns[k] for k in ur.UNKNOWNS])
    f = jax.jit(lambda z: ur.residual(z, p, o))
    J = jax.jit(jax.jacfwd(lambda z: ur.residual(z, p, o)))
    z_star = np.asarray(ur.to_logs(jnp.asarray(x_full), p))
    z0 = z_star + 0.2 * np.array([0.5, -1.0, 1.0, -1.0, 1.0, -1.0])
    sol = root(
        lambda z: np.asarray(f(jnp.asarray(z))),
        z0,
        jac=lambda z: np.asarray(J(jnp.asarray(z))),
        method="hybr",
        options={"xtol": 1e-13},
    )
    # hybr may stop with "xtol too small" once at machine precision: judge by the residual itself
    assert np.max(np.abs(np.asarray(f(jnp.asarray(sol.x))))) < 1e-10, sol.message
    np.testing.assert_allclose(np.asarray(ur.to_levels(jnp.asarray(sol.x), p)), x_full, rtol=1e-10)


def test_land_walras_sorting(solved):
    o, eq = solved
    assert abs(eq.extra["land_total"] - eq.extra["land_Omega"]) < 1e-14
    assert abs(eq.walras_gap) < 1e-10
    assert eq.sorting_ok
    if o.closure == "rebate_u":  # the leak is paid out: both goods markets clear
        assert abs(eq.extra["excess_ag"]) < 1e-10 and abs(eq.extra["excess_nonag"]) < 1e-10
    else:  # exactly one market is off by the unpaid land-operation cost
        off = eq.extra["excess_nonag"] if o.closure == "ag" else eq.extra["excess_ag"]
        assert off == pytest.approx(-eq.extra["leak_unpaid"], rel=1e-10)
        assert eq.extra["leak_unpaid"] > 0.1


def test_sorting_on_grid_by_hand():
    """Independent sorting check: utilities of each h recomputed from the closed forms at equilibrium prices."""
    p, o = ur.Params(), ur.Options()
    eq = ur.solve_equilibrium(p, o)
    x = jnp.asarray([eq.unknowns[k] for k in ur.UNKNOWNS])
    st = ur.state(x, p, o)
    hbar = eq.unknowns["hbar"]
    for h in np.concatenate([np.linspace(p.h_low, hbar * 0.999, 50), np.linspace(hbar * 1.001, 20 * hbar, 50)]):
        Um = float(st["Psi_u"] * (st["w_n"] * (h - p.phi) + st["C"]))
        Ur = float(st["Psi_r"] * (st["w_a"] * h + st["rent_b"]) ** st["th"] * st["lr_u"] ** (1 - st["th"]))
        assert (Um > Ur) == (h > hbar)


def test_pareto_integrals_and_welfare_quadrature():
    p = ur.Params()
    hbar, a, b, th = 5.0, 0.37, 0.9, 0.83
    f = lambda h: p.k * p.h_low**p.k * h ** (-p.k - 1)  # noqa: E731
    gl = float(ur.rural_welfare_integral(a, b, th, hbar, p))
    q = quad(lambda h: (a * h + b) ** th * f(h), p.h_low, hbar, epsabs=1e-14, epsrel=1e-13)[0]
    hyp = ur.rural_welfare_integral_2f1(a, b, th, hbar, p)
    assert gl == pytest.approx(q, rel=1e-11)
    assert gl == pytest.approx(hyp, rel=1e-11)
    pop = ur.population(hbar, p, ur.Options())
    assert float(pop["H_r"]) == pytest.approx(quad(lambda h: h * f(h), p.h_low, hbar, epsrel=1e-13)[0], rel=1e-11)
    assert float(pop["s"]) == pytest.approx(quad(f, hbar, np.inf, epsrel=1e-13)[0], rel=1e-10)


def test_value_moments_invariant_to_externalities():
    """Spec section 6: hbar and value moments do not depend on A_bar, A_a, psi, gamma, epsilon."""
    o = ur.Options()
    a = ur.solve_equilibrium(ur.Params(), o)
    b = ur.solve_equilibrium(ur.make_params(A_bar=2.0, A_a=0.5, psi=3.0, gamma=0.2, epsilon=0.1), o)
    assert b.unknowns["hbar"] == pytest.approx(a.unknowns["hbar"], rel=1e-10)
    for k in ur.MOMENTS:
        assert b.moments[k] == pytest.approx(a.moments[k], rel=1e-9)
    assert b.output["Y_n"] != pytest.approx(a.output["Y_n"], rel=1e-3)


GRAD_NAMES = ("m", "phi_r", "omega_a", "omega_0", "alpha", "phi", "tau_n")


@pytest.mark.parametrize("route", ["full", "reduced"])
def test_gradients_vs_finite_differences(route):
    p0, o = ur.Params(), ur.Options()
    x0 = jnp.array([float(getattr(p0, n)) for n in GRAD_NAMES])

    def f(x):
        q = ur.with_values(p0, **{n: x[i] for i, n in enumerate(GRAD_NAMES)})
        out = ur.solve_jax(q, o)[1] if route == "full" else ur.solve_reduced_jax(q, o)[1]
        return jnp.stack([out["TU"], out["Y_n"]])

    # reverse mode through the six-equation solve; both modes through the reduced route (compile time)
    modes = ("rev",) if route == "full" else ("rev", "fwd")
    chk = gradcheck(f, x0, eps=1e-6, rtol=1e-5, atol=1e-6, modes=modes)
    assert chk.ok, chk


def test_batched_sweep_matches_single_solves():
    vals = np.array([0.1, 0.5, 0.9])
    df = ur.policy_sweep("m", vals)
    assert df["converged"].all() and df["sorting_ok"].all()
    for v, row in zip(vals, df.itertuples(), strict=False):
        eq = ur.solve_equilibrium(ur.make_params(m=float(v)))
        assert row.hbar == pytest.approx(eq.unknowns["hbar"], rel=1e-10)
        assert row.TU == pytest.approx(eq.welfare["TU"], rel=1e-10)


def test_classify_shape():
    x = np.linspace(0, 1, 11)
    assert ur.classify_shape(x) == "up"
    assert ur.classify_shape(-x) == "down"
    assert ur.classify_shape(-((x - 0.4) ** 2)) == "inverted U"
    assert ur.classify_shape((x - 0.4) ** 2) == "U"
    assert ur.classify_shape(np.sin(8 * x)) == "non-monotone"


@pytest.mark.parametrize(
    "kw, needle",
    [
        ({"m": 1.2}, "Params.m=1.2 is outside its allowed range [0, 1]"),
        ({"phi_r": -0.1}, "Params.phi_r=-0.1 is outside its allowed range [0, 1]"),
        ({"Omega_0": -0.1}, "Params.Omega_0=-0.1 is outside its allowed range [0, inf)"),
        ({"alpha": 1.0}, "Params.alpha=1 is outside its allowed range (0, 1)"),
        ({"k": np.float32(0.5)}, "Params.k=0.5 is outside its allowed range (1, inf)"),
        ({"tau_n": jnp.asarray(1.5)}, "Params.tau_n=1.5 is outside its allowed range (-inf, 1)"),
        ({"mu": np.nan}, "Params.mu: must be finite"),
    ],
)
def test_bad_input_messages(kw, needle):
    with pytest.raises(InputError) as exc:
        ur.make_params(**kw)
    assert needle in str(exc.value)


@pytest.mark.parametrize(
    "kw, needle",
    [
        ({"tau_n": 0.99}, "no equilibrium with g_u > 0"),
        ({"m": 1.0, "phi": 0.0}, "every rural resident prefers to migrate"),
    ],
)
def test_no_equilibrium_says_which_condition_fails(kw, needle):
    with pytest.raises(NoEquilibriumError) as exc:
        ur.solve_equilibrium(ur.make_params(**kw))
    assert needle in str(exc.value)
    with pytest.raises(NoEquilibriumError, match=needle):
        ur.solve(ur.make_params(**kw))
    r = ur.solve(ur.make_params(**kw), throw=False)
    assert not r.ok and int(r.code) == 4 and needle in r.message
    assert all(np.isnan(v) for v in r.outcomes["moments"].values())


def test_sorting_failure_is_flagged():
    """An equilibrium of eqs. (1)-(23) that violates sorting is not presented as an answer."""
    o = ur.Options(loss="div")
    vals = np.linspace(0.05, 0.95, 19)
    pb = ur.batch_params(ur.Params(phi=1.5), len(vals), m=vals)
    res = ur.solve_many(pb, o)
    bad = np.flatnonzero(res["converged"] & ~res["sorting_ok"])
    if bad.size == 0:
        pytest.skip("no sorting failure on this grid")
    p = ur.make_params(phi=1.5, m=float(vals[bad[0]]))
    with pytest.warns(ur.SortingWarning):
        eq = ur.solve_equilibrium(p, o)
    assert not eq.sorting_ok
    r = ur.solve(p, o, throw=False)
    assert not r.ok and int(r.code) == 4 and "sorting" in r.message


def test_unknown_names_listed():
    with pytest.raises(InputError, match="valid parameters: N_r, N_u"):
        ur.make_params(Nr=0.5)
    with pytest.raises(InputError, match="valid options: numeraire, closure"):
        ur.make_options(closur="ag")
    with pytest.raises(InputError, match="choose one of ag, nonag, rebate_u"):
        ur.Options(closure="both")


def test_cli_json(capsys):
    rc = main(["solve", "urban_rural", "--set", "m=0.4", "--option", "closure=nonag", "--json"])
    out = loads_strict(capsys.readouterr().out)
    assert rc == 0
    assert set(out) >= {"converged", "unknowns", "moments", "welfare", "output", "options", "sorting_ok", "walras_gap"}
    assert list(out["unknowns"]) == list(ur.UNKNOWNS)
    assert list(out["moments"]) == ["Y_ratio", "R_ratio", "migrant_share"]
    assert list(out["welfare"]) == ["TU", "TU_r", "TU_m", "TU_u"]
    assert list(out["output"]) == ["Y_a", "Y_n"]
    assert out["options"]["closure"] == "nonag" and out["converged"] is True
    assert all(np.isfinite(v) for d in ("unknowns", "moments", "welfare", "output") for v in out[d].values())
    # the same numbers as the Python API
    eq = ur.solve_equilibrium(ur.make_params(m=0.4), ur.Options(closure="nonag"))
    assert out["welfare"]["TU"] == eq.welfare["TU"]


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--set", "bogus=1", "--json"], "bogus"),
        (["--option", "bogus=1", "--json"], "valid options"),
        (["--set", "m=abc", "--json"], "not a number"),
        (["--set", "m=1.5", "--json"], "Params.m=1.5 is outside its allowed range [0, 1]"),
        (["--option", "closure=maybe", "--json"], "closure"),
    ],
)
def test_cli_errors_exit_2(capsys, argv, needle):
    assert main(["solve", "urban_rural", *argv]) == 2
    err = capsys.readouterr()
    assert needle in err.err
    assert "error" in loads_strict(err.out)


def test_cli_no_equilibrium_exit_1(capsys):
    assert main(["solve", "urban_rural", "--set", "tau_n=0.99", "--json"]) == 1
    cap = capsys.readouterr()
    assert "no equilibrium" in cap.err
    out = loads_strict(cap.out)
    assert out["converged"] is False and out["moments"]["Y_ratio"] is None


def test_a_stalled_newton_solve_is_not_called_a_step_limit():
    from landjax.models import urban_rural as ur

    r = ur.solve(ur.Params(), solver=ur.Solver(ftol=1e-30), throw=False)  # ftol below rounding: it stalls
    assert not bool(r.converged) and int(r.steps) < 50
    assert int(r.code) == 3 and "stalled" in r.message
