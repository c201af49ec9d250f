"""Reading a media job's ``Operation`` (Transcode, Snapshot, …) into a result's outputs and details."""

from __future__ import annotations

from typing import Any

from ..models.media import MediaOperation, OutputFileInfo, QualityEstimateOperation, TemplatedMediaOperation
from ._model import ObjectLocation
from ._parts import Reader, _declared_outputs, _put


def _output_file(files: OutputFileInfo, outputs: list[ObjectLocation]) -> None:
    prefix = files.object_prefix or ""
    for name in files.object_name:
        if name:
            outputs.append(ObjectLocation(bucket=files.bucket, region=files.region, key=prefix + name))


def _media(operation: MediaOperation, succeeded: bool, outputs: list[ObjectLocation], details: dict[str, Any]) -> None:
    result = operation.media_result
    output_file = result.output_file if result is not None else None
    if output_file is not None:
        _output_file(output_file, outputs)
        if output_file.sprite_output_file is not None:
            _output_file(output_file.sprite_output_file, outputs)
        md5 = {info.object_name: info.md5 for info in output_file.md5_info if info.object_name and info.md5}
        if md5:
            details["output_md5"] = md5
    templated = operation if isinstance(operation, TemplatedMediaOperation) else None
    if not outputs and succeeded and templated is not None:
        outputs.extend(_declared_outputs(templated.output))

    info = operation.media_info
    if info is not None:
        fmt = info.format
        if fmt is not None:
            _put(details, "duration", fmt.duration)
            _put(details, "format", fmt.format_name)
            _put(details, "size", fmt.size)
        stream = info.stream
        if stream is not None:
            if stream.video:
                video = stream.video[0]
                _put(details, "width", video.width)
                _put(details, "height", video.height)
                _put(details, "video_codec", video.codec_name)
                if "duration" not in details:
                    _put(details, "duration", video.duration)
            if stream.audio:
                audio = stream.audio[0]
                _put(details, "audio_codec", audio.codec_name)
                if "duration" not in details:
                    _put(details, "duration", audio.duration)

    quality = (
        operation.result
        if isinstance(operation, QualityEstimateOperation)
        else (result.quality_estimate if result is not None else None)
    )
    if quality is not None:
        _put(details, "quality_score", quality.score)
    if templated is not None:
        _put(details, "template_id", templated.template_id)


def _read_media(
    operation: MediaOperation,
    succeeded: bool,
    outputs: list[ObjectLocation],
    _hashes: dict[str, str],
    details: dict[str, Any],
) -> None:
    _media(operation, succeeded, outputs, details)


#: (operation type, reader) in the order they are tried: ``_normalise`` calls the first that matches.
READERS: tuple[tuple[type[Any], Reader], ...] = ((MediaOperation, _read_media),)
