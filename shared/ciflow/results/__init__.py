"""Normalised job results: one shape for every callback kind, for routing and for every sink."""

from ._model import JobResult, ObjectLocation, ResultKind, ResultVerdict
from ._normalise import kind_of_tag, normalise

__all__ = ["JobResult", "ObjectLocation", "ResultKind", "ResultVerdict", "kind_of_tag", "normalise"]
