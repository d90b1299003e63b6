"""Executes notebooks/zhao_liu2024_land_debt.ipynb (slow)."""

import pytest
from helpers import run_notebook


@pytest.mark.slow
def test_zhao_liu2024_notebook_runs():
    run_notebook("zhao_liu2024_land_debt.ipynb", timeout=600)
