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


def test_quota_trade_sweep_on_the_command_line_matches_the_python_api(tmp_path):
    # the command line passes the model's context (--data, the scenario column) like `solve`
    from landjax._io import write_csv
    from landjax.models import quota_trade as qt

    os.environ["LANDJAX_PROGRESS"] = "0"
    grid = "kappa,scenario\n3,inter_all_area_both\n4.5,intra_all_area_both\n"
    (tmp_path / "g.csv").write_text(grid)
    assert main(["sweep", "quota_trade", "--grid", str(tmp_path / "g.csv"), "--out", str(tmp_path / "o")]) == 0
    text = (tmp_path / "o" / "results.csv").read_bytes()
    df = qt.sweep(pd.read_csv(tmp_path / "g.csv", dtype=str), progress=False)
    write_csv(df, tmp_path / "api.csv")
    assert (tmp_path / "api.csv").read_bytes() == text
    assert df["converged"].all() and df["statistics.gdp_change"].abs().min() > 0
    # the model's output flag is not a sweep flag
    assert main(["sweep", "quota_trade", "--grid", str(tmp_path / "g.csv"), "--out", str(tmp_path / "p"),
                 "--city-out", str(tmp_path / "c.csv")]) == 2  # fmt: skip


@pytest.mark.parametrize(
    "text, needle",
    [
        ("m,tau_n\n0.3,0.81,5\n", "line 2 has 3 fields, the header has 2"),
        ("m\n0.3\n\n0.4\n", "line 3 is blank"),
    ],
    ids=["extra-field", "blank-line"],
)
def test_misshapen_csv_files_are_refused_not_shifted(tmp_path, capsys, text, needle):
    (tmp_path / "g.csv").write_text(text)
    assert main(["sweep", "urban_rural", "--grid", str(tmp_path / "g.csv"), "--out", str(tmp_path / "o")]) == 2
    assert needle in capsys.readouterr().err and not (tmp_path / "o").exists()
    # the claims command reads its table through the same check
    (tmp_path / "c.csv").write_text("name,claim\na,1,2\nb,3,4\n")
    assert main(["claims", "--claims", str(tmp_path / "c.csv"), "--estate", "2", "--out", str(tmp_path / "a.csv")]) == 2
    assert "line 2 has 3 fields, the header has 2" in capsys.readouterr().err
    assert not (tmp_path / "a.csv").exists()


def test_more_shards_than_rows_still_merge(tmp_path):
    os.environ["LANDJAX_PROGRESS"] = "0"
    (tmp_path / "g.csv").write_text("m\n0.3\n0.5\n")
    g = str(tmp_path / "g.csv")
    assert main(["sweep", "urban_rural", "--grid", g, "--out", str(tmp_path / "one")]) == 0
    for i in range(5):  # slices 0, 1 and 3 of 5 are empty for 2 rows; they still write their files
        assert main(["sweep", "urban_rural", "--grid", g, "--out", str(tmp_path / "sh"), "--shard", f"{i}/5"]) == 0
        assert (tmp_path / "sh" / f"shard-{i}-of-5.csv").is_file()
    assert main(["sweep-merge", str(tmp_path / "sh")]) == 0
    assert (tmp_path / "sh" / "results.csv").read_bytes() == (tmp_path / "one" / "results.csv").read_bytes()


@pytest.mark.parametrize(
    "flags, needle",
    [
        (["--processes", "2", "--shard", "0/2"], "choose one way"),
        (["--num-processes", "2"], "--num-processes: needs --coordinator"),
        (["--shard", "0/2", "--coordinator", "127.0.0.1:1", "--process-id", "0"], "choose one way"),
        (["--chunk-size", "0"], "--chunk-size 0"),
    ],
)
def test_conflicting_split_flags_exit_2(tmp_path, capsys, flags, needle):
    (tmp_path / "g.csv").write_text("m\n0.5\n")
    assert main(["sweep", "urban_rural", "--grid", str(tmp_path / "g.csv"), "--out", str(tmp_path / "o"), *flags]) == 2
    assert needle in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_a_shard_is_not_written_into_a_folder_of_other_files(tmp_path, capsys):
    (tmp_path / "g.csv").write_text("m\n0.5\n")
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "mine.txt").write_text("keep")
    args = ["sweep", "urban_rural", "--grid", str(tmp_path / "g.csv"), "--out", str(tmp_path / "o"), "--shard", "0/2"]
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err and sorted(p.name for p in (tmp_path / "o").iterdir()) == ["mine.txt"]


