"""Audio jobs over ffmpeg: NoiseReduction (real), VoiceSeparate (a signal-processing approximation),
DigitalWatermark / ExtractDigitalWatermark (real, in the emulator's own scheme) and Tts (a labelled stand-in).

- **NoiseReduction** denoises for real (ffmpeg's FFT denoiser ``afftdn``, tracking the noise) and writes mono
  audio, as the doc says CI does for video and multichannel inputs; inputs over 10 MB and M3U8 playlists are
  refused (``InvalidArgument``).
- **VoiceSeparate** is NOT CI's separation model: the "voice" (``Output.AuObject``) is the centre (mid) channel
  band-limited to the speech band (150 Hz - 4 kHz); the "background" (``Output.Object``) is the side channel
  (left minus right) of a stereo input, or what lies outside the speech band of a mono one. ``AudioMode`` picks
  which are written; ``AudioConfig`` (or a stored template's) how they are encoded.
- **DigitalWatermark** is NOT CI's invisible watermark: the streams are copied unchanged and the message is written
  into the container's ``comment`` tag as ``ciflow-emulator-dwm:v1:<Message>``; **ExtractDigitalWatermark** reads
  it back exactly. A file without one extracts successfully with no ``Message`` (the seed does not document CI's
  answer for an unmarked file).
- **Tts** is a stand-in, not speech: deterministic tones (one per character, pitched from a hash of the text and
  ``VoiceType``; silence for spaces and punctuation) at 16 kHz mono, as long as the text read at ``Speed``, scaled by
  ``Volume`` and encoded as ``Codec``; containers that carry tags say ``ciflow emulator stand-in`` in ``comment``.
"""

from __future__ import annotations

import hashlib
import math
import re
from array import array
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote

from ciflow.models.audio import (
    AudioConfig,
    AudioJobRequest,
    DigitalWatermarkOperation,
    ExtractDigitalWatermarkOperation,
    NoiseReductionOperation,
    TtsOperation,
    TtsTpl,
    VoiceSeparate,
    VoiceSeparateOperation,
)
from ciflow.models.media import MediaInfo, MediaInfoAudio, MediaInfoFormat, MediaInfoStream

from .._storage import StoredObject
from . import ffmpeg
from .common import (
    JobContext,
    JobFailedError,
    Tree,
    expand_output,
    input_object,
    output_target,
    put_output,
    run_checked,
    wire_tree,
)
from .media import finish_outputs, media_info, probe_media

__all__ = [
    "WATERMARK_PREFIX",
    "noise_reduction",
    "voice_separate",
    "digital_watermark",
    "extract_digital_watermark",
    "tts",
]

#: How the emulator marks a file's ``comment`` tag with a digital watermark.
WATERMARK_PREFIX = "ciflow-emulator-dwm:v1:"
STAND_IN = "ciflow emulator stand-in: tones, not speech"
_MESSAGE = re.compile(r"^[A-Za-z0-9_*-]{1,64}$")
_COMMENT = re.compile(r"^\s*comment\s*:\s*(.*)$", re.MULTILINE | re.IGNORECASE)
_MAX_NOISY_BYTES = 10 * 1024 * 1024
_MAX_TTS_URL_BYTES = 10 * 1024 * 1024
_TTS_RATE = 16000
#: The voices of the Tts template doc (``VoiceType``).
_VOICES = frozenset(
    {"ruxue", "aixiaonan", "aixiaoxing", "aixiaocheng", "aixiaoxue", "aixiaolu"}
    | {"aixiaodong", "aixiaoliao", "aixiaoqian", "aixiaoyang", "alice"}
)

#: Audio codec -> (ffmpeg encoder, muxer, file extension).
CODECS: dict[str, tuple[str, str, str]] = {
    "aac": ("aac", "adts", "aac"),
    "mp3": ("libmp3lame", "mp3", "mp3"),
    "flac": ("flac", "flac", "flac"),
    "amr": ("libopencore_amrnb", "amr", "amr"),
    "wav": ("pcm_s16le", "wav", "wav"),
    "pcm": ("pcm_s16le", "s16le", "pcm"),
}
#: Output file extension -> codec (what NoiseReduction writes for an ``Output.Object`` of that name).
_CODEC_OF_EXT = {"aac": "aac", "m4a": "aac", "mp3": "mp3", "flac": "flac", "amr": "amr", "wav": "wav", "pcm": "pcm"}


