"""Configuration: typed settings from the environment, and the process-wide clients built from them."""

from ._clients import close_shared_clients, shared_client
from ._settings import CoreSettings, load_settings

__all__ = ["CoreSettings", "close_shared_clients", "load_settings", "shared_client"]
