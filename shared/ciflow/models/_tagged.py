"""Job tags as tables: where each tag's detail model lives; families whose request and details come from one table."""

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, TypeAlias

from pydantic import TypeAdapter, ValidationInfo, ValidatorFunctionWrapHandler, model_validator
from pydantic.functional_validators import WrapValidator

from ..codec import CiModel
from ._common import InputT, JobDetail, JobRequest, _UnionName

__all__ = [
    "DETAIL_MODELS",
    "JOB_TAGS",
    "TaggedJobDetail",
    "TaggedOperation",
    "TaggedJobRequest",
    "detail_model",
    "detail_table",
    "family_of_tag",
    "tagged_job_detail",
    "operation_table",
]


#: Where the typed detail model of each job tag lives: ``"family:Name"`` is ``ciflow.models.<family>.<Name>``;
#: ``"family:"`` is the tag's entry in that module's ``DETAILS`` table (families built from one operation table,
#: ``models._tagged``). Any other tag parses as a plain ``JobDetail``.
DETAIL_MODELS: dict[str, str] = {
    "Transcode": "media:TranscodeJobDetail",
    "Snapshot": "media:SnapshotJobDetail",
    "SmartCover": "media:SmartCoverJobDetail",
    "Animation": "media:AnimationJobDetail",
    "VideoEnhance": "media:VideoEnhanceJobDetail",
    "QualityEstimate": "media:QualityEstimateJobDetail",
    "SuperResolution": "media:SuperResolutionJobDetail",
    "FileHashCode": "files:FileHashCodeJobDetail",
    "FileUncompress": "files:FileUncompressJobDetail",
    "FileCompress": "files:FileCompressJobDetail",
    "DocProcess": "documents:DocJobDetail",
    "PicProcess": "pictures:PicJobDetail",
    "Concat": "editing:",
    "VideoMontage": "editing:",
    "Segment": "editing:",
    "StreamExtract": "editing:",
    "SDRtoHDR": "editing:",
    "VideoProcess": "editing:",
    "MediaInfo": "editing:",
    "VoiceSeparate": "audio:",
    "NoiseReduction": "audio:",
    "Tts": "audio:",
    "DigitalWatermark": "audio:",
    "ExtractDigitalWatermark": "audio:",
    "VideoTag": "intelligence:",
    "SegmentVideoBody": "intelligence:",
    "SpeechRecognition": "intelligence:",
    "Translation": "intelligence:",
    "WordsGeneralize": "intelligence:",
}
#: Every job tag with a typed detail model.
JOB_TAGS = frozenset(DETAIL_MODELS)

_DETAIL_MODEL_CACHE: dict[str, type[JobDetail]] = {}
#: Validators of the typed detail models, by tag: a ``TypeAdapter`` leaves the model itself deferred (unbuilt).
_DETAIL_ADAPTERS: dict[str, TypeAdapter[JobDetail]] = {}
#: Their core validators' ``validate_python`` once built, called as the adapter calls it, without its wrapper's frame.
_DETAIL_VALIDATORS: dict[str, Callable[..., Any]] = {}


def family_of_tag(tag: str | None) -> str | None:
    """The model family (``media``, ``files``, ``documents``, ``pictures``) of a job tag; None if unmodelled."""
    spec = DETAIL_MODELS.get(tag) if isinstance(tag, str) else None
    return spec.partition(":")[0] if spec is not None else None


def detail_model(tag: str | None) -> type[JobDetail]:
    """The typed detail model of a job tag (its family module imported on first use); ``JobDetail`` otherwise."""
    if not isinstance(tag, str):
        return JobDetail
    model = _DETAIL_MODEL_CACHE.get(tag)
    if model is None:
        spec = DETAIL_MODELS.get(tag)
        if spec is None:
            return JobDetail
        family, _, name = spec.partition(":")
        module = importlib.import_module(f"{__package__}.{family}")
        model = _DETAIL_MODEL_CACHE[tag] = getattr(module, name) if name else module.DETAILS[tag]
    return model