# --------------------------------------------------------------------------------------------------
# Shared: encoding, outputs
# --------------------------------------------------------------------------------------------------


def _encode(
    ctx: JobContext,
    inputs: list[str],
    graph: list[str],
    codec: str,
    config: AudioConfig,
    target: Path,
    tags: str = "",
    metadata: tuple[tuple[str, str], ...] = (),
) -> None:
    """Run ffmpeg: ``inputs`` through the filter ``graph`` into ``target`` as ``codec`` with ``config``'s settings;
    ``tags`` is the file's comment, ``metadata`` more tags (where the container keeps them)."""
    encoder, muxer, _ = CODECS[codec]
    amr = codec == "amr"  # AMR-NB is 8 kHz mono at a fixed set of bitrates
    args = [*inputs, *graph, "-vn", "-c:a", encoder]
    args += ["-ar", "8000" if amr else str(config.samplerate)] if amr or config.samplerate else []
    args += ["-ac", "1" if amr else str(config.channels)] if amr or config.channels else []
    args += ["-b:a", "12.2k"] if amr else (["-b:a", f"{config.bitrate}k"] if config.bitrate else [])
    tagged = muxer not in ("s16le", "adts", "amr")
    args += ["-metadata", f"comment={tags}"] if tags and tagged else []
    args += [arg for key, value in metadata if tagged for arg in ("-metadata", f"{key}={value}")]
    run_checked(ctx, [*args, "-f", muxer, str(target)], target)


def _codec(name: str | None, default: str) -> str:
    codec = (name or default).lower()
    if codec not in CODECS:
        raise JobFailedError("InvalidArgument", f"audio Codec must be one of {', '.join(sorted(CODECS))}, not {name!r}")
    return codec


def _info(ctx: JobContext, written: list[tuple[str, StoredObject]]) -> MediaInfo:
    """``MediaInfo`` of the outputs: the first one's container, every output's audio stream (as CI's samples)."""
    infos = [media_info(probe_media(ctx, stored.path), stored.size) for _, stored in written]
    streams = [audio for info in infos for audio in (info.stream.audio if info.stream else [])]
    return infos[0].model_copy(update={"stream": MediaInfoStream(audio=streams)})


_Operation = TypeVar("_Operation")


def _operation(ctx: JobContext, kind: type[_Operation]) -> _Operation:
    """The job's ``Operation``, which the request model typed by the job's tag."""
    operation = ctx.request.operation
    if not isinstance(operation, kind):
        raise JobFailedError("InvalidArgument", f"a {ctx.tag} job takes a {kind.__name__}")
    return operation


def _input(ctx: JobContext) -> StoredObject:
    request: AudioJobRequest = ctx.request
    return input_object(ctx, request.input.object if request.input else None)


def _audio_probe(ctx: JobContext, stored: StoredObject) -> ffmpeg.MediaProbe:
    probe = probe_media(ctx, stored.path)
    if probe.audio is None:
        raise JobFailedError("InvalidMedia", "the input has no audio stream")
    return probe


# --------------------------------------------------------------------------------------------------
# NoiseReduction, VoiceSeparate
# --------------------------------------------------------------------------------------------------


def noise_reduction(ctx: JobContext) -> Tree:
    """Denoise the input's audio (``afftdn``) into mono; the format follows ``Output.Object``'s name."""
    bucket, region, template = output_target(ctx, _operation(ctx, NoiseReductionOperation).output)
    stored = _input(ctx)
    if stored.key.lower().endswith(".m3u8"):
        raise JobFailedError("InvalidArgument", "NoiseReduction does not take M3U8 input")
    if stored.size > _MAX_NOISY_BYTES:
        raise JobFailedError("InvalidArgument", "NoiseReduction takes audio files within 10 MB")
    _audio_probe(ctx, stored)
    named = template.rsplit("/", 1)[-1].rpartition(".")[2].lower() if "." in template.rsplit("/", 1)[-1] else ""
    codec = _CODEC_OF_EXT.get(named, "wav")
    key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=CODECS[codec][2])
    scratch = ctx.scratch()
    ctx.report(10)
    # Strong FFT denoising that tracks the noise floor: broadband noise down ~30 dB, a voice or tone kept.
    graph = ["-map", "0:a:0", "-af", "afftdn=nr=30:nf=-20:tn=1"]
    _encode(ctx, ["-i", str(stored.path)], graph, codec, AudioConfig(channels=1), scratch)
    written = [(key, put_output(ctx, bucket, key, scratch))]
    return finish_outputs(ctx, bucket, region, written, info=_info(ctx, written))


