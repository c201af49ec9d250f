"""Result delivery for moderation requests: UserData rides in ``Input.DataId``, the URL in ``Conf.Callback``."""

from typing import Any, TypeVar

from ..handlers import Delivery
from ..models.moderation import ModerationConf, ModerationInput, ModerationRequest

__all__ = ["MAX_DATA_ID_BYTES", "with_moderation_delivery"]

M = TypeVar("M", bound=ModerationRequest)

#: CI echoes ``DataId`` back in results and callbacks, up to this many bytes.
MAX_DATA_ID_BYTES = 512


def with_moderation_delivery(request: M, delivery: Delivery) -> M:
    """The request with the step's UserData as every input's ``DataId`` and the callback URL in ``Conf``.

    Moderation has no TDMQ delivery and no job ``UserData``: with a TDMQ delivery no ``Callback`` is set
    (results are then read with ``query_moderation``). A copy; the planner's request is unchanged.
    """
    if len(delivery.user_data.encode()) > MAX_DATA_ID_BYTES:
        raise ValueError(f"UserData is over the {MAX_DATA_ID_BYTES}-byte DataId limit of moderation requests")
    update: dict[str, Any] = {}
    inputs: Any = getattr(request, "input", None)
    if isinstance(inputs, list):
        update["input"] = [_tagged(item, delivery) for item in inputs]
    elif isinstance(inputs, ModerationInput):
        update["input"] = _tagged(inputs, delivery)
    conf: Any = getattr(request, "conf", None)
    if isinstance(conf, ModerationConf) and delivery.callback_type == "Url" and delivery.callback_url:
        update["conf"] = conf.model_copy(update={"callback": delivery.callback_url})
    return request.model_copy(update=update)


def _tagged(item: ModerationInput, delivery: Delivery) -> ModerationInput:
    return item.model_copy(update={"data_id": delivery.user_data})
