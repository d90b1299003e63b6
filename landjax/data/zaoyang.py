"""The Zaoyang (Hubei) quota-splitting case of Zuo, Hu & Li (2019): loader for `zaoyang.csv`.

See `zaoyang.md` beside this file for the source of every column. Units: hm2.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
#: the estate: Zaoyang's new construction-land quota to 2020 (Table 1 total and the text), hm2
ESTATE = 2147.09
#: total demand as printed in the text and Table 4 (the 16 printed claims sum to 3976.65)
PRINTED_TOTAL_DEMAND = 3976.66
#: Table 6: beta value of each rule, as printed
PAPER_TABLE6 = {"P": 4.43, "CEA": 6.20, "CEL": 11.83, "CE": 6.50, "Pin": 3.87, "T": 7.73}
#: rule columns of Table 5 (awards in ``paper_<rule>``, printed satisfaction % in ``paper_<rule>_pct``)
TABLE5_RULES = ("P", "CEA", "CEL", "CE", "Pin", "T")


def load_zaoyang() -> pd.DataFrame:
    """The 16 districts in Table 5's order: demand (Table 4, the claims), planned quota and share
    (Table 1), and Table 5's printed awards and satisfaction percentages per rule."""
    df = pd.read_csv(HERE / "zaoyang.csv", encoding="utf-8")
    return df


__all__ = ["ESTATE", "PRINTED_TOTAL_DEMAND", "PAPER_TABLE6", "TABLE5_RULES", "load_zaoyang"]
