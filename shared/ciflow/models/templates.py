"""Typed CI templates (``/template``): one table, Tag -> parameter element and model, drives requests and answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, TypeAlias, Union

from pydantic import Discriminator, Field, Tag

from ciflow.codec import CiBool, CiInt, CiModel, CiTime, ListOf

from ._common import OTHER_TAG, discriminate_by_tag
from .audio import TtsTpl, VoiceSeparate
from .editing import ConcatTemplate, VideoMontage, VideoProcess
from .media import (
    Animation,
    SmartCover,
    Snapshot,
    SuperResolution,
    Transcode,
    Video,
    Watermark,
)

__all__ = [
    "TemplateKind",
    "TEMPLATE_KINDS",
    "TEMPLATE_TAGS",
    "TranscodeProVideo",
    "TranscodePro",
    "TemplateRequest",
    "TemplateBody",
    "Template",
    "TemplateResponse",
    "TemplatesResponse",
    "DeleteTemplateResponse",
    "NonExistTemplates",
    "template_request",
    "template_request_model",
    "template_model",
]


class TranscodeProVideo(Video):
    """``TransProTpl.Video``: professional transcoding adds interlacing (ProRes, DNxHD …)."""

    interlaced: CiBool = None


class TranscodePro(Transcode):
    """``TransProTpl``: the professional transcoding template's parameters."""

    video: TranscodeProVideo | None = None  # a Video with Interlaced


class TemplateKind(NamedTuple):
    """A template Tag: the element its answers hold the parameters in, their model, and whether requests list the
    parameters at the top level of ``<Request>`` (``inline``) or inside that element."""

    container: str
    params: type[CiModel]
    inline: bool


#: Every template Tag of the CI docs (create/update/describe), as the official SDKs spell the containers.
TEMPLATE_KINDS: dict[str, TemplateKind] = {
    "Transcode": TemplateKind("TransTpl", Transcode, True),
    "Animation": TemplateKind("TransTpl", Animation, True),
    "HighSpeedHd": TemplateKind("HighSpeedHd", Transcode, True),
    "TranscodePro": TemplateKind("TransProTpl", TranscodePro, True),
    "Snapshot": TemplateKind("Snapshot", Snapshot, False),
    "SmartCover": TemplateKind("SmartCover", SmartCover, False),
    "Watermark": TemplateKind("Watermark", Watermark, False),
    "SuperResolution": TemplateKind("SuperResolution", SuperResolution, True),
    "VideoProcess": TemplateKind("VideoProcess", VideoProcess, True),
    "Concat": TemplateKind("ConcatTemplate", ConcatTemplate, False),
    "VideoMontage": TemplateKind("VideoMontage", VideoMontage, True),
    "VoiceSeparate": TemplateKind("VoiceSeparate", VoiceSeparate, True),
    "Tts": TemplateKind("TtsTpl", TtsTpl, True),
}
TEMPLATE_TAGS = frozenset(TEMPLATE_KINDS)


class TemplateRequest(CiModel):
    """``POST /template`` and ``PUT /template/<id>`` bodies: ``Tag``, ``Name`` and the tag's parameters.

    Build one with ``template_request(tag, name, params)``; ``template_request_model(tag)`` is the typed model
    of a tag (parameters at the top level or under the tag's element, as its docs show).
    """

    tag: str
    name: str
    template_id: str | None = None  # the update docs' samples repeat it in the body


class TemplateBody(CiModel):
    """Fields every template answer has (``Template``, ``TemplateList`` items)."""

    tag: str | None = None
    name: str | None = None
    template_id: str | None = None
    bucket_id: str | None = None
    category: str | None = None  # Custom | Official
    create_time: CiTime = None
    update_time: CiTime = None

    @property
    def parameters(self) -> CiModel | None:
        """The template's parameters, typed by its Tag (``None`` for a Tag this module does not know)."""
        kind = TEMPLATE_KINDS.get(self.tag or "")
        if kind is None:
            return None
        found: Any = getattr(self, _field_name(kind.container), None)
        return found if isinstance(found, CiModel) else None


def _field_name(element: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in element).lstrip("_")


