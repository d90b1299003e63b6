"""The ``landjax`` command line.

::

    landjax --version
    landjax reproduce {all|zuo2019|cheng_liu2021|ma_ni|zhao_liu2024} --out DIR [--quick]
    landjax solve {urban_rural|quota_trade|land_debt} [model options...] --json
    landjax claims --claims FILE.csv [--estate E] --rule RULE|all --out OUT.csv

``solve`` and ``claims`` hand their remaining arguments to the model's own parser
(``landjax.models.<model>.cli_solve(argv)`` and ``landjax.allocation.claims.cli_main(argv)``),
so ``landjax solve MODEL --help`` lists that model's options.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path


def parse_pairs(items: list[str] | None, flag: str) -> dict[str, str]:
    """``["A=1", "B=x"]`` from a repeated ``--flag NAME=VALUE`` option -> ``{"A": "1", "B": "x"}``
    (whitespace around names and values dropped; a later NAME overrides an earlier one)."""
    from landjax.errors import InputError

    out: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise InputError(f"--{flag} {item!r}: expected NAME=VALUE")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


#: model name -> module providing ``cli_solve(argv: list[str]) -> int``
MODELS: dict[str, str] = {
    "urban_rural": "landjax.models.urban_rural",
    "quota_trade": "landjax.models.quota_trade",
    "land_debt": "landjax.models.land_debt",
}


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from landjax.reproduce import PAPERS, run_all

    papers = list(PAPERS) if args.paper == "all" else [args.paper]
    t0 = time.perf_counter()
    summaries = run_all(Path(args.out), quick=args.quick, papers=papers)
    failed = [p for p, s in summaries.items() if s.get("error")]
    for p, s in summaries.items():
        status = "FAILED" if s.get("error") else "ok"
        print(f"{p:15s} {status:7s} {s.get('seconds', 0.0):7.1f} s", file=sys.stderr)
    print(f"wrote {Path(args.out) / 'index.md'} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    for p in failed:
        print(f"\n--- {p} failed ---\n{summaries[p]['error']}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    from landjax import __version__
    from landjax.reproduce import PAPERS

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="landjax",
        description="Differentiable equilibrium engine for construction-land quota models.",
    )
    parser.add_argument("--version", action="version", version=f"landjax {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    rp = sub.add_parser("reproduce", help="reproduce a paper's tables and figures")
    rp.add_argument("paper", choices=["all", *PAPERS], help="paper id, or 'all'")
    rp.add_argument("--out", required=True, help="output directory (one sub-folder per paper)")
    rp.add_argument("--quick", action="store_true", help="reduced run for smoke tests")
    rp.set_defaults(func=_cmd_reproduce)

    sp = sub.add_parser("solve", help="solve one model's equilibrium (model options follow)", add_help=False)
    sp.add_argument("model", nargs="?", help=f"one of: {', '.join(MODELS)}")

    sub.add_parser("claims", help="split an estate among claimants with bankruptcy rules", add_help=False)

    if not argv:
        parser.print_help()
        return 2
    # `solve` and `claims` pass everything after the sub-command to the model's own parser.
    if argv[0] == "solve":
        if len(argv) < 2 or argv[1] in ("-h", "--help"):
            print(f"usage: landjax solve MODEL [options]\nmodels: {', '.join(MODELS)}")
            return 0 if len(argv) >= 2 else 2
        model = argv[1]
        if model not in MODELS:
            print(f"landjax solve: unknown model {model!r}; choose one of: {', '.join(MODELS)}", file=sys.stderr)
            return 2
        return int(importlib.import_module(MODELS[model]).cli_solve(argv[2:]) or 0)
    if argv[0] == "claims":
        return int(importlib.import_module("landjax.allocation.claims").cli_main(argv[1:]) or 0)

    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
