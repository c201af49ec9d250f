"""SCF's dead-letter messages: an asynchronous event whose retries were spent, as SCF puts it in a CMQ queue.

The shape is Tencent's "Dead Letter Queue" page (SCF, document 583/39704): ``RequestId``, ``ErrorCode``,
``ErrorMessage`` and ``Body``, where ``Body`` names the function (``FunctionName``, ``Namespace``,
``Qualifier``), the retries made (``RetryNum``) and carries the original event as a JSON string in
``ClientContext``.
"""

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_pascal

from ._errors import EventError

__all__ = ["ScfDeadLetter", "ScfDeadLetterBody", "parse_scf_dead_letter"]

#: A dead-letter message is a CMQ message: at most 64 KB (a queue's MaxMsgSize); beyond it is not SCF's.
_MAX_MESSAGE_CHARS = 1 << 20


class ScfDeadLetterBody(BaseModel):
    """The invocation that failed: which function, how often it was retried, and its event."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="allow", defer_build=True)

    function_name: str = Field(min_length=1)
    namespace: str = "default"
    qualifier: str = ""
    request_source: str = ""
    request_id: str = ""
    retry_num: int = 0
    client_context: dict[str, Any]

    @field_validator("client_context", mode="before")
    @classmethod
    def _event_json(cls, value: object) -> object:
        """SCF keeps the event as a JSON string; a decoded object is taken as it is."""
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as exc:
                raise ValueError(f"ClientContext is not JSON: {exc}") from None
        return value


class ScfDeadLetter(BaseModel):
    """One message of a function's dead-letter queue."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="allow", defer_build=True)

    request_id: str = ""
    error_code: int = 0
    error_message: str = ""
    body: ScfDeadLetterBody

    @property
    def event(self) -> dict[str, Any]:
        """The event the function was invoked with."""
        return self.body.client_context

    @property
    def error_summary(self) -> str:
        """The error's last line (a traceback's exception), short enough for a reason."""
        lines = [line.strip() for line in self.error_message.splitlines() if line.strip()]
        return (lines[-1] if lines else f"error code {self.error_code}")[:300]


def parse_scf_dead_letter(text: str) -> ScfDeadLetter:
    """Read one dead-letter message; ``EventError`` for anything that is not one."""
    if len(text) > _MAX_MESSAGE_CHARS:
        raise EventError(f"a dead-letter message of {len(text)} characters is not SCF's")
    try:
        return ScfDeadLetter.model_validate_json(text)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'message'}: {e['msg']}" for e in exc.errors()[:3])
        raise EventError(f"not an SCF dead-letter message: {problems}") from None
