"""The papers' published numbers, one table per paper: the single source every reproduction reads.

Each paper has `<paper id>.csv` beside this file with the columns `COLUMNS`:

* `key`: a stable dotted name (`table2.area.productive.intra_pilot.gdp_change`), unique per paper;
* `quantity`: what the number is, in words (the `quantity` column of `comparison.csv` starts
  with it);
* `value`: the number as printed (written so that it reads back to the same float);
* `unit`: `percent`, `pp` (percentage points), `share`, `hm2`, `ratio`, `parameter
  value`, `draws`, ...;
* `source`: where the paper prints it (table, figure, section or page).

`zuo2019`'s Table 5 awards and satisfaction percentages are not copied into `zuo2019.csv`: they
live in `landjax/data/zaoyang.csv` (the case's data, with the claims and planned quotas of the
same table rows) and `published` adds them as rows `table5.<rule>.<district>` and
`table5_pct.<rule>.<district>`, so each printed number is stored once.

`zhao_liu2024`: the paper's equations and numbers are not public; its table holds the numbers the
project's specification prints for its calibration and prototype (`docs/zhao_liu2024.md`), with
that as their source.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd

from landjax.data.zaoyang import TABLE5_RULES, load_zaoyang

HERE = Path(__file__).resolve().parent
#: the columns of every published table
COLUMNS = ("key", "quantity", "value", "unit", "source")
#: paper ids with a published table (the order of ``landjax reproduce all``)
PAPERS = ("zuo2019", "cheng_liu2021", "ma_ni", "zhao_liu2024", "rrh2017")


def slug(text: str) -> str:
    """The key part for a name: lower case, runs of other characters as `_`
    (`"Development Zone"` -> `development_zone`)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _zaoyang_rows() -> pd.DataFrame:
    """Table 5 of Zuo, Hu & Li (2019) from `landjax/data/zaoyang.csv` as published-table rows."""
    z = load_zaoyang()
    rows = []
    for r in TABLE5_RULES:
        for _, d in z.iterrows():
            slug_ = slug(str(d["district_pinyin"]))
            rows.append(
                {
                    "key": f"table5.{r}.{slug_}",
                    "quantity": f"Table 5 award of rule {r} to {d['district_pinyin']} ({d['name_in_table5']}) (hm2)",
                    "value": float(d[f"paper_{r}"]),
                    "unit": "hm2",
                    "source": "Table 5 (via landjax/data/zaoyang.csv)",
                }
            )
            rows.append(
                {
                    "key": f"table5_pct.{r}.{slug_}",
                    "quantity": f"Table 5 satisfaction of rule {r} for {d['district_pinyin']} (%)",
                    "value": float(d[f"paper_{r}_pct"]),
                    "unit": "percent",
                    "source": "Table 5 (via landjax/data/zaoyang.csv)",
                }
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))


@functools.cache
def _load(paper: str) -> pd.DataFrame:
    if paper not in PAPERS:
        raise KeyError(f"no published table for {paper!r}; known: {', '.join(PAPERS)}")
    df = pd.read_csv(
        HERE / f"{paper}.csv",
        encoding="utf-8",
        dtype=str,
        keep_default_na=False,
    )
    # Python's float() reads the printed decimal back to the same float the code used
    df["value"] = [float(v) for v in df["value"]]
    if paper == "zuo2019":
        df = pd.concat([df, _zaoyang_rows()], ignore_index=True)
    return df[list(COLUMNS)]


def published(paper: str) -> pd.DataFrame:
    """The published numbers of `paper` (a copy): one row per number, columns `COLUMNS`.

    **Arguments:** `paper`: a paper id of `PAPERS`.

    **Returns:** a DataFrame in the table's order (`key` unique).
    """
    return _load(paper).copy()


def _row(paper: str, key: str) -> pd.Series:
    df = _load(paper)
    hit = df[df["key"] == key]
    if len(hit) != 1:
        raise KeyError(f"{paper}: no published number with key {key!r}")
    return hit.iloc[0]


def value(paper: str, key: str) -> float:
    """The published number `key` of `paper` as a float (`KeyError` if there is none)."""
    return float(_row(paper, key)["value"])


def quantity(paper: str, key: str) -> str:
    """The words describing the published number `key` of `paper`."""
    return str(_row(paper, key)["quantity"])


def source(paper: str, key: str) -> str:
    """Where the paper prints the number `key` (table, figure, section or page)."""
    return str(_row(paper, key)["source"])


def values(paper: str, prefix: str) -> dict[str, float]:
    """Every published number of `paper` whose key starts with `prefix + '.'`, in table order,
    keyed by the rest of the key (`values("ma_ni", "tau_share") == {"tauY": 0.802, ...}`)."""
    df = _load(paper)
    p = prefix + "."
    sel = df[df["key"].str.startswith(p)]
    return {k[len(p) :]: float(v) for k, v in zip(sel["key"], sel["value"], strict=True)}


def check(paper: str) -> None:
    """Raise `ValueError` unless the table of `paper` has the columns, unique keys, finite values
    and a non-empty quantity, unit and source in every row."""
    df = _load(paper)
    if tuple(df.columns) != COLUMNS:
        raise ValueError(f"{paper}: columns {list(df.columns)}, expected {list(COLUMNS)}")
    dup = df["key"][df["key"].duplicated()]
    if len(dup):
        raise ValueError(f"{paper}: duplicate keys {sorted(set(dup))}")
    if not np.all(np.isfinite(df["value"].to_numpy(float))):
        raise ValueError(f"{paper}: non-finite values")
    for col in ("key", "quantity", "unit", "source"):
        if (df[col].astype(str).str.strip() == "").any():
            raise ValueError(f"{paper}: empty {col}")


__all__ = ["COLUMNS", "PAPERS", "published", "value", "values", "quantity", "source", "check", "slug"]
