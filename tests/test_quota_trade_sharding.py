"""County scale: the migration matrix split by rows over (forced) CPU devices gives the same
equilibrium and gradient as the unsharded solve, and the compiled map really is distributed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import pytest

from landjax.errors import InputError
from landjax.models import quota_trade as M

CODE = textwrap.dedent(
    """
    import numpy as np, jax, jax.numpy as jnp
    import landjax
    from landjax.models import quota_trade as M
    from landjax.models.quota_trade import equations as E
    from landjax.scenarios import quota as Q
    assert len(jax.devices()) == 4, jax.devices()
    base = M.build_baseline("synthetic:0:300")
    sb = M.shard_rows(base)
    shards = sb.m.addressable_shards
    assert len(shards) == 4 and all(s.data.shape == (75, 300) for s in shards), [s.data.shape for s in shards]
    assert len({s.device for s in shards}) == 4
    sc = Q.Scenario.from_name("inter_all_area_both")

    def gdp(b, s):
        sh = Q.compile_scenario(b, sc, share=s)
        eq = M.solve_shock(b, sh, throw=False, tangent="neumann")
        return M.statistics(b, sh, eq)["gdp_change"], eq

    (g1, e1), (g4, e4) = gdp(base, 0.15), gdp(sb, 0.15)
    assert bool(e1.converged) and bool(e4.converged), (e1.residual_norm, e4.residual_norm)
    np.testing.assert_allclose(np.asarray(e4.L_hat), np.asarray(e1.L_hat), rtol=1e-12)
    np.testing.assert_allclose(float(g4), float(g1), rtol=1e-10)
    d1 = float(jax.grad(lambda s: gdp(base, s)[0])(0.15))
    d4 = float(jax.grad(lambda s: gdp(sb, s)[0])(0.15))
    assert abs(d4 - d1) <= 1e-8 * abs(d1), (d1, d4)
    # the compiled equilibrium map adds per-device partial sums of m^T (L0 / D): one all-reduce
    sh = Q.compile_scenario(sb, sc)
    step = jax.jit(lambda x, b, s: E.hat_map(x, (b, s, M.Params(), b.m)))
    hlo = step.lower(jnp.zeros(300), sb, sh).compile().as_text()
    assert "all-reduce" in hlo
    from landjax.errors import InputError
    try:
        M.shard_rows(M.build_baseline("synthetic:0:31"), devices=4)
        raise SystemExit("31 cities over 4 devices was accepted")
    except InputError as e:
        assert "do not split evenly over 4 devices" in str(e) and "[1]" in str(e), str(e)
    print("sharded-ok", float(g1), d1)
    """
)


def test_shard_rows_over_four_cpu_devices_matches_unsharded():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "sharded-ok" in out.stdout


def test_shard_rows_refuses_an_uneven_split_and_a_wrong_type():
    base = M.build_baseline("synthetic:0:31")
    M.shard_rows(base, devices=1)  # one device always divides
    with pytest.raises(InputError, match="shard_rows: expected a quota_trade Baseline"):
        M.shard_rows(jnp.ones((3, 3)))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="devices=99"):
        M.shard_rows(base, devices=99)
