"""Reading a file job's ``Operation`` (FileHashCode, FileUncompress, FileCompress) into a result."""

from __future__ import annotations

from typing import Any

from ..models.files import FileCompressOperation, FileHashCodeOperation, FileUncompressOperation
from ._model import ObjectLocation
from ._parts import Reader, _declared_outputs, _put


def _file_hash(operation: FileHashCodeOperation, hashes: dict[str, str], details: dict[str, Any]) -> None:
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


def _file_uncompress(
    operation: FileUncompressOperation, outputs: list[ObjectLocation], details: dict[str, Any]
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


def _file_compress(
    operation: FileCompressOperation, succeeded: bool, outputs: list[ObjectLocation], details: dict[str, Any]
) -> None:
    result = operation.file_compress_result
    output = operation.output
    if result is not None:
        if result.object:
            bucket = result.bucket or (output.bucket if output is not None else None)
            region = result.region or (output.region if output is not None else None)
            outputs.append(ObjectLocation(bucket=bucket, region=region, key=result.object))
        _put(details, "compress_file_count", result.compress_file_count)
        _put(details, "error_count", result.error_count)
    if not outputs and succeeded:
        outputs.extend(_declared_outputs(output))


def _read_hash(
    operation: FileHashCodeOperation,
    _succeeded: bool,
    _outputs: list[ObjectLocation],
    hashes: dict[str, str],
    details: dict[str, Any],
) -> None:
    _file_hash(operation, hashes, details)


def _read_uncompress(
    operation: FileUncompressOperation,
    _succeeded: bool,
    outputs: list[ObjectLocation],
    _hashes: dict[str, str],
    details: dict[str, Any],
) -> None:
    _file_uncompress(operation, outputs, details)


def _read_compress(
    operation: FileCompressOperation,
    succeeded: bool,
    outputs: list[ObjectLocation],
    _hashes: dict[str, str],
    details: dict[str, Any],
) -> None:
    _file_compress(operation, succeeded, outputs, details)


#: (operation type, reader) in the order they are tried: ``_normalise`` calls the first that matches.
READERS: tuple[tuple[type[Any], Reader], ...] = (
    (FileHashCodeOperation, _read_hash),
    (FileUncompressOperation, _read_uncompress),
    (FileCompressOperation, _read_compress),
)
