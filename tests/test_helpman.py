"""The Helpman economy of Redding & Rossi-Hansberg (2017): equilibrium conditions recomputed in plain
numpy, Table 1, exact hat algebra, gradients, batches, compile-once, bad input."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_engine_compile import count_compiles

from landjax.cli import main
from landjax.engine import gradcheck
from landjax.errors import InputError
from landjax.models import helpman as hm
from landjax.models.helpman.data import data_dir, geography, load_draws
from landjax.reproduce.rrh2017 import PAPER_TABLE1

needs_data = pytest.mark.skipif(data_dir() is None, reason="the RRH (2017) draws a.csv are not available")


def small_params(side: int = 10, seed: int = 0, **kw) -> hm.Params:
    rng = np.random.default_rng(seed)
    return hm.Params(a=jnp.asarray(rng.normal(size=side * side)), L_total=1000.0, **kw)


# ------------------------------------------------------------------ independent numpy checks


def numpy_check(p: hm.Params, o: hm.Options, x: dict) -> dict[str, float]:
    """The equilibrium conditions (eqs. 16-21) from scratch in numpy, at the solved wages and populations."""
    a = np.asarray(p.a, dtype=float)
    n = a.size
    side = int(round(np.sqrt(n)))
    k = np.arange(n)
    row, col = k % side, k // side
    west = col < side // 2
    A = np.exp(a)
    if o.productivity == "country_geomean":
        for c in (west, ~west):
            A[c] = A[c] / np.exp(np.log(A[c]).mean())
    dx, dy = np.abs(col[:, None] - col[None, :]), np.abs(row[:, None] - row[None, :])
    dist = np.maximum(dx, dy) - np.minimum(dx, dy) + np.sqrt(2.0) * np.minimum(dx, dy)
    d = np.where(dist > 0, np.where(dist > 0, dist, 1.0) ** float(p.dist_elasticity) * float(p.internal_cost), 1.0)
    d = d * np.where(west[:, None] != west[None, :], float(p.border_cost), 1.0)
    w, L = np.exp(np.asarray(x["log_w"])), np.exp(np.asarray(x["log_L"]))
    al, sg = float(p.alpha), float(p.sigma)
    num = L[None, :] * (d * w[None, :] / A[None, :]) ** (1 - sg)  # [n, i]
    pi = num / num.sum(axis=1, keepdims=True)
    income_gap = np.max(np.abs(pi.T @ (w * L) / (w * L) - 1.0))
    P = sg / (sg - 1) * (L / (sg * float(p.F) * np.diag(pi))) ** (1 / (1 - sg)) * w / A
    # the same price index from its definition (CES over all varieties), as a check of eq. (18)
    P_def = (
        sg
        / (sg - 1)
        * ((L / (sg * float(p.F)))[None, :] * (d * w[None, :] / A[None, :]) ** (1 - sg)).sum(1) ** (1 / (1 - sg))
    )
    r = (1 - al) * (w / al) * L / float(p.H)
    V = (w / al) / (P**al * r ** (1 - al))
    half = float(p.L_total) / 2
    return dict(
        income_gap=income_gap,
        price_gap=np.max(np.abs(P / P_def - 1)),
        welfare_spread=max(np.ptp(np.log(V[west])), np.ptp(np.log(V[~west]))),
        labour_gap=max(abs(L[west].sum() / half - 1), abs(L[~west].sum() / half - 1)),
        numeraire=abs(np.mean(np.log(w))),
        V_west=float(np.mean(V[west])),
        V_east=float(np.mean(V[~west])),
    )


def test_grid_distances_are_shortest_paths_on_the_8_neighbour_graph():
    from scipy.sparse import lil_matrix
    from scipy.sparse.csgraph import shortest_path

    side = 6
    dist, country, row, col = geography(side)
    n = side * side
    g = lil_matrix((n, n))
    for i in range(n):
        for j in range(n):
            dr, dc = abs(row[i] - row[j]), abs(col[i] - col[j])
            if max(dr, dc) == 1:
                g[i, j] = 1.0 if dr + dc == 1 else np.sqrt(2.0)
    np.testing.assert_allclose(shortest_path(g.tocsr(), directed=False), dist, atol=1e-12)
    assert (country == (col >= side // 2)).all() and country.sum() == n // 2


@pytest.mark.parametrize("opts", [hm.Options(gains="none"), hm.Options(gains="none", productivity="raw")])
def test_small_equilibrium_satisfies_the_conditions_recomputed_in_numpy(opts):
    p = small_params(border_cost=1.7)
    res = hm.solve(p, opts)
    assert res.ok
    chk = numpy_check(p, opts, res.unknowns)
    assert chk["income_gap"] < 1e-8 and chk["price_gap"] < 1e-10 and chk["welfare_spread"] < 1e-8
    assert chk["labour_gap"] < 1e-9 and chk["numeraire"] < 1e-9  # the solver tolerance (ftol 1e-9)
    assert float(res.outcomes["welfare"]["West"]) == pytest.approx(chk["V_west"], rel=1e-8)
    assert float(res.outcomes["welfare"]["East"]) == pytest.approx(chk["V_east"], rel=1e-8)


def test_statistics_recomputed_independently():
    p = small_params()
    res = hm.solve(p, hm.Options(gains="none"))
    cells = hm.cells(res)
    for name in ("West", "East"):
        c = cells[cells.country == name]
        st = res.outcomes["statistics"]
        assert float(st[f"domestic_share_{name}"]) == pytest.approx(np.average(c.pi_nn, weights=c.L), rel=1e-10)
        assert float(st[f"max_cell_population_{name}"]) == pytest.approx(c.L.max(), rel=1e-12)
        assert float(st[f"log_wage_sd_{name}"]) == pytest.approx(np.std(np.log(c.w)), rel=1e-9)
        assert float(st[f"mean_land_rent_{name}"]) == pytest.approx(c.r.mean(), rel=1e-10)
        assert float(st[f"mean_price_index_{name}"]) == pytest.approx(c.P.mean(), rel=1e-10)


def test_exact_hat_gain_equals_the_ratio_of_levels_and_zero_at_the_baseline():
    p = small_params()
    g_hat = hm.solve(p.replace(border_cost=1.2), hm.Options(welfare="exact_hat")).outcomes["welfare_gain"]
    g_lev = hm.solve(p.replace(border_cost=1.2), hm.Options(welfare="levels")).outcomes["welfare_gain"]
    for c in ("West", "East"):
        assert float(g_hat[c]) == pytest.approx(float(g_lev[c]), abs=1e-10)
        assert float(g_hat[c]) > 0  # lower trade costs raise welfare in both countries
    g0 = hm.solve(p).outcomes["welfare_gain"]  # the baseline against itself
    assert abs(float(g0["West"])) < 1e-10 and abs(float(g0["East"])) < 1e-10


@needs_data
def test_table1_reproduces_at_the_papers_rounding():
    for name, change in (("external", {"border_cost": 1.0}), ("internal", {"internal_cost": 1.0})):
        res = hm.solve(hm.rrh_params(**change))
        assert res.ok
        for k, country in enumerate(("West", "East")):
            ours = float(res.outcomes["welfare_gain"][country])
            assert round(ours, 1) == PAPER_TABLE1[name][k], (name, country, ours)


@needs_data
def test_full_grid_equilibrium_conditions():
    res = hm.solve(hm.rrh_params(border_cost=1.0), hm.Options(gains="none"))
    chk = numpy_check(res.params, res.options, res.unknowns)
    assert chk["income_gap"] < 1e-8 and chk["welfare_spread"] < 1e-8 and chk["labour_gap"] < 1e-9


def _gain_of(p0: hm.Params, change: str):
    o, s = hm.Options(gains="none"), hm.Solver()

    def f(z):
        q0 = p0.replace(a=z[1:])
        q1 = q0.replace(**{change: z[0]})
        e0, e1 = hm.equilibrium(q0, o, s), hm.equilibrium(q1, o, s)
        return hm.welfare_gain_hat(e0.value, hm.args_of(q0, o), e1.value, hm.args_of(q1, o))

    return f


def test_gain_gradients_match_finite_differences():
    p0 = small_params(side=6, seed=3)
    f = _gain_of(p0, "border_cost")
    z = jnp.concatenate([jnp.array([1.3]), p0.a])
    # derivatives with respect to the border cost and three cells' productivity
    sel = jnp.array([0, 1, 8, 30])

    def g(zs):
        return f(z.at[sel].set(zs))

    res = gradcheck(g, z[sel], rtol=1e-6)
    assert res.ok, res


def test_batched_sweep_equals_single_solves():
    p = small_params(side=6)
    values = jnp.array([1.0, 1.5, 2.5])
    pb = jax.tree_util.tree_map(lambda v: jnp.broadcast_to(jnp.asarray(v), (3,) + jnp.shape(v)), p)
    pb = pb.replace(border_cost=values)
    batch = hm.solve_batch(pb)
    for i, b in enumerate(np.asarray(values)):
        one = hm.solve(p.replace(border_cost=float(b)))
        for c in ("West", "East"):
            assert float(batch.outcomes["welfare_gain"][c][i]) == pytest.approx(
                float(one.outcomes["welfare_gain"][c]), abs=1e-10
            )
    df = hm.sweep({"border_cost": [1.0, 1.5, 2.5]}, p, progress=False)
    assert list(df.columns[:4]) == ["border_cost", "converged", "residual_norm", "steps"]
    assert df["welfare_gain.West"].iloc[0] == pytest.approx(float(batch.outcomes["welfare_gain"]["West"][0]), abs=1e-10)


def test_second_plain_solve_does_not_recompile():
    p = small_params()
    hm.solve(p)
    with count_compiles() as events:
        res = hm.solve(p.replace(border_cost=1.4))
    assert events == [] and res.ok


@pytest.mark.parametrize(
    "kw, field",
    [
        (dict(alpha=1.5), "alpha"),
        (dict(sigma=np.float64(0.5)), "sigma"),
        (dict(border_cost=jnp.asarray(0.5)), "border_cost"),
        (dict(H=float("nan")), "H"),
        (dict(alpha=0.9), "sigma"),  # sigma (1 - alpha) = 0.5 <= 1: agglomeration dominates
    ],
)
def test_bad_parameters_name_the_field(kw, field):
    with pytest.raises(InputError, match=field):
        small_params(**kw)
    with pytest.raises(InputError, match="square grid"):
        hm.Params(a=jnp.zeros(99))


def test_missing_data_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("LANDJAX_RRH_DATA", str(tmp_path))
    monkeypatch.setattr("landjax.models.helpman.data.data_dir", lambda path=None: None)
    load_draws.cache_clear()
    try:
        with pytest.raises(InputError, match="LANDJAX_RRH_DATA"):
            load_draws()
    finally:
        load_draws.cache_clear()


def test_a_named_data_folder_is_used_or_refused_never_skipped(monkeypatch, tmp_path):
    from landjax.models.helpman.data import data_dir

    monkeypatch.setenv("LANDJAX_RRH_DATA", str(tmp_path / "nonexistent"))
    with pytest.raises(InputError, match=r"\$LANDJAX_RRH_DATA=.*nonexistent.*no a.csv"):
        data_dir()
    (tmp_path / "a.csv").write_text("0.1\n0.2\nabc\n")
    monkeypatch.setenv("LANDJAX_RRH_DATA", str(tmp_path))
    load_draws.cache_clear()
    try:
        with pytest.raises(InputError, match="a.csv: not a file of numbers"):
            load_draws()
    finally:
        load_draws.cache_clear()


@needs_data
def test_cli_solve_helpman(capsys):
    code = main(["solve", "helpman", "--set", "border_cost=1", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["converged"] is True
    assert round(out["welfare_gain"]["West"], 1) == 0.3 and out["units"]["welfare_gain.West"] == "percent"
