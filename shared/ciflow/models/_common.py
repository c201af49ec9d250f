"""The job envelope every CI job API shares: request root, input/output, callbacks, job detail, states, listing."""

import inspect
import json
import re
import typing
from collections.abc import Callable, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, Optional, Union

from pydantic import BaseModel, Discriminator, Field, Tag
from pydantic.fields import FieldInfo
from typing_extensions import TypeVar  # PEP 696 defaults: a bare ``JobDetail`` is ``JobDetail[Any]``

from ..codec import (
    DEFAULT_MAX_XML_BYTES,
    CiInt,
    CiModel,
    CiTime,
    ListOf,
    element_to_tree,
    parse_xml,
)
from ..errors import DecodeError

if TYPE_CHECKING:
    from ._jobs_query import JobsQuery

__all__ = [
    "JobState",
    "FINAL_STATES",
    "CallbackFormat",
    "CallbackType",
    "CosHeader",
    "JobInput",
    "JobOutput",
    "MqConfig",
    "JobRequest",
    "WorkflowRef",
    "JobDetail",
    "JobsResponse",
    "OTHER_TAG",
    "discriminate_by_tag",
    "job_detail_union",
    "JobsQuery",
    "load_callback_body",
]


class JobState(str, Enum):
    """Job states across CI's job APIs (media, file, document, picture and moderation)."""

    SUBMITTED = "Submitted"
    RUNNING = "Running"
    SUCCESS = "Success"
    FAILED = "Failed"
    PAUSE = "Pause"
    CANCEL = "Cancel"
    # Moderation jobs report their own intermediate states.
    SNAPSHOTING = "Snapshoting"
    AUDITING = "Auditing"


#: States after which a job never changes again.
FINAL_STATES = frozenset({JobState.SUCCESS, JobState.FAILED, JobState.CANCEL})


_FINAL_STATE_VALUES = frozenset(state.value for state in FINAL_STATES)


class CallbackFormat(str, Enum):
    XML = "XML"
    JSON = "JSON"


class CallbackType(str, Enum):
    URL = "Url"
    TDMQ = "TDMQ"


class CosHeader(CiModel):
    """A header of the input object, echoed by workflow-triggered jobs."""

    key: str | None = None
    value: str | None = None


class JobInput(CiModel):
    """``Input``: the request names an object; responses echo it with its bucket and region."""

    object: str | None = None
    region: str | None = None
    bucket_id: str | None = None
    bucket: str | None = None
    url: str | None = None
    cos_headers: ListOf[CosHeader] = Field(default_factory=list)


class JobOutput(CiModel):
    """``Output``: where results go; ``Object`` may use CI's ``${ext}``/``${jobid}``/``${number}`` wildcards."""

    region: str | None = None
    bucket: str | None = None
    object: str | None = None
    sprite_object: str | None = None
    au_object: str | None = None


class MqConfig(CiModel):
    """``CallBackMqConfig``: deliver the job's result to TDMQ instead of a URL."""

    mq_region: str
    mq_name: str
    mq_mode: str = "Queue"


class _Specialised(CiModel):
    """Base of the generic job models: ``JobDetail[Op]`` is made as the plain subclass it describes.

    pydantic's own parametrisation builds the generic model's schema on first use whatever
    ``defer_build`` says (loading its plugin machinery: ~25 ms of import) and re-creates every inherited
    field (three times the cost of a subclass). Here ``Model[X]`` is a subclass of the bare model whose
    type-variable fields are redeclared with ``X`` substituted: deferred like every model, cached (the
    same class each time), ``isinstance`` of the bare model, named ``Model[X]``. Arguments that hold type
    variables, and tuples, go to pydantic.
    """

    def __class_getitem__(cls, typevar_values: Any) -> Any:
        parameters = cls.__pydantic_generic_metadata__["parameters"]
        if len(parameters) != 1 or isinstance(typevar_values, tuple) or _holds_typevar(typevar_values):
            return super().__class_getitem__(typevar_values)
        key = (id(cls), id(typevar_values))
        found = _SPECIALISED.get(key)
        if found is None:
            # The class and argument are kept with the model, so their ids stay theirs.
            found = _SPECIALISED[key] = (cls, typevar_values, _specialise(cls, parameters[0], typevar_values))
        return found[2]


#: (id of the generic model, id of the argument) -> (model, argument, specialised model).
_SPECIALISED: dict[tuple[int, int], tuple[type[BaseModel], Any, type[BaseModel]]] = {}


