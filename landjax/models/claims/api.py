"""The NumPy/pandas face of the claims rules: validation, one problem, batches, long tables.

Every entry point validates its input first and raises `InputError` naming
the field (and the problem and claimant): claims must be a 1-D (one problem) or 2-D (a batch)
array of finite non-negative numbers, the estate a finite number in `[0, sum of claims]`.

**Overflow.** All thirteen rules are homogeneous (`R(rho E, rho c) = rho R(E, c)`), so each
problem is divided internally by `2^k`, the power of two at or below its largest claim (an exact
scaling: no rounding), solved, and multiplied back. Claims of `1e308` whose sum overflows
float64 therefore work, and awards keep full precision.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax._io import progress as _progress
from landjax.errors import ConvergenceError, InputError
from landjax.models.claims.extended import SUBSET_MAX_N, aa_condition
from landjax.models.claims.names import canonical_rule, rule_list
from landjax.models.claims.reference import aa_exact
from landjax.models.claims.registry import EXACT, SMOOTH_RULES, smooth_rule

if TYPE_CHECKING:
    import pandas as pd

#: AA problems whose inclusion-exclusion cancellation factor exceeds this are recomputed exactly
AA_CONDITION_MAX = 1e3
#: exact integer AA recomputation is offered up to this many claimants
AA_EXACT_MAX_N = 16


def _where(problem: Any) -> str:
    if problem is None:
        return ""
    if hasattr(problem, "item"):  # numpy scalar -> python
        problem = problem.item()
    return f" in problem {problem!r}" if isinstance(problem, str) else f" in problem {problem}"


def _as_float_array(x: Any, field: str, problem: Any = None) -> np.ndarray:
    if isinstance(x, (str, bytes)):
        raise InputError(f"{field}{_where(problem)}: must be numbers, got the text {x!r}")
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{field}{_where(problem)}: not numeric ({exc})") from exc


def scale_of(c: np.ndarray) -> np.ndarray:
    """The power of two at or below the largest claim of each problem (1 where all claims are 0):
    dividing by it is exact and keeps every sum finite (`c` is `(n,)` or `(B, n)`)."""
    top = np.max(c, axis=-1)
    k = np.floor(np.log2(np.where(top > 0, top, 1.0)))
    return np.ldexp(1.0, k.astype(np.int64))


def validate_problem(
    claims: Any, estate: Any, *, problem: Any = None, names: Sequence[Any] | None = None, rtol: float = 1e-12
) -> tuple[np.ndarray, float]:
    """Check one claims problem and return `(c, E)` as float64.

    Raises `InputError` naming the problem (and the claimant) for: claims that are not a
    1-D list of numbers (a 2-D array is a batch: use `allocate_batch`), an empty problem, a
    NaN/inf or negative claim, a non-numeric, NaN/inf or negative estate, an estate above the
    total of the claims (beyond a relative rounding slack `rtol`, in which case `E` is set to
    the total). The total is formed on the scaled claims (`scale_of`), so claims near the
    float64 maximum are accepted.
    """
    c = _as_float_array(claims, "claims", problem)
    if c.ndim > 1:
        raise InputError(
            f"claims{_where(problem)}: one problem needs a 1-D list of claims, got an array of shape "
            f"{c.shape}; for many problems use allocate_batch (B, n) or allocate_frame"
        )
    c = c.reshape(-1)
    if c.size == 0:
        raise InputError(f"claims{_where(problem)}: empty problem (no claimants)")
    label = (lambda i: f"{names[i]!r} (position {i})") if names is not None else (lambda i: f"at position {i}")
    bad = np.flatnonzero(~np.isfinite(c))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"claims{_where(problem)}: claim of {label(i)} is {c[i]} (NaN or inf; claims must be finite numbers >= 0)"
        )
    neg = np.flatnonzero(c < 0)
    if neg.size:
        i = int(neg[0])
        raise InputError(f"claims{_where(problem)}: claim of {label(i)} is negative ({c[i]}); claims must be >= 0")
    e = _as_float_array(estate, "estate", problem)
    if e.ndim != 0 and e.size != 1:
        raise InputError(f"estate{_where(problem)}: one problem needs one estate, got shape {e.shape}")
    E = float(e.reshape(()))
    if not math.isfinite(E):
        raise InputError(f"estate{_where(problem)}: is {E} (must be a finite number in [0, sum of claims])")
    if E < 0:
        raise InputError(f"estate{_where(problem)}: is negative ({E}); must be in [0, sum of claims]")
    s = float(scale_of(c))
    C_s = float(np.sum(c / s))
    if E / s > C_s:
        if E / s <= C_s * (1 + rtol):
            E = float(min(C_s * s, np.finfo(np.float64).max))
        else:
            raise InputError(
                f"estate{_where(problem)}: {E!r} exceeds the total of the claims {C_s * s!r} "
                f"(a claims problem needs 0 <= estate <= sum of claims)"
            )
    return c, E


@partial(jax.jit, static_argnames=("rule", "side"))
def _batched_exact(c, E, rule, side):
    return jax.vmap(partial(EXACT[rule], side=side))(c, E)


@partial(jax.jit, static_argnames=("rule",))
def _batched_smooth(c, E, tau, rule):
    f = smooth_rule(rule)
    return jax.vmap(f, in_axes=(0, 0, 0))(c, E, tau)


@jax.jit
def _batched_aa_condition(c, E):
    return jax.vmap(aa_condition)(c, E)


def allocate_batch(
    claims: Any,
    estates: Any,
    rule: str = "T",
    *,
    temperature: float | None = None,
    side: int = 1,
    chunk_size: int = 65536,
    validate: bool = True,
    progress: bool = False,
) -> np.ndarray:
    """Apply a rule to a batch of problems with the same number of claimants.

    **Arguments:**

    - `claims`: `(B, n)` array; `estates`: `(B,)`.
    - `rule`: one of `ALL_RULES` (or a long name).
    - `temperature`: `None` for the exact rule, `tau > 0` (in the units of the claims) for the
      smooth one (rules in `SMOOTH_RULES`).
    - `chunk_size`: problems per compiled call (`jax.vmap` inside; the last chunk is padded).
    - `validate`: check every problem (vectorised); the error names the first bad problem (row).

    **Returns:** `(B, n)` float64 awards (each problem scaled by `scale_of` inside). AA
    problems with a large cancellation factor (`aa_condition` above
    `AA_CONDITION_MAX`) are recomputed in exact integer arithmetic. Raises
    `ConvergenceError` if a smooth solve failed or DT needed more than its step cap.
    """
    name = canonical_rule(rule)
    if temperature is not None:
        try:
            tau = float(temperature)
        except (TypeError, ValueError) as exc:
            raise InputError(f"temperature: must be a number > 0 (or None), got {temperature!r}") from exc
        if not (math.isfinite(tau) and tau > 0):
            raise InputError(
                f"temperature: must be a finite number > 0 (or None for the exact rule), got {temperature!r}"
            )
        if name not in SMOOTH_RULES:
            smooth_rule(name)  # raises, naming the rules that have one
    if side not in (1, -1):
        raise InputError(f"side: must be +1 or -1, got {side!r}")
    c = _as_float_array(claims, "claims")
    E = _as_float_array(estates, "estates")
    if c.ndim != 2:
        raise InputError(f"claims: a batch needs a (B, n) array, got shape {c.shape}")
    if E.ndim > 1:
        raise InputError(f"estates: a batch needs a 1-D array of estates, got shape {E.shape}")
    E = E.reshape(-1)
    if c.shape[0] != E.shape[0]:
        raise InputError(f"estates: {E.shape[0]} estates for {c.shape[0]} problems")
    if c.shape[1] == 0:
        raise InputError("claims: empty problems (n = 0 claimants)")
    if name in ("RA", "AA") and c.shape[1] > SUBSET_MAX_N:
        raise InputError(
            f"claims: the {name} rule is exact over the 2^n coalitions for at most {SUBSET_MAX_N} "
            f"claimants; these problems have {c.shape[1]}"
        )
    with np.errstate(all="ignore"):
        fin = np.isfinite(c).all(axis=1) & (c >= 0).all(axis=1) & np.isfinite(E) & (E >= 0)
        s = scale_of(np.where(fin[:, None], c, 0.0))
        cs = c / s[:, None]
        Es = E / s
        Cs = cs.sum(axis=1)
    if validate:
        bad = ~fin | (Es > Cs * (1 + 1e-12))
        if bad.any():
            b = int(np.flatnonzero(bad)[0])
            validate_problem(c[b], E[b], problem=b)  # raises with the precise reason
    Es = np.minimum(Es, Cs)
    B = c.shape[0]
    out = np.empty_like(c)
    chunk = max(1, min(int(chunk_size), B))
    if name in ("RA", "AA"):  # the coalition blocks take chunk x 2^min(n, 12) x n doubles
        n = c.shape[1]
        chunk = min(chunk, max(1, 2**24 // (2 ** min(n, 12) * n)))
    starts = range(0, B, chunk)
    it = _progress(starts, total=len(starts), desc=f"claims {name}") if progress else starts
    failed = 0
    for st in it:
        cc, ee, ss = cs[st : st + chunk], Es[st : st + chunk], s[st : st + chunk]
        m = cc.shape[0]
        if m < chunk:  # pad to the compiled shape
            cc = np.concatenate([cc, np.ones((chunk - m, c.shape[1]))])
            ee = np.concatenate([ee, np.zeros(chunk - m)])
            ss = np.concatenate([ss, np.ones(chunk - m)])
        if temperature is None:
            x = np.asarray(_batched_exact(jnp.asarray(cc), jnp.asarray(ee), name, int(side)))
        else:
            xj, ok = _batched_smooth(jnp.asarray(cc), jnp.asarray(ee), jnp.asarray(float(temperature) / ss), name)
            x = np.asarray(xj)
            failed += int(np.sum(~np.asarray(ok)[:m]))
        if name == "AA":
            x = np.array(x)
            cond = np.asarray(_batched_aa_condition(jnp.asarray(cc), jnp.asarray(ee)))[:m]
            for j in np.flatnonzero(~(cond <= AA_CONDITION_MAX)):
                if c.shape[1] > AA_EXACT_MAX_N:
                    raise ConvergenceError(
                        f"AA rule: problem {st + j} is ill-conditioned for the inclusion-exclusion sum "
                        f"(cancellation factor {cond[j]:.3g}) and has more than {AA_EXACT_MAX_N} claimants "
                        "for the exact integer recomputation"
                    )
                x[j] = aa_exact(cc[j], ee[j])
        if name == "DT" and np.isnan(x[:m]).any():
            jb = int(np.flatnonzero(np.isnan(x[:m]).any(axis=1))[0])
            raise ConvergenceError(
                f"DT rule: problem {st + jb} needs more than the cap of steps of the Dominguez-Thomson "
                "recursion (the smallest positive claim is tiny relative to the estate)"
            )
        out[st : st + m] = x[:m] * ss[:m, None]
    if failed:
        raise ConvergenceError(
            f"smooth {name} rule: the Newton solve for lambda failed in {failed} of {B} problems "
            f"(temperature {temperature}); try a larger temperature"
        )
    return out


def allocate(
    claims: Any, estate: Any, rule: str = "T", *, temperature: float | None = None, side: int = 1, problem: Any = None
) -> np.ndarray | pd.Series:
    """Split `estate` among `claims` with one rule.

    **Arguments:**

    - `claims`: 1-D array-like, or a pandas Series (the result is then a Series with its index).
      A 2-D array is refused (`InputError`): a batch goes to `allocate_batch`.
    - `estate`: the amount to divide, `0 <= estate <= sum(claims)`.
    - `rule`: one of the thirteen rules (`P, CEA, CEL, CE, Pin, T, APRO, RA, MO, RTalmud, DT, AV,
      AA`, or long names such as `talmud`).
    - `temperature`: `None` (exact) or `tau > 0` (smooth version).
    - `side`: one-sided derivative choice (irrelevant for values).
    - `problem`: a label used in error messages.

    **Returns:** the awards (float64), summing to `estate`.
    """
    name = canonical_rule(rule)
    series = _is_series(claims)
    names = list(claims.index) if series else None
    c, E = validate_problem(claims, estate, problem=problem, names=names)
    x = allocate_batch(c[None, :], np.array([E]), name, temperature=temperature, side=side, validate=False)[0]
    if series:
        import pandas as pd

        return pd.Series(x, index=claims.index, name=name)
    return x


def _is_series(x: Any) -> bool:
    """`isinstance(x, pandas.Series)` without importing pandas (a Series exists only if it is imported)."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(x, pd.Series)


