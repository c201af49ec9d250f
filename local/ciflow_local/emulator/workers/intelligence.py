"""Intelligence jobs: SegmentVideoBody for real (an ffmpeg colour-key matte); VideoTag, SpeechRecognition, Translation
and WordsGeneralize as labelled, deterministic stand-ins of the documented shape, derived from the input's bytes.

- VideoTag: no recognition model; the tags are measured facts about sampled frames (dominant colour, brightness,
  orientation, duration class, motion), each ``TagCls`` labelled ``ciflow emulator stand-in: …``.
- SpeechRecognition: no ASR engine; a Tts stand-in's text (its ``ciflow_tts_text`` metadata) is echoed, otherwise a
  labelled placeholder naming the real duration and channels. The transcript is written to ``Output.Object``.
- Translation: no translation engine; each non-blank line of a text input becomes ``[<lang>] <line>``.
- WordsGeneralize: real tokenisation (offsets, lengths, a crude part of speech) and keywords by frequency.
- SegmentVideoBody: background colour keyed out with ffmpeg's ``colorkey`` (HumanSeg: the colour of the first frame's
  border, an approximation; GreenScreenSeg: green; SolidColorSeg: ``Remove*``); Mask writes the alpha matte.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image, ImageStat

from ciflow.models.intelligence import (
    IntelligenceJobRequest,
    SegmentVideoBody,
    SpeechRecognitionOperation,
    SpeechRecognitionResult,
    TranslationOperation,
)

from . import ffmpeg
from .common import (
    JobContext,
    JobFailedError,
    Tree,
    expand_output,
    input_object,
    media_failure,
    output_target,
    put_output,
    run_checked,
    wire_tree,
)
from .media import finish_outputs, media_info, media_result, probe_media

__all__ = ["STAND_IN", "segment_video_body", "speech_recognition", "translation", "video_tag", "words_generalize"]

#: How every stand-in result labels itself.
STAND_IN = "ciflow emulator stand-in"
_SAMPLES = 4
_COLOURS = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "grey": (128, 128, 128),
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (40, 80, 220),
    "yellow": (230, 210, 50),
    "cyan": (40, 200, 210),
    "magenta": (200, 50, 200),
    "orange": (240, 140, 30),
}
_TEXT_TYPES = frozenset({"txt", "markdown", "md", "html", "xml"})
_IMAGE_TYPES = frozenset({"jpg", "jpeg", "png", "webp"})
_WORD = re.compile(r"\w+", re.UNICODE)
#: English function words, never keywords.
_STOP_WORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is", "it", "its"}
    | {"of", "on", "or", "that", "the", "this", "to", "was", "were", "will", "with"}
)


def _request(ctx: JobContext) -> IntelligenceJobRequest:
    request: IntelligenceJobRequest = ctx.request
    return request


def _frame(ctx: JobContext, source: Path, at: float) -> Image.Image:
    """The frame at ``at`` s, shrunk to 64 px wide (enough for colour and brightness)."""
    scratch = ctx.scratch(".png")
    try:
        ffmpeg.snapshot(source, scratch, at, width=64, height=None, image_format="png", timeout=ctx.timeout)
    except ffmpeg.MediaError as exc:
        raise media_failure(exc) from None
    with Image.open(scratch) as image:
        return image.convert("RGB")


def _nearest_colour(rgb: tuple[float, ...]) -> tuple[str, float]:
    """The palette colour nearest ``rgb`` and a closeness in ``[0, 1]`` (1: exactly it)."""
    name, (r, g, b) = min(
        _COLOURS.items(), key=lambda item: sum((a - c) ** 2 for a, c in zip(rgb, item[1], strict=True))
    )
    distance = ((rgb[0] - r) ** 2 + (rgb[1] - g) ** 2 + (rgb[2] - b) ** 2) ** 0.5
    return name, round(max(0.0, 1.0 - distance / 441.7), 6)


def _label(tag: str, measure: str, confidence: float) -> Tree:
    return {"Tag": tag, "TagCls": f"{STAND_IN}: {measure}", "Confidence": f"{confidence:.6f}"}


def video_tag(ctx: JobContext) -> Tree:
    """Measured tags of ``_SAMPLES`` evenly spaced frames (stand-in: no recognition model)."""
    stored = input_object(ctx, _request(ctx).input.object)
    probe = probe_media(ctx, stored.path)
    if probe.video is None or not probe.duration:
        raise JobFailedError("InvalidMedia", "the input has no video stream to tag")
    duration, fps = probe.duration, probe.video.fps or 25.0
    times = [duration * index / _SAMPLES for index in range(_SAMPLES)]
    frames = [_frame(ctx, stored.path, at) for at in times]
    means = [tuple(ImageStat.Stat(frame).mean) for frame in frames]
    overall = tuple(sum(mean[channel] for mean in means) / len(means) for channel in range(3))
    colour, closeness = _nearest_colour(overall)
    brightness = sum(0.299 * m[0] + 0.587 * m[1] + 0.114 * m[2] for m in means) / len(means) / 255
    level = "dark" if brightness < 0.33 else "bright" if brightness > 0.66 else "medium"
    width, height = probe.video.width or 0, probe.video.height or 0
    shape = "landscape" if width > height else "portrait" if height > width else "square"
    length = "short" if duration < 60 else "medium" if duration < 600 else "long"
    motion = sum(
        sum(abs(a - b) for a, b in zip(first, second, strict=True)) / 765 for first, second in itertools.pairwise(means)
    ) / max(1, len(means) - 1)
    places = []
    for index, (at, mean) in enumerate(zip(times, means, strict=True)):
        end = times[index + 1] if index + 1 < len(times) else duration
        name, score = _nearest_colour(mean)
        places.append(
            {
                "Tags": [_label(name, "frame colour", score)],
                "StartTime": f"{at:.2f}",
                "EndTime": f"{end:.2f}",
                "StartIndex": str(int(at * fps)),
                "EndIndex": str(max(int(at * fps), int(end * fps) - 1)),
                "ClipFrameResult": [f"{name}: {score:.2f}"],
            }
        )
    data = {
        "Tags": [
            _label(colour, "dominant colour", closeness),
            _label(level, "brightness", round(brightness, 6)),
            _label(shape, "orientation", 1.0),
            _label(length, "duration class", 1.0),
        ],
        "PlaceTags": places,
        "ActionTags": [
            {
                "Tags": [
                    _label("moving" if motion > 0.02 else "still", "mean frame change", round(min(motion * 10, 1.0), 6))
                ],
                "StartTime": "0",
                "EndTime": f"{duration:.2f}",
            }
        ],
    }
    result = {"StreamData": {"Data": data, "SubErrCode": "0", "SubErrMsg": "ok"}}
    return {"VideoTagResult": result, "MediaInfo": wire_tree(media_info(probe, stored.size))}


# --------------------------------------------------------------------------------------------------
# SpeechRecognition
# --------------------------------------------------------------------------------------------------

_TTS_TEXT = re.compile(r"^\s+ciflow_tts_text\s*:\s(?P<value>.*)$", re.MULTILINE | re.IGNORECASE)


def _tts_text(ctx: JobContext, path: Path) -> str | None:
    """The text a Tts stand-in of this emulator spoke (its ``ciflow_tts_text`` metadata), if any."""
    try:
        stderr = ffmpeg.run_ffmpeg(["-i", str(path)], timeout=min(ctx.timeout, 60), check=False)
    except ffmpeg.MediaError as exc:
        raise media_failure(exc) from None
    found = _TTS_TEXT.search(stderr)
    return found.group("value").strip() if found else None


def speech_recognition(ctx: JobContext) -> Tree:
    """A transcript stand-in of the documented shape; the transcript also goes to ``Output.Object``."""
    request = _request(ctx)
    operation = request.operation
    assert isinstance(operation, SpeechRecognitionOperation)
    output = output_target(ctx, operation.output)
    stored = input_object(ctx, request.input.object)
    probe = probe_media(ctx, stored.path)
    if probe.audio is None:
        raise JobFailedError("InvalidMedia", "the input has no audio stream to recognise")
    duration = probe.duration or 0.0
    spoken = _tts_text(ctx, stored.path)
    transcript = spoken or (
        f"[{STAND_IN}: no speech recognition engine; {duration:.2f} s of audio, {probe.audio.channels or 1} channel(s)]"
    )
    written = _text_output(ctx, output, stored.key, transcript)
    sentence = {
        "FinalSentence": transcript,
        "StartMs": 0,
        "EndMs": int(duration * 1000),
        "WordsNum": len(_WORD.findall(transcript)),
        "SpeakerId": 0,
    }
    result = SpeechRecognitionResult.model_validate(
        {"AudioTime": duration, "Result": transcript, "ResultDetail": [sentence]}
    )
    return {
        "SpeechRecognitionResult": wire_tree(result),
        "MediaInfo": wire_tree(media_info(probe, stored.size)),
        "MediaResult": written,
    }


# --------------------------------------------------------------------------------------------------
# Translation and WordsGeneralize: text inputs
# --------------------------------------------------------------------------------------------------


def _text_output(ctx: JobContext, output: tuple[str, str, str], input_key: str, text: str) -> Tree:
    """Write ``text`` (a line) to the ``Output`` (bucket, region, object template): its ``MediaResult``."""
    bucket, region, template = output
    scratch = ctx.scratch(".txt")
    scratch.write_text(text + "\n", encoding="utf-8")
    key = expand_output(template, job_id=ctx.job_id, input_key=input_key, ext="txt")
    return media_result(bucket, region, [(key, put_output(ctx, bucket, key, scratch))])


def _text(ctx: JobContext, key: str | None) -> tuple[str, Any]:
    stored = input_object(ctx, key)
    try:
        return stored.path.read_bytes().decode("utf-8-sig"), stored
    except UnicodeDecodeError:
        raise JobFailedError("InvalidArgument", "the input is not UTF-8 text") from None


def translation(ctx: JobContext) -> Tree:
    """``[<lang>] <line>`` for every non-blank line of a text input (stand-in: no translation engine)."""
    request = _request(ctx)
    operation = request.operation
    assert isinstance(operation, TranslationOperation)
    lang = (operation.translation.lang if operation.translation else None) or ""
    if not lang:
        raise JobFailedError("InvalidArgument", "Operation.Translation.Lang is required")
    kind = (request.input.type or request.input.object or "").rsplit(".", 1)[-1].lower()
    if kind in _IMAGE_TYPES:
        stored = input_object(ctx, request.input.object)
        with Image.open(stored.path) as image:
            size = f"{image.width}x{image.height}"
        translated = f"[{lang}] ({STAND_IN}: no OCR or translation engine; a {size} image)"
    elif kind in _TEXT_TYPES:
        text, stored = _text(ctx, request.input.object)
        translated = "\n".join(f"[{lang}] {line}" if line.strip() else line for line in text.splitlines())
    else:
        raise JobFailedError("InvalidArgument", f"the emulator translates text ({', '.join(sorted(_TEXT_TYPES))}) only")
    tree: Tree = {"AITranslateResult": {"Result": translated}}
    if not operation.no_need_output:
        tree["MediaResult"] = _text_output(ctx, output_target(ctx, operation.output), stored.key, translated)
    return tree


def _pos(word: str) -> str:
    """A crude part of speech from the doc's table: M numeral, NX non-Chinese string, UNK otherwise."""
    if word.isdigit():
        return "M"
    return "NX" if word.isascii() else "UNK"


