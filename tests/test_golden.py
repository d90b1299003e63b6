"""Golden files: every table `landjax reproduce PAPER --quick` writes, compared with the copy
stored in tests/golden/<paper>/ so that a change moving a published-vs-ours number fails loudly.

Tolerances: numbers agree to rtol 1e-6 (atol 1e-9): well above the run-to-run noise of the solvers
(bit-identical on one machine; ~1e-12 across BLAS builds) and far below any change a reader of the
tables would see. Text columns must match exactly. Columns holding timings (seconds, per-second
rates) are not compared. Regenerate after an intended change with
``pytest tests/test_golden.py --update-golden`` and commit the diff with the reason.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from landjax.reproduce import PAPERS, run_paper

GOLDEN = Path(__file__).resolve().parent / "golden"
RTOL, ATOL = 1e-6, 1e-9
#: columns that measure time on the machine that ran them
TIMING = re.compile(r"(^|_)(seconds|second|time|timing|wall|elapsed)($|_)|_s$|per_s|solves_per|ratio_speed")


def _compare(paper: str, name: str, new: pd.DataFrame, old: pd.DataFrame) -> None:
    assert list(new.columns) == list(old.columns), f"{paper}/{name}: columns changed"
    assert len(new) == len(old), f"{paper}/{name}: {len(new)} rows, golden has {len(old)}"
    for col in new.columns:
        if TIMING.search(str(col)):
            continue
        a, b = new[col], old[col]
        an, bn = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
        numeric = an.notna() | bn.notna()
        text = ~numeric
        ta = np.array(["" if pd.isna(v) else str(v) for v in a[text]])
        tb = np.array(["" if pd.isna(v) else str(v) for v in b[text]])
        assert (ta == tb).all(), f"{paper}/{name}.{col}"
        x, y = an[numeric].to_numpy(float), bn[numeric].to_numpy(float)
        np.testing.assert_allclose(x, y, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=f"{paper}/{name}.{col}")


@pytest.mark.slow
@pytest.mark.parametrize("paper", list(PAPERS))
def test_golden_tables(paper, tmp_path, update_golden):
    summary = run_paper(paper, tmp_path, quick=True)
    assert not summary.get("error"), summary.get("error")
    out = tmp_path / paper
    tables = sorted(p.relative_to(out) for p in out.rglob("*.csv"))
    assert tables, f"{paper}: no tables written"
    gold = GOLDEN / paper
    if update_golden:
        shutil.rmtree(gold, ignore_errors=True)
        for rel in tables:
            (gold / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(out / rel, gold / rel)
        return
    if not gold.exists():
        pytest.fail(f"no golden files for {paper}: run pytest tests/test_golden.py --update-golden")
    stored = sorted(p.relative_to(gold) for p in gold.rglob("*.csv"))
    assert tables == stored, f"{paper}: the set of tables changed"
    for rel in tables:
        _compare(paper, str(rel), pd.read_csv(out / rel), pd.read_csv(gold / rel))
