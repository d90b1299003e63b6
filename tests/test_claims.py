"""Claims-problem rules (landjax.allocation.claims): properties, textbook cases, independent
implementations, derivatives, smooth versions, the Zaoyang case, validation and the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landjax.allocation import claims as cl
from landjax.allocation import digraph as dg
from landjax.data.zaoyang import ESTATE, PAPER_TABLE6, load_zaoyang
from landjax.engine import gradcheck
from landjax.errors import InputError

RULES = cl.RULES
SIZES = (2, 3, 5, 8)  # a few fixed sizes keep the number of compilations small


@st.composite
def problems(draw, sizes=SIZES, ties=False):
    n = draw(st.sampled_from(sizes))
    vals = st.one_of(st.just(0.0), st.floats(0.01, 1000.0, allow_nan=False, allow_infinity=False))
    c = draw(st.lists(vals, min_size=n, max_size=n))
    if ties and n >= 2:
        c[1] = c[0]
    frac = draw(st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(0.0, 1.0)))
    c = np.array(c)
    return c, float(frac * c.sum())


def scale(c):
    return 1e-9 * max(1.0, float(np.sum(c)))


# ------------------------------------------------------------------------------------ textbook


def test_textbook_talmud_and_garment():
    c = np.array([100.0, 200.0, 300.0])
    np.testing.assert_allclose(cl.allocate(c, 100, "T"), [100 / 3] * 3, atol=1e-12)
    np.testing.assert_allclose(cl.allocate(c, 200, "T"), [50, 75, 75], atol=1e-12)
    np.testing.assert_allclose(cl.allocate(c, 300, "T"), [50, 100, 150], atol=1e-12)
    np.testing.assert_allclose(cl.allocate([50.0, 100.0], 100, "talmud"), [25, 75], atol=1e-12)  # contested garment
    # the other rules on the 300 case, by hand
    np.testing.assert_allclose(cl.allocate(c, 300, "CEA"), [100, 100, 100], atol=1e-12)
    np.testing.assert_allclose(cl.allocate(c, 300, "CEL"), [0, 100, 200], atol=1e-12)
    np.testing.assert_allclose(cl.allocate(c, 300, "P"), [50, 100, 150], atol=1e-12)
    np.testing.assert_allclose(cl.allocate(c, 400, "Pin"), [50 + 100 / 3, 100 + 100 / 3, 150 + 100 / 3], atol=1e-12)
    np.testing.assert_allclose(cl.allocate(c, 400, "CE"), [100, 150, 150], atol=1e-12)


# ---------------------------------------------------------------------------------- properties


@settings(max_examples=40)
@given(problems(), st.sampled_from(RULES))
def test_feasible_and_order_preserving(prob, rule):
    c, E = prob
    x = cl.allocate(c, E, rule)
    tol = scale(c)
    assert abs(x.sum() - E) <= tol
    assert np.all(x >= -tol) and np.all(x <= c + tol)
    i, j = np.argsort(c)[:-1], np.argsort(c)[1:]  # c_i <= c_j
    assert np.all(x[i] <= x[j] + tol), (c, x)  # awards ordered like claims
    assert np.all(c[i] - x[i] <= c[j] - x[j] + tol), (c, x)  # and losses too
    ref = cl.reference_numpy(c, E, rule)  # independent sorted-claims algorithm
    np.testing.assert_allclose(x, ref, atol=1e-8 * max(1.0, c.sum()))


@settings(max_examples=25)
@given(problems(ties=True), st.sampled_from(RULES))
def test_equal_treatment(prob, rule):
    c, E = prob
    x = cl.allocate(c, E, rule)
    assert abs(x[0] - x[1]) <= scale(c)


@settings(max_examples=25)
@given(problems())
def test_dualities(prob):
    c, E = prob
    C = c.sum()
    tol = 1e-8 * max(1.0, C)
    np.testing.assert_allclose(cl.allocate(c, E, "CEA"), c - cl.allocate(c, C - E, "CEL"), atol=tol)
    for self_dual in ("P", "T"):
        np.testing.assert_allclose(cl.allocate(c, E, self_dual), c - cl.allocate(c, C - E, self_dual), atol=tol)


def test_batch_matches_single_and_large_n():
    rng = np.random.default_rng(1)
    c = rng.uniform(0, 50, (37, 8))
    c[3, :4] = 0.0
    E = rng.uniform(0, 1, 37) * c.sum(1)
    E[:3] = [0.0, c[1].sum(), c[2].sum() / 2]
    for rule in RULES:
        xb = cl.allocate_batch(c, E, rule, chunk_size=16)  # three chunks, the last padded
        for b in (0, 1, 2, 3, 20, 36):
            np.testing.assert_allclose(xb[b], cl.reference_numpy(c[b], E[b], rule), atol=1e-9)
    # n above the dense threshold uses the sorted-cumsum breakpoint sums
    cbig = rng.uniform(0, 10, 150)
    cbig[:10] = cbig[10]
    for rule in ("T",):
        for frac in (0.1, 0.5, 0.93):
            E = frac * cbig.sum()
            np.testing.assert_allclose(cl.allocate(cbig, E, rule), cl.reference_numpy(cbig, E, rule), atol=1e-9)


# ----------------------------------------------------------------- independent implementation


def test_talmud_is_nucleolus_and_matches_coopgame():
    coopgame = pytest.importorskip("coopgame")
    rng = np.random.default_rng(7)
    for trial in range(12):
        n = int(rng.integers(2, 6))
        c = np.round(rng.uniform(1, 100, n), 2)
        if trial % 3 == 0:
            c[-1] = c[0]
        for frac in (0.15, 0.5, 0.8):
            E = float(frac * c.sum())
            t = cl.allocate(c, E, "T")
            game = coopgame.Game.bankruptcy(E, list(map(float, c)))
            nuc = np.array(coopgame.nucleolus(game)["allocation"])
            np.testing.assert_allclose(t, nuc, atol=1e-7 * c.sum(), err_msg=f"c={c} E={E}")
            np.testing.assert_allclose(t, coopgame.talmud(E, list(map(float, c))), atol=1e-9 * c.sum())
            np.testing.assert_allclose(
                cl.allocate(c, E, "CEA"), coopgame.constrained_equal_awards(E, list(map(float, c))), atol=1e-9 * c.sum()
            )
            np.testing.assert_allclose(
                cl.allocate(c, E, "CEL"), coopgame.constrained_equal_losses(E, list(map(float, c))), atol=1e-9 * c.sum()
            )


# ---------------------------------------------------------------------------------- derivatives

C_GRAD = np.array([30.0, 55.0, 80.0, 120.0, 170.0])  # C = 455


_JACS: dict = {}


def _jac(rule, c, E, side):
    """Jacobian of the rule in (c, E), compiled once per (rule, side)."""
    if (rule, side) not in _JACS:
        f = cl.rule_function(rule, side=side)
        _JACS[rule, side] = jax.jit(jax.jacfwd(lambda z: f(z[:-1], z[-1])))
    z = jnp.concatenate([jnp.asarray(c), jnp.array([E])])
    return np.asarray(_JACS[rule, side](z))


@pytest.mark.parametrize("rule", RULES)
def test_gradients_match_finite_differences_away_from_kinks(rule):
    f = cl.rule_function(rule)
    g = jax.jit(lambda z: f(z[:-1], z[-1]))  # jit once: gradcheck's derivatives then run compiled
    for E in (101.0, 301.0, 397.0):
        z = jnp.concatenate([jnp.asarray(C_GRAD), jnp.array([E])])
        # away from kinks both one-sided derivatives coincide (so these are not kink points)
        np.testing.assert_allclose(_jac(rule, C_GRAD, E, 1), _jac(rule, C_GRAD, E, -1), atol=1e-12)
        chk = gradcheck(g, z, eps=1e-6, rtol=1e-6, atol=1e-7)
        assert chk.ok, chk


@pytest.mark.parametrize(
    "rule,E", [("CEA", 150.0), ("CEL", 455.0 - 150.0), ("Pin", 455.0 / 2), ("CE", 455.0 / 2), ("T", 75.0)]
)
def test_one_sided_derivatives_at_kinks(rule, E):
    """side=+1 is the right derivative in E, side=-1 the left one (CEA: 30 reaches its cap at E=150;
    CE and Pin switch branch at E = C/2; T: 30/2 capped at E = 75). T has no kink in E at C/2 when
    the largest claim is unique (the largest claimant is the free one on both sides)."""
    h = 1e-6
    x0, xp, xm = (cl.allocate(C_GRAD, e, rule) for e in (E, E + h, E - h))
    right, left = (xp - x0) / h, (x0 - xm) / h
    d_plus = _jac(rule, C_GRAD, E, 1)[:, -1]
    d_minus = _jac(rule, C_GRAD, E, -1)[:, -1]
    np.testing.assert_allclose(d_plus, right, atol=1e-6)
    np.testing.assert_allclose(d_minus, left, atol=1e-6)
    assert np.max(np.abs(d_plus - d_minus)) > 1e-3  # it is a kink


@pytest.mark.parametrize("rule", RULES)
def test_derivatives_at_the_ends_and_degenerate_problems(rule):
    """At E = C (side=+1) and E = 0 (side=-1) the other side's piece is used: finite derivatives
    whose estate column sums to 1 (the awards sum to E); zero claims and E = 0 give zeros."""
    C = float(C_GRAD.sum())
    for E, side in ((C, 1), (0.0, -1), (C, -1), (0.0, 1)):
        J = _jac(rule, C_GRAD, E, side)
        assert np.all(np.isfinite(J)) and abs(J[:, -1].sum() - 1) < 1e-12, (E, side, J)
    np.testing.assert_array_equal(cl.allocate([0.0, 0.0, 0.0], 0.0, rule), 0.0)
    np.testing.assert_allclose(cl.allocate([0.0, 5.0, 5.0], 10.0, rule), [0, 5, 5], atol=1e-12)


# ------------------------------------------------------------------------------------- smooth


@pytest.mark.parametrize("rule", RULES)
def test_smooth_converges_to_exact(rule):
    z = load_zaoyang()
    c = z["demand"].to_numpy()[:8]
    for E in (0.3 * c.sum(), 0.62 * c.sum()):
        exact = cl.allocate(c, E, rule)
        errs = []
        for tau in (30.0, 3.0, 1e-8):  # claims are 74..596 hm2
            xs = cl.allocate(c, E, rule, temperature=tau)
            assert abs(xs.sum() - E) <= 1e-9 * c.sum()
            assert np.all(xs >= 0) and np.all(xs <= c)
            errs.append(np.max(np.abs(xs - exact)))
        assert errs[-1] <= 1e-6, errs
        if rule != "P":
            assert errs[0] > 1e-3 and errs[0] > errs[1] >= errs[2], errs


@pytest.mark.parametrize("rule", ["CE"])  # CE uses both water-fillings and the smooth half-way split
def test_smooth_gradients(rule):
    f = cl.rule_function(rule, temperature=2.0)
    z = jnp.concatenate([jnp.asarray(C_GRAD), jnp.array([227.5])])  # at the exact rules' kink E = C/2
    chk = gradcheck(jax.jit(lambda z: f(z[:-1], z[-1])), z, eps=1e-5, rtol=1e-5, atol=1e-7)
    assert chk.ok, chk


# ------------------------------------------------------------------------------------ Zaoyang


def test_zaoyang_reproduces_table5_except_P():
    z = load_zaoyang()
    c = z["demand"].to_numpy()
    assert abs(c.sum() - 3976.65) < 1e-9  # the text says 3976.66
    for rule in ("CEA", "CEL", "CE", "Pin", "T"):
        x = cl.allocate(c, ESTATE, rule)
        np.testing.assert_allclose(x, z[f"paper_{rule}"].to_numpy(), atol=0.01, err_msg=rule)
    p = cl.allocate(c, ESTATE, "P")
    np.testing.assert_allclose(p, ESTATE / c.sum() * c, rtol=1e-14)
    # the printed P column is Table 1's planned quota, and a proportional split is not
    np.testing.assert_array_equal(z["paper_P"].to_numpy(), z["planned_quota"].to_numpy())
    assert np.sum(np.abs(p - z["paper_P"].to_numpy()) > 0.01) == 15
    assert z.loc[z["district"] == "琚湾镇", "name_in_table5"].item() == "锯湾镇"


def test_digraph_beta_is_shapley_value_and_zaoyang_ordering():
    coopgame = pytest.importorskip("coopgame")
    rng = np.random.default_rng(3)
    for _ in range(6):
        A = (rng.uniform(size=(6, 6)) < 0.35).astype(int)
        np.fill_diagonal(A, 0)
        b = dg.beta(A)
        np.testing.assert_allclose(b, dg.shapley_brute_force(A), atol=1e-12)
        vals = [dg.digraph_game(A, [k for k in range(6) if mask >> k & 1]) for mask in range(1, 64)]
        game = coopgame.Game([float(v) for v in vals])  # binary order: coalition bitmask 1..2^n-1
        np.testing.assert_allclose(b, coopgame.shapley(game), atol=1e-9)
        assert abs(b.sum() - round(b.sum())) < 1e-12  # betas sum to an integer
    z = load_zaoyang()
    aw = pd.DataFrame({r: cl.allocate(z["demand"].to_numpy(), ESTATE, r) for r in RULES})
    ours = dg.rule_betas(aw)
    paper = pd.Series(PAPER_TABLE6)
    assert list(ours.sort_values(ascending=False).index) == list(paper.sort_values(ascending=False).index)
    assert abs(ours.sum() - round(ours.sum())) < 1e-9 and abs(paper.sum() - round(paper.sum())) > 0.4


def test_reproduce_zuo2019(tmp_path):
    from landjax.reproduce import zuo2019

    s = zuo2019.run(tmp_path)
    d = tmp_path / "zuo2019"
    t5 = pd.read_csv(d / "table5.csv")
    assert list(t5.columns[:6]) == ["district", "rule", "claim", "award", "paper_award", "diff"]
    assert len(t5) == 96 and t5.loc[t5["rule"] != "P", "diff"].abs().max() <= 0.01
    t6 = pd.read_csv(d / "table6.csv")
    assert list(t6.columns[:3]) == ["rule", "beta", "paper_beta"]
    assert (d / "satisfaction.png").stat().st_size > 1000
    report = (d / "report.md").read_text()
    for needle in ("锯湾镇", "琚湾镇", "144.48", "Table 1", "integer"):
        assert needle in report
    assert all((tmp_path / f).exists() for f in s["files"])


# --------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "claims,estate,match",
    [
        ([10.0, -1.0], 5.0, "negative"),
        ([10.0, float("nan")], 5.0, "NaN"),
        ([10.0, 5.0], -1.0, "estate.*negative"),
        ([10.0, 5.0], 15.5, "exceeds the total"),
        ([], 0.0, "empty"),
        ([10.0, 5.0], float("nan"), "estate"),
    ],
)
def test_bad_input(claims, estate, match):
    with pytest.raises(InputError, match=match):
        cl.allocate(claims, estate, "T", problem="p7")
    if claims:
        with pytest.raises(InputError, match="p7"):
            cl.allocate(claims, estate, "T", problem="p7")


def test_unknown_rule_lists_valid_names():
    with pytest.raises(InputError, match="P, CEA, CEL, CE, Pin, T, APRO, RA, MO, RTalmud, DT, AV, AA"):
        cl.allocate([1.0, 2.0], 1.0, "shapley")
    assert cl.canonical_rule("talmud") == "T" and cl.canonical_rule("PINILES") == "Pin"


def test_pandas_api():
    s = pd.Series([100.0, 200.0, 300.0], index=["a", "b", "c"])
    x = cl.allocate(s, 200, "T")
    assert list(x.index) == ["a", "b", "c"] and x["a"] == pytest.approx(50)
    df = cl.allocate_all(s, 200)
    assert list(df.columns) == list(cl.ALL_RULES) and np.allclose(df.sum(), 200)
    with pytest.raises(InputError, match="'b'"):
        cl.allocate(pd.Series([1.0, -2.0], index=["a", "b"]), 0.5, "P")


# ------------------------------------------------------------------------------------------ CLI


def _cli(argv):
    from landjax.cli import main

    return main(["claims", *argv])


def test_cli_round_trip(tmp_path, capsys):
    f = tmp_path / "multi.csv"
    f.write_text("problem,name,claim,estate\nA,x,100,200\nB,u,50,100\nA,y,200,200\nA,z,300,200\nB,v,100,100\n")
    out = tmp_path / "out.csv"
    assert _cli(["--claims", str(f), "--rule", "all", "--out", str(out)]) == 0
    o = pd.read_csv(out)
    assert list(o.columns) == ["problem", "name", "claim", "estate", "rule", "award"]
    assert len(o) == 5 * 13  # 'all' is the thirteen rules
    t = o[o["rule"] == "T"]
    assert list(t["name"]) == ["x", "u", "y", "z", "v"]  # input order
    np.testing.assert_allclose(t["award"], [50, 25, 75, 75, 75], atol=1e-9)
    assert o.groupby(["problem", "rule"])["award"].sum().to_dict() == pytest.approx(
        {(p, r): {"A": 200.0, "B": 100.0}[p] for p in "AB" for r in cl.ALL_RULES}
    )
    # single problem with --estate, and the console script
    g = tmp_path / "single.csv"
    g.write_text("name,claim\na,100\nb,200\nc,300\n")
    out2 = tmp_path / "o2.csv"
    script = Path(sys.executable).parent / "landjax"
    argv = ["--claims", str(g), "--estate", "300", "--rule", "talmud", "--out", str(out2)]
    if script.exists():  # the installed console script, as a user runs it
        r = subprocess.run([str(script), "claims", *argv], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    else:  # pragma: no cover - not installed as a console script
        assert _cli(argv) == 0
    o2 = pd.read_csv(out2)
    np.testing.assert_allclose(o2["award"], [50, 100, 150])
    assert set(o2["rule"]) == {"T"} and set(o2["estate"]) == {300}


@pytest.mark.parametrize(
    "content,extra,match",
    [
        ("name,claim,estate\na,1,1\nb,2,1\n", ["--estate", "1"], "estate"),  # both
        ("name,claim\na,1\nb,2\n", [], "no estate"),  # neither
        ("name,claim\na,1\nb,-2\n", ["--estate", "1"], "negative"),
        ("problem,name,claim,estate\n1,a,1,1\n1,b,2,2\n", [], "different estates"),
        ("problem,name,claim,estate\n1,a,1,9\n2,b,2,1\n", [], "problem 1"),
        ("name,claim\na,1\nb,2\n", ["--estate", "1", "--rule", "nope"], "valid rules"),
        ("nom,claim\na,1\n", ["--estate", "1"], "missing column"),
        ("name,claim\na,1\nb,abc\n", ["--estate", "1"], "not a number"),
    ],
)
def test_cli_errors(tmp_path, capsys, content, extra, match):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    argv = ["--claims", str(f), "--out", str(tmp_path / "o.csv"), *extra]
    if "--rule" not in extra:
        argv += ["--rule", "all"]
    assert _cli(argv) == 2
    err = capsys.readouterr().err
    assert "error" in err and pytest.importorskip("re").search(match, err), err
    assert not (tmp_path / "o.csv").exists()


# ------------------------------------------------------------------------------------- notebook


def test_cli_smooth_temperature(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("name,claim\na,100\nb,200\nc,300\n")
    out = tmp_path / "o.csv"
    assert (
        _cli(["--claims", str(f), "--estate", "200", "--rule", "CEA", "--temperature", "1e-8", "--out", str(out)]) == 0
    )
    np.testing.assert_allclose(pd.read_csv(out)["award"], [200 / 3] * 3, atol=1e-6)
    out2 = tmp_path / "o2.csv"
    assert (
        _cli(["--claims", str(f), "--estate", "200", "--rule", "CEA", "--temperature", "-1", "--out", str(out2)]) == 2
    )
    assert not out2.exists()


def test_contract_solve_recomputes_an_ill_conditioned_aa_division_exactly():
    """An AA problem whose inclusion-exclusion sum cancels (claims over four orders of magnitude)
    was reported converged with awards 0.3 off the estate; `solve` and `solve_batch` now give
    the exact division, and inside a user's jit the member is flagged (status 5)."""
    import jax

    from landjax.models import claims as cl
    from landjax.models.claims.reference import aa_exact

    c = np.array([1.0, 1.21, 9329.269, 3.212, 20.588])
    E = 4837.130336577116
    cs = c / 8192.0
    assert float(cl.aa_condition(cs, E / 8192.0)) > cl.AA_CONDITION_MAX  # the case is ill-conditioned
    o = cl.Options(rule="AA")
    r = cl.solve(cl.Params(claims=c, estate=E), o)
    assert r.ok
    np.testing.assert_allclose(np.asarray(r.unknowns["awards"]), aa_exact(c, E), rtol=1e-12)
    assert abs(float(np.sum(r.unknowns["awards"])) - E) < 1e-9 * c.max()
    pb = cl.Params(claims=np.stack([c, c]), estate=np.array([E, E]))
    rb = cl.solve_batch(pb, o)
    np.testing.assert_allclose(np.asarray(rb.unknowns["awards"])[1], aa_exact(c, E), rtol=1e-12)
    assert bool(np.all(rb.converged))
    traced = jax.jit(lambda q: cl.solve(q, o, throw=False))(cl.Params(claims=c, estate=E))
    assert not bool(traced.converged) and int(traced.code) == 5
    assert "ill-conditioned" in traced.message
