"""Property-based fuzzing of every model's command line: random bad values for every settable name
give exit status 2 and a message naming the field, never a traceback; outputs are strict JSON."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landjax.cli import MODELS, main, model_spec
from landjax.contract import Interval, loads_strict

SPECS = {name: model_spec(name) for name in MODELS}
SPECS = {k: v for k, v in SPECS.items() if v is not None}
#: flags every model needs to get as far as solving
REQUIRED = {"quota_trade": ["--scenario", "inter_all_area_both"]}


def _bad_numbers(bounds: Interval | None) -> list[str]:
    out = ["nan", "inf", "-inf", "abc", "", "1e400", "0x10"]
    if bounds is not None:
        if math.isfinite(bounds.lo):
            out.append(repr(bounds.lo - 1.0 - abs(bounds.lo)))
            if not bounds.lo_closed:
                out.append(repr(bounds.lo))
        if math.isfinite(bounds.hi):
            out.append(repr(bounds.hi + 1.0 + abs(bounds.hi)))
            if not bounds.hi_closed:
                out.append(repr(bounds.hi))
    return out


def _cases() -> list[tuple[str, str, str, str]]:
    """(model, flag, name, bad value) for every parameter, option and solver setting."""
    cases = []
    for model, spec in SPECS.items():
        for name, info in spec.Params.fields_info().items():
            for v in _bad_numbers(info.bounds):
                if info.shape and v in ("", "abc"):
                    continue
                cases.append((model, "--set", name, v if not info.shape else ",".join([v] * (info.shape[0] or 2))))
            if info.shape and info.shape[0] is not None:
                cases.append((model, "--set", name, ",".join(["1"] * (info.shape[0] + 1))))
        for flag, cls in (("--option", spec.Options), ("--solver", spec.Solver)):
            if cls is None:
                continue
            for info in cls.registry():
                if isinstance(info.choices, Interval):
                    bad = _bad_numbers(info.choices)
                else:
                    bad = ["no-such-value", "maybe" if info.kind == "bool" else "1.5e9", ""]
                cases.extend((model, flag, info.name, b) for b in bad)
        cases.append((model, "--set", "no_such_parameter", "1"))
        cases.append((model, "--option", "no_such_option", "x"))
    return cases


CASES = _cases()


@pytest.mark.skipif(not CASES, reason="no model is on the contract yet")
@pytest.mark.parametrize("model, flag, name, value", CASES, ids=[f"{c[0]}-{c[2]}={c[3]}" for c in CASES])
def test_every_bad_value_is_exit_2_naming_the_field(model, flag, name, value, capsys):
    code = main(["solve", model, *REQUIRED.get(model, []), flag, f"{name}={value}", "--json"])
    out, err = capsys.readouterr()
    assert code == 2, f"exit {code} for {flag} {name}={value!r}: {err[-500:]}"
    assert name in err, f"message does not name {name!r}: {err!r}"
    assert "Traceback" not in err
    loads_strict(out)  # the --json error object is strict JSON too


_NAMES = st.sampled_from(sorted({(m, n) for m, s in SPECS.items() for n in s.Params.fields_info()})) if SPECS else None


@pytest.mark.skipif(not SPECS, reason="no model is on the contract yet")
@settings(max_examples=60)
@given(data=st.data())
def test_random_garbage_text_is_exit_2_naming_the_parameter(data, capsys):
    model, name = data.draw(_NAMES)
    junk = data.draw(
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12).filter(lambda t: _not_a_number(t))
    )
    code = main(["solve", model, *REQUIRED.get(model, []), "--set", f"{name}={junk}", "--json"])
    _, err = capsys.readouterr()
    assert code == 2 and name in err and "Traceback" not in err


def _not_a_number(t: str) -> bool:
    for part in t.split(","):
        try:
            float(part)
        except ValueError:
            return True
    return False
