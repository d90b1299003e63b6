"""Properties (axioms) of claims rules as checks: search for counterexamples on random problems and
on the user's own problem, and report a table (rule x property: holds / counterexample).

A property *holds* in this table when no counterexample was found among the problems tried (a
search, not a proof); a *counterexample* is a concrete problem that violates it beyond a rounding
tolerance, reported with the awards that violate it. The definitions follow Thomson (2019, *How
to divide when there isn't enough*) in the wording of the ClaimsProblems library (Mirás Calvo et
al. 2023). `KNOWN` holds the published table for the eleven rules of that library.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from landjax.errors import ConvergenceError, InputError
from landjax.models.claims.api import allocate_batch, validate_problem
from landjax.models.claims.names import rule_list

if TYPE_CHECKING:
    import pandas as pd

#: property key -> (name, definition)
PROPERTIES: dict[str, tuple[str, str]] = {
    "anonymity": ("Anonymity", "permuting the claimants permutes the awards"),
    "homogeneity": ("Homogeneity", "R(rho E, rho c) = rho R(E, c)"),
    "equal_treatment": ("Equal treatment of equals", "c_i = c_j implies x_i = x_j"),
    "order_preservation": ("Order preservation", "c_i <= c_j implies x_i <= x_j and c_i - x_i <= c_j - x_j"),
    "lower_bound_awards": ("1/|N|-truncated-claims lower bounds on awards", "x_i >= min(c_i, E)/n"),
    "lower_bound_losses": ("1/|N|-min-of-claims-and-deficit lower bounds on losses", "c_i - x_i >= min(c_i, C - E)/n"),
    "conditional_full_compensation": (
        "Conditional full compensation",
        "sum_j min(c_j, c_i) <= E implies x_i = c_i",
    ),
    "conditional_null_compensation": (
        "Conditional null compensation",
        "sum_j max(0, c_j - c_i) >= E implies x_i = 0",
    ),
    "endowment_monotonicity": ("Endowment monotonicity", "E' > E implies R(E', c) >= R(E, c)"),
    "claim_monotonicity": ("Claim monotonicity", "c'_i >= c_i implies R_i(E, c') >= R_i(E, c)"),
    "progressivity": ("Progressivity", "0 < c_i <= c_j implies x_i/c_i <= x_j/c_j"),
    "regressivity": ("Regressivity", "0 < c_i <= c_j implies x_i/c_i >= x_j/c_j"),
    "minimal_rights_first": ("Minimal rights first", "R(E, c) = m + R(E - sum m, c - m), m_i = max(0, E - c(N-i))"),
    "claims_truncation_invariance": ("Claims truncation invariance", "R(E, c) = R(E, min(c, E))"),
    "composition_down": ("Composition down", "E' < E implies R(E', c) = R(E', R(E, c))"),
    "composition_up": ("Composition up", "E' > E implies R(E', c) = R(E, c) + R(E' - E, c - R(E, c))"),
    "midpoint": ("Midpoint property", "E = C/2 implies R(E, c) = c/2"),
    "self_duality": ("Self-duality", "R(E, c) = c - R(C - E, c)"),
    "consistency": ("Consistency", "x = R(E, c) implies x_S = R(x(S), c_S) for every subgroup S"),
    "bilateral_consistency": ("Bilateral consistency", "consistency for every pair of claimants"),
    "null_claims_consistency": ("Null claims consistency", "adding a claimant with claim 0 changes nothing"),
    "population_monotonicity": (
        "Population monotonicity",
        "when a claimant leaves (the others still claim at least E), nobody's award falls",
    ),
}

_ALL = set(PROPERTIES)
_COMMON = {"anonymity", "homogeneity", "equal_treatment", "order_preservation", "endowment_monotonicity"}
_COMMON |= {"claim_monotonicity", "null_claims_consistency"}
#: the published table (Thomson 2019; the ``axioms`` table of the ClaimsProblems library) restricted
#: to :data:`PROPERTIES`: the properties each rule satisfies. RTalmud and DT are not in that table;
#: for them only the properties proved in their sources are listed (RTalmud: self-duality and the
#: midpoint property follow from its definition; DT: its first step gives ``t/n``).
KNOWN: dict[str, set[str]] = {
    "P": _COMMON
    | {"progressivity", "regressivity", "composition_down", "composition_up", "midpoint", "self_duality"}
    | {"consistency", "bilateral_consistency", "population_monotonicity"},
    "CEA": _COMMON
    | {"lower_bound_awards", "conditional_full_compensation", "regressivity", "claims_truncation_invariance"}
    | {"composition_down", "composition_up", "consistency", "bilateral_consistency", "population_monotonicity"},
    "CEL": _COMMON
    | {"lower_bound_losses", "conditional_null_compensation", "progressivity", "minimal_rights_first"}
    | {"composition_down", "composition_up", "consistency", "bilateral_consistency", "population_monotonicity"},
    "AV": _COMMON | {"population_monotonicity", "midpoint", "self_duality"},
    "CE": _COMMON
    | {"lower_bound_awards", "population_monotonicity", "midpoint", "consistency", "bilateral_consistency"},
    "T": _COMMON
    | {"lower_bound_awards", "lower_bound_losses", "population_monotonicity", "minimal_rights_first"}
    | {"claims_truncation_invariance", "midpoint", "self_duality", "consistency", "bilateral_consistency"},
    "Pin": _COMMON
    | {"lower_bound_awards", "population_monotonicity", "midpoint", "consistency", "bilateral_consistency"},
    "RA": _COMMON
    | {"lower_bound_awards", "lower_bound_losses", "population_monotonicity", "minimal_rights_first"}
    | {"claims_truncation_invariance", "midpoint", "self_duality"},
    "MO": _COMMON
    | {"lower_bound_awards", "population_monotonicity", "minimal_rights_first", "claims_truncation_invariance"},
    "APRO": _COMMON
    | {"lower_bound_awards", "lower_bound_losses", "minimal_rights_first", "claims_truncation_invariance"}
    | {"midpoint", "self_duality"},
    "AA": _COMMON
    | {"lower_bound_awards", "lower_bound_losses", "population_monotonicity", "minimal_rights_first"}
    | {"claims_truncation_invariance", "midpoint", "self_duality"},
}
#: properties proved for the two rules outside the published table (a lower bound on the table)
KNOWN_PARTIAL: dict[str, set[str]] = {
    "RTalmud": {"anonymity", "homogeneity", "equal_treatment", "midpoint", "self_duality"},
    "DT": {"anonymity", "homogeneity", "equal_treatment", "lower_bound_awards"},
}

#: where the search disagrees with :data:`KNOWN`, and why (kept explicit; the tests check that these
#: are the only disagreements)
DISAGREEMENTS: dict[tuple[str, str], str] = {
    ("CE", "regressivity"): "the published table says CE fails it, but CE is regressive: below C/2 "
    "x_i/c_i = min(1/2, lambda/c_i) and above max(1/2, min(1, lambda/c_i)), both non-increasing in c_i",
    ("Pin", "regressivity"): "the published table says Piniles fails it, but x_i/c_i = min(1/2, lambda/c_i) "
    "below C/2 and 1/2 + min(1/2, lambda/c_i) above are non-increasing in c_i",
    ("MO", "lower_bound_losses"): "the published table says MO fails it; no counterexample was found in "
    "300,000 random problems with 2 to 9 claimants (integer and real claims)",
}

Rule = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclasses.dataclass
class Check:
    """Outcome of one property for one rule: `holds` (no counterexample found), the number of
    problems tried, and the worst counterexample (`None` when it holds)."""

    rule: str
    prop: str
    holds: bool
    tried: int
    violation: float
    counterexample: dict[str, Any] | None

    def text(self) -> str:
        if self.holds:
            return "holds"
        ce = self.counterexample or {}
        return f"fails: {ce.get('problem', '')}; {ce.get('detail', '')}"


def _rule_fn(rule: str) -> Rule:
    def R(c: np.ndarray, E: np.ndarray) -> np.ndarray:
        c = np.asarray(c, dtype=np.float64)
        E = np.minimum(np.asarray(E, dtype=np.float64), c.sum(axis=1))
        return allocate_batch(c, np.maximum(E, 0.0), rule, validate=False)

    return R


def _fmt(v: Any) -> str:
    a = np.asarray(v, dtype=np.float64)
    if a.ndim == 0:
        return f"{float(a):.6g}"
    return "(" + ", ".join(f"{float(x):.6g}" for x in a) + ")"


def _problem(c: np.ndarray, E: float) -> str:
    return f"E = {_fmt(E)}, c = {_fmt(c)}"


# Each check gets a batch (c: (B, n), E: (B,)) and a generator, returns (violation (B,), detail(b) -> str).
CheckFn = Callable[[Rule, np.ndarray, np.ndarray, np.random.Generator], tuple[np.ndarray, Callable[[int], str]]]


def _gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.max(np.abs(a - b), axis=-1)


def _c_anonymity(R, c, E, rng):
    x = R(c, E)
    perm = rng.permuted(np.tile(np.arange(c.shape[1]), (c.shape[0], 1)), axis=1)
    cp = np.take_along_axis(c, perm, axis=1)
    xp = R(cp, E)
    back = np.empty_like(xp)
    np.put_along_axis(back, perm, xp, axis=1)
    return _gap(back, x), lambda b: f"permuted claims {_fmt(cp[b])} get {_fmt(xp[b])}, unpermuted {_fmt(x[b])}"


def _c_homogeneity(R, c, E, rng):
    rho = rng.uniform(0.1, 10.0, size=c.shape[0])
    x = R(c, E)
    y = R(c * rho[:, None], E * rho)
    return _gap(y, x * rho[:, None]), lambda b: f"scaled by {rho[b]:.4g}: {_fmt(y[b])} vs {_fmt(x[b] * rho[b])}"


def _c_equal_treatment(R, c, E, rng):
    c2 = c.copy()
    c2[:, 1] = c2[:, 0]
    E2 = np.minimum(E, c2.sum(axis=1))
    x = R(c2, E2)
    return np.abs(x[:, 0] - x[:, 1]), lambda b: f"equal claims in {_problem(c2[b], E2[b])} get {_fmt(x[b])}"


def _pairs(c):
    ci, cj = c[:, :, None], c[:, None, :]
    return ci <= cj


def _c_order(R, c, E, rng):
    x = R(c, E)
    le = _pairs(c)
    xa = np.where(le, np.maximum(x[:, :, None] - x[:, None, :], 0), 0)
    lo = c - x
    la = np.where(le, np.maximum(lo[:, :, None] - lo[:, None, :], 0), 0)
    v = np.maximum(xa.max(axis=(1, 2)), la.max(axis=(1, 2)))
    return v, lambda b: f"awards {_fmt(x[b])}"


def _c_lb_awards(R, c, E, rng):
    x = R(c, E)
    t = np.minimum(c, E[:, None]) / c.shape[1]
    return np.max(np.maximum(t - x, 0), axis=1), lambda b: f"awards {_fmt(x[b])} below t/n = {_fmt(t[b])}"


def _c_lb_losses(R, c, E, rng):
    x = R(c, E)
    t = np.minimum(c, (c.sum(axis=1) - E)[:, None]) / c.shape[1]
    return np.max(np.maximum(t - (c - x), 0), axis=1), lambda b: f"losses {_fmt(c[b] - x[b])} below {_fmt(t[b])}"


def _c_cfc(R, c, E, rng):
    x = R(c, E)
    cond = np.minimum(c[:, None, :], c[:, :, None]).sum(axis=2) <= E[:, None]
    v = np.where(cond, np.abs(c - x), 0).max(axis=1)
    return v, lambda b: f"awards {_fmt(x[b])}; claimants {np.flatnonzero(cond[b]).tolist()} should be paid in full"


def _c_cnc(R, c, E, rng):
    x = R(c, E)
    cond = np.maximum(c[:, None, :] - c[:, :, None], 0).sum(axis=2) >= E[:, None]
    v = np.where(cond, np.abs(x), 0).max(axis=1)
    return v, lambda b: f"awards {_fmt(x[b])}; claimants {np.flatnonzero(cond[b]).tolist()} should get 0"


def _c_endow_mono(R, c, E, rng):
    E2 = E + rng.uniform(0, 1, size=E.shape) * (c.sum(axis=1) - E)
    x, y = R(c, E), R(c, E2)
    return np.max(np.maximum(x - y, 0), axis=1), lambda b: f"estate {_fmt(E2[b])} gives {_fmt(y[b])} < {_fmt(x[b])}"


def _c_claim_mono(R, c, E, rng):
    i = rng.integers(0, c.shape[1], size=c.shape[0])
    c2 = c.copy()
    rows = np.arange(c.shape[0])
    c2[rows, i] += rng.uniform(0, 1, size=c.shape[0]) * (1 + c.max(axis=1))
    x, y = R(c, E), R(c2, E)
    v = np.maximum(x[rows, i] - y[rows, i], 0)
    return (
        v,
        lambda b: (
            f"claimant {i[b]} raising its claim to {_fmt(c2[b, i[b]])} gets {_fmt(y[b, i[b]])} < {_fmt(x[b, i[b]])}"
        ),
    )


def _c_progressivity(R, c, E, rng, sign=1.0):
    x = R(c, E)
    pos = c > 0
    ratio = np.where(pos, x / np.where(pos, c, 1), 0)
    le = _pairs(c) & pos[:, :, None] & pos[:, None, :]
    d = sign * (ratio[:, :, None] - ratio[:, None, :])  # progressivity: ratio_i <= ratio_j
    v = np.where(le, np.maximum(d, 0), 0).max(axis=(1, 2)) * np.max(c, axis=1)
    return v, lambda b: f"awards/claims {_fmt(ratio[b])}"


def _c_regressivity(R, c, E, rng):
    return _c_progressivity(R, c, E, rng, sign=-1.0)


def _c_mrf(R, c, E, rng):
    x = R(c, E)
    m = np.maximum(E[:, None] - (c.sum(axis=1)[:, None] - c), 0)
    E2 = np.maximum(E - m.sum(axis=1), 0.0)
    y = m + R(c - m, E2)
    return _gap(x, y), lambda b: f"minimal rights {_fmt(m[b])}: m + R(rest) = {_fmt(y[b])} vs R = {_fmt(x[b])}"


def _c_cti(R, c, E, rng):
    x = R(c, E)
    t = np.minimum(c, E[:, None])
    y = R(t, E)
    return _gap(x, y), lambda b: f"truncated claims {_fmt(t[b])} give {_fmt(y[b])} vs {_fmt(x[b])}"


def _c_comp_down(R, c, E, rng):
    E2 = E * rng.uniform(0, 1, size=E.shape)
    x = R(c, E)
    y, z = R(c, E2), R(x, E2)
    return _gap(y, z), lambda b: f"estate {_fmt(E2[b])}: R(c) = {_fmt(y[b])}, R(R(E, c)) = {_fmt(z[b])}"


def _c_comp_up(R, c, E, rng):
    D = c.sum(axis=1)
    E2 = E + rng.uniform(0, 1, size=E.shape) * (D - E)
    x = R(c, E)
    y = R(c, E2)
    z = x + R(c - x, np.maximum(E2 - E, 0))
    return _gap(y, z), lambda b: f"estate {_fmt(E2[b])}: R = {_fmt(y[b])}, step-wise {_fmt(z[b])}"


def _c_midpoint(R, c, E, rng):
    H = c.sum(axis=1) / 2
    x = R(c, H)
    return _gap(x, c / 2), lambda b: f"at E = C/2 = {_fmt(H[b])} awards {_fmt(x[b])}"


def _c_self_dual(R, c, E, rng):
    x = R(c, E)
    y = c - R(c, c.sum(axis=1) - E)
    return _gap(x, y), lambda b: f"R = {_fmt(x[b])}, c - R(C - E) = {_fmt(y[b])}"


def _consistency_sizes(R, c, E, rng, sizes):
    B, n = c.shape
    x = R(c, E)
    worst = np.zeros(B)
    info: dict[int, str] = {}
    for k in sizes:
        if not 1 < k < n:
            continue
        sub = np.argsort(rng.random((B, n)), axis=1)[:, :k]
        cs = np.take_along_axis(c, sub, axis=1)
        xs = np.take_along_axis(x, sub, axis=1)
        y = R(cs, xs.sum(axis=1))
        g = _gap(xs, y)
        for b in np.flatnonzero(g > worst):
            info[int(b)] = f"subgroup {sub[b].tolist()}: R(x(S), c_S) = {_fmt(y[b])}, x_S = {_fmt(xs[b])}"
        worst = np.maximum(worst, g)
    return worst, lambda b: info.get(b, f"awards {_fmt(x[b])}")


def _c_consistency(R, c, E, rng):
    return _consistency_sizes(R, c, E, rng, range(2, c.shape[1]))


def _c_bilateral(R, c, E, rng):
    return _consistency_sizes(R, c, E, rng, [2])


def _c_null_claims(R, c, E, rng):
    x = R(c, E)
    c2 = np.concatenate([c, np.zeros((c.shape[0], 1))], axis=1)
    y = R(c2, E)
    return _gap(y[:, :-1], x) + np.abs(y[:, -1]), lambda b: f"with a null claimant: {_fmt(y[b])} vs {_fmt(x[b])}"


def _c_pop_mono(R, c, E, rng):
    B, n = c.shape
    if n < 3:
        return np.zeros(B), lambda b: ""
    k = rng.integers(0, n, size=B)
    keep = np.array([[j for j in range(n) if j != k[b]] for b in range(B)])
    cs = np.take_along_axis(c, keep, axis=1)
    ok = cs.sum(axis=1) >= E
    x = R(c, E)
    y = R(cs, np.minimum(E, cs.sum(axis=1)))
    xs = np.take_along_axis(x, keep, axis=1)
    v = np.where(ok, np.max(np.maximum(xs - y, 0), axis=1), 0.0)
    return v, lambda b: f"without claimant {k[b]}: {_fmt(y[b])} < {_fmt(xs[b])}"


CHECKS: dict[str, CheckFn] = {
    "anonymity": _c_anonymity,
    "homogeneity": _c_homogeneity,
    "equal_treatment": _c_equal_treatment,
    "order_preservation": _c_order,
    "lower_bound_awards": _c_lb_awards,
    "lower_bound_losses": _c_lb_losses,
    "conditional_full_compensation": _c_cfc,
    "conditional_null_compensation": _c_cnc,
    "endowment_monotonicity": _c_endow_mono,
    "claim_monotonicity": _c_claim_mono,
    "progressivity": _c_progressivity,
    "regressivity": _c_regressivity,
    "minimal_rights_first": _c_mrf,
    "claims_truncation_invariance": _c_cti,
    "composition_down": _c_comp_down,
    "composition_up": _c_comp_up,
    "midpoint": _c_midpoint,
    "self_duality": _c_self_dual,
    "consistency": _c_consistency,
    "bilateral_consistency": _c_bilateral,
    "null_claims_consistency": _c_null_claims,
    "population_monotonicity": _c_pop_mono,
}


def random_problems(n: int, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`count` random problems with `n` claimants, mixing the regimes where properties bite:
    integer claims with ties, a dominant claim with positive minimal rights, `E = C/2`, an estate
    below the smallest claim, and generic real claims and estates."""
    c = rng.lognormal(1.5, 1.0, size=(count, n))
    kind = rng.integers(0, 6, size=count)
    ints = kind == 1
    c[ints] = rng.integers(1, 12, size=(int(ints.sum()), n)).astype(float)
    D = c.sum(axis=1)
    E = rng.uniform(0, 1, size=count) * D
    dom = kind == 2  # positive minimal rights
    E[dom] = D[dom] - rng.uniform(0, 1, size=int(dom.sum())) * (D[dom] - c[dom].max(axis=1))
    E[kind == 3] = D[kind == 3] / 2
    low = kind == 4
    E[low] = rng.uniform(0, 1, size=int(low.sum())) * c[low].min(axis=1)
    return c, np.minimum(E, D)


