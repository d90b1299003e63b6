"""The reproduction contract: each paper's published numbers live once (a table with their source)
and every reproduction writes ``comparison.csv`` in one schema (quantity, paper, ours, gap,
options, converged).

The published tables are read here with Python's ``csv`` module (not the package's loader), and the
comparison files checked are the golden copies in ``tests/golden/<paper>/comparison.csv``, which
``tests/test_golden.py`` (slow) keeps equal to a fresh ``landjax reproduce PAPER --quick``; so
nothing here re-runs a reproduction except the one slow end-to-end check at the bottom.
"""

from __future__ import annotations

import ast
import csv
import importlib
import inspect
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from landjax.reproduce import PAPERS, compare
from landjax.reproduce import published as pub

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "landjax" / "reproduce" / "published"
GOLDEN = Path(__file__).resolve().parent / "golden"
#: every module of landjax/reproduce that uses a paper's numbers
MODULES = {
    "zuo2019": ("landjax.reproduce.zuo2019",),
    "cheng_liu2021": ("landjax.reproduce.cheng_liu2021",),
    "ma_ni": ("landjax.reproduce.ma_ni", "landjax.reproduce.ma_ni_table4", "landjax.reproduce.ma_ni_search"),
    "zhao_liu2024": ("landjax.reproduce.zhao_liu2024", "landjax.reproduce.zhao_liu2024_study"),
    "rrh2017": ("landjax.reproduce.rrh2017",),
}
SCHEMA = ["quantity", "paper", "ours", "gap", "options", "converged"]


