"""Land-debt model: every reported statistic recomputed in plain NumPy from the reported equilibrium
(independent formulas), welfare under immobile labour, validation of every parameter whatever its
type, the command line's error paths and strict JSON (issue 13, items 1, 5, 11, 13)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from landjax.cli import main
from landjax.errors import DtypeWarning, InputError
from landjax.models import land_debt as ld


def _reject(name):
    raise ValueError(f"non-standard JSON constant {name}")


def run_cli(*args: str) -> tuple[int, dict | None, str]:
    """``landjax solve land_debt ARGS --json`` in-process: (exit code, strict-JSON stdout or None, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["solve", "land_debt", *args, "--json"])
    text = out.getvalue()
    return rc, (json.loads(text, parse_constant=_reject) if text.strip() else None), err.getvalue()


# ------------------------------------------------------------------------------------------------
# independent NumPy formulas (written from the model's equations, not from landjax code)
# ------------------------------------------------------------------------------------------------


def numpy_equilibrium(ss: dict, P: dict, options: dict) -> dict:
    """Every steady-state quantity from the reported unknowns (Y, K^p, G^c, N, s) and parameters."""
    f = {k: np.asarray(v, dtype=np.float64) for k, v in P.items()}
    Y, Kp, Gc, N, s = (np.asarray(ss[k], dtype=np.float64) for k in ("Y", "Kp", "Gc", "N", "s"))
    sig = f["sigma"]
    # CES composite and the prices that make p_j = dX/dY_j
    X = np.sum(f["omega"] ** (1 / sig) * Y ** ((sig - 1) / sig)) ** (sig / (sig - 1))
    price = (f["omega"] * X / Y) ** (1 / sig)
    pY = price * Y
    r = 1 / f["beta"] - 1
    rk = r + f["delta_k"]
    ak = 1 - f["a_n"] - f["a_l"]
    kbar = 0.0 if options["variant"] == "homothetic" else f["k_bar"]
    hs = f["chi"] / (1 + f["chi"])
    K = ak * (1 - f["tau"]) * pY / ((1 - s) * rk)  # rental condition
    Ks = kbar * f["L"]
    Lf, Lh = f["lam"] * f["L"], (1 - f["lam"]) * f["L"]
    w = f["a_n"] * (1 - f["tau"]) * pY / N
    h = Lh / N  # housing per worker clears the rental market
    R = hs * w / h  # housing demand R h = chi/(1+chi) w
    rho_f = f["a_l"] * (1 - f["tau"]) * pY / Lf
    annuity = 1 - f["beta"] * (1 - f["delta_L"])
    qf, Ph = rho_f / annuity, R / annuity
    V = qf * Lf + Ph * Lh
    B = f["theta_L"] * V + f["theta_K"] * (Kp + Ks)
    LR = f["delta_L"] * V - s * rk * K
    Ip, Is = f["delta_g"] * Kp, f["delta_g"] * Ks
    U = (1 + f["chi"]) * np.log(w) - f["chi"] * np.log(R) + np.log(f["b"])
    return dict(
        X=X,
        price=price,
        pY=pY,
        Y=Y,
        Kp=Kp,
        Gc=Gc,
        N=N,
        s=s,
        K=K,
        Ks=Ks,
        Lf=Lf,
        Lh=Lh,
        w=w,
        R=R,
        rho_f=rho_f,
        qf=qf,
        Ph=Ph,
        V=V,
        B=B,
        LR=LR,
        Ip=Ip,
        Is=Is,
        U=U,
        r=r,
        rk=rk,
        ak=ak,
        hs=hs,
        f=f,
    )