def check_rule(
    rule: str,
    properties: Sequence[str] | str = "all",
    *,
    problem: tuple[Any, Any] | None = None,
    sizes: Sequence[int] = (2, 3, 4, 5),
    draws: int = 200,
    seed: int = 0,
    rtol: float = 1e-8,
) -> list[Check]:
    """Test one rule against properties: `draws` random problems for each number of claimants in
    `sizes` (`random_problems`), plus the user's `problem = (claims, estate)` if given
    (with the derived problems each property needs: permutations, other estates, subgroups, ...,
    drawn around it). A violation counts when it exceeds `rtol` times the problem's largest claim.

    **Returns:** one `Check` per property, the user's problem first among counterexamples.
    """
    name = rule_list(rule)
    if len(name) != 1:
        raise InputError(f"rule: check_rule takes one rule, got {rule!r}")
    R = _rule_fn(name[0])
    props = list(PROPERTIES) if properties == "all" else [str(p) for p in properties]
    unknown = [p for p in props if p not in PROPERTIES]
    if unknown:
        raise InputError(f"properties: unknown {', '.join(unknown)}; valid: {', '.join(PROPERTIES)}")
    if int(draws) < 1:
        raise InputError(f"draws: must be >= 1, got {draws!r}")
    batches: list[tuple[str, np.ndarray, np.ndarray]] = []
    if problem is not None:
        c0, E0 = validate_problem(*problem)
        if c0.size >= 2:
            reps = 32 if c0.size <= 8 else 4
            batches.append(("your problem", np.tile(c0, (reps, 1)), np.full(reps, E0)))
    rng = np.random.default_rng(seed)
    for n in sizes:
        c, E = random_problems(int(n), int(draws), rng)
        batches.append((f"random, n = {n}", c, E))
    out: list[Check] = []
    for p in props:
        worst: tuple[float, dict[str, Any]] | None = None
        tried = 0
        for label, c, E in batches:
            prng = np.random.default_rng([seed, len(out), tried])
            try:
                v, detail = CHECKS[p](R, c, E, prng)
            except (InputError, ConvergenceError):
                if label != "your problem":
                    raise
                # a derived problem (e.g. one more claimant) is beyond the rule's exact limits
                continue
            tol = rtol * np.maximum(1.0, c.max(axis=1))
            bad = np.flatnonzero(v > tol)
            tried += len(v)
            if bad.size and worst is None:
                b = int(bad[np.argmax((v / tol)[bad])])
                worst = (
                    float(v[b]),
                    {
                        "source": label,
                        "problem": _problem(c[b], E[b]),
                        "detail": detail(b),
                        "claims": c[b].tolist(),
                        "estate": float(E[b]),
                    },
                )
        out.append(
            Check(
                rule=name[0],
                prop=p,
                holds=worst is None,
                tried=tried,
                violation=0.0 if worst is None else worst[0],
                counterexample=None if worst is None else worst[1],
            )
        )
    return out


