"""Conformance of the job-adjacent APIs: every seed sample of templates, queues, media buckets, synchronous calls and
batch jobs decodes into its model with no unmodelled element and re-encodes to an equal tree.

Fixtures and their repairs of PDF damage: ``tests/fixtures/seed/index-admin.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from ciflow.codec import CiModel, from_xml, to_xml
from ciflow.models import batch, buckets, queues, sync, templates
from tests.support.xmltree import lossless_equal_xml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "seed"
INDEX: list[dict[str, Any]] = json.loads((FIXTURES / "index-admin.json").read_text())

#: (method and path of the API, role) -> the model of the sample.
MODELS: dict[tuple[str, str], type[CiModel]] = {
    ("POST /template", "response"): templates.TemplateResponse,
    ("PUT /template/<TemplateId>", "response"): templates.TemplateResponse,
    ("GET /template", "response"): templates.TemplatesResponse,
    ("DELETE /template/<TemplateId>", "response"): templates.DeleteTemplateResponse,
    ("GET /queue", "response"): queues.QueuesResponse,
    ("PUT /queue/<QueueId>", "request"): queues.QueueUpdate,
    ("PUT /queue/<QueueId>", "response"): queues.QueueResponse,
    ("GET /mediabucket", "response"): buckets.MediaBucketsResponse,
    ("POST /mediabucket", "response"): buckets.MediaBucketResponse,
    ("DELETE /mediabucket", "response"): buckets.MediaBucketResponse,
    ("POST /snapshot", "request"): sync.GenerateSnapshotRequest,
    ("POST /snapshot", "response"): sync.GenerateSnapshotResponse,
    ("GET /<ObjectKey>?ci-process=videoinfo", "response"): sync.MediaInfoResponse,
    ("POST /inventorytriggerjob", "request"): batch.BatchJobRequest,
    ("POST /inventorytriggerjob", "response"): batch.BatchJobsResponse,
    ("GET /inventorytriggerjob/<JobId>", "response"): batch.BatchJobsResponse,
    ("GET /inventorytriggerjob", "response"): batch.BatchJobsResponse,
}


def model_for(entry: dict[str, Any]) -> type[CiModel]:
    method_path, _, tag = entry["api"].partition(" Tag=")
    if entry["role"] == "request" and tag:
        return templates.template_request_model(tag)
    return MODELS[(method_path, entry["role"])]


def unmodelled(model: BaseModel, path: str = "") -> list[str]:
    """Paths of elements that landed in ``extra``: documented elements the models do not know."""
    found = [f"{path}/{key}" for key in (model.model_extra or {})]
    for name in type(model).model_fields:
        value = getattr(model, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                found += unmodelled(item, f"{path}/{name}")
    return found


@pytest.mark.parametrize("entry", INDEX, ids=lambda e: e["file"])
def test_sample_decodes_fully_and_round_trips(entry: dict[str, Any]) -> None:
    body = (FIXTURES / entry["file"]).read_bytes()
    root = "Request" if entry["role"] == "request" else "Response"
    model = from_xml(model_for(entry), body, root=root)
    assert unmodelled(model) == [], "documented elements missing from the model"
    difference = lossless_equal_xml(body, to_xml(model, root))
    assert difference is None, difference


def test_every_template_tag_and_family_has_samples() -> None:
    tags = {entry["api"].partition(" Tag=")[2] for entry in INDEX} - {""}
    assert tags == set(templates.TEMPLATE_TAGS)
    families = {entry["file"].split("/")[0] for entry in INDEX}
    assert families == {"templates", "queues", "buckets", "sync", "batch"}
