"""The `landjax` command line, built from the model contract (`landjax.contract`).

```text
landjax --version
landjax reproduce {all|PAPER} --out DIR [--quick] [--force]
landjax solve MODEL [--set NAME=VALUE]... [--option NAME=VALUE]... [--solver NAME=VALUE]... [--json]
landjax options [MODEL] [--json | --markdown]
landjax sweep MODEL --grid GRID.csv --out DIR [--shard I/K | --processes K]
landjax sweep-merge DIR
landjax claims --claims FILE.csv [--estate E] --rule RULE|all|R1,R2 --out OUT.csv
landjax claims-axioms [--rule RULE|all] [--claims FILE.csv --estate E] [--json]
```

`landjax solve MODEL --help` lists the model's parameters, options and flags. Every command exits
0 on success, 1 when no equilibrium was found (the JSON says why) and 2 on bad input (the message
names the field). Outputs never overwrite an input; files are written to a temporary name and moved
into place. Nothing heavy is imported before it is needed, and compiled programs are kept in JAX's
persistent compilation cache (`LANDJAX_CACHE_DIR`; see `enable_compilation_cache`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from landjax._cache import enable_compilation_cache
from landjax._cli_common import MODELS, PAPERS, build_inputs, model_spec, parse_pairs

# ------------------------------------------------------------------------------------------------
# landjax solve MODEL
# ------------------------------------------------------------------------------------------------


def _solve_parser(spec: Any) -> argparse.ArgumentParser:
    pinfo = spec.Params.fields_info()
    ap = argparse.ArgumentParser(
        prog=f"landjax solve {spec.name}",
        description=f"{spec.title}. Parameters (--set): {', '.join(pinfo)}. Options (--option): "
        + "; ".join(f"{i.name} in {{{i.allowed()}}}" for i in spec.Options.registry())
        + (
            ". Solver settings (--solver): " + ", ".join(i.name for i in spec.Solver.registry())
            if spec.Solver is not None
            else ""
        ),
    )
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="set a parameter (vectors: v1,v2)")
    ap.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", help="choose an option")
    ap.add_argument("--solver", action="append", default=[], metavar="NAME=VALUE", help="a solver setting")
    ap.add_argument("--json", action="store_true", help="print the result as JSON (the default output)")
    for f in spec.flags:
        if f.kind == "switch":
            ap.add_argument(f.flag, action="store_true", help=f.help)
        else:
            ap.add_argument(f.flag, default=f.default, help=f.help)
    if any(f.role == "output" for f in spec.flags):
        ap.add_argument("--force", action="store_true", help="replace existing output files")
    return ap


def _cmd_solve(argv: list[str]) -> int:
    from landjax.errors import InputError

    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: landjax solve MODEL [options]\nmodels: {', '.join(MODELS)}")
        return 0 if argv else 2
    name = argv[0]
    try:
        spec = model_spec(name)
    except InputError as exc:
        print(f"landjax solve: {exc}", file=sys.stderr)
        return 2
    ap = _solve_parser(spec)
    try:
        ns = ap.parse_args(argv[1:])
    except SystemExit as exc:
        return int(exc.code or 0)
    from landjax.contract import dumps

    try:
        params, options, solver = build_inputs(
            spec, parse_pairs(ns.set, "set"), parse_pairs(ns.option, "option"), parse_pairs(ns.solver, "solver")
        )
        context = spec.prepare(ns) if spec.prepare is not None else {}
        result = spec.solve(params, options, solver=solver, throw=False, **context)
        extra = spec.write_outputs(result, context, ns) if spec.write_outputs is not None else {}
    except InputError as exc:
        print(f"landjax solve {name}: {exc}", file=sys.stderr)
        if ns.json:
            print(dumps({"error": str(exc)}))
        return 2
    out = result.to_dict()
    out.update(extra or {})
    print(dumps(out))
    if not result.ok:
        print(f"landjax solve {name}: {result.message}", file=sys.stderr)
    return 0 if result.ok else 1


# ------------------------------------------------------------------------------------------------
# landjax options [MODEL]
# ------------------------------------------------------------------------------------------------


def _cmd_options(ns: argparse.Namespace) -> int:
    from landjax.contract import dumps, options_table
    from landjax.errors import InputError

    try:
        specs = [model_spec(ns.model)] if ns.model else [model_spec(m) for m in MODELS]
        specs = [s for s in specs if s is not None]
    except InputError as exc:
        print(f"landjax options: {exc}", file=sys.stderr)
        return 2
    if ns.markdown:
        print(options_table(specs), end="")
        return 0
    rows = [r for s in specs for r in s.options_rows()]
    if ns.json:
        print(dumps(rows if ns.model is None else {"model": ns.model, "options": rows}))
        return 0
    for s in specs:
        print(f"{s.name}: {s.title}")
        for r in s.options_rows():
            print(f"  {r['option']} = {r['default']}  [{r['choices']}]  {r['why']} ({r['ref']})")
    return 0


# ------------------------------------------------------------------------------------------------
# landjax reproduce
# ------------------------------------------------------------------------------------------------


def _cmd_reproduce(ns: argparse.Namespace) -> int:
    from landjax.errors import InputError
    from landjax.reproduce import PAPERS as REGISTERED
    from landjax.reproduce import check_out, run_all

    papers = list(REGISTERED) if ns.paper == "all" else [ns.paper]
    try:
        check_out(ns.out, papers, force=ns.force)
    except InputError as exc:
        print(f"landjax reproduce: {exc}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    summaries = run_all(Path(ns.out), quick=ns.quick, papers=papers)
    failed = [p for p, s in summaries.items() if s.get("error")]
    for p, s in summaries.items():
        status = "FAILED" if s.get("error") else "ok"
        print(f"{p:15s} {status:7s} {s.get('seconds', 0.0):7.1f} s", file=sys.stderr)
    print(f"wrote {Path(ns.out) / 'index.md'} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    for p in failed:
        print(f"\n--- {p} failed ---\n{summaries[p]['error']}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from landjax import __version__

    parser = argparse.ArgumentParser(
        prog="landjax", description="Differentiable equilibrium engine for construction-land quota models."
    )
    parser.add_argument("--version", action="version", version=f"landjax {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    rp = sub.add_parser("reproduce", help="reproduce a paper's tables and figures")
    rp.add_argument("paper", choices=["all", *PAPERS], help="paper id, or 'all'")
    rp.add_argument(
        "--out",
        required=True,
        help="output folder (one sub-folder per paper): new, empty, or holding only other papers' reproductions",
    )
    rp.add_argument("--quick", action="store_true", help="reduced run for smoke tests")
    rp.add_argument("--force", action="store_true", help="write into a non-empty output folder")
    rp.set_defaults(func=_cmd_reproduce)

    sub.add_parser("solve", help="solve one model (landjax solve MODEL --help)", add_help=False)

    op = sub.add_parser("options", help="list the models' options (the ambiguity register)")
    op.add_argument("model", nargs="?", choices=list(MODELS), help="one model (default: all)")
    g = op.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="JSON output")
    g.add_argument("--markdown", action="store_true", help="markdown (docs/ambiguities.md)")
    op.set_defaults(func=_cmd_options)

    sub.add_parser("sweep", help="solve a model at every row of a grid (landjax sweep MODEL --help)", add_help=False)
    sub.add_parser("sweep-merge", help="assemble the shards of a sharded sweep", add_help=False)
    sub.add_parser("claims", help="split an estate among claimants with bankruptcy rules", add_help=False)
    sub.add_parser("claims-axioms", help="check claims rules against the axioms of the literature", add_help=False)

    if not argv:
        parser.print_help()
        return 2
    if argv[0] not in ("-h", "--help", "--version"):
        enable_compilation_cache()
    if argv[0] == "solve":
        return _cmd_solve(argv[1:])
    if argv[0] in ("sweep", "sweep-merge"):
        from landjax import sweep_cli

        return sweep_cli.main_sweep(argv[1:]) if argv[0] == "sweep" else sweep_cli.main_merge(argv[1:])
    if argv[0] in ("claims", "claims-axioms"):
        from landjax import cli_claims

        return int((cli_claims.main_claims if argv[0] == "claims" else cli_claims.main_axioms)(argv[1:]) or 0)
    ns = parser.parse_args(argv)
    if not getattr(ns, "func", None):
        parser.print_help()
        return 2
    return int(ns.func(ns) or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