def numpy_statistics(q: dict, options: dict) -> dict:
    """The reported statistics from the quantities of :func:`numpy_equilibrium`."""
    f = q["f"]
    pY, N, B, LR = q["pY"], q["N"], q["B"], q["LR"]
    own = f["tau"] * pY + LR
    lev = B / pY
    real_w = q["w"] / q["R"] ** q["hs"]
    if options["mobility"] == "mobile":  # expected utility of each hukou group (Frechet, hukou cost mu)
        cost = np.array([[1.0, f["mu"]], [f["mu"], 1.0]])
        W = np.array(
            [
                math.log(sum((math.exp(q["U"][d]) / cost[o, d]) ** f["kappa"] for d in range(2))) / f["kappa"]
                for o in range(2)
            ]
        )
    else:  # each group lives in its own city
        W = q["U"]
    spending = np.sum(q["Ip"] + q["Is"] + q["Gc"] + f["g_bar"] * f["N_bar"])
    return {
        "X": q["X"],
        "output_gap": pY[0] / pY[1],
        "real_output_gap": q["Y"][0] / q["Y"][1],
        "income_gap": (pY[0] / N[0]) / (pY[1] / N[1]),
        "wage_gap": q["w"][0] / q["w"][1],
        "rel_wage2": q["w"][1] / q["w"][0],
        "real_wage_gap": real_w[0] / real_w[1],
        "house_price_gap": q["Ph"][0] / q["Ph"][1],
        "land_mpl_gap": q["rho_f"][0] / q["rho_f"][1],
        "lev1": lev[0],
        "lev2": lev[1],
        "lev_gap": lev[1] - lev[0],
        "rel_lev2": lev[1] / lev[0],
        "debt_ratio1": B[0] / own[0],
        "debt_ratio2": B[1] / own[1],
        "land_dep1": LR[0] / own[0],
        "land_dep2": LR[1] / own[1],
        "infra_dep1": (q["Ip"][0] + q["Is"][0]) / pY[0],
        "infra_dep2": (q["Ip"][1] + q["Is"][1]) / pY[1],
        "consumption": q["X"] - f["delta_k"] * np.sum(q["K"]) - spending,
        "welfare": float(np.dot(f["N_bar"], W)),
        "N1": N[0],
        "p1": q["price"][0],
        "p2": q["price"][1],
        "Ph1": q["Ph"][0],
        "Ph2": q["Ph"][1],
        "rho_f1": q["rho_f"][0],
        "rho_f2": q["rho_f"][1],
        "debt_gdp": np.sum(B) / q["X"],
        "pubcap_gdp": np.sum(q["Kp"] + q["Ks"]) / q["X"],
        "servicing_share": np.sum(q["Ks"]) / np.sum(q["Kp"] + q["Ks"]),
        "s1": q["s"][0],
        "s2": q["s"][1],
        "eta_over_lambda": 1 - f["beta_g"] * (1 + q["r"]),
    }


def numpy_conditions(q: dict, options: dict) -> np.ndarray:
    """Steady-state conditions (relative errors): production, government budget with a binding
    collateral constraint, the infrastructure first-order condition, location choice when mobile."""
    f = q["f"]
    Ke = q["Kp"] + f["psi_s"] * q["Ks"]
    Y_model = f["A"] * Ke ** f["gamma"] * q["K"] ** q["ak"] * q["N"] ** f["a_n"] * q["Lf"] ** f["a_l"]
    out = [q["Y"] / Y_model - 1]
    Gc_budget = f["tau"] * q["pY"] + q["LR"] - q["Ip"] - q["Is"] - q["r"] * q["B"] - f["g_bar"] * f["N_bar"]
    out.append((q["Gc"] - Gc_budget) / q["pY"])
    if options["attraction"] == "exogenous":
        eta = 1 - f["beta_g"] * (1 + q["r"])  # multiplier of the collateral constraint / Lambda
        v = (1 - f["tau"]) * (f["a_l"] + q["hs"] * f["a_n"]) / (1 - f["beta"] * (1 - f["delta_L"]))
        phi = f["tau"] + f["delta_L"] * v - q["s"] * q["ak"] * (1 - f["tau"]) / (1 - q["s"])
        g_t = f["gamma"] / (1 - q["ak"])
        lhs = Ke * (1 - eta * f["theta_K"] - f["beta_g"] * (1 - f["delta_g"]))
        rhs = g_t * (
            (eta * f["theta_L"] * v + f["beta_g"] * phi) * q["pY"] + f["beta_g"] * f["xi"] / (1 - f["xi"]) * q["Gc"]
        )
        out.append(lhs / rhs - 1)
    if options["mobility"] == "mobile":
        cost = np.array([[1.0, f["mu"]], [f["mu"], 1.0]])
        e = (np.exp(q["U"])[None, :] / cost) ** f["kappa"]
        Nstar = f["N_bar"] @ (e / e.sum(axis=1, keepdims=True))
        out.append(np.atleast_1d(q["N"][0] / Nstar[0] - 1))
    return np.concatenate([np.atleast_1d(x) for x in out])


