"""Every model speaks the same dialect (the model contract, docs/contract.md): the same verbs,
validated Params/Options, a Result that round-trips through strict JSON, a batch equal to single
solves, and an ambiguity register (docs/ambiguities.md) generated from the options."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import numpy as np
import pytest

from landjax.cli import MODELS, model_spec
from landjax.contract import Interval, Result, loads_strict, options_table
from landjax.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
SPECS = {name: model_spec(name) for name in MODELS}
ON_CONTRACT = sorted(k for k, v in SPECS.items() if v is not None)


def test_every_model_is_on_the_contract_or_listed():
    assert {"helpman", "urban_rural", "quota_trade"} <= set(ON_CONTRACT)


@pytest.fixture(scope="module", params=ON_CONTRACT)
def spec(request):
    return SPECS[request.param]


def test_registry_is_complete(spec):
    rows = spec.options_rows()
    assert rows, f"{spec.name}: no options"
    for r in rows:
        assert r["why"].strip(), f"{spec.name}.{r['option']}: no reason given"
        assert r["ref"].strip(), f"{spec.name}.{r['option']}: no reference to the paper"
        assert "spec" not in r["why"].lower().split(), f"{spec.name}.{r['option']}: cites a file outside the repo"
    for info in spec.Options.registry():
        if not isinstance(info.choices, Interval):
            assert info.default in info.choices
    for name, info in spec.Params.fields_info().items():
        assert info.doc, f"{spec.name}: Params.{name} has no description"


def test_defaults_validate_and_bad_values_name_the_field(spec):
    p = spec.Params()
    for name, info in spec.Params.fields_info().items():
        if info.bounds is None:
            continue
        for bad in (np.nan, info.bounds.hi + 1.0 + abs(info.bounds.hi), info.bounds.lo - 1.0 - abs(info.bounds.lo)):
            if not np.isfinite(bad) and not np.isnan(bad):
                continue
            value = np.full(np.shape(getattr(p, name)), bad) if info.shape else np.float64(bad)
            with pytest.raises(InputError, match=name):
                dataclasses.replace(p, **{name: value})
    with pytest.raises(InputError):
        spec.Options.from_strings({"no_such_option": "x"})


def test_solve_returns_a_strict_result(spec):
    r = spec.solve(spec.Params(), spec.Options(), throw=False)
    assert isinstance(r, Result) and r.ok, r.message
    d = loads_strict(r.to_json())
    assert d["model"] == spec.name and d["converged"] is True
    assert set(d) >= {"unknowns", "options", "residual_norm", "steps", "message"}
    frame = r.to_frame()
    assert len(frame) == 1 and bool(frame["converged"].iloc[0])


def test_batch_equals_single_solves(spec):
    if spec.solve_batch is None:
        pytest.skip("no batch entry point")
    p = spec.Params()
    pb = jax.tree_util.tree_map(lambda v: np.stack([np.asarray(v, dtype=np.float64)] * 2), p)
    rb = spec.solve_batch(pb, spec.Options())
    r1 = spec.solve(p, spec.Options(), throw=False)
    flat_b = jax.tree_util.tree_leaves(rb.outcomes)
    flat_1 = jax.tree_util.tree_leaves(r1.outcomes)
    for a, b in zip(flat_b, flat_1, strict=True):
        np.testing.assert_allclose(np.asarray(a)[0], np.asarray(b), rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(np.asarray(a)[0], np.asarray(a)[1])


def test_ambiguity_register_is_current():
    specs = [SPECS[k] for k in MODELS if SPECS[k] is not None]
    text = (ROOT / "docs" / "ambiguities.md").read_text()
    assert text == options_table(specs), (
        "docs/ambiguities.md is stale: run `landjax options --markdown > docs/ambiguities.md`"
    )
