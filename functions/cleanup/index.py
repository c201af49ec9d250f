"""SCF entry point of the cleanup function (timer): reconcile, cancel, purge, expire, redrive."""

from ciflow.cleanup import build_sinks, cleanup_handler

main_handler = cleanup_handler(build_sinks)