def _close(a, b, rtol=1e-10, atol=1e-12):
    return abs(a - b) <= atol + rtol * abs(b)


CLI_CASES = {
    "default": (),
    "land_to_city1": ("--set", "L=0.55,0.45"),
    "mobile_mu2": ("--option", "mobility=mobile", "--set", "mu=2"),
    "optimal_attraction_taxes_mandate": (
        "--option",
        "attraction=optimal",
        "--set",
        "tau=0.12,0.08",
        "--set",
        "g_bar=0.01",
    ),
    "homothetic_subsidy": ("--option", "variant=homothetic", "--set", "s=0.05,0.0", "--set", "b=1.2,0.9"),
    "calibrated_mobile": ("--calibrate", "--option", "mobility=mobile", "--set", "L=0.40,0.60"),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_statistics_recomputed_from_the_reported_equilibrium(case):
    """Every number of ``landjax solve land_debt --json`` recomputed in NumPy from the JSON's own
    steady state and parameters; the steady state itself satisfies the equilibrium conditions."""
    rc, out, err = run_cli(*CLI_CASES[case])
    assert rc == 0 and out is not None and out["converged"] is True, err
    q = numpy_equilibrium(out["steady_state"], out["params"], out["options"])
    assert np.max(np.abs(numpy_conditions(q, out["options"]))) < 1e-9
    ref = numpy_statistics(q, out["options"])
    assert out["statistics"], "no statistics reported"
    for k, v in out["statistics"].items():
        assert k in ref, f"statistic {k!r} has no independent formula in this test"
        assert _close(v, float(ref[k])), (case, k, v, float(ref[k]))


@pytest.mark.parametrize("case", ["default", "mobile_mu2", "optimal_attraction_taxes_mandate"])
def test_python_outcomes_recomputed_in_numpy(case):
    """Every key of ``statistics`` (a superset of the CLI's) against the NumPy formulas."""
    _, out, _ = run_cli(*CLI_CASES[case])
    assert out is not None
    p = ld.Params(**out["params"])
    op = ld.Options(**out["options"])
    sol = ld.solve_steady_state(p, op)
    o = ld.statistics(sol.value, p, op)
    u = ld.unpack(sol.value, p, op)
    ss = {
        "Y": np.exp(np.asarray(u["lnY"])),
        "Kp": np.exp(np.asarray(u["lnKp"])),
        "Gc": np.exp(np.asarray(u["lnGc"])),
        "N": np.asarray(u["N"]),
        "s": np.asarray(u["s"]),
    }
    ref = numpy_statistics(numpy_equilibrium(ss, out["params"], out["options"]), out["options"])
    assert set(o) == set(ref)
    for k in ref:
        assert _close(float(o[k]), float(ref[k])), (case, k)


# ------------------------------------------------------------------------------------------------
# issue 13 item 1: welfare with immobile labour is the own-city utility
# ------------------------------------------------------------------------------------------------


def test_immobile_welfare_does_not_depend_on_mu():
    rc0, a, _ = run_cli()
    rc1, b, _ = run_cli("--set", "mu=1e6")
    assert rc0 == rc1 == 0 and a is not None and b is not None
    assert a["steady_state"] == b["steady_state"]  # the immobile steady state ignores mu ...
    assert a["statistics"]["welfare"] == b["statistics"]["welfare"]  # ... and so must welfare


def test_immobile_welfare_sign_of_moving_land_to_city1():
    """``--set L=0.55,0.45`` lowers welfare (own-city utilities), as the NumPy formula says."""
    _, a, _ = run_cli()
    _, b, _ = run_cli("--set", "L=0.55,0.45")
    assert a is not None and b is not None
    wa = numpy_statistics(numpy_equilibrium(a["steady_state"], a["params"], a["options"]), a["options"])["welfare"]
    wb = numpy_statistics(numpy_equilibrium(b["steady_state"], b["params"], b["options"]), b["options"])["welfare"]
    assert wb < wa
    assert b["statistics"]["welfare"] - a["statistics"]["welfare"] < 0
    assert _close(b["statistics"]["welfare"] - a["statistics"]["welfare"], wb - wa, rtol=1e-8)


def test_mobile_welfare_tends_to_immobile_welfare_as_mu_grows():
    """With a prohibitive hukou cost the mobile economy is the immobile one (N -> N_bar)."""
    p, o = ld.Params(), ld.Options()
    w_imm = float(ld.statistics(ld.solve_steady_state(p, o).value, p, o)["welfare"])
    pm, om = p.replace(mu=1e8), ld.Options(mobility="mobile")
    w_mob = float(ld.statistics(ld.solve_steady_state(pm, om).value, pm, om)["welfare"])
    assert abs(w_mob - w_imm) < 1e-8


# ------------------------------------------------------------------------------------------------
# issue 13 item 5: every parameter validated, whatever its type
# ------------------------------------------------------------------------------------------------

FIELDS = ld.Params.fields_info()


def _bad_values(name):
    """Out-of-range values of field ``name`` (below and above its interval), plus NaN and inf."""
    info = FIELDS[name]
    lo, hi = info.bounds.lo, info.bounds.hi
    vals = [math.nan, math.inf]
    if math.isfinite(lo):
        vals.append(lo - 0.5 if not info.bounds.lo_closed else lo - 1e-3)
        if not info.bounds.lo_closed:
            vals.append(lo)
    if math.isfinite(hi):
        vals.append(hi + 0.5)
        if not info.bounds.hi_closed:
            vals.append(hi)
    return vals


@pytest.mark.parametrize("name", list(FIELDS))
@pytest.mark.parametrize("kind", ["python", "numpy", "jax"])
def test_every_parameter_is_range_checked_whatever_its_type(name, kind):
    info = FIELDS[name]
    assert info.bounds is not None, f"{name} has no allowed range"
    default = np.asarray(getattr(ld.Params(), name), dtype=np.float64)
    for bad in _bad_values(name):
        v = np.array(default)
        if v.ndim:
            v[0] = bad
        else:
            v = np.array(bad)
        value = {"python": v.tolist(), "numpy": np.float64(v) if v.ndim == 0 else v, "jax": jnp.asarray(v)}[kind]
        with pytest.raises(InputError, match=rf"Params\.{name}\b") as exc:
            ld.Params(**{name: value})
        if math.isfinite(bad):
            assert str(info.bounds) in str(exc.value)  # the message names the allowed range


@pytest.mark.parametrize("name", [n for n in FIELDS if FIELDS[n].shape])
def test_per_city_parameters_need_two_values(name):
    with pytest.raises(InputError, match=rf"Params\.{name}.*shape"):
        ld.Params(**{name: jnp.ones(3) * 0.3})


@pytest.mark.parametrize(
    "changes, field",
    [
        (dict(beta_g=0.97), "beta_g"),
        (dict(a_n=0.6, a_l=0.45), "a_l"),
        (dict(gamma=0.7), "gamma"),
        (dict(sigma=1.0), "sigma"),
        (dict(N_bar=[0.5, 0.6]), "N_bar"),
    ],
)
def test_cross_field_conditions(changes, field):
    with pytest.raises(InputError, match=rf"Params\.{field}"):
        ld.Params(**changes)


def test_solve_steady_state_validates_parameters_rebuilt_by_jax():
    """Tree operations skip ``__init__``; the Python solve checks again before solving."""
    p = ld.Params()
    leaves, tree = jax.tree_util.tree_flatten(p)
    names = [f for f in FIELDS]  # leaves come in field order
    leaves[names.index("psi_s")] = -1.0
    bad = jax.tree_util.tree_unflatten(tree, leaves)
    with pytest.raises(InputError, match="psi_s"):
        ld.solve_steady_state(bad)


@pytest.mark.parametrize(
    "setting, field", [("b=-1,1", "b"), ("delta_L=-0.1", "delta_L"), ("psi_s=-1", "psi_s"), ("g_bar=nan", "g_bar")]
)
def test_cli_rejects_out_of_range_parameters(setting, field):
    rc, out, err = run_cli("--set", setting)
    assert rc == 2
    assert f"Params.{field}" in err
    assert out is None or out.get("converged") is not True


# ------------------------------------------------------------------------------------------------
# issue 13 items 11 and 13: --calibrate failure, strict JSON, float32, solver settings
# ------------------------------------------------------------------------------------------------


def test_cli_calibrate_failure_is_a_message_not_a_traceback():
    rc, out, err = run_cli("--set", "g_bar=0.5", "--calibrate")
    assert rc == 1
    assert "calibrat" in err and "did not converge" in err
    assert "Traceback" not in err
    assert out is None or out["converged"] is False


def test_float32_inputs_warn_and_are_converted():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        p = ld.Params(L=np.array([0.45, 0.55], np.float32), sigma=np.float32(3.0))
    msgs = [str(w.message) for w in rec if issubclass(w.category, DtypeWarning)]
    assert any("Params.L" in m for m in msgs) and any("Params.sigma" in m for m in msgs)
    assert np.asarray(p.L).dtype == np.float64 and np.asarray(p.sigma).dtype == np.float64


@pytest.mark.parametrize("kw", [dict(tol=-1.0), dict(ftol=-1e-8), dict(max_steps=-3), dict(tol=math.nan)])
def test_negative_or_nan_solver_settings_are_rejected(kw):
    with pytest.raises(InputError, match=f"Solver.{next(iter(kw))}"):
        ld.solve_steady_state(ld.Params(), solver=ld.Solver(**kw))


@pytest.mark.parametrize("setting", ["tol=-1", "ftol=-1e-8", "max_steps=-3", "max_steps=2.5", "tol=nan"])
def test_cli_rejects_bad_solver_settings(setting):
    rc, out, err = run_cli("--solver", setting)
    assert rc == 2 and f"Solver.{setting.split('=')[0]}" in err or "option " + setting.split("=")[0] in err
    assert out is not None and "error" in out


def test_contract_residual_and_outcomes_share_coordinates():
    """``residual`` is zero at the solved unknowns and ``outcomes`` there equals the solve's outcomes."""
    for o in (ld.Options(), ld.Options(mobility="mobile"), ld.Options(attraction="optimal")):
        r = ld.solve(ld.Params(), o)
        res = ld.residual(r.unknowns, r.params, o)
        assert max(float(np.max(np.abs(np.asarray(v)))) for v in res.values()) < 1e-10
        out = ld.outcomes(r.unknowns, r.params, o)
        for sec in ("steady_state", "statistics"):
            for k, v in out[sec].items():
                np.testing.assert_array_equal(np.asarray(v), np.asarray(r.outcomes[sec][k]))
