"""Quota-trade reliability (issue 13): every input checked whatever its type, strict option parsing,
no statistics from rounding noise, no file of the user overwritten, slow members converged, bad
migration matrices and dataset tags refused, solver settings and JSON strict."""

from __future__ import annotations

import importlib
import math
import warnings

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from landjax.cli import main
from landjax.contract import loads_strict
from landjax.data import china as C
from landjax.errors import DtypeWarning, InputError
from landjax.models import quota_trade as M
from landjax.models.quota_trade.outcomes import gap_ratio

SCEN = ["--scenario", "inter_all_area_both"]


def _cli(capsys, *args):
    code = main(["solve", "quota_trade", *args, "--json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, (loads_strict(out) if out.strip() else None), err


# ------------------------------------------------------------------------------------------------
# item 2: numpy / JAX scalars are range-checked like Python numbers
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value",
    [
        ("alpha", np.float64(1.5)),
        ("alpha", jnp.float64(1.5)),
        ("eta", np.float64(-0.5)),
        ("sigma", jnp.asarray(2.0)),
        ("kappa", np.float64(-2.0)),
        ("rho", np.array(0.0)),
        ("alpha", np.float64("nan")),
        ("kappa", jnp.asarray(np.inf)),
        ("alpha", jnp.asarray([0.5, 1.2])),  # a batch: every member checked
    ],
)
def test_params_are_checked_whatever_their_type(name, value):
    with pytest.raises(InputError, match=f"Params.{name}"):
        M.Params(**{name: value})


def test_params_accept_in_range_numpy_and_jax_scalars_and_warn_on_float32():
    p = M.Params(alpha=np.float64(0.6), eta=jnp.float64(0.2))
    assert float(p.alpha) == 0.6 and float(p.eta) == 0.2
    with pytest.warns(DtypeWarning, match="Params.alpha"):
        p32 = M.Params(alpha=np.float32(0.6))
    assert jnp.asarray(p32.alpha).dtype == jnp.float64


def test_float32_shock_is_converted_with_a_warning():
    base = M.build_baseline(None, M.Params())
    sh = M.zero_shock(base)
    sh32 = M.Shock(np.ones(base.n, dtype=np.float32), sh.RH_hat, sh.f)
    with pytest.warns(DtypeWarning, match="Shock.RY_hat"):
        eq = M.solve_shock(base, sh32)
    assert bool(eq.converged)


# ------------------------------------------------------------------------------------------------
# item 3: NaN and nonsense options
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "opts, field",
    [
        (["tenure=true", "land_rate=nan"], "land_rate"),
        (["tenure=maybe"], "tenure"),
        (["tenure=true", "land_rate=-1"], "land_rate"),
        (["land_rate=0"], "land_rate"),
        (["share=nan"], "share"),
        (["share=1"], "share"),
        (["cost_factor=inf"], "cost_factor"),
        (["gap=bogus"], "gap"),
        (["closure=other"], "closure"),
        (["no_such_option=1"], "no_such_option"),
    ],
)
def test_bad_options_are_exit_2_naming_the_field(capsys, opts, field):
    args = [a for o in opts for a in ("--option", o)]
    code, out, err = _cli(capsys, *SCEN, *args)
    assert code == 2 and field in err
    assert field in out["error"]


def test_bad_options_in_python_are_input_errors():
    with pytest.raises(InputError, match="land_rate"):
        M.build_baseline(None, M.Params(), tenure=True, land_rate=-1.0)
    with pytest.raises(InputError, match="land_rate"):
        M.build_baseline(None, M.Params(), tenure=True, land_rate=float("nan"))
    with pytest.raises(InputError, match="tenure"):
        M.build_baseline(None, M.Params(), tenure="maybe")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="land_rate"):
        M.Options(land_rate=math.nan)
    with pytest.raises(InputError, match="tenure"):
        M.Options(tenure="yes")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="cost_factor"):
        M.Scenario(cost_factor=math.inf)
    with pytest.raises(InputError, match="share"):
        M.Scenario.from_name("inter_all_area_both", share="abc")


def test_tenure_true_is_parsed_as_true(capsys):
    code, out, _ = _cli(capsys, *SCEN, "--option", "tenure=true")
    assert code == 0 and out["options"]["tenure"] is True
    code0, out0, _ = _cli(capsys, *SCEN)
    assert out["statistics"]["gdp_change"] != out0["statistics"]["gdp_change"]


