"""gradcheck chooses its step; calibrate reports identification and compiles once."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_engine_compile import count_compiles

from landjax.engine import calibrate, fixed_point, gradcheck, solve
from landjax.errors import IdentificationWarning
from landjax.examples import Armington, armington_map


def _par(Q):
    return Armington(
        Q=Q,
        a=jnp.array([0.5, 0.3, 0.2]),
        sigma=jnp.asarray(4.0),
        d=jnp.array([[1.0, 1.3, 1.6], [1.3, 1.0, 1.2], [1.6, 1.2, 1.0]]),
    )


def _wage_through_picard(Q):
    # a contraction solved by Picard to tol 1e-10: the solution carries noise of that size,
    # so a central difference with a 1e-6 step is off by about 1e-4 relative
    sol = fixed_point(armington_map, jnp.zeros(2), _par(Q), tol=1e-10, ftol=1e-8, max_steps=2000)
    return jnp.exp(sol.value)


def test_correct_derivative_through_a_solve_passes_at_rtol_1e_6():
    Q = jnp.array([1.0, 2.0, 3.0])
    res = gradcheck(_wage_through_picard, Q, rtol=1e-6)  # default atol 1e-8
    assert res.ok, res
    assert res.method == "ridders"


def test_ridders_steps_past_solver_noise_where_a_fixed_small_step_fails():
    # a value known only to 1e-10 (what a solve to tolerance 1e-10 gives): the high-frequency term
    # stands for the rounding of the iterations; its derivative is not part of the true derivative
    def noisy(x):
        return jnp.exp(x) + 1e-10 * jnp.sin(1e7 * x)

    @jax.custom_jvp
    def f(x):
        return noisy(x)

    @f.defjvp
    def _(primals, tangents):
        return noisy(primals[0]), jnp.exp(primals[0]) * tangents[0]  # the true derivative

    x = jnp.array([0.3, 1.1])
    fixed = gradcheck(lambda z: jnp.sum(f(z)), x, eps=1e-6, rtol=1e-6)
    assert fixed.method == "central" and not fixed.ok and fixed.max_rel_err > 1e-6
    chosen = gradcheck(lambda z: jnp.sum(f(z)), x, rtol=1e-6)
    assert chosen.ok, chosen


def test_a_wrong_derivative_through_a_solve_still_fails():
    @jax.custom_jvp
    def scaled(x):
        return x

    @scaled.defjvp
    def _(primals, tangents):
        return primals[0], 1.0001 * tangents[0]  # 1e-4 too large: must be caught at rtol 1e-6

    res = gradcheck(lambda Q: _wage_through_picard(scaled(Q)), jnp.array([1.0, 2.0, 3.0]), rtol=1e-6)
    assert not res.ok


def _moments_free_scale(theta, args):
    # the moments depend on a and b only through a * b: the scale of a (against b) is not identified
    a, b, c = theta
    return jnp.stack([a * b, a * b + c, c**2])


def test_calibrate_warns_and_names_the_unidentified_combination():
    with pytest.warns(IdentificationWarning, match="do not respond to"):
        res = calibrate(
            _moments_free_scale,
            jnp.array([1.0, 2.0, 0.5]),
            jnp.array([3.0, 4.0, 1.0]),
            lower=0.1,
            upper=10.0,
            param_names=("a", "b", "c"),
        )
    assert res.jacobian_rank == 2 and len(res.unidentified) == 1
    combo = res.unidentified[0]
    assert "a" in combo and "b" in combo and " c" not in combo
    assert "NOT IDENTIFIED" in res.message and "iterate became non-finite" not in res.message
    np.testing.assert_allclose(res.moments, [3.0, 4.0, 1.0], atol=1e-6)  # the targets are still hit


def test_identified_calibration_reports_full_rank_and_compiles_once():
    def moments(theta, target_scale):
        sol = solve(lambda y, t: y**3 + y - t, jnp.zeros(2), theta, throw=False)
        return sol.value_or_nan() * target_scale

    targets = jnp.array([1.0, 2.0])
    res = calibrate(moments, jnp.array([1.0, 1.0]), targets, 1.0)
    assert res.exact and res.jacobian_rank == 2 and res.unidentified == ()
    np.testing.assert_allclose(res.params, [2.0, 10.0], rtol=1e-8)
    with count_compiles() as events:
        res2 = calibrate(moments, jnp.array([1.5, 1.5]), targets, 1.0)
    assert events == [] and res2.exact


def test_optimize_plain_calls_reuse_the_programs():
    from landjax.engine import optimize

    def obj(x, c):
        return jnp.sum((x - c) ** 2)

    c = jnp.array([0.3, -0.2])
    res = optimize(
        obj, -jnp.ones(2), jnp.ones(2), c, n_screen=16, n_starts=2, progress_bar=False, measure_grad_cost=False
    )
    np.testing.assert_allclose(res.x, c, atol=1e-6)
    with count_compiles() as events:
        res2 = optimize(
            obj,
            -jnp.ones(2),
            jnp.ones(2),
            jnp.array([0.1, 0.5]),
            n_screen=16,
            n_starts=2,
            progress_bar=False,
            measure_grad_cost=False,
        )
    assert events == []
    np.testing.assert_allclose(res2.x, [0.1, 0.5], atol=1e-6)
    res3 = optimize(
        obj,
        -jnp.ones(2),
        jnp.ones(2),
        c,
        n_screen=16,
        n_starts=2,
        progress_bar=False,
        measure_grad_cost=False,
        method="bfgs",
    )
    np.testing.assert_allclose(res3.x, c, atol=1e-5)


def test_engine_inputs_that_used_to_pass_silently_or_crash_deep_inside():
    import jax.numpy as jnp

    from landjax.engine import calibrate, gradcheck, optimize, solve_batch
    from landjax.errors import InputError

    mom = lambda th, a: jnp.array([th[0] ** 2, th[0] * th[1]])  # noqa: E731
    th0 = jnp.array([1.0, 1.0])
    for kw, needle in [
        (dict(targets=[np.nan, 6.0]), r"targets\[0\] is not finite"),
        (dict(targets=[4.0, 6.0], weights=[np.nan, 1.0]), "weights must be positive finite"),
        (dict(targets=[4.0, 6.0], lower=[np.nan, 0.1]), "lower holds NaN"),
        (dict(targets=[4.0, 6.0], lower=[0.1, 0.1, 0.1]), r"lower has shape \(3,\)"),
    ]:
        with pytest.raises(InputError, match=needle):
            calibrate(mom, th0, **kw)
    # moments that are never finite: the fit is not reported as converged
    res = calibrate(lambda th, a: jnp.array([jnp.nan * th[0], th[1]]), th0, [1.0, 2.0])
    assert not res.converged and "not finite" in res.message
    assert calibrate(mom, th0, [4.0, 6.0]).converged

    obj = lambda x, a: jnp.sum((x - 0.3) ** 2)  # noqa: E731
    lo, hi = jnp.zeros(2), jnp.ones(2)
    with pytest.raises(InputError, match="objective must return a scalar"):
        optimize(lambda x, a: x**2, lo, hi, n_screen=8)
    with pytest.raises(InputError, match="the box must be finite"):
        optimize(obj, lo, jnp.array([1.0, jnp.inf]), n_screen=8)
    with pytest.raises(InputError, match="x0 has 1 values"):
        optimize(obj, lo, hi, x0=[0.5], n_screen=8)
    with pytest.raises(InputError, match="maximize must be True or False"):
        optimize(obj, lo, hi, maximize="no", n_screen=8)

    f = lambda y, a: y - a  # noqa: E731
    with pytest.raises(InputError, match="the batch is empty"):
        solve_batch(f, jnp.ones((0, 1)), jnp.ones((0, 1)))
    for bad in (0, -1, 10_000, True):
        with pytest.raises(InputError, match="devices"):
            solve_batch(f, jnp.ones((2, 1)), jnp.ones((2, 1)), devices=bad)

    g = lambda x: jnp.sum(x**2)  # noqa: E731
    for kw, needle in [
        (dict(modes=()), "modes must name at least one"),
        (dict(rtol=-1), "rtol must be a finite number >= 0"),
    ]:
        with pytest.raises(InputError, match=needle):
            gradcheck(g, jnp.ones(2), **kw)
    with pytest.raises(InputError, match="non-empty 1-D"):
        gradcheck(g, jnp.ones(0))
    with pytest.raises(InputError, match="f must be a function"):
        gradcheck(3, jnp.ones(2))
