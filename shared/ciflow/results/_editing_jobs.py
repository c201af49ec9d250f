"""Reading an editing job's ``Operation`` (Concat, VideoMontage, Segment, …) into a result's outputs and details."""

from __future__ import annotations

from typing import Any

from ..models.editing import (
    ConcatOperation,
    MediaInfoOperation,
    SdrToHdrOperation,
    SegmentOperation,
    StreamExtractOperation,
    VideoMontageOperation,
    VideoProcessOperation,
)
from ._media_jobs import _media
from ._model import ObjectLocation
from ._parts import Reader, _declared_outputs, _location, _put


def _read_concat(
    operation: ConcatOperation,
    succeeded: bool,
    outputs: list[ObjectLocation],
    _h: dict[str, str],
    details: dict[str, Any],
) -> None:
    _media(operation, succeeded, outputs, details)
    params = operation.concat_template
    if params is not None:
        _put(details, "fragments", [fragment.url for fragment in params.concat_fragment if fragment.url] or None)
        _put(details, "direct_concat", params.direct_concat)


def _read_montage(
    operation: VideoMontageOperation,
    succeeded: bool,
    outputs: list[ObjectLocation],
    _h: dict[str, str],
    details: dict[str, Any],
) -> None:
    _media(operation, succeeded, outputs, details)
    if operation.video_montage is not None:
        _put(details, "montage_duration", operation.video_montage.duration)


def _read_segment(
    operation: SegmentOperation,
    succeeded: bool,
    outputs: list[ObjectLocation],
    _h: dict[str, str],
    details: dict[str, Any],
) -> None:
    _media(operation, succeeded, outputs, details)
    if not outputs and succeeded:
        outputs.extend(_declared_outputs(operation.output))
    params = operation.segment
    if params is not None:
        _put(details, "segment_format", params.format)
        _put(details, "segment_duration", params.duration)
        encrypt = params.hls_encrypt
        if encrypt is not None and (encrypt.is_hls_encrypt or encrypt.is_encrypt):
            details["hls_encrypted"] = True
    _put(details, "segment_count", len(outputs) if succeeded and outputs else None)


def _read_stream_extract(
    operation: StreamExtractOperation,
    succeeded: bool,
    outputs: list[ObjectLocation],
    _h: dict[str, str],
    details: dict[str, Any],
) -> None:
    _media(operation, succeeded, outputs, details)
    output = operation.output
    items = output.stream_extract if output is not None else []
    # What CI echoes as Output.StreamExtract: stream index -> object key (requests say Object, reports Output).
    streams = {str(item.index): item.object or item.output for item in items if item.index is not None}
    _put(details, "streams", {index: key for index, key in streams.items() if key} or None)
    if not outputs and succeeded:
        declared = (_location(output, item.object or item.output) for item in items)
        outputs.extend(location for location in declared if location is not None)


def _read_sdr_to_hdr(
    operation: SdrToHdrOperation,
    succeeded: bool,
    outputs: list[ObjectLocation],
    _h: dict[str, str],
    details: dict[str, Any],
) -> None:
    _media(operation, succeeded, outputs, details)
    _put(details, "hdr_mode", operation.sdr_to_hdr.hdr_mode if operation.sdr_to_hdr else None)
    _put(details, "transcode_template_id", operation.transcode_template_id)
    stream = operation.media_info.stream if operation.media_info else None
    if stream is not None and stream.video:
        _put(details, "color_transfer", stream.video[0].color_transfer)
        _put(details, "color_primaries", stream.video[0].color_primaries)


def _read_video_process(
    operation: VideoProcessOperation,
    succeeded: bool,
    outputs: list[ObjectLocation],
    _h: dict[str, str],
    details: dict[str, Any],
) -> None:
    _media(operation, succeeded, outputs, details)
    _put(details, "transcode_template_id", operation.transcode_template_id)
    params = operation.video_process
    if params is not None:
        if params.color_enhance is not None:
            details["color_enhance"] = params.color_enhance.model_dump(exclude_none=True)
        if params.ms_sharpen is not None:
            details["ms_sharpen"] = params.ms_sharpen.model_dump(exclude_none=True)


def _read_media_info(
    operation: MediaInfoOperation,
    succeeded: bool,
    outputs: list[ObjectLocation],
    _h: dict[str, str],
    details: dict[str, Any],
) -> None:
    _media(operation, succeeded, outputs, details)
    info = operation.media_info
    if info is not None and info.format is not None:
        _put(details, "num_streams", info.format.num_stream)
        _put(details, "bitrate", info.format.bitrate)


#: (operation type, reader) in the order they are tried; other media operations fall back to the media reader.
READERS: tuple[tuple[type[Any], Reader], ...] = (
    (ConcatOperation, _read_concat),
    (VideoMontageOperation, _read_montage),
    (SegmentOperation, _read_segment),
    (StreamExtractOperation, _read_stream_extract),
    (SdrToHdrOperation, _read_sdr_to_hdr),
    (VideoProcessOperation, _read_video_process),
    (MediaInfoOperation, _read_media_info),
)
