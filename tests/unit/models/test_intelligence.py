"""The intelligence family's models and operations: one table, one request class, typed details, the off-/jobs APIs."""

from __future__ import annotations

import subprocess
import sys
from xml.etree.ElementTree import fromstring

import pytest

from ciflow import operations as ops
from ciflow.codec import from_xml, to_xml
from ciflow.errors import DecodeError
from ciflow.models import JobInput, JobOutput, JobsQuery
from ciflow.models import intelligence as intel
from ciflow.models._tagged import DETAIL_MODELS, detail_model
from ciflow.models.media import MediaJobsResponse, SnapshotOperation

TAGS = {"VideoTag", "SegmentVideoBody", "SpeechRecognition", "Translation", "WordsGeneralize"}


def test_the_table_names_every_tag_once_and_registers_it_lazily() -> None:
    assert set(intel.OPERATIONS) == TAGS == intel.INTELLIGENCE_TAGS
    for tag, operation in intel.OPERATIONS.items():
        assert tag == operation.TAG
        assert DETAIL_MODELS[tag] == "intelligence:"
        assert detail_model(tag) is intel.DETAILS[tag]
        assert intel.DETAILS[tag].model_fields["operation"].annotation is not None


def test_a_request_takes_its_tag_from_the_operation_and_encodes_it() -> None:
    request = intel.IntelligenceJobRequest(
        input=intel.IntelligenceInput(object="in/a.txt", lang="en", type="txt"),
        operation=intel.TranslationOperation(
            translation=intel.Translation(lang="zh", type="txt"), output=JobOutput(object="out/zh.txt")
        ),
    )
    assert request.tag == "Translation"
    root = fromstring(to_xml(request))
    assert root.findtext("Tag") == "Translation"
    assert root.findtext("Input/Lang") == "en"
    assert root.findtext("Operation/Translation/Lang") == "zh"


def test_a_decoded_request_picks_the_operation_model_by_tag() -> None:
    body = (
        b"<Request><Tag>SegmentVideoBody</Tag><Input><Object>in/a.mp4</Object></Input><Operation>"
        b"<SegmentVideoBody><Mode>Foreground</Mode><SegmentType>GreenScreenSeg</SegmentType>"
        b"<BackgroundGreen>255</BackgroundGreen><BinaryThreshold>40</BinaryThreshold></SegmentVideoBody>"
        b"<Output><Object>out/fg.mp4</Object></Output></Operation></Request>"
    )
    request = from_xml(intel.IntelligenceJobRequest, body, root="Request")
    operation = request.operation
    assert isinstance(operation, intel.SegmentVideoBodyOperation)
    assert operation.segment_video_body is not None
    assert (operation.segment_video_body.mode, operation.segment_video_body.background_green) == ("Foreground", 255)
    assert operation.segment_video_body.binary_threshold == 40


def test_a_wrong_tag_or_pairing_is_refused() -> None:
    with pytest.raises(ValueError, match="takes the tags"):
        intel.IntelligenceJobRequest(tag="Transcode", input=JobInput(object="a"), operation=intel.VideoTagOperation())
    with pytest.raises(ValueError, match="takes a TranslationOperation"):
        intel.IntelligenceJobRequest(tag="Translation", input=JobInput(object="a"), operation=intel.VideoTagOperation())
    with pytest.raises(ValueError, match="takes the tags"):
        intel.IntelligenceJobRequest(input=JobInput(object="a"), operation=SnapshotOperation())


def test_a_jobs_response_types_each_tag_and_reads_its_result() -> None:
    body = (
        b"<Response><JobsDetail><Tag>WordsGeneralize</Tag><State>Success</State><Operation>"
        b"<WordsGeneralizeResult><WordsGeneralizeLable><Category>Place</Category><Word>Shenzhen</Word>"
        b"</WordsGeneralizeLable><WordsGeneralizeToken><Word>Shenzhen</Word><Offset>0</Offset><Length>8</Length>"
        b"<Pos>NS</Pos></WordsGeneralizeToken></WordsGeneralizeResult></Operation></JobsDetail>"
        b"<JobsDetail><Tag>SpeechRecognition</Tag><Operation><JobLevel>1</JobLevel><SpeechRecognitionResult>"
        b"<AudioTime>3.5</AudioTime><Result>hello</Result><FlashResult><channel_id>0</channel_id><text>hello</text>"
        b"<sentence_list><text>hello</text><start_time>0</start_time><end_time>3500</end_time>"
        b"<word_list><word>hello</word><start_time>0</start_time><end_time>900</end_time></word_list>"
        b"</sentence_list></FlashResult></SpeechRecognitionResult></Operation></JobsDetail></Response>"
    )
    words, speech = from_xml(MediaJobsResponse, body, root="Response").jobs_detail
    assert isinstance(words.operation, intel.WordsGeneralizeOperation)
    result = words.operation.words_generalize_result
    assert result is not None
    assert result.labels[0].word == "Shenzhen"
    assert result.tokens[0].length == 8
    assert isinstance(speech.operation, intel.SpeechRecognitionOperation)
    recognised = speech.operation.speech_recognition_result
    assert recognised is not None
    assert recognised.audio_time == 3.5
    assert recognised.flash_result[0].sentence_list[0].word_list[0].end_time == 900
    assert speech.operation.job_level == 1