_SPEECH_BAND = "highpass=f=150,lowpass=f=4000"


def _separation_graphs(channels: int) -> dict[str, str]:
    """The voice and background filter graphs (input ``[0:a:0]``, output ``[out]``)."""
    if channels >= 2:
        return {
            "voice": f"[0:a:0]pan=mono|c0=0.5*c0+0.5*c1,{_SPEECH_BAND}[out]",
            "background": "[0:a:0]pan=mono|c0=0.5*c0-0.5*c1[out]",
        }
    return {
        "voice": f"[0:a:0]pan=mono|c0=c0,{_SPEECH_BAND}[out]",
        "background": "[0:a:0]pan=mono|c0=c0,asplit[a][b];[a]lowpass=f=150[l];[b]highpass=f=4000[h];"
        "[l][h]amix=inputs=2:normalize=0[out]",
    }


def voice_separate(ctx: JobContext) -> Tree:
    """Voice (``AuObject``) and background (``Object``) tracks, as ``AudioMode`` asks (see the module docstring)."""
    operation = _operation(ctx, VoiceSeparateOperation)
    bucket, region, _ = output_target(ctx, operation.output, need_object=False)
    output = operation.output
    assert output is not None  # output_target refused a job without one
    params = operation.voice_separate or VoiceSeparate()
    mode = params.audio_mode or "AudioAndBackground"
    wanted = {"IsAudio": ("voice",), "IsBackground": ("background",), "AudioAndBackground": ("voice", "background")}
    if mode not in wanted:
        raise JobFailedError(
            "InvalidArgument", f"AudioMode must be IsAudio, IsBackground or AudioAndBackground, not {mode!r}"
        )
    targets = {"voice": output.au_object, "background": output.object}
    if not any(targets[track] for track in wanted[mode]):
        raise JobFailedError("InvalidArgument", "Output.AuObject (voice) or Output.Object (background) is required")
    config = params.audio_config or AudioConfig()
    codec = _codec(config.codec, "aac")
    stored = _input(ctx)
    source = _audio_probe(ctx, stored).audio
    graphs = _separation_graphs((source.channels if source else None) or 1)
    written: list[tuple[str, StoredObject]] = []
    for track in wanted[mode]:
        template = targets[track]
        if not template:
            continue
        key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=CODECS[codec][2])
        scratch = ctx.scratch()
        graph = ["-filter_complex", graphs[track], "-map", "[out]"]
        _encode(ctx, ["-i", str(stored.path)], graph, codec, config, scratch)
        written.append((key, put_output(ctx, bucket, key, scratch)))
        ctx.report(40 * len(written))
    return finish_outputs(ctx, bucket, region, written, info=_info(ctx, written))


# --------------------------------------------------------------------------------------------------
# Digital watermarks (the emulator's scheme: the container's comment tag)
# --------------------------------------------------------------------------------------------------


def _checked_message(message: str | None, kind: str | None, version: str | None) -> str:
    if not message or not _MESSAGE.match(message):
        raise JobFailedError("InvalidArgument", "DigitalWatermark.Message must be 1-64 of [A-Za-z0-9_-*]")
    if (kind or "Text") != "Text" or (version or "V1").upper() != "V1":
        raise JobFailedError("InvalidArgument", "DigitalWatermark supports Type Text, Version V1 only")
    return message


