"""Start-up of the command line (issue #18, item 3): nothing a command does not need is imported,
and the engine's kept programs (``landjax/engine/_aot.py``) give bit-identical results in a new
process. Timings are not tested here; they are in ``benchmarks/engine_startup.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from landjax import engine
from landjax.engine import _aot
from landjax.examples import Armington, armington_excess

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("claims", "urban_rural", "quota_trade", "land_debt", "helpman")
#: packages no command needs at start-up (pandas: only quota_trade's data and the sweep/table commands)
HEAVY = ("pandas", "matplotlib", "scipy", "optax", "jaxopt", "optimistix", "equinox", "hypothesis")


def _python(code: str, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter (this checkout first on the path); it prints one JSON line."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "LANDJAX_PROGRESS": "0", "LANDJAX_KEEP_PROGRAMS": "1", **env}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=full_env, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


_LOADED_MODULES = """
import json, sys
def loaded():
    ours = ("landjax.models.", "landjax.reproduce", "landjax.sweep")
    return sorted(m for m in sys.modules if m.split(".")[0] in {heavy} or m.startswith(ours))
"""


def test_importing_the_command_line_imports_no_model_and_no_heavy_package():
    out = _python(
        _LOADED_MODULES.format(heavy=set(HEAVY))
        + """
import landjax.cli
print(json.dumps(loaded()))
"""
    )
    assert out == []


def test_landjax_solve_claims_imports_no_other_model_and_no_pandas(tmp_path):
    out = _python(
        _LOADED_MODULES.format(heavy=set(HEAVY))
        + """
import contextlib, io
from landjax.cli import main
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    rc = main(["solve", "claims", "--json"])
print(json.dumps({"rc": rc, "result": json.loads(buf.getvalue()), "loaded": loaded()}))
""",
        LANDJAX_CACHE_DIR=str(tmp_path / "cache"),
    )
    assert out["rc"] == 0 and out["result"]["model"] == "claims" and out["result"]["converged"]
    models = {m.split(".")[2] for m in out["loaded"] if m.startswith("landjax.models.")}
    assert models == {"claims"}
    assert not [m for m in out["loaded"] if m.split(".")[0] in HEAVY]
    assert not [m for m in out["loaded"] if m.startswith(("landjax.reproduce", "landjax.sweep_cli"))]


@pytest.mark.parametrize("name", [m for m in MODELS if m != "claims"])
def test_a_models_spec_loads_that_model_only(name):
    out = _python(
        _LOADED_MODULES.format(heavy=set(HEAVY))
        + f"""
