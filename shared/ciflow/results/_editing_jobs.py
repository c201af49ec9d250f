"""Reading an editing job's ``Operation`` (Concat, VideoMontage, Segment, …): what each tag adds to a media result."""

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
from ._media_jobs import _first_video, _media_reader
from ._parts import Details, Outputs, Reader, _locations, _output_objects, _put


def _concat(operation: ConcatOperation, _ok: bool, _outputs: Outputs, details: Details) -> None:
    params = operation.concat_template
    if params is not None:
        _put(details, "fragments", [fragment.url for fragment in params.concat_fragment if fragment.url] or None)
        _put(details, "direct_concat", params.direct_concat)


def _montage(operation: VideoMontageOperation, _ok: bool, _outputs: Outputs, details: Details) -> None:
    if operation.video_montage is not None:
        _put(details, "montage_duration", operation.video_montage.duration)


def _segment(operation: SegmentOperation, succeeded: bool, outputs: Outputs, details: Details) -> None:
    params = operation.segment
    if params is not None:
        _put(details, "segment_format", params.format)
        _put(details, "segment_duration", params.duration)
        encrypt = params.hls_encrypt
        if encrypt is not None and (encrypt.is_hls_encrypt or encrypt.is_encrypt):
            details["hls_encrypted"] = True
    _put(details, "segment_count", len(outputs) if succeeded and outputs else None)


def _streams(operation: StreamExtractOperation, _ok: bool, _outputs: Outputs, details: Details) -> None:
    output = operation.output
    items = output.stream_extract if output is not None else []
    # What CI echoes as Output.StreamExtract: stream index -> object key (requests say Object, reports Output).
    streams = {str(item.index): item.object or item.output for item in items if item.index is not None}
    _put(details, "streams", {index: key for index, key in streams.items() if key} or None)


def _stream_objects(operation: StreamExtractOperation) -> Outputs:
    output = operation.output
    return [] if output is None else _locations(output, [item.object or item.output for item in output.stream_extract])


def _sdr_to_hdr(operation: SdrToHdrOperation, _ok: bool, _outputs: Outputs, details: Details) -> None:
    _put(details, "hdr_mode", operation.sdr_to_hdr.hdr_mode if operation.sdr_to_hdr is not None else None)
    _put(details, "transcode_template_id", operation.transcode_template_id)
    video = _first_video(operation.media_info)
    if video is not None:
        _put(details, "color_transfer", video.color_transfer)
        _put(details, "color_primaries", video.color_primaries)


def _video_process(operation: VideoProcessOperation, _ok: bool, _outputs: Outputs, details: Details) -> None:
    _put(details, "transcode_template_id", operation.transcode_template_id)
    params = operation.video_process
    if params is not None:
        if params.color_enhance is not None:
            details["color_enhance"] = params.color_enhance.model_dump(exclude_none=True)
        if params.ms_sharpen is not None:
            details["ms_sharpen"] = params.ms_sharpen.model_dump(exclude_none=True)


def _media_info(operation: MediaInfoOperation, _ok: bool, _outputs: Outputs, details: Details) -> None:
    fmt = operation.media_info.format if operation.media_info is not None else None
    if fmt is not None:
        _put(details, "num_streams", fmt.num_stream)
        _put(details, "bitrate", fmt.bitrate)


#: (operation type, reader) in the order they are tried; other media operations fall back to the media reader.
READERS: tuple[tuple[type[Any], Reader], ...] = (
    (ConcatOperation, _media_reader(_concat, _output_objects)),
    (VideoMontageOperation, _media_reader(_montage, _output_objects)),
    (SegmentOperation, _media_reader(_segment, _output_objects)),
    (StreamExtractOperation, _media_reader(_streams, _stream_objects)),
    (SdrToHdrOperation, _media_reader(_sdr_to_hdr, _output_objects)),
    (VideoProcessOperation, _media_reader(_video_process, _output_objects)),
    (MediaInfoOperation, _media_reader(_media_info)),
)
