"""docs/new_model.md is runnable: its code blocks executed in order must succeed."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "new_model.md"


def test_new_model_page_runs():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 4
    env: dict = {}
    exec(compile("\n".join(blocks), str(DOC), "exec"), env)  # noqa: S102
    assert env["r"].ok and bool(env["df"]["converged"].all())
    assert abs(float(env["grad"])) > 0
