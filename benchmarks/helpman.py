"""Helpman economy (RRH 2017), one equilibrium: landjax vs fixed-point loops in NumPy, same run.

landjax: ``landjax.models.helpman.solve`` (Anderson acceleration on the damped equilibrium map in
the engine, compiled once; timed after compilation). NumPy: the same map (same equations, same
tolerance on max|g(x) - x|) as (a) a damped fixed-point loop and (b) the same Anderson scheme.
Writes ``benchmarks/results/helpman.csv`` and ``benchmarks/results/helpman.md``.

    python benchmarks/helpman.py [--repeats 3] [--damping 0.3] [--max-iter 20000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jax  # noqa: E402
from _machine import machine_line  # noqa: E402

from landjax.models import helpman as hm  # noqa: E402
from landjax.models.helpman.data import geography, side_of  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"


def numpy_problem(p: hm.Params):
    a = np.asarray(p.a)
    dist, country, _, _ = geography(side_of(a.size))
    west = country == 0
    lA = a.copy()
    for c in (west, ~west):
        lA[c] -= lA[c].mean()
    off = dist > 0
    d = np.where(off, np.where(off, dist, 1.0) ** float(p.dist_elasticity) * float(p.internal_cost), 1.0)
    d = d * np.where(west[:, None] != west[None, :], float(p.border_cost), 1.0)
    al, sg, H, Lt = float(p.alpha), float(p.sigma), float(p.H), float(p.L_total)
    T = d ** (1 - sg)
    beta = (sg * (1 - al) - 1) / (sg - 1)
    n = a.size

    def g(x):
        lw, lL = x[:n], x[n:]
        lv = lL + (1 - sg) * (lw - lA)
        v = np.exp(lv - lv.max())
        D = T @ v
        income = v * (T.T @ (np.exp(lw + lL) / D))
        lw_new = np.log(income) - lL
        lw_new -= lw_new.mean()
        lK = al * lA + (1 - al) * np.log(H) - al / (sg - 1) * (lv - lv.max() - np.log(D))
        z = lK / beta
        lL_new = np.empty(n)
        for c in (west, ~west):
            zc = z[c] - z[c].max()
            lL_new[c] = np.log(Lt / 2) + zc - np.log(np.exp(zc).sum())
        return np.concatenate([lw_new, lL_new])

    x0 = np.concatenate([np.zeros(n), np.full(n, np.log(Lt / n))])
    return g, x0


def damped(g, x0, damping, tol, max_iter):
    x = x0.copy()
    for it in range(max_iter):
        r = g(x) - x
        if np.max(np.abs(r)) <= tol:
            return x, it, True
        x = x + damping * r
    return x, max_iter, False


def anderson(g, x0, damping, tol, max_iter, m=8):
    x, X, F = x0.copy(), [], []
    for it in range(max_iter):
        f = g(x) - x
        if np.max(np.abs(f)) <= tol:
            return x, it, True
        X.append(x.copy())
        F.append(f)
        if len(X) > m + 1:
            X.pop(0)
            F.pop(0)
        if len(X) > 1:
            dX = np.stack([X[j + 1] - X[j] for j in range(len(X) - 1)], 1)
            dF = np.stack([F[j + 1] - F[j] for j in range(len(F) - 1)], 1)
            gam = np.linalg.lstsq(dF, f, rcond=None)[0]
            x = x + damping * f - (dX + damping * dF) @ gam
        else:
            x = x + damping * f
    return x, max_iter, False


def best_of(fn, repeats):
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--damping", type=float, default=0.3)
    ap.add_argument("--numpy-damping", type=float, default=0.05, help="damping of the plain NumPy loop")
    ap.add_argument("--max-iter", type=int, default=20000)
    args = ap.parse_args(argv)
    p = hm.rrh_params(border_cost=1.0)
    o, s = hm.Options(gains="none"), hm.Solver(damping=args.damping)
    t0 = time.perf_counter()
    first = hm.equilibrium(p, o, s)
    jax.block_until_ready(first.value)
    t_first = time.perf_counter() - t0
    t_jax, sol = best_of(lambda: jax.block_until_ready(hm.equilibrium(p, o, s)), args.repeats)
    g, x0 = numpy_problem(p)
    xj = np.concatenate([np.asarray(sol.value["log_w"]), np.asarray(sol.value["log_L"])])
    tol = s.ftol
    t_and, (xa, it_a, ok_a) = best_of(lambda: anderson(g, x0, args.damping, tol, args.max_iter), args.repeats)
    t_dmp, (xd, it_d, ok_d) = best_of(lambda: damped(g, x0, args.numpy_damping, tol, args.max_iter), 1)
    rows = [
        {
            "method": "landjax solve (Anderson, compiled)",
            "seconds": t_jax,
            "iterations": int(sol.steps),
            "converged": bool(sol.converged),
            "max_gap_to_landjax": 0.0,
            "first_call_s": t_first,
        },
        {
            "method": f"NumPy Anderson loop (same map, damping {args.damping})",
            "seconds": t_and,
            "iterations": it_a,
            "converged": ok_a,
            "max_gap_to_landjax": float(np.max(np.abs(xa - xj))),
            "first_call_s": t_and,
        },
        {
            "method": f"NumPy damped fixed-point loop (damping {args.numpy_damping})",
            "seconds": t_dmp,
            "iterations": it_d,
            "converged": ok_d,
            "max_gap_to_landjax": float(np.max(np.abs(xd - xj))),
            "first_call_s": t_dmp,
        },
    ]
    df = pd.DataFrame(rows)
    df["ratio_to_landjax"] = df["seconds"] / t_jax
    OUT.mkdir(exist_ok=True)
    df.to_csv(OUT / "helpman.csv", index=False)
    md = [
        "## Helpman economy (RRH 2017): one equilibrium, landjax vs NumPy loops",
        "",
        f"Machine: {machine_line()}.",
        f"Command: `python benchmarks/helpman.py --repeats {args.repeats} --damping {args.damping} "
        f"--numpy-damping {args.numpy_damping} --max-iter {args.max_iter}`.",
        "",
        "900 cells, the external-liberalisation equilibrium (border cost 1), tolerance "
        f"max|g(x) - x| <= {tol:g} for every method; best of {args.repeats} (the damped loop: one run).",
        "",
        "| method | seconds | iterations | converged | ratio to landjax | max gap to landjax |",
        "|---|---|---|---|---|---|",
    ]
    for r in df.itertuples():
        md.append(
            f"| {r.method} | {r.seconds:.3f} | {r.iterations} | {r.converged} | {r.ratio_to_landjax:.1f}x | "
            f"{r.max_gap_to_landjax:.1e} |"
        )
    md += ["", f"landjax's first call (compilation included): {t_first:.1f} s."]
    (OUT / "helpman.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