# ------------------------------------------------------------------------------------------------
# item 4: identical cities trade nothing: exact zeros, undefined gaps flagged, never noise
# ------------------------------------------------------------------------------------------------


def _identical_dataset(tmp_path, n_stay=0.9):
    ds = C.generate_synthetic(0, n_cities=31)
    c = ds.cities.copy()
    for col in ("L0", "w", "LY", "LH", "RY", "RH", "Ph", "buy_price"):
        c[col] = float(c[col].iloc[0])
    n = len(c)
    m = np.full((n, n), (1.0 - n_stay) / (n - 1))
    np.fill_diagonal(m, n_stay)
    path = tmp_path / "identical"
    C.write_dataset(C.Dataset("identical", c, m, dict(ds.meta)), path)
    return path


def test_identical_cities_report_no_noise(tmp_path, capsys):
    path = _identical_dataset(tmp_path)
    code, out, _ = _cli(capsys, *SCEN, "--data", str(path))
    assert code == 0 and out["converged"] is True
    st, dg = out["statistics"], out["diagnostics"]
    assert dg["sellers_productive"] + dg["buyers_productive"] == 0  # nothing is traded
    assert st["gdp_change"] == 0.0 and st["welfare_change"] == 0.0  # exactly, not rounding noise
    assert st["output_gap_change"] is None and st["welfare_gap_change"] is None  # 0/0: undefined
    assert dg["output_gap_defined"] is False and dg["welfare_gap_defined"] is False
    assert set(out["non_finite"]) >= {"statistics.output_gap_change", "statistics.welfare_gap_change"}


def test_no_trade_gives_exact_zeros_on_real_data(capsys):
    code, out, _ = _cli(capsys, "--scenario", "none")
    assert code == 0
    assert all(v == 0.0 for v in out["statistics"].values()), out["statistics"]
    assert out["diagnostics"]["output_gap_defined"] is True


def test_gap_ratio_threshold():
    assert math.isnan(float(gap_ratio(jnp.asarray(1e-17), jnp.asarray(1e-16))))
    assert float(gap_ratio(jnp.asarray(0.3), jnp.asarray(0.2))) == pytest.approx(0.5)


# ------------------------------------------------------------------------------------------------
# items 6 and 11: outputs checked before the solve, never over an input, written atomically
# ------------------------------------------------------------------------------------------------


def test_city_out_refuses_to_overwrite_the_dataset(tmp_path, capsys):
    path = tmp_path / "data"
    C.write_dataset(C.generate_synthetic(0, n_cities=31), path)
    before = (path / "cities.csv").read_bytes()
    code, out, err = _cli(capsys, *SCEN, "--data", str(path), "--city-out", str(path / "cities.csv"))
    assert code == 2 and "--city-out" in err and "statistics" not in out
    assert (path / "cities.csv").read_bytes() == before
    code, out, err = _cli(capsys, *SCEN, "--data", str(path), "--city-out", str(path / "migration.csv"))
    assert code == 2
    # a new name inside the dataset folder is refused too: a command does not write into its input
    code, out, err = _cli(capsys, *SCEN, "--data", str(path), "--city-out", str(path / "new.csv"))
    assert code == 2 and "inside the input folder" in err and not (path / "new.csv").exists()


def test_city_out_missing_folder_or_a_folder_is_exit_2_before_solving(tmp_path, capsys, monkeypatch):
    calls = []
    mod = importlib.import_module("landjax.models.quota_trade.solve")
    monkeypatch.setattr(mod, "solve_shock", lambda *a, **k: calls.append(1))
    code, _, err = _cli(capsys, *SCEN, "--city-out", str(tmp_path / "missing" / "c.csv"))
    assert code == 2 and "--city-out" in err and "does not exist" in err
    code, _, err = _cli(capsys, *SCEN, "--city-out", str(tmp_path))
    assert code == 2 and "directory" in err
    assert not calls  # refused before any solve


