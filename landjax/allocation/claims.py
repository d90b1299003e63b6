"""Compatibility module: the claims rules now live in `landjax.models.claims` (one package
under the model contract). Every public name of the former module is re-exported here, so
`from landjax.allocation import claims as cl; cl.allocate(...)` keeps working; `cli_main` is
`landjax claims` (`landjax.cli_claims.main_claims`)."""

from __future__ import annotations

from collections.abc import Sequence

from landjax.cli_claims import main_claims
from landjax.models.claims import (
    ALL_RULES,
    EXTRA_RULES,
    OUTPUT_COLUMNS,
    RULE_NAMES,
    RULES,
    allocate,
    allocate_all,
    allocate_batch,
    allocate_frame,
    canonical_rule,
    ce,
    cea,
    cel,
    piniles,
    proportional,
    reference_numpy,
    rule_function,
    rule_list,
    smooth_rule,
    smooth_water_fill,
    soft_clip,
    talmud,
    validate_problem,
    water_fill,
)
from landjax.models.claims.api import _batched_exact


def cli_main(argv: Sequence[str] | None = None) -> int:
    """`landjax claims ...` (see `landjax.cli_claims.main_claims`)."""
    return int(main_claims(argv))


__all__ = [
    "RULES",
    "EXTRA_RULES",
    "ALL_RULES",
    "RULE_NAMES",
    "canonical_rule",
    "water_fill",
    "proportional",
    "cea",
    "cel",
    "ce",
    "piniles",
    "talmud",
    "soft_clip",
    "smooth_water_fill",
    "smooth_rule",
    "rule_function",
    "rule_list",
    "validate_problem",
    "allocate",
    "allocate_batch",
    "allocate_all",
    "allocate_frame",
    "reference_numpy",
    "cli_main",
    "OUTPUT_COLUMNS",
    "_batched_exact",
]
