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
    assert {"helpman", "urban_rural", "quota_trade", "land_debt"} <= set(ON_CONTRACT)


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


EXPORTS = {"Params", "Options", "residual", "outcomes", "solve", "solve_batch", "sweep", "MODEL"}
CALIBRATES = {"urban_rural", "land_debt"}


def test_package_exports(spec):
    import importlib

    mod = importlib.import_module(MODELS[spec.name])
    names = set(mod.__all__)
    assert EXPORTS <= names, f"{spec.name} misses {sorted(EXPORTS - names)}"
    if spec.name in CALIBRATES:
        assert "calibrate" in names
    for n in names:
        assert hasattr(mod, n), f"{spec.name}.__all__ names {n}, which does not exist"


def test_cli_solve_and_options_for_every_model(spec, capsys):
    from landjax.cli import main

    required = {"quota_trade": ["--scenario", "inter_all_area_both"]}.get(spec.name, [])
    opt = spec.Options.registry()[0]
    assert main(["solve", spec.name, *required, "--option", f"{opt.name}={opt.default}", "--json"]) == 0
    d = loads_strict(capsys.readouterr().out)
    assert d["model"] == spec.name and d["converged"] is True and "units" in d
    assert main(["options", spec.name, "--json"]) == 0
    rows = loads_strict(capsys.readouterr().out)["options"]
    assert [r["option"] for r in rows] == [i.name for i in spec.Options.registry()]


def test_sweep_columns_are_the_same_for_every_model(spec):
    import pandas as pd

    if spec.name == "quota_trade":
        pytest.skip("needs a scenario context; covered by tests/test_sweep.py style runs")
    name, info = next((k, v) for k, v in spec.Params.fields_info().items() if not v.shape)
    base = float(np.asarray(getattr(spec.Params(), name)))
    from landjax.sweep import run_sweep

    out = run_sweep(spec, pd.DataFrame({name: [base, base]}), progress=False)
    assert list(out.columns[:4]) == [name, "converged", "residual_norm", "steps"]
    assert out["converged"].all()
    r = spec.solve(spec.Params(), spec.Options(), throw=False).to_frame()
    assert set(out.columns[4:]) == set(r.columns) - {"converged", "residual_norm", "steps"}


@pytest.mark.parametrize("name", ["quota_trade", "helpman"])
def test_fixed_point_settings_carry_every_solver_field(name):
    """The fixed-point models hand their whole `Solver` to `fixed_point`: every field has its
    keyword, a non-default value arrives under that keyword, and `fixed_point` accepts them all."""
    import inspect

    from landjax.contract import fixed_point_settings
    from landjax.engine import fixed_point

    S = SPECS[name].Solver
    fields = {f.name for f in dataclasses.fields(S)}
    s = S().replace(method="picard", damping=0.5, memory=3, tol=1e-9, ftol=1e-7, max_steps=17, tangent="neumann")
    kw = fixed_point_settings(s)
    assert len(kw) == len(fields), f"{name}: fields without a fixed_point keyword: {fields}"
    assert kw == dict(
        method="picard", damping=0.5, anderson_memory=3, tol=1e-9, ftol=1e-7, max_steps=17, tangent="neumann"
    )
    assert set(kw) <= set(inspect.signature(fixed_point).parameters)


def test_another_models_inputs_and_unknown_fields_name_the_culprit(spec):
    other = SPECS["land_debt" if spec.name != "land_debt" else "urban_rural"]
    with pytest.raises(InputError, match=rf"{spec.name}: options must be landjax\.models\.{spec.name}\.Options"):
        spec.solve(spec.Params(), other.Options(), throw=False)
    with pytest.raises(InputError, match=rf"{spec.name}: params must be landjax\.models\.{spec.name}\.Params"):
        spec.solve(other.Params(), throw=False)
    if spec.Solver is not None and other.Solver is not None:
        with pytest.raises(InputError, match="solver must be"):
            spec.solve(spec.Params(), solver=other.Solver(), throw=False)
    for cls in (spec.Params, spec.Options, spec.Solver):
        if cls is None:
            continue
        with pytest.raises(InputError, match="unknown field.*foo.*valid fields") as err:
            cls(foo=1)
        assert isinstance(err.value, TypeError)  # what Python raises for an unexpected keyword too


def test_sweep_columns_of_different_lengths_are_an_input_error():
    from landjax.models import urban_rural as ur

    with pytest.raises(InputError, match=r"different lengths \(m: 2, tau_n: 3\)"):
        ur.sweep({"m": [0.3, 0.4], "tau_n": [0.1, 0.2, 0.3]}, progress=False)


def test_claims_solve_takes_one_problem_and_lists_become_arrays():
    from landjax.models import claims

    p = claims.Params(claims=[[1.0, 2.0], [3.0, 4.0]], estate=[1.0, 2.0])
    assert isinstance(p.claims, np.ndarray) and len(jax.tree_util.tree_leaves(p)) == 2
    with pytest.raises(InputError, match=r"one parameter set at a time.*Params.claims of shape \(2, 2\)"):
        claims.solve(p)
    batch = claims.solve_batch(p)  # a batch of two problems (a list used to be four leaves)
    np.testing.assert_allclose(np.asarray(batch.unknowns["awards"]).sum(axis=1), [1.0, 2.0])


def test_claims_axioms_negative_seed_is_exit_2(capsys):
    from landjax.cli import main

    assert main(["claims-axioms", "--seed", "-1", "--draws", "1"]) == 2
    assert "--seed: must be an integer in [0, 2**63)" in capsys.readouterr().err


