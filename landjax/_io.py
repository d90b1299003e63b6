"""Small output helpers shared by the reproductions: markdown tables, figures, progress bars."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def fmt_number(x: Any, digits: int = 4) -> str:
    """Format a number compactly for a report table (NaN and None print as an em dash)."""
    if x is None:
        return "—"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        if math.isnan(x):
            return "—"
        if x == 0:
            return "0"
        if abs(x) >= 1e5 or abs(x) < 1e-3:
            return f"{x:.{digits}g}"
        return f"{x:.{digits}f}".rstrip("0").rstrip(".") if "." in f"{x:.{digits}f}" else f"{x}"
    return str(x)


def markdown_table(df: pd.DataFrame, digits: int = 4, index: bool = False) -> str:
    """Render a DataFrame as a GitHub markdown table without optional dependencies."""
    if index:
        df = df.reset_index()
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        cells = [fmt_number(v, digits).replace("|", "\\|").replace("\n", " ") for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ensure_dir(path: str | os.PathLike) -> Path:
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    return p


def pyplot():
    """Return matplotlib.pyplot with the non-interactive Agg backend selected."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def savefig(fig: Any, path: str | os.PathLike, dpi: int = 130) -> Path:
    """Save a figure as PNG and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return path


def progress_enabled() -> bool:
    """Progress bars are on unless LANDJAX_PROGRESS=0 (tests set it off)."""
    return os.environ.get("LANDJAX_PROGRESS", "1") not in ("0", "false", "no")


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "", **kw: Any):
    """A tqdm progress bar on stderr, silenced when LANDJAX_PROGRESS=0."""
    from tqdm.auto import tqdm

    return tqdm(
        iterable,
        total=total,
        desc=desc,
        disable=not progress_enabled(),
        file=sys.stderr,
        dynamic_ncols=True,
        leave=False,
        **kw,
    )
