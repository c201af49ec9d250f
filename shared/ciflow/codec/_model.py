"""The one generic codec: pydantic models <-> CI/COS XML and JSON, with CI's lenient value conventions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, ValidationError, model_validator
from pydantic.alias_generators import to_pascal
from typing_extensions import Self

from ..errors import DecodeError, MalformedXmlError
from ._safe import DEFAULT_MAX_XML_BYTES, parse_xml
from ._tree import element_to_tree, local_name, tree_to_xml

__all__ = [
    "CiModel",
    "ListOf",
    "CiInt",
    "CiFloat",
    "CiBool",
    "CiTime",
    "decode_tree",
    "from_xml",
    "to_xml",
    "to_tree",
    "format_ci_time",
    "parse_ci_time",
]

M = TypeVar("M", bound="CiModel")
T = TypeVar("T")


class CiModel(BaseModel):
    """Base of every CI/COS model: PascalCase on the wire, unknown elements kept, built lazily.

    ``extra="allow"`` keeps elements we do not model, so new API fields never fail parsing. A model that
    ``decode_tree`` made remembers its source tree, so ``to_tree``/``to_xml`` give that body back as it came.
    """

    # The source tree of a decoded root model (see ``decode_tree``). A slot, not a private attribute: unset on
    # every nested model at no cost, and outside ``__eq__`` (a decoded model equals one built with its values).
    __slots__ = ("_ci_source",)

    model_config = ConfigDict(
        alias_generator=to_pascal,
        populate_by_name=True,
        extra="allow",
        defer_build=True,
        coerce_numbers_to_str=True,
        protected_namespaces=(),
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_element_is_empty_container(cls, data: Any) -> Any:
        # <MediaInfo/> parses as '' (and JSON sometimes sends ""): an empty container, not an error.
        if data is None or (isinstance(data, str) and not data.strip()):
            return {}
        return data

    def __copy__(self) -> Self:
        copied = super().__copy__()
        _remember(copied, _source_of(self))
        return copied

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        copied = super().__deepcopy__(memo)
        _remember(copied, _source_of(self))  # never mutated, so shared
        return copied

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        source = _source_of(self)
        return state if source is _NO_SOURCE else {**state, "_ci_source": source}

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        _remember(self, state.get("_ci_source", _NO_SOURCE))


#: The source slot's descriptor: reads and writes it in C (the hot path decodes thousands of bodies a second), and
#: refuses any object but a ``CiModel`` (a plain pydantic model would take the name into its field values).
_SOURCE: Any = CiModel.__dict__["_ci_source"]
#: What ``_source_of`` returns for a model built in code (or any model but a decoded root).
_NO_SOURCE: Any = object()


def _source_of(model: BaseModel) -> Any:
    """The tree a root model was decoded from; ``_NO_SOURCE`` for a model built in code."""
    try:
        return _SOURCE.__get__(model)
    except (AttributeError, TypeError):  # unset, or not a CiModel
        return _NO_SOURCE


def _remember(model: CiModel, source: Any) -> None:
    if source is not _NO_SOURCE:
        _SOURCE.__set__(model, source)


def _as_list(value: Any) -> Any:
    """One element where a list is expected is a list of one; an empty element is an empty list."""
    if isinstance(value, list):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    return [value]


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


#: A repeated element (or a JSON array that collapses to a scalar when it has one item).
ListOf = Annotated[list[T], BeforeValidator(_as_list)]
#: Numbers arrive as strings ("100"); empty elements mean "not set".
CiInt = Annotated[int | None, BeforeValidator(_blank_is_none)]
CiFloat = Annotated[float | None, BeforeValidator(_blank_is_none)]
CiBool = Annotated[bool | None, BeforeValidator(_blank_is_none)]

_UNSET_TIMES = frozenset({"", "-", "--"})
_CHINA = timezone(timedelta(hours=8))


def parse_ci_time(value: Any) -> Any:
    """CI writes times as ``2022-06-27T15:23:10+0800``, ``…+08:00`` or ``2022-08-09 14:54:17+0800``; ``-`` is unset."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text in _UNSET_TIMES:
        return None
    if text[-1:] == "Z":
        text = text[:-1] + "+00:00"
    elif text[-5:-4] in ("+", "-") and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    return datetime.fromisoformat(text)  # raises ValueError -> a validation error naming the field