def _decode_by_tag(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """One ``JobsDetail`` entry, validated by its tag's model: as the tag-discriminated union did, lazily."""
    if isinstance(value, dict):  # ``Tag`` as decoded (``tag`` looked up only without it: as ``get``'s default)
        tag = value["Tag"] if "Tag" in value else value.get("tag")
    else:
        tag = getattr(value, "tag", None)
    # A Tag that is not text (an object, a list) is no known tag; the plain model then refuses it.
    if not isinstance(tag, str) or tag not in DETAIL_MODELS:
        return handler(value)
    validate = _DETAIL_VALIDATORS.get(tag)
    if validate is not None:
        return validate(value, context=info.context)
    adapter = _DETAIL_ADAPTERS.get(tag)
    if adapter is None:
        adapter = _DETAIL_ADAPTERS[tag] = TypeAdapter(detail_model(tag))
    detail = adapter.validate_python(value, context=info.context)  # builds the validator on first use
    if adapter.pydantic_complete:
        _DETAIL_VALIDATORS[tag] = adapter.validator.validate_python
    return detail


def tagged_job_detail(name: str = "TaggedJobDetail") -> Any:
    """A job detail typed by its ``Tag`` (its family loaded on first use; plain ``JobDetail`` for other tags).

    Dumped by ``JobDetail``'s fields, the same as every tag's model has; the ``Operation`` by its own model.
    ``name`` is how it shows in a parametrised model's name (``JobsResponse[MediaJobDetail]``).
    """
    return Annotated[JobDetail, WrapValidator(_decode_by_tag), _UnionName(name)]


if TYPE_CHECKING:
    TaggedJobDetail: TypeAlias = JobDetail
else:
    TaggedJobDetail = tagged_job_detail()


class TaggedOperation(CiModel):
    """Mixin of an ``Operation`` model that belongs to one job tag (``TAG``), so tables and requests need no copies."""

    TAG: ClassVar[str]


def operation_table(*operations: type[TaggedOperation]) -> dict[str, type[TaggedOperation]]:
    """``{tag: Operation model}`` of a family, each model under the tag it names; a tag named twice is an error."""
    table: dict[str, type[TaggedOperation]] = {}
    for operation in operations:
        if operation.TAG in table:
            raise ValueError(f"job tag {operation.TAG!r} has two Operation models")
        table[operation.TAG] = operation
    return table


def detail_table(operations: Mapping[str, type[CiModel]]) -> dict[str, type[JobDetail]]:
    """``{tag: JobDetail[Operation]}``: the typed job detail of every tag of a family's table."""
    # ``JobDetail[operation]`` spelt as the call it is: type checkers refuse a variable inside [].
    return {tag: JobDetail.__class_getitem__(operation) for tag, operation in operations.items()}


def _tag_names(tags: Iterable[str]) -> str:
    return ", ".join(sorted(tags))


class TaggedJobRequest(JobRequest[InputT], Generic[InputT]):
    """A ``POST /jobs`` body of any tag of a family: ``OPERATIONS`` (the family's table) types ``Operation`` by ``Tag``.

    Built in code, ``Tag`` comes from the operation (``ConcatOperation`` -> ``Concat``); decoded, ``Tag`` picks the
    operation's model. A tag outside the family, or an operation of another tag, is refused. Subclasses set
    ``OPERATIONS`` and annotate ``operation`` with the union of the table's models; a family some of whose jobs
    take no ``Input`` (Concat, Tts) subclasses ``TaggedJobRequest[JobInput | None]``.
    """

    OPERATIONS: ClassVar[Mapping[str, type[CiModel]]] = {}

    tag: str = ""
    input: InputT  # redeclared so ``TaggedJobRequest[X]`` retypes it (specialisation reads own annotations)

    @model_validator(mode="before")
    @classmethod
    def _operation_of_tag(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        operation_key = "Operation" if "Operation" in data else "operation"
        tag_key = "Tag" if "Tag" in data else "tag"
        operation = data.get(operation_key)
        tag = data.get(tag_key) or getattr(type(operation), "TAG", None)
        model = cls.OPERATIONS.get(tag) if isinstance(tag, str) else None
        if model is None:
            raise ValueError(f"{cls.__name__} takes the tags {_tag_names(cls.OPERATIONS)}, not {tag!r}")
        if isinstance(operation, CiModel) and not isinstance(operation, model):
            raise ValueError(f"a {tag} job takes a {model.__name__}, not a {type(operation).__name__}")
        if operation is not None and not isinstance(operation, CiModel):
            operation = model.model_validate(operation)
        return {**data, tag_key: tag, operation_key: operation} if operation is not None else {**data, tag_key: tag}
