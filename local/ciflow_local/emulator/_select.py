"""``POST /<key>?select&select-type=2``: SQL over a CSV or JSON object, answered as COS's binary event stream.

The request is COS's ``<SelectRequest>``: ``Expression`` (``ExpressionType`` ``SQL``), ``InputSerialization``
(``CompressionType`` ``NONE``/``GZIP``/``BZIP2``; ``CSV`` with ``FileHeaderInfo`` ``NONE``/``IGNORE``/``USE``,
``RecordDelimiter``, ``FieldDelimiter``, ``QuoteCharacter``, ``QuoteEscapeCharacter``, ``Comments``,
``AllowQuotedRecordDelimiter``; or ``JSON`` with ``Type`` ``DOCUMENT``/``LINES``), ``OutputSerialization`` (``CSV``
with ``QuoteFields``, ``RecordDelimiter``, ``FieldDelimiter``, ``QuoteCharacter``, ``QuoteEscapeCharacter``; or
``JSON`` with ``RecordDelimiter``) and ``RequestProgress``/``Enabled``.

The SQL is a strict subset, parsed here (no SQL library): ``SELECT * | expr [AS name], … FROM COSObject [[AS]
alias] [WHERE cond] [LIMIT n]``, where an expression is a column (``_1`` by position, a header name with
``FileHeaderInfo`` ``USE``, a JSON key or ``a.b`` path, optionally behind the alias; ``"quoted"`` names are
case-sensitive, bare ones not), a string or number literal, ``TRUE``/``FALSE``/``NULL``, ``CAST(expr AS
INT|INTEGER|FLOAT|DECIMAL|STRING|BOOL)`` or a parenthesised condition; conditions combine ``=``, ``!=``, ``<>``,
``<``, ``<=``, ``>``, ``>=``, ``IS [NOT] NULL`` with ``AND``, ``OR`` and ``NOT``. Anything else (functions,
arithmetic, ``LIKE``, aggregates, joins …) is refused ``400 InvalidExpression`` before anything is read. A missing
column is NULL; comparing NULL is never true; a text value compared with a number is read as a number (no match
when it is not one).

The answer is ``200`` with a body of event-stream messages (4-byte total length, 4-byte headers length, prelude
CRC32, headers ``name-length name type=7 value-length value``, payload, message CRC32): ``Records`` (up to 64 KiB
of output each), ``Progress`` when asked for, ``Stats`` (``BytesScanned``, ``BytesProcessed``, ``BytesReturned``)
and ``End``; a record that cannot be read (bad JSON, bad number in a CAST) ends the stream with an ``error``
message instead. Objects are read into memory whole, so selects are capped at ``MAX_SELECT_BYTES``.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import operator
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ciflow.codec import element_to_tree, parse_xml
from ciflow.errors import CiflowError

from ._cos_common import RefusedError

__all__ = ["MAX_SELECT_BYTES", "SelectError", "SelectRequest", "event_message", "parse_request", "run_select"]

MAX_SELECT_BYTES = 256 * 1024 * 1024
_RECORDS_CHUNK = 64 * 1024


class SelectError(Exception):
    """A record that cannot be processed: the stream ends with an error message carrying this code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


# -- the event stream ---------------------------------------------------------------------------------


def event_message(headers: dict[str, str], payload: bytes = b"") -> bytes:
    """One event-stream message: prelude (lengths + CRC32), string headers (type 7), payload, message CRC32."""
    encoded = b""
    for name, value in headers.items():
        name_bytes, value_bytes = name.encode(), value.encode()
        encoded += bytes([len(name_bytes)]) + name_bytes + b"\x07" + struct.pack(">H", len(value_bytes)) + value_bytes
    prelude = struct.pack(">II", 12 + len(encoded) + len(payload) + 4, len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def _event(kind: str, payload: bytes = b"", content_type: str | None = None) -> bytes:
    headers = {":event-type": kind}
    if content_type:
        headers[":content-type"] = content_type
    headers[":message-type"] = "event"
    return event_message(headers, payload)


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


# -- SQL ----------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    |'(?P<string>(?:[^']|'')*)'
    |"(?P<quoted>(?:[^"]|"")+)"
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op><>|!=|<=|>=|[=<>*,().\[\]])
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"SELECT", "FROM", "WHERE", "LIMIT", "AS", "AND", "OR", "NOT", "IS", "NULL", "TRUE", "FALSE", "CAST"}
_CASTS = {"INT": "int", "INTEGER": "int", "FLOAT": "float", "DECIMAL": "float", "STRING": "string", "BOOL": "bool"}
_COMPARISONS = {"=", "!=", "<>", "<", "<=", ">", ">="}


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, quoted, name, op, keyword, end
    text: str