def axioms_table(
    rules: Sequence[str] | str = "all",
    properties: Sequence[str] | str = "all",
    *,
    problem: tuple[Any, Any] | None = None,
    draws: int = 200,
    sizes: Sequence[int] = (2, 3, 4, 5),
    seed: int = 0,
) -> pd.DataFrame:
    """The table rule x property for several rules (`check_rule` for each).

    **Returns:** a long DataFrame with columns `rule, property, name, holds, tried, violation,
    source, counterexample` (`counterexample` is the problem and what fails, empty when it holds)
    and `known`: the published result where there is one (`KNOWN`; `None` otherwise).
    Pivot with `df.pivot(index="rule", columns="property", values="holds")`.
    """
    import pandas as pd

    rows = []
    for r in rule_list(rules):
        for ch in check_rule(r, properties, problem=problem, draws=draws, sizes=sizes, seed=seed):
            known: bool | None = None
            if r in KNOWN:
                known = ch.prop in KNOWN[r]
            elif r in KNOWN_PARTIAL and ch.prop in KNOWN_PARTIAL[r]:
                known = True
            ce = ch.counterexample or {}
            rows.append(
                {
                    "rule": r,
                    "property": ch.prop,
                    "name": PROPERTIES[ch.prop][0],
                    "holds": ch.holds,
                    "tried": ch.tried,
                    "violation": ch.violation,
                    "source": ce.get("source", ""),
                    "counterexample": "" if ch.holds else f"{ce.get('problem', '')}; {ce.get('detail', '')}",
                    "known": known,
                }
            )
    return pd.DataFrame(rows)