def test_a_repeated_job_level_is_one_value_only_when_the_repeats_agree() -> None:
    same = (
        b"<Response><JobsDetail><Tag>SpeechRecognition</Tag><Operation>"
        b"<JobLevel>2</JobLevel><JobLevel>2</JobLevel></Operation></JobsDetail></Response>"
    )
    assert from_xml(MediaJobsResponse, same, root="Response").jobs_detail[0].operation.job_level == 2  # type: ignore[union-attr]
    differ = same.replace(b"<JobLevel>2</JobLevel></Operation>", b"<JobLevel>1</JobLevel></Operation>")
    with pytest.raises(DecodeError):
        from_xml(MediaJobsResponse, differ, root="Response")


def test_a_tagged_object_box_is_read_under_either_spelling() -> None:
    assert intel.TaggedObject.model_validate({"BBox": {"X1": "0.1"}}).box == intel.TagBox(x1=0.1)
    assert intel.TaggedObject.model_validate({"BBBox": {"Y2": "0.9"}}).box == intel.TagBox(y2=0.9)
    assert intel.TaggedObject().box is None


def test_ai_and_asr_operations_go_to_their_own_paths() -> None:
    translation = intel.IntelligenceJobRequest(
        input=intel.IntelligenceInput(object="a.txt"),
        operation=intel.TranslationOperation(translation=intel.Translation(lang="zh")),
    )
    submit = ops.submit_ai_job(translation)
    assert (submit.method, submit.path, submit.retry, submit.name) == ("POST", "/ai_jobs", "submit", "SubmitAiJob")
    assert submit.body is not None
    assert fromstring(submit.body).findtext("Tag") == "Translation"
    speech = intel.IntelligenceJobRequest(input=JobInput(object="a.mp3"), operation=intel.SpeechRecognitionOperation())
    assert ops.submit_speech_job(speech).path == "/asr_jobs"
    with pytest.raises(ValueError, match="not submitted on /asr_jobs"):
        ops.submit_speech_job(translation)
    with pytest.raises(ValueError, match="not submitted on /ai_jobs"):
        ops.submit_ai_job(
            intel.IntelligenceJobRequest(input=JobInput(object="v.mp4"), operation=intel.VideoTagOperation())
        )
    assert ops.describe_ai_jobs("a1", "a2").path == "/ai_jobs/a1,a2"
    assert ops.describe_speech_jobs("s1").path == "/asr_jobs/s1"
    cancel = ops.cancel_ai_job("a1")
    assert (cancel.method, cancel.path, cancel.params) == ("PUT", "/ai_jobs/a1", (("cancel", ""),))
    with pytest.raises(ValueError, match="plain job ids"):
        ops.describe_ai_jobs("a,b")
    assert "VideoTag" not in (ops.AI_JOBS.tags or ())
    assert "VideoTag" not in (ops.ASR_JOBS.tags or ())
    assert "WordsGeneralize" in (ops.AI_JOBS.tags or ())


def test_the_speech_listing_follows_next_token() -> None:
    listing = ops.list_speech_jobs(JobsQuery(tag="SpeechRecognition", queue_id="p1", size=5))
    assert listing.path == "/asr_jobs"
    assert dict(listing.params) == {
        "queueId": "p1",
        "tag": "SpeechRecognition",
        "size": "5",
    }
    assert listing.next_page is not None
    follow = listing.next_page(MediaJobsResponse(next_token="42"))
    assert follow is not None
    assert dict(follow.params)["nextToken"] == "42"
    assert listing.next_page(MediaJobsResponse()) is None


def test_a_transcode_report_still_loads_only_the_media_models() -> None:
    code = (
        "import sys\n"
        "from ciflow.models.callbacks import parse_callback\n"
        "parse_callback(b'<Response><EventName>TaskFinish</EventName><JobsDetail><Tag>Transcode</Tag>"
        "<JobId>j1</JobId><Operation/></JobsDetail></Response>')\n"
        "print('ciflow.models.intelligence' in sys.modules)\n"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert found.stdout.strip() == "False"
