"""`landjax sweep` and `landjax sweep-merge`: a model solved at every row of a grid, on one
process, as independent shards (for scheduler job arrays) or on JAX's multi-process runtime.

```text
landjax sweep MODEL --grid GRID.csv --out DIR [--force] [--set/--option/--solver ...]
landjax sweep MODEL --grid GRID.csv --out DIR --shard I/K        # writes DIR/shard-I-of-K.csv
landjax sweep-merge DIR                                          # shards -> DIR/results.csv
landjax sweep MODEL --grid GRID.csv --out DIR --processes K      # K local processes
landjax sweep MODEL --grid GRID.csv --out DIR --coordinator HOST:PORT --num-processes K --process-id I
```

Every mode gives the same `results.csv` (same rows, same order, same bits): the grid columns,
then `converged`, `residual_norm`, `steps`, then the reported numbers under the dotted JSON
key paths of `landjax solve MODEL --json`. Slice `i` of `K` holds rows `floor(i n / K)` to
`floor((i + 1) n / K) - 1`: contiguous slices whose sizes differ by at most one (empty when
`K > n`; an empty shard still writes its file). Each member of a vmapped batch is
computed independently of the others, so splitting the grid does not change any number.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from landjax.errors import InputError

RESULTS = "results.csv"
META = "sweep.json"
ROW = "row"


def _slice(n: int, i: int, k: int) -> np.ndarray:
    """Rows of slice `i` of `k` (contiguous, sizes differ by at most one)."""
    return np.arange(n * i // k, n * (i + 1) // k)


def _grid_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def read_grid(path: str | os.PathLike) -> pd.DataFrame:
    """The grid as text (each cell parsed strictly by the model's parameter and option types)."""
    from landjax._io import read_csv_checked

    p = Path(path)
    if not p.is_file():
        raise InputError(f"--grid {str(path)!r}: no such file")
    try:
        grid = read_csv_checked(p, flag="--grid", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"--grid {str(path)!r}: not a readable CSV file ({exc})") from None
    if grid.empty:
        raise InputError(f"--grid {str(path)!r}: no rows")
    if ROW in grid.columns:
        raise InputError(f"--grid {str(path)!r}: the column name {ROW!r} is reserved")
    return grid


def _columns_help(name: str | None) -> str | None:
    """The grid columns and flags of model `name` (for `landjax sweep MODEL --help`)."""
    from landjax._cli_common import MODELS, model_spec

    if name not in MODELS:
        return None
    spec = model_spec(name)
    parts = [
        f"grid columns of {name}: parameters (--set) {', '.join(spec.Params.fields_info())}",
        f"options (--option) {', '.join(i.name for i in spec.Options.registry())}",
    ]
    if spec.Solver is not None:
        parts.append(f"solver settings (--solver) {', '.join(i.name for i in spec.Solver.registry())}")
    if spec.context_columns:
        parts.append(f"context {', '.join(spec.context_columns)}")
    text = "; ".join(parts) + "."
    inputs = [f for f in spec.flags if f.role != "output"]
    if inputs:
        text += " Model flags: " + "; ".join(f"{f.flag} ({f.help})" for f in inputs) + "."
    return text


def _parser(model: str | None = None) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="landjax sweep", description=__doc__.split("\n\n")[0], epilog=_columns_help(model)
    )
    ap.add_argument("model", help="the model (landjax solve --help lists them)")
    ap.add_argument(
        "--grid",
        required=True,
        help="CSV file: one row per solve; columns are parameters, options, solver settings or context "
        "(e.g. scenario), named as on the command line (landjax sweep MODEL --help lists them)",
    )
    ap.add_argument("--out", required=True, help="output folder (new or empty unless --force)")
    ap.add_argument("--force", action="store_true", help="write into a non-empty output folder")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="base parameter value")
    ap.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", help="base option value")
    ap.add_argument("--solver", action="append", default=[], metavar="NAME=VALUE", help="base solver setting")
    ap.add_argument("--chunk-size", type=int, default=256, help="members per vmapped batch")
    ap.add_argument("--shard", metavar="I/K", help="solve only slice I of K (0-based) into DIR/shard-I-of-K.csv")
    ap.add_argument("--processes", type=int, default=1, metavar="K", help="K local processes (jax.distributed)")
    ap.add_argument("--coordinator", metavar="HOST:PORT", help="coordinator of a multi-process job")
    ap.add_argument("--num-processes", type=int, metavar="K", help="processes in the job (default $SLURM_NTASKS)")
    ap.add_argument("--process-id", type=int, metavar="I", help="this process's index (default $SLURM_PROCID)")
    return ap


