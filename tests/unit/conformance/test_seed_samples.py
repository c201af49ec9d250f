"""Conformance: every documentation sample in scope parses into its model and re-serialises to exactly its own tree.

Fixtures are the seed docs' samples (repairs of PDF damage are listed per file in ``index.json``).
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import fromstring

import pytest

from ciflow.codec import CiModel, from_xml
from ciflow.models import cos, documents, files, media, moderation, pictures
from ciflow.models._common import JobDetail
from ciflow.models.callbacks import RawCallback, TaskFinish, WorkflowFinish, parse_callback
from tests.support.seed import assert_complete_and_lossless, entry_id, load_index, named_tag, sample, typed_details

INDEX = load_index("index.json")

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
        tag = fromstring(body).findtext("Tag") or named_tag(entry)
        return REQUESTS_BY_TAG[tag], "Request"
    if "filehash" in entry["api"] and "ci-process" in entry["api"]:
        return files.FileHashResponse, "Response"
    return RESPONSES_BY_FAMILY[family], "Response"


XML_ENTRIES = [e for e in INDEX if e["format"] == "xml" and e["role"] != "callback"]
CALLBACK_ENTRIES = [e for e in INDEX if e["role"] == "callback"]


@pytest.mark.parametrize("entry", XML_ENTRIES, ids=entry_id)
def test_xml_sample_parses_and_round_trips(entry: dict[str, Any]) -> None:
    body = sample(entry)
    model_type, root = model_for(entry, body)
    model = from_xml(model_type, body, root=root)
    for detail in typed_details(model):
        if detail.tag in REQUESTS_BY_TAG:
            assert type(detail) is not JobDetail, f"{detail.tag} detail parsed untyped"
    assert_complete_and_lossless(model, body, root)


@pytest.mark.parametrize("entry", CALLBACK_ENTRIES, ids=entry_id)
def test_callback_sample_parses_into_its_envelope_and_round_trips(entry: dict[str, Any]) -> None:
    body = sample(entry)
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
    assert_complete_and_lossless(callback, body, "Response", fmt=entry["format"])


def test_every_family_and_role_has_samples() -> None:
    seen = {(e["file"].split("/")[0], e["role"]) for e in INDEX}
    for family in ("media", "files", "documents", "pictures", "moderation"):
        assert (family, "request") in seen
        assert (family, "response") in seen
    assert ("callbacks", "callback") in seen
    assert ("moderation", "callback") in seen
