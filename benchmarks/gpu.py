"""GPU against CPU, side by side, on the same runs (issue 17).

1. The quota-trade batch of 10^4 counterfactuals (N = 285, the synthetic China-like dataset; the
   scenario draws of ``benchmarks/quota_trade.py``), one vmapped batch.
2. 10^5 random draws of the Table 4 search (``landjax.allocation.quota_rules.random_search``).
3. One N = 2,800 quota-trade solve and its gradient (synthetic county-scale dataset).

Each part runs on the first GPU and on the CPU (compiled once, then timed); a part that fails is
reported in the table, never fatal. Writes ``benchmarks/results/gpu.md``: the device name,
solves per second and the GPU/CPU ratio. Without a GPU the file says ``not run: no GPU available``
and nothing else (never an estimate).

    python benchmarks/gpu.py [--batch 10000] [--draws 100000] [--n 2800]
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import landjax  # noqa: E402,F401

OUT = Path(__file__).resolve().parent / "results" / "gpu.md"
NO_GPU = "not run: no GPU available\n"


def _gpus() -> list:
    try:
        return list(jax.devices("gpu"))
    except RuntimeError:
        return []


def _timed(fn, repeats: int = 3) -> float:
    jax.block_until_ready(fn())  # compile and warm up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t0)
    return best


def part_batch(n: int):
    from quota_trade import shocks_for

    from landjax.data.china import load_dataset
    from landjax.models import quota_trade as M

    base = M.build_baseline(load_dataset("china_synthetic"))
    draws = jnp.asarray(np.random.default_rng(0).uniform([0.1, 0.5, 0.5], [1.0, 1.5, 1.5], size=(n, 3)))
    one = shocks_for(base, draws)
    run = jax.jit(jax.vmap(lambda d: M.solve(base, one(d), throw=False)))
    return n, lambda: run(draws)


def part_table4(n: int):
    from landjax.allocation import quota_rules as q

    problem = q.table4_problem()
    return n, lambda: q.random_search(problem, n, seed=0).values if hasattr(q, "random_search") else None


def part_county(n: int):
    from quota_trade import SCEN

    from landjax.data.china import load_dataset
    from landjax.models import quota_trade as M
    from landjax.scenarios import quota as Q

    base = M.build_baseline(load_dataset(f"synthetic:0:{n}"))

    def total(share):
        sh = Q.compile_scenario(base, SCEN, share=share)
        eq = M.solve(base, sh, throw=False)
        return sum(jnp.sum(leaf) for leaf in jax.tree_util.tree_leaves(eq) if jnp.issubdtype(leaf.dtype, jnp.floating))

    f = jax.jit(jax.value_and_grad(total))
    return 1, lambda: f(jnp.asarray(0.5))


PARTS = {
    "quota-trade batch (N = 285)": part_batch,
    "Table 4 random draws": part_table4,
    "N = 2,800 solve + gradient": part_county,
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--draws", type=int, default=100_000)
    ap.add_argument("--n", type=int, default=2800)
    ap.add_argument("--out", default=str(OUT))
    a = ap.parse_args()
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    gpus = _gpus()
    if not gpus:
        out.write_text(NO_GPU)
        print(NO_GPU, end="")
        return 0
    sizes = {"quota-trade batch (N = 285)": a.batch, "Table 4 random draws": a.draws, "N = 2,800 solve + gradient": a.n}
    cpu = jax.devices("cpu")[0]
    lines = [
        "# GPU against CPU",
        "",
        f"GPU: {gpus[0].device_kind} ({len(gpus)} visible); CPU: {cpu.device_kind}. `python benchmarks/gpu.py`.",
        "",
        "| part | size | GPU solves/s | CPU solves/s | GPU/CPU |",
        "|---|---|---|---|---|",
    ]
    for name, make in PARTS.items():
        rate = {}
        errors = []
        for label, dev in (("gpu", gpus[0]), ("cpu", cpu)):
            try:
                with jax.default_device(dev):
                    count, fn = make(sizes[name])
                    rate[label] = count / _timed(fn)
            except Exception as exc:  # noqa: BLE001  one failing part is reported, not fatal
                traceback.print_exc()
                errors.append(f"{label}: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
        g, c = rate.get("gpu"), rate.get("cpu")
        cells = [
            name,
            f"{sizes[name]:,}",
            f"{g:,.1f}" if g else "failed",
            f"{c:,.1f}" if c else "failed",
            f"{g / c:.2f}" if g and c else "—",
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if errors:
            lines.append(f"| ↳ error | {'; '.join(errors).replace('|', '/')} | | | |")
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
