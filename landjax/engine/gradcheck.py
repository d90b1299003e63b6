"""Compare automatic derivatives with central finite differences."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from landjax.errors import InputError, as_float64


@dataclasses.dataclass(frozen=True)
class GradcheckResult:
    """Outcome of :func:`gradcheck`.

    Attributes:
        ok: every mode agrees with finite differences within ``atol + rtol * |fd|``.
        ad: mode -> derivative (gradient, or Jacobian of shape ``(m, n)``).
        fd: central finite-difference derivative.
        max_abs_err, max_rel_err: worst discrepancy over modes and entries.
    """

    ok: bool
    ad: dict
    fd: np.ndarray
    max_abs_err: float
    max_rel_err: float
    rtol: float
    atol: float

    def __str__(self) -> str:
        lines = [
            f"gradcheck ok={self.ok} max_abs_err={self.max_abs_err:.3e} max_rel_err={self.max_rel_err:.3e} "
            f"(rtol={self.rtol:g}, atol={self.atol:g})"
        ]
        for mode, d in self.ad.items():
            lines.append(f"  {mode}: {np.array2string(np.asarray(d), precision=6, threshold=20)}")
        lines.append(f"  fd : {np.array2string(self.fd, precision=6, threshold=20)}")
        return "\n".join(lines)


def gradcheck(
    f: Callable[[jax.Array], jax.Array],
    x: jax.Array,
    *,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    modes: Sequence[str] = ("rev", "fwd"),
) -> GradcheckResult:
    """Check ``jax`` derivatives of ``f`` at ``x`` against central differences.

    **Arguments:**

    - `f`: ``f(x) -> scalar or 1-D array``; ``x`` is 1-D.
    - `eps`: relative step: ``h_i = eps * max(1, |x_i|)``.
    - `rtol`, `atol`: agreement required of every entry: ``|ad - fd| <= atol + rtol |fd|``.
    - `modes`: ``"rev"`` (``jax.jacrev``/``grad``) and/or ``"fwd"`` (``jax.jacfwd``).

    **Returns:** a :class:`GradcheckResult`; in tests use ``assert res.ok, res``.
    """
    x = as_float64(x, "gradcheck: x")
    if x.ndim != 1:
        raise InputError(f"gradcheck: x must be 1-D, got shape {x.shape}")
    for m in modes:
        if m not in ("rev", "fwd"):
            raise InputError(f"gradcheck: unknown mode {m!r}; use 'rev' and/or 'fwd'")
    fj = jax.jit(f)
    y0 = np.asarray(fj(x))
    if y0.ndim > 1:
        raise InputError(f"gradcheck: f must return a scalar or 1-D array, got shape {y0.shape}")
    n = x.shape[0]
    xn = np.asarray(x)
    cols = []
    for i in range(n):
        h = eps * max(1.0, abs(float(xn[i])))
        xp, xm = xn.copy(), xn.copy()
        xp[i] += h
        xm[i] -= h
        cols.append((np.asarray(fj(jnp.asarray(xp))) - np.asarray(fj(jnp.asarray(xm)))) / (2 * h))
    fd = np.stack(cols, axis=-1)  # (n,) for scalar f, (m, n) for vector f
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
    return GradcheckResult(ok=ok, ad=ad, fd=fd, max_abs_err=max_abs, max_rel_err=max_rel, rtol=rtol, atol=atol)
