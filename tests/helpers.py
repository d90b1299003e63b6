"""Helpers shared by the tests (import as ``from helpers import ...``)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def run_notebook(name: str, timeout: int = 900) -> None:
    """Execute ``notebooks/<name>`` top to bottom in a fresh kernel; any cell error fails.

    The notebook runs with the repository root as working directory and progress bars off.
    Outputs are not written back (the committed notebook stays as it is).
    """
    import nbformat
    from nbclient import NotebookClient

    path = REPO / "notebooks" / name
    nb = nbformat.read(path, as_version=4)
    os.environ["LANDJAX_PROGRESS"] = "0"
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(REPO)}})
    client.execute()