def _raw(paper: str) -> dict[str, dict[str, str]]:
    """The CSV rows of ``paper``'s published table, read with the csv module, by key."""
    with open(TABLES / f"{paper}.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = {r["key"]: r for r in rows}
    assert len(out) == len(rows), f"{paper}: duplicate keys in {paper}.csv"
    return out


def _zaoyang_table5() -> dict[str, float]:
    """Table 5 of zaoyang.csv, read with the csv module: key ``table5.<rule>.<district>`` -> award."""
    with open(ROOT / "landjax" / "data" / "zaoyang.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for r in rows:
        slug = "_".join("".join(c if c.isalnum() else " " for c in r["district_pinyin"].lower()).split())
        for rule in ("P", "CEA", "CEL", "CE", "Pin", "T"):
            out[f"table5.{rule}.{slug}"] = float(r[f"paper_{rule}"])
            out[f"table5_pct.{rule}.{slug}"] = float(r[f"paper_{rule}_pct"])
    return out


def _expected(paper: str) -> dict[str, float]:
    vals = {k: float(r["value"]) for k, r in _raw(paper).items()}
    if paper == "zuo2019":
        vals.update(_zaoyang_table5())
    return vals


# ----------------------------------------------------------------------------------------------
# the published tables
# ----------------------------------------------------------------------------------------------


def test_every_paper_has_a_published_table():
    assert set(pub.PAPERS) == set(PAPERS)
    assert sorted(p.stem for p in TABLES.glob("*.csv")) == sorted(PAPERS)


@pytest.mark.parametrize("paper", list(PAPERS))
def test_published_table_loads_with_columns_unique_keys_finite_values_and_sources(paper):
    df = pub.published(paper)
    assert list(df.columns) == ["key", "quantity", "value", "unit", "source"]
    assert len(df) > 0
    assert df["key"].is_unique
    assert df["quantity"].is_unique, "comparison rows are matched to the table by quantity"
    assert np.all(np.isfinite(df["value"].to_numpy(float)))
    for col in ("key", "quantity", "unit", "source"):
        assert (df[col].astype(str).str.strip() != "").all(), f"{paper}: empty {col}"
    pub.check(paper)
    # the loader gives the numbers of the file, float for float
    expected = _expected(paper)
    assert dict(zip(df["key"], df["value"], strict=True)) == expected
    # the CSV itself has the columns and a source in every row
    for key, r in _raw(paper).items():
        assert list(r) == ["key", "quantity", "value", "unit", "source"]
        assert r["source"].strip() and math.isfinite(float(r["value"])), key


def test_value_and_values_helpers():
    assert pub.value("rrh2017", "table1.internal.West") == 2.3
    assert pub.values("ma_ni", "tau_share") == {"tauY": 0.802, "tauH": 0.6675}
    assert pub.source("cheng_liu2021", "table3.m_optimal") == "Table 3, p. 17"
    with pytest.raises(KeyError):
        pub.value("rrh2017", "table1.nowhere")
    with pytest.raises(KeyError):
        pub.published("no_such_paper")
    # a copy: changing it does not change the table
    df = pub.published("rrh2017")
    df.loc[0, "value"] = -1.0
    assert pub.value("rrh2017", df.loc[0, "key"]) != -1.0


def test_check_rejects_a_bad_table(monkeypatch):
    good = pub.published("rrh2017")
    pub.check("rrh2017")
    for col, v, match in (
        ("key", good.loc[1, "key"], "duplicate"),
        ("source", " ", "empty source"),
        ("value", float("nan"), "non-finite"),
    ):
        bad = good.copy()
        bad.loc[0, col] = v
        monkeypatch.setattr(pub, "_load", lambda paper, bad=bad: bad)
        with pytest.raises(ValueError, match=match):
            pub.check("rrh2017")


# ----------------------------------------------------------------------------------------------
# one source of truth: no paper numbers typed into the reproduce modules
# ----------------------------------------------------------------------------------------------


def _significant_digits(x: float) -> int:
    s = f"{abs(x):.10g}".replace(".", "").lstrip("0")
    return len(s.rstrip("0")) if "e" not in s else 10


@pytest.mark.parametrize("paper", list(PAPERS))
def test_no_literal_paper_tables_in_the_reproduce_modules(paper):
    """No ``PAPER*``/``SPEC*`` name is bound to a literal, and no number of the published table with
    three or more significant digits appears as a literal in the paper's modules."""
    published = {v for v in _expected(paper).values() if _significant_digits(v) >= 3}
    for name in MODULES[paper]:
        src = inspect.getsource(importlib.import_module(name))
        tree = ast.parse(src)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name) and (t.id.startswith("PAPER") or t.id.startswith("SPEC")):
                        literal = isinstance(node.value, ast.Dict | ast.Tuple | ast.List | ast.Set)
                        numbers = [
                            n
                            for n in ast.walk(node.value)
                            if isinstance(n, ast.Constant) and type(n.value) in (int, float)
                        ]
                        assert not (literal and numbers), (
                            f"{name}.{t.id} is a literal table; read it from landjax/reproduce/published/{paper}.csv"
                        )
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                assert node.value not in published, f"{name}: the published number {node.value} typed as a literal"


def test_module_views_equal_the_published_tables():
    from landjax.reproduce import cheng_liu2021, ma_ni, ma_ni_search, rrh2017, zhao_liu2024, zuo2019

    e = _expected("rrh2017")
    assert rrh2017.PAPER_TABLE1 == {s: (e[f"table1.{s}.West"], e[f"table1.{s}.East"]) for s in ("external", "internal")}
    e = _expected("zuo2019")
    assert zuo2019.PAPER_TABLE6 == {r: e[f"table6.{r}"] for r in ("P", "CEA", "CEL", "CE", "Pin", "T")}
    assert zuo2019.PRINTED_TOTAL_DEMAND == e["table4.total_demand"]
    e = _expected("cheng_liu2021")
    moments = ("Y_ratio", "R_ratio", "migrant_share")
    assert cheng_liu2021.PAPER["table2"] == {
        m: {"model": e[f"table2.{m}.model"], "data": e[f"table2.{m}.data"]} for m in moments
    }
    assert cheng_liu2021.PAPER["table1_calibrated"] == {k: e[f"table1.{k}"] for k in ("alpha", "phi", "tau_n")}
    assert cheng_liu2021.PAPER["table3"] == {k: e[f"table3.{k}"] for k in ("m_actual", "m_optimal")}
    assert cheng_liu2021.PAPER["table4"] == {
        k: (e[f"table4.{k}.actual"], e[f"table4.{k}.optimal"]) for k in ("m", "omega_a", "omega_0")
    }
    e = _expected("ma_ni")
    n = 0
    for tname, table in (("table2", ma_ni.PAPER_TABLE2), ("table3", ma_ni.PAPER_TABLE3)):
        for alloc, panel in table.items():
            for (land, market), stats in panel.items():
                for st, v in stats.items():
                    assert v == e[f"{tname}.{alloc}.{land}.{market}.{st}"]
                    assert ma_ni.paper_value(land, market, alloc, st) == v
                    n += 1
    assert n == sum(k.startswith(("table2.", "table3.")) for k in e) == 96
    assert ma_ni.PAPER_TABLE1 == {
        c: {s: e[f"table1.{c}.{s}"] for s in ma_ni.STATS} for c in ("productive", "residential", "half")
    }
    assert ma_ni.PAPER_SHARE20_DELTA == {
        s: e[f"share20_delta.{s}"] for s in ("gdp_change", "output_gap_change", "welfare_change")
    }
    assert ma_ni.PAPER_TAU_SHARES == {"tauY": e["tau_share.tauY"], "tauH": e["tau_share.tauH"]}
    assert ma_ni_search.PAPER_TABLE4 == {
        o: tuple(e[f"table4.{o}.{s}"] for s in ma_ni_search.STATISTICS) for o in ma_ni_search.OBJECTIVES
    }
    rob = [(k.split(".")[1], v) for k, v in e.items() if k.startswith("robustness.")]
    assert list(ma_ni_search.PAPER_ROBUSTNESS) == rob == list(ma_ni.PAPER_ROBUSTNESS)
    # the robustness runs of the report use exactly these values
    runs = [next(iter(pk.items())) for _, pk, _, _, ref in ma_ni.ROBUSTNESS if ref.startswith("section 5(2)")]
    assert runs == rob
    e = _expected("zhao_liu2024")
    assert zhao_liu2024.SPEC_NUMBERS == {k[len("spec.") :]: v for k, v in e.items() if k.startswith("spec.")}
    total = int(e["prototype_draws_total"])
    assert zhao_liu2024.SPEC_PROTOTYPE == {
        k.split(".")[1]: f"{int(v)}/{total}" for k, v in e.items() if k.startswith("prototype_draws_held.")
    }


def test_model_and_data_inputs_agree_with_the_published_tables():
    """Numbers that are also model or data inputs (calibration targets, the Table-1 policy values,
    the tau shares the China tables are calibrated to, the Zaoyang constants) equal the table."""
    from landjax.data import china, zaoyang
    from landjax.models import urban_rural as ur
    from landjax.models.urban_rural import params as urp

    e = _expected("cheng_liu2021")
    assert urp.Y_TARGET == {"data": e["table2.Y_ratio.data"], "model": e["table2.Y_ratio.model"]}
    assert urp.R_TARGET == e["table2.R_ratio.data"] == e["table2.R_ratio.model"]
    assert urp.SHARE_TARGET["printed"] == e["table2.migrant_share.data"]
    assert list(ur.targets(ur.Options())) == [e[f"table2.{m}.data"] for m in ("Y_ratio", "R_ratio", "migrant_share")]
    p = ur.Params()
    assert float(p.m) == e["table3.m_actual"] == e["table4.m.actual"]
    assert float(p.omega_a) == e["table4.omega_a.actual"]
    assert float(p.omega_0) == e["table4.omega_0.actual"]
    e = _expected("ma_ni")
    assert china.PAPER_SHARE_TAU_Y_POSITIVE == e["tau_share.tauY"]
    assert china.PAPER_SHARE_TAU_H_POSITIVE == e["tau_share.tauH"]
    e = _expected("zuo2019")
    assert zaoyang.PAPER_TABLE6 == {r: e[f"table6.{r}"] for r in zaoyang.TABLE5_RULES}
    assert zaoyang.PRINTED_TOTAL_DEMAND == e["table4.total_demand"]


# ----------------------------------------------------------------------------------------------
# the comparison schema
# ----------------------------------------------------------------------------------------------


def test_compare_row_frame_and_write(tmp_path):
    r = compare.row("rrh2017", "table1.external.West", 0.25, options="gains=levels", converged=np.bool_(False))
    assert r == {
        "quantity": "welfare gain of the external liberalisation (border cost 2 -> 1), West (%)",
        "paper": 0.3,
        "ours": 0.25,
        "gap": 0.25 - 0.3,
        "options": "gains=levels",
        "converged": False,
    }
    q = compare.row("rrh2017", "table1.external.West", 0.5, qualifier="another way")["quantity"]
    assert q.endswith("(%); another way")
    df = compare.frame([r, compare.row("rrh2017", "table1.internal.East", 1.25)])
    assert list(df.columns) == SCHEMA and df["converged"].dtype == bool
    path = compare.write(df, tmp_path)
    assert path.name == "comparison.csv"
    back = pd.read_csv(path)
    assert list(back.columns) == SCHEMA and back["converged"].tolist() == [False, True]
    with pytest.raises(ValueError, match="columns"):
        compare.write(df[SCHEMA[::-1]], tmp_path / "x")


@pytest.mark.parametrize("paper", list(PAPERS))
def test_every_reproduction_writes_comparison_csv(paper):
    """Each paper's module writes comparison.csv through the shared helper and lists it in its files."""
    src = "".join(inspect.getsource(importlib.import_module(m)) for m in MODULES[paper])
    assert "compare.write(" in src and "comparison.csv" in src


@pytest.mark.parametrize("paper", list(PAPERS))
def test_golden_comparison_has_the_schema_and_the_published_numbers(paper):
    path = GOLDEN / paper / "comparison.csv"
    assert path.exists(), f"no golden comparison.csv for {paper}"
    df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    assert list(df.columns) == SCHEMA
    assert len(df) > 0
    assert df["converged"].dtype == bool
    for col in ("paper", "ours", "gap"):
        assert df[col].dtype == float or np.issubdtype(df[col].dtype, np.number), col
    # gap = ours - paper; the file keeps 10 significant digits, so the recomputed difference agrees
    # to the rounding of the three printed numbers
    ours, paper_v, gap = (df[c].to_numpy(float) for c in ("ours", "paper", "gap"))
    scale = np.abs(ours) + np.abs(paper_v) + np.abs(gap)
    assert np.all(np.abs(gap - (ours - paper_v)) <= 1e-9 * scale)
    assert (df["options"].astype(str).str.strip() != "").all()
    assert not df.duplicated(["quantity", "options"]).any()
    # every paper number is the published number whose quantity the row names
    table = {r["quantity"]: float(r["value"]) for r in _raw_with_zaoyang(paper)}
    for q, v in zip(df["quantity"], df["paper"], strict=True):
        base = q.split(compare.QUALIFIER_SEP)[0] if q not in table else q
        assert base in table, f"{paper}: {q!r} names no published number"
        assert v == table[base], (paper, q)


def _raw_with_zaoyang(paper: str) -> list[dict[str, str]]:
    rows = list(_raw(paper).values())
    if paper == "zuo2019":
        df = pub.published("zuo2019")
        extra = df[df["key"].str.startswith("table5")]
        expected = _zaoyang_table5()
        for k, q in zip(extra["key"], extra["quantity"], strict=True):
            rows.append({"key": k, "quantity": q, "value": repr(expected[k])})
    return rows


@pytest.mark.slow
def test_zuo2019_run_lists_and_reports_its_comparison(tmp_path):
    from landjax.reproduce import run_paper

    s = run_paper("zuo2019", tmp_path, quick=True)
    assert "zuo2019/comparison.csv" in s["files"]
    df = pd.read_csv(tmp_path / "zuo2019" / "comparison.csv")
    assert list(df.columns) == SCHEMA and len(df) == 6 * 16 + 6
    assert "comparison.csv" in (tmp_path / "zuo2019" / "report.md").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------------------------
# the full-run rows (not in the quick goldens), from stand-in results: no solves
# ----------------------------------------------------------------------------------------------


def test_ma_ni_comparison_full_run_rows():
    from types import SimpleNamespace

    from landjax.reproduce import ma_ni

    default = pd.concat([pd.read_csv(GOLDEN / "ma_ni" / f"{t}.csv") for t in ("table2", "table3")])
    default["converged"] = True
    default.loc[default.index[0], "converged"] = False
    base = SimpleNamespace(tauY=np.array([1.0, -1.0, 1.0, 1.0]), tauH=np.array([-1.0, 1.0]))
    stats = ("gdp_change", "output_gap_change", "welfare_change", "welfare_gap_change")
    rob = pd.DataFrame(
        {
            "check": "share=0.20",
            "land": "both",
            "market": "inter_all",
            "allocation": "area",
            "statistic": stats,
            "converged": [True, False, True, True],
        }
    )
    share20 = {"gdp_change": 0.25, "output_gap_change": 0.01, "welfare_change": 0.5, "welfare_gap_change": 0.0}
    df = ma_ni._comparison(default, base, rob, share20, [])
    assert list(df.columns) == SCHEMA and len(df) == 96 + 2 + 3
    e = _expected("ma_ni")
    assert df["paper"].iloc[:96].tolist() == [
        e[ma_ni.paper_key(r.land, r.market, r.allocation, r.statistic)] for r in default.itertuples()
    ]
    assert df["ours"].iloc[:96].tolist() == default["ours"].tolist()
    assert df["converged"].iloc[:3].tolist() == [False, True, True]
    tau = df.iloc[96:98]
    assert tau["ours"].tolist() == [0.75, 0.5] and tau["paper"].tolist() == [e["tau_share.tauY"], e["tau_share.tauH"]]
    s20 = df.iloc[98:]
    assert s20["ours"].tolist() == [0.25, 0.01, 0.5]
    assert s20["paper"].tolist() == [e[f"share20_delta.{s}"] for s in stats[:3]]
    assert s20["converged"].tolist() == [True, False, True]
    np.testing.assert_array_equal(df["gap"], df["ours"] - df["paper"])


def test_ma_ni_table4_comparison_rows():
    from landjax.reproduce import ma_ni_search as q
    from landjax.reproduce import ma_ni_table4

    rows = []
    for k, name in enumerate(q.OBJECTIVES):
        for meth in ("random", "gradient", "paper"):
            rows.append({"objective": name, "method": meth, **{s: k + 0.1 * j for j, s in enumerate(q.STATISTICS)}})
    table = pd.DataFrame(rows)
    table.loc[(table.method == "gradient") & (table.objective == "max_welfare"), "welfare_change"] = np.nan
    df = compare.frame(ma_ni_table4.comparison_rows(table, "default"))
    assert len(df) == 16 and list(df.columns) == SCHEMA
    e = _expected("ma_ni")
    assert df["paper"].tolist() == [e[f"table4.{o}.{s}"] for o in q.OBJECTIVES for s in q.STATISTICS]
    assert df["converged"].sum() == 15
    assert "max_welfare: welfare change" in df.loc[~df["converged"], "quantity"].iloc[0]


def test_cheng_liu_comparison_full_run_rows():
    from types import SimpleNamespace

    from landjax.models import urban_rural as ur
    from landjax.reproduce import cheng_liu2021

    base = SimpleNamespace(moments={"Y_ratio": 3.5, "R_ratio": 1.8, "migrant_share": 0.05}, converged=True)
    eng = SimpleNamespace(moments=np.array([9.0, 2.0, 0.27]), params=np.array([0.3, 3.0, 0.5]), converged=False)
    exact = SimpleNamespace(params=np.array([0.11, 2.0, -4.5]), converged=True)
    opt = SimpleNamespace(label=lambda: "rratio=gross")
    r = {
        k: SimpleNamespace(x=np.array([v]), converged=True)
        for k, v in (("m", 0.06), ("omega_a", 0.03), ("omega_0", 0.07))
    }
    joint = SimpleNamespace(x=np.array([0.05, 0.04, 0.08]), converged=False)
    r3 = SimpleNamespace(x=np.array([0.51]), converged=True)
    df = cheng_liu2021._comparison(base, eng, (opt, exact, None), r3, r, joint, ur.Params())
    assert list(df.columns) == SCHEMA and len(df) == 3 + 3 + 3 + 3 + 2 + 3 + 3
    assert not df.duplicated(["quantity", "options"]).any()
    e = _expected("cheng_liu2021")
    ex = df[df["options"] == "rratio=gross"]
    assert ex["ours"].tolist() == [0.11, 2.0, -4.5]
    assert ex["paper"].tolist() == [e["table1.alpha"], e["table1.phi"], e["table1.tau_n"]]
    jt = df[df["quantity"].str.endswith("; jointly")]
    assert jt["ours"].tolist() == [0.05, 0.04, 0.08] and not jt["converged"].any()
    assert jt["paper"].tolist() == [e[f"table4.{k}.optimal"] for k in ("m", "omega_a", "omega_0")]
    np.testing.assert_array_equal(df["gap"], df["ours"] - df["paper"])
