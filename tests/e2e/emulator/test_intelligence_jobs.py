"""Intelligence jobs end to end: every tag submitted through the production client, run by the emulator (the matte
for real, the others as labelled stand-ins measured from the input), described typed, its outputs checked in COS,
and its callback routed by the callback function to the local queue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from ciflow import operations as ops
from ciflow.client import CiClient
from ciflow.models import JobInput, JobOutput
from ciflow.models.audio import AudioJobRequest, TtsConfig, TtsOperation, TtsTpl
from ciflow.models.intelligence import (
    IntelligenceInput,
    IntelligenceJobRequest,
    IntelligenceOperation,
    SegmentVideoBody,
    SegmentVideoBodyOperation,
    SpeechRecognition,
    SpeechRecognitionOperation,
    Translation,
    TranslationOperation,
    VideoTag,
    VideoTagOperation,
    WordsGeneralize,
    WordsGeneralizeOperation,
)
from ciflow_local.emulator import Emulator
from ciflow_local.emulator.workers import ffmpeg
from ciflow_local.emulator.workers.intelligence import STAND_IN
from tests.e2e.emulator.conftest import client_for
from tests.support.callback_host import HostedCallback, run_job

REGION = "ap-guangzhou"
BUCKET = "intelligence-1250000000"
SPOKEN = "hello from the tts stand-in"
TEXT = "The pipeline runs offline.\n\nThe pipeline is tested offline, twice a day.\n"


@pytest.fixture
def client(emulator: Emulator) -> Iterator[CiClient]:
    with client_for(emulator.url, bucket=BUCKET) as ci_client:
        yield ci_client


@pytest.fixture(scope="module")
def inputs(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> None:
    """``in/box.mp4``: 1.5 s of a white box on blue with a tone; ``in/tone.mp3`` (a plain tone) and ``in/notes.txt``."""
    work = tmp_path_factory.mktemp("inputs")
    video = "color=c=0x2040E0:s=96x64:r=10:d=1.5,drawbox=x=32:y=16:w=32:h=32:color=white:t=fill"
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1.5"]
    encode = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"]
    ffmpeg.run_ffmpeg(["-f", "lavfi", "-i", video, *tone, *encode, str(work / "box.mp4")], timeout=60)
    ffmpeg.run_ffmpeg(
        ["-f", "lavfi", "-i", "sine=frequency=660:duration=1.2", "-c:a", "libmp3lame", str(work / "tone.mp3")],
        timeout=60,
    )
    (work / "notes.txt").write_text(TEXT, encoding="utf-8")
    with client_for(emulator.url, bucket=BUCKET) as uploader:
        for name in ("box.mp4", "tone.mp3", "notes.txt"):
            uploader.send(ops.put_object(f"in/{name}", (work / name).read_bytes()))


#: Each tag's submit and describe: the job API it is documented on (``/jobs``, ``/ai_jobs`` or ``/asr_jobs``).
API = {
    "VideoTag": (ops.submit_media_job, ops.describe_media_jobs),
    "SegmentVideoBody": (ops.submit_media_job, ops.describe_media_jobs),
    "Translation": (ops.submit_ai_job, ops.describe_ai_jobs),
    "WordsGeneralize": (ops.submit_ai_job, ops.describe_ai_jobs),
    "SpeechRecognition": (ops.submit_speech_job, ops.describe_speech_jobs),
}


def run(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, operation: IntelligenceOperation, source: JobInput
) -> tuple[Any, dict[str, Any]]:
    """Submit, wait for the job and its callback; (the typed operation described, the routed result)."""
    request = IntelligenceJobRequest(input=source, operation=operation, callback=hosted.callback_url)
    submit, describe = API[operation.TAG]
    detail, result = run_job(client, emulator, hosted, request, submit=submit, describe=describe)
    return detail.operation, result


def read(emulator: Emulator, key: str) -> Path:
    stored = emulator.store.head(BUCKET, key)
    assert stored is not None, f"{key} was not written"
    return stored.path


def out(key: str) -> JobOutput:
    return JobOutput(bucket=BUCKET, region=REGION, object=key)


def test_video_tag_reports_measured_labelled_tags(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, inputs: None
) -> None:
    operation = VideoTagOperation(video_tag=VideoTag(scenario="Stream"))
    described, result = run(client, emulator, hosted, operation, JobInput(object="in/box.mp4"))
    stream = described.video_tag_result.stream_data
    assert (stream.sub_err_code, stream.sub_err_msg) == ("0", "ok")
    tags = {label.tag: label for label in stream.data.tags}
    assert tags["blue"].tag_cls == f"{STAND_IN}: dominant colour"
    assert tags["blue"].confidence > 0.6
    assert tags["landscape"].tag_cls.endswith("orientation")
    assert "short" in tags
    assert all(label.tag_cls.startswith(STAND_IN) for label in stream.data.tags)
    assert len(stream.data.place_tags) == 4
    assert stream.data.place_tags[-1].end_time == pytest.approx(1.5, abs=0.1)
    assert result["outputs"] == []
    assert {"tag": "blue", "category": f"{STAND_IN}: dominant colour"}.items() <= result["details"]["tags"][0].items()


def test_segment_video_body_writes_a_real_alpha_matte(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, inputs: None, tmp_path: Path
) -> None:
    operation = SegmentVideoBodyOperation(segment_video_body=SegmentVideoBody(mode="Mask"), output=out("out/mask.mp4"))
    described, result = run(client, emulator, hosted, operation, JobInput(object="in/box.mp4"))
    matte = read(emulator, "out/mask.mp4")
    probe = ffmpeg.probe(matte)
    assert probe.duration is not None
    assert 1.2 < probe.duration < 1.8
    assert probe.video is not None
    assert (probe.video.width, probe.video.height) == (96, 64)
    assert probe.audio is None
    frame = tmp_path / "frame.png"
    ffmpeg.snapshot(matte, frame, 0.5, width=None, height=None, image_format="png", timeout=30)
    with Image.open(frame) as image:
        grey = image.convert("L")
        background, box = grey.getpixel((4, 4)), grey.getpixel((48, 32))
    assert isinstance(background, int)
    assert background < 40
    assert isinstance(box, int)
    assert box > 215
    assert described.media_result.output_keys == ["out/mask.mp4"]
    assert [o["key"] for o in result["outputs"]] == ["out/mask.mp4"]
    assert (result["details"]["mode"], result["details"]["segment_type"]) == ("Mask", "HumanSeg")


def test_speech_recognition_echoes_a_tts_stand_in_and_writes_the_transcript(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, inputs: None
) -> None:
    speech = TtsOperation(
        tts_tpl=TtsTpl(mode="Sync", codec="mp3"),
        tts_config=TtsConfig(input_type="Text", input=SPOKEN),
        output=out("in/spoken.${ext}"),
    )
    run_job(client, emulator, hosted, AudioJobRequest(operation=speech, callback=hosted.callback_url))
    settings = SpeechRecognition(engine_model_type="16k_en", channel_num=1, res_text_format=0)
    operation = SpeechRecognitionOperation(speech_recognition=settings, output=out("out/asr.txt"))
    described, result = run(client, emulator, hosted, operation, JobInput(object="in/spoken.mp3"))
    recognised = described.speech_recognition_result
    assert recognised.result == SPOKEN
    assert recognised.audio_time == pytest.approx(len(SPOKEN) * 0.12, abs=0.2)  # the Tts stand-in's pace
    assert read(emulator, "out/asr.txt").read_text(encoding="utf-8").strip() == SPOKEN
    assert [o["key"] for o in result["outputs"]] == ["out/asr.txt"]
    assert (result["details"]["transcript"], result["details"]["engine"]) == (SPOKEN, "16k_en")


def test_speech_recognition_of_other_audio_is_a_labelled_placeholder_with_its_duration(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, inputs: None
) -> None:
    operation = SpeechRecognitionOperation(speech_recognition=SpeechRecognition(), output=out("out/tone.txt"))
    _, result = run(client, emulator, hosted, operation, JobInput(object="in/tone.mp3"))
    transcript = result["details"]["transcript"]
    assert transcript.startswith(f"[{STAND_IN}")
    assert "1.2" in transcript
    assert read(emulator, "out/tone.txt").read_text(encoding="utf-8").strip() == transcript


def test_translation_wraps_each_line_in_the_target_language(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, inputs: None
) -> None:
    operation = TranslationOperation(translation=Translation(lang="zh", type="txt"), output=out("out/zh.txt"))
    source = IntelligenceInput(object="in/notes.txt", lang="en", type="txt")
    described, result = run(client, emulator, hosted, operation, source)
    expected = "[zh] The pipeline runs offline.\n\n[zh] The pipeline is tested offline, twice a day."
    assert described.translate_result.result == expected
    assert read(emulator, "out/zh.txt").read_text(encoding="utf-8").strip() == expected
    assert [o["key"] for o in result["outputs"]] == ["out/zh.txt"]
    assert (result["details"]["translation"], result["details"]["target_language"]) == (expected, "zh")


def test_words_generalize_finds_the_frequent_words(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, inputs: None
) -> None:
    operation = WordsGeneralizeOperation(words_generalize=WordsGeneralize(ner_method="DL", seg_method="MIX"))
    described, result = run(client, emulator, hosted, operation, JobInput(object="in/notes.txt"))
    tokens = described.words_generalize_result.tokens
    assert [token.word for token in tokens[:3]] == ["The", "pipeline", "runs"]
    assert all(TEXT[token.offset : token.offset + token.length] == token.word for token in tokens)
    keywords = [entry["word"] for entry in result["details"]["keywords"]]
    assert keywords[:2] == ["offline", "pipeline"]
    assert "the" not in keywords
    assert result["details"]["keywords"][0]["category"] == f"{STAND_IN}: keyword x2"
    assert result["details"]["tokens"] == len(tokens)
    assert result["outputs"] == []
