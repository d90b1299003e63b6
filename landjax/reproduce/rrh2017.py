"""Reproduction of Redding & Rossi-Hansberg (2017), Table 1: the Helpman economy on a 30 x 30 grid.

`run(out, quick=False)` writes `out/rrh2017/`: `table1.csv` (scenario, country, ours, paper:
welfare gains in percent of the external and the internal liberalisation), `comparison.csv`
(quantity, paper, ours, gap, options, converged), maps of the baseline and of the counterfactual
changes (population, wages, land rents, price indices), the gradients of each country's gain with
respect to the border cost and to every cell's productivity, a batched sweep of the border cost and
`report.md`. `quick=True` skips the productivity-gradient map and uses a coarse sweep.

The published numbers live in `landjax/reproduce/published/rrh2017.csv` (Table 1 of the paper,
percent, rounded to 0.1); `PAPER_TABLE1` is a view of it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from landjax._io import ensure_dir, markdown_table, pyplot, savefig, write_csv, write_text
from landjax.contract import Result
from landjax.models import helpman as hm
from landjax.models.helpman.data import data_dir
from landjax.models.helpman.outcomes import COUNTRIES
from landjax.reproduce import compare
from landjax.reproduce import published as pub

PAPER_ID = "rrh2017"
TITLE = "Redding & Rossi-Hansberg (2017): the Helpman economy, Table 1 (welfare gains of liberalisation)"
#: what each scenario changes (Table 1's rows)
SCENARIOS = {
    "external": ("border cost 2 -> 1", {"border_cost": 1.0}),
    "internal": ("between-cell friction 2 -> 1", {"internal_cost": 1.0}),
}
#: Table 1 (percent): scenario -> (West, East), a view of the published table
PAPER_TABLE1 = {
    name: tuple(pub.value(PAPER_ID, f"table1.{name}.{country}") for country in COUNTRIES) for name in SCENARIOS
}
#: the paper prints one decimal: a gain reproduces when it rounds to the printed value
PRINTED_HALF_UNIT = 0.05


def _equilibria(p0: hm.Params, o: hm.Options, s: hm.Solver) -> dict[str, Any]:
    out = {"baseline": (p0, hm.equilibrium(p0, o, s))}
    for name, (_, change) in SCENARIOS.items():
        p1 = p0.replace(**change)
        out[name] = (p1, hm.equilibrium(p1, o, s))
    return out


def _gain(p0, sol0, p1, sol1, o) -> np.ndarray:
    return np.asarray(hm.welfare_gain_hat(sol0.value, hm.args_of(p0, o), sol1.value, hm.args_of(p1, o)))


def gain_function(o: hm.Options, s: hm.Solver, change: str):
    """`f(value, a) -> gains (West, East)` of moving `change` from 2 to `value` at productivity
    draws `a`; differentiable by implicit differentiation through both equilibria."""

    def f(value, a):
        p0 = hm.Params(a=a)
        p1 = p0.replace(**{change: value})
        s0, s1 = hm.equilibrium(p0, o, s), hm.equilibrium(p1, o, s)
        return hm.welfare_gain_hat(s0.value, hm.args_of(p0, o), s1.value, hm.args_of(p1, o))

    return f


def _maps(path: Path, df: pd.DataFrame, fields: dict[str, str], title: str) -> None:
    plt = pyplot()
    # squeeze=False: a list of axes even for one field (the gradient map of full mode)
    fig, axes = plt.subplots(1, len(fields), figsize=(4.2 * len(fields), 4), squeeze=False)
    side = int(df["row"].max()) + 1
    for ax, (col, label) in zip(axes[0], fields.items(), strict=True):
        grid = np.full((side, side), np.nan)
        grid[df["row"].to_numpy(), df["col"].to_numpy()] = df[col].to_numpy()
        im = ax.imshow(grid, cmap="viridis")
        ax.axvline(side / 2 - 0.5, color="w", lw=1)
        ax.set_title(label, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(title + " (West | East)")
    fig.tight_layout()
    savefig(fig, path)


def run(out: Path, *, quick: bool = False) -> dict[str, Any]:
    """Write `out/rrh2017/` (tables, maps, report) and return the registry summary."""
    t_start = time.perf_counter()
    d = ensure_dir(Path(out) / PAPER_ID)
    if data_dir() is None:
        raise FileNotFoundError(
            "rrh2017: the replication's productivity draws a.csv were not found (set LANDJAX_RRH_DATA to the "
            "folder holding it); nothing to reproduce"
        )
    o, s = hm.Options(), hm.Solver()
    p0 = hm.rrh_params()
    eq = _equilibria(p0, o, s)
    files: list[str] = []

    # Table 1
    rows, comp = [], []
    conv_all = True
    for name in SCENARIOS:
        p1, sol1 = eq[name]
        _, sol0 = eq["baseline"]
        ok = bool(sol0.converged) and bool(sol1.converged)
        conv_all &= ok
        g = _gain(p0, sol0, p1, sol1, o)
        for k, country in enumerate(COUNTRIES):
            paper = PAPER_TABLE1[name][k]
            rows.append({"scenario": name, "country": country, "ours": float(g[k]), "paper": paper})
            comp.append(compare.row(PAPER_ID, f"table1.{name}.{country}", float(g[k]), options=o.label(), converged=ok))
    table1 = pd.DataFrame(rows, columns=["scenario", "country", "ours", "paper"])
    write_csv(table1, d / "table1.csv", float_format="%.10g")
    comparison = compare.frame(comp)
    compare.write(comparison, d)
    files += [f"{PAPER_ID}/table1.csv", f"{PAPER_ID}/comparison.csv"]
    reproduces = bool(np.all(np.abs(comparison["gap"].to_numpy()) < PRINTED_HALF_UNIT)) and conv_all

    # the exact-hat formula against the ratio of utility levels (equal at an equilibrium)
    p1, sol1 = eq["external"]
    _, sol0 = eq["baseline"]
    hat = _gain(p0, sol0, p1, sol1, o)
    lev = np.asarray(hm.welfare_gain_levels(sol0.value, hm.args_of(p0, o), sol1.value, hm.args_of(p1, o)))
    hat_vs_levels = float(np.max(np.abs(hat - lev)))

    # maps
    base_cells = hm.cells(_result(p0, o, s, eq["baseline"][1]))
    _maps(
        d / "baseline_maps.png",
        base_cells,
        {"L": "population", "w": "wage", "r": "land rent", "P": "price index"},
        "Baseline equilibrium",
    )
    files.append(f"{PAPER_ID}/baseline_maps.png")
    for name in SCENARIOS:
        cf = hm.cells(_result(eq[name][0], o, s, eq[name][1]))
        ch = base_cells[["row", "col"]].copy()
        for col in ("L", "w", "r", "P"):
            ch[col] = 100.0 * (cf[col] / base_cells[col] - 1.0)
        _maps(
            d / f"{name}_changes.png",
            ch,
            {
                "L": "population (% change)",
                "w": "wage (% change)",
                "r": "land rent (% change)",
                "P": "price index (% change)",
            },
            f"{name.capitalize()} liberalisation: changes from the baseline",
        )
        files.append(f"{PAPER_ID}/{name}_changes.png")

    # gradients of each country's gain
    grad_rows = []
    for name, (_, change) in SCENARIOS.items():
        key = next(iter(change))
        f = gain_function(o, s, key)
        J = np.asarray(jax.jacfwd(f, argnums=0)(jnp.asarray(1.0), p0.a))
        for k, country in enumerate(COUNTRIES):
            grad_rows.append(
                {"scenario": name, "parameter": key, "at": 1.0, "country": country, "d_gain_pp_per_unit": float(J[k])}
            )
    grads = pd.DataFrame(grad_rows)
    write_csv(grads, d / "gradients.csv", float_format="%.10g")
    files.append(f"{PAPER_ID}/gradients.csv")
    grad_map_note = "skipped in quick mode"
    if not quick:
        f = gain_function(o, s, "border_cost")
        gA = np.asarray(jax.jacrev(lambda a: f(jnp.asarray(1.0), a)[0])(p0.a))
        gm = base_cells[["row", "col"]].copy()
        gm["dgain"] = gA
        write_csv(gm.assign(country=base_cells["country"]), d / "gradient_productivity.csv", float_format="%.10g")
        _maps(
            d / "gradient_productivity.png",
            gm,
            {"dgain": "d(West gain, pp) / d(log productivity)"},
            "Gradient of the West's gain from external liberalisation",
        )
        files += [f"{PAPER_ID}/gradient_productivity.csv", f"{PAPER_ID}/gradient_productivity.png"]
        grad_map_note = (
            f"largest |d gain / d a_i| {np.max(np.abs(gA)):.3g} pp, sum over West cells "
            f"{gA[base_cells['country'].to_numpy() == 'West'].sum():.3g}, over East cells "
            f"{gA[base_cells['country'].to_numpy() == 'East'].sum():.3g}"
        )

    # one vmapped call over border costs (gains against the one baseline solved above)
    values = np.linspace(1.0, 3.0, 5 if quick else 21)
    pb = jax.tree_util.tree_map(lambda v: jnp.broadcast_to(jnp.asarray(v), (len(values),) + jnp.shape(v)), p0)
    pb = pb.replace(border_cost=jnp.asarray(values))
    o_none = o.replace(gains="none")
    x0, args0 = eq["baseline"][1].value, hm.args_of(p0, o)
    t0 = time.perf_counter()
    batch = hm.solve_batch(pb, o_none, solver=s)
    gains = np.asarray(
        jax.vmap(lambda x1, p1: hm.welfare_gain_hat(x0, args0, x1, hm.args_of(p1, o)))(batch.unknowns, pb)
    )
    sweep_s = time.perf_counter() - t0
    sweep = pd.DataFrame(
        {
            "border_cost": values,
            "converged": np.asarray(batch.converged),
            "gain_West": np.where(np.asarray(batch.converged), gains[:, 0], np.nan),
            "gain_East": np.where(np.asarray(batch.converged), gains[:, 1], np.nan),
        }
    )
    write_csv(sweep, d / "border_sweep.csv", float_format="%.10g")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.plot(sweep.border_cost, sweep.gain_West, "o-", label="West")
    ax.plot(sweep.border_cost, sweep.gain_East, "s-", label="East")
    ax.axhline(0, c="0.6", lw=0.8)
    ax.set_xlabel("border cost (baseline 2)")
    ax.set_ylabel("welfare change against the baseline (%)")
    ax.legend()
    fig.tight_layout()
    savefig(fig, d / "border_sweep.png")
    files += [f"{PAPER_ID}/border_sweep.csv", f"{PAPER_ID}/border_sweep.png"]

    seconds = time.perf_counter() - t_start
    headline = [
        ("Table 1 reproduces at the paper's rounding: " if reproduces else "Table 1 does NOT reproduce: ")
        + "; ".join(f"{r.scenario} {r.country} {r.ours:.3f}% (paper {r.paper:.1f}%)" for r in table1.itertuples()),
        f"exact-hat welfare (eq. 21) and the ratio of utility levels agree to {hat_vs_levels:.1e} pp",
    ]
    steps = {k: int(v[1].steps) for k, v in eq.items()}
    md = [
        f"# {TITLE}",
        "",
        "Generated by `landjax reproduce rrh2017`. Model: `landjax.models.helpman` (Helpman 1998 as set up in "
        "RRH 2017, section 4); productivity draws `a.csv` of the public replication, read from "
        f"`{data_dir()}` (not shipped with landjax).",
        "",
        "## What reproduces",
        "",
        *[f"- {h}" for h in headline],
        "",
        markdown_table(table1, digits=4),
        "",
        f"Options: {o.label()} ({', '.join(f'{k}={v}' for k, v in o.as_dict().items())}); solver: Anderson "
        f"acceleration on the damped equilibrium map (damping {s.damping}, memory {s.memory}), max-norm residual "
        f"below {s.ftol:g}; iterations {steps}. Every equilibrium converged: {conv_all}. The paper prints one "
        "decimal; a number reproduces when it rounds to the printed value (gap below 0.05 pp).",
        "",
        "## Paper vs ours (`comparison.csv`)",
        "",
        compare.markdown(comparison),
        "",
        "## Beyond the paper",
        "",
        "Derivatives of each country's gain at the liberalised value (implicit differentiation through both "
        "equilibria, forward mode), percentage points per unit of the friction:",
        "",
        markdown_table(grads, digits=4),
        "",
        f"Gradient of the West's gain from external liberalisation with respect to each cell's log productivity "
        f"(`gradient_productivity.png`, reverse mode, one pass): {grad_map_note}.",
        "",
        f"Border cost from 1 to 3 in one vmapped call ({len(values)} economies, {sweep_s:.1f} s, "
        f"{int(sweep.converged.sum())}/{len(values)} converged; `border_sweep.csv`):",
        "",
        markdown_table(sweep, digits=4),
        "",
        f"Run time {seconds:.0f} s{' (quick mode)' if quick else ''}.",
    ]
    write_text(d / "report.md", "\n".join(md) + "\n")
    files.append(f"{PAPER_ID}/report.md")
    return {"title": TITLE, "files": files, "headline": headline}


def _result(p, o, s, sol):
    return Result(
        unknowns=sol.value,
        outcomes={},
        converged=sol.converged,
        residual_norm=sol.residual_norm,
        steps=sol.steps,
        code=sol.code,
        params=p,
        model="helpman",
        options=o,
        solver=s,
    )