def test_small_cli_consistency_points(tmp_path, capsys):
    from landjax.cli import main
    from landjax.models import claims

    # a rule's long name works in Options and `--option` as in `landjax claims --rule`
    assert claims.Options(rule="talmud").rule == "T" and claims.Options(rule="random_arrival").rule == "RA"
    assert main(["solve", "claims", "--option", "rule=talmud", "--json"]) == 0
    assert loads_strict(capsys.readouterr().out)["options"]["rule"] == "T"
    with pytest.raises(InputError, match="choose one of P, CEA"):
        claims.Options(rule="bogus")
    # --temperature 0 is the exact rule in both commands
    (tmp_path / "c.csv").write_text("name,claim\na,1\nb,3\n")
    args = ["claims", "--claims", str(tmp_path / "c.csv"), "--estate", "2", "--rule", "T"]
    assert main([*args, "--temperature", "0", "--out", str(tmp_path / "t0.csv")]) == 0
    assert main([*args, "--out", str(tmp_path / "exact.csv")]) == 0
    assert (tmp_path / "t0.csv").read_bytes() == (tmp_path / "exact.csv").read_bytes()
    # one setting given two ways with different values is refused, not silently resolved
    capsys.readouterr()
    assert main(["solve", "urban_rural", "--option", "max_steps=3", "--solver", "max_steps=500", "--json"]) == 2
    assert "max_steps: given twice" in capsys.readouterr().err
    # NumPy scalars print as numbers in messages
    with pytest.raises(InputError) as err:
        SPECS["urban_rural"].Params(m=np.float64(1.5))
    assert "np.float64" not in str(err.value) and "m=1.5" in str(err.value)


def test_sweep_help_names_the_models_columns_and_repeated_columns_are_refused(tmp_path, capsys):
    from landjax.cli import main

    assert main(["sweep", "quota_trade", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "parameters (--set) alpha, eta, kappa" in text and "context scenario" in text and "--data" in text
    (tmp_path / "g.csv").write_text("m,m\n0.3,0.4\n")
    assert main(["sweep", "urban_rural", "--grid", str(tmp_path / "g.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "column(s) 'm' appear more than once" in capsys.readouterr().err


def test_solve_takes_one_parameter_set_and_solve_batch_shares_unbatched_parameters(spec):
    import jax.numpy as jnp

    name, info = next((k, v) for k, v in spec.Params.fields_info().items() if not v.shape)
    base = spec.Params()
    v = float(np.asarray(getattr(base, name)))
    two = jnp.asarray([v, v])
    with pytest.raises(InputError, match=rf"{spec.name}.solve: one parameter set at a time.*Params.{name}"):
        spec.solve(base.replace(**{name: two}), throw=False)
    with pytest.raises(InputError, match="no parameter has a leading batch axis"):
        spec.solve_batch(base)
    if spec.name in ("helpman", "quota_trade", "land_debt"):
        return  # heavy solves; the broadcast itself is model-independent (contract.as_batch)
    shared = spec.solve_batch(base.replace(**{name: two}))  # the other parameters are broadcast
    stacked = spec.solve_batch(jax.tree_util.tree_map(lambda x: jnp.stack([jnp.asarray(x)] * 2), base))
    for a, b in zip(
        jax.tree_util.tree_leaves(shared.unknowns), jax.tree_util.tree_leaves(stacked.unknowns), strict=True
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_values_given_twice_or_replaced_are_refused(tmp_path, capsys):
    from landjax.cli import main

    def refused(args, needle):
        capsys.readouterr()
        assert main(args) == 2
        err = capsys.readouterr().err
        assert needle in err and "Traceback" not in err, err

    refused(["solve", "urban_rural", "--set", "m=0.4", "--set", "m=0.5", "--json"], "--set m: given twice")
    # --calibrate chooses A_1, xi, k_bar and omega: a value set for one of them would be dropped
    refused(["solve", "land_debt", "--calibrate", "--set", "xi=0.3", "--json"], "--calibrate chooses xi")
    refused(["solve", "land_debt", "--calibrate", "--set", "A=1,1", "--json"], "--calibrate chooses A_1")
    (tmp_path / "g.csv").write_text("m\n0.3\n")
    sweep = ["sweep", "urban_rural", "--grid", str(tmp_path / "g.csv"), "--out", str(tmp_path / "o")]
    refused([*sweep, "--set", "m=0.5"], "--set m: also a column of the grid")
    # a bad value in a grid column that is not a parameter names the row and the value
    (tmp_path / "s.csv").write_text("m,max_steps\n0.3,0\n")
    refused(["sweep", "urban_rural", "--grid", str(tmp_path / "s.csv"), "--out", str(tmp_path / "p")],
            "grid: row 1 (line 2 of a CSV file), max_steps=0")  # fmt: skip
    # claims: --problem on a one-problem file, --gini naming the --out file
    (tmp_path / "c.csv").write_text("name,claim\na,1\nb,3\n")
    refused(["claims-axioms", "--rule", "T", "--claims", str(tmp_path / "c.csv"), "--estate", "2", "--problem", "2"],
            "has no 'problem' column")  # fmt: skip
    out = str(tmp_path / "a.csv")
    refused(["claims", "--claims", str(tmp_path / "c.csv"), "--estate", "2", "--out", out, "--gini", out],
            "is the same file as --out")  # fmt: skip