def words_generalize(ctx: JobContext) -> Tree:
    """Tokens with offsets and lengths, and up to 10 keywords by frequency (stand-in categories, real counts)."""
    text, _ = _text(ctx, _request(ctx).input.object)
    found = [(match.group(), match.start()) for match in _WORD.finditer(text)]
    tokens = [{"Word": word, "Offset": start, "Length": len(word), "Pos": _pos(word)} for word, start in found]
    counts = Counter(
        word.lower() for word, _ in found if len(word) > 2 and word.lower() not in _STOP_WORDS and not word.isdigit()
    )
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:10]
    labels = [{"Category": f"{STAND_IN}: keyword x{count}", "Word": word} for word, count in ranked]
    return {"WordsGeneralizeResult": {"WordsGeneralizeLable": labels, "WordsGeneralizeToken": tokens}}


# --------------------------------------------------------------------------------------------------
# SegmentVideoBody: a real (approximate) matte
# --------------------------------------------------------------------------------------------------


def _hex(rgb: tuple[int, int, int]) -> str:
    return "0x{:02X}{:02X}{:02X}".format(*rgb)


def _key_colour(ctx: JobContext, settings: SegmentVideoBody, source: Path) -> tuple[int, int, int]:
    kind = settings.segment_type or "HumanSeg"
    if kind == "GreenScreenSeg":
        return (0, 255, 0)
    if kind == "SolidColorSeg":
        return (settings.remove_red or 0, settings.remove_green or 0, settings.remove_blue or 0)
    if kind != "HumanSeg":
        raise JobFailedError(
            "InvalidArgument", f"SegmentType must be HumanSeg, GreenScreenSeg or SolidColorSeg, not {kind}"
        )
    frame = _frame(ctx, source, 0.0)  # HumanSeg: the background is taken to be the first frame's border colour
    width, height = frame.size
    border = [frame.getpixel((x, y)) for x in range(width) for y in (0, height - 1)]
    border += [frame.getpixel((x, y)) for y in range(height) for x in (0, width - 1)]
    pixels = [pixel for pixel in border if isinstance(pixel, tuple)]
    r, g, b = (sorted(pixel[channel] for pixel in pixels)[len(pixels) // 2] for channel in range(3))
    return (int(r), int(g), int(b))


def segment_video_body(ctx: JobContext) -> Tree:
    """Mask: the alpha matte as a grey video; Foreground: the kept pixels over ``Background*``; Combination:
    over the ``BackgroundLogoUrl`` object. ``BinaryThreshold`` widens the key (similarity 0.1 + t/255 * 0.4)."""
    request = _request(ctx)
    operation = request.operation
    settings = getattr(operation, "segment_video_body", None) or SegmentVideoBody()
    bucket, region, template = output_target(ctx, getattr(operation, "output", None))
    stored = input_object(ctx, request.input.object)
    probe = probe_media(ctx, stored.path)
    if probe.video is None:
        raise JobFailedError("InvalidMedia", "the input has no video stream to matte")
    key_colour = _hex(_key_colour(ctx, settings, stored.path))
    similarity = 0.1 + (settings.binary_threshold or 0) / 255 * 0.4
    keyed = f"format=rgba,colorkey={key_colour}:{similarity:.3f}:0.05"
    mode = settings.mode or "Mask"
    inputs = ["-i", str(stored.path)]
    if mode == "Mask":
        graph = f"[0:v]{keyed},alphaextract,format=gray[out]"
    elif mode == "Foreground":
        colour = _hex((settings.background_red or 0, settings.background_green or 0, settings.background_blue or 0))
        size = f"{probe.video.width}x{probe.video.height}"
        graph = f"[0:v]{keyed}[fg];color=c={colour}:s={size}[bg];[bg][fg]overlay=shortest=1[out]"
    elif mode == "Combination":
        background = input_object(ctx, (settings.background_logo_url or "").rpartition(".myqcloud.com/")[2] or None)
        inputs += ["-loop", "1", "-i", str(background.path)]
        graph = f"[0:v]{keyed}[fg];[1:v][fg]scale2ref[bg][fg2];[bg][fg2]overlay=shortest=1[out]"
    else:
        raise JobFailedError("InvalidArgument", f"Mode must be Mask, Foreground or Combination, not {mode}")
    scratch = ctx.scratch(".mp4")
    args = [*inputs, "-filter_complex", graph, "-map", "[out]", "-an", "-c:v", "libx264", "-preset", "ultrafast"]
    args += ["-pix_fmt", "yuv420p", "-t", f"{probe.duration or 60:.3f}", "-f", "mp4", str(scratch)]
    run_checked(ctx, args, scratch)
    key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext="mp4")
    return finish_outputs(ctx, bucket, region, [(key, put_output(ctx, bucket, key, scratch))])
