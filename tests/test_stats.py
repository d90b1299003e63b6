"""Inequality measures of landjax.stats against plain numpy references."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landjax import stats as S
from landjax.engine import gradcheck
from landjax.errors import InputError


def np_ref(x, w):
    s = w / w.sum()
    mu = (s * x).sum()
    return {
        "williamson": np.sqrt((s * (x - mu) ** 2).sum()) / mu,
        "cv": np.std(x) / np.mean(x),
        "var_log": np.var(np.log(x)),
        "var_log_w": (s * (np.log(x) - (s * np.log(x)).sum()) ** 2).sum(),
        "theil": (s * (x / mu) * np.log(x / mu)).sum(),
        "gini": sum(s[i] * s[j] * abs(x[i] - x[j]) for i in range(len(x)) for j in range(len(x))) / (2 * mu),
    }


@settings(max_examples=10)
@given(st.lists(st.tuples(st.floats(0.1, 50.0), st.floats(0.01, 10.0)), min_size=2, max_size=12))
def test_measures_match_numpy(pairs):
    x = np.array([p[0] for p in pairs])
    w = np.array([p[1] for p in pairs])
    ref = np_ref(x, w)
    for name in S.GAP_MEASURES:
        assert float(S.gap(jnp.asarray(x), jnp.asarray(w), name)) == pytest.approx(ref[name], rel=1e-10, abs=1e-13), (
            name
        )


def test_unweighted_gini_textbook():
    # population Gini of (1, 2, 3, 4): mean abs difference / (2 mean) = 1.25 / 5 = 0.25
    assert float(S.gini(jnp.array([1.0, 2.0, 3.0, 4.0]))) == pytest.approx(0.25, rel=1e-14)
    # integer weights = repeated observations
    x = jnp.array([1.0, 3.0])
    assert float(S.gini(x, jnp.array([2.0, 1.0]))) == pytest.approx(
        float(S.gini(jnp.array([1.0, 1.0, 3.0]))), rel=1e-14
    )
    assert float(S.williamson(x, jnp.array([2.0, 1.0]))) == pytest.approx(
        float(S.cv(jnp.array([1.0, 1.0, 3.0]))), rel=1e-14
    )


def test_scale_invariance_and_weights_normalised():
    x = jnp.array([1.0, 2.0, 5.0, 7.0])
    w = jnp.array([1.0, 3.0, 2.0, 4.0])
    for name in S.GAP_MEASURES:
        a = float(S.gap(x, w, name))
        assert float(S.gap(3.7 * x, w, name)) == pytest.approx(a, rel=1e-12)
        assert float(S.gap(x, 10.0 * w, name)) == pytest.approx(a, rel=1e-12)


def test_gradients_against_finite_differences():
    x = jnp.array([1.0, 2.5, 4.0, 7.0, 3.0])
    w = jnp.array([2.0, 1.0, 3.0, 1.5, 0.5])
    for name in S.GAP_MEASURES:
        chk = gradcheck(lambda z: S.gap(z[:5], z[5:], name), jnp.concatenate([x, w]))
        assert chk.ok, (name, chk)


def test_gini_gradient_finite_and_symmetric_at_ties():
    x = jnp.array([2.0, 2.0, 5.0])
    g = jax.grad(S.gini)(x)
    assert np.all(np.isfinite(np.asarray(g)))
    assert float(g[0]) == pytest.approx(float(g[1]), rel=1e-14)
    # and the CV gradient is finite (zero) at zero dispersion
    assert np.all(np.isfinite(np.asarray(jax.grad(S.cv)(jnp.array([3.0, 3.0, 3.0])))))


def test_unknown_measure_and_missing_weights():
    with pytest.raises(InputError, match="gap measure 'foo'"):
        S.gap(jnp.ones(3), None, "foo")
    with pytest.raises(ValueError, match="weights"):
        S.williamson(jnp.ones(3), None)
