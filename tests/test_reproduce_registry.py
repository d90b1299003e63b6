"""The `landjax reproduce` registry: index.md lists every paper, failures are recorded, not hidden."""

import sys
import types

import landjax.reproduce as rep
from landjax.cli import main


def _fake(name, fail=False):
    mod = types.ModuleType(name)

    def run(out, *, quick=False):
        if fail:
            raise RuntimeError("boom: solver did not converge")
        d = out / name.rsplit(".", 1)[-1]
        d.mkdir(parents=True, exist_ok=True)
        (d / "report.md").write_text("# ok\n")
        return {"title": "Fake paper", "files": [f"{d.name}/report.md"], "headline": ["reproduces: everything"]}

    mod.run = run
    return mod


def test_run_all_records_failures_and_writes_index(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "fake_ok", _fake("fake_ok"))
    monkeypatch.setitem(sys.modules, "fake_bad", _fake("fake_bad", fail=True))
    monkeypatch.setattr(rep, "PAPERS", {"ok": ("fake_ok", "ok paper"), "bad": ("fake_bad", "bad paper")})
    summaries = rep.run_all(tmp_path)
    assert summaries["ok"]["headline"] == ["reproduces: everything"]
    assert "boom" in summaries["bad"]["error"]
    index = (tmp_path / "index.md").read_text()
    assert "FAILED" in index and "reproduces: everything" in index and "boom" in index
    # the CLI exits non-zero when a paper failed
    assert main(["reproduce", "all", "--out", str(tmp_path / "cli")]) == 1
    assert (tmp_path / "cli" / "index.md").exists()


def test_rrh2017_maps_draw_a_single_field(tmp_path):
    # full mode draws the gradient map with one panel (plt.subplots then returns one Axes, which
    # once broke `make run` after every quick-mode check had passed)
    import pandas as pd

    from landjax.reproduce import rrh2017

    df = pd.DataFrame({"row": [0, 0, 1, 1], "col": [0, 1, 0, 1], "dgain": [0.1, 0.2, 0.3, 0.4], "L": 1.0})
    rrh2017._maps(tmp_path / "one.png", df, {"dgain": "gradient"}, "one panel")
    rrh2017._maps(tmp_path / "two.png", df, {"dgain": "gradient", "L": "population"}, "two panels")
    assert (tmp_path / "one.png").stat().st_size > 0 and (tmp_path / "two.png").stat().st_size > 0


def test_papers_reproduced_one_by_one_into_one_folder_are_all_listed(tmp_path, monkeypatch, capsys):
    # the README runs `landjax reproduce PAPER --out results` paper by paper
    monkeypatch.setitem(sys.modules, "fakes.zuo2019", _fake("fakes.zuo2019"))
    monkeypatch.setitem(sys.modules, "fakes.rrh2017", _fake("fakes.rrh2017"))
    monkeypatch.setattr(rep, "PAPERS", {"zuo2019": ("fakes.zuo2019", "paper A"), "rrh2017": ("fakes.rrh2017", "B")})
    out = str(tmp_path / "results")
    assert main(["reproduce", "rrh2017", "--out", out]) == 0
    assert main(["reproduce", "zuo2019", "--out", out]) == 0
    index = (tmp_path / "results" / "index.md").read_text()
    assert "zuo2019/report.md" in index and "rrh2017/report.md" in index
    assert index.index("## zuo2019") < index.index("## rrh2017")  # registry order, not run order
    # the same paper again, or a folder with other files, needs --force
    capsys.readouterr()
    assert main(["reproduce", "zuo2019", "--out", out]) == 2
    assert "already holds zuo2019/" in capsys.readouterr().err
    (tmp_path / "results" / "mine.txt").write_text("keep")
    assert main(["reproduce", "rrh2017", "--out", out]) == 2
    assert main(["reproduce", "rrh2017", "--out", out, "--force"]) == 0
    assert (tmp_path / "results" / "mine.txt").read_text() == "keep"
    assert "zuo2019/report.md" in (tmp_path / "results" / "index.md").read_text()
