"""The SELECT expression of ``?select``: COS's SQL subset parsed to a ``Query`` and evaluated per record.

The SQL is a strict subset, parsed here (no SQL library): ``SELECT * | expr [AS name], … FROM COSObject [[AS]
alias] [WHERE cond] [LIMIT n]``, where an expression is a column (``_1`` by position, a header name with
``FileHeaderInfo`` ``USE``, a JSON key or ``a.b`` path, optionally behind the alias; ``"quoted"`` names are
case-sensitive, bare ones not), a string or number literal, ``TRUE``/``FALSE``/``NULL``, ``CAST(expr AS
INT|INTEGER|FLOAT|DECIMAL|STRING|BOOL)`` or a parenthesised condition; conditions combine ``=``, ``!=``, ``<>``,
``<``, ``<=``, ``>``, ``>=``, ``IS [NOT] NULL`` with ``AND``, ``OR`` and ``NOT``. Anything else (functions,
arithmetic, ``LIKE``, aggregates, joins …) is refused ``400 InvalidExpression`` before anything is read. A missing
column is NULL; comparing NULL is never true; a text value compared with a number is read as a number (no match
when it is not one).
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._cos_common import RefusedError

__all__ = ["Query", "Record", "SelectError", "Value", "as_text", "evaluate", "name_of", "parse_sql"]


class SelectError(Exception):
    """A record that cannot be processed: the stream ends with an error message carrying this code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


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
        return as_text(value)
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
        left, right = as_text(left), as_text(right)
    try:
        return bool(_OPERATORS[op](left, right))
    except TypeError:
        return False


def evaluate(node: Any, record: Record, alias: str | None) -> Value:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Column):
        path = list(node.path)
        if alias is not None and len(path) > 1 and path[0][0].lower() == alias.lower():
            path = path[1:]
        return record(path)
    if isinstance(node, Cast):
        return _cast(evaluate(node.operand, record, alias), node.to)
    if isinstance(node, Compare):
        return _compare(node.op, evaluate(node.left, record, alias), evaluate(node.right, record, alias))
    if isinstance(node, IsNull):
        missing = evaluate(node.operand, record, alias) is None
        return missing != node.negated
    if isinstance(node, Logical):
        values = [evaluate(operand, record, alias) for operand in node.operands]
        if node.op == "NOT":
            return None if values[0] is None else not values[0]
        if node.op == "AND":
            return False if any(v is False for v in values) else (None if None in values else all(values))
        return True if any(v is True for v in values) else (None if None in values else any(values))
    raise SelectError("InternalError", f"cannot evaluate {node!r}")


def name_of(node: Any, position: int) -> str:
    if isinstance(node, Column):
        return node.path[-1][0]
    return f"_{position}"


def as_text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)
