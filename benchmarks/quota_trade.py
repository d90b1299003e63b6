"""Quota-trade model (Ma & Ni) benchmark.

1. N = 285 (the synthetic China-like dataset): one solve after compilation (median of repeats).
2. A batch of 1,000 scenarios (random transfer shares and land-type scalings of the inter-province,
   all-provinces, both-land-types, equal-area scenario): ``jax.vmap`` of the solve inside
   ``lax.map`` over chunks; solves per second.
3. ``scipy.optimize.root`` (``hybr``) on the same residuals ``log H6(x) - x`` (the JAX residual,
   jitted, called from scipy; once with finite-difference Jacobians, once with the JAX Jacobian)
   versus landjax's fixed point (Anderson-accelerated damped iteration), on the same scenarios, same tolerance.
4. Scaling to a synthetic county-level N = 2,800: time per solve and peak memory (each N in a
   fresh subprocess; peak resident set size of that process).

Writes ``benchmarks/results/quota_trade.md`` and ``benchmarks/results/quota_trade.csv``.

    python benchmarks/quota_trade.py [--batch 1000] [--sizes 285 700 1400 2800]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from _machine import machine_line  # noqa: E402

import landjax  # noqa: E402,F401
from landjax.data.china import load_dataset  # noqa: E402
from landjax.models import quota_trade as M  # noqa: E402
from landjax.scenarios import quota as Q  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"
SCEN = Q.Scenario.from_name("inter_all_area_both")


def _block(x):
    return jax.block_until_ready(x)


def shocks_for(base, draws):
    """Shocks for draws (share, aY, aH): the scenario at that share, land hats scaled per type."""

    def one(d):
        sh = Q.compile_scenario(base, SCEN, share=d[0])
        return M.Shock(RY_hat=1 + d[1] * (sh.RY_hat - 1), RH_hat=1 + d[2] * (sh.RH_hat - 1), f=sh.f)

    return one


def single_solve(base, repeats=20):
    """Median seconds of one plain `solve_shock` call and of the same solve inside the user's own
    `jax.jit` (the kernel: no input checks, no Python between the steps), and the step count."""
    sh = Q.compile_scenario(base, SCEN)
    eq = M.solve_shock(base, sh)  # compile
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        _block(M.solve_shock(base, sh).L_hat)
        ts.append(time.perf_counter() - t)
    kernel = jax.jit(lambda b, s: M.solve_shock(b, s, throw=False).L_hat)
    _block(kernel(base, sh))
    tj = []
    for _ in range(repeats * 5):
        t = time.perf_counter()
        _block(kernel(base, sh))
        tj.append(time.perf_counter() - t)
    return float(np.median(ts)), int(eq.steps), float(np.median(tj))


def batch(base, n, chunk=250, seed=0):
    rng = np.random.default_rng(seed)
    draws = jnp.asarray(np.c_[rng.uniform(0.05, 0.30, n), rng.uniform(0.0, 1.5, n), rng.uniform(0.0, 1.5, n)])
    mk = shocks_for(base, draws)

    def stats_one(d):
        sh = mk(d)
        eq = M.solve_shock(base, sh, throw=False)
        st = M.statistics(base, sh, eq)
        return jnp.stack([st[k] for k in M.STATISTICS]), eq.converged & eq.feasible, eq.steps

    @jax.jit
    def run(dr):
        return jax.lax.map(jax.vmap(stats_one), dr.reshape(-1, chunk, 3))

    t = time.perf_counter()
    _block(run(draws))
    t_first = time.perf_counter() - t
    t = time.perf_counter()
    vals, ok, steps = _block(run(draws))
    t_run = time.perf_counter() - t
    return t_first, t_run, int(np.sum(np.asarray(ok))), int(np.max(np.asarray(steps)))


def scipy_compare(base, n=10, tol=1e-10):
    from scipy.optimize import root

    rng = np.random.default_rng(1)
    draws = jnp.asarray(np.c_[rng.uniform(0.05, 0.30, n), rng.uniform(0.0, 1.5, n), rng.uniform(0.0, 1.5, n)])
    mk = shocks_for(base, draws)
    P = M.Params()
    shocks = [mk(draws[i]) for i in range(n)]

    def resid(x, sh):
        Mt = base.m
        return M.hat_map(x, (base, sh, P, Mt)) - x

    rj = jax.jit(resid)
    jj = jax.jit(jax.jacfwd(resid))
    x0 = np.zeros(base.n)
    # compile everything first
    _block(rj(jnp.asarray(x0), shocks[0]))
    _block(jj(jnp.asarray(x0), shocks[0]))
    M.solve_shock(base, shocks[0])
    t_lj, t_fd, t_jac, err_fd, err_jac, nfev_fd = 0.0, 0.0, 0.0, 0.0, 0.0, 0
    for sh in shocks:
        t = time.perf_counter()
        eq = M.solve_shock(base, sh)
        _block(eq.L_hat)
        t_lj += time.perf_counter() - t
        xl = np.log(np.asarray(eq.L_hat))
        f = lambda x: np.asarray(rj(jnp.asarray(x), sh))
        t = time.perf_counter()
        r1 = root(f, x0, method="hybr", tol=tol)
        t_fd += time.perf_counter() - t
        nfev_fd += r1.nfev
        err_fd = max(err_fd, float(np.max(np.abs(r1.x - xl))))
        J = lambda x: np.asarray(jj(jnp.asarray(x), sh))
        t = time.perf_counter()
        r2 = root(f, x0, jac=J, method="hybr", tol=tol)
        t_jac += time.perf_counter() - t
        err_jac = max(err_jac, float(np.max(np.abs(r2.x - xl))))
    return {
        "n": n,
        "landjax_s_per_solve": t_lj / n,
        "scipy_fdjac_s_per_solve": t_fd / n,
        "scipy_jaxjac_s_per_solve": t_jac / n,
        "scipy_fd_nfev_mean": nfev_fd / n,
        "max_abs_diff_fd": err_fd,
        "max_abs_diff_jac": err_jac,
    }


def scaling_child(n: int) -> dict:
    """Run in a fresh process: build a synthetic N-city dataset, solve once compiled, report."""
    t = time.perf_counter()
    ds = load_dataset(f"synthetic:0:{n}") if n != 285 else load_dataset("china_synthetic")
    t_build = time.perf_counter() - t
    base = M.build_baseline(ds)
    sh = Q.compile_scenario(base, SCEN)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    eq = M.solve_shock(base, sh, tangent="neumann")
    _block(eq.L_hat)
    t_first = time.perf_counter() - t
    ts = []
    for _ in range(5):
        t = time.perf_counter()
        _block(M.solve_shock(base, sh, tangent="neumann").L_hat)
        ts.append(time.perf_counter() - t)

    def gdp(s):
        shk = Q.compile_scenario(base, SCEN, share=s)
        e = M.solve_shock(base, shk, throw=False, tangent="neumann")
        return M.statistics(base, shk, e)["gdp_change"]

    g = jax.jit(jax.grad(gdp))
    t = time.perf_counter()
    _block(g(0.15))
    t_g_first = time.perf_counter() - t
    t = time.perf_counter()
    dg = float(_block(g(0.15)))
    t_g = time.perf_counter() - t
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "N": ds.n,
        "build_dataset_s": t_build,
        "first_solve_s": t_first,
        "solve_s": float(np.median(ts)),
        "steps": int(eq.steps),
        "grad_first_s": t_g_first,
        "grad_s": t_g,
        "dGDP_dshare": dg,
        "peak_rss_MB": rss1 / 1024.0,
        "rss_before_solve_MB": rss0 / 1024.0,
        "m_matrix_MB": ds.n**2 * 8 / 2**20,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--sizes", type=int, nargs="*", default=[285, 700, 1400, 2800])
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(scaling_child(args.child)))
        return 0

    ds = load_dataset("china_synthetic")
    base = M.build_baseline(ds)
    t1, steps, t1j = single_solve(base)
    print(f"N={ds.n}: one solve {t1 * 1e3:.2f} ms, jitted {t1j * 1e3:.2f} ms ({steps} fixed-point steps)", flush=True)
    tb_first, tb, n_ok, max_steps = batch(base, args.batch)
    chunks = {c: batch(base, args.batch, chunk=c)[1] for c in (100, 500, 1000) if args.batch % c == 0}
    print(
        f"batch {args.batch}: {tb:.2f} s ({args.batch / tb:.0f} solves/s), first call {tb_first:.1f} s, "
        f"{n_ok} converged",
        flush=True,
    )
    sc = scipy_compare(base)
    print(sc, flush=True)
    scal = []
    for n in args.sizes:
        r = subprocess.run(
            [sys.executable, __file__, "--child", str(n)],
            capture_output=True,
            text=True,
            timeout=1800,
            env={**os.environ, "LANDJAX_PROGRESS": "0"},
        )
        if r.returncode != 0:
            print(r.stderr[-2000:])
            scal.append({"N": n, "error": r.stderr.strip().splitlines()[-1] if r.stderr else "failed"})
            continue
        scal.append(json.loads(r.stdout.strip().splitlines()[-1]))
        print(scal[-1], flush=True)

    OUT.mkdir(exist_ok=True)
    rows = (
        [
            {"benchmark": "single_solve_N285", "value": t1, "unit": "s"},
            {"benchmark": "single_solve_N285_jitted", "value": t1j, "unit": "s"},
            {"benchmark": f"batch_{args.batch}_seconds", "value": tb, "unit": "s"},
            {"benchmark": f"batch_{args.batch}_solves_per_s", "value": args.batch / tb, "unit": "1/s"},
            {"benchmark": "batch_first_call_with_compile", "value": tb_first, "unit": "s"},
        ]
        + [
            {"benchmark": f"batch_{args.batch}_chunk{c}_solves_per_s", "value": args.batch / t, "unit": "1/s"}
            for c, t in chunks.items()
        ]
        + [
            {"benchmark": "landjax_picard_s_per_solve", "value": sc["landjax_s_per_solve"], "unit": "s"},
            {"benchmark": "scipy_hybr_fdjac_s_per_solve", "value": sc["scipy_fdjac_s_per_solve"], "unit": "s"},
            {"benchmark": "scipy_hybr_jaxjac_s_per_solve", "value": sc["scipy_jaxjac_s_per_solve"], "unit": "s"},
        ]
        + [
            {
                "benchmark": f"scaling_N{r['N']}_{k}",
                "value": v,
                "unit": "s" if k.endswith("_s") else ("MB" if "MB" in k else ""),
            }
            for r in scal
            if "error" not in r
            for k, v in r.items()
            if k != "N"
        ]
    )
    pd.DataFrame(rows).to_csv(OUT / "quota_trade.csv", index=False)

    sp_fd = sc["scipy_fdjac_s_per_solve"] / sc["landjax_s_per_solve"]
    sp_j = sc["scipy_jaxjac_s_per_solve"] / sc["landjax_s_per_solve"]
    lines = [
        "## Quota-trade model (Ma & Ni): solve, batch, scipy comparison, scaling",
        "",
        f"Command: `python benchmarks/quota_trade.py --batch {args.batch} --sizes {' '.join(map(str, args.sizes))}`. "
        f"Machine: {machine_line()}. Timings on a 2-core machine vary from run to run: take ratios measured "
        "in the same run.",
        "",
        f"- **One solve, N = {ds.n}** (synthetic China-like data, inter-province / all / both / equal area, "
        f"tolerance 1e-13 on log L-hat, after compilation): **{t1 * 1e3:.2f} ms** median for a plain "
        f"`solve_shock` call, **{t1j * 1e3:.2f} ms** for the same solve inside the user's own `jax.jit` (the "
        f"difference is the input checks and the calls around the kernel); {steps} fixed-point steps (Anderson).",
        f"- **Batch of {args.batch} scenarios** (random share 0.05-0.30 and land-type scalings; vmap in lax.map "
        f"chunks of 250): **{tb:.2f} s = {args.batch / tb:.0f} solves/s** after compilation (first call with "
        f"compilation {tb_first:.1f} s); {n_ok}/{args.batch} converged and feasible; slowest member {max_steps} steps. "
        + "Other chunk sizes: "
        + ", ".join(f"{c}: {args.batch / t:.0f} solves/s" for c, t in chunks.items())
        + ".",
        f"- **versus scipy.optimize.root (hybr)** on the same residual log H6(x) - x (jitted JAX function called "
        f"from scipy), {sc['n']} scenarios, tol 1e-10: landjax {sc['landjax_s_per_solve'] * 1e3:.1f} ms/solve; "
        f"scipy with finite-difference Jacobian {sc['scipy_fdjac_s_per_solve'] * 1e3:.0f} ms/solve "
        f"({sp_fd:.0f}x slower, {sc['scipy_fd_nfev_mean']:.0f} residual calls per solve); scipy with the JAX "
        f"Jacobian {sc['scipy_jaxjac_s_per_solve'] * 1e3:.0f} ms/solve ({sp_j:.1f}x). Max |difference| of the "
        f"solutions: {sc['max_abs_diff_fd']:.1e} (FD), {sc['max_abs_diff_jac']:.1e} (JAX Jacobian).",
        "",
        "Scaling (synthetic datasets generated by `landjax.data.china.generate_synthetic(0, n_cities=N)`; each N in "
        'a fresh process; `tangent="neumann"` for the implicit gradient; peak RSS is the whole process, '
        "including Python, JAX and the dense N x N migration matrix):",
        "",
        "| N | solve (s) | first solve incl. compile (s) | fixed-point steps | d GDP / d share, grad (s) | peak RSS "
        "(MB) | m matrix (MB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in scal:
        if "error" in r:
            lines.append(f"| {r['N']} | failed: {r['error']} | | | | | |")
        else:
            lines.append(
                f"| {r['N']} | {r['solve_s']:.4f} | {r['first_solve_s']:.1f} | {r['steps']} | "
                f"{r['grad_s']:.3f} | {r['peak_rss_MB']:.0f} | {r['m_matrix_MB']:.1f} |"
            )
    lines += [
        "",
        "Each fixed-point step is two dense matrix-vector products with the N x N migration matrix plus a "
        "per-city Newton solve: O(N^2) work per step, and the step count does not grow with N. Beyond about 1,000 "
        "cities the matrix (15-60 MB) no longer fits in cache and each step is memory-bandwidth bound, so the time "
        "grows faster than N^2; memory is dominated by the matrix and its copies (the dataset generator's, the "
        "baseline's, the migration weights' and the gradient's). Where one device cannot hold the matrix, "
        "`M.shard_rows` splits its rows over devices (docs/ma_ni.md).",
        "",
        "Where the time of a batched solve goes: `benchmarks/quota_trade_profile.py` (next section) times each "
        "part per member and fixed-point step. Before this work the map took 30 us per member-step (the TFP root "
        "alone 18: a Newton loop from an upper bound, five iterations of a general power) and Anderson 13 (a "
        "batched LAPACK solve and rolled buffers per step).",
    ]
    (OUT / "quota_trade.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
