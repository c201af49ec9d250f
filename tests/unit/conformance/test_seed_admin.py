"""Conformance of the job-adjacent APIs: every seed sample of templates, queues, media buckets, synchronous calls and
batch jobs decodes into its model with no unmodelled element and re-encodes to an equal tree.

Fixtures and their repairs of PDF damage: ``tests/fixtures/seed/index-admin.json``.
"""

from __future__ import annotations

from typing import Any

import pytest

from ciflow.codec import CiModel
from ciflow.models import batch, buckets, queues, sync, templates
from tests.support.seed import assert_complete_and_lossless, decode_sample, entry_id, load_index, root_of

INDEX = load_index("index-admin.json")

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


@pytest.mark.parametrize("entry", INDEX, ids=entry_id)
def test_sample_decodes_fully_and_round_trips(entry: dict[str, Any]) -> None:
    body, model = decode_sample(entry, model_for(entry))
    assert_complete_and_lossless(model, body, root_of(entry))


def test_every_template_tag_and_family_has_samples() -> None:
    tags = {entry["api"].partition(" Tag=")[2] for entry in INDEX} - {""}
    assert tags == set(templates.TEMPLATE_TAGS)
    families = {entry["file"].split("/")[0] for entry in INDEX}
    assert families == {"templates", "queues", "buckets", "sync", "batch"}
