"""What the job engine and the synchronous ci-processes answer, as plain data; the HTTP layer makes responses.

``Answer`` is a body to send (status, media type, headers, bytes); ``Refusal`` is one of CI's errors (status,
``Code``, ``Message`` and, when it is not the request's own, the ``Resource``). ``_app.answer_response`` turns
either into the Starlette response the COS host sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ciflow.codec import CiModel, to_xml

__all__ = ["Answer", "Refusal", "CiAnswer", "xml_answer"]


@dataclass(frozen=True)
class Answer:
    """A successful answer: ``body`` as ``media_type`` with ``status`` and extra ``headers``."""

    body: bytes
    media_type: str
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refusal:
    """A CI error answer: ``<Error><Code>code</Code><Message>message</Message><Resource>…``."""

    status: int
    code: str
    message: str
    resource: str | None = None


CiAnswer = Answer | Refusal


def xml_answer(model: CiModel, root: str) -> Answer:
    """``model`` as the XML document ``<root>…</root>``."""
    return Answer(to_xml(model, root), "application/xml")
