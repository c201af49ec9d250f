"""What a concern plans for one upload: named steps, each an operation carrying its result delivery."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..client import Operation
from ..events import ObjectRef
from ..models import CallbackFormat, CallbackType, JobOutput, JobRequest, MqConfig
from ._settings import UploadSettings

__all__ = ["Delivery", "PlannedJob", "Planner", "with_delivery", "output_for", "output_key"]

R = TypeVar("R", bound=JobRequest)
S = TypeVar("S", bound=UploadSettings)


@dataclass(frozen=True)
class Delivery:
    """How one step's result comes back: its signed UserData and the callback settings (``callback_type`` is
    ``Url``, ``TDMQ`` or ``Queue``: no per-job callback)."""

    user_data: str
    callback_url: str | None
    callback_format: str
    callback_type: str
    mq_config: MqConfig | None
    queue_id: str | None


@dataclass(frozen=True)
class PlannedJob:
    """One step of the work for an upload. ``step`` is stable across redeliveries (``transcode-720p``), so a
    retry submits only the steps the ledger does not have yet."""

    step: str
    operation: Operation[Any]


#: ``plan(object, settings, delivery_for_step) -> steps``: the only code a concern writes.
Planner = Callable[[ObjectRef, S, Callable[[str], Delivery]], list[PlannedJob]]


def with_delivery(request: R, delivery: Delivery) -> R:
    """The job request with its callback, queue and UserData set (a copy; the planner's request is unchanged).

    A ``Queue`` delivery sets no callback field at all: the CI queue's own NotifyConfig reports the job.
    """
    per_job = delivery.callback_type != "Queue"
    update: dict[str, Any] = {
        "callback": delivery.callback_url if delivery.callback_type == "Url" else None,
        # model_copy does not validate: give the enum fields their enum values.
        "callback_format": CallbackFormat(delivery.callback_format) if per_job else None,
        "callback_type": CallbackType(delivery.callback_type) if per_job else None,
        "callback_mq_config": delivery.mq_config if delivery.callback_type == "TDMQ" else None,
    }
    if delivery.queue_id and request.queue_id is None:
        update["queue_id"] = delivery.queue_id
    if request.operation is not None and "user_data" in type(request.operation).model_fields:
        update["operation"] = request.operation.model_copy(update={"user_data": delivery.user_data})
    return request.model_copy(update=update)


def output_key(settings: UploadSettings, concern: str, ref: ObjectRef, name: str) -> str:
    """``<output prefix><concern>/<input key without extension>/<name>``; ``name`` may use CI wildcards."""
    stem = ref.key.rsplit(".", 1)[0] if "." in ref.key.rsplit("/", 1)[-1] else ref.key
    return f"{settings.output_prefix}{concern}/{stem}/{name}"


def output_for(settings: UploadSettings, concern: str, ref: ObjectRef, name: str) -> JobOutput:
    """The ``Output`` element for a result written under the output prefix."""
    return JobOutput(
        region=settings.destination_region,
        bucket=settings.destination_bucket,
        object=output_key(settings, concern, ref, name),
    )