def test_city_out_writes_a_complete_file(tmp_path, capsys):
    out_csv = tmp_path / "cities.csv"
    out_csv.write_text("the user's own file\n")
    code, out, err = _cli(capsys, *SCEN, "--city-out", str(out_csv))  # an existing file needs --force
    assert code == 2 and "--force" in err and out_csv.read_text() == "the user's own file\n"
    code, out, _ = _cli(capsys, *SCEN, "--city-out", str(out_csv), "--force")
    assert code == 0 and out["city_out"] == str(out_csv)
    df = pd.read_csv(out_csv)
    assert len(df) == C.load_dataset().n and {"city", "L_hat", "Y_hat", "W_hat", "feasible"} <= set(df.columns)
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


# ------------------------------------------------------------------------------------------------
# item 8: a slow member converges (Anderson acceleration by default)
# ------------------------------------------------------------------------------------------------

SLOW = [
    dict(alpha=0.65, eta=0.5, kappa=7.5, sigma=0.47, rho=0.14),  # damped Picard oscillates
    dict(alpha=0.5863, eta=0.2438, kappa=6.5251, sigma=0.3877, rho=0.0391),  # Picard needs > 1000 steps
]


@pytest.mark.parametrize("kw", SLOW, ids=["oscillating", "slow"])
def test_slow_member_converges(kw):
    p = M.Params(**kw)
    base = M.build_baseline(None, p)
    sh = M.compile_scenario(base, M.Scenario.from_name("inter_all_area_both"))
    old = M.solve_shock(base, sh, p, throw=False, method="picard", max_steps=1000)
    assert not bool(old.converged) or int(old.steps) >= 1000  # the old default gave up (or hit the cap)
    eq = M.solve_shock(base, sh, p, throw=False)
    assert bool(eq.converged) and bool(eq.feasible) and int(eq.steps) < 200
    r = M.residual_shock(jnp.log(eq.L_hat), base, sh, p)  # recomputed outside the solver
    assert float(jnp.max(jnp.abs(r))) < 1e-10


def test_slow_member_converges_in_a_batch():
    stacked = {k: jnp.asarray([SLOW[0][k], SLOW[1][k], M.Params().__getattribute__(k)]) for k in SLOW[0]}
    res = M.solve_batch(M.Params(**stacked), M.Options(), scenario="inter_all_area_both")
    assert np.asarray(res.converged).tolist() == [True, True, True]


# ------------------------------------------------------------------------------------------------
# item 10: a migration matrix with a zero stay share is refused
# ------------------------------------------------------------------------------------------------


def test_zero_stay_share_is_refused(tmp_path, capsys):
    ds = C.generate_synthetic(0, n_cities=31)
    m = ds.m.copy()
    m[2, :] = 0.0
    m[2, 3] = 1.0  # origin 2 sends every worker away: m_22 = 0
    path = tmp_path / "nostay"
    C.write_dataset(C.Dataset("nostay", ds.cities, m, dict(ds.meta)), path)
    with pytest.raises(InputError, match="stay share"):
        C.read_dataset(path)
    code, out, err = _cli(capsys, *SCEN, "--data", str(path))
    assert code == 2 and "stay share" in err


# ------------------------------------------------------------------------------------------------
# item 12: errors name the field; synthetic tags validated
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--set", "--option"])
def test_set_garbage_names_the_parameter(capsys, flag):
    code, out, err = _cli(capsys, *SCEN, flag, "alpha=abc")
    assert code == 2 and "alpha" in err and "could not convert" not in err


@pytest.mark.parametrize("tag", ["synthetic:0:0", "synthetic:0:-5", "synthetic:0:5", "synthetic:-1", "synthetic:0:x"])
def test_bad_synthetic_tags_are_refused(tag):
    with pytest.raises(InputError, match="synthetic|n_cities|seed"):
        C.load_dataset(tag)


def test_synthetic_tag_gives_the_number_of_cities_asked_for():
    assert C.load_dataset("synthetic:0:31").n == 31
    assert C.load_dataset("synthetic:0:40").n == 40


# ------------------------------------------------------------------------------------------------
# item 13: solver settings and strict JSON
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setting", ["ftol=inf", "ftol=nan", "tol=-1", "tol=0", "max_steps=-3", "max_steps=0", "max_steps=2.5", "damping=0"]
)
def test_bad_solver_settings_are_exit_2(capsys, setting):
    code, out, err = _cli(capsys, *SCEN, "--solver", setting)
    assert code == 2 and setting.split("=")[0] in err


