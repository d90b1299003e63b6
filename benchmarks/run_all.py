"""Run the benchmarks and assemble ``benchmarks/RESULTS.md`` from ``benchmarks/results/*.md``.

    python benchmarks/run_all.py                 # run every benchmark script, then assemble
    python benchmarks/run_all.py --assemble-only # only rebuild RESULTS.md from the fragments
    python benchmarks/run_all.py --only engine_batch claims_throughput

Each script writes its own fragment ``benchmarks/results/<topic>.md`` (machine and date inside).
The heavy 10^6-draw baseline (optimal_allocation.py) takes long; run it on its own.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "engine_overhead",
    "engine_startup",
    "engine_batch",
    "claims_throughput",
    "urban_rural",
    "quota_trade",
    "quota_trade_call",
    "quota_trade_profile",
    "land_debt_transition",
    "optimal_allocation",
]
ORDER = [
    "engine",
    "engine_overhead",
    "engine_startup",
    "claims",
    "urban_rural",
    "quota_trade",
    "quota_trade_call",
    "quota_trade_profile",
    "optimal_allocation",
    "optimal_allocation_seeds",
    "land_debt",
    "helpman",
    "gpu",
]


def assemble() -> Path:
    frags = {p.stem: p for p in (HERE / "results").glob("*.md")}
    names = [n for n in ORDER if n in frags] + sorted(n for n in frags if n not in ORDER)
    parts = [
        "# Benchmark results",
        "",
        "Assembled by `python benchmarks/run_all.py --assemble-only` from `benchmarks/results/*.md`;",
        "each section names its command, machine and date. Timings are wall-clock seconds; ratios compare",
        "methods measured side by side in one run. No speed goal is asserted in the tests.",
        "",
    ]
    for n in names:
        parts += [frags[n].read_text().strip(), ""]
    out = HERE / "RESULTS.md"
    out.write_text("\n".join(parts))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assemble-only", action="store_true")
    ap.add_argument("--only", nargs="*", default=None)
    a = ap.parse_args(argv)
    failed = []
    if not a.assemble_only:
        for s in a.only or SCRIPTS:
            path = HERE / f"{s}.py"
            if not path.exists():
                print(f"skip {s}: {path} not found", file=sys.stderr)
                continue
            print(f"== {s}", file=sys.stderr)
            if subprocess.run([sys.executable, str(path)]).returncode != 0:
                failed.append(s)
    print(f"wrote {assemble()}", file=sys.stderr)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
