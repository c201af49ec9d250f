"""Reading a file job's ``Operation`` (FileHashCode, FileUncompress, FileCompress) into a result."""

from __future__ import annotations

from typing import Any

from ..models.files import FileCompressOperation, FileHashCodeOperation, FileUncompressOperation
from ._model import ObjectLocation
from ._parts import Details, Hashes, Outputs, Reader, _output_objects, _put, _tag_reader


def _file_hash(
    operation: FileHashCodeOperation, _ok: bool, _outputs: Outputs, hashes: Hashes, details: Details
) -> None:
    result = operation.file_hash_code_result
    if result is None:
        return
    if result.md5:
        hashes["md5"] = result.md5
    if result.sha1:
        hashes["sha1"] = result.sha1
    if result.sha256:
        hashes["sha256"] = result.sha256
    _put(details, "file_size", result.file_size)
    _put(details, "etag", result.etag)


def _uncompressed(
    operation: FileUncompressOperation, _ok: bool, outputs: Outputs, _h: Hashes, details: Details
) -> None:
    result = operation.file_uncompress_result
    output = operation.output
    bucket = (result.bucket if result is not None else None) or (output.bucket if output is not None else None)
    region = (result.region if result is not None else None) or (output.region if output is not None else None)
    if result is not None:
        _put(details, "file_count", result.file_count)
        listing = result.file_list
        if listing is not None:
            for entry in listing.contents:
                if entry.key:
                    outputs.append(ObjectLocation(bucket=bucket, region=region, key=entry.key))
            if listing.is_truncated:
                details["file_list_truncated"] = True
    config = operation.file_uncompress_config
    # The extracted files live under this prefix: a prefix, not an object, so a detail rather than an output.
    _put(details, "output_prefix", config.prefix if config is not None else None)
    _put(details, "output_bucket", bucket)
    _put(details, "output_region", region)


def _compressed(operation: FileCompressOperation, _ok: bool, outputs: Outputs, _h: Hashes, details: Details) -> None:
    result = operation.file_compress_result
    if result is None:
        return
    if result.object:
        output = operation.output
        bucket = result.bucket or (output.bucket if output is not None else None)
        region = result.region or (output.region if output is not None else None)
        outputs.append(ObjectLocation(bucket=bucket, region=region, key=result.object))
    _put(details, "compress_file_count", result.compress_file_count)
    _put(details, "error_count", result.error_count)


#: (operation type, reader) in the order they are tried: ``_normalise`` calls the first that matches.
READERS: tuple[tuple[type[Any], Reader], ...] = (
    (FileHashCodeOperation, _file_hash),
    (FileUncompressOperation, _uncompressed),
    (FileCompressOperation, _tag_reader(_compressed, _output_objects)),
)