def _holds_typevar(value: Any) -> bool:
    return isinstance(value, typing.TypeVar) or any(_holds_typevar(arg) for arg in typing.get_args(value))


def _type_name(value: Any) -> str:
    return _union_name(value) or getattr(value, "__name__", None) or repr(value)


def _specialise(origin: type[BaseModel], typevar: Any, argument: Any) -> type[BaseModel]:
    """``origin`` with each field annotated by ``typevar`` redeclared with ``argument`` in its place."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    for name, annotation, field in _parameter_fields(origin):
        annotations[name] = argument if annotation is typevar else annotation[argument]
        if field.default_factory is not None:
            namespace[name] = Field(default_factory=field.default_factory)
        elif not field.is_required():
            namespace[name] = field.default
    title = f"{origin.__name__}[{_type_name(argument)}]"
    namespace.update(__module__=origin.__module__, __qualname__=title, __doc__=origin.__doc__)
    namespace["__annotations__"] = annotations
    metaclass: Any = type(origin)
    model: type[BaseModel] = metaclass(title, (origin,), namespace)
    return model


_PARAMETER_FIELDS: dict[type[BaseModel], list[tuple[str, Any, FieldInfo]]] = {}


def _parameter_fields(origin: type[BaseModel]) -> list[tuple[str, Any, FieldInfo]]:
    """(name, annotation, field) of each field a generic model types by its parameter, found once."""
    found = _PARAMETER_FIELDS.get(origin)
    if found is None:
        found = _PARAMETER_FIELDS[origin] = [
            (name, annotation, origin.__pydantic_fields__[name])
            for name, annotation in inspect.get_annotations(origin).items()
            if _holds_typevar(annotation)
        ]
    return found


#: The ``Input`` of a job request: required (``JobInput``) except for FileCompress (``JobInput | None``).
InputT = TypeVar("InputT", bound=JobInput | None, default=JobInput, covariant=True)


class JobRequest(_Specialised, Generic[InputT]):
    """The ``<Request>`` root shared by ``/jobs``, ``/file_jobs``, ``/doc_jobs`` and ``/pic_jobs``.

    Subclasses pin ``tag`` and type ``operation``. ``Input`` is required; the one job without it
    (FileCompress) subclasses ``JobRequest[JobInput | None]``, which every ``JobRequest`` is (covariant).
    """

    tag: str
    input: InputT
    operation: CiModel | None = None
    queue_id: str | None = None
    callback_format: CallbackFormat | None = Field(default=None, alias="CallBackFormat")
    callback_type: CallbackType | None = Field(default=None, alias="CallBackType")
    callback: str | None = Field(default=None, alias="CallBack")
    callback_mq_config: MqConfig | None = Field(default=None, alias="CallBackMqConfig")


class WorkflowRef(CiModel):
    """``Workflow``: present on jobs a workflow started."""

    name: str | None = None
    run_id: str | None = None
    workflow_id: str | None = None
    workflow_name: str | None = None


#: The ``Operation`` model of a job detail; ``Any`` (kept as parsed) when the tag has no typed model.
OpT = TypeVar("OpT", default=Any)


class JobDetail(_Specialised, Generic[OpT]):
    """``JobsDetail`` of any job: submit and describe responses, list items and callbacks.

    ``JobDetail[TranscodeOperation]`` types ``operation`` for one tag (each family names its
    parametrisations: ``TranscodeJobDetail``…); a bare ``JobDetail`` parses any tag with ``operation``
    kept raw.
    """

    code: str | None = None
    message: str | None = None
    job_id: str | None = None
    tag: str | None = None
    sub_tag: str | None = None
    state: str | None = None
    progress: CiInt = None
    creation_time: CiTime = None
    start_time: CiTime = None
    end_time: CiTime = None
    queue_id: str | None = None
    input: JobInput | None = None
    operation: Optional[OpT] = None  # noqa: UP045 (a typing.Union: subscriptable, unlike "X | None")
    workflow: WorkflowRef | None = None

    @property
    def finished(self) -> bool:
        """True once the job is in a final state (Success, Failed or Cancel)."""
        return self.state in _FINAL_STATE_VALUES

    @property
    def succeeded(self) -> bool:
        return self.state == JobState.SUCCESS.value


#: The job detail model of a jobs response: one ``JobDetail[Op]`` or a family's tag-discriminated union.
DetailT = TypeVar("DetailT", bound=JobDetail, default=JobDetail)


class JobsResponse(_Specialised, Generic[DetailT]):
    """``<Response>`` of submit, describe and list calls: the jobs plus paging and missing ids.

    ``JobsResponse[DocJobDetail]`` types the details; a bare ``JobsResponse`` parses any job as ``JobDetail``.
    """

    jobs_detail: ListOf[DetailT] = Field(default_factory=list)
    next_token: str | None = None
    non_exist_job_ids: ListOf[str] = Field(default_factory=list)
    request_id: str | None = None


#: The discriminator value for job details whose tag has no typed model (parsed as plain JobDetail).
OTHER_TAG = "other"


def discriminate_by_tag(known: frozenset[str]) -> Callable[[Any], str]:
    """A pydantic callable discriminator: the job's ``Tag`` if it has a typed model, else ``OTHER_TAG``.

    Lets a union of tag-specific details parse any tag: unknown ones fall back to ``JobDetail``.
    """

    def discriminate(value: Any) -> str:
        tag = value.get("Tag", value.get("tag")) if isinstance(value, dict) else getattr(value, "tag", None)
        # A Tag that is not text (an object, a list) is no known tag; the detail model then refuses it.
        return tag if isinstance(tag, str) and tag in known else OTHER_TAG

    return discriminate


class _UnionName:
    """Metadata naming a tag union (``MediaJobDetail``) where it would otherwise be spelt out member by member."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def _union_name(annotation: Any) -> str | None:
    return next((m.name for m in getattr(annotation, "__metadata__", ()) if isinstance(m, _UnionName)), None)


