"""`landjax sweep`: one process, shards + merge, and two processes under jax.distributed give the
same results.csv byte for byte; failing rows are flagged in every mode; bad grids exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from landjax.cli import main

ROOT = Path(__file__).resolve().parents[1]
GRID = "m,tau_n,closure\n0.1,0.81,ag\n0.3,0.81,ag\n0.5,0.99,ag\n0.7,0.81,nonag\n0.2,0.6,ag\n"


def _cli(*args: str) -> int:
    env = dict(os.environ, LANDJAX_PROGRESS="0", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "landjax", *args], env=env, cwd=ROOT).returncode


def test_one_process_shards_and_two_processes_give_the_same_results(tmp_path):
    # one test (not a module fixture shared by several): under pytest-xdist a module fixture is
    # rebuilt on every worker that runs one of its tests, and these runs start five processes
    d = tmp_path
    (d / "grid.csv").write_text(GRID)
    g = str(d / "grid.csv")
    os.environ["LANDJAX_PROGRESS"] = "0"
    assert _cli("sweep", "urban_rural", "--grid", g, "--out", str(d / "one")) == 1  # one row has no equilibrium
    df = pd.read_csv(d / "one" / "results.csv")
    assert list(df.columns[:6]) == ["m", "tau_n", "closure", "converged", "residual_norm", "steps"]
    assert "welfare.TU" in df.columns and "moments.Y_ratio" in df.columns
    assert len(df) == 5 and df["converged"].tolist() == [True, True, False, True, True]
    assert df.loc[2, ["welfare.TU", "unknowns.hbar"]].isna().all()
    # the same numbers as one solve through the Python API
    from landjax.models import urban_rural as ur

    r = ur.solve(ur.Params(m=0.3, tau_n=0.81)).to_dict()
    assert df.loc[1, "welfare.TU"] == r["welfare"]["TU"]

    # shards (here in this process, through the same entry point as the command line) and merge
    assert main(["sweep", "urban_rural", "--grid", g, "--out", str(d / "sh"), "--shard", "0/2"]) == 0
    assert main(["sweep", "urban_rural", "--grid", g, "--out", str(d / "sh"), "--shard", "1/2"]) == 1
    assert main(["sweep-merge", str(d / "sh")]) == 1
    one = (d / "one" / "results.csv").read_bytes()
    assert (d / "sh" / "results.csv").read_bytes() == one

    # two processes under jax.distributed (spawned, localhost coordinator, gloo collectives)
    assert _cli("sweep", "urban_rural", "--grid", g, "--out", str(d / "pr"), "--processes", "2") == 1
    assert (d / "pr" / "results.csv").read_bytes() == one
    assert sorted(p.name for p in (d / "pr").iterdir()) == ["results.csv"]


def test_merge_refuses_missing_shards(tmp_path, capsys):
    (tmp_path / "grid.csv").write_text(GRID)
    os.environ["LANDJAX_PROGRESS"] = "0"
    g = str(tmp_path / "grid.csv")
    assert main(["sweep", "urban_rural", "--grid", g, "--out", str(tmp_path / "s"), "--shard", "1/3"]) in (0, 1)
    assert main(["sweep-merge", str(tmp_path / "s")]) == 2
    assert "missing shard(s) 0-of-3, 2-of-3" in capsys.readouterr().err


@pytest.mark.parametrize(
    "grid, needle",
    [
        ("bogus,m\n1,0.5\n", "unknown column 'bogus'"),
        ("m\nabc\n", "column 'm'"),
        ("m\n1.5\n", "Params.m=1.5 is outside its allowed range"),
        ("closure\nmaybe\n", "closure"),
    ],
)
def test_bad_grids_exit_2(tmp_path, capsys, grid, needle):
    (tmp_path / "g.csv").write_text(grid)
    assert main(["sweep", "urban_rural", "--grid", str(tmp_path / "g.csv"), "--out", str(tmp_path / "o")]) == 2
    assert needle in capsys.readouterr().err


def test_missing_grid_and_non_empty_out(tmp_path, capsys):
    assert main(["sweep", "urban_rural", "--grid", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "g.csv").write_text("m\n0.5\n")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("keep")
    assert main(["sweep", "urban_rural", "--grid", str(tmp_path / "g.csv"), "--out", str(tmp_path / "full")]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "full" / "mine.txt").read_text() == "keep"
