"""solve_batch: in_axes (shared arguments never copied), compile once, failed members, the
economic-geography example, gradients through a batch, automatic chunks, bad in_axes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from landjax import InputError
from landjax.engine import solve, solve_batch
from landjax.engine.batch import auto_chunk, largest_intermediate_bytes
from landjax.examples import Geography, geography_params, geography_residual
from tests.test_engine_compile import count_compiles

SHARED = Geography(0, None, None, None, None, None, None)  # only productivities vary


def _members(p: Geography, B: int, seed: int = 1) -> jax.Array:
    rng = np.random.default_rng(seed)
    return jnp.asarray(np.asarray(p.Abar)[None] * np.exp(0.2 * rng.standard_normal((B, p.Abar.shape[0]))))


def _shared_batch(p: Geography, Ab: jax.Array) -> Geography:
    return Geography(Ab, p.ubar, p.tau, p.sigma, p.alpha, p.beta, p.Lbar)


def _copied_batch(p: Geography, Ab: jax.Array) -> Geography:
    B = Ab.shape[0]
    rest = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (B,) + jnp.shape(x)), p)
    return Geography(Ab, rest.ubar, rest.tau, rest.sigma, rest.alpha, rest.beta, rest.Lbar)


def _np_equilibrium_gaps(y: np.ndarray, p: Geography) -> dict[str, float]:
    """Allen & Arkolakis (2014) eqs. 4-7 recomputed in numpy from wages and populations."""
    n = y.shape[0] // 2
    w, L = np.exp(y[:n]), np.exp(y[n:])
    sigma, alpha, beta = float(p.sigma), float(p.alpha), float(p.beta)
    tau, A, u = np.asarray(p.tau), np.asarray(p.Abar) * L**alpha, np.asarray(p.ubar) * L**beta
    P = np.array(
        [sum((tau[i, j] * w[i] / A[i]) ** (1 - sigma) for i in range(n)) ** (1 / (1 - sigma)) for j in range(n)]
    )
    X = np.array(
        [
            [(tau[i, j] * w[i] / A[i]) ** (1 - sigma) * P[j] ** (sigma - 1) * w[j] * L[j] for j in range(n)]
            for i in range(n)
        ]
    )
    welfare = w * u / P
    return {
        "income_minus_sales": float(np.max(np.abs(X.sum(axis=1) / (w * L) - 1.0))),  # every location, Walras included
        "spending_minus_purchases": float(np.max(np.abs(X.sum(axis=0) / (w * L) - 1.0))),
        "welfare_spread": float(np.max(welfare) / np.min(welfare) - 1.0),
        "population": float(abs(L.sum() - float(p.Lbar))),
        "numeraire": float(abs(np.mean(np.log(w)))),
    }


def _walk_avals(jaxpr):
    stack, out = [jaxpr], []
    while stack:
        j = stack.pop()
        j = getattr(j, "jaxpr", j)
        out.extend(v.aval for v in j.invars)
        for eqn in j.eqns:
            out.extend(v.aval for v in eqn.outvars)
            for prm in eqn.params.values():
                for sub in prm if isinstance(prm, (tuple, list)) else (prm,):
                    if hasattr(sub, "eqns") or hasattr(getattr(sub, "jaxpr", None), "eqns"):
                        stack.append(sub)
    return out


# ----------------------------------------------------------------------------- the example model


@pytest.mark.slow
def test_geography_example_n50_converges_and_satisfies_its_equations_in_numpy():
    p = geography_params(50, seed=0)
    sol = solve(geography_residual, jnp.zeros(100), p, backend="native")
    assert bool(sol.converged) and float(sol.residual_norm) <= 1e-8
    gaps = _np_equilibrium_gaps(np.asarray(sol.value), p)
    assert all(v < 1e-9 for v in gaps.values()), gaps
    L = np.exp(np.asarray(sol.value)[50:])
    assert L.min() > 0 and L.std() > 0  # a non-trivial distribution of population


def test_geography_small_batch_satisfies_equations_and_differs_by_member():
    p = geography_params(8, seed=3)
    Ab = _members(p, 5)
    sols = solve_batch(geography_residual, jnp.zeros((5, 16)), _shared_batch(p, Ab), in_axes=SHARED)
    assert np.asarray(sols.converged).all()
    for b in range(5):
        pb = _shared_batch(p, Ab[b])
        gaps = _np_equilibrium_gaps(np.asarray(sols.value)[b], pb)
        assert all(v < 1e-9 for v in gaps.values()), (b, gaps)
    assert np.ptp(np.asarray(sols.value)[:, 8:], axis=0).max() > 1e-3


# ----------------------------------------------------------------------------- in_axes


@pytest.mark.parametrize("chunk_size", [None, 1, 2])
def test_in_axes_none_equals_the_copied_batch(chunk_size):
    p = geography_params(8, seed=1)
    Ab = _members(p, 5)
    y0 = jnp.zeros((5, 16))
    shared = solve_batch(geography_residual, y0, _shared_batch(p, Ab), in_axes=SHARED, chunk_size=chunk_size)
    copied = solve_batch(geography_residual, y0, _copied_batch(p, Ab), chunk_size=chunk_size)
    assert np.asarray(shared.converged).all() and np.asarray(copied.converged).all()
    np.testing.assert_allclose(np.asarray(shared.value), np.asarray(copied.value), rtol=0, atol=1e-12)
    for b in (0, 4):  # and both equal a single solve
        one = solve(geography_residual, jnp.zeros(16), _shared_batch(p, Ab[b]))
        np.testing.assert_allclose(np.asarray(shared.value)[b], np.asarray(one.value), rtol=0, atol=1e-12)


def _shared_matrix_problem():
    def fn(y, a):  # y + 0.1 tanh(M v(y)) = b with v(y) = [y, y, y]; M (6 x 6) is shared
        return y + 0.1 * jnp.tanh(a["M"] @ jnp.concatenate([y, y, y]))[:2] - a["b"]

    M = jnp.asarray(np.random.default_rng(0).uniform(-1.0, 1.0, (6, 6)))
    b = jnp.asarray(np.random.default_rng(1).uniform(-1.0, 1.0, (7, 2)))
    return fn, M, b


@pytest.mark.parametrize("chunk_size", [None, 1, 3])
def test_shared_leaf_is_not_tiled_in_the_compiled_program(chunk_size):
    fn, M, b = _shared_matrix_problem()
    y0 = jnp.zeros((7, 2))

    def tiled_shapes(in_axes, M_in):
        jpr = jax.make_jaxpr(
            lambda bb, MM: solve_batch(fn, y0, {"M": MM, "b": bb}, in_axes=in_axes, chunk_size=chunk_size).value
        )(b, M_in)
        return [a.shape for a in _walk_avals(jpr) if len(getattr(a, "shape", ())) >= 3 and a.shape[-2:] == (6, 6)]

    assert tiled_shapes({"M": None, "b": 0}, M) == []
    # the check can fail: the copied batch does carry (batch, 6, 6) arrays
    assert tiled_shapes({"M": 0, "b": 0}, jnp.broadcast_to(M, (7, 6, 6))) != []
    # and the results agree
    s = solve_batch(fn, y0, {"M": M, "b": b}, in_axes={"M": None, "b": 0}, chunk_size=chunk_size)
    c = solve_batch(fn, y0, {"M": jnp.broadcast_to(M, (7, 6, 6)), "b": b}, chunk_size=chunk_size)
    assert np.asarray(s.converged).all()
    np.testing.assert_allclose(np.asarray(s.value), np.asarray(c.value), rtol=0, atol=1e-13)
    resid = (
        np.asarray(s.value) + 0.1 * np.tanh(np.tile(np.asarray(s.value), 3) @ np.asarray(M).T)[:, :2] - np.asarray(b)
    )
    assert np.max(np.abs(resid)) < 1e-10


def test_in_axes_other_axis_and_shared_y0():
    fn, M, b = _shared_matrix_problem()
    ref = solve_batch(fn, jnp.zeros((7, 2)), {"M": M, "b": b}, in_axes={"M": None, "b": 0})
    moved = solve_batch(fn, jnp.zeros(2), {"M": M, "b": b.T}, in_axes={"M": None, "b": 1}, batch_y0=False)
    np.testing.assert_allclose(np.asarray(moved.value), np.asarray(ref.value), rtol=0, atol=1e-13)
    assert np.asarray(moved.value).shape == (7, 2)


def test_second_plain_call_does_not_recompile():
    p = geography_params(6, seed=2)
    y0 = jnp.zeros((4, 12))
    solve_batch(geography_residual, y0, _shared_batch(p, _members(p, 4, seed=1)), in_axes=SHARED)
    solve_batch(geography_residual, y0, _copied_batch(p, _members(p, 4, seed=1)))
    with count_compiles() as events:
        s1 = solve_batch(geography_residual, y0, _shared_batch(p, _members(p, 4, seed=2)), in_axes=SHARED)
        s2 = solve_batch(geography_residual, y0, _copied_batch(p, _members(p, 4, seed=3)))
    assert events == [], f"{len(events)} compilation(s) on repeated plain solve_batch calls"
    assert np.asarray(s1.converged).all() and np.asarray(s2.converged).all()
    assert not np.allclose(np.asarray(s1.value), np.asarray(s2.value))  # new values were used


# ----------------------------------------------------------------------------- failures


@pytest.mark.parametrize("chunk_size", [None, 4])
def test_failed_members_are_flagged_and_do_not_change_the_others(chunk_size):
    p = geography_params(6, seed=4)
    Ab = np.array(_members(p, 6))
    Ab[1, 2] = np.nan  # a NaN parameter
    Ab[4, :] = 0.0  # no productivity anywhere: nothing to buy, no equilibrium
    sols = solve_batch(
        geography_residual, jnp.zeros((6, 12)), _shared_batch(p, jnp.asarray(Ab)), in_axes=SHARED, chunk_size=chunk_size
    )
    conv = np.asarray(sols.converged)
    assert not conv[1] and not conv[4] and conv[[0, 2, 3, 5]].all()
    assert all(m != "converged" for m in np.asarray(sols.message, dtype=object)[[1, 4]])
    clean = np.asarray(_members(p, 6))
    for b in (0, 2, 3, 5):
        one = solve(geography_residual, jnp.zeros(12), _shared_batch(p, jnp.asarray(clean[b])))
        np.testing.assert_allclose(np.asarray(sols.value)[b], np.asarray(one.value), rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- gradients


def test_gradient_through_solve_batch_matches_finite_differences():
    p = geography_params(6, seed=5)
    Ab = _members(p, 3)
    logd = jnp.log(jnp.asarray(p.tau))

    def stat(theta):  # theta = (shared trade-cost elasticity, productivity of location 0 in member 1)
        tau = jnp.exp(theta[0] * logd)
        Abar = Ab.at[1, 0].multiply(theta[1])
        par = Geography(Abar, p.ubar, tau, p.sigma, p.alpha, p.beta, p.Lbar)
        y = solve_batch(geography_residual, jnp.zeros((3, 12)), par, in_axes=SHARED).value
        return jnp.sum(y[:, 6:] * jnp.arange(1.0, 7.0)[None, :]) + jnp.sum(y[:, :6] ** 2)

    theta = jnp.array([1.0, 1.0])
    g_rev = np.asarray(jax.grad(stat)(theta))
    g_fwd = np.asarray(jax.jacfwd(stat)(theta))
    h = 1e-5
    fd = np.array([(float(stat(theta + h * e)) - float(stat(theta - h * e))) / (2 * h) for e in np.eye(2)])
    np.testing.assert_allclose(g_rev, fd, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(g_fwd, g_rev, rtol=1e-10, atol=1e-12)
    assert np.all(np.abs(fd) > 1e-3)  # both directions matter


# ----------------------------------------------------------------------------- chunks


def test_automatic_chunk_is_one_for_the_geography_model_and_large_for_small_members():
    one = lambda a: solve(geography_residual, jnp.zeros(100), a, backend="native", throw=False)  # noqa: E731
    big = largest_intermediate_bytes(jax.make_jaxpr(one)(geography_params(50)))
    assert big >= 100 * 50 * 50 * 8  # the forward-mode tangents of the 50 x 50 trade-cost block
    assert auto_chunk(big, 200, "cpu") == 1
    small = largest_intermediate_bytes(jax.make_jaxpr(lambda b: solve(lambda y, a: y**3 + y - a, jnp.zeros(1), b))(1.0))
    assert auto_chunk(small, 1000, "cpu") == 256
    assert auto_chunk(small, 10, "cpu") == 10


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "in_axes, match",
    [
        ({"M": None}, "prefix of the structure of args"),
        ({"M": None, "b": 0, "c": 0}, "prefix of the structure of args"),
        ({"M": None, "b": "0"}, "must be an int or None"),
        ({"M": None, "b": 2}, "out of range"),
        ({"M": 0, "b": 0}, "inconsistent batch sizes"),
        (1.5, "must be an int or None"),
    ],
)
def test_bad_in_axes_raise_input_error(in_axes, match):
    fn, M, b = _shared_matrix_problem()
    with pytest.raises(InputError, match=match):
        solve_batch(fn, jnp.zeros((7, 2)), {"M": M, "b": b}, in_axes=in_axes)


def test_batched_scalar_leaf_and_nothing_batched_raise_input_error():
    fn, M, b = _shared_matrix_problem()
    with pytest.raises(InputError, match="scalar or not an array"):
        solve_batch(fn, jnp.zeros((7, 2)), {"M": M, "b": b, "s": 2.0}, in_axes={"M": None, "b": 0, "s": 0})
    with pytest.raises(InputError, match="nothing is batched"):
        solve_batch(fn, jnp.zeros(2), {"M": M, "b": b[0]}, in_axes=None, batch_y0=False)
    with pytest.raises(InputError, match="chunk_size"):
        solve_batch(fn, jnp.zeros((7, 2)), {"M": M, "b": b}, in_axes={"M": None, "b": 0}, chunk_size=0)