def test_bad_solver_settings_in_python():
    base = M.build_baseline(None, M.Params())
    sh = M.zero_shock(base)
    for kw in ({"ftol": math.inf}, {"tol": -1.0}, {"max_steps": -3}, {"damping": 1.5}, {"method": "newton"}):
        with pytest.raises(InputError, match=next(iter(kw))):
            M.solve_shock(base, sh, **kw)


def test_json_is_strict_and_a_failure_exits_1(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, out, err = _cli(capsys, *SCEN, "--solver", "max_steps=2")
    assert code == 1 and out["converged"] is False
    assert all(v is None for v in out["statistics"].values())
    assert "not converged" in out["message"]


# ------------------------------------------------------------------------------------------------
# the contract: sweep, Result round trip, options register
# ------------------------------------------------------------------------------------------------


def test_sweep_rows_match_single_solves():
    grid = pd.DataFrame({"kappa": [3.0, 4.0], "scenario": ["inter_all_area_both", "none"]})
    df = M.sweep(grid)
    assert list(df["converged"]) == [True, True]
    one = M.solve(M.Params(kappa=4.0), M.Options(), scenario="none")
    assert df["statistics.gdp_change"].iloc[1] == 0.0 == one.outcomes["statistics"]["gdp_change"]
    first = M.solve(M.Params(), M.Options(), scenario="inter_all_area_both")
    assert df["statistics.gdp_change"].iloc[0] == pytest.approx(
        float(first.outcomes["statistics"]["gdp_change"]), rel=1e-10
    )
    assert loads_strict(first.to_json())["options"]["scenario"]["name"] == "inter_all_area_both"


def test_closure_conflict_and_legacy_solve_form():
    with pytest.raises(InputError, match="closure"):
        M.solve(M.Params(closure="fixed_price"), M.Options(closure="endogenous"))
    base = M.build_baseline(None, M.Params())
    eq = M.solve(base, M.zero_shock(base), M.Params(), throw=False, max_steps=50)  # the old form still works
    assert bool(eq.converged)


def test_rule_options_from_the_one_options_and_checked_whatever_the_type():
    from landjax.models.quota_trade.rules import RuleOptions

    r = RuleOptions.from_options(M.Options(ts="surplus", prices="balanced", share=0.2), sell_cap=0.4)
    assert (r.ts, r.prices, float(r.volume_share), float(r.sell_cap)) == ("surplus", "balanced", 0.2, 0.4)
    with pytest.raises(InputError, match="comes from Options"):
        RuleOptions.from_options(M.Options(), ts="stock")
    # one options idiom: ts and prices are the model's Options, not settings of the rule
    import dataclasses

    assert {"ts", "prices"}.isdisjoint(f.name for f in dataclasses.fields(RuleOptions))
    assert (RuleOptions().ts, RuleOptions().prices) == (M.Options().ts, M.Options().prices)
    with pytest.raises(TypeError):
        RuleOptions(ts="surplus")  # type: ignore[call-arg]
    with pytest.raises(InputError, match="RuleOptions.model"):
        RuleOptions(model="surplus")  # type: ignore[arg-type]
    for bad in (np.float64(-0.1), jnp.asarray(0.0), np.float64("nan")):
        with pytest.raises(InputError, match="volume_share"):
            RuleOptions(volume_share=bad)


def test_scenario_settings_live_in_the_one_options():
    import dataclasses

    from landjax.models.quota_trade.policy import SCENARIO_OPTIONS

    # the Scenario is the policy; share, ts, prices, ... are fields of Options only
    fields = {f.name for f in dataclasses.fields(M.Scenario)}
    assert fields == {"land", "market", "allocation", "trade", "options"}
    assert set(SCENARIO_OPTIONS) <= {i.name for i in M.Options.registry()}
    o = M.Options(share=0.2, prices="balanced")
    sc = M.Scenario.from_name("inter_all_area_both", options=o)
    assert (sc.share, sc.prices, sc.ts) == (0.2, "balanced", "stock")  # read-only views
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.share = 0.3  # type: ignore[misc]
    assert sc.with_options(share=0.3).share == 0.3 and sc.share == 0.2
    # the old keyword form still works for one release, with a warning, and means the same
    with pytest.warns(DeprecationWarning, match="fields of the quota_trade Options"):
        old = M.Scenario(share=0.2, prices="balanced")
    assert old == M.Scenario(options=o) and old.describe() == sc.describe()
    # a scenario name with the solve's Options, a Scenario with its own: the same shock
    base = M.build_baseline(None, M.Params())
    by_name = M.compile_scenario(base, M.scenario_of("inter_all_area_both", o))
    by_obj = M.compile_scenario(base, sc)
    _assert_same_bits(by_name, by_obj)
    # an unset Scenario takes the solve's Options; a contradiction is refused, naming the field
    assert M.Scenario.from_name("inter_all_area_both").bound_to(o).share == 0.2
    with pytest.raises(InputError, match="share=0.2 and the Options say share=0.3"):
        sc.bound_to(M.Options(share=0.3))
    with pytest.raises(InputError, match="Scenario.options"):
        M.Scenario(options="balanced")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------
# the compiled scenario program (what solve calls) equals the eager compile_scenario bit for bit
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, settings",
    [
        ("inter_all_area_both", {}),
        ("intra_pilot_proportion_productive", {"share": 0.2, "prices": "balanced"}),
        ("inter_pilot_area_residential", {"ts": "surplus", "pilot_pool": "pilot_only", "migration_cut": "all"}),
        ("none", {"migration_cut": "inter_pilot", "cost_factor": 0.8}),
    ],
)
def test_compiled_scenario_equals_the_eager_one(name, settings):
    from landjax.models.quota_trade.policy import _scenario_program, compile_scenario_program

    base = M.build_baseline(None, M.Params())
    sc = M.Scenario.from_name(name, **settings)
    _assert_same_bits(M.compile_scenario(base, sc), compile_scenario_program(base, sc))
    # share and cost_factor are values of the program, not part of its key: a new value reuses it
    size = _scenario_program._cache_size()
    other = sc.with_options(share=0.05, cost_factor=0.7)
    again = compile_scenario_program(base, other)
    assert _scenario_program._cache_size() == size
    _assert_same_bits(M.compile_scenario(base, other), again)


