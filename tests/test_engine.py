"""Engine tests: closed-form roots, implicit gradients, backend agreement, batches with failing
members, calibration, optimisation, error messages."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from landjax.engine import (
    BlockTridiagonal,
    calibrate,
    fixed_point,
    gradcheck,
    optimize,
    solve,
    solve_batch,
)
from landjax.errors import ConvergenceError, DtypeWarning, InputError
from landjax.examples import (
    Armington,
    Exchange,
    armington_map,
    armington_residual,
    armington_wages,
    exchange_price,
    exchange_residual,
    scalar_residual,
)

ROOT_CONFIGS = [
    ("newton", "optimistix"),
    ("newton", "jaxopt"),
    ("newton", "native"),
    ("broyden", "native"),
    ("broyden", "jaxopt"),
    ("dogleg", "optimistix"),
    ("lm", "optimistix"),
]
FP_CONFIGS = [
    ("picard", "optimistix"),
    ("picard", "jaxopt"),
    ("picard", "native"),
    ("anderson", "native"),
    ("anderson", "jaxopt"),
]


def exchange_par():
    return Exchange(alpha=jnp.array([0.3, 0.55]), e1=jnp.array([1.0, 2.5]), e2=jnp.array([3.0, 0.7]))


def armington_par(n=4, trade_costs=False, seed=0):
    rng = np.random.default_rng(seed)
    d = np.ones((n, n))
    if trade_costs:
        d = 1.0 + rng.uniform(0.1, 0.8, (n, n))
        np.fill_diagonal(d, 1.0)
    a = rng.uniform(0.5, 1.5, n)
    return Armington(
        Q=jnp.asarray(rng.uniform(0.5, 3.0, n)), a=jnp.asarray(a / a.sum()), sigma=jnp.asarray(4.0), d=jnp.asarray(d)
    )


# ----------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("method,backend", ROOT_CONFIGS)
def test_scalar_root_and_derivative(method, backend):
    a = jnp.asarray(10.0)
    sol = solve(scalar_residual, 1.0, a, method=method, backend=backend)
    assert sol.converged and sol.value.shape == ()
    np.testing.assert_allclose(sol.value, 2.0, rtol=1e-12)
    d = jax.grad(lambda a: solve(scalar_residual, 1.0, a, method=method, backend=backend).value)(a)
    np.testing.assert_allclose(d, 1.0 / 13.0, rtol=1e-10)


@pytest.mark.parametrize("method,backend", ROOT_CONFIGS)
def test_exchange_economy_closed_form(method, backend):
    par = exchange_par()
    sol = solve(exchange_residual, jnp.zeros(1), par, method=method, backend=backend)
    np.testing.assert_allclose(jnp.exp(sol.value[0]), exchange_price(par), rtol=1e-10)
    # derivative of p1 w.r.t. preferences and endowments against the closed form
    g = jax.grad(lambda p: jnp.exp(solve(exchange_residual, jnp.zeros(1), p, method=method, backend=backend).value[0]))(
        par
    )
    g_exact = jax.grad(exchange_price)(par)
    for leaf, leaf_exact in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(g_exact), strict=False):
        np.testing.assert_allclose(leaf, leaf_exact, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("method,backend", ROOT_CONFIGS)
def test_armington_closed_form(method, backend):
    par = armington_par()
    sol = solve(armington_residual, jnp.zeros(3), par, method=method, backend=backend)
    np.testing.assert_allclose(sol.value, armington_wages(par), atol=1e-10)


def test_armington_gradients_closed_form_and_fd_forward_reverse_agree():
    par = armington_par()

    def wages_of(a_and_sigma):
        p = Armington(Q=par.Q, a=a_and_sigma[:-1], sigma=a_and_sigma[-1], d=par.d)
        return solve(armington_residual, jnp.zeros(3), p).value

    def exact_of(a_and_sigma):
        return armington_wages(Armington(Q=par.Q, a=a_and_sigma[:-1], sigma=a_and_sigma[-1], d=par.d))

    x = jnp.concatenate([par.a, par.sigma[None]])
    J_rev, J_fwd, J_exact = jax.jacrev(wages_of)(x), jax.jacfwd(wages_of)(x), jax.jacfwd(exact_of)(x)
    np.testing.assert_allclose(J_rev, J_exact, atol=1e-10)
    np.testing.assert_allclose(J_fwd, J_exact, atol=1e-10)
    chk = gradcheck(wages_of, x, rtol=1e-6, atol=1e-9)
    assert chk.ok, chk


def test_gradient_of_solution_with_trade_costs_matches_finite_differences():
    par = armington_par(trade_costs=True)

    def welfare_like(Q):
        p = Armington(Q=Q, a=par.a, sigma=par.sigma, d=par.d)
        lw = solve(armington_residual, jnp.zeros(3), p).value
        return jnp.sum(jnp.exp(lw) * Q[1:]) / jnp.sum(Q)

    chk = gradcheck(welfare_like, par.Q, rtol=1e-6, atol=1e-9)
    assert chk.ok, chk


# ----------------------------------------------------------------------------- backend agreement


def test_backends_agree_to_1e_10_on_values_and_gradients():
    par = armington_par(n=5, trade_costs=True, seed=3)
    ref = solve(armington_residual, jnp.zeros(4), par, method="newton", backend="optimistix")
    g_ref = jax.grad(
        lambda d: jnp.sum(solve(armington_residual, jnp.zeros(4), Armington(par.Q, par.a, par.sigma, d)).value)
    )(par.d)
    for method, backend in ROOT_CONFIGS[1:]:
        sol = solve(armington_residual, jnp.zeros(4), par, method=method, backend=backend)
        np.testing.assert_allclose(sol.value, ref.value, atol=1e-10, err_msg=f"{method}/{backend}")
        g = jax.grad(
            lambda d: jnp.sum(
                solve(
                    armington_residual,
                    jnp.zeros(4),
                    Armington(par.Q, par.a, par.sigma, d),
                    method=method,
                    backend=backend,
                ).value
            )
        )(par.d)
        np.testing.assert_allclose(g, g_ref, atol=1e-10, err_msg=f"gradient {method}/{backend}")
    for method, backend in FP_CONFIGS:
        sol = fixed_point(armington_map, jnp.zeros(4), par, method=method, backend=backend, tol=1e-13, ftol=1e-11)
        np.testing.assert_allclose(sol.value, ref.value, atol=1e-10, err_msg=f"{method}/{backend}")
        g = jax.grad(
            lambda d: jnp.sum(
                fixed_point(
                    armington_map,
                    jnp.zeros(4),
                    Armington(par.Q, par.a, par.sigma, d),
                    method=method,
                    backend=backend,
                    tol=1e-13,
                    ftol=1e-11,
                ).value
            )
        )(par.d)
        np.testing.assert_allclose(g, g_ref, atol=1e-10, err_msg=f"gradient {method}/{backend}")


def test_fixed_point_neumann_tangent_matches_dense_in_both_modes():
    par = armington_par(n=4, trade_costs=True, seed=1)

    def f(Q, tangent):
        return fixed_point(armington_map, jnp.zeros(3), Armington(Q, par.a, par.sigma, par.d), tangent=tangent).value

    for jac in (jax.jacrev, jax.jacfwd):
        np.testing.assert_allclose(
            jac(lambda Q: f(Q, "neumann"))(par.Q), jac(lambda Q: f(Q, "dense"))(par.Q), atol=1e-10
        )


def test_block_tridiagonal_newton_matches_dense():
    T, n = 40, 3
    M = jnp.array([[1.0, 0.2, 0.0], [0.1, 1.0, 0.3], [0.0, 0.2, 1.0]])

    def F(y, a):
        x = y.reshape(T, n)
        xp = jnp.vstack([jnp.zeros((1, n)), x[:-1]])
        xn = jnp.vstack([x[1:], jnp.zeros((1, n))])
        return (x @ M.T - 0.3 * xp - 0.2 * xn[:, ::-1] + 0.1 * x**3 - a.reshape(T, n)).reshape(-1)

    a = jnp.linspace(0.0, 1.0, T * n)
    dense = solve(F, jnp.zeros(T * n), a, backend="native")
    block = solve(F, jnp.zeros(T * n), a, linear_solver=BlockTridiagonal(n))
    np.testing.assert_allclose(block.value, dense.value, atol=1e-13)
    for jac in (jax.jacrev, jax.jacfwd):
        Jd = jac(lambda a: solve(F, jnp.zeros(T * n), a, backend="native").value[:6])(a)
        Jb = jac(lambda a: solve(F, jnp.zeros(T * n), a, linear_solver=BlockTridiagonal(n)).value[:6])(a)
        np.testing.assert_allclose(Jb, Jd, atol=1e-12)


def test_anderson_small_spd_solve_matches_lapack_and_stays_finite_when_singular():
    """The unrolled Gauss-Jordan solve that Anderson uses for its mixing system (memory <= 8)."""
    from landjax.engine._native import _spd_solve_unrolled

    rng = np.random.default_rng(0)
    for m in (1, 3, 5, 8):
        X = rng.standard_normal((m, 40))
        A = X @ X.T + 1e-8 * np.eye(m)
        b = rng.standard_normal(m)
        np.testing.assert_allclose(
            np.asarray(_spd_solve_unrolled(jnp.asarray(A), jnp.asarray(b))), np.linalg.solve(A, b), rtol=1e-9
        )
    # Anderson's first steps: rows of the difference buffer still zero, only the regulariser on them
    A = np.zeros((5, 5))
    A[0, 0] = 2.0
    A = A + 1e-12 * np.trace(A) * np.eye(5)
    x = np.asarray(_spd_solve_unrolled(jnp.asarray(A), jnp.asarray([1.0, 0, 0, 0, 0])))
    assert np.all(np.isfinite(x)) and x[0] == pytest.approx(0.5) and np.all(x[1:] == 0)
    # a numerically indefinite matrix (rounding) gives a finite answer, not NaN
    B = np.ones((3, 3))
    assert np.all(np.isfinite(np.asarray(_spd_solve_unrolled(jnp.asarray(B), jnp.ones(3)))))


# ----------------------------------------------------------------------------- batches


def test_batch_with_unsolvable_members():
    a = jnp.concatenate([jnp.linspace(0.5, 4.0, 50), jnp.array([-1.0, -3.0])])[:, None]
    sols = solve_batch(lambda y, a: y**2 - a, jnp.ones((52, 1)), a, chunk_size=16, line_search=True)
    conv = np.asarray(sols.converged)
    assert conv[:50].all() and not conv[50:].any()
    np.testing.assert_allclose(np.asarray(sols.value)[:50, 0], np.sqrt(np.asarray(a)[:50, 0]), rtol=1e-9)
    assert np.all(np.isfinite(np.asarray(sols.value)[:50]))
    assert all(m != "converged" for m in np.asarray(sols.message, dtype=object)[50:])


def test_batch_member_nan_parameter_does_not_contaminate_others():
    pars = [armington_par(seed=s) for s in range(6)]
    batch = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *pars)
    batch = Armington(Q=batch.Q.at[2, 1].set(jnp.nan), a=batch.a, sigma=batch.sigma, d=batch.d)
    sols = solve_batch(armington_residual, jnp.zeros((6, 3)), batch, chunk_size=4)
    conv = np.asarray(sols.converged)
    assert not conv[2] and conv[[0, 1, 3, 4, 5]].all()
    for i in (0, 1, 3, 4, 5):
        np.testing.assert_allclose(sols.value[i], armington_wages(pars[i]), atol=1e-10)


def test_batch_gradient_matches_single_solves():
    pars = [armington_par(seed=s) for s in range(5)]
    batch = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *pars)
    g = jax.grad(
        lambda Q: jnp.sum(
            solve_batch(
                armington_residual, jnp.zeros((5, 3)), Armington(Q, batch.a, batch.sigma, batch.d), chunk_size=2
            ).value
        )
    )(batch.Q)
    for i, p in enumerate(pars):
        gi = jax.grad(lambda Q: jnp.sum(armington_wages(Armington(Q, p.a, p.sigma, p.d))))(p.Q)
        np.testing.assert_allclose(g[i], gi, atol=1e-10)


def test_batch_sharded_over_four_cpu_devices_matches_unsharded():
    code = textwrap.dedent(
        """
        import os, numpy as np, jax, jax.numpy as jnp, landjax
        from landjax.engine import solve_batch
        assert len(jax.devices()) == 4, jax.devices()
        a = jnp.linspace(-1.0, 4.0, 101)[:, None]
        f = lambda y, a: y**2 - a
        s4 = solve_batch(f, jnp.ones((101, 1)), a, chunk_size=8, devices=4, line_search=True)
        s1 = solve_batch(f, jnp.ones((101, 1)), a, chunk_size=8, line_search=True)
        assert (np.asarray(s4.converged) == np.asarray(s1.converged)).all()
        ok = np.asarray(s1.converged)
        assert np.array_equal(np.asarray(s4.value)[ok], np.asarray(s1.value)[ok])
        print("sharded-ok", int(ok.sum()))
        """
    )
    env = dict(__import__("os").environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "sharded-ok" in out.stdout


# ----------------------------------------------------------------------------- calibrate / optimize


def test_calibrate_recovers_parameters_exactly_identified():
    base = armington_par(n=3, trade_costs=True, seed=7)
    true_a = jnp.array([0.25, 0.35])  # a_2, a_3 (a_1 fixed)

    def moments(theta, _):
        p = Armington(base.Q, jnp.concatenate([base.a[:1], theta]), base.sigma, base.d)
        return solve(armington_residual, jnp.zeros(2), p, throw=False).value_or_nan()

    targets = moments(true_a, None)
    res = calibrate(moments, jnp.array([0.5, 0.5]), targets, lower=0.0, upper=2.0)
    assert res.exact and res.converged, res.message
    np.testing.assert_allclose(res.params, true_a, atol=1e-9)
    assert list(res.to_frame().columns) == ["moment", "target", "model", "gap", "rel_gap"]


def test_calibrate_over_identified_least_squares_recovers_parameters():
    base = armington_par(n=4, trade_costs=True, seed=11)

    def moments(theta, _):  # 3 log wages + the trade share of country 1, from (a_2, sigma)
        p = Armington(base.Q, base.a.at[1].set(theta[0]), theta[1], base.d)
        lw = solve(armington_residual, jnp.zeros(3), p, throw=False).value_or_nan()
        return jnp.concatenate([lw, jnp.array([jnp.exp(lw[0]) * base.Q[1] / jnp.sum(base.Q)])])

    true = jnp.array([0.3, 5.0])
    res = calibrate(
        moments, jnp.array([0.2, 3.0]), moments(true, None), lower=jnp.array([0.01, 1.1]), upper=jnp.array([1.0, 20.0])
    )
    assert res.exact, res.message
    np.testing.assert_allclose(res.params, true, rtol=1e-7)


def test_calibrate_reports_failure_with_best_moments():
    mom = lambda th, a: jnp.array([th[0] ** 2 + 1.0])  # can never go below 1
    res = calibrate(mom, jnp.array([2.0]), jnp.array([0.5]))
    assert not res.exact
    assert "NOT all hit" in res.message
    assert abs(res.moments[0] - 1.0) < 1e-3  # the best reachable moment


def test_optimize_finds_known_optimum_of_an_equilibrium_function():
    # choose consumer 1's Cobb-Douglas share so that the equilibrium price hits p* = 1.7
    base = exchange_par()

    def objective(x, _):
        par = Exchange(alpha=jnp.array([x[0], base.alpha[1]]), e1=base.e1, e2=base.e2)
        p1 = jnp.exp(solve(exchange_residual, jnp.zeros(1), par, throw=False).value_or_nan()[0])
        return -((p1 - 1.7) ** 2)

    # closed form: alpha1 solving sum alpha e2 / sum (1-alpha) e1 = 1.7
    e1, e2, a2 = np.asarray(base.e1), np.asarray(base.e2), float(base.alpha[1])
    alpha1 = (1.7 * (e1[0] + (1 - a2) * e1[1]) - a2 * e2[1]) / (e2[0] + 1.7 * e1[0])
    res = optimize(
        objective, jnp.array([0.01]), jnp.array([0.99]), maximize=True, n_screen=32, n_starts=2, progress_bar=False
    )
    assert res.converged
    np.testing.assert_allclose(res.x[0], alpha1, atol=1e-6)
    assert res.n_value_evals == 32 and res.n_grad_evals > 0
    assert res.solve_equivalents > res.n_value_evals
    assert set(res.history.columns) >= {"start", "iter", "value", "x0"}


def test_optimize_box_solution_has_zero_projected_gradient():
    res = optimize(
        lambda x, _: jnp.sum((x - jnp.array([2.0, -0.5])) ** 2),
        jnp.array([0.0, 0.0]),
        jnp.array([1.0, 1.0]),
        n_screen=16,
        n_starts=2,
        progress_bar=False,
        measure_grad_cost=False,
    )
    np.testing.assert_allclose(res.x, [1.0, 0.0], atol=1e-8)
    assert res.projected_grad_norm < 1e-8


def test_optimize_budget_moves_on_from_flat_starts_and_stays_within_budget():
    # flat (zero gradient) for x < 0, a bowl with its minimum at x = 0.6 elsewhere; the first
    # start (x0) is on the plateau, where L-BFGS-B stops at once
    def objective(x, _):
        return jnp.where(x[0] < 0.0, 1.0, (x[0] - 0.6) ** 2)

    common = dict(x0=jnp.array([-0.5]), n_screen=20, progress_bar=False, seed=3)
    lo, hi = jnp.array([-1.0]), jnp.array([1.0])
    one = optimize(objective, lo, hi, n_starts=1, **common)  # no budget: x0 and one screened start
    capped = optimize(objective, lo, hi, n_starts=20, max_solve_equivalents=150.0, **common)
    assert capped.solve_equivalents <= 150.0
    assert capped.starts.final_value.iloc[0] == 1.0 and capped.starts.iterations.iloc[0] == 0
    np.testing.assert_allclose(capped.x[0], 0.6, atol=1e-6)
    assert len(capped.starts) >= len(one.starts)
    none_fits = optimize(objective, lo, hi, n_starts=20, max_solve_equivalents=21.5, **common)
    assert len(none_fits.starts) == 0 and not none_fits.converged
    # the screen (20) and x0 (1) used 21 of the 21.5: the best of those is returned, unpolished
    assert none_fits.n_grad_evals == 0 and none_fits.solve_equivalents == 21.0
    assert none_fits.value < 1.0 and 0.0 <= none_fits.x[0] <= 1.0
    with pytest.raises(InputError, match="max_solve_equivalents"):
        optimize(objective, lo, hi, max_solve_equivalents=0.0, **common)


def test_optimize_bfgs_gets_past_kinks_where_lbfgsb_stalls():
    # Lewis & Overton's nonsmooth Rosenbrock: minimum 0 at (1, 1), a kink along x1 = x0^2 all the way
    def f(x, _):
        return 8.0 * jnp.abs(x[0] ** 2 - x[1]) + (1.0 - x[0]) ** 2

    common = dict(n_screen=8, n_starts=1, max_iter=300, progress_bar=False, measure_grad_cost=False)
    lo, hi = -2.0 * jnp.ones(2), 2.0 * jnp.ones(2)
    bfgs = optimize(f, lo, hi, method="bfgs", **common)
    lbfgsb = optimize(f, lo, hi, method="lbfgsb", **common)
    assert bfgs.value < 1e-7 and np.max(np.abs(bfgs.x - 1.0)) < 1e-3, bfgs.message
    assert bfgs.n_grad_evals < 1000
    # the strong Wolfe line search of L-BFGS-B stalls on the kink, far from the minimum: the reason
    # the weak Wolfe BFGS exists (if jaxopt ever gets past it, this documents that it did)
    assert lbfgsb.value > 100 * bfgs.value
    assert not bfgs.converged and "gradient norm" in bfgs.message  # a kink, not a stationary point


def test_optimize_lbfgsb_returns_its_best_point_and_restarts_when_stalled():
    # at a kink the line search of L-BFGS-B fails and jaxopt takes the step anyway, sometimes uphill:
    # the point returned is the best one evaluated (not the last iterate), and a run that stops
    # improving starts again there with empty memory (max_restarts), else it ends as "stalled"
    def f(x, _):  # minimum 3 * 0.1 * 0.3^2 = 0.027 at x = 0.3 (a kink in every coordinate)
        return jnp.sum(jnp.abs(x - 0.3)) + 0.1 * jnp.sum(x**2)

    common = dict(n_screen=8, n_starts=1, max_iter=200, progress_bar=False, measure_grad_cost=False)
    lo, hi = -2.0 * jnp.ones(3), 2.0 * jnp.ones(3)
    r0 = optimize(f, lo, hi, method="lbfgsb", max_restarts=0, **common)
    h = r0.history["value"].to_numpy()
    assert np.any(np.diff(h) > 0)  # it did step uphill
    assert r0.value == h.min()
    np.testing.assert_allclose(float(f(jnp.asarray(r0.x), None)), r0.value, rtol=1e-12)
    assert r0.starts["reason"].iloc[0].startswith("stalled") and r0.starts["restarts"].iloc[0] == 0
    r = optimize(f, lo, hi, method="lbfgsb", max_restarts=5, **common)
    assert r.starts["restarts"].iloc[0] == 5 and r.value <= r0.value
    assert abs(r.value - 0.027) < 1e-6 and np.max(np.abs(r.x - 0.3)) < 1e-5
    assert not r.converged and "projected gradient norm" in r.message  # a kink: reported, not hidden


def test_optimize_bfgs_converges_on_a_smooth_function_and_may_leave_the_box():
    def rosen(x, _):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    # the box [-0.5, 0.5]^4 only bounds the screen: the minimum (1, 1, 1, 1) lies outside it
    res = optimize(
        rosen,
        -0.5 * jnp.ones(4),
        0.5 * jnp.ones(4),
        method="bfgs",
        n_screen=16,
        n_starts=2,
        max_iter=500,
        tol=1e-8,
        progress_bar=False,
        measure_grad_cost=False,
    )
    assert res.converged and res.projected_grad_norm <= 1e-8
    np.testing.assert_allclose(res.x, 1.0, atol=1e-6)
    assert set(res.starts.columns) >= {"evals", "restarts", "kept", "reason"}


def test_optimize_successive_halving_probes_every_start_and_continues_the_best():
    def rosen(x, _):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    lo, hi = -2.0 * jnp.ones(4), 2.0 * jnp.ones(4)
    common = dict(method="bfgs", n_screen=32, n_starts=8, max_iter=500, progress_bar=False, seed=1)
    res = optimize(rosen, lo, hi, probe_evals=6, n_keep=2, measure_grad_cost=False, **common)
    st = res.starts
    assert len(st) == 8 and int(st.kept.sum()) == 2
    dropped = st[~st.kept]
    # a probe stops at the first iteration boundary at or after 6 evaluations (one line search of
    # at most 20 evaluations may be under way)
    assert (dropped.evals >= 1).all() and (dropped.evals < 6 + 20).all()
    assert (dropped.reason == "paused at its evaluation limit (probe stage)").all() or dropped.converged.any()
    kept = st[st.kept]
    assert kept.final_value.min() == pytest.approx(res.value) and kept.evals.min() > dropped.evals.max() - 20
    assert res.value < 1e-12
    # under a budget: checked before every evaluation, so never exceeded; leftovers go to other starts
    budget = optimize(rosen, lo, hi, probe_evals=6, n_keep=2, max_solve_equivalents=150.0, **common)
    assert budget.solve_equivalents <= 150.0
    with pytest.raises(InputError, match="method"):
        optimize(rosen, lo, hi, method="newton", progress_bar=False)
    with pytest.raises(InputError, match="probe_evals"):
        optimize(rosen, lo, hi, probe_evals=0, progress_bar=False)


# ----------------------------------------------------------------------------- errors and messages


def test_nan_initial_guess_is_rejected_with_a_clear_message():
    with pytest.raises(InputError, match="initial guess y0 contains NaN"):
        solve(scalar_residual, jnp.array([jnp.nan]), 1.0)


def test_wrong_shapes_are_rejected_with_a_clear_message():
    with pytest.raises(InputError, match="returned shape"):
        solve(lambda y, a: jnp.sum(y), jnp.ones(3), None)
    with pytest.raises(InputError, match="returned shape"):
        solve(lambda y, a: {"x": y["x"], "z": y["x"]}, {"x": jnp.ones(2), "z": jnp.ones(3)}, None)
    # unknowns of any shape (and pytrees of them) are flattened for the solver and come back as given
    sol = solve(lambda y, a: y**3 + y - a, jnp.ones((2, 2)), jnp.full((2, 2), 2.0))
    assert sol.value.shape == (2, 2) and np.allclose(np.asarray(sol.value), 1.0)


def test_unknown_method_and_backend():
    with pytest.raises(InputError, match="valid methods"):
        solve(scalar_residual, 1.0, 1.0, method="secant")
    with pytest.raises(InputError, match="has no method"):
        solve(scalar_residual, 1.0, 1.0, method="dogleg", backend="jaxopt")


def test_non_convergence_raises_or_reports():
    no_root = lambda y, a: jnp.exp(y) + a
    with pytest.raises(ConvergenceError, match="residual norm"):
        solve(no_root, 0.0, 1.0, max_steps=30)
    sol = solve(no_root, 0.0, 1.0, max_steps=30, throw=False)
    assert not bool(sol.converged) and float(sol.residual_norm) > 0.5 and sol.message != "converged"
    assert "converged=False" in sol.summary()


@pytest.mark.parametrize("method,backend", [c for c in ROOT_CONFIGS if c[1] != "jaxopt"])
def test_gradient_through_a_failed_solve_is_nan_not_an_exception(method, backend):
    """Searches differentiate through points without an equilibrium: with throw=False,
    value_and_grad there must return a NaN value (the outer search backs away), not raise, and it
    must not disturb a batch-mate that did converge."""
    # root y = a^2 for a < 0; for a > 0 Newton's iterate turns negative and sqrt makes it NaN
    sqrt_root = lambda y, a: jnp.sqrt(y) + a

    def value(a):
        return solve(sqrt_root, 1.0, a, method=method, backend=backend, max_steps=30, throw=False).value_or_nan()

    vg = jax.jit(jax.value_and_grad(value))
    v_bad, _ = vg(1.0)
    assert np.isnan(float(v_bad))
    raw = lambda a: solve(sqrt_root, 1.0, a, method=method, backend=backend, max_steps=30, throw=False).value
    if method in ("newton", "broyden"):  # their iterate turns NaN (dogleg/lm stop at finite y near 0)
        assert not np.isfinite(float(jax.jit(jax.grad(raw))(1.0)))  # no made-up derivative there
    v_good, g_good = vg(-2.0)  # y = a^2 -> dy/da = 2a
    np.testing.assert_allclose([float(v_good), float(g_good)], [4.0, -4.0], rtol=1e-8)
    vs, gs = jax.jit(jax.vmap(jax.value_and_grad(value)))(jnp.array([-2.0, 1.0, -1.5]))
    np.testing.assert_allclose(np.asarray(gs)[[0, 2]], [-4.0, -3.0], rtol=1e-8)
    assert np.isnan(float(vs[1])) and np.all(np.isfinite(np.asarray(vs)[[0, 2]]))


@pytest.mark.parametrize("method,backend", [c for c in FP_CONFIGS if c[1] != "jaxopt"])
def test_fixed_point_gradient_at_a_failed_point_is_nan_not_an_exception(method, backend):
    affine = lambda y, a: a * y + 1.0  # fixed point 1/(1-a); none at a = 1

    def value(a):
        return fixed_point(affine, 0.0, a, method=method, backend=backend, max_steps=60, throw=False).value_or_nan()

    vg = jax.jit(jax.value_and_grad(value))
    assert np.isnan(float(vg(1.0)[0]))
    np.testing.assert_allclose(float(vg(0.5)[1]), 1.0 / 0.25, rtol=1e-6)


def test_non_convergence_under_jit_raises():
    no_root = lambda y, a: jnp.exp(y) + a
    f = jax.jit(lambda a: solve(no_root, jnp.zeros(1), a, backend="native", max_steps=20).value)
    with pytest.raises(Exception, match="did not converge"):
        jax.block_until_ready(f(1.0))


def test_float32_input_is_converted_with_a_warning():
    with pytest.warns(DtypeWarning, match="float32"):
        sol = solve(scalar_residual, np.float32(1.0), 10.0)
    assert sol.value.dtype == jnp.float64
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        solve(scalar_residual, 1, 10.0)  # integers convert silently


def test_gradcheck_catches_a_wrong_derivative():
    @jax.custom_jvp
    def wrong(x):
        return jnp.sin(x)

    @wrong.defjvp
    def _(primals, tangents):
        return jnp.sin(primals[0]), 1.1 * jnp.cos(primals[0]) * tangents[0]

    assert not gradcheck(lambda x: jnp.sum(wrong(x)), jnp.array([0.3, 0.7])).ok
    assert gradcheck(lambda x: jnp.sum(jnp.sin(x)), jnp.array([0.3, 0.7])).ok


def test_cli_version_and_unknown_paper():
    from landjax import __version__
    from landjax.cli import main

    out = subprocess.run([sys.executable, "-m", "landjax.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and __version__ in out.stdout
    assert main(["solve", "no_such_model"]) == 2
    with pytest.raises(SystemExit):
        main(["reproduce", "no_such_paper", "--out", "x"])


@pytest.mark.parametrize("backend", ["optimistix", "native"])
def test_a_step_limit_stop_is_code_1_on_every_backend(backend):
    # optimistix reports a step-limit stop as `nonlinear_max_steps_reached`: it is "max steps"
    # (code 1), not "stalled/singular" (code 3)
    par = armington_par()
    sol = solve(armington_residual, jnp.zeros(3), par, backend=backend, max_steps=1, throw=False)
    assert not bool(sol.converged) and int(sol.steps) == 1
    assert int(sol.code) == 1 and "max" in sol.message.lower()
