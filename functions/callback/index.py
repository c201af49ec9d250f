"""SCF entry point of the callback function (API Gateway): CI's job reports, verified and routed once."""

from ciflow.callback import build_sinks, callback_handler

main_handler = callback_handler(build_sinks)