from landjax._cli_common import model_spec
model_spec({name!r})
print(json.dumps(loaded()))
"""
    )
    models = {m.split(".")[2] for m in out if m.startswith("landjax.models.") and m.count(".") >= 2}
    assert models == {name}
    # quota_trade reads its bundled CSV data with pandas; nothing else needs it before solving
    allowed = {"pandas"} if name == "quota_trade" else set()
    assert {m.split(".")[0] for m in out if m.split(".")[0] in HEAVY} <= allowed
    assert not [m for m in out if m.startswith("landjax.reproduce")]


_KEPT = """
import json
import jax, jax.numpy as jnp
import landjax
from landjax.cli import enable_compilation_cache
enable_compilation_cache()
from landjax import engine
from landjax.engine import _aot
from landjax.examples import Armington, armington_excess, armington_map
n = 4
par = Armington(Q=jnp.linspace(1.0, 2.0, n), a=jnp.ones(n), sigma=jnp.asarray(3.5), d=1.3 - 0.3 * jnp.eye(n))
y0 = jnp.zeros(n - 1)
s1 = engine.solve(armington_excess, y0, par, tol=1e-12, ftol=1e-10)
s2 = engine.fixed_point(armington_map, y0, par, tol=1e-12, ftol=1e-10)
s3 = engine.solve(armington_excess, y0, par, tol=1e-12, ftol=1e-10)  # second call in the process
print(json.dumps({
    "solve": s1.value.tobytes().hex(), "steps": int(s1.steps), "residual": float(s1.residual_norm),
    "fixed_point": s2.value.tobytes().hex(), "again": s3.value.tobytes().hex(), "stats": _aot.STATS,
}))
"""


def test_kept_programs_are_bit_identical_to_the_traced_ones_in_a_new_process(tmp_path):
    cache = tmp_path / "cache"
    first = _python(_KEPT, LANDJAX_CACHE_DIR=str(cache))  # exports and stores the two programs
    kept = sorted((cache / "landjax-aot").glob("*.pkl"))
    second = _python(_KEPT, LANDJAX_CACHE_DIR=str(cache))  # loads them: no tracing of the solves
    plain = _python(_KEPT, LANDJAX_CACHE_DIR="")  # no cache at all: plain jax.jit
    assert first["stats"] == {"loaded": 0, "stored": 2}
    assert len(kept) == 2
    assert second["stats"] == {"loaded": 2, "stored": 0}
    assert plain["stats"] == {"loaded": 0, "stored": 0}
    for key in ("solve", "fixed_point", "again", "steps", "residual"):
        assert first[key] == second[key] == plain[key], key
    # a damaged entry is not used: it is exported again and replaced, with the same result
    for p in kept:
        p.write_bytes(b"not a pickle")
    third = _python(_KEPT, LANDJAX_CACHE_DIR=str(cache))
    assert third["stats"] == {"loaded": 0, "stored": 2}
    assert third["solve"] == plain["solve"] and third["fixed_point"] == plain["fixed_point"]


def test_kept_programs_are_off_unless_asked_for(monkeypatch):
    monkeypatch.delenv("LANDJAX_KEEP_PROGRAMS", raising=False)
    assert _aot.folder() is None
    assert not _aot.enabled_for(armington_excess, [jnp.zeros(2)])


def test_a_users_function_or_a_traced_call_is_never_kept(monkeypatch):
    monkeypatch.setenv("LANDJAX_KEEP_PROGRAMS", "1")
    n = 3
    par = Armington(Q=jnp.ones(n), a=jnp.ones(n), sigma=jnp.asarray(2.5), d=1.2 - 0.2 * jnp.eye(n))
    y0 = jnp.zeros(n - 1)
    before = dict(_aot.STATS)

    def users_residual(y, p):  # defined outside landjax
        return armington_excess(y, p)

    s_user = engine.solve(users_residual, y0, par, tol=1e-12, ftol=1e-10)
    s_lambda = engine.solve(lambda y, p: armington_excess(y, p), y0, par, tol=1e-12, ftol=1e-10)
    traced = jax.jit(lambda p: engine.solve(armington_excess, y0, p, tol=1e-12, ftol=1e-10).value)(par)
    assert _aot.STATS == before
    assert not _aot.enabled_for(users_residual, [y0])
    assert _aot.enabled_for(armington_excess, [y0])  # the compilation cache is on in the tests, kept programs asked for
    seen: list[bool] = []
    jax.jit(lambda x: seen.append(_aot.enabled_for(armington_excess, [x])) or x)(y0)
    assert seen == [False]
    np.testing.assert_allclose(np.asarray(s_user.value), np.asarray(s_lambda.value), rtol=0, atol=0)
    np.testing.assert_allclose(np.asarray(traced), np.asarray(s_user.value), rtol=1e-12)


def test_the_key_names_everything_that_changes_the_program():
    n = 3
    avals = _aot._avals([jnp.zeros(n), 1.0, np.ones((2, 2))])
    assert avals == (((3,), "float64", False), ((), "float64", True), ((2, 2), "float64", False))
    k = _aot._disk_key(armington_excess, ("solve", 1e-10), None, avals)
    assert k is not None
    assert k != _aot._disk_key(armington_excess, ("solve", 1e-12), None, avals)  # a static setting
    assert k != _aot._disk_key(armington_excess, ("solve", 1e-10), None, avals[:2])  # the arguments
    from landjax.examples import armington_map

    assert k != _aot._disk_key(armington_map, ("solve", 1e-10), None, avals)  # the function

    class Opaque:  # shown by its address: no stable key, so it is not kept
        pass

    assert _aot._disk_key(armington_excess, ("solve", Opaque()), None, avals) is None


def test_cache_entries_are_written_whole_and_shared_between_processes(tmp_path):
    """Several processes may share the persistent cache (xdist workers, `sweep --processes K`):
    each entry is written to a temporary name and moved into place, and a second process reads it."""
    code = """
    import json
    import jax, jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    from jax._src import compilation_cache as cc
    from landjax.cli import enable_compilation_cache
    enable_compilation_cache()
    hits = []
    jax.monitoring.register_event_listener(lambda name, **kw: hits.append(name))
    y = jax.jit(lambda x: jnp.sin(x) * 3.0 + x ** 2)(jnp.arange(7.0))
    print(json.dumps({"cache": type(cc._cache).__name__, "y": float(y.sum()),
                      "hit": "/jax/compilation_cache/cache_hits" in hits}))
    """
    first = _python(code, LANDJAX_CACHE_DIR=str(tmp_path), LANDJAX_KEEP_PROGRAMS="0")
    entries = sorted(p.name for p in tmp_path.iterdir())
    assert first["cache"] == "AtomicFileCache" and not first["hit"]
    assert any(n.endswith("-cache") for n in entries)
    assert not [n for n in entries if n.endswith(".tmp")], entries
    second = _python(code, LANDJAX_CACHE_DIR=str(tmp_path), LANDJAX_KEEP_PROGRAMS="0")
    assert second["hit"] and second["y"] == first["y"]
