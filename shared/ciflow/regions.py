"""Tencent Cloud region names: the short codes COS events and TDMQ use, mapped to API region ids."""

from __future__ import annotations

import re

__all__ = ["SHORT_REGIONS", "normalise_region", "is_region"]

#: Short codes seen in COS trigger events (``cosBucket.region``), CMQ hosts and CallBackMqConfig.
SHORT_REGIONS: dict[str, str] = {
    "bj": "ap-beijing",
    "sh": "ap-shanghai",
    "gz": "ap-guangzhou",
    "cd": "ap-chengdu",
    "cq": "ap-chongqing",
    "nj": "ap-nanjing",
    "hk": "ap-hongkong",
    "sg": "ap-singapore",
    "jp": "ap-tokyo",
    "kr": "ap-seoul",
    "th": "ap-bangkok",
    "in": "ap-mumbai",
    "de": "eu-frankfurt",
    "usw": "na-siliconvalley",
    "use": "na-ashburn",
    "ca": "na-toronto",
    "shjr": "ap-shanghai-fsi",
    "szjr": "ap-shenzhen-fsi",
    "bjjr": "ap-beijing-fsi",
}

_REGION = re.compile(r"^[a-z]{2}-[a-z]+(?:-[a-z]+)?(?:-\d+)?$")


def is_region(value: str) -> bool:
    """True for a region id such as ``ap-guangzhou`` or ``ap-shanghai-fsi``."""
    return bool(_REGION.match(value))


def normalise_region(value: str) -> str:
    """``sh`` -> ``ap-shanghai``; a region id is returned as is; anything else raises ValueError."""
    region = SHORT_REGIONS.get(value.strip().lower(), value.strip().lower())
    if not is_region(region):
        raise ValueError(f"unknown region {value!r}")
    return region
