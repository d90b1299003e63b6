"""Compare automatic derivatives with finite differences that choose their own step.

A derivative through an equilibrium solve is only as smooth as the solve: the solution carries
rounding noise of the size of the solver's tolerance, so a central difference with a tiny step
divides that noise by the step (`noise / h`), and one with a large step suffers truncation error
(`h^2 f'''`). The default here is Ridders' method (Ridders 1982; Press et al., *Numerical
Recipes*, section 5.7): central differences at a sequence of shrinking steps `h_k = h_0 / 1.4^k`,
extrapolated to `h -> 0` in a Neville tableau (Richardson extrapolation), keeping for each entry
the estimate whose own error estimate is smallest. It starts from steps large enough that solver
noise does not matter and removes their truncation error by extrapolation, so a correct derivative
through a solve agrees to about 1e-8 relative or better, while a wrong one still fails.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from landjax.errors import InputError, as_float64

#: Ridders' method: step shrink factor, tableau size, stop when the error grows by this factor
_CON, _NTAB, _SAFE = 1.4, 10, 2.0


@dataclasses.dataclass(frozen=True)
class GradcheckResult:
    """Outcome of `gradcheck`.

    **Attributes:**

    - `ok`: every mode agrees with finite differences within `atol + rtol * |fd|`.
    - `ad`: mode -> derivative (gradient, or Jacobian of shape `(m, n)`).
    - `fd`: the finite-difference derivative.
    - `fd_error`: the finite-difference method's own error estimate for each entry (Ridders'
      tableau; for `method="central"` the difference between steps `h` and `h/2`).
    - `max_abs_err`, `max_rel_err`: worst discrepancy over modes and entries.
    - `method`: `"ridders"` or `"central"`.
    """

    ok: bool
    ad: dict
    fd: np.ndarray
    max_abs_err: float
    max_rel_err: float
    rtol: float
    atol: float
    fd_error: np.ndarray | None = None
    method: str = "ridders"

    def __str__(self) -> str:
        lines = [
            f"gradcheck ok={self.ok} max_abs_err={self.max_abs_err:.3e} max_rel_err={self.max_rel_err:.3e} "
            f"(rtol={self.rtol:g}, atol={self.atol:g}, finite differences: {self.method}"
            + (f", their error estimate <= {float(np.max(self.fd_error)):.1e})" if self.fd_error is not None else ")")
        ]
        for mode, d in self.ad.items():
            lines.append(f"  {mode}: {np.array2string(np.asarray(d), precision=6, threshold=20)}")
        lines.append(f"  fd : {np.array2string(self.fd, precision=6, threshold=20)}")
        return "\n".join(lines)


def _evaluate(fj: Callable, points: np.ndarray) -> np.ndarray:
    """`f` at each row of `points` (vmapped when `f` allows it, else one by one)."""
    try:
        return np.asarray(jax.jit(jax.vmap(fj))(jnp.asarray(points)))
    except Exception:  # a function that does not vmap (Python control flow on values, callbacks)
        return np.stack([np.asarray(fj(jnp.asarray(p))) for p in points])


def _ridders_column(fj: Callable, x: np.ndarray, i: int, h0: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridders' extrapolated central difference of `f` along coordinate `i`: (estimate, error)."""
    hs = h0 / _CON ** np.arange(_NTAB)
    pts = np.repeat(x[None, :], 2 * _NTAB, axis=0)
    pts[:_NTAB, i] += hs
    pts[_NTAB:, i] -= hs
    vals = _evaluate(fj, pts)  # (2 NTAB, *out)
    d0 = (vals[:_NTAB] - vals[_NTAB:]) / (2.0 * hs.reshape((-1,) + (1,) * (vals.ndim - 1)))
    out_shape = d0.shape[1:]
    best = np.full(out_shape, np.nan)
    err = np.full(out_shape, np.inf)
    stopped = np.zeros(out_shape, dtype=bool)
    prev = [d0[0]]
    for k in range(1, _NTAB):
        row = [d0[k]]
        fac = _CON**2
        for j in range(1, k + 1):
            a = (row[j - 1] * fac - prev[j - 1]) / (fac - 1.0)
            fac *= _CON**2
            errt = np.maximum(np.abs(a - row[j - 1]), np.abs(a - prev[j - 1]))
            better = ~stopped & np.isfinite(a) & np.isfinite(errt) & (errt <= err)
            best = np.where(better, a, best)
            err = np.where(better, errt, err)
            row.append(a)
        # higher order is worse than the best so far by a factor SAFE: stop refining that entry
        stopped |= np.abs(row[k] - prev[k - 1]) >= _SAFE * err
        prev = row
    fallback = np.isnan(best)  # nothing finite in the tableau: the plain central differences, if any
    if np.any(fallback):
        fin = np.where(np.isfinite(d0), d0, np.nan)
        last = fin[-1] if fin.shape[0] else np.full(out_shape, np.nan)
        best = np.where(fallback, last, best)
    return best, err


