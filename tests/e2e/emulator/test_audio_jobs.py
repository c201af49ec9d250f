"""The audio job tags end to end: each submitted to the emulator through the production client, its real outputs
checked in the emulator's COS, its describe answer typed, and its callback routed by the callback function (hosted on
loopback as API Gateway would serve it) into the local queue as a normalised result."""

from __future__ import annotations

import math
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ciflow import operations as ops
from ciflow.client import CiClient
from ciflow.models import JobOutput, templates
from ciflow.models.audio import (
    DETAILS,
    AudioConfig,
    AudioJobRequest,
    AudioOperation,
    DigitalWatermark,
    DigitalWatermarkOperation,
    ExtractDigitalWatermark,
    ExtractDigitalWatermarkOperation,
    NoiseReductionOperation,
    TtsConfig,
    TtsOperation,
    TtsTpl,
    VoiceSeparate,
    VoiceSeparateOperation,
)
from ciflow.models.media import MediaJobsResponse
from ciflow.userdata import RouteTag, encode_user_data
from ciflow_local.emulator import Emulator
from ciflow_local.emulator.workers import ffmpeg
from tests.e2e.emulator.conftest import client_for
from tests.support.callback_host import HostedCallback

REGION = "ap-guangzhou"
BUCKET = "audio-1250000000"
RATE = 16000
TIMEOUT = 60.0


@pytest.fixture
def client(emulator: Emulator) -> Iterator[CiClient]:
    """The production client on the whole emulator (this folder's own ``client`` serves COS alone)."""
    with client_for(emulator.url, bucket=BUCKET) as ci_client:
        yield ci_client


# --------------------------------------------------------------------------------------------------
# Media made at test time, and reading audio back
# --------------------------------------------------------------------------------------------------


def make(path: Path, *args: str) -> bytes:
    subprocess.run([ffmpeg.ffmpeg_exe(), "-hide_banner", "-y", *args, str(path)], check=True, capture_output=True)  # noqa: S603
    return path.read_bytes()


def stereo_mix(tmp_path: Path) -> bytes:
    """1.5 s stereo: a 1 kHz "voice" in the centre (same in both channels), a 300 Hz part only in the side."""
    centre, side = "0.4*sin(2*PI*1000*t)", "0.3*sin(2*PI*300*t)"
    source = f"aevalsrc=exprs='{centre}+{side}|{centre}-{side}':s=44100:d=1.5"
    return make(tmp_path / "mix.wav", "-f", "lavfi", "-i", source, "-c:a", "pcm_s16le")


def noisy_tone(tmp_path: Path) -> bytes:
    """1.5 s stereo: a 440 Hz tone under loud white noise."""
    source = "aevalsrc=exprs='0.3*sin(2*PI*440*t)+0.2*(random(0)*2-1)|0.3*sin(2*PI*440*t)+0.2*(random(1)*2-1)'"
    return make(tmp_path / "noisy.wav", "-f", "lavfi", "-i", f"{source}:s=44100:d=1.5", "-c:a", "pcm_s16le")


