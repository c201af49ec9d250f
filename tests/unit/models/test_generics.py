"""The generic job envelope: ``JobDetail[Op]``, ``JobsResponse[Detail]`` and ``JobRequest[Input]``.

``Model[X]`` is made by ``_Specialised`` as the plain subclass it describes (pydantic's own parametrisation
builds the generic model at import, whatever ``defer_build`` says). These tests pin that it means what
pydantic's parametrisation means: same fields, same values from the same tree, same tree back.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import BaseModel

from ciflow.codec import from_xml, to_tree
from ciflow.models import _common, documents, files, media, pictures
from ciflow.models._common import JobDetail, JobInput, JobRequest, JobsResponse

MODELS = Path(_common.__file__).parent

DETAIL_TREE: dict[str, Any] = {
    "JobId": "j1",
    "Tag": "Transcode",
    "State": "Success",
    "Progress": "100",
    "CreationTime": "2026-11-22T10:00:00+0800",
    "Input": {"Object": "in/a.mp4", "BucketId": "b-1250000000"},
    "Operation": {"TemplateId": "t1", "UserData": "r=t", "JobLevel": "0", "Extra": {"Kept": "1"}},
    "Workflow": {"RunId": "r1"},
    "Unmodelled": "kept",
}


def _pydantic_parametrisation(origin: type[BaseModel], argument: Any) -> type[BaseModel]:
    """What ``origin[argument]`` is without ``_Specialised``: pydantic's own generic model."""
    return cast("type[BaseModel]", BaseModel.__dict__["__class_getitem__"].__func__(origin, argument))


def test_specialised_models_are_cached_named_subclasses_of_the_bare_model() -> None:
    assert JobDetail[media.TranscodeOperation] is media.TranscodeJobDetail
    assert issubclass(media.TranscodeJobDetail, JobDetail)
    assert media.TranscodeJobDetail.__name__ == "JobDetail[TranscodeOperation]"
    assert media.MediaJobsResponse.__name__ == "JobsResponse[MediaJobDetail]"
    assert files.FileJobsResponse.__name__ == "JobsResponse[FileJobDetail]"
    assert documents.DocJobsResponse.__name__ == "JobsResponse[JobDetail[DocProcessOperation]]"
    assert JobsResponse[pictures.PicJobDetail] is pictures.PicJobsResponse
    assert not media.TranscodeJobDetail.__pydantic_complete__  # deferred like every model until first use


@pytest.mark.parametrize(
    ("origin", "argument", "field"),
    [
        (JobDetail, media.TranscodeOperation, "operation"),
        (JobDetail, documents.DocProcessOperation, "operation"),
        (JobsResponse, pictures.PicJobDetail, "jobs_detail"),
        (JobsResponse, media.MediaJobDetail, "jobs_detail"),
        (JobRequest, JobInput | None, "input"),
    ],
)
def test_specialised_fields_match_pydantics_parametrisation(origin: Any, argument: Any, field: str) -> None:
    ours, theirs = origin[argument], _pydantic_parametrisation(origin, argument)
    assert list(ours.model_fields) == list(theirs.model_fields)
    for name, info in ours.model_fields.items():
        other = theirs.model_fields[name]
        assert (info.alias, info.is_required(), info.default, info.default_factory) == (
            other.alias,
            other.is_required(),
            other.default,
            other.default_factory,
        ), name
    assert ours.model_fields[field].annotation == theirs.model_fields[field].annotation
    assert ours.model_fields[field].metadata == theirs.model_fields[field].metadata


def test_specialised_and_pydantic_models_decode_the_same_tree_to_the_same_values() -> None:
    theirs = _pydantic_parametrisation(JobDetail, media.TranscodeOperation)
    ours = media.TranscodeJobDetail.model_validate(DETAIL_TREE)
    assert isinstance(ours.operation, media.TranscodeOperation)
    assert ours.model_dump() == theirs.model_validate(DETAIL_TREE).model_dump()
    assert to_tree(ours) == to_tree(theirs.model_validate(DETAIL_TREE))
    bare = JobDetail.model_validate(DETAIL_TREE)  # bare: Operation kept as parsed
    assert bare.operation == DETAIL_TREE["Operation"]
    assert to_tree(bare)["Operation"] == DETAIL_TREE["Operation"]


def test_a_response_types_each_detail_by_tag_and_keeps_unknown_tags_plain() -> None:
    body = (
        b"<Response><JobsDetail><Tag>Snapshot</Tag><Operation><Snapshot><Mode>Interval</Mode></Snapshot>"
        b"</Operation></JobsDetail><JobsDetail><Tag>FutureJob</Tag><Operation><X>1</X></Operation></JobsDetail>"
        b"<NextToken>n</NextToken><NonExistJobIds>a</NonExistJobIds></Response>"
    )
    answer = from_xml(media.MediaJobsResponse, body, root="Response")
    assert [type(detail) for detail in answer.jobs_detail] == [media.SnapshotJobDetail, JobDetail]
    assert answer.non_exist_job_ids == ["a"]
    assert answer.jobs_detail[1].operation == {"X": "1"}


def test_filecompress_request_alone_may_omit_input() -> None:
    assert files.FileCompressJobRequest(operation=files.FileCompressOperation()).input is None
    with pytest.raises(ValueError, match="Input"):
        media.TranscodeJobRequest.model_validate({"Operation": {"TemplateId": "t"}})


def test_type_variable_arguments_still_go_to_pydantic() -> None:
    assert cast(Any, JobDetail)[_common.OpT] is JobDetail


def test_no_type_ignore_in_the_models() -> None:
    offenders = [path.name for path in MODELS.glob("*.py") if "type: ignore" in path.read_text(encoding="utf-8")]
    assert offenders == []


def test_importing_the_job_models_builds_nothing() -> None:
    """No schema is built at import: pydantic's plugin loader (importlib.metadata) stays unloaded."""
    code = (
        "import sys, ciflow.models.callbacks, ciflow.models.media as m;"
        "assert 'pydantic.plugin._loader' not in sys.modules, 'a model was built at import';"
        "from ciflow.models._common import JobDetail, JobsResponse, JobRequest;"
        "assert not (JobDetail.__pydantic_complete__ or JobsResponse.__pydantic_complete__"
        " or JobRequest.__pydantic_complete__ or m.MediaJobsResponse.__pydantic_complete__)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603 - our own interpreter and code
