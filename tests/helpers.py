"""Helpers shared by the tests (import as ``from helpers import ...``)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


NOTEBOOKS = REPO / "notebooks"
#: numbers followed by a time unit (timings differ from run to run) and memory addresses
_VOLATILE = re.compile(r"\d+(\.\d+)?(e[-+]?\d+)?\s*(s|ms|us|µs|seconds|sec|min)\b|0x[0-9a-f]+")


def run_notebook(name: str, timeout: int = 900) -> Any:
    """Execute ``notebooks/<name>`` top to bottom in a fresh kernel; any cell error fails.

    The notebook runs with the repository root as working directory and progress bars off.
    Returns the executed notebook (the file on disk is not changed).
    """
    import nbformat
    from nbclient import NotebookClient

    path = NOTEBOOKS / name
    nb = nbformat.read(path, as_version=4)
    os.environ["LANDJAX_PROGRESS"] = "0"
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(REPO)}})
    client.execute()
    return nb


def text_outputs(nb: Any) -> list[list[str]]:
    """The text each code cell printed or returned (stdout and text/plain), with timings and memory
    addresses masked: what a stored notebook is compared on."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        texts = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                texts.append(out.get("text", ""))
            elif out.get("output_type") in ("execute_result", "display_data"):
                t = out.get("data", {}).get("text/plain")
                if t and "<Figure" not in t:
                    texts.append(t if isinstance(t, str) else "".join(t))
        cells.append([_VOLATILE.sub("<t>", t) for t in texts])
    return cells


#: a number as printed: sign, digits, optional fraction and exponent (words such as `x1` are not numbers)
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")


def _printed_ulp(token: str) -> float:
    """One unit in the last printed digit of a decimal number (0 for an integer: compared exactly)."""
    mant, _, exp = token.lower().partition("e")
    if "." not in mant and not exp:
        return 0.0
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    return 10.0 ** (int(exp or 0) - decimals)


def text_difference(a: str, b: str, rtol: float = 1e-9, atol: float = 1e-12) -> str | None:
    """Where two printed outputs differ, or None when they agree: the words must be identical and
    the numbers equal to `rtol`/`atol` or to one unit in their last printed digit (floating-point
    round-off differs between CPUs; integers such as step counts must match exactly)."""
    wa, wb = _NUMBER.split(a), _NUMBER.split(b)
    if wa != wb:
        return f"text differs: {a!r} vs {b!r}"
    for x, y in zip(_NUMBER.findall(a), _NUMBER.findall(b), strict=True):
        fx, fy = float(x), float(y)
        tol = max(atol, rtol * max(abs(fx), abs(fy)), max(_printed_ulp(x), _printed_ulp(y)) * 1.000001)
        if abs(fx - fy) > tol:
            return f"number {x} vs {y} (tolerance {tol:.3g}) in {a!r}"
    return None


def refresh_notebooks(names: list[str] | None = None) -> None:
    """Execute the notebooks and store them with their outputs (``make notebooks``)."""
    import nbformat

    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        if names and path.name not in names:
            continue
        nb = run_notebook(path.name)
        for cell in nb.cells:  # kernel-run metadata would churn on every run
            cell.get("metadata", {}).pop("execution", None)
        tmp = path.with_suffix(".ipynb.tmp")
        nbformat.write(nb, tmp)
        tmp.replace(path)
        print(f"stored {path.relative_to(REPO)} with outputs")


#: random draws of the urban_rural policy and calibrated parameters over their whole economic
#: range (Table 1, section V), used by the root-search and random-draw tests
UR_RANGES = {
    "m": (0.0, 1.0),
    "phi_r": (0.0, 1.0),
    "mu": (0.0, 1.0),
    "omega_a": (0.0, 0.05),
    "omega_0": (0.0, 0.05),
    "alpha": (0.05, 0.6),
    "phi": (0.0, 5.0),
    "tau_n": (0.0, 0.95),
}


if __name__ == "__main__":
    import sys

    refresh_notebooks(sys.argv[1:] or None)