def job_detail_union(details: Mapping[str, type[JobDetail]], name: str = "JobDetailUnion") -> Any:
    """The discriminated union of ``{tag: detail model}``: each tag parses as its model, any other as ``JobDetail``.

    Use it as a field's type (``ListOf[union]``) or a ``JobsResponse`` parameter; for type checkers declare
    the alias as ``JobDetail``. ``name`` is how the union shows in a parametrised model's name.
    """
    members = tuple(Annotated[model, Tag(tag)] for tag, model in details.items())
    members += (Annotated[JobDetail, Tag(OTHER_TAG)],)
    # Union over a runtime tuple: "X | Y" cannot spell a union of computed members.
    discriminator = Discriminator(discriminate_by_tag(frozenset(details)))
    return Annotated[Union[members], discriminator, _UnionName(name)]  # noqa: UP007


# The job listing query (``_jobs_query``) loads on first use: a callback never lists jobs.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        if name == "JobsQuery":
            from ._jobs_query import JobsQuery

            globals()[name] = JobsQuery  # later lookups skip this function
            return JobsQuery
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------------------------------
# Callback bodies
# --------------------------------------------------------------------------------------------------


def load_callback_body(
    body: bytes | str, *, xml: bool | None = None, max_bytes: int = DEFAULT_MAX_XML_BYTES
) -> tuple[Any, Literal["xml", "json"]]:
    """The decoded tree of an untrusted callback body and its format, XML or JSON.

    ``xml`` says which it is (from the content type); ``None`` sniffs the first character. An empty XML
    document is an empty tree (``{}``).
    """
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body  # lone surrogates: refused below
    if len(data) > max_bytes:
        raise DecodeError(f"callback body of {len(data)} bytes is over the {max_bytes}-byte limit")
    if xml if xml is not None else data.lstrip()[:1] == b"<":
        tree = element_to_tree(parse_xml(data, max_bytes=max_bytes))
        return (tree if tree != "" else {}), "xml"
    try:
        # Strict decoding: bytes that are not text (surrogates smuggled as bytes included) are refused.
        text = data.decode(json.detect_encoding(data))
        tree = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"callback body is not JSON: {type(exc).__name__}") from None
    if _SURROGATE_ESCAPE.search(text) and not _storable(tree):
        raise DecodeError("callback body holds a lone surrogate escape (\\ud800-\\udfff): it is not text")
    return tree, "json"


#: A JSON escape of a UTF-16 surrogate: valid only as half of a pair, so the decoded tree needs a look.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _storable(tree: Any) -> bool:
    """True when every string of the tree is valid Unicode (no lone surrogate), so any store can keep it."""
    try:
        json.dumps(tree, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        return False
    return True
