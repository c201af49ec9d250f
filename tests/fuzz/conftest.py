"""Hypothesis profiles for the fuzz properties: ``ci`` (the default, ``make test``) and ``dev`` (quick)."""

import os
from typing import Any

from hypothesis import HealthCheck, Phase, settings

_COMMON: dict[str, Any] = {
    "deadline": None,
    "database": None,
    "derandomize": False,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}
# make test is repeatable (the same examples every run); make fuzz explores afresh every time.
settings.register_profile("ci", max_examples=600, **{**_COMMON, "derandomize": True})
settings.register_profile("dev", max_examples=50, **_COMMON)
#: The fuzz runner's profile: generation only, every input counted (``benchmarks/fuzz.py`` sets max_examples).
settings.register_profile("fuzz", phases=[Phase.generate], **_COMMON)
FUZZ_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
