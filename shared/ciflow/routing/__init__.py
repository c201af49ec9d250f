"""Result routing: the signed UserData every job carries (sinks arrive with the callback handler)."""

from ._userdata import ForgedUserDataError, RouteTag, correlation_id_for, decode_user_data, encode_user_data

__all__ = ["ForgedUserDataError", "RouteTag", "correlation_id_for", "decode_user_data", "encode_user_data"]
