"""Engine benchmark: batches of equilibria against loops, and where a vmapped Newton step goes.

Two problems, each solved for many parameter draws in one run, methods side by side:

* ``armington``: 1,000 Armington trade models with 5 countries (endowments, weights and
  elasticities vary by member; one iceberg-cost matrix shared by all);
* ``geography``: 200 draws of the Allen-Arkolakis economic geography of ``landjax.examples``
  (N = 50 locations, 100 unknowns; productivities vary, the 50 x 50 trade costs, amenities and
  elasticities are shared).

Methods: ``scipy_loop`` (``scipy.optimize.root(hybr)`` per member, Armington only), ``jit_loop``
(a Python loop of the user's ``jax.jit`` of a single ``solve``), ``solve_batch`` (every leaf
copied to the batch, automatic chunk), ``solve_batch_in_axes`` (shared leaves with
``in_axes=None``), and ``solve_batch_chunkK`` (a fixed chunk, as before the automatic choice).
All use native Newton with the same tolerances; each time is the best of ``--rounds``
interleaved rounds after compilation.

A profile of one Newton step's pieces (residual, Jacobian, LU) per member at vmap widths 1, 4
and 16 on the geography model, with XLA's cost analysis, says where a vmapped step's time goes.

Writes ``benchmarks/results/engine_batch.csv`` (``problem, method, members, seconds,
solves_per_s, converged``), ``benchmarks/results/engine_batch_profile.csv`` and the
``benchmarks/results/engine.md`` fragment of RESULTS.md.

    python benchmarks/engine_batch.py [--arm 1000] [--geo 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from _machine import machine_line  # noqa: E402

import landjax  # noqa: E402,F401  (float64)
from landjax.engine import solve, solve_batch  # noqa: E402
from landjax.engine.linalg import Dense  # noqa: E402
from landjax.examples import Armington, Geography, armington_residual, geography_params, geography_residual  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"
KW = dict(method="newton", backend="native", tol=1e-10, ftol=1e-10)


def draw_armington(n: int, N: int, seed: int):
    rng = np.random.default_rng(seed)
    d = 1.0 + rng.uniform(0.1, 1.0, (N, N))
    d[np.arange(N), np.arange(N)] = 1.0
    a = rng.uniform(0.5, 1.5, (n, N))
    return dict(Q=rng.uniform(0.5, 3.0, (n, N)), a=a / a.sum(1, keepdims=True), sigma=rng.uniform(2.0, 8.0, n), d=d)


def np_armington(x, Q, a, sigma, d):
    w = np.concatenate([[1.0], np.exp(x)])
    price = w[:, None] * d
    P = np.sum(a[:, None] * price ** (1 - sigma), axis=0)
    Y = w * Q
    sales = np.sum(a[:, None] * price ** (1 - sigma) / P[None, :] * Y[None, :], axis=1)
    return (sales / Y - 1.0)[1:]


def copied(par, in_axes, B: int):
    """Every shared leaf broadcast to the batch (what ``solve_batch`` needed before ``in_axes``)."""
    return jax.tree_util.tree_map(
        lambda ax, x: x if ax is not None else jnp.broadcast_to(x, (B,) + jnp.shape(x)),
        in_axes,
        par,
        is_leaf=lambda x: x is None,
    )


def member(par, in_axes, i: int):
    return jax.tree_util.tree_map(lambda ax, x: x if ax is None else x[i], in_axes, par, is_leaf=lambda x: x is None)


def run_problem(name: str, fn: Callable, y0: jax.Array, par, in_axes, B: int, rounds: int, chunk: int, extra=None):
    """Time the methods of one problem in interleaved rounds; returns rows and first-call seconds."""
    par_full = copied(par, in_axes, B)
    y0s = jnp.broadcast_to(y0, (B,) + y0.shape)
    one = jax.jit(lambda a: solve(fn, y0, a, throw=False, **KW))
    members = [member(par, in_axes, i) for i in range(B)]  # sliced outside the timing (favours the loop)

    def jit_loop():
        sols = [one(m) for m in members]
        jax.block_until_ready(sols)
        return np.array([bool(s.converged) for s in sols]), np.stack([np.asarray(s.value) for s in sols])

    def batch(args, **kw):
        def run():
            s = solve_batch(fn, y0s, args, **KW, **kw)
            jax.block_until_ready(s.value)
            return np.asarray(s.converged), np.asarray(s.value)

        return run

    methods = {
        "jit_loop": jit_loop,
        "solve_batch": batch(par_full),
        "solve_batch_in_axes": batch(par, in_axes=in_axes),
        f"solve_batch_chunk{chunk}": batch(par_full, chunk_size=chunk),
    }
    if extra:
        methods = {**extra, **methods}
    first, results, best, cpu = {}, {}, {m: np.inf for m in methods}, {m: np.inf for m in methods}
    for m, f in methods.items():
        t0 = time.perf_counter()
        results[m] = f()
        first[m] = time.perf_counter() - t0
    for _ in range(rounds):
        for m, f in methods.items():
            t0, c0 = time.perf_counter(), time.process_time()
            f()
            best[m] = min(best[m], time.perf_counter() - t0)
            cpu[m] = min(cpu[m], time.process_time() - c0)
    ref = results["jit_loop"]
    rows = []
    for m in methods:
        conv, val = results[m]
        ok = conv & ref[0]
        rows.append(
            dict(
                problem=name,
                method=m,
                members=B,
                seconds=best[m],
                solves_per_s=B / best[m],
                converged=int(conv.sum()),
                first_call_s=first[m],
                cpu_s=cpu[m],
                max_diff_vs_jit_loop=float(np.max(np.abs(val[ok] - ref[1][ok]))) if ok.any() else float("nan"),
            )
        )
    return rows


def scipy_loop_armington(p, B: int, N: int):
    from scipy.optimize import root

    def run():
        xs, ok = np.empty((B, N - 1)), np.empty(B, bool)
        for i in range(B):
            r = root(
                np_armington,
                np.zeros(N - 1),
                args=(p["Q"][i], p["a"][i], p["sigma"][i], p["d"]),
                method="hybr",
                tol=1e-10,
            )
            xs[i], ok[i] = r.x, r.success and np.max(np.abs(r.fun)) <= 1e-10
        return ok, xs

    return run


def profile_geography(widths=(1, 4, 16), repeats: int = 10):
    """Per-member milliseconds and XLA bytes accessed of one Newton step's pieces, by vmap width."""
    p = geography_params(50, seed=0)
    y = jnp.full(100, 0.01)

    def jac_fwd(y, a):  # what the dense Newton step does (Dense: forward mode on the linearisation)
        _, lin = jax.linearize(lambda z: geography_residual(z, a), y)
        return Dense().materialize(lin, y)

    def jac_rev(y, a):
        return jax.jacrev(geography_residual)(y, a)

    J = jac_fwd(y, p)
    pieces = {
        "residual": (geography_residual, (y, p)),
        "jacobian_forward": (jac_fwd, (y, p)),
        "jacobian_reverse": (jac_rev, (y, p)),
        "lu_solve": (jnp.linalg.solve, (J, geography_residual(y, p))),
    }
    rows = []
    for w in widths:
        for piece, (g, xs) in pieces.items():
            if w == 1:
                f, args = jax.jit(g), xs
            else:
                f = jax.jit(jax.vmap(g))
                args = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (w,) + jnp.shape(x)), xs)
            compiled = f.lower(*args).compile()
            ca = compiled.cost_analysis()
            ca = ca[0] if isinstance(ca, list) else ca
            jax.block_until_ready(compiled(*args))
            ts = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                jax.block_until_ready(compiled(*args))
                ts.append(time.perf_counter() - t0)
            rows.append(
                dict(
                    piece=piece,
                    width=w,
                    ms_per_member=1e3 * min(ts) / w,
                    flops_per_member=float(ca.get("flops", np.nan)) / w,
                    bytes_per_member=float(ca.get("bytes accessed", np.nan)) / w,
                )
            )
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arm", type=int, default=1000, help="Armington members")
    ap.add_argument("--countries", type=int, default=5)
    ap.add_argument("--geo", type=int, default=200, help="geography members")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args(argv)
    machine = machine_line()
    up_start = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    # --- Armington: members differ in Q, a, sigma; the cost matrix d is shared
    n, N = a.arm, a.countries
    p = draw_armington(n, N, seed=0)
    arm = Armington(Q=jnp.asarray(p["Q"]), a=jnp.asarray(p["a"]), sigma=jnp.asarray(p["sigma"]), d=jnp.asarray(p["d"]))
    arm_axes = Armington(Q=0, a=0, sigma=0, d=None)  # type: ignore[arg-type]
    rows = run_problem(
        "armington", armington_residual, jnp.zeros(N - 1), arm, arm_axes, n, a.rounds, 250,
        extra={"scipy_loop": scipy_loop_armington(p, n, N)},
    )  # fmt: skip

    # --- geography: members differ in productivities; trade costs and the rest shared
    B = a.geo
    g = geography_params(50, seed=0)
    rng = np.random.default_rng(1)
    Ab = jnp.asarray(np.asarray(g.Abar)[None, :] * np.exp(0.2 * rng.standard_normal((B, 50))))
    geo = Geography(Ab, g.ubar, g.tau, g.sigma, g.alpha, g.beta, g.Lbar)
    geo_axes = Geography(0, None, None, None, None, None, None)  # type: ignore[arg-type]
    rows += run_problem("geography", geography_residual, jnp.zeros(100), geo, geo_axes, B, a.rounds, 128)

    prof = profile_geography()
    up_end = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    df = pd.DataFrame(rows)
    OUT.mkdir(exist_ok=True)
    df[["problem", "method", "members", "seconds", "solves_per_s", "converged"]].to_csv(
        OUT / "engine_batch.csv", index=False
    )
    pf = pd.DataFrame(prof)
    pf.to_csv(OUT / "engine_batch_profile.csv", index=False)

    def rate(prob, m):
        return float(df[(df.problem == prob) & (df.method == m)].solves_per_s.iloc[0])

    def cpu_ratio(prob, m):  # jit_loop CPU seconds / method CPU seconds: less sensitive to other jobs
        sel = df[df.problem == prob].set_index("method").cpu_s
        return float(sel["jit_loop"] / sel[m])

    load = os.getloadavg()[0]
    md = [
        "## Engine: batches against loops",
        "",
        f"Machine: {machine}.",
        f"`uptime` at start: `{up_start}`; at end: `{up_end}`"
        + (
            " (the 2 cores were shared with other jobs: timings are noisy; compare ratios within the run)."
            if load > 1.5
            else "."
        ),
        f"Command: `python benchmarks/engine_batch.py --arm {n} --countries {N} --geo {B} --rounds {a.rounds}`.",
        "",
        f"Armington: {n} trade models with {N} countries (random endowments, weights, elasticities; one shared cost",
        f"matrix). Geography: {B} draws of productivities in the Allen-Arkolakis model of `landjax.examples`",
        "(N = 50, 100 unknowns; 50 x 50 trade costs shared). Native Newton, tolerance 1e-10, best of",
        f"{a.rounds} interleaved rounds after compilation; `jit_loop` is a Python loop of the user's `jax.jit` of",
        "one `solve` (members sliced beforehand); `solve_batch` copies shared leaves to the batch, `_in_axes` shares",
        "them (`in_axes=None`), `_chunkK` fixes the chunk instead of the automatic choice.",
        "",
        "| problem | method | members | seconds | solves/s | converged | CPU s (all threads) | first call (s) "
        "| max diff vs jit_loop |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        md.append(
            f"| {r['problem']} | {r['method']} | {r['members']} | {r['seconds']:.3f} | {r['solves_per_s']:.0f} | "
            f"{r['converged']} | {r['cpu_s']:.3f} | {r['first_call_s']:.2f} | {r['max_diff_vs_jit_loop']:.1e} |"
        )
    md += [
        "",
        "Ratios (solves per second against `jit_loop`, same run):",
        "",
        f"- armington: solve_batch **{rate('armington', 'solve_batch') / rate('armington', 'jit_loop'):.1f}x**, "
        f"in_axes {rate('armington', 'solve_batch_in_axes') / rate('armington', 'jit_loop'):.1f}x, "
        f"chunk 250 {rate('armington', 'solve_batch_chunk250') / rate('armington', 'jit_loop'):.1f}x; "
        f"scipy loop {rate('armington', 'scipy_loop') / rate('armington', 'jit_loop'):.2f}x "
        f"(batch / scipy loop {rate('armington', 'solve_batch') / rate('armington', 'scipy_loop'):.1f}x).",
        f"- geography: solve_batch **{rate('geography', 'solve_batch') / rate('geography', 'jit_loop'):.2f}x**, "
        f"in_axes **{rate('geography', 'solve_batch_in_axes') / rate('geography', 'jit_loop'):.2f}x**, "
        f"fixed chunk 128 (the former default) "
        f"{rate('geography', 'solve_batch_chunk128') / rate('geography', 'jit_loop'):.2f}x.",
        f"- by CPU time (all threads of this process; what the batch costs the machine): armington solve_batch "
        f"{cpu_ratio('armington', 'solve_batch'):.1f}x, in_axes {cpu_ratio('armington', 'solve_batch_in_axes'):.1f}x; "
        f"geography solve_batch {cpu_ratio('geography', 'solve_batch'):.2f}x, in_axes "
        f"{cpu_ratio('geography', 'solve_batch_in_axes'):.2f}x, "
        f"chunk 128 {cpu_ratio('geography', 'solve_batch_chunk128'):.2f}x.",
        "",
        "### Where a vmapped Newton step goes (geography, N = 50, 100 unknowns)",
        "",
        "One Newton step's pieces, per member, at vmap width 1 (a single solve), 4 and 16; flops and bytes from",
        "XLA's cost analysis of the compiled program (`benchmarks/results/engine_batch_profile.csv`):",
        "",
        "| piece | width | ms per member | Mflop per member | MB accessed per member |",
        "|---|---|---|---|---|",
    ]
    for r in prof:
        md.append(
            f"| {r['piece']} | {r['width']} | {r['ms_per_member']:.3f} | {r['flops_per_member'] / 1e6:.2f} | "
            f"{r['bytes_per_member'] / 1e6:.2f} |"
        )

    def pms(piece, w):
        return float(pf[(pf.piece == piece) & (pf.width == w)].ms_per_member.iloc[0])

    md += [
        "",
        f"The forward-mode Jacobian is the step: {pms('jacobian_forward', 1):.2f} ms of a single member's step,",
        f"against {pms('residual', 1):.2f} ms for the residual and {pms('lu_solve', 1):.2f} ms for the LU solve.",
        "Under vmap its flops and bytes per member do not change, but its time per member does",
        f"({pms('jacobian_forward', 4) / pms('jacobian_forward', 1):.1f}x at width 4,",
        f"{pms('jacobian_forward', 16) / pms('jacobian_forward', 1):.1f}x at width 16), while the residual and",
        "the batched LU get cheaper per member. Forward mode gives every intermediate of the residual a tangent",
        "axis of length 100: the 50 x 50 trade-cost block becomes 100 x 50 x 50 doubles (2 MB), about 9 MB of",
        "memory traffic per member and step. One member's step runs in the 8 MiB L3 cache; a chunk of c members",
        "streams c times as much through DRAM, which the two cores (and the other jobs on them) share, so the",
        "step becomes bandwidth-bound. Reverse mode moves a tenth of the bytes and keeps its cost per member at",
        "any width; at width 16 it is about as fast per member as the single forward-mode step.",
        "That is the limit on 2 cores: a batch",
        "cannot make a member's Newton step cheaper than a single solve makes it, so the best a batch does on",
        "this model is to run members one after another inside one compiled program (`lax.map`, each member",
        "with its own stopping rule: nobody waits for the slowest member, and finished members do no more linear",
        "solves). The automatic chunk does that (chunk 1 when one member's largest intermediate exceeds 1 MiB);",
        "it saves the loop's per-call dispatch and argument handling, not the cost of a member's Newton step, so",
        "the CPU time per member stays close to the loop's. Small members (Armington, a few unknowns) are",
        "chunked by hundreds and vectorise well.",
    ]
    (OUT / "engine.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