def digital_watermark(ctx: JobContext) -> Tree:
    """Copy the input's streams unchanged into the output with the message in its ``comment`` tag."""
    operation = _operation(ctx, DigitalWatermarkOperation)
    bucket, region, template = output_target(ctx, operation.output)
    watermark = operation.digital_watermark
    if watermark is None:
        raise JobFailedError("InvalidArgument", "Operation.DigitalWatermark is required")
    message = _checked_message(watermark.message, watermark.type, watermark.version)
    stored = _input(ctx)
    probe_media(ctx, stored.path)  # refuse what is not media before writing anything
    source_ext = stored.key.rsplit("/", 1)[-1].rpartition(".")[2].lower() if "." in stored.key else "mp4"
    key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=source_ext)
    key_ext = key.rsplit("/", 1)[-1].rpartition(".")[2].lower() if "." in key.rsplit("/", 1)[-1] else source_ext
    scratch = ctx.scratch(suffix=f".{key_ext}")
    args = ["-i", str(stored.path), "-map", "0", "-c", "copy", "-map_metadata", "0"]
    run_checked(ctx, [*args, "-metadata", f"comment={WATERMARK_PREFIX}{message}", str(scratch)], scratch)
    if read_watermark(scratch, timeout=ctx.timeout) != message:
        raise JobFailedError("MediaProcessFailed", f"the {key_ext} container kept no comment tag for the watermark")
    written = [(key, put_output(ctx, bucket, key, scratch))]
    tree = finish_outputs(ctx, bucket, region, written)
    echo = watermark.model_copy(update={"state": "Success"})
    return {"DigitalWatermark": wire_tree(echo), **tree}


def read_watermark(path: Path, *, timeout: float) -> str | None:
    """The message the emulator's scheme embedded in ``path`` (None when there is none)."""
    report = ffmpeg.run_ffmpeg(["-i", str(path)], timeout=timeout, check=False)
    for value in _COMMENT.findall(report.split("Stream #", 1)[0]):
        if value.strip().startswith(WATERMARK_PREFIX):
            return str(value).strip()[len(WATERMARK_PREFIX) :]
    return None


def extract_digital_watermark(ctx: JobContext) -> Tree:
    """The message of the input's watermark; no ``Message`` when it carries none."""
    settings = _operation(ctx, ExtractDigitalWatermarkOperation).extract_digital_watermark
    kind = (settings.type if settings else None) or "Text"
    version = (settings.version if settings else None) or "V1"
    if kind != "Text" or version.upper() != "V1":
        raise JobFailedError("InvalidArgument", "ExtractDigitalWatermark supports Type Text, Version V1 only")
    stored = _input(ctx)
    probe_media(ctx, stored.path)
    message = read_watermark(stored.path, timeout=min(ctx.timeout, 60))
    found: Tree = {"Type": kind, "Version": version}
    return {"ExtractDigitalWatermark": {"Message": message, **found} if message else found}


# --------------------------------------------------------------------------------------------------
# Tts (a stand-in made of tones)
# --------------------------------------------------------------------------------------------------


def _tts_text(ctx: JobContext, input_type: str | None, value: str | None, mode: str) -> str:
    """The text to speak: inline (<= 300 characters) or a COS object's (<= 300 Sync, <= 10,000 Async)."""
    if not value:
        raise JobFailedError("InvalidArgument", "TtsConfig.Input is required")
    limit = 10_000 if input_type == "Url" and mode == "Async" else 300
    if input_type == "Text":
        text = value
    elif input_type == "Url":
        text = _tts_url_text(ctx, value)
    else:
        raise JobFailedError("InvalidArgument", f"TtsConfig.InputType must be Url or Text, not {input_type!r}")
    if len(text) > limit:
        raise JobFailedError("InvalidArgument", f"the text to synthesise is over {limit} characters")
    return text


def _tts_url_text(ctx: JobContext, url: str) -> str:
    """The UTF-8 text of a COS object named by URL (``https://<bucket>.cos.<region>.myqcloud.com/<key>``)."""
    match = re.match(r"^https?://([^./]+)\.cos\.[^/]+/(.+)$", url)
    found = ctx.store.head(match.group(1), unquote(match.group(2))) if match else None
    if found is None:
        raise JobFailedError("InvalidArgument", f"TtsConfig.Input {url!r} names no object of this account's COS")
    if found.size > _MAX_TTS_URL_BYTES:
        raise JobFailedError("InvalidArgument", "the text object of a Tts job must be within 10 MB")
    try:
        return found.path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise JobFailedError("InvalidArgument", "the text object of a Tts job must be UTF-8") from None


