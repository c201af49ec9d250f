"""Helpers the model tests share: China time, the seed fixtures, schema-free XML trees, unmodelled elements."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ciflow.codec import element_to_tree, parse_xml

#: CI's own time zone (``+0800``), for building expected datetimes.
CHINA = timezone(timedelta(hours=8))
#: The seed docs' samples, one folder per API family (``media``, ``files``, ``pictures``, ``callbacks``…).
SEED_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "seed"


def seed_fixtures(folder: str, pattern: str, *, exclude: Collection[str] = ()) -> list[Path]:
    """The sample files of one family matching ``pattern``, sorted, without the ``exclude`` names."""
    return [p for p in sorted((SEED_FIXTURES / folder).glob(pattern)) if p.name not in exclude]


def xml_tree(body: bytes | str, root: str | None = None) -> Any:
    """The schema-free tree of an XML document (compares element by element, ignoring order).

    ``root``, when given, must be the document element's name.
    """
    element = parse_xml(body)
    if root is not None:
        assert element.tag == root
    return element_to_tree(element)


def unmodelled(value: object, path: str = "") -> list[str]:
    """Paths of elements a parsed model kept only as extras (i.e. that no field models)."""
    if isinstance(value, BaseModel):
        found = [f"{path}/{key}" for key in value.model_extra or {}]
        for name in type(value).model_fields:
            found += unmodelled(getattr(value, name), f"{path}/{name}")
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in unmodelled(item, f"{path}[{i}]")]
    if isinstance(value, dict):  # e.g. a workflow's nodes by name
        return [p for key, item in value.items() for p in unmodelled(item, f"{path}/{key}")]
    return []
