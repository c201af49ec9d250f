"""Configuration: typed settings from the environment, the process-wide clients built from them, and the
``entry_point`` every SCF function is built with (settings validated and logging configured at cold start)."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ._clients import close_shared_clients, shared_client
from ._settings import CoreSettings, load_settings

if TYPE_CHECKING:
    from ._entry import Runner, entry_point

__all__ = ["CoreSettings", "Runner", "close_shared_clients", "entry_point", "load_settings", "shared_client"]

__getattr__, __dir__ = lazy_exports(__name__, {"Runner": "._entry", "entry_point": "._entry"})