def _tokens(sql: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(sql):
        if sql[position:].strip() == "":
            break
        match = _TOKEN.match(sql, position)
        if match is None:
            raise RefusedError(400, "InvalidExpression", f"cannot read the SQL at {sql[position:].strip()[:20]!r}")
        kind = match.lastgroup or "op"
        text = match.group(kind)
        if kind == "string":
            text = text.replace("''", "'")
        elif kind == "quoted":
            text = text.replace('""', '"')
        elif kind == "name" and text.upper() in _KEYWORDS:
            kind, text = "keyword", text.upper()
        tokens.append(Token(kind, text))
        position = match.end()
    tokens.append(Token("end", ""))
    return tokens


Value = Any
Record = Callable[[list[tuple[str, bool]]], Value]  # a path (name, quoted) -> the value, None when missing


@dataclass(frozen=True)
class Column:
    path: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Literal:
    value: Value


@dataclass(frozen=True)
class Cast:
    operand: Any
    to: str


@dataclass(frozen=True)
class Compare:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class IsNull:
    operand: Any
    negated: bool


@dataclass(frozen=True)
class Logical:
    op: str  # AND, OR, NOT
    operands: tuple[Any, ...]


@dataclass(frozen=True)
class Query:
    star: bool
    items: tuple[tuple[Any, str | None], ...] = ()
    where: Any = None
    limit: int | None = None
    alias: str | None = None
    names: tuple[str, ...] = field(default=())


class _Parser:
    def __init__(self, sql: str) -> None:
        self.tokens, self.index = _tokens(sql), 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, kind: str, text: str | None = None) -> Token | None:
        token = self.peek()
        if token.kind == kind and (text is None or token.text == text):
            return self.take()
        return None

    def expect(self, kind: str, text: str | None = None) -> Token:
        token = self.accept(kind, text)
        if token is None:
            found = self.peek().text or "the end"
            raise RefusedError(400, "InvalidExpression", f"expected {text or kind} in the SQL, found {found!r}")
        return token

    def query(self) -> Query:
        self.expect("keyword", "SELECT")
        star, items = False, []
        if self.accept("op", "*"):
            star = True
        else:
            while True:
                expression = self.condition()
                name = None
                if self.accept("keyword", "AS") or self.peek().kind in ("name", "quoted"):
                    name = self.identifier()
                items.append((expression, name))
                if not self.accept("op", ","):
                    break
        self.expect("keyword", "FROM")
        source = self.take()
        if source.kind != "name" or source.text.upper() != "COSOBJECT":
            raise RefusedError(400, "InvalidExpression", "the SQL must select FROM COSObject")
        alias = None
        if self.accept("keyword", "AS") or self.peek().kind in ("name", "quoted"):
            alias = self.identifier()
        where = self.condition() if self.accept("keyword", "WHERE") else None
        limit = None
        if self.accept("keyword", "LIMIT"):
            number = self.expect("number")
            if not number.text.isdigit():
                raise RefusedError(400, "InvalidExpression", "LIMIT takes a whole number")
            limit = int(number.text)
        if self.peek().kind != "end":
            raise RefusedError(400, "InvalidExpression", f"unsupported SQL from {self.peek().text!r} on")
        return Query(star, tuple(items), where, limit, alias)

    def identifier(self) -> str:
        token = self.take()
        if token.kind not in ("name", "quoted"):
            raise RefusedError(400, "InvalidExpression", f"expected a name in the SQL, found {token.text!r}")
        return token.text

    def condition(self) -> Any:
        operands = [self.conjunction()]
        while self.accept("keyword", "OR"):
            operands.append(self.conjunction())
        return operands[0] if len(operands) == 1 else Logical("OR", tuple(operands))

    def conjunction(self) -> Any:
        operands = [self.negation()]
        while self.accept("keyword", "AND"):
            operands.append(self.negation())
        return operands[0] if len(operands) == 1 else Logical("AND", tuple(operands))

    def negation(self) -> Any:
        if self.accept("keyword", "NOT"):
            return Logical("NOT", (self.negation(),))
        return self.comparison()

    def comparison(self) -> Any:
        left = self.operand()
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARISONS:
            self.take()
            return Compare("!=" if token.text == "<>" else token.text, left, self.operand())
        if self.accept("keyword", "IS"):
            negated = self.accept("keyword", "NOT") is not None
            self.expect("keyword", "NULL")
            return IsNull(left, negated)
        return left

    def operand(self) -> Any:
        token = self.take()
        if token.kind == "number":
            return Literal(float(token.text) if any(c in token.text for c in ".eE") else int(token.text))
        if token.kind == "string":
            return Literal(token.text)
        if token.kind == "keyword" and token.text in ("TRUE", "FALSE", "NULL"):
            return Literal({"TRUE": True, "FALSE": False, "NULL": None}[token.text])
        if token.kind == "keyword" and token.text == "CAST":
            self.expect("op", "(")
            inner = self.condition()
            self.expect("keyword", "AS")
            to = self.expect("name").text.upper()
            if to not in _CASTS:
                raise RefusedError(400, "InvalidExpression", f"CAST to {to} is not supported")
            self.expect("op", ")")
            return Cast(inner, _CASTS[to])
        if token.kind == "op" and token.text == "(":
            inner = self.condition()
            self.expect("op", ")")
            return inner
        if token.kind in ("name", "quoted"):
            if self.peek().kind == "op" and self.peek().text == "(":
                raise RefusedError(400, "InvalidExpression", f"the function {token.text} is not supported")
            path = [(token.text, token.kind == "quoted")]
            while self.accept("op", "."):
                name = self.take()
                if name.kind not in ("name", "quoted"):
                    raise RefusedError(400, "InvalidExpression", "expected a name after '.' in the SQL")
                path.append((name.text, name.kind == "quoted"))
            return Column(tuple(path))
        raise RefusedError(400, "InvalidExpression", f"unsupported SQL at {token.text or 'the end'!r}")


