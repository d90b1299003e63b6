"""Small output helpers shared by the reproductions: markdown tables, figures, progress bars."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
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
        x = float(x)
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
    try:
        atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi, bbox_inches="tight"), mode="wb")
    finally:
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


# ------------------------------------------------------------------------------------------------
# Never lose the user's data: outputs are checked against inputs and written atomically
# ------------------------------------------------------------------------------------------------


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def check_output_file(
    path: str | os.PathLike, *, flag: str, inputs: Iterable[str | os.PathLike] = (), force: bool | None = None
) -> Path:
    """Check an output file path before any work is done (so a bad path never loses results).

    Raises `InputError` naming `flag` when the path is a directory, its folder does not exist,
    it is one of `inputs` (files or folders the command reads) or lies inside an input folder:
    a command never writes over, or into, what it read. With `force=False` an existing file is
    refused too (`force=True` replaces it; `None` leaves that check to the caller)."""
    from landjax.errors import InputError

    if not str(path).strip():
        raise InputError(f"{flag}: empty file name")
    p = Path(path)
    if p.exists() and p.is_dir():
        raise InputError(f"{flag} {str(path)!r}: is a directory; give a file name")
    if not p.parent.exists():
        raise InputError(f"{flag} {str(path)!r}: folder {str(p.parent)!r} does not exist")
    if not p.parent.is_dir():
        raise InputError(f"{flag} {str(path)!r}: {str(p.parent)!r} is not a folder")
    for src in inputs:
        s = Path(src)
        if _same_file(p, s):
            raise InputError(f"{flag} {str(path)!r}: is an input of this command; refusing to overwrite it")
        if s.is_dir():
            try:
                p.resolve().relative_to(s.resolve())
            except ValueError:
                continue
            raise InputError(
                f"{flag} {str(path)!r}: lies inside the input folder {str(src)!r}; write it somewhere else"
            )
    if force is False and p.exists():
        raise InputError(f"{flag} {str(path)!r}: file exists; choose a new name or pass --force to replace it")
    return p


def check_output_dir(path: str | os.PathLike, *, flag: str = "--out", force: bool = False) -> Path:
    """Check an output folder: an existing file is an error; a non-empty folder is refused unless
    `force` (then landjax writes its own file names into it and leaves every other file alone)."""
    from landjax.errors import InputError

    if not str(path).strip():
        raise InputError(f"{flag}: empty folder name (use . for the current folder)")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"{flag} {str(path)!r}: is an existing file, not a folder")
    if p.is_dir() and any(p.iterdir()) and not force:
        raise InputError(
            f"{flag} {str(path)!r}: folder is not empty; choose a new folder or pass --force to write into it "
            "(files of the same name are replaced; other files are left alone)"
        )
    return p


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_csv_checked(path: str | os.PathLike, *, flag: str, **kw: Any) -> pd.DataFrame:
    """`pandas.read_csv` after a check that every row has as many fields as the header.

    pandas reads a file whose rows have one field more than the header by taking the first
    column as the index, which shifts every value one column; a blank line between rows is
    dropped without a word; a repeated column name is renamed `m.1`. Each is an `InputError`
    naming the line or column here. Blank lines at the end of the file are allowed."""
    import csv

    import pandas as pd

    from landjax.errors import InputError

    encoding = kw.get("encoding", "utf-8")
    try:
        with open(path, newline="", encoding=encoding) as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            blank = None
            if header is not None:
                names = [h.strip() for h in header]
                twice = sorted({h for h in names if names.count(h) > 1})
                if twice:
                    raise InputError(
                        f"{flag} {str(path)!r}: column(s) {', '.join(map(repr, twice))} appear more than once"
                    )
                for row in reader:
                    if not row:
                        blank = blank or reader.line_num
                        continue
                    if blank is not None:
                        raise InputError(f"{flag} {str(path)!r}: line {blank} is blank (a blank line is not a row)")
                    if len(row) != len(header):
                        raise InputError(
                            f"{flag} {str(path)!r}: line {reader.line_num} has {len(row)} fields, "
                            f"the header has {len(header)}"
                        )
    except UnicodeDecodeError as exc:
        raise InputError(f"{flag} {str(path)!r}: not a {encoding} text file ({exc})") from None
    except csv.Error as exc:
        raise InputError(f"{flag} {str(path)!r}: not a readable CSV file ({exc})") from None
    return pd.read_csv(path, index_col=False, **kw)


def atomic_write(path: str | os.PathLike, write: Any, *, mode: str = "w") -> Path:
    """Write through a temporary file in the same folder, then move it into place (`os.replace`):
    a crash never leaves a half-written file. `write(fileobj)` writes the content."""
    import tempfile

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would survive the move: follow the umask
        fh: Any = os.fdopen(fd, mode) if "b" in mode else os.fdopen(fd, mode, encoding="utf-8", newline="")
        with fh:
            write(fh)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return p


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomic text write (see `atomic_write`)."""
    return atomic_write(path, lambda fh: fh.write(text))


def write_csv(df: pd.DataFrame, path: str | os.PathLike, **kw: Any) -> Path:
    """Atomic `DataFrame.to_csv` (see `atomic_write`); `index=False` unless given."""
    kw.setdefault("index", False)
    return atomic_write(path, lambda fh: df.to_csv(fh, **kw))
