"""Reading a media-family job's ``Operation``: what every media tag reports, and the reader each tag builds on it."""

from __future__ import annotations

from typing import Any

from ..models.media import (
    MediaInfo,
    MediaInfoVideo,
    MediaOperation,
    OutputFileInfo,
    QualityEstimateOperation,
    TemplatedMediaOperation,
)
from ._model import ObjectLocation
from ._parts import Declared, Details, Hashes, Outputs, Reader, TagDetails, _output_objects, _put, _tag_reader


def _output_file(files: OutputFileInfo, outputs: Outputs) -> None:
    prefix = files.object_prefix or ""
    for name in files.object_name:
        if name:
            outputs.append(ObjectLocation(bucket=files.bucket, region=files.region, key=prefix + name))


def _first_video(info: MediaInfo | None) -> MediaInfoVideo | None:
    """The first video stream a job's ``MediaInfo`` describes."""
    stream = info.stream if info is not None else None
    return stream.video[0] if stream is not None and stream.video else None


def _media_info(info: MediaInfo, details: Details) -> None:
    fmt = info.format
    if fmt is not None:
        _put(details, "duration", fmt.duration)
        _put(details, "format", fmt.format_name)
        _put(details, "size", fmt.size)
    video = _first_video(info)
    if video is not None:
        _put(details, "width", video.width)
        _put(details, "height", video.height)
        _put(details, "video_codec", video.codec_name)
        if "duration" not in details:
            _put(details, "duration", video.duration)
    stream = info.stream
    if stream is not None and stream.audio:
        audio = stream.audio[0]
        _put(details, "audio_codec", audio.codec_name)
        if "duration" not in details:
            _put(details, "duration", audio.duration)


def _media(operation: MediaOperation, _succeeded: bool, outputs: Outputs, _hashes: Hashes, details: Details) -> None:
    """What every media-family ``Operation`` reports: its output files and their MD5s, media info, quality, template."""
    result = operation.media_result
    output_file = result.output_file if result is not None else None
    if output_file is not None:
        _output_file(output_file, outputs)
        if output_file.sprite_output_file is not None:
            _output_file(output_file.sprite_output_file, outputs)
        md5 = {info.object_name: info.md5 for info in output_file.md5_info if info.object_name and info.md5}
        if md5:
            details["output_md5"] = md5
    if operation.media_info is not None:
        _media_info(operation.media_info, details)
    quality = (
        operation.result
        if isinstance(operation, QualityEstimateOperation)
        else (result.quality_estimate if result is not None else None)
    )
    if quality is not None:
        _put(details, "quality_score", quality.score)
    if isinstance(operation, TemplatedMediaOperation):
        _put(details, "template_id", operation.template_id)


def _media_reader(details: TagDetails | None = None, declared: Declared | None = None) -> Reader:
    """A media-family tag's reader: what every media ``Operation`` reports, then the tag's declared outputs, details."""
    return _tag_reader(_media, declared, details)


#: (operation type, reader) in the order they are tried: ``_normalise`` calls the first that matches.
READERS: tuple[tuple[type[Any], Reader], ...] = (
    (TemplatedMediaOperation, _media_reader(declared=_output_objects)),
    (MediaOperation, _media_reader()),
)
