"""Names of the claims rules: the six of Zuo, Hu & Li (2019) and the seven further rules of the
reference library (Thomson 2019; Mirás Calvo et al. 2022)."""

from __future__ import annotations

from collections.abc import Sequence

from landjax.errors import InputError

#: the six rules of Zuo, Hu & Li (2019), in the paper's order (Table 5); kept as ``RULES`` for
#: compatibility (the Zaoyang Table 5 is over these six)
RULES: tuple[str, ...] = ("P", "CEA", "CEL", "CE", "Pin", "T")
#: the seven further rules
EXTRA_RULES: tuple[str, ...] = ("APRO", "RA", "MO", "RTalmud", "DT", "AV", "AA")
#: every rule (``--rule all``)
ALL_RULES: tuple[str, ...] = RULES + EXTRA_RULES
#: long names (for reports)
RULE_NAMES: dict[str, str] = {
    "P": "proportional",
    "CEA": "constrained equal awards",
    "CEL": "constrained equal losses",
    "CE": "constrained egalitarian (Chun-Schummer-Thomson)",
    "Pin": "Piniles",
    "T": "Talmud",
    "APRO": "adjusted proportional",
    "RA": "random arrival",
    "MO": "minimal overlap",
    "RTalmud": "reverse Talmud",
    "DT": "Dominguez-Thomson",
    "AV": "average of CEA and CEL",
    "AA": "average of awards",
}
_ALIASES: dict[str, str] = {
    "p": "P",
    "pro": "P",
    "prop": "P",
    "proportional": "P",
    "cea": "CEA",
    "constrained_equal_awards": "CEA",
    "cel": "CEL",
    "constrained_equal_losses": "CEL",
    "ce": "CE",
    "constrained_egalitarian": "CE",
    "pin": "Pin",
    "piniles": "Pin",
    "t": "T",
    "talmud": "T",
    "apro": "APRO",
    "adjusted_proportional": "APRO",
    "ra": "RA",
    "random_arrival": "RA",
    "mo": "MO",
    "minimal_overlap": "MO",
    "rtalmud": "RTalmud",
    "rt": "RTalmud",
    "reverse_talmud": "RTalmud",
    "dt": "DT",
    "dominguez_thomson": "DT",
    "av": "AV",
    "average": "AV",
    "aa": "AA",
    "average_of_awards": "AA",
}


def canonical_rule(rule: str) -> str:
    """Return the canonical name of a rule (one of `ALL_RULES`), case-insensitively.

    Accepts the long names too (`proportional`, `talmud`, `random_arrival`, ...). Raises
    `InputError` listing the valid names otherwise.
    """
    key = str(rule).strip().lower().replace("-", "_").replace(" ", "_")
    if key in _ALIASES:
        return _ALIASES[key]
    valid = ", ".join(ALL_RULES)
    raise InputError(
        f"rule: unknown rule {rule!r}; valid rules: {valid} (or 'all', or a comma-separated list; long "
        f"names such as 'talmud', 'piniles', 'random_arrival' also work)"
    )


def rule_list(rule: str | Sequence[str]) -> list[str]:
    """`"all"` -> the thirteen rules; `"T,CEA"` or `["T", "CEA"]` -> those (canonical, in order,
    duplicates dropped). Raises `InputError` for an unknown name or an empty list."""
    if isinstance(rule, str):
        if rule.strip().lower() == "all":
            return list(ALL_RULES)
        items = [r for r in rule.split(",") if r.strip()]
    else:
        items = list(rule)
    out: list[str] = []
    for r in items:
        if isinstance(r, str) and r.strip().lower() == "all":
            names = list(ALL_RULES)
        else:
            names = [canonical_rule(r)]
        out += [x for x in names if x not in out]
    if not out:
        raise InputError("rule: empty list of rules")
    return out
