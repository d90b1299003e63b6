"""Sweeps: one model solved at every row of a grid of parameters and options, in vmapped batches.

`run_sweep` is what every model's `sweep` calls. A grid is a `pandas.DataFrame` (or a
mapping of columns) whose column names are the model's parameter names (`--set`), option names
(`--option`), solver settings (`--solver`) or context columns (e.g. `scenario` for
quota_trade). Rows that share their options and context are solved together: the parameters are
stacked along a leading batch axis and handed to the model's `solve_batch` in chunks (one
compiled program per option set and chunk size; no Python loop over rows). The result has one row
per grid row, in grid order: the grid columns, then `converged`, `residual_norm`, `steps`,
then the reported numbers flattened with the JSON key paths of `landjax solve MODEL --json`
(for example `statistics.gdp_change`). A row whose solve failed is flagged (`converged` false,
its numbers NaN), never dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import jax.numpy as jnp
import numpy as np

from landjax.contract import ModelSpec, parse_option, parse_param, shown
from landjax.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

FIRST_COLUMNS = ("converged", "residual_norm", "steps")


def classify_columns(spec: ModelSpec, columns: list[str]) -> dict[str, str]:
    """`column -> kind` (`param`, `option`, `solver` or `context`); unknown names raise."""
    pinfo = spec.Params.fields_info()  # type: ignore[attr-defined]
    onames = {i.name for i in spec.Options.registry()}  # type: ignore[attr-defined]
    snames = {i.name for i in spec.Solver.registry()} if spec.Solver is not None else set()  # type: ignore[attr-defined]
    kinds = {}
    for c in columns:
        if c in pinfo:
            kinds[c] = "param"
        elif c in onames:
            kinds[c] = "option"
        elif c in snames:
            kinds[c] = "solver"
        elif c in spec.context_columns:
            kinds[c] = "context"
        else:
            valid = sorted(set(pinfo) | onames | snames | set(spec.context_columns))
            raise InputError(f"grid: unknown column {c!r} for model {spec.name}; valid columns: {', '.join(valid)}")
    return kinds


def _cell_error(c: str, r: int, v: Any, why: str) -> InputError:
    return InputError(f"grid: row {r + 1} (line {r + 2} of a CSV file), column {c!r}: {shown(v)}: {why}")


def _parse_grid(spec: ModelSpec, grid: pd.DataFrame, kinds: dict[str, str]) -> dict[str, list[Any]]:
    pinfo = spec.Params.fields_info()  # type: ignore[attr-defined]
    out: dict[str, list[Any]] = {}
    for c, kind in kinds.items():
        vals = []
        for r, v in enumerate(grid[c].tolist()):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                raise _cell_error(c, r, v, "empty cell")
            try:
                if kind == "param":
                    if isinstance(v, str):
                        v = parse_param("Params", c, v, pinfo[c])
                    elif not pinfo[c].shape:
                        v = float(v)
                elif kind in ("option", "solver"):
                    owner = spec.Options if kind == "option" else spec.Solver
                    assert owner is not None  # a solver column exists only for a model with a Solver
                    v = parse_option(owner, c, v if isinstance(v, str) else _native(v))
                else:
                    v = str(v)
            except InputError as exc:
                raise _cell_error(c, r, v, str(exc)) from None
            except (TypeError, ValueError) as exc:
                raise _cell_error(c, r, v, str(exc)) from None
            vals.append(v)
        out[c] = vals
    return out


def _native(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def _batched_params(spec: ModelSpec, base: Any, columns: dict[str, list[Any]], rows: np.ndarray) -> Any:
    """`Params` with every leaf stacked over `rows` (base values broadcast where no column)."""
    pinfo = spec.Params.fields_info()  # type: ignore[attr-defined]
    n = len(rows)
    leaves = {}
    for name in pinfo:
        if name in columns:
            leaves[name] = jnp.asarray(np.stack([np.asarray(columns[name][i], dtype=np.float64) for i in rows]))
        else:
            v = jnp.asarray(getattr(base, name), dtype=jnp.float64)
            leaves[name] = jnp.broadcast_to(v, (n,) + v.shape)
    static = {
        f: getattr(base, f)
        for f in base.__dataclass_fields__
        if f not in pinfo  # non-parameter fields (if any) keep the base value
    }
    try:
        return spec.Params(**leaves, **static)
    except InputError:
        for i in rows:  # locate the first bad row for the message
            one = {k: columns[k][i] for k in columns if k in pinfo}
            try:
                spec.Params(**{**{k: getattr(base, k) for k in pinfo}, **one}, **static)
            except InputError as exc:
                raise InputError(f"grid: row {int(i) + 1} (line {int(i) + 2} of a CSV file): {exc}") from None
        raise


def run_sweep(
    spec: ModelSpec,
    grid: pd.DataFrame | Mapping[str, Any],
    params: Any = None,
    options: Any = None,
    *,
    solver: Any = None,
    chunk_size: int = 256,
    progress: bool = True,
    **context: Any,
) -> pd.DataFrame:
    """Solve `spec`'s model at every row of `grid` (see the module docstring).

    **Arguments:**

    - `spec`: the model's `ModelSpec` (`MODEL`).
    - `grid`: the rows to solve; columns named as on the command line.
    - `params`, `options`, `solver`: the base values for everything the grid does not set.
    - `chunk_size`: members per vmapped batch.
    - `progress`: a progress bar over the batches (`LANDJAX_PROGRESS=0` silences it).
    - `context`: base values of the model's context (e.g. `data=...` for quota_trade).

    **Returns:** a DataFrame, one row per grid row in grid order.
    """
    import pandas as pd

    if spec.solve_batch is None:
        raise InputError(f"model {spec.name} has no batched solve; sweeps are not available")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise InputError(f"sweep: chunk_size must be an integer >= 1, got {chunk_size!r}")
    frame = grid if isinstance(grid, pd.DataFrame) else _frame_of(grid)
    if len(frame) == 0:
        raise InputError("grid: no rows")
    frame = frame.reset_index(drop=True)
    kinds = classify_columns(spec, [str(c) for c in frame.columns])
    cols = _parse_grid(spec, frame, kinds)
    base_p = params if params is not None else spec.Params()
    base_o = options if options is not None else spec.Options()
    base_s = solver if solver is not None else (spec.Solver() if spec.Solver is not None else None)
    group_cols = [c for c, k in kinds.items() if k != "param"]
    keys = [tuple(_hashable(cols[c][r]) for c in group_cols) for r in range(len(frame))]
    groups: dict[tuple, list[int]] = {}
    for r, k in enumerate(keys):
        groups.setdefault(k, []).append(r)

    from landjax._io import progress as bar_of

    n_chunks = sum(-(-len(rows) // chunk_size) for rows in groups.values())
    bar = bar_of(total=n_chunks, desc=f"sweep {spec.name}", unit="batch") if progress else None
    parts: list[pd.DataFrame] = []
    for key, rows in groups.items():
        setting = dict(zip(group_cols, key, strict=True))
        where = f"grid: row {rows[0] + 1} (line {rows[0] + 2} of a CSV file)"
        if setting:
            where += ", " + ", ".join(f"{c}={_hashable(v)}" for c, v in setting.items())
        try:
            o = base_o.replace(**{c: v for c, v in setting.items() if kinds[c] == "option"}) if setting else base_o
            s = base_s
            if base_s is not None and any(kinds[c] == "solver" for c in setting):
                s = base_s.replace(**{c: v for c, v in setting.items() if kinds[c] == "solver"})
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
        ctx = {**context, **{c: v for c, v in setting.items() if kinds[c] == "context"}}
        idx = np.asarray(rows)
        for start in range(0, len(idx), chunk_size):
            chunk = idx[start : start + chunk_size]
            pb = _batched_params(spec, base_p, {c: cols[c] for c in kinds if kinds[c] == "param"}, chunk)
            try:
                res = spec.solve_batch(pb, o, solver=s, **ctx)
            except InputError as exc:  # e.g. a scenario name: the whole group shares it
                raise InputError(f"{where}: {exc}") from None
            part = res.to_frame()
            part.index = chunk
            parts.append(part)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    out = pd.concat(parts).sort_index()
    failed = ~out["converged"].to_numpy(dtype=bool)
    # a failed row keeps its flags and diagnostics, never numbers presented as answers; the column
    # types do not depend on whether a row failed (so a grid split into slices gives the same text)
    keep = ~failed
    columns: dict[Any, Any] = {}
    for c in out.columns:  # built once (column by column assignment fragments a wide frame)
        v = out[c]
        if c not in FIRST_COLUMNS and not str(c).startswith("diagnostics."):
            kind = v.dtype.kind
            if kind in "iu":
                v, kind = v.astype(float), "f"
            if kind in "fc":
                v = v.where(keep, np.nan)
            elif kind == "b":
                v = v.astype(object).where(keep, None)
        columns[c] = v
    first = [c for c in FIRST_COLUMNS if c in columns]
    out = pd.DataFrame({c: columns[c] for c in first + [c for c in columns if c not in first]}, index=out.index)
    grid_part = frame.copy()
    return pd.concat([grid_part, out], axis=1)


def _frame_of(grid: Any) -> pd.DataFrame:
    """A mapping of columns as a DataFrame; columns of different lengths are an `InputError`."""
    import pandas as pd

    if not isinstance(grid, Mapping):
        raise InputError(f"grid: expected a pandas DataFrame or a mapping of columns, got {type(grid).__name__}")
    cols = {str(k): (list(v) if isinstance(v, (list, tuple, np.ndarray, pd.Series)) else [v]) for k, v in grid.items()}
    lengths = {k: len(v) for k, v in cols.items()}
    if len(set(lengths.values())) > 1:
        raise InputError(
            "grid: columns have different lengths (" + ", ".join(f"{k}: {n}" for k, n in lengths.items()) + ")"
        )
    return pd.DataFrame(cols)


def _hashable(v: Any) -> Any:
    if isinstance(v, (list, np.ndarray)) or hasattr(v, "shape"):
        return tuple(np.asarray(v).reshape(-1).tolist())
    return v


def sweep_for(spec: ModelSpec, doc: str = "") -> Callable[..., pd.DataFrame]:
    """The `sweep(grid, params=None, options=None, **kw)` function of a model: `run_sweep(spec, ...)`.

    Every model exports the function this returns as its `sweep` (one definition instead of one
    wrapper per model); `doc` names the model's grid columns in the docstring.
    """

    def sweep(grid: Any, params: Any = None, options: Any = None, **kw: Any) -> pd.DataFrame:
        return run_sweep(spec, grid, params, options, **kw)

    cols = doc or "columns: parameters, options, solver settings"
    sweep.__doc__ = (
        f"Solve the {spec.name} model at every row of `grid` ({cols});"
        " `landjax.sweep.run_sweep` with this model's spec (keywords `solver`, `chunk_size`, `progress` and the"
        " model's context). **Returns:** a DataFrame, one row per grid row in grid order."
    )
    sweep.__module__ = spec.solve.__module__
    sweep.__qualname__ = "sweep"
    return sweep
