"""Normalised job results: one shape for every callback kind, for routing and for every sink."""

from ._model import JobResult, ObjectLocation, ResultKind, ResultVerdict

__all__ = ["JobResult", "ObjectLocation", "ResultKind", "ResultVerdict"]