def _build(base: type[CiModel], tag: str, kind: TemplateKind, *, answer: bool) -> type[CiModel]:
    """``base`` for one Tag: the parameters under their element (always, in answers), and at the top level
    for inline Tags (requests send them so; some update answers echo them so)."""
    # The parameters' model second in the bases, so the wire order is Tag, Name, … then the parameters.
    bases: tuple[type[CiModel], ...] = (kind.params, base) if kind.inline else (base,)
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": __name__, "__doc__": f"{base.__name__} of a {tag} template."}
    if answer or not kind.inline:
        annotations[_field_name(kind.container)] = kind.params | None
        namespace[_field_name(kind.container)] = Field(default=None, alias=kind.container)
    if not answer:
        annotations["tag"] = str
        namespace["tag"] = tag
    namespace["__annotations__"] = annotations
    name = f"{tag}Template" if answer else f"{tag}TemplateRequest"
    namespace["__qualname__"] = name
    model: type[CiModel] = type(name, bases, namespace)
    return model


_REQUESTS: dict[str, type[CiModel]] = {
    tag: _build(TemplateRequest, tag, kind, answer=False) for tag, kind in TEMPLATE_KINDS.items()
}
_ANSWERS: dict[str, type[CiModel]] = {
    tag: _build(TemplateBody, tag, kind, answer=True) for tag, kind in TEMPLATE_KINDS.items()
}


def template_request_model(tag: str) -> type[CiModel]:
    """The typed request model of a template Tag; ``KeyError`` for a Tag CI has no templates of."""
    return _REQUESTS[tag]


def template_model(tag: str) -> type[CiModel]:
    """The typed answer model (``Template``) of a template Tag."""
    return _ANSWERS[tag]


def template_request(tag: str, name: str, params: CiModel | dict[str, Any], template_id: str | None = None) -> CiModel:
    """A create/update body for ``tag``: ``params`` (the tag's parameter model, or its wire tree) placed as CI wants."""
    kind = TEMPLATE_KINDS[tag]
    tree = params.model_dump(by_alias=True, exclude_none=True) if isinstance(params, CiModel) else dict(params)
    body: dict[str, Any] = {"Tag": tag, "Name": name, **(tree if kind.inline else {kind.container: tree})}
    if template_id is not None:
        body["TemplateId"] = template_id
    return _REQUESTS[tag].model_validate(body)


_MEMBERS = (*(Annotated[m, Tag(t)] for t, m in _ANSWERS.items()), Annotated[TemplateBody, Tag(OTHER_TAG)])
_MEMBERS = tuple(Annotated[m, Tag(t)] for t, m in _ANSWERS.items()) + (Annotated[TemplateBody, Tag(OTHER_TAG)],)  # noqa: RUF005
if TYPE_CHECKING:
    Template: TypeAlias = TemplateBody
else:
    #: ``Template`` / ``TemplateList`` item: each Tag parses as its typed model, any other as ``TemplateBody``
    #: (discriminated by ``Tag`` as job details are).
    Template = Annotated[
        Union[_MEMBERS],  # noqa: UP007 (a union over a computed tuple)
        Discriminator(discriminate_by_tag(TEMPLATE_TAGS)),
    ]


class TemplateResponse(CiModel):
    """``<Response>`` of create and update: the template as stored."""

    request_id: str | None = None
    template: Template | None = None


class NonExistTemplates(CiModel):
    """``NonExistTIDs``: ids given to the describe call that name no template."""

    template_id: ListOf[str] = Field(default_factory=list)


class TemplatesResponse(CiModel):
    """``<Response>`` of ``GET /template`` (DescribeMediaTemplates): a page of templates."""

    request_id: str | None = None
    total_count: CiInt = None
    page_number: CiInt = None
    page_size: CiInt = None
    template_list: ListOf[Template] = Field(default_factory=list)
    non_exist_t_i_ds: NonExistTemplates | None = Field(default=None, alias="NonExistTIDs")


class DeleteTemplateResponse(CiModel):
    """``<Response>`` of ``DELETE /template/<id>``."""

    request_id: str | None = None
    template_id: str | None = None
