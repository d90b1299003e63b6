"""Study code for Zhao & Liu (2024): experiments, sigma sweep, tax-difference extension, claims and
random-draw robustness on the land-debt model (`landjax.models.land_debt`). The paper's own
equations and numbers are not public, so the claims are the summary's qualitative statements
(`docs/zhao_liu2024.md`).

Experiments (steady-state comparisons; the transition module gives the paths between them):

| name | labour | land |
|---|---|---|
| `baseline` | immobile | baseline quota stock L = (0.45, 0.55) |
| `immobile_land2` | immobile | `delta` of national land moved from City 1 to City 2 |
| `immobile_land1` | immobile | `delta` moved from City 2 to City 1 |
| `mobile` | mobile (hukou cost mu) | baseline |
| `mobile_land2` | mobile | to City 2 |
| `mobile_land1` | mobile | to City 1 ("land and labour to the developed region") |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from landjax.errors import InputError
from landjax.models import land_debt as ld
from landjax.models.land_debt import transition as tr
from landjax.models.land_debt.options import Options
from landjax.models.land_debt.solve import guess_for, stack_params

BASE = Options()  # the baseline options: immobile labour, land-servicing infrastructure, exogenous attraction

EXPERIMENTS = {
    "baseline": ("immobile", 0.0),
    "immobile_land2": ("immobile", +1.0),
    "immobile_land1": ("immobile", -1.0),
    "mobile": ("mobile", 0.0),
    "mobile_land2": ("mobile", +1.0),
    "mobile_land1": ("mobile", -1.0),
}
POLICIES = [e for e in EXPERIMENTS if e != "baseline"]
DELTA = 0.05  # share of national land moved
TAX_EQUAL = (0.10, 0.10)
TAX_DIFF = (0.12, 0.08)  # east taxed more


def experiment_params(
    pc: ld.Params, name: str, delta=DELTA, options: Options | None = None, **changes
) -> tuple[ld.Params, Options]:
    """Parameters and options of experiment `name` from calibrated baseline parameters `pc`
    (`options`: the base options whose mobility the experiment sets)."""
    if name not in EXPERIMENTS:
        raise InputError(f"unknown experiment {name!r}; valid: {', '.join(EXPERIMENTS)}")
    mob, direction = EXPERIMENTS[name]
    shift = direction * jnp.asarray(delta) * jnp.array([-1.0, 1.0])
    o = (BASE if options is None else options).replace(mobility=mob)
    return pc.replace(L=pc.L + shift, **changes), o


def solve_experiment(pc: ld.Params, name: str, y_base, delta=DELTA, options: Options | None = None, **changes):
    """`(params, options, solution)` of experiment `name` from the baseline steady state `y_base`."""
    p, o = experiment_params(pc, name, delta, options, **changes)
    return p, o, ld.solve_steady_state(p, o, guess_for(y_base, o), throw=False)


def experiments_table(pc: ld.Params, y_base, delta=DELTA, options: Options | None = None, **changes) -> pd.DataFrame:
    """One row per experiment: converged flag, residual, and every statistic (NaN where a solve
    failed; never a number from a failed solve)."""
    rows = []
    for name in EXPERIMENTS:
        p, o, sol = solve_experiment(pc, name, y_base, delta, options, **changes)
        st = {k: float(v) for k, v in ld.statistics_jit(sol.value, p, o).items()}
        ok = bool(sol.converged)
        if not ok:
            st = {k: float("nan") for k in st}
        rows.append(
            {
                "experiment": name,
                "mobility": o.mobility,
                "land_to": {0.0: "-", 1.0: "city2", -1.0: "city1"}[EXPERIMENTS[name][1]],
                "converged": ok,
                "residual_norm": float(sol.residual_norm),
                "steps": int(sol.steps),
                **st,
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# batches (random draws, sigma sweep): engine.solve_batch over stacked parameter pytrees
# ---------------------------------------------------------------------------------------------


__all__ = ["stack_params"]  # re-exported for old callers (now landjax.models.land_debt.stack_params)


def batch_experiment(pcb: ld.Params, yb, name: str, deltas, options: Options | None = None, **changes):
    """Experiment `name` for a batch of calibrated parameters (one batched solve)."""
    mob, direction = EXPERIMENTS[name]
    shift = direction * jnp.asarray(deltas)[:, None] * jnp.array([-1.0, 1.0])[None, :]
    o = (BASE if options is None else options).replace(mobility=mob)
    pb = ld.unchecked_replace(pcb, L=pcb.L + shift, **changes)  # failed members carry NaN
    return ld.batch_statistics(pb, o, guess_for(yb, o))


# ---------------------------------------------------------------------------------------------
# sigma sweep and reaction diagrams
# ---------------------------------------------------------------------------------------------


def sigma_sweep(pc: ld.Params, y_base, sigmas, delta=DELTA, batched: bool = False) -> pd.DataFrame:
    """City 2's relative wage w_2/w_1 and relative leverage lev_2/lev_1 under "immobile + land to
    City 2" and "mobile + land to City 1" for each sigma (baseline unchanged: p_j = 1 for every sigma).

    `batched=True` solves each experiment for all sigmas in one `landjax.engine.solve_batch`;
    the default loops over the compiled single solve, which is faster for a dozen points once the
    experiments have compiled it (the batched solver compiles its own vmapped loop)."""
    sig = np.asarray(sigmas, float)
    B = sig.shape[0]
    base = {k: float(v) for k, v in ld.statistics(y_base, pc, BASE).items()}
    df = pd.DataFrame({"sigma": sig})
    keys = ("rel_wage2", "rel_lev2", "lev_gap", "income_gap", "output_gap", "X", "house_price_gap", "N1")
    for name in ("immobile_land2", "mobile_land1", "mobile", "immobile_land1"):
        if batched:
            pb = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(jnp.asarray(x), (B,) + jnp.shape(x)), pc)
            o, sols = batch_experiment(
                pb.replace(sigma=jnp.asarray(sig)), jnp.broadcast_to(y_base[0:6], (B, 6)), name, jnp.full((B,), delta)
            )
            conv = np.asarray(sols.converged)
        else:
            cols: dict[str, list[float]] = {k: [] for k in keys}
            conv_list: list[bool] = []
            for sg in sig:
                p, oe, sol = solve_experiment(pc, name, y_base, delta, sigma=float(sg))
                ok = bool(sol.converged)
                oo = ld.statistics_jit(sol.value, p, oe)
                for k in keys:
                    cols[k].append(float(oo[k]) if ok else float("nan"))
                conv_list.append(ok)
            conv = np.asarray(conv_list)
            o = {k: np.asarray(v) for k, v in cols.items()}
        for k in keys:
            df[f"{name}:{k}"] = o[k]
        df[f"{name}:converged"] = np.asarray(conv)
    for k in ("rel_wage2", "rel_lev2", "lev_gap", "income_gap", "output_gap", "X"):
        df[f"baseline:{k}"] = base[k]
    return df


def plot_reaction(df: pd.DataFrame, path, title_suffix: str = ""):
    from landjax._io import pyplot, savefig

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, k, lab in (
        (axes[0], "rel_wage2", "City 2 relative wage $w_2/w_1$"),
        (axes[1], "rel_lev2", "City 2 relative leverage $lev_2/lev_1$"),
    ):
        ax.plot(df["sigma"], df[f"immobile_land2:{k}"], "o-", label="labour immobile + land to City 2")
        ax.plot(df["sigma"], df[f"mobile_land1:{k}"], "s-", label="labour mobile + land to City 1")
        ax.axhline(float(df[f"baseline:{k}"].iloc[0]), color="k", ls="--", lw=1, label="baseline (immobile)")
        ax.set_xscale("log")
        ax.set_xlabel(r"Armington elasticity $\sigma$")
        ax.set_ylabel(lab)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(
        "Reaction diagrams (model steady states; spec-based model, not the paper's figure)" + title_suffix,
        fontsize=10,
    )
    return savefig(fig, path)


# ---------------------------------------------------------------------------------------------
# tax-difference extension (with optimal investment attraction, eq. (18))
# ---------------------------------------------------------------------------------------------

EFFECTS = {  # name -> (statistic, kind): log change of a ratio/level, or difference
    "output_gap": ("output_gap", "log"),
    "wage_gap": ("wage_gap", "log"),
    "real_wage_gap": ("real_wage_gap", "log"),
    "house_price_gap": ("house_price_gap", "log"),
    "land_mpl_gap": ("land_mpl_gap", "log"),
    "consumption": ("consumption", "log"),
    "leverage_gap": ("lev_gap", "diff"),
    "total_output": ("X", "log"),
}


def policy_effects(base: dict, pol: dict) -> dict:
    """Effect of a policy relative to its baseline: log change (ratios, levels) or difference (leverage gap)."""
    out = {}
    for name, (k, kind) in EFFECTS.items():
        out[name] = np.log(pol[k] / base[k]) if kind == "log" else pol[k] - base[k]
    return out


def tax_extension(
    p: ld.Params, delta=DELTA, attraction: str = "optimal", targets=None, options: Options | None = None
) -> tuple[pd.DataFrame, dict]:
    """Effects of "land + labour to City 1" under equal taxes (0.10, 0.10) and under tax differences
    (0.12, 0.08), each regime recalibrated to the same targets (immobile, s = 0, p_j = 1), then solved
    with `attraction` ('optimal' = governments choose the subsidy, eq. (18))."""
    rows = []
    tabs = {}
    base = BASE if options is None else options.replace(mobility="immobile", attraction="exogenous")
    for regime, tau in (("equal_taxes", TAX_EQUAL), ("tax_difference", TAX_DIFF)):
        pr = p.replace(tau=jnp.asarray(tau))
        pc, _ = ld.calibrate_joint(pr, base, targets)
        yb = ld.solve_steady_state(pc, base).value
        tab = experiments_table(pc, yb, delta, base.replace(attraction=attraction))
        tabs[regime] = tab
    for regime, tab in tabs.items():
        t = tab.set_index("experiment")
        eff = policy_effects(t.loc["baseline"].to_dict(), t.loc["mobile_land1"].to_dict())
        rows.append(
            {
                "regime": regime,
                "attraction": attraction,
                **{f"effect:{k}": v for k, v in eff.items()},
                "s1_baseline": t.loc["baseline", "s1"],
                "s2_baseline": t.loc["baseline", "s2"],
                "all_converged": bool(t["converged"].all()),
                "best_X_policy": t.loc[POLICIES, "X"].idxmax(),
                "mobile_land1_lev_gap_below_mobile": bool(
                    t.loc["mobile_land1", "lev_gap"] < t.loc["mobile", "lev_gap"]
                ),
            }
        )
    return pd.DataFrame(rows), tabs


# ---------------------------------------------------------------------------------------------
# claims (each statement of the summary as a checkable proposition)
# ---------------------------------------------------------------------------------------------

Stats = dict  # experiment -> statistic -> value (scalar or array over draws)
EPS = 1e-9


def _gt(a, b):
    return np.asarray(a) > np.asarray(b) + EPS * np.maximum(1.0, np.abs(np.asarray(b)))


CLAIMS: list[tuple[str, str, Callable[[Stats], Any]]] = [
    (
        "c01",
        "City 2 relies more on land finance than City 1 (steady state: LR/(tax+LR))",
        lambda S: _gt(S["baseline"]["land_dep2"], S["baseline"]["land_dep1"]),
    ),
    (
        "c02",
        "City 2 has higher debt pressure: leverage B/pY and debt ratio B/(tax+LR) above City 1's",
        lambda S: (
            _gt(S["baseline"]["lev2"], S["baseline"]["lev1"])
            & _gt(S["baseline"]["debt_ratio2"], S["baseline"]["debt_ratio1"])
        ),
    ),
    (
        "c03",
        "City 2 depends more on infrastructure investment ((I^p+I^s)/pY above City 1's)",
        lambda S: _gt(S["baseline"]["infra_dep2"], S["baseline"]["infra_dep1"]),
    ),
    (
        "c04",
        "Labour immobile, land to City 2: total-output gap and per-capita income gap narrow",
        lambda S: (
            _gt(S["baseline"]["output_gap"], S["immobile_land2"]["output_gap"])
            & _gt(S["baseline"]["income_gap"], S["immobile_land2"]["income_gap"])
        ),
    ),
    (
        "c05",
        "Labour immobile, land to City 2: leverage gap and house-price gap widen",
        lambda S: (
            _gt(S["immobile_land2"]["lev_gap"], S["baseline"]["lev_gap"])
            & _gt(S["immobile_land2"]["house_price_gap"], S["baseline"]["house_price_gap"])
        ),
    ),
    (
        "c06",
        "Labour immobile, land to City 2: aggregate output X falls",
        lambda S: _gt(S["baseline"]["X"], S["immobile_land2"]["X"]),
    ),
    (
        "c07",
        "Land to City 1 (immobile): aggregate output rises and the income gap widens",
        lambda S: (
            _gt(S["immobile_land1"]["X"], S["baseline"]["X"])
            & _gt(S["immobile_land1"]["income_gap"], S["baseline"]["income_gap"])
        ),
    ),
    (
        "c08",
        "Free labour mobility: smaller per-capita income gap and more aggregate output",
        lambda S: (
            _gt(S["baseline"]["income_gap"], S["mobile"]["income_gap"]) & _gt(S["mobile"]["X"], S["baseline"]["X"])
        ),
    ),
    (
        "c09",
        "Free labour mobility: larger leverage gap and house-price gap",
        lambda S: (
            _gt(S["mobile"]["lev_gap"], S["baseline"]["lev_gap"])
            & _gt(S["mobile"]["house_price_gap"], S["baseline"]["house_price_gap"])
        ),
    ),
    (
        "c10a",
        "Land + labour to City 1: smaller leverage gap than mobility alone",
        lambda S: _gt(S["mobile"]["lev_gap"], S["mobile_land1"]["lev_gap"]),
    ),
    (
        "c10b",
        "Land + labour to City 1: smaller house-price gap than mobility alone",
        lambda S: _gt(S["mobile"]["house_price_gap"], S["mobile_land1"]["house_price_gap"]),
    ),
    (
        "c10c",
        "Land + labour to City 1: smaller per-capita income gap than mobility alone",
        lambda S: _gt(S["mobile"]["income_gap"], S["mobile_land1"]["income_gap"]),
    ),
    (
        "c11",
        "Land + labour to City 1: highest aggregate output of all policies",
        lambda S: np.all(
            np.stack([_gt(S["mobile_land1"]["X"], S[e]["X"]) for e in POLICIES if e != "mobile_land1"]), axis=0
        ),
    ),
    (
        "c12",
        "Land + labour to City 1 beats 'immobile, land to City 2' on the leverage gap",
        lambda S: _gt(S["immobile_land2"]["lev_gap"], S["mobile_land1"]["lev_gap"]),
    ),
    (
        "c13",
        "Land + labour to City 1 beats 'immobile, land to City 2' on the house-price gap",
        lambda S: _gt(S["immobile_land2"]["house_price_gap"], S["mobile_land1"]["house_price_gap"]),
    ),
    (
        "c14",
        "Land + labour to City 1: some leverage differentiation persists versus the immobile baseline",
        lambda S: _gt(S["mobile_land1"]["lev_gap"], S["baseline"]["lev_gap"]),
    ),
    (
        "c15",
        "Land + labour to City 1 restrains the total-output gap (p1Y1/p2Y2 not above baseline)",
        lambda S: ~_gt(S["mobile_land1"]["output_gap"], S["baseline"]["output_gap"]),
    ),
    (
        "c16",
        "Land + labour to City 1: City 2's relative wage is higher at low sigma (0.5) than at high sigma (12)",
        lambda S: _gt(S["sigma_low"]["rel_wage2"], S["sigma_high"]["rel_wage2"]),
    ),
    (
        "c17",
        "Land + labour to City 1: high sigma (12) raises City 2's relative leverage versus low sigma (0.5)",
        lambda S: _gt(S["sigma_high"]["rel_lev2"], S["sigma_low"]["rel_lev2"]),
    ),
    (
        "c18",
        "Land + labour to City 1 at low sigma (0.5) brings the leverage gap below the immobile baseline",
        lambda S: _gt(S["baseline"]["lev_gap"], S["sigma_low"]["lev_gap"]),
    ),
]

TAX_CLAIMS: list[tuple[str, str, Callable[[dict, dict], Any]]] = [
    (
        f"t_{k}",
        f"Ignoring tax differences over-states the policy's effect on {k.replace('_', ' ')}",
        (lambda k: lambda E, D: np.abs(E[k]) > np.abs(D[k]) + EPS)(k),
    )
    for k in ("output_gap", "wage_gap", "real_wage_gap", "house_price_gap", "land_mpl_gap", "consumption")
] + [
    (
        f"t_{k}",
        f"Ignoring tax differences under-states the policy's effect on {k.replace('_', ' ')}",
        (lambda k: lambda E, D: np.abs(E[k]) + EPS < np.abs(D[k]))(k),
    )
    for k in ("leverage_gap", "total_output")
]

TRANSITION_CLAIMS = [
    (
        "tr1",
        "Quota inflow to City 2 (immobile): City 2's land-finance dependence exceeds City 1's during the inflow years",
    ),
    ("tr2", "Quota inflow to City 2: the leverage gap overshoots its new steady state during the inflow"),
    ("tr3", "Mobility opens (land to City 1): the receiving city's leverage first jumps above its old steady state"),
]


def evaluate_claims(S: Stats) -> dict[str, Any]:
    return {cid: np.asarray(f(S)) for cid, _, f in CLAIMS}


def transition_claims(path_in: dict, ss_in_new: dict, path_mob: dict, ss_old: dict, ramp: int) -> dict:
    """The transition claims from paths (arrays over t, optionally with a leading draw axis)."""
    ld2 = np.asarray(path_in["land_dep2"])[..., :ramp]
    ld1 = np.asarray(path_in["land_dep1"])[..., :ramp]
    gap = np.asarray(path_in["lev_gap"])
    return {
        "tr1": np.mean(ld2 - ld1, axis=-1) > EPS,
        "tr2": np.max(gap[..., : ramp + 5], axis=-1) > np.asarray(ss_in_new["lev_gap"]) + EPS,
        "tr3": np.asarray(path_mob["lev1"])[..., 0] > np.asarray(ss_old["lev1"]) + EPS,
    }


# ---------------------------------------------------------------------------------------------
# random parameter draws (robustness)
# ---------------------------------------------------------------------------------------------

DRAW_RANGES = {
    "gamma": (0.04, 0.12),
    "sigma": (1.5, 6.0),
    "kappa": (1.0, 3.0),
    "theta_L": (0.02, 0.08),
    "theta_K": (0.15, 0.35),
    "beta_g": (0.86, 0.93),
    "psi_s": (0.25, 0.75),
    "delta_g": (0.03, 0.07),
    "lam": (0.6, 0.8),
    "a_l": (0.07, 0.13),
    "housing_share": (0.10, 0.16),
    "target_gdp_pc_ratio": (1.5, 2.1),
    "target_pubcap_gdp": (0.9, 1.5),
    "target_servicing_share": (0.3, 0.5),
    "delta": (0.03, 0.08),
}


def draw_parameters(p: ld.Params, n: int, seed: int = 2024):
    """`n` random parameter sets (uniform in `DRAW_RANGES`), seeded; returns (batched params,
    targets (n, 3), land shifts (n,), DataFrame of the draws)."""
    rng = np.random.default_rng(seed)
    d = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in DRAW_RANGES.items()}
    pb = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(jnp.asarray(x, jnp.float64), (n,) + jnp.shape(x)), p)
    hs = d["housing_share"]
    pb = pb.replace(
        **{
            k: jnp.asarray(d[k])
            for k in ("gamma", "sigma", "kappa", "theta_L", "theta_K", "beta_g", "psi_s", "delta_g", "lam", "a_l")
        },
        chi=jnp.asarray(hs / (1.0 - hs)),
    )
    targets = jnp.asarray(np.stack([d["target_gdp_pc_ratio"], d["target_pubcap_gdp"], d["target_servicing_share"]], 1))
    return pb, targets, jnp.asarray(d["delta"]), pd.DataFrame(d)


def robustness(
    p: ld.Params,
    n: int = 40,
    seed: int = 2024,
    sigma_low: float = 0.5,
    sigma_high: float = 12.0,
    transitions: bool = True,
    T: int = 150,
    ramp: int = 10,
) -> dict:
    """Recalibrate `n` random draws and evaluate every claim on each (batched solves)."""
    pb, targets, deltas, draws = draw_parameters(p, n, seed)
    pcb, yb, cal_ok = ld.calibrate_batch(pb, BASE, targets)
    S, ok = {}, cal_ok.copy()
    for name in EXPERIMENTS:
        o, sols = batch_experiment(pcb, yb, name, deltas)
        S[name] = o
        ok &= np.asarray(sols.converged)
    for tag, sig in (("sigma_low", sigma_low), ("sigma_high", sigma_high)):
        o, sols = batch_experiment(ld.unchecked_replace(pcb, sigma=jnp.full((n,), sig)), yb, "mobile_land1", deltas)
        S[tag] = o
        ok &= np.asarray(sols.converged)
    res = evaluate_claims(S)
    out = {"claims": res, "ok": ok, "draws": draws, "stats": S}
    if transitions:
        tc, tok = _loop_transition_claims(pcb, yb, deltas, T=T, ramp=ramp)
        out["transition_claims"] = tc
        out["transition_ok"] = tok & ok
    return out


def _member(tree, i: int):
    return jax.tree_util.tree_map(lambda x: x[i], tree)


def _loop_transition_claims(pcb, yb, deltas, T: int, ramp: int):
    """Transition claims per draw. A loop over the compiled single transition solve (same T as the
    headline transitions, so nothing recompiles): at 40 draws this is far cheaper than compiling a
    vmapped block-tridiagonal Newton (compilation, not solving, dominates at this size)."""
    n = int(deltas.shape[0])
    oks = np.zeros(n, bool)
    keys = ("land_dep1", "land_dep2", "lev_gap", "lev1")
    paths = {nm: {k: np.full((n, T), np.nan) for k in keys} for nm in ("immobile_land2", "mobile_land1")}
    news = {nm: {"lev_gap": np.full(n, np.nan)} for nm in paths}
    base = {"lev1": np.full(n, np.nan)}
    for i in range(n):
        pc_i, y_i = _member(pcb, i), yb[i]
        if not np.all(np.isfinite(np.asarray(y_i))):
            continue
        ok_i = True
        base["lev1"][i] = float(ld.statistics_jit(y_i, pc_i, BASE)["lev1"])
        for nm in paths:
            pn, on = experiment_params(pc_i, nm, deltas[i])
            sn = ld.solve_steady_state(pn, on, guess_for(y_i, on), throw=False)
            sol, a, _, _ = tr.run_transition(
                pc_i, pn, o_old=BASE, o_new=on, T=T, ramp=ramp, y_old=y_i, y_new=sn.value, throw=False
            )
            ok_i &= bool(sol.converged) and bool(sn.converged)
            ps = tr.path_statistics_jit(sol.value, a)
            for k in keys:
                paths[nm][k][i] = np.asarray(ps[k])
            news[nm]["lev_gap"][i] = float(ld.statistics_jit(sn.value, pn, on)["lev_gap"])
        oks[i] = ok_i
    results = transition_claims(paths["immobile_land2"], news["immobile_land2"], paths["mobile_land1"], base, ramp)
    return results, oks


def claims_frame(
    base_claims: dict,
    rob: dict | None,
    tax_base: tuple | None = None,
    tax_rob: tuple | None = None,
    trans_base: dict | None = None,
) -> pd.DataFrame:
    """claims.csv: claim, holds_baseline, draws_held, draws_total (draws where every solve converged)."""
    rows = []
    for cid, text, _ in CLAIMS:
        held = total = 0
        if rob is not None:
            ok = rob["ok"]
            held, total = int(np.sum(rob["claims"][cid] & ok)), int(np.sum(ok))
        rows.append(
            {
                "id": cid,
                "claim": text,
                "holds_baseline": bool(base_claims[cid]),
                "draws_held": held,
                "draws_total": total,
            }
        )
    for cid, text in TRANSITION_CLAIMS:
        held = total = 0
        if rob is not None and "transition_claims" in rob:
            ok = rob["transition_ok"]
            held, total = int(np.sum(rob["transition_claims"][cid] & ok)), int(np.sum(ok))
        rows.append(
            {
                "id": cid,
                "claim": text,
                "holds_baseline": bool(trans_base[cid]) if trans_base else None,
                "draws_held": held,
                "draws_total": total,
            }
        )
    if tax_base is not None:
        for cid, text, f in TAX_CLAIMS:
            held = total = 0
            if tax_rob is not None:
                E, D, ok = tax_rob
                held, total = int(np.sum(np.asarray(f(E, D)) & ok)), int(np.sum(ok))
            rows.append(
                {
                    "id": cid,
                    "claim": text,
                    "holds_baseline": bool(f(*tax_base)),
                    "draws_held": held,
                    "draws_total": total,
                }
            )
    return pd.DataFrame(rows)


def tax_robustness(p: ld.Params, n: int, seed: int = 2024, attraction: str = "optimal"):
    """Tax-difference claims on random draws: effects of 'mobile + land to City 1' under equal and
    differentiated taxes, each regime recalibrated per draw (loop over the compiled single solves
    that `tax_extension` already built)."""
    pb, targets, deltas, _ = draw_parameters(p, n, seed)
    keys = {k for k, _ in EFFECTS.values()}
    effects = {}
    ok = np.ones(n, bool)
    for regime, tau in (("equal", TAX_EQUAL), ("diff", TAX_DIFF)):
        ob = {k: np.full(n, np.nan) for k in keys}
        op = {k: np.full(n, np.nan) for k in keys}
        for i in range(n):
            pr = _member(pb, i).replace(tau=jnp.asarray(tau))
            pc, csol = ld.calibrate_joint(pr, BASE, targets[i], throw=False)
            if not bool(csol.converged):
                ok[i] = False
                continue
            yb = csol.value[0:6]
            for name, dst in (("baseline", ob), ("mobile_land1", op)):
                pe, oe, sol = solve_experiment(pc, name, yb, deltas[i], BASE.replace(attraction=attraction))
                ok[i] &= bool(sol.converged)
                st = ld.statistics_jit(sol.value, pe, oe)
                for k in keys:
                    dst[k][i] = float(st[k])
        effects[regime] = policy_effects(ob, op)
    return effects["equal"], effects["diff"], ok
