"""The callback's tag registry matches the families' detail tables, and a report loads only its tag's family."""

import subprocess
import sys

import pytest

from ciflow.models import JobDetail, audio, documents, editing, files, intelligence, media, pictures
from ciflow.models.callbacks import DETAIL_MODELS, JOB_TAGS, detail_model, family_of_tag

FAMILY_TABLES = {
    "media": media.MEDIA_DETAILS,
    "files": files.FILE_DETAILS,
    "documents": documents.DOC_DETAILS,
    "pictures": pictures.PIC_DETAILS,
    "editing": editing.DETAILS,
    "audio": audio.DETAILS,
    "intelligence": intelligence.DETAILS,
}


def test_the_registry_names_every_familys_detail_model_and_no_other() -> None:
    expected = {tag: model for table in FAMILY_TABLES.values() for tag, model in table.items()}
    assert {tag: detail_model(tag) for tag in DETAIL_MODELS} == expected
    assert frozenset(expected) == JOB_TAGS
    for family, table in FAMILY_TABLES.items():
        assert {tag for tag in table if family_of_tag(tag) == family} == set(table)


@pytest.mark.parametrize("tag", [None, "", "Unknown", "transcode"])
def test_a_tag_without_a_typed_model_is_a_plain_job_detail(tag: str | None) -> None:
    assert detail_model(tag) is JobDetail
    assert family_of_tag(tag) is None


def test_a_transcode_report_loads_only_the_media_models() -> None:
    code = (
        "import sys; from ciflow.models.callbacks import parse_callback; from ciflow.results import normalise;"
        "cb = parse_callback(b'<Response><EventName>TaskFinish</EventName><JobsDetail><Tag>Transcode</Tag>"
        "<State>Success</State><Operation><TemplateId>t1</TemplateId></Operation></JobsDetail></Response>');"
        "assert type(cb.jobs_detail[0].operation).__name__ == 'TranscodeOperation';"
        "normalise(cb, user_data_secrets=['s' * 16]);"
        "loaded = {m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('ciflow.models.')};"
        "assert loaded == {'_common', '_tagged', 'callbacks', 'media', '_media_frames', '_media_results',"
        " '_media_transcode'}, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603 - our own interpreter and code
