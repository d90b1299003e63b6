"""The productivity draws and the grid of the Redding & Rossi-Hansberg (2017) Helpman economy.

The 900 log-productivity draws `a.csv` are read at run time from the replication data folder
(`$LANDJAX_RRH_DATA`, else `../shared/data/rrh2017` beside the repository), never copied into
landjax. They come in the authors' MATLAB order: column-major on the 30 x 30 grid, so draw `k`
sits in row `k % 30` and column `k // 30`; the first 450 draws (columns 0-14) are the West.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

import numpy as np

from landjax.errors import InputError

DRAWS_FILE = "a.csv"
ENV = "LANDJAX_RRH_DATA"


def data_dir(path: str | os.PathLike | None = None) -> Path | None:
    """Folder holding `a.csv`: `path`, else `$LANDJAX_RRH_DATA`, else `../shared/data/rrh2017`
    next to the repository or the working directory (None when none exists). A folder named by
    `path` or the variable that lacks `a.csv` is an `InputError`."""
    # a folder the user named (the argument or $LANDJAX_RRH_DATA) is used or refused, never
    # skipped for the default one in silence
    named = [(Path(path), "path")] if path is not None else []
    if not named and os.environ.get(ENV):
        named = [(Path(os.environ[ENV]), f"${ENV}")]
    for c, what in named:
        if not (c / DRAWS_FILE).is_file():
            raise InputError(f"helpman: {what}={str(c)!r}: no {DRAWS_FILE} in that folder")
        return c
    cands = []
    repo = Path(__file__).resolve().parents[3]
    cands += [repo.parent / "shared" / "data" / "rrh2017", Path.cwd().parent / "shared" / "data" / "rrh2017"]
    for c in cands:
        if (c / DRAWS_FILE).is_file():
            return c
    return None


@functools.cache
def load_draws(path: str | None = None) -> np.ndarray:
    """The 900 log-productivity draws in MATLAB (column-major) order, as float64."""
    d = data_dir(path)
    if d is None:
        raise InputError(
            f"helpman: the productivity draws {DRAWS_FILE} were not found; set {ENV} to the folder of the "
            "Redding & Rossi-Hansberg (2017) replication data (or pass Params(a=...))"
        )
    try:
        a = np.loadtxt(d / DRAWS_FILE, dtype=np.float64).reshape(-1)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"helpman: {d / DRAWS_FILE}: not a file of numbers ({exc})") from None
    if a.size != 900 or not np.all(np.isfinite(a)):
        raise InputError(f"helpman: {d / DRAWS_FILE}: expected 900 finite numbers, got {a.size}")
    a.setflags(write=False)
    return a


def side_of(n_cells: int) -> int:
    """Grid side from the number of cells (a square grid with an even side)."""
    side = math.isqrt(int(n_cells))
    if side * side != n_cells or side % 2:
        raise InputError(f"helpman: {n_cells} cells is not a square grid with an even side (30 x 30 = 900)")
    return side


@functools.cache
def geography(side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`(dist, country, row, col)` of a `side x side` grid in column-major cell order.

    `dist`: shortest paths on the grid graph with neighbours at cost 1 and diagonal neighbours at
    `sqrt(2)` (closed form on an 8-connected grid: `max(dx, dy) - min(dx, dy) + sqrt(2) min(dx, dy)`);
    `country`: 0 West (the first `side / 2` columns), 1 East."""
    k = np.arange(side * side)
    row, col = k % side, k // side
    dx = np.abs(col[:, None] - col[None, :])
    dy = np.abs(row[:, None] - row[None, :])
    lo, hi = np.minimum(dx, dy), np.maximum(dx, dy)
    dist = (hi - lo) + math.sqrt(2.0) * lo
    country = (col >= side // 2).astype(np.int32)
    for x in (dist, country, row, col):
        x.setflags(write=False)
    return dist, country, row, col
