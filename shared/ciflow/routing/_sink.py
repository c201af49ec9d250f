"""The sink contract: deliver one normalised result somewhere durable, or say why not (and whether to retry)."""

from typing import Protocol

from ..client import Deadline
from ..errors import CiflowError
from ..results import JobResult

__all__ = ["Sink", "DeliveryError"]


class DeliveryError(CiflowError):
    """A sink could not deliver a result; ``transient`` says whether trying again later may work."""

    def __init__(self, sink: str, message: str, *, transient: bool) -> None:
        self.sink = sink
        self.transient = transient
        super().__init__(f"{sink}: {message}")


class Sink(Protocol):
    """Every destination (TDMQ CMQ, RabbitMQ, webhook, local queue, dead letter) behaves the same.

    ``deliver`` returns only once the result is durably accepted (confirmed, acknowledged, committed);
    it retries within ``deadline`` where the destination allows and raises ``DeliveryError`` otherwise.
    """

    name: str

    def deliver(self, result: JobResult, *, deadline: Deadline | None = None) -> None: ...