def allocate_all(
    claims: Any, estate: Any, rules: str | Sequence[str] = "all", *, temperature: float | None = None
) -> pd.DataFrame:
    """All (or the chosen) rules for one problem: a DataFrame with one column per rule.

    The index is the Series index of `claims` if it has one, else `0..n-1`. `rules="all"`
    gives the thirteen rules.
    """
    import pandas as pd

    names = list(claims.index) if isinstance(claims, pd.Series) else None
    c, E = validate_problem(claims, estate, names=names)
    cols = {r: allocate(c, E, r, temperature=temperature) for r in rule_list(rules)}
    return pd.DataFrame(cols, index=claims.index if isinstance(claims, pd.Series) else None)


OUTPUT_COLUMNS: tuple[str, ...] = ("problem", "name", "claim", "estate", "rule", "award")


def allocate_frame(
    df: pd.DataFrame,
    rule: str | Sequence[str] = "all",
    *,
    estate: float | None = None,
    temperature: float | None = None,
    source: str = "frame",
) -> pd.DataFrame:
    """Apply rules to every problem of a long table.

    **Arguments:**

    - `df`: columns `name` and `claim`; optionally `problem` (several problems in one table)
      and `estate` (each problem's estate, constant within the problem).
    - `rule`: a rule name, a list of them, or `"all"`.
    - `estate`: the estate of a single-problem table without an `estate` column.
    - `source`: how errors name the table (a file name for the CLI); rows are reported as
      data rows counted from 1 (the line of a CSV file is that plus one).

    **Returns:** a DataFrame with columns `problem, name, claim, estate, rule, award`: for each rule
    (in the order asked), every input row in input order.
    """
    import pandas as pd

    rules = rule_list(rule)
    missing = [c for c in ("name", "claim") if c not in df.columns]
    if missing:
        raise InputError(
            f"{source}: missing column(s) {', '.join(missing)}; needs name, claim "
            f"[, problem, estate]; has {', '.join(map(str, df.columns))}"
        )
    if len(df) == 0:
        raise InputError(f"{source}: no rows (empty problem)")
    has_est = "estate" in df.columns
    if has_est and estate is not None:
        raise InputError(f"{source}: has an 'estate' column and an estate was also given (--estate); use one")
    if not has_est and estate is None:
        raise InputError(f"{source}: no estate: add an 'estate' column or give --estate")
    df = df.reset_index(drop=True)
    problems = df["problem"] if "problem" in df.columns else pd.Series([1] * len(df))
    if problems.isna().any():
        row = int(np.flatnonzero(problems.isna().to_numpy())[0]) + 1
        raise InputError(f"{source}: column problem is empty in data row {row}")
    if not has_est and problems.nunique() > 1:
        raise InputError(
            f"{source}: --estate is for a single-problem table, but it holds "
            f"{problems.nunique()} problems; add an 'estate' column instead"
        )
    claim_num = pd.to_numeric(df["claim"], errors="coerce")
    bad = claim_num.isna() & df["claim"].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{source}: claim in data row {row + 1} (name {df['name'].iloc[row]!r}) is not a number: "
            f"{df['claim'].iloc[row]!r}"
        )
    blocks = []
    award = {r: np.empty(len(df)) for r in rules}
    est_col = np.empty(len(df))
    by_size: dict[int, list] = {}
    for p, idx in df.groupby(problems, sort=False).indices.items():
        idx = np.sort(idx)
        p = p.item() if hasattr(p, "item") else p
        if has_est:
            e = pd.to_numeric(df["estate"].iloc[idx], errors="coerce").to_numpy()
            if np.isnan(e).all():
                raise InputError(f"{source}: problem {p!r} has no estate (data rows {idx[0] + 1}..{idx[-1] + 1})")
            e_ok = e[~np.isnan(e)]
            if not np.all(e_ok == e_ok[0]):
                raise InputError(
                    f"{source}: problem {p!r} has different estates in its rows "
                    f"({', '.join(map(str, sorted(set(e_ok.tolist()))))}); one estate per problem"
                )
            E = e_ok[0]
        else:
            E = estate
        names = df["name"].iloc[idx].tolist()
        c_p = claim_num.iloc[idx].to_numpy()
        for j, row in enumerate(idx):
            if np.isnan(c_p[j]):
                raise InputError(f"{source}: claim of {names[j]!r} in problem {p!r} (data row {row + 1}) is empty/NaN")
        c_p, E = validate_problem(c_p, E, problem=p, names=names)
        est_col[idx] = E
        by_size.setdefault(len(idx), []).append((idx, c_p, E))
    # problems of the same size run as one batch per rule (one compilation per size and rule)
    for group in by_size.values():
        cmat = np.stack([g[1] for g in group])
        evec = np.array([g[2] for g in group])
        for r in rules:
            x = allocate_batch(cmat, evec, r, temperature=temperature, validate=False, chunk_size=min(len(group), 8192))
            for (idx, _, _), xr in zip(group, x, strict=False):
                award[r][idx] = xr
    for r in rules:
        blocks.append(
            pd.DataFrame(
                {
                    "problem": problems.to_numpy(),
                    "name": df["name"].to_numpy(),
                    "claim": claim_num.to_numpy(),
                    "estate": est_col,
                    "rule": r,
                    "award": award[r],
                }
            )
        )
    return pd.concat(blocks, ignore_index=True)[list(OUTPUT_COLUMNS)]
