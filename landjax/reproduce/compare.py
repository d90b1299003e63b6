"""The one comparison schema of every reproduction: `comparison.csv`.

Each paper's reproduction writes `out/<paper>/comparison.csv` with exactly the columns
`COLUMNS`, one row per published number the report compares:

* `quantity`: the published table's `quantity` for the number (see
  `landjax.reproduce.published`), followed by `"; "` and a qualifier when the same number is
  compared more than once (e.g. `"; engine calibrate, best fit"`);
* `paper`: the published number, read from the paper's published table by its key (never typed
  in a reproduction module);
* `ours`: our number;
* `gap`: `ours - paper`;
* `options`: the option settings behind `ours` (`"default"` where every option is at its
  default);
* `converged`: whether every solve behind `ours` converged (`True` for exact formulas).

Build rows with `row`, the table with `frame`, write it with `write` and show it
in a report with `markdown`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from landjax._io import markdown_table, write_csv
from landjax.reproduce import published as pub

#: the columns of every ``comparison.csv``, in order
COLUMNS = ("quantity", "paper", "ours", "gap", "options", "converged")
#: the file every reproduction writes
FILENAME = "comparison.csv"
#: separator between the published quantity and a qualifier in ``quantity``
QUALIFIER_SEP = "; "


def row(
    paper: str,
    key: str,
    ours: Any,
    *,
    options: str = "default",
    converged: Any = True,
    qualifier: str | None = None,
) -> dict[str, Any]:
    """One comparison row: published number `key` of `paper` against `ours`.

    **Arguments:**

    - `paper`: paper id (a published table of `landjax.reproduce.published`).
    - `key`: the key of the published number.
    - `ours`: our number (converted to float).
    - `options`: the option settings behind `ours`; `"default"` where default.
    - `converged`: whether the solve(s) behind `ours` converged.
    - `qualifier`: appended to the published quantity after `"; "` (how `ours` was obtained)
      when one published number is compared more than once.

    **Returns:** a dict with the keys `COLUMNS`, `gap = ours - paper`.
    """
    p = pub.value(paper, key)
    o = float(ours)
    q = pub.quantity(paper, key)
    if qualifier:
        q = f"{q}{QUALIFIER_SEP}{qualifier}"
    return {
        "quantity": q,
        "paper": p,
        "ours": o,
        "gap": o - p,
        "options": str(options),
        "converged": bool(converged),
    }


def frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """The comparison table of `rows` (from `row`) with exactly the columns `COLUMNS`."""
    df = pd.DataFrame(list(rows), columns=list(COLUMNS))
    df["converged"] = df["converged"].astype(bool)
    return df


def write(df: pd.DataFrame, folder: str | Path) -> Path:
    """Write `df` (from `frame`) to `folder/comparison.csv` (numbers to 10 significant digits)."""
    if tuple(df.columns) != COLUMNS:
        raise ValueError(f"comparison columns {list(df.columns)}, expected {list(COLUMNS)}")
    return write_csv(df, Path(folder) / FILENAME, float_format="%.10g")


def markdown(df: pd.DataFrame, digits: int = 4) -> str:
    """The comparison table as a markdown table (paper vs ours) for a report."""
    return markdown_table(df, digits=digits)


__all__ = ["COLUMNS", "FILENAME", "QUALIFIER_SEP", "row", "frame", "write", "markdown"]
