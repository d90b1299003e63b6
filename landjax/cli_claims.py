"""`landjax claims` and `landjax claims-axioms`: the claims rules on the command line.

```text
landjax claims --claims FILE.csv [--estate E] [--rule RULE|all|R1,R2] --out OUT.csv
               [--temperature T] [--gini OUT.csv] [--plots DIR] [--force]
landjax claims-axioms [--rule RULE|all|R1,R2] [--property P|all|P1,P2] [--claims FILE.csv
               [--estate E] [--problem ID]] [--draws N] [--seed S] [--json] [--out OUT.csv] [--force]
```

FILE has columns `name, claim` and optionally `problem` and `estate` (one estate per
problem). OUT gets the columns `problem, name, claim, estate, rule, award` (for each rule, the
input rows in input order), numbers written in full precision (shortest round-trip repr). An
output never replaces the input, and an existing file only with `--force`; it is written to a
temporary name and moved into place. Bad input exits 2 with a message naming the field.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from landjax._io import check_output_dir, check_output_file, read_csv_checked, savefig, write_csv
from landjax.contract import dumps
from landjax.errors import ConvergenceError, InputError
from landjax.models.claims import (
    ALL_RULES,
    PROPERTIES,
    allocate_frame,
    axioms_table,
    gini,
    plot_lorenz,
    plot_schedules,
)


class _Parser(argparse.ArgumentParser):
    """argparse that raises `InputError` (exit 2 with our message) instead of exiting."""

    def error(self, message: str) -> Any:
        raise InputError(message)


def _check_out(path: str, flag: str, inputs: Sequence[str], force: bool) -> Path:
    return check_output_file(path, flag=flag, inputs=inputs, force=force)


def read_claims_csv(path: str) -> pd.DataFrame:
    """Read a claims table (`name, claim [, problem, estate]`); `InputError` if unreadable."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"--claims: file not found: {p}")
    if p.is_dir():
        raise InputError(f"--claims {path!r}: is a directory; give a CSV file")
    try:
        df = read_csv_checked(p, flag="--claims", skipinitialspace=True, encoding="utf-8-sig")
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"--claims: cannot read {p} as CSV ({exc})") from exc
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _parse_float(text: str | None, flag: str) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{flag}: expected a number, got {text!r}") from None


def main_claims(argv: Sequence[str] | None = None) -> int:
    """`landjax claims`: apply rules to the problems of a CSV file (see the module docstring)."""
    ap = _Parser(
        prog="landjax claims",
        description="Split an estate among claimants with claims-problem (bankruptcy) rules: the six of "
        "Zuo, Hu & Li (2019, eqs. 1-6) and APRO, RA, MO, RTalmud, DT, AV, AA.",
    )
    ap.add_argument("--claims", required=True, help="CSV with columns name, claim [, problem, estate]")
    ap.add_argument("--estate", default=None, help="estate of a single-problem file without an estate column")
    ap.add_argument("--rule", default="all", help=f"one of {', '.join(ALL_RULES)}, a comma-separated list, or 'all'")
    ap.add_argument("--out", required=True, help="output CSV (problem, name, claim, estate, rule, award)")
    ap.add_argument(
        "--temperature", default=None, help="use the smooth rules with this temperature (0: the exact rules)"
    )
    ap.add_argument("--gini", default=None, help="also write the Gini index of each problem and rule to this CSV")
    ap.add_argument(
        "--plots", default=None, help="also write Lorenz curves and schedules of awards (PNG) to this folder"
    )
    ap.add_argument("--force", action="store_true", help="replace existing output files")
    try:
        args = ap.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except InputError as exc:
        print(f"landjax claims: error: {exc}", file=sys.stderr)
        return 2
    try:
        out_path = _check_out(args.out, "--out", [args.claims], args.force)
        if args.gini and Path(args.gini).resolve() == out_path.resolve():
            raise InputError(f"--gini {args.gini!r}: is the same file as --out; give two names")
        gini_path = _check_out(args.gini, "--gini", [args.claims], args.force) if args.gini else None
        plots = check_output_dir(args.plots, flag="--plots", force=args.force) if args.plots else None
        estate = _parse_float(args.estate, "--estate")
        temperature = _parse_float(args.temperature, "--temperature")
        if temperature == 0:  # as `--option temperature=0` of `landjax solve claims`: the exact rule
            temperature = None
        df = read_claims_csv(args.claims)
        out = allocate_frame(df, args.rule, estate=estate, temperature=temperature, source=str(args.claims))
        stats = None
        if gini_path is not None or plots is not None:
            rows = []
            for (p, r), g in out.groupby(["problem", "rule"], sort=False):
                rows.append({"problem": p, "rule": r, "estate": g["estate"].iloc[0], "gini": gini(g["award"])})
            stats = pd.DataFrame(rows)
    except (InputError, ConvergenceError) as exc:
        print(f"landjax claims: error: {exc}", file=sys.stderr)
        return 2
    write_csv(out, out_path)
    if gini_path is not None and stats is not None:
        write_csv(stats, gini_path)
    if plots is not None:
        plots.mkdir(parents=True, exist_ok=True)
        rules = list(dict.fromkeys(out["rule"]))
        for p, g in out[out["rule"] == rules[0]].groupby("problem", sort=False):
            tag = str(p).replace("/", "_").replace(" ", "_")
            c = g["claim"].to_numpy()
            if g["estate"].iloc[0] > 0:
                savefig(plot_lorenz(c, g["estate"].iloc[0], rules), plots / f"lorenz_{tag}.png")
            for r in rules:
                savefig(plot_schedules(c, r, names=list(g["name"])), plots / f"schedules_{tag}_{r}.png")
    print(
        f"wrote {len(out)} rows ({out['problem'].nunique()} problem(s), {out['rule'].nunique()} rule(s)) to {out_path}",
        file=sys.stderr,
    )
    return 0


