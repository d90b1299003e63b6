"""China city datasets for the quota-trade model (Ma & Ni): format, validation, loaders, builders.

A **dataset** is a directory with three files:

`cities.csv` (one row per city)
    `city` (id), `province`, `region` (east|central|west|northeast), `pilot` (bool: one of
    the five pilot provinces), `buy_price` (yuan/m2), `L0` (hukou workforce, persons),
    `w` (average wage, yuan/year), `LY`, `LH` (goods and real-estate employment, persons),
    `RY`, `RH` (productive and residential land supply, m2), `Ph` (house price, yuan/m2);
    optional `name`, `lon`, `lat` and any extra columns (kept, not used by the model).
`migration.csv`
    `origin, destination, share`: share of origin's hukou workforce living in destination
    (missing pairs are 0; each origin's shares sum to 1 within 1e-9; rows are then renormalised
    exactly).
`meta.json`
    `P_ry`, `P_rh` (national productive / residential land prices, yuan/m2, used only to
    classify sellers and buyers), `sell_price` (yuan/m2), `units`, `sources`,
    `synthetic` (bool: the whole dataset is synthetic) and `synthetic_columns` (list).

Loading validates everything and raises `landjax.errors.InputError` naming the file, the
row (1-based data row, header excluded, plus the city id) and the column.

Datasets shipped (`load_dataset(name)`):

* `"china_semireal"` (**default**): 277 prefecture-level cities with 2015 yearbook data. Real:
  city list, province, region, coordinates, 2010/2020 census population, 2015 GDP and
  urban-unit employment (`LY`), pilot flags and quota prices (policy). Synthetic (labelled in
  `meta.json`): migration matrix, land supply and its split, land prices, wages, house prices,
  real-estate employment. Built by `build_semireal` from the MIT-licensed public files in
  `../shared/data/china_cities` (see `docs/ma_ni.md` for the originals); the derived table is
  shipped with attribution.
* `"china_synthetic"`: the seeded synthetic China-like dataset (`generate_synthetic`,
  seed 0), entirely synthetic.
* `"synthetic:SEED"` or `"synthetic:SEED:N"`: generated on the fly.
* a path to any directory in the format above.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from landjax.data import _provinces as PV
from landjax.errors import InputError

DATA_DIR = Path(__file__).resolve().parent
DEFAULT_DATASET = "china_semireal"
SHIPPED = {"china_semireal": DATA_DIR / "china_semireal", "china_synthetic": DATA_DIR / "china_synthetic"}
ALIASES = {"semireal": "china_semireal", "synthetic": "china_synthetic", "default": DEFAULT_DATASET}

REQUIRED_CITY_COLUMNS = ("city", "province", "region", "pilot", "buy_price", "L0", "w", "LY", "LH", "RY", "RH", "Ph")
POSITIVE_COLUMNS = ("buy_price", "L0", "w", "LY", "RY", "RH", "Ph")
NONNEGATIVE_COLUMNS = ("LH",)
MIGRATION_COLUMNS = ("origin", "destination", "share")
META_KEYS = ("P_ry", "P_rh", "sell_price")
ROW_TOL = 1e-9

UNITS = {
    "L0": "persons (hukou workforce)",
    "LY": "persons (employment in urban work units)",
    "LH": "persons (real-estate employment)",
    "w": "yuan per worker per year",
    "RY": "m2 of productive (industrial + commercial) land supply, annual",
    "RH": "m2 of residential land supply, annual",
    "Ph": "yuan per m2 of housing",
    "buy_price": "yuan per m2 of quota",
    "P_ry": "yuan per m2",
    "P_rh": "yuan per m2",
    "sell_price": "yuan per m2 of quota",
}


@dataclasses.dataclass
class Dataset:
    """A validated city dataset.

    **Attributes:**

    - `name`: label used in reports (directory name or generator tag).
    - `cities`: the `cities.csv` table (one row per city, order = model order).
    - `m`: dense (N, N) migration share matrix, rows = hukou origins, columns = destinations.
    - `meta`: the `meta.json` dictionary.
    - `path`: directory it was read from (None when generated in memory).
    """

    name: str
    cities: pd.DataFrame
    m: np.ndarray
    meta: dict
    path: Path | None = None

    @property
    def n(self) -> int:
        return len(self.cities)

    @property
    def synthetic_columns(self) -> list[str]:
        return list(self.meta.get("synthetic_columns", []))

    @property
    def is_synthetic(self) -> bool:
        return bool(self.meta.get("synthetic", False))

    def describe(self) -> str:
        """One line saying what the dataset is (for reports and plot titles)."""
        kind = (
            "SYNTHETIC"
            if self.is_synthetic
            else "semi-real (synthetic columns: " + ", ".join(self.synthetic_columns) + ")"
        )
        return f"{self.name}: {self.n} cities, {self.cities['province'].nunique()} provinces, {kind}"

    def migration_frame(self, min_share: float = 0.0) -> pd.DataFrame:
        ids = self.cities["city"].astype(str).to_numpy()
        o, d = np.nonzero(self.m > min_share)
        return pd.DataFrame({"origin": ids[o], "destination": ids[d], "share": self.m[o, d]})


# ------------------------------------------------------------------------------------------------
# validation and IO
# ------------------------------------------------------------------------------------------------


def _bool_column(col: pd.Series, file: str) -> np.ndarray:
    out = []
    for i, v in enumerate(col.tolist()):
        s = str(v).strip().lower()
        if s in ("true", "1", "yes", "1.0"):
            out.append(True)
        elif s in ("false", "0", "no", "0.0"):
            out.append(False)
        else:
            raise InputError(f"{file}: row {i + 1}, column 'pilot': expected true/false, got {v!r}")
    return np.array(out, dtype=bool)


def validate_tables(
    cities: pd.DataFrame, migration: pd.DataFrame, meta: dict, *, where: str = ""
) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """Validate the three parts of a dataset; return (cities, dense m, meta) or raise InputError.

    Checks: required columns present; no NaN or negative values (strictly positive where a
    logarithm or a ratio needs it); unique city ids; known regions; every origin and destination
    in the migration table is a known city; no duplicate pairs; each origin's shares sum to 1
    within 1e-9 (then renormalised exactly); meta has positive `P_ry`, `P_rh`, `sell_price`.
    """
    pre = f"{where}/" if where else ""
    fc, fm, fj = pre + "cities.csv", pre + "migration.csv", pre + "meta.json"
    missing = [c for c in REQUIRED_CITY_COLUMNS if c not in cities.columns]
    if missing:
        raise InputError(f"{fc}: missing column(s) {', '.join(missing)} (required: {', '.join(REQUIRED_CITY_COLUMNS)})")
    cities = cities.copy()
    cities["city"] = cities["city"].astype(str)
    dup = cities["city"][cities["city"].duplicated()]
    if len(dup):
        i = int(dup.index[0])
        raise InputError(f"{fc}: row {i + 1}, column 'city': duplicate city id {dup.iloc[0]!r}")
    for i, r in enumerate(cities["region"].astype(str).tolist()):
        if r not in PV.REGIONS:
            raise InputError(
                f"{fc}: row {i + 1} (city {cities['city'].iloc[i]}), column 'region': {r!r} is not one of "
                f"{', '.join(PV.REGIONS)}"
            )
    cities["pilot"] = _bool_column(cities["pilot"], fc)
    for col in POSITIVE_COLUMNS + NONNEGATIVE_COLUMNS:
        vals = pd.to_numeric(cities[col], errors="coerce").to_numpy(dtype=float)
        bad_nan = np.flatnonzero(~np.isfinite(vals))
        if bad_nan.size:
            i = int(bad_nan[0])
            raise InputError(
                f"{fc}: row {i + 1} (city {cities['city'].iloc[i]}), column {col!r}: missing, NaN or non-numeric "
                f"value {cities[col].iloc[i]!r}"
            )
        bad = np.flatnonzero(vals <= 0) if col in POSITIVE_COLUMNS else np.flatnonzero(vals < 0)
        if bad.size:
            i = int(bad[0])
            need = "positive" if col in POSITIVE_COLUMNS else "non-negative"
            raise InputError(
                f"{fc}: row {i + 1} (city {cities['city'].iloc[i]}), column {col!r}: value {float(vals[i])!r} must be "
                f"{need}"
            )
        cities[col] = vals

    missing = [c for c in MIGRATION_COLUMNS if c not in migration.columns]
    if missing:
        raise InputError(f"{fm}: missing column(s) {', '.join(missing)} (required: origin, destination, share)")
    idx = {c: k for k, c in enumerate(cities["city"].tolist())}
    n = len(idx)
    orig = migration["origin"].astype(str).tolist()
    dest = migration["destination"].astype(str).tolist()
    share = pd.to_numeric(migration["share"], errors="coerce").to_numpy(dtype=float)
    m = np.zeros((n, n))
    seen = np.zeros((n, n), dtype=bool)
    for row, (o, d, s) in enumerate(zip(orig, dest, share, strict=False)):
        if o not in idx:
            raise InputError(f"{fm}: row {row + 1}, column 'origin': unknown city {o!r} (not in cities.csv)")
        if d not in idx:
            raise InputError(f"{fm}: row {row + 1}, column 'destination': unknown city {d!r} (not in cities.csv)")
        if not math.isfinite(s):
            raise InputError(
                f"{fm}: row {row + 1}, column 'share': missing or NaN value {migration['share'].iloc[row]!r}"
            )
        if s < 0:
            raise InputError(f"{fm}: row {row + 1}, column 'share': negative share {s!r}")
        i, j = idx[o], idx[d]
        if seen[i, j]:
            raise InputError(f"{fm}: row {row + 1}: duplicate pair origin {o!r}, destination {d!r}")
        seen[i, j] = True
        m[i, j] = s
    sums = m.sum(axis=1)
    for i in range(n):
        if abs(sums[i] - 1.0) > ROW_TOL:
            raise InputError(
                f"{fm}: shares of origin {cities['city'].iloc[i]!r} (cities.csv row {i + 1}) sum to {sums[i]!r}, not 1 "
                f"(tolerance {ROW_TOL:g}; an origin with no rows sums to 0)"
            )
    m = m / sums[:, None]
    stay = np.diag(m)
    bad_stay = np.flatnonzero(~(stay > 0))
    if bad_stay.size:
        i = int(bad_stay[0])
        raise InputError(
            f"{fm}: origin {cities['city'].iloc[i]!r} (cities.csv row {i + 1}) has stay share "
            f"m_oo = {float(stay[i])!r}; "
            "every origin needs a positive share of its own workers staying at home (origin welfare "
            "V_o m_oo^(-1/kappa), eq. (11), is undefined otherwise)"
        )

    if not isinstance(meta, dict):
        raise InputError(f"{fj}: expected a JSON object")
    for k in META_KEYS:
        v = meta.get(k)
        if v is None:
            raise InputError(f"{fj}: missing key {k!r} (required: {', '.join(META_KEYS)})")
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise InputError(f"{fj}: key {k!r} must be a number, got {v!r}") from None
        if not (math.isfinite(fv) and fv > 0):
            raise InputError(f"{fj}: key {k!r} must be a positive number, got {v!r}")
    return cities.reset_index(drop=True), m, meta


def read_dataset(path: str | os.PathLike, name: str | None = None) -> Dataset:
    """Read and validate a dataset directory (`cities.csv`, `migration.csv`, `meta.json`)."""
    path = Path(path)
    for f in ("cities.csv", "migration.csv", "meta.json"):
        if not (path / f).is_file():
            raise InputError(
                f"{path / f}: file not found (a dataset directory needs cities.csv, migration.csv, meta.json)"
            )
    cities = pd.read_csv(path / "cities.csv", dtype={"city": str})
    migration = pd.read_csv(path / "migration.csv", dtype={"origin": str, "destination": str})
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path / 'meta.json'}: invalid JSON ({exc})") from exc
    cities, m, meta = validate_tables(cities, migration, meta, where=str(path))
    return Dataset(name or path.name, cities, m, meta, path)


def write_dataset(ds: Dataset, path: str | os.PathLike, *, min_share: float = 0.0, readme: str | None = None) -> Path:
    """Write a dataset directory. Shares are written with 15 significant digits; rows stay
    normalised to well within 1e-9."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    c = ds.cities.copy()
    c["pilot"] = c["pilot"].map(lambda b: "true" if b else "false")
    c.to_csv(path / "cities.csv", index=False, float_format="%.10g")
    ds.migration_frame(min_share).to_csv(path / "migration.csv", index=False, float_format="%.15g")
    (path / "meta.json").write_text(json.dumps(ds.meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if readme:
        (path / "README.md").write_text(readme, encoding="utf-8")
    return path


def load_dataset(name_or_path: str | os.PathLike | Dataset | None = None) -> Dataset:
    """Load a dataset by name (`None` = the default `"china_semireal"`), tag or directory.

    Names: `"china_semireal"` (alias `"semireal"`, default), `"china_synthetic"` (alias
    `"synthetic"`), `"synthetic:SEED"` / `"synthetic:SEED:N"` (generated now), or a path.
    """
    if isinstance(name_or_path, Dataset):
        return name_or_path
    key = DEFAULT_DATASET if name_or_path is None else str(name_or_path)
    key = ALIASES.get(key, key)
    if key.startswith("synthetic:"):
        parts = key.split(":")
        try:
            seed = int(parts[1])
            n = int(parts[2]) if len(parts) > 2 else None
        except (IndexError, ValueError):
            raise InputError(f"dataset tag {key!r}: expected synthetic:SEED or synthetic:SEED:N") from None
        if len(parts) > 3:
            raise InputError(f"dataset tag {key!r}: expected synthetic:SEED or synthetic:SEED:N")
        return generate_synthetic(seed=seed, n_cities=n)
    if key in SHIPPED:
        return read_dataset(SHIPPED[key], name=key)
    p = Path(key)
    if p.is_dir():
        return read_dataset(p)
    raise InputError(f"dataset {key!r}: not a known name ({', '.join(SHIPPED)}, synthetic:SEED) nor a directory")


# ------------------------------------------------------------------------------------------------
# shared construction helpers
# ------------------------------------------------------------------------------------------------


def haversine_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Great-circle distances (km) between all pairs of points."""
    lo, la = np.radians(lon), np.radians(lat)
    dlo = lo[None, :] - lo[:, None]
    dla = la[None, :] - la[:, None]
    a = np.sin(dla / 2) ** 2 + np.cos(la[:, None]) * np.cos(la[None, :]) * np.sin(dlo / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def gravity_migration(
    residents: np.ndarray,
    inshare: np.ndarray,
    push: np.ndarray,
    dist: np.ndarray,
    same_prov: np.ndarray,
    *,
    decay_km: float = 450.0,
    province_boost: float = 4.0,
    keep: int = 30,
) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic hukou-origin x residence count matrix from a gravity form (SYNTHETIC).

    Destination `d` hosts `residents_d`; a share `inshare_d` of them come from other cities,
    distributed over origins in proportion to `residents_o * push_o * exp(-dist/decay) *
    (province_boost if same province)`. Each origin keeps its `keep` largest destinations
    (the rest of its migrants are counted as stayers) so the table stays small.
    Returns `(L0, m)`: hukou workforce per origin and the row-stochastic share matrix.
    """
    n = residents.shape[0]
    k = residents[:, None] * push[:, None] * np.exp(-dist / decay_km) * np.where(same_prov, province_boost, 1.0)
    np.fill_diagonal(k, 0.0)
    k = k / k.sum(axis=0, keepdims=True) * (inshare * residents)[None, :]
    counts = k + np.diag((1.0 - inshare) * residents)
    if keep < n - 1:
        for o in range(n):
            row = counts[o].copy()
            row[o] = -1.0
            drop = np.argsort(row)[: n - 1 - keep]
            drop = drop[drop != o]
            counts[o, o] += counts[o, drop].sum()
            counts[o, drop] = 0.0
    L0 = counts.sum(axis=1)
    return L0, counts / L0[:, None]


def _classify_price(x: np.ndarray, share_positive: float) -> float:
    """A national price with exactly `round(share_positive*N)` cities above it (midpoint of two
    sorted values, so no city has tau exactly 0)."""
    xs = np.sort(x)
    k = len(xs) - int(round(share_positive * len(xs)))  # number at or below the price
    k = min(max(k, 1), len(xs) - 1)
    return float(0.5 * (xs[k - 1] + xs[k]))


# Paper's 2017 shares of cities with tau > 0 (Ma & Ni section 3(3); appendix figures 2-3).
PAPER_SHARE_TAU_Y_POSITIVE = 0.8020
PAPER_SHARE_TAU_H_POSITIVE = 0.6675


# ------------------------------------------------------------------------------------------------
# synthetic generator
# ------------------------------------------------------------------------------------------------


def generate_synthetic(
    seed: int = 0, n_cities: int | None = None, *, alpha: float = 0.67, sigma: float = 0.65
) -> Dataset:
    """A seeded synthetic China-like dataset (SYNTHETIC in every column).

    285 cities in 31 provinces (`n_cities` rescales the per-province counts, e.g. 2,800 for a
    county-level benchmark); Zipf-like sizes (rank-size exponent 0.75, larger cities tilted to the
    east); wages rising with region and size; employment and land supply with noise, land tilted
    to the west and northeast; national land prices set so that 80.2 % of cities are short of
    productive land and 66.75 % short of residential land (the paper's 2017 shares); a gravity
    migration matrix with large stay shares. Same seed, same dataset (bit for bit).
    """
    n_prov = len(PV.PROVINCES)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"generate_synthetic: seed={seed!r} must be an integer >= 0")
    if n_cities is not None and (
        isinstance(n_cities, bool) or not isinstance(n_cities, (int, np.integer)) or n_cities < n_prov
    ):
        raise InputError(
            f"generate_synthetic: n_cities={n_cities!r} must be an integer >= {n_prov} "
            f"(at least one city in each of the {n_prov} provinces), or None for 285 cities"
        )
    rng = np.random.default_rng(seed)
    codes: list[int] = []
    per_province: list[int] = []
    for code, (_en, _zh, _lon, _lat, k) in PV.PROVINCES.items():
        codes.append(code)
        per_province.append(k)
    counts = np.array(per_province, dtype=float)
    if n_cities is not None:
        scaled = np.maximum(1, np.floor(counts * n_cities / counts.sum()).astype(int))
        ideal = counts * n_cities / counts.sum()
        while scaled.sum() < n_cities:  # hand the remainder to the largest provinces
            scaled[np.argmax(ideal - scaled)] += 1
        while scaled.sum() > n_cities:  # the one-city floor overshot: take back where most above ideal
            scaled[np.argmax(np.where(scaled > 1, scaled - ideal, -np.inf))] -= 1
        counts = scaled
    counts = counts.astype(int)
    prov = np.repeat(np.array(codes), counts)
    n = prov.size
    region = np.array([PV.region_of(int(c)) for c in prov])
    lon0 = np.array([PV.PROVINCES[int(c)][2] for c in prov])
    lat0 = np.array([PV.PROVINCES[int(c)][3] for c in prov])
    spread = 1.3 * np.sqrt(285.0 / max(n, 1)) ** 0  # same spread whatever N
    lon = lon0 + rng.normal(0.0, spread, n)
    lat = lat0 + rng.normal(0.0, 0.8 * spread, n)
    first = np.r_[True, prov[1:] != prov[:-1]]  # the capital sits at the centroid
    lon[first], lat[first] = lon0[first], lat0[first]

    reg_size = {"east": 0.5, "central": 0.2, "northeast": 0.0, "west": -0.2}
    latent = np.array([reg_size[r] for r in region]) + rng.normal(0.0, 0.6, n) + 0.8 * first
    rank = np.empty(n, dtype=int)
    rank[np.argsort(-latent)] = np.arange(1, n + 1)
    residents = 20e6 * (rank * 285.0 / n) ** -0.75 * np.exp(rng.normal(0.0, 0.05, n))

    reg_w = {"east": 0.22, "central": 0.0, "northeast": -0.02, "west": -0.06}
    logw = np.log(62000.0) + np.array([reg_w[r] for r in region]) + 0.07 * np.log(residents / np.median(residents))
    w = np.exp(logw + rng.normal(0.0, 0.10, n))

    emp = np.clip(0.22 + 0.08 * (region == "east") + rng.normal(0.0, 0.04, n), 0.08, 0.6)
    LY = residents * emp
    LH = LY * 0.03 * np.exp(rng.normal(0.0, 0.25, n))

    tilt = {"east": 0.75, "central": 1.05, "northeast": 1.45, "west": 1.6}
    R = 3.0e6 * (residents / 2e6) ** 0.75 * np.array([tilt[r] for r in region]) * np.exp(rng.normal(0.0, 0.35, n))
    res_share = np.clip(rng.normal(0.31, 0.12, n), 0.08, 0.65)
    RY, RH = (1.0 - res_share) * R, res_share * R

    P_ry = _classify_price((1 - alpha) / alpha * w * LY / RY, PAPER_SHARE_TAU_Y_POSITIVE)
    P_rh = _classify_price((1 - sigma) / sigma * w * LH / RH, PAPER_SHARE_TAU_H_POSITIVE)
    Ph = 5500.0 * (w / 62000.0) ** 1.8 * (residents / 2e6) ** 0.25 * np.exp(rng.normal(0.0, 0.12, n))

    dist = haversine_km(lon, lat)
    same = prov[:, None] == prov[None, :]
    inshare = np.clip(
        0.07
        + 0.9 * (np.log(w) - np.mean(np.log(w)))
        + 0.03 * np.log(residents / np.median(residents))
        + rng.normal(0.0, 0.03, n),
        0.02,
        0.55,
    )
    push = (np.exp(np.mean(np.log(w))) / w) ** 2
    L0, m = gravity_migration(residents, inshare, push, dist, same)

    ids = [f"S{i:04d}" for i in range(n)]
    cities = pd.DataFrame(
        {
            "city": ids,
            "name": [f"synthetic city {i} ({PV.PROVINCES[int(c)][0]})" for i, c in enumerate(prov)],
            "province": [PV.PROVINCES[int(c)][0] for c in prov],
            "region": region,
            "pilot": np.isin(prov, list(PV.PILOT)),
            "buy_price": [PV.buy_price_of(int(c)) for c in prov],
            "L0": L0,
            "w": w,
            "LY": LY,
            "LH": LH,
            "RY": RY,
            "RH": RH,
            "Ph": Ph,
            "lon": lon,
            "lat": lat,
        }
    )
    meta = {
        "name": "china_synthetic"
        if (seed == 0 and n_cities is None)
        else f"synthetic:{seed}" + (f":{n}" if n_cities else ""),
        "description": "SYNTHETIC China-like city dataset generated by landjax.data.china.generate_synthetic "
        f"(seed {seed}); no column is real data.",
        "synthetic": True,
        "synthetic_columns": [
            "name",
            "L0",
            "w",
            "LY",
            "LH",
            "RY",
            "RH",
            "Ph",
            "lon",
            "lat",
            "migration",
            "P_ry",
            "P_rh",
        ],
        "real_columns": ["province", "region", "pilot", "buy_price", "sell_price"],
        "seed": seed,
        "year": "synthetic (shaped like 2017)",
        "P_ry": P_ry,
        "P_rh": P_rh,
        "sell_price": PV.SELL_PRICE,
        "classification_note": (
            "P_ry, P_rh set so that 80.20% / 66.75% of cities have tau > 0 (the paper's 2017 shares)."
        ),
        "units": UNITS,
        "sources": [
            "synthetic: landjax.data.china.generate_synthetic",
            "province list, regions, pilot provinces and quota prices: Ma & Ni, section 3(1) and footnote on the five "
            "pilot provinces",
        ],
    }
    cities, m, meta = validate_tables(
        cities,
        pd.DataFrame({"origin": [], "destination": [], "share": []}).pipe(lambda _: _migration_long(ids, m)),
        meta,
        where="<synthetic>",
    )
    return Dataset(str(meta["name"]), cities, m, meta, None)


def _migration_long(ids: list[str], m: np.ndarray) -> pd.DataFrame:
    o, d = np.nonzero(m)
    names = np.asarray(ids)
    return pd.DataFrame({"origin": names[o], "destination": names[d], "share": m[o, d]})


# ------------------------------------------------------------------------------------------------
# semi-real builder
# ------------------------------------------------------------------------------------------------


def raw_china_dir(path: str | os.PathLike | None = None) -> Path | None:
    """Directory of the raw public files: `path`, else `$LANDJAX_CHINA_DATA`, else
    `../shared/data/china_cities` next to the repository (None when none exists)."""
    cands = []
    if path is not None:
        cands.append(Path(path))
    if os.environ.get("LANDJAX_CHINA_DATA"):
        cands.append(Path(os.environ["LANDJAX_CHINA_DATA"]))
    repo = DATA_DIR.parents[1]
    cands.append(repo.parent / "shared" / "data" / "china_cities")
    cands.append(Path.cwd().parent / "shared" / "data" / "china_cities")
    for c in cands:
        if (c / "census_city_2010-2020_v1.csv").is_file():
            return c
    return None


RAW_FILES = {
    "census": "census_city_2010-2020_v1.csv",
    "yearbook": "yearbook_light_2015.csv",
    "adcodes": "cpca_adcodes.csv",
}
ATTRIBUTION = [
    "Census 2010/2020 city population: leiii/census (data/census/census_city_2010-2020_v1.csv, commit "
    "0ba0f1efae092f4aa6569ef38e53b3bb4d2f0087), MIT, Copyright (c) 2022 Lei Dong; cite Dong, Du & Liu (2022), SSRN "
    "4049338.",
    "2015 city GDP and urban-unit employment (China City Statistical Yearbook extract): quanturban/firm "
    "(yearbook_light.csv, commit 67218beaadc916cb26ca968481c91ebd55e6cbd6), MIT, Copyright (c) 2020 QuantUrban.",
    "City coordinates: PyPI package cpca 0.5.5, cpca/resources/adcodes.csv, MIT.",
]


def build_semireal(
    raw_dir: str | os.PathLike | None = None, *, seed: int = 2017, alpha: float = 0.67, sigma: float = 0.65
) -> Dataset:
    """Build the semi-real China table from the public files (see module docstring).

    Sample: prefecture-level units of the 2020 census (Hong Kong, Macau and Tibet excluded, as in
    the paper) that have 2015 yearbook GDP and employment (Chinese-name match). Real: city,
    name, province, region, lon/lat, `pop_2010`, `pop_2020`, `gdp_2015` (yuan),
    `LY` (2015 urban-unit employment). Derived from real data: the 2017 resident workforce
    (`workforce`; population interpolated log-linearly 2010-2020 x the 2020 share aged 15-59 x
    0.75). SYNTHETIC (seeded): migration (gravity on great-circle distances, in-migrant shares
    rising with GDP per resident and 2010-2020 population growth), `L0` (row sums of the
    synthetic count matrix), wages `w` (74,318 yuan, the 2017 national urban average, scaled by
    (GDP per resident)^0.4), `LH` (3 % of `LY`), land supply `RY`, `RH` (scaled to GDP
    with a west/northeast tilt and noise; residential share ~ N(0.31, 0.12)), `Ph`, and the
    national prices `P_ry`, `P_rh` (set so that 80.20 % / 66.75 % of cities have tau > 0, the
    paper's 2017 shares).
    """
    raw = raw_china_dir(raw_dir)
    if raw is None:
        raise InputError(
            "build_semireal: raw files not found; pass raw_dir, set LANDJAX_CHINA_DATA, or place them in "
            "../shared/data/china_cities (originals: github.com/leiii/census, github.com/quanturban/firm, PyPI cpca)"
        )
    import csv
    import sys

    csv.field_size_limit(sys.maxsize)
    census = pd.read_csv(
        raw / RAW_FILES["census"],
        usecols=lambda c: c != "coord",
        encoding="utf-8-sig",
        dtype={"city_code": str, "province_code": str},
    )
    yb = pd.read_csv(raw / RAW_FILES["yearbook"])
    ad = pd.read_csv(raw / RAW_FILES["adcodes"], dtype={"adcode": str})
    census = census[census["city_code"].str[4:6] == "00"]
    census = census[~census["province_code"].str[:2].isin(["54", "81", "82"])]
    census = census[census["popu_2010"].notna() & census["popu_2020"].notna()]
    df = census.merge(yb, on="city", how="inner")
    # one city (Tonghua) lacks the 2020 age shares: use the sample median (documented)
    df["age_15_59_2020"] = df["age_15_59_2020"].fillna(df["age_15_59_2020"].median())
    ad6 = ad.assign(code6=ad["adcode"].str[:6]).drop_duplicates("code6").set_index("code6")
    df = df[df["city_code"].isin(ad6.index)].copy()
    df["lon"] = ad6.loc[df["city_code"], "longitude"].to_numpy(dtype=float)
    df["lat"] = ad6.loc[df["city_code"], "latitude"].to_numpy(dtype=float)
    df = df.sort_values("city_code").reset_index(drop=True)
    pcode = df["province_code"].str[:2].astype(int).to_numpy()
    n = len(df)
    rng = np.random.default_rng(seed)

    pop10, pop20 = df["popu_2010"].to_numpy(float), df["popu_2020"].to_numpy(float)
    pop17 = pop10 * (pop20 / pop10) ** 0.7
    workforce = pop17 * df["age_15_59_2020"].to_numpy(float) / 100.0 * 0.75
    gdp = df["GDP10000"].to_numpy(float) * 1e4
    LY = df["Employment"].to_numpy(float)
    # Chongqing has no 2015 employment in the extract: impute it from GDP at the sample median
    # employment/GDP ratio, and flag it in the column `imputed`
    imputed = np.where(np.isnan(LY), "LY", "")
    LY = np.where(np.isnan(LY), gdp * np.nanmedian(LY / gdp), LY)
    gpc = gdp / pop17
    rel = gpc / np.exp(np.mean(np.log(gpc)))
    w = 74318.0 * rel**0.4
    LH = 0.03 * LY
    region = np.array([PV.region_of(int(c)) for c in pcode])
    tilt = {"east": 0.75, "central": 1.05, "northeast": 1.45, "west": 1.6}
    R = (
        3.0e6
        * (gdp / np.median(gdp)) ** 0.6
        * (workforce / np.median(workforce)) ** 0.2
        * np.array([tilt[r] for r in region])
        * np.exp(rng.normal(0.0, 0.35, n))
    )
    res_share = np.clip(rng.normal(0.31, 0.12, n), 0.08, 0.65)
    RY, RH = (1.0 - res_share) * R, res_share * R
    P_ry = _classify_price((1 - alpha) / alpha * w * LY / RY, PAPER_SHARE_TAU_Y_POSITIVE)
    P_rh = _classify_price((1 - sigma) / sigma * w * LH / RH, PAPER_SHARE_TAU_H_POSITIVE)
    Ph = 7000.0 * rel**1.2 * (workforce / np.median(workforce)) ** 0.2 * np.exp(rng.normal(0.0, 0.12, n))

    growth = np.log(pop20 / pop10)
    inshare = np.clip(
        0.08 + 0.06 * np.log(rel) + 0.8 * (growth - np.median(growth)) + rng.normal(0.0, 0.02, n), 0.02, 0.6
    )
    push = (1.0 / rel) ** 1.5
    dist = haversine_km(df["lon"].to_numpy(), df["lat"].to_numpy())
    same = pcode[:, None] == pcode[None, :]
    L0, m = gravity_migration(workforce, inshare, push, dist, same)

    cities = pd.DataFrame(
        {
            "city": df["city_code"].to_numpy(),
            "name": df["city"].to_numpy(),
            "province": [PV.PROVINCES[int(c)][0] for c in pcode],
            "region": region,
            "pilot": np.isin(pcode, list(PV.PILOT)),
            "buy_price": [PV.buy_price_of(int(c)) for c in pcode],
            "L0": L0,
            "w": w,
            "LY": LY,
            "LH": LH,
            "RY": RY,
            "RH": RH,
            "Ph": Ph,
            "lon": df["lon"].to_numpy(),
            "lat": df["lat"].to_numpy(),
            "pop_2010": pop10,
            "pop_2020": pop20,
            "gdp_2015": gdp,
            "workforce": workforce,
            "imputed": imputed,
        }
    )
    meta = {
        "name": "china_semireal",
        "description": "Semi-real China city table (landjax.data.china.build_semireal): real city list, provinces, "
        "regions, coordinates, census population, 2015 GDP and urban-unit employment; the columns in "
        "synthetic_columns are SYNTHETIC (seeded) because no open data exist for them.",
        "synthetic": False,
        "synthetic_columns": ["L0", "w", "LH", "RY", "RH", "Ph", "migration", "P_ry", "P_rh"],
        "real_columns": [
            "city",
            "name",
            "province",
            "region",
            "lon",
            "lat",
            "pop_2010",
            "pop_2020",
            "gdp_2015",
            "LY",
            "pilot",
            "buy_price",
            "sell_price",
        ],
        "imputed_note": (
            "column `imputed` names real columns imputed for a city (Chongqing: LY, from GDP at the "
            "sample median employment/GDP ratio)."
        ),
        "derived_columns": {"workforce": "2017 resident workforce from real census counts (see build_semireal)"},
        "seed": seed,
        "year": "2015 GDP/employment, census 2010/2020 population, synthetic land shaped like 2017",
        "P_ry": P_ry,
        "P_rh": P_rh,
        "sell_price": PV.SELL_PRICE,
        "classification_note": (
            "P_ry, P_rh (synthetic) set so that 80.20% / 66.75% of cities have tau > 0 (the paper's 2017 shares)."
        ),
        "units": dict(UNITS, gdp_2015="yuan", pop_2010="persons", pop_2020="persons", workforce="persons"),
        "sources": ATTRIBUTION + ["synthetic columns: landjax.data.china.build_semireal (seeded)"],
        "license_note": "Derived table shipped under the MIT licences of the sources above; attribution as listed.",
    }
    cities, m, meta = validate_tables(cities, _migration_long(list(cities["city"]), m), meta, where="<semireal>")
    return Dataset("china_semireal", cities, m, meta, None)


def _readme(ds: Dataset) -> str:
    lines = [
        f"# {ds.name}",
        "",
        ds.meta.get("description", ""),
        "",
        f"{ds.n} cities in {ds.cities['province'].nunique()} provinces. Built by `landjax.data.china` "
        "(regenerate with `python -m landjax.data.china`).",
        "",
        "Synthetic columns (no open data): " + ", ".join(ds.synthetic_columns) + ".",
        "",
        "Sources:",
        "",
    ]
    lines += [f"- {s}" for s in ds.meta.get("sources", [])]
    return "\n".join(lines) + "\n"


def rebuild_shipped(raw_dir: str | os.PathLike | None = None) -> list[Path]:
    """Regenerate the shipped dataset directories (the semi-real one needs the raw files)."""
    out = [write_dataset(generate_synthetic(0), SHIPPED["china_synthetic"], readme=_readme(generate_synthetic(0)))]
    if raw_china_dir(raw_dir) is not None:
        ds = build_semireal(raw_dir)
        out.append(write_dataset(ds, SHIPPED["china_semireal"], readme=_readme(ds)))
    return out


if __name__ == "__main__":  # pragma: no cover
    for p in rebuild_shipped():
        print("wrote", p)