def test_output_files_follow_the_umask(tmp_path):
    from landjax._io import write_text

    old = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x")
        os.umask(0o077)
        write_text(tmp_path / "b.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o600


def test_a_shard_never_overwrites_its_grid(tmp_path, capsys):
    (tmp_path / "shard-0-of-1.csv").write_text("m\n0.5\n")
    g = str(tmp_path / "shard-0-of-1.csv")
    assert main(["sweep", "urban_rural", "--grid", g, "--out", str(tmp_path), "--shard", "0/1", "--force"]) == 2
    assert "would overwrite the grid file" in capsys.readouterr().err
    assert (tmp_path / "shard-0-of-1.csv").read_text() == "m\n0.5\n"


def test_merge_checks_settings_tampering_and_damage(tmp_path, capsys):
    import shutil

    os.environ["LANDJAX_PROGRESS"] = "0"
    (tmp_path / "g.csv").write_text("m\n0.3\n0.5\n")
    g = str(tmp_path / "g.csv")

    def shards(name, *extra0):
        d = tmp_path / name
        assert main(["sweep", "urban_rural", "--grid", g, "--out", str(d), "--shard", "0/2", *extra0]) == 0
        assert main(["sweep", "urban_rural", "--grid", g, "--out", str(d), "--shard", "1/2"]) == 0
        return d

    def merge_fails(d, needle):
        capsys.readouterr()
        assert main(["sweep-merge", str(d)]) == 2
        err = capsys.readouterr().err
        assert needle in err and "Traceback" not in err, err
        assert not (d / "results.csv").exists()

    merge_fails(shards("mixed", "--set", "tau_n=0.7"), "different --set/--option/--solver")
    good = shards("good")
    for name, damage, needle in [
        ("edited", lambda d: (d / "shard-1-of-2.csv").write_text((d / "shard-1-of-2.csv").read_text() + ""), None),
        ("tampered", lambda d: (d / "shard-1-of-2.csv").write_text(
            (d / "shard-1-of-2.csv").read_text().replace("True", "Maybe")), "changed since the sweep wrote it"),
        ("truncated", lambda d: (d / "shard-0-of-2.csv").write_text(""), "changed since the sweep wrote it"),
        ("badjson", lambda d: (d / "shard-1-of-2.json").write_text("garbage{"), "not a readable shard description"),
        ("emptyjson", lambda d: (d / "shard-1-of-2.json").write_text("{}"), "not a shard description"),
        ("nojson", lambda d: (d / "shard-1-of-2.json").unlink(), "one is missing"),
    ]:  # fmt: skip
        d = tmp_path / name
        shutil.copytree(good, d)
        damage(d)
        if needle is None:  # rewriting the same bytes is no change
            assert main(["sweep-merge", str(d)]) == 0
        else:
            merge_fails(d, needle)


def test_an_empty_output_name_is_refused(tmp_path, capsys):
    (tmp_path / "g.csv").write_text("m\n0.5\n")
    (tmp_path / "c.csv").write_text("name,claim\na,1\nb,3\n")
    for args in (
        ["sweep", "urban_rural", "--grid", str(tmp_path / "g.csv"), "--out", ""],
        ["reproduce", "zuo2019", "--out", " "],
        ["claims", "--claims", str(tmp_path / "c.csv"), "--estate", "2", "--out", ""],
    ):
        assert main(args) == 2
        assert "--out: empty" in capsys.readouterr().err