def parse_sql(sql: str) -> Query:
    """The query ``sql`` states; ``400 InvalidExpression`` for anything outside the supported subset."""
    return _Parser(sql).query()


# -- evaluation ---------------------------------------------------------------------------------------


def _number(value: Value) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            return None
    return None


def _cast(value: Value, to: str) -> Value:
    if value is None:
        return None
    if to == "string":
        return _text(value)
    if to == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise SelectError("CastFailed", f"cannot cast {value!r} to BOOL")
    number = _number(value)
    if number is None:
        raise SelectError("CastFailed", f"cannot cast {value!r} to {to.upper()}")
    if to == "int":
        if isinstance(number, float) and not number.is_integer():
            raise SelectError("CastFailed", f"cannot cast {value!r} to INT")
        return int(number)
    return float(number)


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _numeric(value: Value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _compare(op: str, left: Value, right: Value) -> bool | None:
    if left is None or right is None:
        return None
    if _numeric(left) or _numeric(right):
        left, right = _number(left), _number(right)
        if left is None or right is None:
            return False
    elif type(left) is not type(right):
        left, right = _text(left), _text(right)
    try:
        return bool(_OPERATORS[op](left, right))
    except TypeError:
        return False


def _evaluate(node: Any, record: Record, alias: str | None) -> Value:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Column):
        path = list(node.path)
        if alias is not None and len(path) > 1 and path[0][0].lower() == alias.lower():
            path = path[1:]
        return record(path)
    if isinstance(node, Cast):
        return _cast(_evaluate(node.operand, record, alias), node.to)
    if isinstance(node, Compare):
        return _compare(node.op, _evaluate(node.left, record, alias), _evaluate(node.right, record, alias))
    if isinstance(node, IsNull):
        missing = _evaluate(node.operand, record, alias) is None
        return missing != node.negated
    if isinstance(node, Logical):
        values = [_evaluate(operand, record, alias) for operand in node.operands]
        if node.op == "NOT":
            return None if values[0] is None else not values[0]
        if node.op == "AND":
            return False if any(v is False for v in values) else (None if None in values else all(values))
        return True if any(v is True for v in values) else (None if None in values else any(values))
    raise SelectError("InternalError", f"cannot evaluate {node!r}")


def _name_of(node: Any, position: int) -> str:
    if isinstance(node, Column):
        return node.path[-1][0]
    return f"_{position}"


def _text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


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
    text = _text(value)
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
        if query.where is not None and _evaluate(query.where, record, query.alias) is not True:
            continue
        if query.star:
            pairs = whole
        else:
            pairs = [
                (name or _name_of(node, position), _evaluate(node, record, query.alias))
                for position, (node, name) in enumerate(query.items, 1)
            ]
        returned += 1
        yield _write(pairs, request.output)


def _stats(root: str, scanned: int, processed: int, returned: int) -> bytes:
    return (
        f"<{root}><BytesScanned>{scanned}</BytesScanned><BytesProcessed>{processed}</BytesProcessed>"
        f"<BytesReturned>{returned}</BytesReturned></{root}>"
    ).encode()


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
                yield _event("Records", b"".join(pending), "application/octet-stream")
                returned += size
                pending, size = [], 0
        if pending:
            yield _event("Records", b"".join(pending), "application/octet-stream")
            returned += size
    except SelectError as error:
        yield event_message({":error-code": error.code, ":error-message": error.message, ":message-type": "error"})
        return
    if request.progress:
        yield _event("Progress", _stats("Progress", len(data), processed, returned), "text/xml")
    yield _event("Stats", _stats("Stats", len(data), processed, returned), "text/xml")
    yield _event("End")
