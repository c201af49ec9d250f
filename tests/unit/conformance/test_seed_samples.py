"""Conformance: every documentation sample in scope parses into its model and re-serialises to exactly its own tree.

Fixtures are the seed docs' samples (repairs of PDF damage are listed per file in ``index.json``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, cast
from xml.etree.ElementTree import fromstring

import pytest
from pydantic import BaseModel

from ciflow.codec import CiModel, from_xml, to_tree, to_xml
from ciflow.models import cos, documents, files, media, moderation, pictures
from ciflow.models._common import JobDetail
from ciflow.models.callbacks import RawCallback, TaskFinish, WorkflowFinish, parse_callback
from tests.support.xmltree import lossless_equal_json, lossless_equal_xml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "seed"
INDEX = json.loads((FIXTURES / "index.json").read_text())

REQUESTS_BY_TAG: dict[str, type[CiModel]] = {
    "Transcode": media.TranscodeJobRequest,
    "Snapshot": media.SnapshotJobRequest,
    "SmartCover": media.SmartCoverJobRequest,
    "Animation": media.AnimationJobRequest,
    "VideoEnhance": media.VideoEnhanceJobRequest,
    "QualityEstimate": media.QualityEstimateJobRequest,
    "SuperResolution": media.SuperResolutionJobRequest,
    "FileHashCode": files.FileHashCodeJobRequest,
    "FileUncompress": files.FileUncompressJobRequest,
    "FileCompress": files.FileCompressJobRequest,
    "DocProcess": documents.DocJobRequest,
    "PicProcess": pictures.PicJobRequest,
}
MODERATION_REQUESTS: dict[str, type[CiModel]] = {
    "image": moderation.ImageModerationRequest,
    "video": moderation.VideoModerationRequest,
    "audio": moderation.AudioModerationRequest,
    "text": moderation.TextModerationRequest,
    "document": moderation.DocumentModerationRequest,
}
COS_MODELS: dict[str, tuple[type[CiModel], str]] = {
    "nosuchkey-error": (cos.ErrorBody, "Error"),
    "deleteobjects-request": (cos.DeleteRequest, "Delete"),
    "deleteobjects-response": (cos.DeleteResult, "DeleteResult"),
    "copyobject-response": (cos.CopyObjectResult, "CopyObjectResult"),
    "listobjects-response": (cos.ListBucketResult, "ListBucketResult"),
}
RESPONSES_BY_FAMILY: dict[str, type[CiModel]] = {
    "media": media.MediaJobsResponse,
    "files": files.FileJobsResponse,
    "documents": documents.DocJobsResponse,
    "pictures": pictures.PicJobsResponse,
}


def model_for(entry: dict[str, Any], body: bytes) -> tuple[type[CiModel], str]:
    """The model (and XML root) a sample must decode into, from what the sample is."""
    family, name = entry["file"].split("/")
    if family == "cos":
        return next(model for prefix, model in COS_MODELS.items() if name.startswith(prefix))
    if family == "moderation":
        kind = name.split("-")[0]
        if fromstring(body).tag == "JobsDetail":  # the doc shows one failed item of a batch response
            return moderation.ImageModerationDetail, "JobsDetail"
        if entry["role"] == "request":
            return MODERATION_REQUESTS[kind], "Request"
        if "sensitive-content-recognition" in entry["api"]:
            return moderation.ImageRecognitionResult, "RecognitionResult"
        return moderation.MODERATION_RESPONSES[moderation.ModerationKind(kind)], "Response"
    if entry["role"] == "request":
        # All-nodes samples leave <Tag/> empty; the API they document names it.
        tag = fromstring(body).findtext("Tag") or cast(re.Match[str], re.search(r"Tag=(\w+)", entry["api"])).group(1)
        return REQUESTS_BY_TAG[tag], "Request"
    if "filehash" in entry["api"] and "ci-process" in entry["api"]:
        return files.FileHashResponse, "Response"
    return RESPONSES_BY_FAMILY[family], "Response"


def unmodelled(model: BaseModel, path: str = "") -> list[str]:
    """Paths of elements that landed in ``extra``: documented elements the models do not know."""
    found = [f"{path}/{key}" for key in (model.model_extra or {})]
    for name in type(model).model_fields:
        value = getattr(model, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                found += unmodelled(item, f"{path}/{name}")
    return found


def typed_details(model: BaseModel) -> list[JobDetail]:
    details = getattr(model, "jobs_detail", [])
    return details if isinstance(details, list) else [details]


XML_ENTRIES = [e for e in INDEX if e["format"] == "xml" and e["role"] != "callback"]
CALLBACK_ENTRIES = [e for e in INDEX if e["role"] == "callback"]


@pytest.mark.parametrize("entry", XML_ENTRIES, ids=lambda e: e["file"])
def test_xml_sample_parses_and_round_trips(entry: dict[str, Any]) -> None:
    body = (FIXTURES / entry["file"]).read_bytes()
    model_type, root = model_for(entry, body)
    model = from_xml(model_type, body, root=root)
    assert unmodelled(model) == [], "documented elements missing from the model"
    for detail in typed_details(model):
        if detail.tag in REQUESTS_BY_TAG:
            assert type(detail) is not JobDetail, f"{detail.tag} detail parsed untyped"
    assert lossless_equal_xml(body, to_xml(model, root)) is None


@pytest.mark.parametrize("entry", CALLBACK_ENTRIES, ids=lambda e: e["file"])
def test_callback_sample_parses_into_its_envelope_and_round_trips(entry: dict[str, Any]) -> None:
    body = (FIXTURES / entry["file"]).read_bytes()
    callback = parse_callback(body)
    assert not isinstance(callback, RawCallback), "a documented callback was not recognised"
    if "TaskFinish" in entry["api"]:
        assert isinstance(callback, TaskFinish)
        assert callback.jobs_detail, "no job in a TaskFinish callback"
        for detail in callback.jobs_detail:
            assert type(detail) is not JobDetail, f"{detail.tag} detail parsed untyped"
            assert detail.job_id
    elif "WorkflowFinish" in entry["api"]:
        assert isinstance(callback, WorkflowFinish)
        assert callback.workflow_execution is not None
        assert callback.workflow_execution.tasks
    else:
        assert type(callback).__module__ == moderation.__name__
    assert unmodelled(callback) == [], "documented elements missing from the model"
    if entry["format"] == "xml":
        assert lossless_equal_xml(body, to_xml(callback, "Response")) is None
    else:
        # Through json.dumps: the tree must be JSON as it is, not only after a default= conversion.
        assert lossless_equal_json(json.loads(body), json.loads(json.dumps(to_tree(callback)))) is None


def test_every_family_and_role_has_samples() -> None:
    seen = {(e["file"].split("/")[0], e["role"]) for e in INDEX}
    for family in ("media", "files", "documents", "pictures", "moderation"):
        assert (family, "request") in seen
        assert (family, "response") in seen
    assert ("callbacks", "callback") in seen
    assert ("moderation", "callback") in seen
