"""Reproduce Zuo, Hu & Li (2019): six claims rules splitting Zaoyang's quota (Table 5) and the
digraph beta of each rule (Table 6).

`run(out)` writes `out/zuo2019/`: `table5.csv` (district, rule, claim, award, paper_award,
diff, ...), `table6.csv` (rule, beta, paper_beta, ranks), `comparison.csv` (quantity, paper,
ours, gap, options, converged: every printed award of Table 5 and beta of Table 6),
`satisfaction.png` (award/claim by district for each rule), `table5_diff.png` and `report.md`.
`quick` changes nothing (the whole run takes a few seconds).

Options used (the spec's defaults): rules as printed in eqs. (1)-(6), exact (no temperature);
claims = Table 4 as printed (summing to 3976.65); estate = 2147.09; beta on the per-district
dominance digraphs (edge i -> j when rule i gives the district less than rule j), summed over
the districts (`landjax.allocation.digraph`), awards closer than 1e-6 hm2 counted as ties.

The published numbers come from `landjax.reproduce.published` (`zuo2019.csv` for Table 6 and
the printed total; Table 5 from `landjax/data/zaoyang.csv`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from landjax._io import ensure_dir, markdown_table, pyplot, savefig, write_csv
from landjax.allocation import claims as cl
from landjax.allocation import digraph as dg
from landjax.data.zaoyang import ESTATE, load_zaoyang
from landjax.models import claims as mcl
from landjax.reproduce import compare
from landjax.reproduce import published as pub

PAPER_ID = "zuo2019"
TITLE = "Zuo, Hu & Li (2019): claims-problem rules for splitting a quota, Zaoyang (Tables 5-6)"
#: agreement required of a recomputed award with the printed one (the paper prints 2 decimals)
TOL = 0.01
TIE_TOL = 1e-6
#: Table 6: beta value of each rule, as printed (a view of the published table)
PAPER_TABLE6 = pub.values(PAPER_ID, "table6")
#: total demand as printed in the text and Table 4 (the 16 printed claims sum to 3976.65)
PRINTED_TOTAL_DEMAND = pub.value(PAPER_ID, "table4.total_demand")


def compute() -> dict[str, Any]:
    """Recompute Table 5 and Table 6; return the tables and the facts the report states."""
    z = load_zaoyang()
    c = z["demand"].to_numpy()
    awards = pd.DataFrame({r: cl.allocate(c, ESTATE, r) for r in cl.RULES}, index=z["district"])
    rows = []
    for r in cl.RULES:
        for i, d in enumerate(z["district"]):
            a = float(awards[r].iloc[i])
            p = float(z[f"paper_{r}"].iloc[i])
            rows.append(
                {
                    "district": d,
                    "rule": r,
                    "claim": c[i],
                    "award": a,
                    "paper_award": p,
                    "diff": a - p,
                    "within_0.01": abs(a - p) <= TOL,
                    "satisfaction": a / c[i],
                    "paper_satisfaction_pct": float(z[f"paper_{r}_pct"].iloc[i]),
                    "name_in_table5": z["name_in_table5"].iloc[i],
                }
            )
    t5 = pd.DataFrame(rows)
    beta = dg.rule_betas(awards, relation="less", tie_tol=TIE_TOL)
    paper_awards = pd.DataFrame({r: z[f"paper_{r}"].to_numpy() for r in cl.RULES})
    beta_printed = dg.rule_betas(paper_awards, relation="less", tie_tol=TIE_TOL)
    beta_greater = dg.rule_betas(awards, relation="greater", tie_tol=TIE_TOL)
    paper_beta = pd.Series(PAPER_TABLE6)
    t6 = pd.DataFrame(
        {
            "rule": list(cl.RULES),
            "beta": [beta[r] for r in cl.RULES],
            "paper_beta": [paper_beta[r] for r in cl.RULES],
            "rank": beta.rank(ascending=False, method="min").astype(int).reindex(cl.RULES).to_numpy(),
            "paper_rank": paper_beta.rank(ascending=False, method="min").astype(int).reindex(cl.RULES).to_numpy(),
            "beta_on_printed_awards": [beta_printed[r] for r in cl.RULES],
            "beta_reversed_edges": [beta_greater[r] for r in cl.RULES],
        }
    )
    prop = awards["P"].to_numpy()
    p_diff = prop - z["planned_quota"].to_numpy()
    cea_sum_printed = float(z["paper_CEA"].sum())
    return {
        "z": z,
        "awards": awards,
        "t5": t5,
        "t6": t6,
        "claims_total": float(c.sum()),
        "p_factor": ESTATE / float(c.sum()),
        "p_cells_differ": int(np.sum(np.abs(p_diff) > 0.005)),
        "p_max_diff": float(np.max(np.abs(p_diff))),
        "p_max_diff_district": str(z["district"].iloc[int(np.argmax(np.abs(p_diff)))]),
        "p_equals_table1": bool(np.all(z["paper_P"].to_numpy() == z["planned_quota"].to_numpy())),
        "cea_level": float(awards["CEA"].max()),
        "cea_sum_printed": cea_sum_printed,
    }


def comparison(res: dict[str, Any]) -> pd.DataFrame:
    """`comparison.csv`: every printed award of Table 5 and every beta of Table 6 against ours
    (exact rules: nothing iterates, so `converged` is True)."""
    rows = []
    z = res["z"]
    for r in cl.RULES:
        for i, name in enumerate(z["district_pinyin"]):
            key = f"table5.{r}.{pub.slug(str(name))}"
            rows.append(compare.row(PAPER_ID, key, float(res["awards"][r].iloc[i])))
    for r, b in zip(res["t6"]["rule"], res["t6"]["beta"], strict=True):
        rows.append(compare.row(PAPER_ID, f"table6.{r}", float(b)))
    return compare.frame(rows)


def _figures(res: dict[str, Any], d: Path) -> list[Path]:
    plt = pyplot()
    z, awards = res["z"], res["awards"]
    c = z["demand"].to_numpy()
    labels = [f"{p}" for p in z["district_pinyin"]]
    fig, ax = plt.subplots(figsize=(10, 4.8))
    markers = dict(P="o", CEA="s", CEL="v", CE="^", Pin="D", T="x")
    for r in cl.RULES:
        ax.plot(range(len(c)), awards[r].to_numpy() / c, marker=markers[r], label=f"{r} ({cl.RULE_NAMES[r]})")
    ax.set_xticks(range(len(c)))
    ax.set_xticklabels(labels, rotation=60, ha="right")
    ax.set_ylabel("satisfaction ratio award / claim")
    ax.set_ylim(-0.03, 1.05)
    ax.set_title(
        f"Zaoyang: estate {ESTATE} hm2 over claims {res['claims_total']:.2f} hm2 (districts by decreasing claim)"
    )
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    p1 = savefig(fig, d / "satisfaction.png")

    t5 = res["t5"]
    fig, ax = plt.subplots(figsize=(10, 4.2))
    for r in cl.RULES:
        s = t5[t5["rule"] == r]
        ax.plot(range(len(s)), s["diff"].to_numpy(), marker=markers[r], label=r)
    ax.axhline(TOL, color="k", lw=0.6, ls="--")
    ax.axhline(-TOL, color="k", lw=0.6, ls="--")
    ax.set_xticks(range(len(c)))
    ax.set_xticklabels(labels, rotation=60, ha="right")
    ax.set_ylabel("ours - printed (hm2)")
    ax.set_title("Table 5 recomputed minus printed; dashed: +-0.01 hm2 (P is off because the paper prints Table 1)")
    ax.legend(fontsize=7, ncol=6)
    ax.grid(alpha=0.3)
    p2 = savefig(fig, d / "table5_diff.png")
    return [p1, p2]


def all_rules_table(res: dict[str, Any]) -> pd.DataFrame:
    """The thirteen rules on the Zaoyang problem: one row per district and rule with the award,
    the satisfaction ratio award/claim, and the rule's Gini index of the awards (beyond the paper:
    the seven further rules of Thomson 2019 and Mirás Calvo et al. 2022)."""
    z = res["z"]
    c = z["demand"].to_numpy()
    rows = []
    for r in cl.ALL_RULES:
        x = np.asarray(cl.allocate(c, ESTATE, r))
        g = mcl.gini(x)
        for i, d in enumerate(z["district"]):
            rows.append(
                {
                    "district": d,
                    "district_pinyin": z["district_pinyin"].iloc[i],
                    "rule": r,
                    "rule_name": cl.RULE_NAMES[r],
                    "claim": c[i],
                    "award": x[i],
                    "satisfaction": x[i] / c[i],
                    "gini": g,
                }
            )
    return pd.DataFrame(rows)


def _all_rules_figure(t: pd.DataFrame, res: dict[str, Any], d: Path) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(11, 5.2))
    styles = ["-", "--", ":", "-."]
    for k, r in enumerate(cl.ALL_RULES):
        s = t[t["rule"] == r]
        ax.plot(
            range(len(s)),
            s["satisfaction"].to_numpy(),
            ls=styles[k % 4],
            marker="os^vDx+*<>ph8"[k],
            ms=4,
            label=f"{r} ({cl.RULE_NAMES[r]})",
        )
    names = list(t[t["rule"] == cl.ALL_RULES[0]]["district_pinyin"])
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=60, ha="right")
    ax.set_ylabel("satisfaction ratio award / claim")
    ax.set_ylim(-0.03, 1.05)
    ax.set_title(f"Zaoyang, all thirteen rules: estate {ESTATE} hm2 over claims {res['claims_total']:.2f} hm2")
    ax.legend(fontsize=6.5, ncol=3)
    ax.grid(alpha=0.3)
    return savefig(fig, d / "satisfaction_all_rules.png")


def run(out: Path, *, quick: bool = False) -> dict[str, Any]:
    """Write `out/zuo2019/` (tables, figures, report) and return the registry summary."""
    out = Path(out)
    d = ensure_dir(out / PAPER_ID)
    res = compute()
    t5, t6 = res["t5"], res["t6"]
    t5.to_csv(d / "table5.csv", index=False, float_format="%.6f")
    t6.to_csv(d / "table6.csv", index=False, float_format="%.6f")
    comp = comparison(res)
    compare.write(comp, d)
    figs = _figures(res, d)
    t_all = all_rules_table(res)
    write_csv(t_all, d / "all_rules.csv")
    figs.append(_all_rules_figure(t_all, res, d))
    lorenz = mcl.lorenz_table(res["z"]["demand"].to_numpy(), ESTATE, "all")

    per_rule = (
        t5.groupby("rule", sort=False)
        .agg(
            max_abs_diff=("diff", lambda s: float(np.max(np.abs(s)))),
            cells_within_001=("within_0.01", "sum"),
            our_sum=("award", "sum"),
            printed_sum=("paper_award", "sum"),
        )
        .reset_index()
    )
    per_rule["reproduces"] = per_rule["cells_within_001"] == 16
    five_ok = bool(per_rule.loc[per_rule["rule"] != "P", "reproduces"].all())
    beta_order = " > ".join(t6.sort_values("beta", ascending=False)["rule"])
    paper_order = " > ".join(t6.sort_values("paper_beta", ascending=False)["rule"])
    same_order = beta_order == paper_order
    beta_sum = float(t6["beta"].sum())
    paper_sum = float(t6["paper_beta"].sum())

    headline = [
        (
            "Table 5 CEA, CEL, CE, Pin and T reproduce to 0.01 hm2 in all 80 cells"
            if five_ok
            else "Table 5 CEA, CEL, CE, Pin, T: some cells differ by more than 0.01 hm2 (see report)"
        )
        + f" (largest gap {per_rule.loc[per_rule['rule'] != 'P', 'max_abs_diff'].max():.4f} hm2).",
        f"Table 5's P column is Table 1's planned quota, not a proportional split: true P = "
        f"{res['p_factor']:.6f} c differs in {res['p_cells_differ']} of 16 cells (up to "
        f"{res['p_max_diff']:.2f} hm2, {res['p_max_diff_district']}).",
        f"Table 6's betas (sum {paper_sum:.2f}) cannot come from a digraph (betas sum to an integer); "
        f"our per-district dominance digraph gives {beta_order} (sum {beta_sum:.0f}), "
        + ("the same ordering as the paper." if same_order else f"the paper's ordering is {paper_order}."),
        "锯湾镇 in Table 5 is 琚湾镇 of Tables 1 and 4; CEA's 144.485 is printed as 144.48.",
    ]

    z = res["z"]
    t5_wide = pd.DataFrame({"district": z["district"], "claim": z["demand"]})
    for r in cl.RULES:
        s = t5[t5["rule"] == r].reset_index(drop=True)
        t5_wide[r] = s["award"].round(3)
        t5_wide[f"{r} printed"] = s["paper_award"]
    lines = [
        f"# {TITLE}",
        "",
        "Generated by `landjax reproduce zuo2019`. Paper: Zuo, Hu & Li (2019), Tables 1, 4, 5, 6 and eqs. (1)-(8).",
        "",
        "## What reproduces and what does not",
        "",
        *[f"- {h}" for h in headline],
        f"- The 16 printed claims (Table 4) sum to {res['claims_total']:.2f} hm2; the paper states "
        f"{PRINTED_TOTAL_DEMAND}. We use the 16 printed claims. E = {ESTATE} > C/2, so CE, Pin and T are in their "
        "upper branches.",
        f"- CEA gives every capped district lambda = {res['cea_level']:.4f} hm2; the paper prints 144.48, so its CEA "
        f"column sums to {res['cea_sum_printed']:.2f} instead of {ESTATE}. Our CEA column sums to {ESTATE}.",
        "",
        "## Options used",
        "",
        "- Rules: the printed eqs. (1)-(6), exact (water-filling by sorted breakpoints, no iteration).",
        f"- Claims: Table 4 as printed; estate {ESTATE} hm2 (Table 1 total).",
        "- Digraph for beta (eq. 8; the paper does not say which digraph it used): for each district, an edge "
        "rule i -> rule j when rule i gives the district strictly less than rule j (ties within 1e-6 hm2: no edge); "
        "beta = sum over the 16 districts of the per-district betas (eq. 8). `beta_on_printed_awards` uses the "
        "paper's Table 5 numbers instead of ours; `beta_reversed_edges` the opposite edge direction.",
        "",
        "## Table 5: per rule",
        "",
        markdown_table(per_rule, digits=4),
        "",
        "P is compared with the paper's P column, which is Table 1's planned quota (see above); the five other",
        "rules agree within the paper's two-decimal rounding.",
        "",
        "## Table 5: awards (ours, 3 decimals) beside the printed ones (hm2)",
        "",
        markdown_table(t5_wide, digits=3),
        "",
        "## Table 6: beta",
        "",
        markdown_table(t6, digits=4),
        "",
        f"Our betas sum to {beta_sum:.4f} (an integer, as on any digraph: the number of (district, rule) nodes with "
        f"a predecessor); the paper's sum to {paper_sum:.2f} and are, to the printed two decimals, all "
        f"multiples of 1/30 ({', '.join(f'{round(v * 30)}/30' for v in PAPER_TABLE6.values())}). "
        "No digraph reproduces them; the ordering "
        f"{'agrees' if same_order else 'differs'}: ours {beta_order}; paper {paper_order}.",
        "",
        "## Paper vs ours (`comparison.csv`)",
        "",
        f"`comparison.csv` holds all {len(comp)} printed numbers beside ours: the {len(comp) - len(t6)} awards of "
        f"Table 5 (largest |gap| {comp['gap'].iloc[: len(comp) - len(t6)].abs().max():.4f} hm2) "
        "and the six betas of Table 6:",
        "",
        compare.markdown(comp.iloc[len(comp) - len(t6) :], digits=4),
        "",
        "## Beyond the paper: all thirteen rules",
        "",
        "The seven further rules of the reference library (APRO, RA, MO, RTalmud, DT, AV, AA; Thomson 2019, "
        "Mirás Calvo et al. 2022) on the same problem, exact (RA and AA over all 2^16 coalitions). Gini index of the "
        "awards (0: equal split) and the smallest and largest satisfaction:",
        "",
        markdown_table(
            t_all.groupby("rule", sort=False)
            .agg(
                gini=("gini", "first"),
                satisfaction_min=("satisfaction", "min"),
                satisfaction_max=("satisfaction", "max"),
                total=("award", "sum"),
            )
            .reset_index(),
            digits=4,
        ),
        "",
        "Lorenz dominance on this problem (row rule vs column rule: 1: the row rule is more equal, -1: less, "
        "0: the same curve, —: the curves cross):",
        "",
        markdown_table(lorenz.reset_index().rename(columns={"index": "rule"}), digits=0),
        "",
        "## Figures",
        "",
        "- `satisfaction_all_rules.png`: award/claim by district for all thirteen rules (`all_rules.csv`).",
        "- `satisfaction.png`: award/claim by district for each rule (our exact rules).",
        "- `table5_diff.png`: our awards minus the printed ones.",
        "",
        "Files: `table5.csv` (long: district, rule, claim, award, paper_award, diff, ...), `table6.csv`, "
        "`comparison.csv` (quantity, paper, ours, gap, options, converged).",
    ]
    (d / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    files = [
        f"{PAPER_ID}/{n}" for n in ("report.md", "table5.csv", "table6.csv", "comparison.csv", "all_rules.csv")
    ] + [f"{PAPER_ID}/{p.name}" for p in figs]
    return {"title": TITLE, "files": files, "headline": headline}


__all__ = ["run", "compute", "TITLE", "PAPER_ID"]