def format_ci_time(value: datetime | None) -> str | None:
    """The job API's own format; naive datetimes are taken as China time, as CI's are."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=_CHINA)
    return aware.strftime("%Y-%m-%dT%H:%M:%S%z")


CiTime = Annotated[
    datetime | None,
    BeforeValidator(parse_ci_time),
    PlainSerializer(format_ci_time, when_used="json"),
]


#: The bool spellings pydantic accepts, by value (a decoded ``CiBool`` keeps the one its source used).
_BOOL_TEXT = {
    True: frozenset({"true", "1", "yes", "on", "t", "y"}),
    False: frozenset({"false", "0", "no", "off", "f", "n"}),
}


def _spells(value: Any, source: Any) -> bool:
    """True when a source leaf (XML text, JSON scalar) is a spelling of ``value``, the leaf as the model dumps it."""
    if value == source:
        return True
    if isinstance(source, str):
        if value is True or value is False:
            return source.strip().lower() in _BOOL_TEXT[value]
        if isinstance(value, int | float):
            try:
                number = float(source)
            except ValueError:
                return False
            return number == value or (number != number and value != value)  # NaN is NaN
        if isinstance(value, str):  # a CiTime: the same moment, spelt another way
            try:
                return format_ci_time(parse_ci_time(source)) == value
            except (ValueError, TypeError, AttributeError):
                return False
        return False
    # A JSON number in a text field (``coerce_numbers_to_str``).
    return isinstance(source, int | float) and not isinstance(source, bool) and value == str(source)


def to_tree(model: BaseModel) -> dict[str, Any]:
    """The wire tree of a model: aliases, no ``None`` (never an empty element), CI's scalar formats.

    A decoded model gives back its source tree: the same elements in the same order and spelling, blanks and
    unknown elements included, nothing added; what the caller changed or set since is emitted as for a model
    built in code (``ciflow.codec._lossless``).
    """
    source = _source_of(model)
    if source is _NO_SOURCE:
        return model.model_dump(by_alias=True, exclude_none=True, mode="json")
    from ._lossless import reconcile  # loaded only by code that re-encodes a decoded body

    # ``full`` names every element the model can write (None included); ``changed`` only what was decoded or set.
    full = model.model_dump(by_alias=True, mode="json")
    changed = model.model_dump(by_alias=True, exclude_none=True, exclude_unset=True, mode="json")
    tree: dict[str, Any] = reconcile(full, changed, source if isinstance(source, dict) else {}, _spells)
    return tree


def to_xml(model: BaseModel, root: str = "Request") -> bytes:
    """Serialise a model as a CI/COS XML document under ``root``."""
    return tree_to_xml(root, to_tree(model))


def decode_tree(model_type: type[M], tree: Any) -> M:
    """Validate a decoded tree (from XML or JSON) into ``model_type``, as a typed DecodeError on mismatch.

    The model remembers ``tree`` (the root only: one reference, no work per nested model) for ``to_tree``.
    """
    try:
        model = model_type.model_validate(tree)
    except ValidationError as exc:
        raise DecodeError(f"body does not match {model_type.__name__}: {_summary(exc)}") from None
    _SOURCE.__set__(model, tree)  # inline, not ``_remember``: this runs once per decoded body
    return model


def from_xml(
    model_type: type[M],
    body: bytes | str,
    *,
    root: str | None = None,
    max_bytes: int = DEFAULT_MAX_XML_BYTES,
) -> M:
    """Parse an untrusted XML body into ``model_type``; ``root`` checks the document element's name."""
    element = parse_xml(body, max_bytes=max_bytes)
    name = local_name(element.tag)
    if root is not None and name != root:
        raise MalformedXmlError(f"expected a <{root}> document, got <{name}>")
    tree = element_to_tree(element)
    return decode_tree(model_type, {} if tree == "" else tree)


def _summary(exc: ValidationError, limit: int = 5) -> str:
    parts = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:limit]]
    more = exc.error_count() - limit
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")