def _tones(text: str, voice: str, speed: int, volume: int) -> array[int]:
    """16 kHz s16 samples: a tone per character (silence for spaces/punctuation), deterministic in text and voice."""
    digest = hashlib.sha256(f"{voice}\n{text}".encode()).digest()
    step = max(1, round(_TTS_RATE * 0.12 * 100 / speed))
    amplitude = 0.3 * 32767 * 10 ** (volume / 20)
    samples = array("h")
    for index, char in enumerate(text):
        if not char.isalnum():
            samples.extend(array("h", bytes(2 * step)))
            continue
        period = 40 + (digest[index % len(digest)] ^ ord(char)) % 41  # 195-400 Hz: whole periods, no clicks
        wave = array("h", (round(amplitude * math.sin(2 * math.pi * n / period)) for n in range(period)))
        samples.extend((wave * (step // period + 1))[:step])
    return samples or array("h", bytes(2 * step))


def _tts_params(template: TtsTpl) -> tuple[str, str, str, int, int]:
    mode = template.mode or "Async"
    if mode not in ("Async", "Sync"):
        raise JobFailedError("InvalidArgument", f"TtsTpl.Mode must be Async or Sync, not {mode!r}")
    codec = _codec(template.codec, "pcm" if mode == "Async" else "wav")
    if codec not in ("wav", "mp3", "pcm") or (mode == "Async" and codec != "pcm"):
        raise JobFailedError("InvalidArgument", "Tts Codec is wav, mp3 or pcm (Async: pcm only)")
    voice = template.voice_type or "ruxue"
    if voice not in _VOICES:
        raise JobFailedError("InvalidArgument", f"VoiceType {voice!r} is not a voice CI offers")
    speed, volume = template.speed if template.speed is not None else 100, template.volume or 0
    if not 50 <= speed <= 200 or not -10 <= volume <= 10:
        raise JobFailedError("InvalidArgument", "Tts Speed is in [50, 200] and Volume in [-10, 10]")
    return mode, codec, voice, speed, volume


def tts(ctx: JobContext) -> Tree:
    """The stand-in speech of ``TtsConfig`` with ``TtsTpl``'s (or a stored template's) Mode, Codec, voice and pace."""
    operation = _operation(ctx, TtsOperation)
    bucket, region, template = output_target(ctx, operation.output)
    mode, codec, voice, speed, volume = _tts_params(operation.tts_tpl or TtsTpl())
    config = operation.tts_config
    text = _tts_text(ctx, config.input_type if config else None, config.input if config else None, mode)
    raw = ctx.scratch(suffix=".s16")
    raw.write_bytes(_tones(text, voice, speed, volume).tobytes())
    ctx.report(50)
    key = expand_output(template, job_id=ctx.job_id, ext=CODECS[codec][2])
    scratch = ctx.scratch()
    source = ["-f", "s16le", "-ar", str(_TTS_RATE), "-ac", "1", "-i", str(raw)]
    # The text rides along (one line) so this emulator's SpeechRecognition can echo it: a stand-in's round trip.
    spoken = (("ciflow_tts_text", " ".join(text.split())[:1000]),)
    mono = AudioConfig(samplerate=_TTS_RATE, channels=1)
    _encode(ctx, source, [], codec, mono, scratch, tags=STAND_IN, metadata=spoken)
    written = [(key, put_output(ctx, bucket, key, scratch))]
    size = written[0][1].size
    if codec == "pcm":  # raw samples: nothing for ffmpeg to probe
        seconds = size / (2 * _TTS_RATE)
        audio = MediaInfoAudio(codec_name="pcm_s16le", sample_rate=_TTS_RATE, channel=1, duration=seconds)
        fmt = MediaInfoFormat(num_stream=1, format_name="s16le", duration=seconds, size=size)
        info = MediaInfo(format=fmt, stream=MediaInfoStream(audio=[audio]))
    else:
        info = media_info(probe_media(ctx, written[0][1].path), size)
    return finish_outputs(ctx, bucket, region, written, info=info)
