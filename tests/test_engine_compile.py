"""Compile once, one error type, named (pytree) unknowns, validated solver settings."""

from __future__ import annotations

import contextlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from landjax import ConvergenceError, InputError
from landjax.engine import fixed_point, solve
from landjax.examples import Armington, armington_map, armington_residual


@contextlib.contextmanager
def count_compiles():
    """Count XLA backend compilations while the block runs (``jax.monitoring`` duration events)."""
    events: list[str] = []

    def listener(name: str, _secs: float, **_kw) -> None:
        if name == "/jax/core/compile/backend_compile_duration":
            events.append(name)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield events
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def _armington(sigma: float = 4.0) -> Armington:
    return Armington(
        Q=jnp.array([1.0, 2.0, 3.0]), a=jnp.array([0.5, 0.3, 0.2]), sigma=jnp.asarray(sigma), d=jnp.ones((3, 3))
    )


@pytest.mark.parametrize("backend", ["optimistix", "native"])
def test_second_plain_solve_does_not_recompile(backend):
    par = _armington()
    solve(armington_residual, jnp.zeros(2), par, backend=backend)  # first call compiles
    with count_compiles() as events:
        s1 = solve(armington_residual, jnp.zeros(2), par, backend=backend)
        s2 = solve(armington_residual, jnp.zeros(2), _armington(5.5), backend=backend)  # new values, same structure
    assert events == [], f"{len(events)} compilation(s) on repeated plain calls"
    assert bool(s1.converged) and bool(s2.converged)
    assert not np.allclose(np.asarray(s1.value), np.asarray(s2.value))  # the new values were really used


def test_what_recompiles_a_new_static_option_a_new_shape_a_new_closure():
    par = _armington()
    solve(armington_residual, jnp.zeros(2), par)
    with count_compiles() as events:
        solve(armington_residual, jnp.zeros(2), par, ftol=1e-9)  # new static configuration
    assert len(events) >= 1
    with count_compiles() as events:
        solve(lambda y, a: armington_residual(y, a), jnp.zeros(2), par)  # a new closure object
    assert len(events) >= 1
    # a new shape (11 regions: a size no other test solves, so no earlier test in this process
    # has compiled it already)
    big = Armington(Q=jnp.ones(11), a=jnp.full(11, 1 / 11), sigma=jnp.asarray(4.0), d=jnp.ones((11, 11)))
    with count_compiles() as events:
        solve(armington_residual, jnp.zeros(10), big)
    assert len(events) >= 1


def test_fixed_point_plain_calls_reuse_the_program():
    par = _armington()
    fixed_point(armington_map, jnp.zeros(2), par)
    with count_compiles() as events:
        sol = fixed_point(armington_map, jnp.zeros(2), par)
    assert events == [] and bool(sol.converged)


def test_python_float_leaves_are_traced_not_static():
    fn = lambda y, a: y**3 + y - a["target"]  # noqa: E731
    solve(fn, jnp.zeros(1), {"target": 2.0})
    with count_compiles() as events:
        sol = solve(fn, jnp.zeros(1), {"target": 10.0})
    assert events == []
    assert float(sol.value[0]) == pytest.approx(2.0, abs=1e-10)


def test_python_numpy_and_weak_jax_scalars_share_one_program():
    # JAX keys its programs on the weak type: a Python float and an array would compile twice
    fn = lambda y, a: y**3 + y - a["target"]  # noqa: E731
    solve(fn, jnp.zeros(1), {"target": 2.0})
    with count_compiles() as events:
        s1 = solve(fn, jnp.zeros(1), {"target": np.float64(10.0)})
        s2 = solve(fn, jnp.zeros(1), {"target": jnp.asarray(30.0)})  # weakly typed
        s3 = solve(fn, jnp.zeros(1), {"target": jnp.asarray(68.0, dtype=jnp.float64)})
    assert events == [], f"{len(events)} compilation(s) for the same structure with another scalar type"
    assert [round(float(s.value[0]), 8) for s in (s1, s2, s3)] == [2.0, 3.0, 4.0]


def test_model_params_store_python_floats_strongly_typed():
    from landjax.models import urban_rural

    p = urban_rural.Params()
    leaves = [v for v in jax.tree_util.tree_leaves(p) if isinstance(v, float)]
    assert leaves and all(type(v) is np.float64 for v in leaves)  # still floats, but strong in JAX
    q = p.replace(alpha=float(p.alpha) * 0.99)
    assert type(q.alpha) is np.float64 and float(q.alpha) == pytest.approx(float(p.alpha) * 0.99)