def gradcheck(
    f: Callable[[jax.Array], jax.Array],
    x: jax.Array,
    *,
    eps: float | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    modes: Sequence[str] = ("rev", "fwd"),
    method: str | None = None,
) -> GradcheckResult:
    """Check `jax` derivatives of `f` at `x` against finite differences.

    **Arguments:**

    - `f`: `f(x) -> scalar or 1-D array`; `x` is 1-D.
    - `method`: `"ridders"` (default when `eps` is not given): the step is chosen by
      Richardson extrapolation over shrinking central differences from `h_0 = 1e-2 max(1, |x_i|)`
      (`eps` sets that first relative step); `"central"` (default when `eps` is given): one
      central difference with step `h_i = eps max(1, |x_i|)`.
    - `rtol`, `atol`: agreement required of every entry: `|ad - fd| <= atol + rtol |fd|`.
    - `modes`: `"rev"` (`jax.jacrev`/`grad`) and/or `"fwd"` (`jax.jacfwd`).

    **Returns:** a `GradcheckResult`; in tests use `assert res.ok, res`.
    """
    if not callable(f):
        raise InputError(f"gradcheck: f must be a function, got {type(f).__name__}")
    x = as_float64(x, "gradcheck: x")
    if x.ndim != 1 or x.shape[0] == 0:
        raise InputError(f"gradcheck: x must be a non-empty 1-D array, got shape {x.shape}")
    if isinstance(modes, str) or not modes:
        raise InputError(f"gradcheck: modes must name at least one of 'rev', 'fwd' (a list), got {modes!r}")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(tol, (int, float, np.floating)) and np.isfinite(tol) and tol >= 0):
            raise InputError(f"gradcheck: {name} must be a finite number >= 0, got {tol!r}")
    for m in modes:
        if m not in ("rev", "fwd"):
            raise InputError(f"gradcheck: unknown mode {m!r}; use 'rev' and/or 'fwd'")
    method = method or ("central" if eps is not None else "ridders")
    if method not in ("ridders", "central"):
        raise InputError(f"gradcheck: method must be 'ridders' or 'central', got {method!r}")
    if eps is not None and not (np.isfinite(eps) and eps > 0):
        raise InputError(f"gradcheck: eps must be a finite number > 0, got {eps!r}")
    fj = jax.jit(f)
    y0 = np.asarray(fj(x))
    if y0.ndim > 1:
        raise InputError(f"gradcheck: f must return a scalar or 1-D array, got shape {y0.shape}")
    n = x.shape[0]
    xn = np.asarray(x)
    cols, errs = [], []
    for i in range(n):
        scale = max(1.0, abs(float(xn[i])))
        if method == "ridders":
            d, e = _ridders_column(fj, xn, i, (1e-2 if eps is None else eps) * scale)
        else:
            h = float(eps or 1e-6) * scale
            pts = np.repeat(xn[None, :], 4, axis=0)
            pts[:, i] += np.array([h, -h, h / 2, -h / 2])
            v = _evaluate(fj, pts)
            d = (v[0] - v[1]) / (2 * h)
            e = np.abs(d - (v[2] - v[3]) / h)
        cols.append(d)
        errs.append(e)
    fd = np.stack(cols, axis=-1)  # (n,) for scalar f, (m, n) for vector f
    fd_err = np.stack(errs, axis=-1)
    ad = {}
    if "rev" in modes:
        ad["rev"] = np.asarray(jax.jit(jax.jacrev(f))(x))
    if "fwd" in modes:
        ad["fwd"] = np.asarray(jax.jit(jax.jacfwd(f))(x))
    ok, max_abs, max_rel = True, 0.0, 0.0
    for d in ad.values():
        err = np.abs(d - fd)
        bad = ~(err <= atol + rtol * np.abs(fd))  # NaN counts as failure
        ok = ok and not bool(np.any(bad))
        if np.any(~np.isfinite(d)) or np.any(~np.isfinite(fd)):
            max_abs = max_rel = float("nan")
            continue
        max_abs = max(max_abs, float(np.max(err)) if err.size else 0.0)
        rel = err / np.maximum(np.abs(fd), 1e-300)
        max_rel = max(max_rel, float(np.max(np.where(np.abs(fd) > atol, rel, 0.0))) if err.size else 0.0)
    return GradcheckResult(
        ok=ok,
        ad=ad,
        fd=fd,
        max_abs_err=max_abs,
        max_rel_err=max_rel,
        rtol=rtol,
        atol=atol,
        fd_error=fd_err,
        method=method,
    )
