"""Seed samples for conformance tests: index files, each sample's bytes, tag and root; complete and lossless checks."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from ciflow.codec import CiModel, from_xml, to_tree, to_xml
from ciflow.models import JobDetail
from ciflow.models.callbacks import TaskFinish, parse_callback
from tests.support.models import SEED_FIXTURES, unmodelled
from tests.support.xmltree import lossless_equal_json, lossless_equal_xml

__all__ = [
    "FIXTURES",
    "Entry",
    "assert_complete_and_lossless",
    "check_one_job_callback",
    "check_tagged_request",
    "decode_sample",
    "entry_id",
    "load_index",
    "named_tag",
    "root_of",
    "sample",
    "tag_of",
    "typed_details",
    "unmodelled",
    "with_role",
]

FIXTURES = SEED_FIXTURES
#: One line of an index file: ``file``, ``api``, ``role``, ``format``, ``section``, ``source``, ``lines``, ``repairs``.
Entry = dict[str, Any]
M = TypeVar("M", bound=CiModel)


def load_index(name: str) -> list[Entry]:
    """The entries of one index file (``index.json``, ``index-<family>.json``) of the seed fixtures."""
    entries: list[Entry] = json.loads((FIXTURES / name).read_text())
    return entries


def with_role(index: list[Entry], *roles: str) -> list[Entry]:
    return [entry for entry in index if entry["role"] in roles]


def entry_id(entry: Entry) -> str:
    """A parametrised test's id for a sample: its fixture path."""
    return str(entry["file"])


def sample(entry: Entry) -> bytes:
    return (FIXTURES / str(entry["file"])).read_bytes()


def tag_of(entry: Entry) -> str | None:
    """The job tag the sample's API names (``POST /jobs Tag=Concat``), None where it names none."""
    found = re.search(r"Tag=(\w+)", entry["api"])
    return found.group(1) if found else None


def named_tag(entry: Entry) -> str:
    """``tag_of`` for an index in which every API names its tag."""
    tag = tag_of(entry)
    if tag is None:
        raise ValueError(f"{entry['file']}: its API {entry['api']!r} names no Tag")
    return tag


def root_of(entry: Entry) -> str:
    """The document element: ``Request`` for a request sample, ``Response`` for answers and XML callbacks."""
    return "Request" if entry["role"] == "request" else "Response"


def decode_sample(entry: Entry, model_type: type[M]) -> tuple[bytes, M]:
    """The sample's bytes and the model they decode into (under the root its role gives)."""
    original = sample(entry)
    return original, from_xml(model_type, original, root=root_of(entry))


def typed_details(model: BaseModel) -> list[JobDetail]:
    """The job details a response or callback carries (one or a list)."""
    details = getattr(model, "jobs_detail", [])
    return details if isinstance(details, list) else [details]


def assert_complete_and_lossless(model: BaseModel, original: bytes, root: str, *, fmt: str = "xml") -> None:
    """No element of ``original`` was left unmodelled, and ``model`` re-encodes to exactly its tree: as XML under
    ``root``, or as JSON through ``json.dumps`` (the tree must be JSON as it is, not after a ``default=``)."""
    assert unmodelled(model) == [], "documented elements missing from the model"
    if fmt == "xml":
        difference = lossless_equal_xml(original, to_xml(model, root))
    else:
        difference = lossless_equal_json(json.loads(original), json.loads(json.dumps(to_tree(model))))
    assert difference is None, difference


def check_tagged_request(entry: Entry, request_type: type[M], operations: Mapping[str, type[CiModel]]) -> M:
    """A family's request sample: its ``Tag`` is the one its API names, its operation the table's model for that
    tag, and it is complete and lossless."""
    original, request = decode_sample(entry, request_type)
    tagged: Any = request  # a TaggedJobRequest: each family's subclass declares ``operation``
    assert tagged.tag == tag_of(entry)
    assert type(tagged.operation) is operations[tagged.tag]
    assert_complete_and_lossless(request, original, "Request")
    return request


def check_one_job_callback(entry: Entry, details: Mapping[str, type[JobDetail]]) -> JobDetail:
    """A TaskFinish callback sample of one job: its tag the one its API names, its detail the family's model for
    that tag, complete and lossless (XML or JSON, as the sample is)."""
    original = sample(entry)
    callback = parse_callback(original)
    assert isinstance(callback, TaskFinish)
    [detail] = callback.jobs_detail
    assert detail.tag is not None
    assert detail.tag == tag_of(entry)
    assert type(detail) is details[detail.tag]
    assert_complete_and_lossless(callback, original, "Response", fmt=entry["format"])
    return detail