def small_video(tmp_path: Path) -> bytes:
    """1 s of ffmpeg's test pattern at 160x120 with a tone (H.264 + AAC in MP4)."""
    return make(
        tmp_path / "clip.mp4",
        *("-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=1"),
        *("-f", "lavfi", "-i", "sine=frequency=440:duration=1"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"),
    )


def samples(path: Path) -> list[int]:
    """The file's audio as 16 kHz mono signed 16-bit samples."""
    done = subprocess.run(  # noqa: S603
        [ffmpeg.ffmpeg_exe(), "-hide_banner", "-i", str(path), "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-"],
        check=True,
        capture_output=True,
    )
    data = done.stdout
    return [int.from_bytes(data[i : i + 2], "little", signed=True) for i in range(0, len(data) - 1, 2)]


def power_at(values: list[int], frequency: float) -> float:
    """Goertzel: the signal's power at ``frequency``, normalised by its length."""
    coefficient = 2 * math.cos(2 * math.pi * frequency / RATE)
    previous = before = 0.0
    for value in values:
        previous, before = value + coefficient * previous - before, previous
    return (previous**2 + before**2 - coefficient * previous * before) / max(len(values), 1) ** 2


def total_power(values: list[int]) -> float:
    return sum(v * v for v in values) / max(len(values), 1)


def tone_to_rest(values: list[int], frequency: float) -> float:
    """Power of the tone at ``frequency`` over the power of everything else (a sine's mean power is 2x Goertzel's)."""
    tone = 2 * power_at(values, frequency)
    return tone / max(total_power(values) - tone, 1e-9)


# --------------------------------------------------------------------------------------------------
# Submitting, waiting, reading the routed result
# --------------------------------------------------------------------------------------------------


def submit(client: CiClient, hosted: HostedCallback, operation: AudioOperation, key: str | None) -> tuple[str, str]:
    """Submit ``operation`` on ``key`` with a signed UserData and the hosted callback; (job id, correlation id)."""
    correlation = uuid.uuid4().hex[:20]
    signed = encode_user_data(RouteTag("audio", correlation, operation.TAG.lower()), hosted.secret)
    request = AudioJobRequest(
        input={"Object": key} if key is not None else None,
        operation=operation.model_copy(update={"user_data": signed}),
        callback=hosted.callback_url,
    )
    answer = client.send(ops.submit_media_job(request))
    [detail] = answer.jobs_detail
    assert type(detail) is DETAILS[operation.TAG]
    assert detail.job_id
    return detail.job_id, correlation


def finished(client: CiClient, job_id: str) -> Any:
    """The job's typed detail once it finished (describe through the production client)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        answer: MediaJobsResponse = client.send(ops.describe_media_jobs(job_id))
        [detail] = answer.jobs_detail
        if detail.finished or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert detail.state == "Success", (detail.code, detail.message)
    assert type(detail) is DETAILS[str(detail.tag)], "the describe answer decodes typed"
    return detail


def routed(hosted: HostedCallback, job_id: str) -> dict[str, Any]:
    """The normalised result the callback function put in the local queue for ``job_id``."""
    [payload] = hosted.wait_routed(job_id, timeout=TIMEOUT)
    return payload


def check_routed(hosted: HostedCallback, job_id: str, correlation: str, tag: str) -> dict[str, Any]:
    payload = routed(hosted, job_id)
    assert (payload["kind"], payload["tag"], payload["state"]) == ("media", tag, "Success")
    assert (payload["route"], payload["correlation_id"], payload["user_data_valid"]) == ("audio", correlation, True)
    return payload


def stored_path(emulator: Emulator, key: str) -> Path:
    found = emulator.store.head(BUCKET, key)
    assert found is not None, f"{key} was not written"
    return found.path


# --------------------------------------------------------------------------------------------------
# The tags
# --------------------------------------------------------------------------------------------------


def test_voice_separate_writes_the_centre_as_voice_and_the_side_as_background(
    emulator: Emulator, client: CiClient, hosted: HostedCallback, tmp_path: Path
) -> None:
    emulator.store.put_bytes(BUCKET, "in/mix.wav", stereo_mix(tmp_path))
    operation = VoiceSeparateOperation(
        voice_separate=VoiceSeparate(audio_mode="AudioAndBackground", audio_config=AudioConfig(codec="mp3")),
        output=JobOutput(region=REGION, bucket=BUCKET, object="out/vs/background.${ext}", au_object="out/vs/voice.mp3"),
    )
    job_id, correlation = submit(client, hosted, operation, "in/mix.wav")
    detail = finished(client, job_id)
    keys = set(detail.operation.media_result.output_keys)
    assert keys == {"out/vs/voice.mp3", "out/vs/background.mp3"}
    voice = samples(stored_path(emulator, "out/vs/voice.mp3"))
    background = samples(stored_path(emulator, "out/vs/background.mp3"))
    assert power_at(voice, 1000) > 20 * power_at(voice, 300), "the voice track is the centre"
    assert power_at(background, 300) > 20 * power_at(background, 1000), "the background is the side"
    assert 1.3 < len(voice) / RATE < 1.7
    assert [a.channel for a in detail.operation.media_info.stream.audio] == [1, 1]
    payload = check_routed(hosted, job_id, correlation, "VoiceSeparate")
    assert {o["key"] for o in payload["outputs"]} == keys
    assert payload["details"]["voice_output"] == "out/vs/voice.mp3"
    assert payload["details"]["background_output"] == "out/vs/background.mp3"  # the ${ext} it was written with
    assert payload["details"]["audio_mode"] == "AudioAndBackground"


def test_noise_reduction_denoises_into_mono(
    emulator: Emulator, client: CiClient, hosted: HostedCallback, tmp_path: Path
) -> None:
    noisy = noisy_tone(tmp_path)
    emulator.store.put_bytes(BUCKET, "in/noisy.wav", noisy)
    operation = NoiseReductionOperation(output=JobOutput(region=REGION, bucket=BUCKET, object="out/nr/clean.wav"))
    job_id, correlation = submit(client, hosted, operation, "in/noisy.wav")
    detail = finished(client, job_id)
    assert detail.operation.media_result.output_keys == ["out/nr/clean.wav"]
    [stream] = detail.operation.media_info.stream.audio
    assert stream.channel == 1
    before, after = samples(tmp_path / "noisy.wav"), samples(stored_path(emulator, "out/nr/clean.wav"))
    snr = [tone_to_rest(values, 440) for values in (before, after)]
    assert snr[1] > 2 * snr[0], f"the noise is reduced (tone-to-noise before, after: {snr})"
    payload = check_routed(hosted, job_id, correlation, "NoiseReduction")
    assert [o["key"] for o in payload["outputs"]] == ["out/nr/clean.wav"]
    assert payload["details"]["denoised_output"] == "out/nr/clean.wav"


def test_noise_reduction_refuses_an_input_over_10_mb(
    emulator: Emulator, client: CiClient, hosted: HostedCallback
) -> None:
    emulator.store.put_bytes(BUCKET, "in/huge.wav", b"\0" * (10 * 1024 * 1024 + 1))
    operation = NoiseReductionOperation(output=JobOutput(region=REGION, bucket=BUCKET, object="out/nr/huge.wav"))
    job_id, _ = submit(client, hosted, operation, "in/huge.wav")
    with pytest.raises(AssertionError, match="InvalidArgument"):
        finished(client, job_id)
    assert emulator.store.head(BUCKET, "out/nr/huge.wav") is None


def test_digital_watermark_is_recovered_exactly_and_absent_from_the_original(
    emulator: Emulator, client: CiClient, hosted: HostedCallback, tmp_path: Path
) -> None:
    emulator.store.put_bytes(BUCKET, "in/clip.mp4", small_video(tmp_path))
    mark = DigitalWatermark(type="Text", message="ciflow_audio-42*", version="V1")
    operation = DigitalWatermarkOperation(
        digital_watermark=mark, output=JobOutput(region=REGION, bucket=BUCKET, object="out/dw/marked.${ext}")
    )
    job_id, correlation = submit(client, hosted, operation, "in/clip.mp4")
    detail = finished(client, job_id)
    assert detail.operation.digital_watermark.state == "Success"
    marked = ffmpeg.probe(stored_path(emulator, "out/dw/marked.mp4"))
    original = ffmpeg.probe(tmp_path / "clip.mp4")
    assert (marked.streams, marked.video.width) == (original.streams, original.video.width)  # type: ignore[union-attr]
    payload = check_routed(hosted, job_id, correlation, "DigitalWatermark")
    assert payload["details"]["watermark_message"] == "ciflow_audio-42*"
    assert [o["key"] for o in payload["outputs"]] == ["out/dw/marked.mp4"]

    for key, expected in (("out/dw/marked.mp4", "ciflow_audio-42*"), ("in/clip.mp4", None)):
        extract = ExtractDigitalWatermarkOperation(
            extract_digital_watermark=ExtractDigitalWatermark(type="Text", version="V1")
        )
        job_id, correlation = submit(client, hosted, extract, key)
        assert finished(client, job_id).operation.message == expected
        details = check_routed(hosted, job_id, correlation, "ExtractDigitalWatermark")["details"]
        assert details.get("watermark_message") == expected
        assert details["watermark_found"] is (expected is not None)


def test_tts_speaks_a_stand_in_sized_from_the_text(
    emulator: Emulator, client: CiClient, hosted: HostedCallback
) -> None:
    text = "Abed, I see a silver light"
    operation = TtsOperation(
        tts_tpl=TtsTpl(mode="Sync", codec="mp3", voice_type="aixiaonan", speed=200, volume=0),
        tts_config=TtsConfig(input_type="Text", input=text),
        output=JobOutput(region=REGION, bucket=BUCKET, object="out/tts/speech.${ext}"),
    )
    job_id, correlation = submit(client, hosted, operation, None)
    detail = finished(client, job_id)
    assert detail.input is None
    assert detail.operation.media_result.output_keys == ["out/tts/speech.mp3"]
    probe = ffmpeg.probe(stored_path(emulator, "out/tts/speech.mp3"))
    assert (probe.audio.codec, probe.audio.sample_rate, probe.audio.channels) == ("mp3", RATE, 1)  # type: ignore[union-attr]
    assert probe.duration is not None
    assert abs(probe.duration - len(text) * 0.06) < 0.3  # 0.12 s a character at Speed 100, twice as fast at 200
    speech = samples(stored_path(emulator, "out/tts/speech.mp3"))
    assert total_power(speech) > 1e5, "real audio, not silence"
    payload = check_routed(hosted, job_id, correlation, "Tts")
    assert payload["input"] is None
    assert (payload["details"]["speech_output"], payload["details"]["voice_type"]) == (
        "out/tts/speech.mp3",
        "aixiaonan",
    )
    assert [o["key"] for o in payload["outputs"]] == ["out/tts/speech.mp3"]


def test_a_stored_voice_separate_template_decides_the_tracks_and_their_codec(
    emulator: Emulator, client: CiClient, hosted: HostedCallback, tmp_path: Path
) -> None:
    emulator.store.put_bytes(BUCKET, "in/mix-t.wav", stereo_mix(tmp_path))
    params = VoiceSeparate(audio_mode="IsBackground", audio_config=AudioConfig(codec="flac", samplerate=22050))
    created = client.send(ops.create_template(templates.template_request("VoiceSeparate", "bg-flac", params)))
    assert created.template is not None
    template_id = created.template.template_id
    assert template_id
    operation = VoiceSeparateOperation(
        template_id=template_id,
        output=JobOutput(region=REGION, bucket=BUCKET, object="out/vst/bg.${ext}", au_object="out/vst/voice.${ext}"),
    )
    job_id, correlation = submit(client, hosted, operation, "in/mix-t.wav")
    detail = finished(client, job_id)
    assert detail.operation.media_result.output_keys == ["out/vst/bg.flac"], "IsBackground: no voice track"
    assert emulator.store.head(BUCKET, "out/vst/voice.flac") is None
    probe = ffmpeg.probe(stored_path(emulator, "out/vst/bg.flac"))
    assert (probe.audio.codec, probe.audio.sample_rate) == ("flac", 22050)  # type: ignore[union-attr]
    payload = check_routed(hosted, job_id, correlation, "VoiceSeparate")
    assert payload["details"]["template_id"] == template_id
    assert [o["key"] for o in payload["outputs"]] == ["out/vst/bg.flac"]


def test_tts_reads_a_url_input_from_cos_and_labels_its_stand_in(
    emulator: Emulator, client: CiClient, hosted: HostedCallback
) -> None:
    text = "Hi, I'm Aixiaonan. Nice to meet you."
    emulator.store.put_bytes(BUCKET, "in/speech.txt", text.encode())
    url = f"https://{BUCKET}.cos.{REGION}.myqcloud.com/in/speech.txt"
    operation = TtsOperation(
        tts_tpl=TtsTpl(mode="Sync", codec="wav"),
        tts_config=TtsConfig(input_type="Url", input=url),
        output=JobOutput(region=REGION, bucket=BUCKET, object="out/tts/url.wav"),
    )
    job_id, correlation = submit(client, hosted, operation, None)
    detail = finished(client, job_id)
    [stream] = detail.operation.media_info.stream.audio
    assert (stream.codec_name, stream.sample_rate, stream.channel) == ("pcm_s16le", RATE, 1)
    path = stored_path(emulator, "out/tts/url.wav")
    assert abs(ffmpeg.probe(path).duration - len(text) * 0.12) < 0.3  # type: ignore[operator]
    report = ffmpeg.run_ffmpeg(["-i", str(path)], timeout=30, check=False)
    assert "ciflow emulator stand-in" in report
    assert check_routed(hosted, job_id, correlation, "Tts")["details"]["tts_input_type"] == "Url"
    first = path.read_bytes()
    again, _ = submit(client, hosted, operation, None)
    finished(client, again)
    assert stored_path(emulator, "out/tts/url.wav").read_bytes() == first, "the stand-in is deterministic"


@pytest.mark.parametrize(
    ("operation", "key"),
    [
        (  # Async synthesis writes pcm only
            TtsOperation(
                tts_tpl=TtsTpl(mode="Async", codec="mp3"),
                tts_config=TtsConfig(input_type="Text", input="hello"),
                output=JobOutput(region=REGION, bucket=BUCKET, object="out/bad/tts.mp3"),
            ),
            None,
        ),
        (  # a message outside [A-Za-z0-9_-*]
            DigitalWatermarkOperation(
                digital_watermark=DigitalWatermark(type="Text", message="not allowed!", version="V1"),
                output=JobOutput(region=REGION, bucket=BUCKET, object="out/bad/dw.mp4"),
            ),
            "in/clip.mp4",
        ),
        (  # IsAudio writes the voice, and no AuObject names it
            VoiceSeparateOperation(
                voice_separate=VoiceSeparate(audio_mode="IsAudio"),
                output=JobOutput(region=REGION, bucket=BUCKET, object="out/bad/bg.aac"),
            ),
            "in/clip.mp4",
        ),
    ],
    ids=["tts-async-mp3", "watermark-message", "voice-without-auobject"],
)
def test_documented_constraints_fail_the_job_and_write_nothing(
    emulator: Emulator,
    client: CiClient,
    hosted: HostedCallback,
    tmp_path: Path,
    operation: AudioOperation,
    key: str | None,
) -> None:
    if key is not None and emulator.store.head(BUCKET, key) is None:
        emulator.store.put_bytes(BUCKET, key, small_video(tmp_path))
    job_id, _ = submit(client, hosted, operation, key)
    with pytest.raises(AssertionError, match="InvalidArgument"):
        finished(client, job_id)
    assert [o.key for o in emulator.store.list(BUCKET, "out/bad/", limit=10)] == []
