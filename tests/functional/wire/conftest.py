"""Hypothesis profiles for the wire comparison: ``wire`` (default: repeatable, a few seconds) and ``wire-explore``.

Registered the way ``tests/fuzz/conftest.py`` registers its own (profiles are global, names do not clash);
the property picks one with ``settings.get_profile`` and never loads it globally, so other tests keep theirs.
``WIRE_PROFILE=wire-explore`` runs many more examples from a fresh seed.
"""

import os
from typing import Any

from hypothesis import HealthCheck, settings

_COMMON: dict[str, Any] = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}
settings.register_profile("wire", max_examples=300, derandomize=True, **_COMMON)
settings.register_profile("wire-explore", max_examples=3000, derandomize=False, **_COMMON)
WIRE_PROFILE = os.environ.get("WIRE_PROFILE", "wire")