def _parse_shard(text: str) -> tuple[int, int]:
    try:
        i_txt, k_txt = text.split("/")
        i, k = int(i_txt), int(k_txt)
    except ValueError:
        raise InputError(f"--shard {text!r}: expected I/K with integers, e.g. 0/4") from None
    if k < 1 or not 0 <= i < k:
        raise InputError(f"--shard {text!r}: need 0 <= I < K")
    return i, k


def _all_converged(df: pd.DataFrame) -> bool:
    """Every row converged (true for an empty slice)."""
    return "converged" not in df.columns or bool(df["converged"].all())


def _check_modes(ns: argparse.Namespace) -> None:
    """One way of splitting the work per command: conflicting flags are an error, not ignored."""
    job = [
        f
        for f, v in (
            ("--coordinator", ns.coordinator),
            ("--num-processes", ns.num_processes),
            ("--process-id", ns.process_id),
        )
        if v is not None
    ]
    modes = [
        m
        for m, on in (
            ("--shard", bool(ns.shard)),
            ("--processes", ns.processes != 1),
            (job[0] if job else "", bool(job)),
        )
        if on
    ]
    if len(modes) > 1:
        raise InputError(f"{' and '.join(modes)}: choose one way to split the sweep")
    if ns.num_processes is not None and ns.coordinator is None:
        raise InputError("--num-processes: needs --coordinator HOST:PORT (and --process-id)")
    if ns.chunk_size < 1:
        raise InputError(f"--chunk-size {ns.chunk_size}: must be >= 1")


def _check_shard_dir(out: Path, i: int, k: int, *, force: bool) -> None:
    """A shard goes into a new folder or one holding only this sweep's shards (`--force` for
    anything else, or to replace this shard)."""
    from landjax._io import check_output_dir

    if not out.is_dir():
        check_output_dir(out, force=force)
        return
    mine = {f"shard-{i}-of-{k}.csv", f"shard-{i}-of-{k}.json"}
    others = [q.name for q in out.iterdir() if q.name not in mine and not q.name.startswith("shard-")]
    if force:
        return
    if any((out / m).exists() for m in mine):
        raise InputError(f"{out / f'shard-{i}-of-{k}.csv'}: exists; pass --force to replace it")
    if others:
        raise InputError(
            f"--out {str(out)!r}: holds files other than shards ({', '.join(sorted(others)[:3])}); "
            "choose a new folder or pass --force"
        )


def _flags_namespace(spec: Any, argv_rest: list[str]) -> argparse.Namespace:
    """The model's own flags (e.g. --data for quota_trade), parsed like `landjax solve` does."""
    ap = argparse.ArgumentParser(prog=f"landjax sweep {spec.name}", add_help=False)
    outputs = []
    for f in spec.flags:
        if f.role == "output":  # a sweep writes only results.csv: the model's output flags are off
            outputs.append(f.flag.lstrip("-").replace("-", "_"))
            continue
        if f.kind == "switch":
            ap.add_argument(f.flag, action="store_true")
        else:
            ap.add_argument(f.flag, default=f.default)
    ns, unknown = ap.parse_known_args(argv_rest)
    if unknown:
        raise InputError(f"unknown argument(s): {' '.join(unknown)}")
    for dest in outputs:
        setattr(ns, dest, None)
    return ns


