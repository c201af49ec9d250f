"""SCF entry point of the cleanup function (timer): reconcile, cancel, purge, expire, redrive."""

from ciflow.callback import build_sinks
from ciflow.cleanup import cleanup_handler

main_handler = cleanup_handler(build_sinks)