def _assert_same_bits(a, b):
    """Two pytrees with the same structure and bit-identical leaves."""
    import jax

    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


# ------------------------------------------------------------------------------------------------
# a plain solve_shock is one compiled program: the traced path's bits, compiled once
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, solver",
    [
        ("inter_all_area_both", {}),
        ("intra_pilot_proportion_productive", {"method": "picard"}),
        ("none", {"tangent": "neumann", "memory": 3}),
    ],
)
def test_plain_solve_has_the_bits_of_the_traced_solve(name, solver):
    import jax

    base = M.build_baseline(None, M.Params())
    sh = M.compile_scenario(base, M.Scenario.from_name(name, migration_cut="all" if name == "none" else "none"))
    params = M.Params()
    plain = M.solve_shock(base, sh, params, throw=False, **solver)
    # parameters as arguments of the user's program, as the plain call passes them (parameters
    # built inside a trace are constants there, and XLA folds them: other last bits)
    traced = jax.jit(lambda b, s, p: M.solve_shock(b, s, p, throw=False, **solver))(base, sh, params)
    _assert_same_bits(plain, traced)
    assert bool(plain.converged) and bool(plain.feasible)


def test_a_second_plain_solve_compiles_nothing():
    from tests.test_engine_compile import count_compiles

    base = M.build_baseline(None, M.Params())
    sc = M.Scenario.from_name("inter_all_area_both")
    sh1 = M.compile_scenario(base, sc)
    sh2 = M.compile_scenario(base, sc.with_options(share=0.05))
    with count_compiles() as first:
        e1 = M.solve_shock(base, sh1, max_steps=777)  # a step limit no other test uses: a new program
    with count_compiles() as again:
        e2 = M.solve_shock(base, sh2, max_steps=777)  # new values, same structure and settings
        M.solve_shock(base, sh1, M.Params(kappa=2.5), max_steps=777)  # new parameter values too
    assert len(first) >= 1
    assert again == [], f"{len(again)} compilation(s) on repeated plain calls"
    assert not np.array_equal(np.asarray(e1.L_hat), np.asarray(e2.L_hat))
