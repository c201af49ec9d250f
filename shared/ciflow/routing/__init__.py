"""Result routing: the signed UserData every job carries, the sink contract, and the sinks."""

from ._sink import DeliveryError, Sink
from ._userdata import ForgedUserDataError, RouteTag, correlation_id_for, decode_user_data, encode_user_data

__all__ = [
    "DeliveryError",
    "ForgedUserDataError",
    "RouteTag",
    "Sink",
    "correlation_id_for",
    "decode_user_data",
    "encode_user_data",
]
