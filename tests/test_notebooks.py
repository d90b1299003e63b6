"""The notebooks run, and their stored outputs (committed, so they read on a code host without
running) are those of the current code: each is executed afresh and its text outputs compared
with the stored ones (timings masked). Refresh with ``make notebooks`` after an intended change."""

from __future__ import annotations

import nbformat
import pytest
from helpers import NOTEBOOKS, run_notebook, text_outputs

NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_and_stored_outputs_are_current(name):
    stored = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = [c for c in stored.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), f"{name} is stored without outputs: run `make notebooks`"
    fresh = run_notebook(name, timeout=900)
    old, new = text_outputs(stored), text_outputs(fresh)
    for i, (a, b) in enumerate(zip(old, new, strict=True)):
        assert a == b, (
            f"{name}, code cell {i + 1}: stored output differs from the current code's (run `make notebooks`)"
        )
