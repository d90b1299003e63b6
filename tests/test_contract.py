"""The contract machinery itself (landjax.contract, landjax.sweep), on a toy model."""

from __future__ import annotations

import json
import warnings

import contract_toy as toy
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from landjax.cli import build_inputs
from landjax.contract import Interval, dumps, loads_strict, options_table
from landjax.errors import DtypeWarning, InputError
from landjax.sweep import run_sweep


@pytest.mark.parametrize("make", [float, np.float64, np.float32, jnp.float64, lambda v: jnp.asarray(v)])
def test_param_ranges_are_checked_whatever_the_scalar_type(make):
    with pytest.raises(InputError, match=r"Params.alpha=1.5 is outside its allowed range \(0, 1\)"):
        toy.Params(alpha=make(1.5))
    with pytest.raises(InputError, match="Params.e2: must be finite"):
        toy.Params(e2=make(float("nan")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DtypeWarning)  # float32 is converted, with a warning
        assert float(toy.Params(alpha=make(0.25)).alpha) == pytest.approx(0.25)


def test_param_shape_type_and_cross_field_checks():
    with pytest.raises(InputError, match=r"Params.e1: expected shape \(2,\)"):
        toy.Params(e1=jnp.ones(3))
    with pytest.raises(InputError, match="Params.alpha: expected a number"):
        toy.Params(alpha="abc")
    with pytest.raises(InputError, match="must not all be zero"):
        toy.Params(e1=jnp.zeros(2))
    with pytest.raises(InputError, match="unknown field"):
        toy.Params().replace(gamma=1.0)
    with pytest.raises(InputError, match="alpha"):
        toy.Params().replace(alpha=2.0)  # replace validates too
    batched = toy.Params(alpha=jnp.array([0.2, 0.4]), e1=jnp.ones((2, 2)))  # leading batch axis allowed
    assert batched.alpha.shape == (2,)


def test_traced_params_are_not_checked_and_jax_rebuilds_skip_init():
    g = jax.grad(lambda a: toy.Params(alpha=a).alpha * 2.0)(0.5)
    assert float(g) == 2.0
    # tree_map with placeholder leaves (what JAX and equinox do internally) must not validate
    leaves = jax.tree_util.tree_map(lambda _: True, toy.Params())
    assert leaves.alpha is True


def test_option_choices_parse_strictly():
    with pytest.raises(InputError, match="choose one of good2, good1"):
        toy.Options(numeraire="good3")
    with pytest.raises(InputError, match="expected true or false"):
        toy.Options.from_strings({"report_log": "maybe"})
    assert toy.Options.from_strings({"report_log": "true"}).report_log is True
    with pytest.raises(InputError, match="unknown option"):
        toy.Options.from_strings({"nope": "1"})
    with pytest.raises(InputError, match="max_steps"):
        toy.Solver(max_steps=0)
    with pytest.raises(InputError, match="not a number"):
        toy.Solver.from_strings({"tol": "abc"})
    with pytest.raises(InputError, match="finite"):
        toy.Solver.from_strings({"tol": "nan"})
    assert toy.Options(report_log=True).label() == "report_log=true"
    assert hash(toy.Options()) == hash(toy.Options())  # static in pytrees: jit caches on it


def test_interval_parsing():
    iv = Interval.parse("[0, 1)")
    assert bool(iv.contains(0.0)) and not bool(iv.contains(1.0)) and str(iv) == "[0, 1)"
    assert str(Interval.parse("(0, inf)")) == "(0, inf)"


def _closed_form_p1(p):
    # demand for good 1 = supply: (alpha (p1 e11 + e2) + beta p1 e12) / p1 = e11 + e12
    return p.alpha * p.e2 / ((1 - p.alpha) * p.e1[0] + (1 - p.beta) * p.e1[1])


def test_result_round_trip_and_strict_json():
    p = toy.Params()
    res = toy.solve(p, toy.Options(report_log=True))
    assert res.ok and res.message == "converged"
    assert float(res.outcomes["prices"]["p1"]) == pytest.approx(float(_closed_form_p1(p)), rel=1e-12)
    d = res.to_dict()
    assert d["model"] == "toy" and d["converged"] is True and d["options"]["report_log"] is True
    assert d["units"]["prices.p1"] == "good 2 per good 1"
    assert d["params"]["e1"] == [1.0, 2.0]
    text = res.to_json()
    assert loads_strict(text) == json.loads(text)
    frame = res.to_frame()
    assert list(frame.columns[:3]) == ["converged", "residual_norm", "steps"]
    assert frame.loc[0, "prices.p1"] == pytest.approx(d["prices"]["p1"])


def test_non_finite_numbers_become_null_with_a_flag():
    text = dumps({"a": float("nan"), "b": [1.0, float("inf")], "c": {"d": 2.0}})
    assert loads_strict(text) == {"a": None, "b": [1.0, None], "c": {"d": 2.0}}
    res = toy.solve()
    bad = type(res)(**{**res.__dict__, "outcomes": {"prices": {"p1": jnp.asarray(np.nan)}}})
    d = bad.to_dict()
    assert d["prices"]["p1"] is None and d["non_finite"] == ["prices.p1"]
    loads_strict(bad.to_json())


def test_results_are_differentiable_through_solve():
    dp = jax.grad(lambda a: toy.solve(toy.Params(alpha=a), throw=False).outcomes["prices"]["p1"])(0.3)
    fd = float(_closed_form_p1(toy.Params(alpha=0.3 + 1e-6))) - float(_closed_form_p1(toy.Params(alpha=0.3 - 1e-6)))
    assert float(dp) == pytest.approx(fd / 2e-6, rel=1e-6)


def test_sweep_rows_columns_order_and_failures():
    grid = pd.DataFrame(
        {"alpha": [0.2, 0.5, 0.3], "numeraire": ["good2", "good1", "good2"], "e1": ["1,1", "2,1", "1,3"]}
    )
    df = run_sweep(toy.MODEL, grid, progress=False, chunk_size=2)
    assert list(df.columns[:6]) == ["alpha", "numeraire", "e1", "converged", "residual_norm", "steps"]
    assert len(df) == 3 and bool(df.converged.all())
    for r in range(3):
        e1 = np.array([float(x) for x in grid.e1[r].split(",")])
        p1 = float(_closed_form_p1(toy.Params(alpha=grid.alpha[r], e1=jnp.asarray(e1))))
        want = p1 if grid.numeraire[r] == "good2" else 1.0 / p1
        assert df.loc[r, "prices.p1"] == pytest.approx(want, rel=1e-10)
    # the same numbers as one solve per row
    one = toy.solve(toy.Params(alpha=0.5, e1=jnp.array([2.0, 1.0])), toy.Options(numeraire="good1"))
    assert df.loc[1, "prices.p1"] == pytest.approx(float(one.outcomes["prices"]["p1"]), rel=1e-12)
    # a starved solver flags its rows and keeps them
    far = grid.assign(alpha=[0.01, 0.98, 0.02])
    flagged = run_sweep(toy.MODEL, far, solver=toy.Solver(max_steps=1, tol=1e-15), progress=False)
    assert len(flagged) == 3 and not flagged.converged.any()
    assert flagged["prices.p1"].isna().all()  # no number presented as an answer


@pytest.mark.parametrize(
    "grid, match",
    [
        ({"gamma": [1.0]}, "unknown column 'gamma'"),
        ({"alpha": ["abc"]}, r"row 1 .* column 'alpha'"),
        ({"alpha": [0.2, 1.5]}, r"row 2 .*alpha"),
        ({"numeraire": ["good9"]}, r"column 'numeraire'"),
        ({"alpha": [float("nan")]}, "empty cell"),
    ],
)
def test_sweep_bad_grids_name_the_column_and_row(grid, match):
    with pytest.raises(InputError, match=match):
        run_sweep(toy.MODEL, grid, progress=False)


def test_cli_inputs_from_text():
    p, o, s = build_inputs(toy.MODEL, {"alpha": "0.4", "e1": "1,2"}, {"report_log": "yes"}, {"max_steps": "10"})
    assert float(p.alpha) == 0.4 and o.report_log is True and s.max_steps == 10
    with pytest.raises(InputError, match="unknown parameter"):
        build_inputs(toy.MODEL, {"zeta": "1"}, {}, {})
    with pytest.raises(InputError, match="parameter alpha: 'abc' is not a number"):
        build_inputs(toy.MODEL, {"alpha": "abc"}, {}, {})
    with pytest.raises(InputError, match="expected 2 comma-separated values"):
        build_inputs(toy.MODEL, {"e1": "1"}, {}, {})
    # --option naming a parameter is accepted as --set (quota_trade's old command line)
    p, _, _ = build_inputs(toy.MODEL, {}, {"alpha": "0.45"}, {})
    assert float(p.alpha) == 0.45


def test_options_table_lists_every_option():
    md = options_table([toy.MODEL])
    assert "| `numeraire` | `good2` | good2, good1 |" in md and "`report_log`" in md


def test_float32_params_warn_and_become_float64():
    with pytest.warns(DtypeWarning, match="Params.alpha"):
        p = toy.Params(alpha=np.float32(0.25))
    assert p.alpha.dtype == np.float64
