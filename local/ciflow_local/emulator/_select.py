"""``POST /<key>?select&select-type=2``: SQL over a CSV or JSON object, answered as COS's binary event stream.

The request is COS's ``<SelectRequest>``: ``Expression`` (``ExpressionType`` ``SQL``), ``InputSerialization``
(``CompressionType`` ``NONE``/``GZIP``/``BZIP2``; ``CSV`` with ``FileHeaderInfo`` ``NONE``/``IGNORE``/``USE``,
``RecordDelimiter``, ``FieldDelimiter``, ``QuoteCharacter``, ``QuoteEscapeCharacter``, ``Comments``,
``AllowQuotedRecordDelimiter``; or ``JSON`` with ``Type`` ``DOCUMENT``/``LINES``), ``OutputSerialization`` (``CSV``
with ``QuoteFields``, ``RecordDelimiter``, ``FieldDelimiter``, ``QuoteCharacter``, ``QuoteEscapeCharacter``; or
``JSON`` with ``RecordDelimiter``) and ``RequestProgress``/``Enabled``.

The SQL (a strict subset of COS's) is parsed and evaluated by ``_select_sql``; the event-stream framing is
``_select_stream``'s.

The answer is ``200`` with a body of event-stream messages: ``Records`` (up to 64 KiB
of output each), ``Progress`` when asked for, ``Stats`` (``BytesScanned``, ``BytesProcessed``, ``BytesReturned``)
and ``End``; a record that cannot be read (bad JSON, bad number in a CAST) ends the stream with an ``error``
message instead. Objects are read into memory whole, so selects are capped at ``MAX_SELECT_BYTES``.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ciflow.codec import element_to_tree, parse_xml
from ciflow.errors import CiflowError

from ._cos_common import RefusedError
from ._select_sql import Query, Record, SelectError, Value, as_text, evaluate, name_of, parse_sql
from ._select_stream import event, event_message, stats

__all__ = ["MAX_SELECT_BYTES", "SelectError", "SelectRequest", "event_message", "parse_request", "run_select"]

MAX_SELECT_BYTES = 256 * 1024 * 1024
_RECORDS_CHUNK = 64 * 1024


# -- the request --------------------------------------------------------------------------------------


def _bad(message: str) -> RefusedError:
    return RefusedError(400, "InvalidArgument", message)


def _char(options: dict[str, Any], name: str, default: str, *, multi: bool = False) -> str:
    value = options.get(name, default)
    if not isinstance(value, str) or (value == "" and name != "Comments"):
        raise _bad(f"{name} must be a character")
    if len(value) > (2 if multi else 1):
        raise _bad(f"{name} must be {'one or two characters' if multi else 'one character'}")
    return value


def _choice(options: dict[str, Any], name: str, default: str, allowed: set[str]) -> str:
    value = options.get(name, default)
    if not isinstance(value, str) or value.upper() not in allowed:
        raise _bad(f"{name} must be one of {sorted(allowed)}")
    return value.upper()


def _options(value: Any) -> dict[str, Any]:
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise RefusedError(400, "MalformedXML", "serialization options must be elements")
    return value


@dataclass(frozen=True)
class InputFormat:
    kind: str  # CSV or JSON
    compression: str = "NONE"
    header: str = "NONE"
    record_delimiter: str = "\n"
    field_delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    comments: str = ""
    quoted_record_delimiter: bool = False
    json_type: str = "DOCUMENT"


@dataclass(frozen=True)
class OutputFormat:
    kind: str
    quote_fields: str = "ASNEEDED"
    record_delimiter: str = "\n"
    field_delimiter: str = ","
    quote: str = '"'
    escape: str = '"'


def _input(tree: Any) -> InputFormat:
    tree = _options(tree)
    compression = _choice(tree, "CompressionType", "NONE", {"NONE", "GZIP", "BZIP2"})
    kinds = [name for name in ("CSV", "JSON", "Parquet") if name in tree]
    if len(kinds) != 1 or kinds[0] == "Parquet":
        raise _bad("InputSerialization needs exactly one of CSV or JSON")
    options = _options(tree[kinds[0]])
    if kinds[0] == "JSON":
        return InputFormat("JSON", compression, json_type=_choice(options, "Type", "DOCUMENT", {"DOCUMENT", "LINES"}))
    return InputFormat(
        "CSV",
        compression,
        header=_choice(options, "FileHeaderInfo", "NONE", {"NONE", "IGNORE", "USE"}),
        record_delimiter=_char(options, "RecordDelimiter", "\n", multi=True),
        field_delimiter=_char(options, "FieldDelimiter", ",", multi=True),
        quote=_char(options, "QuoteCharacter", '"'),
        escape=_char(options, "QuoteEscapeCharacter", '"'),
        comments=_char(options, "Comments", "#"),
        quoted_record_delimiter=_choice(options, "AllowQuotedRecordDelimiter", "FALSE", {"TRUE", "FALSE"}) == "TRUE",
    )


def _output(tree: Any) -> OutputFormat:
    tree = _options(tree)
    kinds = [name for name in ("CSV", "JSON") if name in tree]
    if len(kinds) != 1:
        raise _bad("OutputSerialization needs exactly one of CSV or JSON")
    options = _options(tree[kinds[0]])
    if kinds[0] == "JSON":
        return OutputFormat("JSON", record_delimiter=_char(options, "RecordDelimiter", "\n", multi=True))
    return OutputFormat(
        "CSV",
        quote_fields=_choice(options, "QuoteFields", "ASNEEDED", {"ASNEEDED", "ALWAYS"}),
        record_delimiter=_char(options, "RecordDelimiter", "\n", multi=True),
        field_delimiter=_char(options, "FieldDelimiter", ",", multi=True),
        quote=_char(options, "QuoteCharacter", '"'),
        escape=_char(options, "QuoteEscapeCharacter", '"'),
    )


@dataclass(frozen=True)
class SelectRequest:
    query: Query
    input: InputFormat
    output: OutputFormat
    progress: bool = False


def parse_request(body: bytes) -> SelectRequest:
    """The ``<SelectRequest>`` body, checked whole (the SQL too); 400 otherwise."""
    try:
        tree = element_to_tree(parse_xml(body))
    except (CiflowError, ValueError) as exc:
        raise RefusedError(400, "MalformedXML", f"The XML you provided was not well-formed: {exc}") from None
    if not isinstance(tree, dict) or not isinstance(tree.get("Expression"), str):
        raise RefusedError(400, "MalformedXML", "SelectRequest needs an Expression")
    if str(tree.get("ExpressionType", "")).upper() != "SQL":
        raise _bad("ExpressionType must be SQL")
    if "InputSerialization" not in tree or "OutputSerialization" not in tree:
        raise RefusedError(400, "MalformedXML", "SelectRequest needs InputSerialization and OutputSerialization")
    progress = _options(tree.get("RequestProgress", ""))
    enabled = _choice(progress, "Enabled", "FALSE", {"TRUE", "FALSE"}) == "TRUE"
    return SelectRequest(
        parse_sql(tree["Expression"]), _input(tree["InputSerialization"]), _output(tree["OutputSerialization"]), enabled
    )


# -- reading records ----------------------------------------------------------------------------------


def _decompressed(data: bytes, compression: str) -> bytes:
    try:
        if compression == "GZIP":
            return gzip.decompress(data)
        if compression == "BZIP2":
            return bz2.decompress(data)
    except (OSError, EOFError, ValueError) as exc:
        raise SelectError("InvalidCompressionFormat", f"the object is not {compression}: {exc}") from None
    return data


def _csv_records(text: str, fmt: InputFormat) -> Iterator[tuple[list[str], list[str] | None]]:
    """``(fields, header names or None)`` of each CSV record."""
    delimiter = fmt.record_delimiter
    if delimiter == "\n":
        text = text.replace("\r\n", "\n")
    lines = _split_quoted(text, delimiter, fmt.quote) if fmt.quoted_record_delimiter else text.split(delimiter)
    if lines and lines[-1] == "":
        lines.pop()
    header: list[str] | None = None
    first = True
    for line in lines:
        if fmt.comments and line.startswith(fmt.comments):
            continue
        fields = _fields(line, fmt)
        if first:
            first = False
            if fmt.header == "USE":
                header = fields
                continue
            if fmt.header == "IGNORE":
                continue
        yield fields, header


def _split_quoted(text: str, delimiter: str, quote: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted, index = False, 0
    while index < len(text):
        if text[index] == quote:
            quoted = not quoted
        if not quoted and text.startswith(delimiter, index):
            parts.append("".join(current))
            current, index = [], index + len(delimiter)
            continue
        current.append(text[index])
        index += 1
    parts.append("".join(current))
    return parts


def _fields(line: str, fmt: InputFormat) -> list[str]:
    if len(fmt.field_delimiter) > 1:
        return line.split(fmt.field_delimiter)
    reader = csv.reader(
        [line],
        delimiter=fmt.field_delimiter,
        quotechar=fmt.quote,
        doublequote=fmt.escape == fmt.quote,
        escapechar=None if fmt.escape == fmt.quote else fmt.escape,
        strict=False,
    )
    return next(reader, [])


def _json_records(text: str, fmt: InputFormat) -> Iterator[Any]:
    decoder = json.JSONDecoder()
    if fmt.json_type == "LINES":
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise SelectError("InvalidJsonType", f"line {number} is not JSON: {exc}") from None
        return
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return
        try:
            value, index = decoder.raw_decode(text, index)
        except ValueError as exc:
            raise SelectError("InvalidJsonType", f"the document is not JSON: {exc}") from None
        yield value


def _csv_lookup(fields: list[str], header: list[str] | None) -> Record:
    def lookup(path: list[tuple[str, bool]]) -> Value:
        if len(path) != 1:
            return None
        name, quoted = path[0]
        if re.fullmatch(r"_\d+", name):
            position = int(name[1:])
            return fields[position - 1] if 1 <= position <= len(fields) else None
        if header is None:
            return None
        for index, column in enumerate(header):
            if (column == name if quoted else column.lower() == name.lower()) and index < len(fields):
                return fields[index]
        return None

    return lookup


def _json_lookup(value: Any) -> Record:
    def lookup(path: list[tuple[str, bool]]) -> Value:
        current = value
        for name, quoted in path:
            if not isinstance(current, dict):
                return None
            if name in current:
                current = current[name]
            elif not quoted:
                matches = [key for key in current if key.lower() == name.lower()]
                current = current[matches[0]] if matches else None
            else:
                return None
        return current

    return lookup


# -- writing records ----------------------------------------------------------------------------------


def _csv_field(value: Value, fmt: OutputFormat) -> str:
    text = as_text(value)
    special = (fmt.field_delimiter, fmt.record_delimiter, fmt.quote, "\n", "\r")
    if fmt.quote_fields == "ALWAYS" or any(char and char in text for char in special):
        return fmt.quote + text.replace(fmt.quote, fmt.escape + fmt.quote) + fmt.quote
    return text


def _write(pairs: list[tuple[str, Value]], fmt: OutputFormat) -> str:
    if fmt.kind == "JSON":
        return json.dumps(dict(pairs), separators=(",", ":"), ensure_ascii=False) + fmt.record_delimiter
    return fmt.field_delimiter.join(_csv_field(value, fmt) for _, value in pairs) + fmt.record_delimiter


def _rows(request: SelectRequest, text: str) -> Iterator[str]:
    query, fmt = request.query, request.input
    returned = 0
    source: Iterator[tuple[Record, list[tuple[str, Value]]]]
    if fmt.kind == "CSV":
        source = (
            (
                _csv_lookup(fields, header),
                [(header[i] if header and i < len(header) else f"_{i + 1}", v) for i, v in enumerate(fields)],
            )
            for fields, header in _csv_records(text, fmt)
        )
    else:
        source = (
            (_json_lookup(value), list(value.items()) if isinstance(value, dict) else [("_1", value)])
            for value in _json_records(text, fmt)
        )
    for record, whole in source:
        if query.limit is not None and returned >= query.limit:
            return
        if query.where is not None and evaluate(query.where, record, query.alias) is not True:
            continue
        if query.star:
            pairs = whole
        else:
            pairs = [
                (name or name_of(node, position), evaluate(node, record, query.alias))
                for position, (node, name) in enumerate(query.items, 1)
            ]
        returned += 1
        yield _write(pairs, request.output)


def run_select(request: SelectRequest, data: bytes) -> Iterator[bytes]:
    """The event-stream messages answering ``request`` over the object's bytes ``data``."""
    returned = processed = 0
    try:
        raw = _decompressed(data, request.input.compression)
        processed = len(raw)
        text = raw.decode("utf-8", errors="replace")
        pending: list[bytes] = []
        size = 0
        for row in _rows(request, text):
            encoded = row.encode()
            pending.append(encoded)
            size += len(encoded)
            if size >= _RECORDS_CHUNK:
                yield event("Records", b"".join(pending), "application/octet-stream")
                returned += size
                pending, size = [], 0
        if pending:
            yield event("Records", b"".join(pending), "application/octet-stream")
            returned += size
    except SelectError as error:
        yield event_message({":error-code": error.code, ":error-message": error.message, ":message-type": "error"})
        return
    if request.progress:
        yield event("Progress", stats("Progress", len(data), processed, returned), "text/xml")
    yield event("Stats", stats("Stats", len(data), processed, returned), "text/xml")
    yield event("End")