def test_failed_plain_solve_raises_convergence_error_with_residual_and_steps():
    no_root = lambda y, a: jnp.exp(y) + a  # noqa: E731
    with pytest.raises(ConvergenceError, match=r"residual norm .* after \d+ steps"):
        solve(no_root, jnp.zeros(1), 1.0)
    with pytest.raises(ConvergenceError, match="did not converge"):
        fixed_point(lambda y, a: y + 1.0, jnp.zeros(1), None, max_steps=5)
    sol = solve(no_root, jnp.zeros(1), 1.0, throw=False)
    assert not bool(sol.converged) and np.isfinite(float(sol.residual_norm)) and int(sol.steps) > 0


def test_failed_solve_inside_a_users_jit_raises_at_run_time():
    no_root = lambda y, a: jnp.exp(y) + a  # noqa: E731
    f = jax.jit(lambda a: solve(no_root, jnp.zeros(1), a).value)
    with pytest.raises(Exception, match="did not converge"):
        jax.block_until_ready(f(1.0))
    g = jax.jit(lambda a: solve(no_root, jnp.zeros(1), a, throw=False).converged)
    assert not bool(g(1.0))


def _named_residual(y, a):
    # x^3 + x = a_x (two unknowns), z = 2 a_z (one unknown)
    return {"x": y["x"] ** 3 + y["x"] - a["ax"], "z": y["z"] - 2.0 * a["az"]}


def test_pytree_unknowns_come_back_in_their_structure_forward_and_reverse():
    y0 = {"x": jnp.zeros(2), "z": jnp.asarray(0.0)}
    a = {"ax": jnp.array([2.0, 10.0]), "az": jnp.asarray(1.5)}
    sol = solve(_named_residual, y0, a)
    assert set(sol.value) == {"x", "z"} and sol.value["x"].shape == (2,) and sol.value["z"].shape == ()
    np.testing.assert_allclose(np.asarray(sol.value["x"]), [1.0, 2.0], atol=1e-12)
    assert float(sol.value["z"]) == pytest.approx(3.0, abs=1e-12)
    # implicit derivatives: dx/dax = 1 / (3 x^2 + 1), dz/daz = 2
    rev = jax.grad(lambda ax: jnp.sum(solve(_named_residual, y0, {"ax": ax, "az": a["az"]}).value["x"]))(a["ax"])
    np.testing.assert_allclose(np.asarray(rev), 1.0 / (3.0 * np.array([1.0, 2.0]) ** 2 + 1.0), rtol=1e-10)
    fwd = jax.jacfwd(lambda az: solve(_named_residual, y0, {"ax": a["ax"], "az": az}).value["z"])(a["az"])
    assert float(fwd) == pytest.approx(2.0, rel=1e-12)
    fp = fixed_point(lambda y, _: {"u": 0.5 * y["u"] + 1.0}, {"u": jnp.zeros(3)}, None)
    np.testing.assert_allclose(np.asarray(fp.value["u"]), 2.0, atol=1e-8)


@pytest.mark.parametrize(
    "kw, field",
    [
        (dict(ftol=float("inf")), "ftol"),
        (dict(ftol=-1.0), "ftol"),
        (dict(tol=-1e-8), "tol"),
        (dict(tol=float("nan")), "tol"),
        (dict(max_steps=0), "max_steps"),
        (dict(max_steps=-3), "max_steps"),
        (dict(max_steps=2.5), "max_steps"),
    ],
)
def test_solver_settings_are_validated(kw, field):
    with pytest.raises(InputError, match=field):
        solve(lambda y, a: y - a, jnp.zeros(1), 1.0, **kw)
    with pytest.raises(InputError, match=field):
        fixed_point(lambda y, a: 0.5 * y + a, jnp.zeros(1), 1.0, **kw)


def test_fixed_point_damping_is_validated():
    for bad in (0.0, 1.5, float("nan"), "x"):
        with pytest.raises(InputError, match="damping"):
            fixed_point(lambda y, a: 0.5 * y + a, jnp.zeros(1), 1.0, damping=bad)