def _one_problem(df: pd.DataFrame, estate: float | None, problem: str | None, source: str) -> tuple[Any, float, list]:
    if "problem" in df.columns and df["problem"].nunique() > 1:
        if problem is None:
            raise InputError(
                f"{source}: holds {df['problem'].nunique()} problems; choose one with --problem "
                f"({', '.join(map(str, list(dict.fromkeys(df['problem']))[:10]))})"
            )
        sel = df[df["problem"].astype(str) == str(problem)]
        if len(sel) == 0:
            raise InputError(f"--problem {problem!r}: not in {source}")
        df = sel
    elif problem is not None and "problem" not in df.columns:
        raise InputError(f"--problem {problem!r}: {source} has no 'problem' column (it holds one problem)")
    elif problem is not None and str(df["problem"].iloc[0]) != str(problem):
        raise InputError(f"--problem {problem!r}: not in {source}")
    checked = allocate_frame(df, "P", estate=estate, source=source)  # validates the table
    return checked["claim"].to_numpy(), float(checked["estate"].iloc[0]), list(checked["name"])


def main_axioms(argv: Sequence[str] | None = None) -> int:
    """`landjax claims-axioms`: test rules against the properties of the literature on random
    problems (and the user's problem) and print the table rule x property."""
    ap = _Parser(
        prog="landjax claims-axioms",
        description="Check claims rules against properties (anonymity, composition, consistency, duality, ...): "
        "a search for counterexamples on random problems and on your problem.",
    )
    ap.add_argument("--rule", default="all", help="a rule, a comma-separated list, or 'all' (default)")
    ap.add_argument("--property", default="all", help=f"'all' or a comma-separated list of: {', '.join(PROPERTIES)}")
    ap.add_argument("--claims", default=None, help="CSV of your problem (name, claim [, problem, estate])")
    ap.add_argument("--estate", default=None, help="estate of your problem (without an estate column)")
    ap.add_argument("--problem", default=None, help="which problem of a multi-problem file")
    ap.add_argument("--draws", default="150", help="random problems per number of claimants (2, 3, 4, 5)")
    ap.add_argument("--seed", default="0", help="random seed")
    ap.add_argument("--json", action="store_true", help="print the table as JSON")
    ap.add_argument("--out", default=None, help="also write the long table to this CSV")
    ap.add_argument("--force", action="store_true", help="replace an existing --out file")
    try:
        args = ap.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return int(exc.code or 0)
    except InputError as exc:
        print(f"landjax claims-axioms: error: {exc}", file=sys.stderr)
        return 2
    try:
        inputs = [args.claims] if args.claims else []
        out_path = _check_out(args.out, "--out", inputs, args.force) if args.out else None
        try:
            draws, seed = int(args.draws), int(args.seed)
        except ValueError:
            raise InputError(f"--draws/--seed: expected integers, got {args.draws!r}, {args.seed!r}") from None
        if not 1 <= draws <= 100000:
            raise InputError(f"--draws: must be in [1, 100000], got {draws}")
        if not 0 <= seed < 2**63:
            raise InputError(f"--seed: must be an integer in [0, 2**63), got {seed}")
        estate = _parse_float(args.estate, "--estate")
        problem = None
        if args.claims:
            c, E, _ = _one_problem(read_claims_csv(args.claims), estate, args.problem, args.claims)
            problem = (c, E)
        elif estate is not None or args.problem is not None:
            raise InputError("--estate/--problem: need --claims")
        props: Any = "all" if args.property.strip().lower() == "all" else [p.strip() for p in args.property.split(",")]
        table = axioms_table(args.rule, props, problem=problem, draws=draws, seed=seed)
    except (InputError, ConvergenceError) as exc:
        print(f"landjax claims-axioms: error: {exc}", file=sys.stderr)
        return 2
    if out_path is not None:
        write_csv(table, out_path)
    if args.json:
        print(dumps({"rows": table.to_dict(orient="records")}))
        return 0
    wide = table.pivot(index="property", columns="rule", values="holds").reindex(
        index=list(dict.fromkeys(table["property"])), columns=list(dict.fromkeys(table["rule"]))
    )
    text = wide.map(lambda v: "yes" if v else "NO").to_string()
    print(text)
    fails = table[~table["holds"]]
    if len(fails):
        print("\ncounterexamples:")
        for r in fails.itertuples():
            print(f"  {r.rule} / {r.property} ({r.source}): {r.counterexample}")
    disagree = table[table["known"].notna() & (table["known"] != table["holds"])]
    for r in disagree.itertuples():
        print(
            f"note: {r.rule} / {r.property}: the published table says {'holds' if r.known else 'fails'}",
            file=sys.stderr,
        )
    return 0


__all__ = ["main_claims", "main_axioms", "read_claims_csv"]
