"""Properties of the claims rules as checks: the search finds the known theorems (and reports
counterexamples that really violate the property, recomputed with the NumPy reference rules)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from landjax.contract import loads_strict
from landjax.errors import InputError
from landjax.models import claims as cl


def _violates_self_duality(rule, c, E):
    c = np.asarray(c)
    x = cl.reference_numpy(c, E, rule)
    y = c - cl.reference_numpy(c, c.sum() - E, rule)
    return np.max(np.abs(x - y)) > 1e-6 * max(1.0, c.max())


def _violates_consistency(rule, c, E):
    c = np.asarray(c)
    x = cl.reference_numpy(c, E, rule)
    n = len(c)
    for k in range(2, n):
        for S in itertools.combinations(range(n), k):
            S = list(S)
            y = cl.reference_numpy(c[S], x[S].sum(), rule)
            if np.max(np.abs(y - x[S])) > 1e-6 * max(1.0, c.max()):
                return True
    return False


def _one(rule, prop, **kw):
    (ch,) = cl.check_rule(rule, [prop], draws=60, sizes=(2, 3, 4), **kw)
    return ch


def test_known_theorems_come_out():
    assert _one("T", "self_duality").holds  # the Talmud rule is self-dual
    assert _one("P", "composition_up").holds and _one("P", "composition_down").holds
    assert _one("CEA", "consistency").holds and _one("CEL", "composition_up").holds
    assert _one("AA", "self_duality").holds and _one("RA", "minimal_rights_first").holds
    # failures come with a counterexample that really violates the property (recomputed independently)
    ch = _one("CEA", "self_duality")
    assert not ch.holds and _violates_self_duality("CEA", ch.counterexample["claims"], ch.counterexample["estate"])
    ch = _one("RA", "consistency")
    assert not ch.holds and _violates_consistency("RA", ch.counterexample["claims"], ch.counterexample["estate"])
    assert "E =" in ch.text() and ch.violation > 0


def test_the_users_problem_is_searched_first():
    ch = cl.check_rule("MO", ["self_duality"], problem=([1.0, 2.0, 9.0], 4.0), draws=5, sizes=(2,))[0]
    assert not ch.holds and ch.counterexample["source"] == "your problem"
    assert ch.counterexample["claims"] == [1.0, 2.0, 9.0]
    with pytest.raises(InputError, match="properties"):
        cl.check_rule("T", ["no_such_property"])


@pytest.mark.slow
def test_table_agrees_with_the_published_results():
    """All thirteen rules x 22 properties: the search agrees with the published table (Thomson 2019 /
    ClaimsProblems) except the documented DISAGREEMENTS; for RTalmud and DT the properties proved
    in their sources hold."""
    t = cl.axioms_table("all", draws=150)
    known = t[t["known"].notna()]
    diff = known[known["known"] != known["holds"]]
    found = {(r.rule, r.property) for r in diff.itertuples()}
    assert found == set(cl.DISAGREEMENTS), diff[["rule", "property", "holds", "known", "counterexample"]]
    for r in diff.itertuples():  # the disagreements are all "holds here, fails in the table"
        assert r.holds


def test_cli_claims_axioms(tmp_path, capsys):
    from landjax.cli import main

    f = tmp_path / "c.csv"
    f.write_text("name,claim\na,1\nb,2\nc,9\n")
    argv = ["claims-axioms", "--rule", "T,CEA", "--property", "self_duality,midpoint", "--draws", "20"]
    assert main([*argv, "--claims", str(f), "--estate", "4", "--json"]) == 0
    rows = loads_strict(capsys.readouterr().out)["rows"]
    got = {(r["rule"], r["property"]): r["holds"] for r in rows}
    assert got == {
        ("T", "self_duality"): True,
        ("T", "midpoint"): True,
        ("CEA", "self_duality"): False,
        ("CEA", "midpoint"): False,
    }
    out = tmp_path / "ax.csv"
    assert main([*argv, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "self_duality" in text and "counterexamples" in text and out.exists()
    assert main([*argv, "--out", str(out)]) == 2  # exists: needs --force
    assert main(["claims-axioms", "--property", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["claims-axioms", "--claims", str(f), "--out", str(f)]) == 2
    assert f.read_text() == "name,claim\na,1\nb,2\nc,9\n"
