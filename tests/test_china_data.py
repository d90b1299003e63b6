"""China datasets: determinism of the synthetic generator, validation errors, shipped tables."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from helpers import SHARED

from landjax.data import china as C
from landjax.errors import InputError


def test_synthetic_generator_is_deterministic_and_china_like():
    a, b = C.generate_synthetic(3), C.generate_synthetic(3)
    pd.testing.assert_frame_equal(a.cities, b.cities)
    assert np.array_equal(a.m, b.m) and a.meta == b.meta
    c = C.generate_synthetic(4)
    assert not np.allclose(a.cities["L0"], c.cities["L0"])
    assert a.n == 285 and a.cities["province"].nunique() == 31
    assert a.is_synthetic and "migration" in a.synthetic_columns
    al, si = 0.67, 0.65
    cy = a.cities
    tauY = (1 - al) / al * cy.w * cy.LY / (a.meta["P_ry"] * cy.RY) - 1
    tauH = (1 - si) / si * cy.w * cy.LH / (a.meta["P_rh"] * cy.RH) - 1
    assert 0.78 <= (tauY > 0).mean() <= 0.82
    assert 0.60 <= (tauH > 0).mean() <= 0.67
    stay = np.diag(a.m)
    assert np.median(stay) > 0.75 and stay.min() > 0.3
    np.testing.assert_allclose(a.m.sum(axis=1), 1.0, atol=1e-12)
    # Zipf-like: log size against log rank has slope near -0.75
    L = np.sort(cy.L0.to_numpy())[::-1]
    slope = np.polyfit(np.log(np.arange(1, L.size + 1)), np.log(L), 1)[0]
    assert -1.1 < slope < -0.5


def test_county_scale_generator():
    d = C.generate_synthetic(0, n_cities=600)
    assert d.n == 600 and d.m.shape == (600, 600)


def test_shipped_datasets_load_and_default_is_semireal():
    d = C.load_dataset()
    assert d.name == "china_semireal" and not d.is_synthetic
    assert {"migration", "RY", "RH", "w"} <= set(d.synthetic_columns)
    assert d.n > 250
    s = C.load_dataset("synthetic")
    g = C.generate_synthetic(0)
    np.testing.assert_allclose(s.cities["L0"], g.cities["L0"], rtol=1e-9)
    np.testing.assert_allclose(s.m, g.m, atol=1e-13)


@pytest.mark.skipif(C.raw_china_dir() is None, reason="raw files ../shared/data/china_cities absent")
def test_semireal_rebuild_matches_shipped_table():
    built = C.build_semireal()
    shipped = C.load_dataset("china_semireal")
    assert list(built.cities["city"]) == list(shipped.cities["city"])
    for col in ("L0", "w", "LY", "RY", "RH", "Ph", "gdp_2015", "pop_2020"):
        np.testing.assert_allclose(built.cities[col], shipped.cities[col], rtol=1e-9, err_msg=col)
    np.testing.assert_allclose(built.m, shipped.m, atol=1e-13)
    # real columns really are the public numbers: Beijing's 2020 census population
    bj = built.cities.set_index("city").loc["110100"]
    assert bj["pop_2020"] == 21893095 and bj["name"] == "北京市"


@pytest.fixture()
def tmp_dataset(tmp_path):
    d = tmp_path / "ds"
    shutil.copytree(C.SHIPPED["china_synthetic"], d)
    return d


def _edit_cities(d, fn):
    c = pd.read_csv(d / "cities.csv", dtype={"city": str})
    c = fn(c)
    c.to_csv(d / "cities.csv", index=False)


def test_validation_missing_column(tmp_dataset):
    _edit_cities(tmp_dataset, lambda c: c.drop(columns=["RY"]))
    with pytest.raises(InputError, match=r"cities.csv: missing column\(s\) RY"):
        C.read_dataset(tmp_dataset)


def test_validation_nan_and_negative_name_row_and_column(tmp_dataset):
    def nan(c):
        c.loc[4, "w"] = np.nan
        return c

    _edit_cities(tmp_dataset, nan)
    with pytest.raises(InputError, match=r"cities.csv: row 5 \(city S0004\), column 'w': missing"):
        C.read_dataset(tmp_dataset)

    def neg(c):
        c.loc[4, "w"] = 1.0
        c.loc[7, "RH"] = -3.0
        return c

    _edit_cities(tmp_dataset, neg)
    with pytest.raises(InputError, match=r"row 8 \(city S0007\), column 'RH': value -3.0 must be positive"):
        C.read_dataset(tmp_dataset)


def test_validation_migration_errors(tmp_dataset):
    mig = pd.read_csv(tmp_dataset / "migration.csv", dtype={"origin": str, "destination": str})
    bad = mig.copy()
    bad.loc[2, "destination"] = "NOPE"
    bad.to_csv(tmp_dataset / "migration.csv", index=False)
    with pytest.raises(InputError, match=r"migration.csv: row 3, column 'destination': unknown city 'NOPE'"):
        C.read_dataset(tmp_dataset)
    bad = mig.copy()
    bad.loc[0, "share"] = bad.loc[0, "share"] + 1e-6
    bad.to_csv(tmp_dataset / "migration.csv", index=False)
    with pytest.raises(InputError, match=r"shares of origin 'S0000' .* sum to"):
        C.read_dataset(tmp_dataset)
    bad = mig.copy()
    bad.loc[5, "share"] = -0.1
    bad.to_csv(tmp_dataset / "migration.csv", index=False)
    with pytest.raises(InputError, match=r"row 6, column 'share': negative"):
        C.read_dataset(tmp_dataset)
    bad = mig.copy()
    bad.loc[5, "share"] = np.nan
    bad.to_csv(tmp_dataset / "migration.csv", index=False)
    with pytest.raises(InputError, match=r"row 6, column 'share': missing or NaN"):
        C.read_dataset(tmp_dataset)
    mig.iloc[1:].to_csv(tmp_dataset / "migration.csv", index=False)  # origin S0000 loses a destination
    with pytest.raises(InputError, match=r"origin 'S0000'"):
        C.read_dataset(tmp_dataset)


def test_validation_meta_and_region(tmp_dataset):
    meta = json.loads((tmp_dataset / "meta.json").read_text())
    del meta["P_rh"]
    (tmp_dataset / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match=r"meta.json: missing key 'P_rh'"):
        C.read_dataset(tmp_dataset)
    meta["P_rh"] = 300.0
    (tmp_dataset / "meta.json").write_text(json.dumps(meta))

    def reg(c):
        c.loc[0, "region"] = "south"
        return c

    _edit_cities(tmp_dataset, reg)
    with pytest.raises(InputError, match=r"row 1 \(city S0000\), column 'region': 'south'"):
        C.read_dataset(tmp_dataset)


def test_unknown_dataset_name():
    with pytest.raises(InputError, match="not a known name"):
        C.load_dataset("no_such_dataset")


def test_shared_dir_layout():
    # the raw directory (when present) is the one documented in SOURCES.md
    raw = C.raw_china_dir()
    if raw is None:
        pytest.skip("raw files absent")
    assert (SHARED / "data" / "china_cities").resolve() == raw.resolve()
