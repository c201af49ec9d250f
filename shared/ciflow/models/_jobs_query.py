"""The query of CI's job listings (``GET /jobs``, ``/doc_jobs``, ``/pic_jobs``): typed fields, camelCase parameters."""

from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from typing_extensions import TypeVar

from ..codec import CiTime, format_ci_time

__all__ = ["JobsQuery"]


def _state_names(value: Any) -> Any:
    # "Success,Failed", JobState.SUCCESS and [JobState.SUCCESS, "Failed"] all mean a list of names.
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Enum):
        return [value.value]
    if isinstance(value, Sequence):
        return [item.value if isinstance(item, Enum) else item for item in value]
    return value


_Query = TypeVar("_Query", bound="JobsQuery")


class JobsQuery(BaseModel):
    """Query parameters of CI's job listings (DescribeMediaJobs, DescribeDocProcessJobs, DescribePicJobs).

    snake_case here, the docs' camelCase on the wire (``to_params()``); ``states`` is ``All`` (the API's
    default) or job states; times are sent in CI's ``2001-01-01T00:00:00+0800`` format. Families whose
    tag is fixed subclass this with a default ``tag``.
    """

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, defer_build=True
    )

    queue_id: str | None = None  # required by the 2024 docs; newer job docs treat queues as optional
    tag: str
    workflow_id: str | None = None
    inventory_trigger_job_id: str | None = None
    input_object: str | None = None  # exact match on the input key
    order_by_time: Literal["Desc", "Asc"] | None = None
    next_token: str | None = None
    size: int | None = Field(default=None, ge=1, le=100)
    states: list[str] | None = None  # All, Submitted, Running, Success, Failed, Pause, Cancel
    start_creation_time: CiTime = None
    end_creation_time: CiTime = None

    @field_validator("states", mode="before")
    @classmethod
    def _normalise_states(cls, value: Any) -> Any:
        return _state_names(value)

    def to_params(self) -> dict[str, str]:
        """The query string parameters, camelCase as documented, unset ones omitted."""
        params: dict[str, str] = {}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if value is None:
                continue
            key = field.alias or name
            if isinstance(value, datetime):
                params[key] = format_ci_time(value) or ""
            elif isinstance(value, list):
                params[key] = ",".join(value)
            else:
                params[key] = str(value)
        return params

    def next_page(self: _Query, next_token: str) -> _Query:
        """The same query for the page after the one whose response carried ``next_token``."""
        return self.model_copy(update={"next_token": next_token})
