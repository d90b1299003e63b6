"""Province table for the China datasets: codes, names, regions, rough centroids, policy groups.

Regions follow the National Bureau of Statistics split by province code (first two digits):
east 11 12 13 31 32 33 35 37 44 46; central 14 34 36 41 42 43; northeast 21 22 23; west the rest.
Pilot provinces (P5, the 2018 cross-province quota measures): Qinghai, Sichuan, Gansu, Yunnan,
Xinjiang. Buyer prices (yuan/m2, Ma & Ni section 3(1)): 1050 Beijing and Shanghai; 750 Tianjin,
Jiangsu, Zhejiang, Guangdong; 450 all others. The seller price is 525 yuan/m2.
Centroids are approximate provincial capitals (degrees), used only by the synthetic generator.
`n_synth` is the number of cities per province in the synthetic China-like dataset (285 in all).
"""

from __future__ import annotations

# code: (english, chinese, lon, lat, n_synth)
PROVINCES: dict[int, tuple[str, str, float, float, int]] = {
    11: ("Beijing", "北京市", 116.4, 39.9, 1),
    12: ("Tianjin", "天津市", 117.2, 39.1, 1),
    13: ("Hebei", "河北省", 114.5, 38.0, 10),
    14: ("Shanxi", "山西省", 112.5, 37.9, 11),
    15: ("Inner Mongolia", "内蒙古自治区", 111.7, 40.8, 11),
    21: ("Liaoning", "辽宁省", 123.4, 41.8, 13),
    22: ("Jilin", "吉林省", 125.3, 43.9, 9),
    23: ("Heilongjiang", "黑龙江省", 126.6, 45.8, 12),
    31: ("Shanghai", "上海市", 121.5, 31.2, 1),
    32: ("Jiangsu", "江苏省", 118.8, 32.1, 13),
    33: ("Zhejiang", "浙江省", 120.2, 30.3, 11),
    34: ("Anhui", "安徽省", 117.3, 31.9, 15),
    35: ("Fujian", "福建省", 119.3, 26.1, 9),
    36: ("Jiangxi", "江西省", 115.9, 28.7, 11),
    37: ("Shandong", "山东省", 117.0, 36.7, 15),
    41: ("Henan", "河南省", 113.7, 34.8, 16),
    42: ("Hubei", "湖北省", 114.3, 30.6, 12),
    43: ("Hunan", "湖南省", 113.0, 28.2, 13),
    44: ("Guangdong", "广东省", 113.3, 23.1, 20),
    45: ("Guangxi", "广西壮族自治区", 108.3, 22.8, 13),
    46: ("Hainan", "海南省", 110.3, 20.0, 3),
    50: ("Chongqing", "重庆市", 106.5, 29.6, 1),
    51: ("Sichuan", "四川省", 104.1, 30.7, 17),
    52: ("Guizhou", "贵州省", 106.7, 26.6, 6),
    53: ("Yunnan", "云南省", 102.7, 25.0, 8),
    54: ("Tibet", "西藏自治区", 91.1, 29.6, 1),
    61: ("Shaanxi", "陕西省", 108.9, 34.3, 10),
    62: ("Gansu", "甘肃省", 103.8, 36.1, 11),
    63: ("Qinghai", "青海省", 101.8, 36.6, 2),
    64: ("Ningxia", "宁夏回族自治区", 106.3, 38.5, 5),
    65: ("Xinjiang", "新疆维吾尔自治区", 87.6, 43.8, 4),
}

EAST = {11, 12, 13, 31, 32, 33, 35, 37, 44, 46}
CENTRAL = {14, 34, 36, 41, 42, 43}
NORTHEAST = {21, 22, 23}
PILOT = {51, 53, 62, 63, 65}  # Sichuan, Yunnan, Gansu, Qinghai, Xinjiang
BUY_PRICE_HIGH = {11: 1050.0, 31: 1050.0, 12: 750.0, 32: 750.0, 33: 750.0, 44: 750.0}
BUY_PRICE_OTHER = 450.0
SELL_PRICE = 525.0
REGIONS = ("east", "central", "west", "northeast")


def region_of(code: int) -> str:
    """Region of a two-digit province code."""
    if code in EAST:
        return "east"
    if code in CENTRAL:
        return "central"
    if code in NORTHEAST:
        return "northeast"
    return "west"


def buy_price_of(code: int) -> float:
    """Quota buyer price (yuan/m2) of a province (Ma & Ni section 3(1))."""
    return BUY_PRICE_HIGH.get(code, BUY_PRICE_OTHER)