def _solve_rows(ns: argparse.Namespace, extra: list[str], grid: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    from landjax._cli_common import build_inputs, model_spec, parse_pairs
    from landjax.sweep import run_sweep

    spec = model_spec(ns.model)
    if spec is None:
        raise InputError(f"model {ns.model!r} does not support sweeps")
    sets, opts, solv = parse_pairs(ns.set, "set"), parse_pairs(ns.option, "option"), parse_pairs(ns.solver, "solver")
    both = [f"--{flag} {k}" for flag, d in (("set", sets), ("option", opts), ("solver", solv)) for k in d if k in grid]
    if both:
        raise InputError(f"{', '.join(both)}: also a column of the grid, which sets it row by row; give it once")
    params, options, solver = build_inputs(spec, sets, opts, solv)
    context = spec.prepare(_flags_namespace(spec, extra)) if spec.prepare is not None else {}
    if len(rows) == 0:  # more slices than rows: an empty slice still writes its (empty) file
        return pd.DataFrame({ROW: np.asarray(rows, dtype=int), **{c: [] for c in grid.columns}})
    part = grid.iloc[rows]
    df = run_sweep(spec, part, params, options, solver=solver, chunk_size=ns.chunk_size, **context)
    df.insert(0, ROW, rows)
    return df


def _settings(ns: argparse.Namespace, extra: list[str]) -> dict[str, Any]:
    """The base settings every shard of one sweep must share (checked by `sweep-merge`)."""
    return {"set": list(ns.set), "option": list(ns.option), "solver": list(ns.solver), "flags": list(extra)}


def _meta(ns: argparse.Namespace, extra: list[str], grid_path: Path, n: int, k: int, shard: Path) -> dict[str, Any]:
    return {
        "model": ns.model,
        "grid": str(grid_path),
        "grid_sha256": _grid_hash(grid_path),
        "rows": n,
        "slices": k,
        "settings": _settings(ns, extra),
        "shard_sha256": hashlib.sha256(shard.read_bytes()).hexdigest(),
    }


def _refuse_grid(targets: list[Path], grid_path: Path) -> None:
    """No output of a sweep may be its grid file (not even with --force)."""
    for t in targets:
        if t.resolve() == grid_path or (t.exists() and os.path.samefile(t, grid_path)):
            raise InputError(f"--out: would overwrite the grid file {str(grid_path)!r}")


def _finish(out: Path, df: pd.DataFrame) -> None:
    from landjax._io import write_csv

    write_csv(df.sort_values(ROW).drop(columns=[ROW]), out / RESULTS)


def main_sweep(argv: list[str]) -> int:
    """`landjax sweep`: exit 0 when every row converged, 1 when some rows failed (flagged in the
    file), 2 on bad input."""
    from landjax._io import atomic_write, check_output_dir, write_csv

    ap = _parser(next((a for a in argv if not a.startswith("-")), None))
    try:
        ns, extra = ap.parse_known_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        if not ns.out.strip():
            raise InputError("--out: empty folder name (use . for the current folder)")
        grid_path = Path(ns.grid).resolve()
        grid = read_grid(grid_path)
        out = Path(ns.out)
        n = len(grid)
        _check_modes(ns)
        k_all = ns.num_processes or ns.processes
        targets = [out / RESULTS] + [out / f".part-{j}-of-{k_all}.csv" for j in range(k_all)]
        if ns.shard:
            i_s, k_s = _parse_shard(ns.shard)
            targets += [out / f"shard-{i_s}-of-{k_s}.csv", out / f"shard-{i_s}-of-{k_s}.json"]
        _refuse_grid(targets, grid_path)
        if ns.coordinator is not None or ns.process_id is not None:
            try:
                return _run_process(ns, extra, grid, grid_path, out)
            except InputError:
                raise
            except Exception as exc:  # a failed process must not leave the others waiting silently
                print(f"landjax sweep: process {ns.process_id}: {type(exc).__name__}: {exc}", file=sys.stderr)
                return 1
        if ns.processes < 1:
            raise InputError(f"--processes {ns.processes}: must be >= 1")
        if ns.processes > 1:
            check_output_dir(out, force=ns.force)
            return _spawn(ns, argv, out)
        if ns.shard:
            i, k = _parse_shard(ns.shard)
            _check_shard_dir(out, i, k, force=ns.force)
            out.mkdir(parents=True, exist_ok=True)
            target = out / f"shard-{i}-of-{k}.csv"
            df = _solve_rows(ns, extra, grid, _slice(n, i, k))
            write_csv(df, target)
            meta = _meta(ns, extra, grid_path, n, k, target)
            atomic_write(out / f"shard-{i}-of-{k}.json", lambda fh: json.dump(meta, fh, indent=2))
            print(f"wrote {target} ({len(df)} rows)", file=sys.stderr)
            return 0 if _all_converged(df) else 1
        check_output_dir(out, force=ns.force)
        df = _solve_rows(ns, extra, grid, np.arange(n))
    except InputError as exc:
        print(f"landjax sweep: {exc}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    _finish(out, df)
    n_ok = int(df["converged"].sum())
    print(f"wrote {out / RESULTS}: {n_ok}/{n} rows converged", file=sys.stderr)
    return 0 if n_ok == n else 1


def main_merge(argv: list[str]) -> int:
    """`landjax sweep-merge DIR`: the shards of a sharded sweep -> `DIR/results.csv`."""
    ap = argparse.ArgumentParser(prog="landjax sweep-merge", description="assemble the shards of a sweep")
    ap.add_argument("dir", help="the folder holding shard-I-of-K.csv files")
    ap.add_argument("--force", action="store_true", help="replace an existing results.csv")
    try:
        ns = ap.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        df = merge_shards(Path(ns.dir), force=ns.force)
    except InputError as exc:
        print(f"landjax sweep-merge: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {Path(ns.dir) / RESULTS} ({len(df)} rows)", file=sys.stderr)
    return 0 if _all_converged(df) else 1


def _read_meta(p: Path) -> dict[str, Any]:
    try:
        m = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{p}: not a readable shard description ({exc})") from None
    need = ("model", "grid_sha256", "rows", "slices")
    if not isinstance(m, dict) or any(k not in m for k in need):
        raise InputError(f"{p}: not a shard description of landjax sweep (needs {', '.join(need)})")
    return m


def merge_shards(folder: Path, *, force: bool = False) -> pd.DataFrame:
    """Check that every shard of one sweep is present and consistent, then write `results.csv`.

    Consistent: the same model, grid (its hash), number of slices and base settings
    (`--set/--option/--solver` and the model's flags) in every shard, each shard file unchanged
    since it was written (its hash), and together the shards cover every row once."""
    if not folder.is_dir():
        raise InputError(f"{str(folder)!r}: no such folder")
    csvs = sorted(folder.glob("shard-*-of-*.csv"))
    metas = sorted(folder.glob("shard-*-of-*.json"))
    if not metas and not csvs:
        raise InputError(f"{str(folder)!r}: no shard-I-of-K files")
    lone = sorted({p.stem for p in csvs} ^ {p.stem for p in metas})
    if lone:
        raise InputError(f"{str(folder)!r}: {', '.join(lone)}: the .csv and its .json go together; one is missing")
    info = {p.stem: _read_meta(p) for p in metas}
    ks = {m["slices"] for m in info.values()}
    hashes = {m["grid_sha256"] for m in info.values()}
    settings = {json.dumps(m.get("settings"), sort_keys=True) for m in info.values()}
    if len(ks) != 1 or len(hashes) != 1 or len({m["model"] for m in info.values()}) != 1:
        raise InputError(f"{str(folder)!r}: shards of different sweeps (models, grids or K differ)")
    if len(settings) != 1:
        raise InputError(f"{str(folder)!r}: shards run with different --set/--option/--solver or model flags")
    k = ks.pop()
    missing = [i for i in range(k) if f"shard-{i}-of-{k}" not in info]
    if missing:
        raise InputError(f"{str(folder)!r}: missing shard(s) {', '.join(f'{i}-of-{k}' for i in missing)}")
    if (folder / RESULTS).exists() and not force:
        raise InputError(f"{folder / RESULTS}: exists; pass --force to replace it")
    parts = []
    for i in range(k):
        p = folder / f"shard-{i}-of-{k}.csv"
        want = info[p.stem].get("shard_sha256")
        if want is not None and hashlib.sha256(p.read_bytes()).hexdigest() != want:
            raise InputError(f"{p}: changed since the sweep wrote it (its hash differs from {p.stem}.json)")
        try:
            parts.append(pd.read_csv(p, dtype=str, keep_default_na=False))
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(f"{p}: not a readable shard ({exc})") from None
    full = [q for q in parts if len(q)]
    columns = {tuple(q.columns) for q in full}
    if len(columns) > 1 or any(ROW not in q.columns or "converged" not in q.columns for q in full):
        raise InputError(f"{str(folder)!r}: the shards do not have the same columns (row, grid, results)")
    try:
        df = _gather(parts)
    except (KeyError, ValueError):
        raise InputError(f"{str(folder)!r}: a shard's {ROW!r} column is not a list of row numbers") from None
    n = info[f"shard-0-of-{k}"]["rows"]
    if sorted(df[ROW].tolist()) != list(range(n)):
        raise InputError(f"{str(folder)!r}: the shards do not cover rows 0..{n - 1} exactly once")
    if not df["converged"].isin(["True", "False"]).all():
        raise InputError(f"{str(folder)!r}: a shard's 'converged' column holds values other than True/False")
    text = _write_gathered(folder, df)
    text["converged"] = text["converged"].map({"True": True, "False": False})
    return text


def _gather(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Parts read as text, concatenated (empty parts add no rows) with the row column as integers."""
    df = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    df[ROW] = df[ROW].astype(int)
    return df


def _write_gathered(out: Path, df: pd.DataFrame) -> pd.DataFrame:
    """`out/results.csv` from gathered parts in row order; the parts hold the numbers as text
    already (full precision), so the text is written unchanged."""
    from landjax._io import atomic_write

    text = df.sort_values(ROW).drop(columns=[ROW])
    atomic_write(out / RESULTS, lambda fh: text.to_csv(fh, index=False))
    return text


# ------------------------------------------------------------------------------------------------
# the multi-process runtime
# ------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spawn(ns: argparse.Namespace, argv: list[str], out: Path) -> int:
    """Start `--processes K` local processes of one jax.distributed job and wait for them."""
    k = ns.processes
    port = _free_port()
    base = [a for a in argv]
    # drop --processes K (both spellings) from the children's command line
    clean: list[str] = []
    skip = False
    for a in base:
        if skip:
            skip = False
            continue
        if a == "--processes":
            skip = True
            continue
        if a.startswith("--processes="):
            continue
        clean.append(a)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, LANDJAX_PROGRESS=os.environ.get("LANDJAX_PROGRESS", "1"))
    procs = []
    for i in range(k):
        cmd = [sys.executable, "-m", "landjax", "sweep", *clean, "--force"]
        cmd += ["--coordinator", f"127.0.0.1:{port}", "--num-processes", str(k), "--process-id", str(i)]
        procs.append(subprocess.Popen(cmd, env=env))
    codes = [p.wait() for p in procs]
    if any(c == 2 for c in codes):
        return 2
    if not (out / RESULTS).exists():
        print("landjax sweep: the processes did not produce results.csv", file=sys.stderr)
        return 1
    return max(codes)


def _run_process(ns: argparse.Namespace, extra: list[str], grid: pd.DataFrame, grid_path: Path, out: Path) -> int:
    """One process of a jax.distributed job: solve this process's slice; process 0 gathers."""
    import jax

    from landjax._io import write_csv

    if ns.num_processes is None and "SLURM_NTASKS" in os.environ:  # srun: one process per task
        ns.num_processes = int(os.environ["SLURM_NTASKS"])
    if ns.process_id is None and "SLURM_PROCID" in os.environ:
        ns.process_id = int(os.environ["SLURM_PROCID"])
    if ns.coordinator is None or ns.num_processes is None or ns.process_id is None:
        raise InputError("--coordinator, --num-processes and --process-id go together")
    k, i = ns.num_processes, ns.process_id
    if k < 1 or not 0 <= i < k:
        raise InputError(f"--process-id {i}: need 0 <= I < --num-processes {k}")
    # gloo: CPU collectives across processes (the results are handed over as files, so the sweep
    # itself only needs the coordination service's barrier)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=ns.coordinator, num_processes=k, process_id=i, initialization_timeout=600
    )
    try:
        if i == 0:
            from landjax._io import check_output_dir

            check_output_dir(out, force=ns.force)
        out.mkdir(parents=True, exist_ok=True)
        n = len(grid)
        df = _solve_rows(ns, extra, grid, _slice(n, i, k))
        part = out / f".part-{i}-of-{k}.csv"
        write_csv(df, part)
        _barrier("landjax-sweep-parts")
        if i == 0:
            parts = [out / f".part-{j}-of-{k}.csv" for j in range(k)]
            _wait_for(parts)
            frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in parts]
            text = _write_gathered(out, _gather(frames))
            for p in parts:
                p.unlink()
            n_ok = int((text["converged"] == "True").sum())
            print(f"wrote {out / RESULTS}: {n_ok}/{n} rows converged ({k} processes)", file=sys.stderr)
        _barrier("landjax-sweep-done")
        return 0 if _all_converged(df) else 1
    finally:
        jax.distributed.shutdown()


def _barrier(name: str, timeout_s: float = 600.0) -> None:
    """Wait until every process of the job reaches `name`: the barrier of jax.distributed's
    coordination service (no device collective is needed to hand over files)."""
    from jax._src import distributed

    client = distributed.global_state.client
    if client is None:  # pragma: no cover - single process
        return
    client.wait_at_barrier(name, int(timeout_s * 1000))


def _wait_for(paths: list[Path], timeout: float = 60.0) -> None:
    t0 = time.monotonic()
    while not all(p.exists() for p in paths):  # a shared file system may show files late
        if time.monotonic() - t0 > timeout:
            raise InputError(f"sweep: parts missing after {timeout:.0f} s: {[str(p) for p in paths if not p.exists()]}")
        time.sleep(0.1)
