"""Check 8: each sink the callback function would build from the settings accepts one marked probe message.

The probe is a ``JobResult`` with ``event`` and ``tag`` ``ciflow.probe``, ``route`` ``ciflow.probe``, ``kind``
``unknown``, ``job_id`` ``ciflow-probe-<nonce>`` and ``details.ciflow_probe`` the nonce: consumers recognise it
by ``event == "ciflow.probe"`` and drop it.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any

from ciflow.callback import CallbackSettings, SinkSpec, build_sinks
from ciflow.client import Deadline
from ciflow.config import load_settings
from ciflow.errors import ConfigError
from ciflow.results import JobResult

from ._config import DoctorConfig, patched_environ
from ._report import CheckResult, fail, ok

__all__ = ["PROBE_EVENT", "probe_result", "check_sinks"]

PROBE_EVENT = "ciflow.probe"
_FIXES = {
    "local-queue": "make the queue file's directory writable (and note SCF's /tmp is per instance)",
    "webhook": "check the sink's url answers 2xx to a signed POST and its secret variable matches the receiver's",
    "cmq": "check the sink's endpoint, region, destination (the queue or topic must exist) and the credentials",
    "amqp": "check the broker URL variable, that the exchange exists and that the user may publish to it",
}


def probe_result(nonce: str) -> JobResult:
    """A result no consumer can mistake for a job's: marked ``ciflow.probe`` in event, tag and route."""
    return JobResult(
        kind="unknown",
        event=PROBE_EVENT,
        job_id=f"ciflow-probe-{nonce}",
        tag=PROBE_EVENT,
        state="Probe",
        route=PROBE_EVENT,
        details={"ciflow_probe": nonce, "note": "sent by ciflow doctor; drop it"},
        finished_at=datetime.now(timezone.utc),
    )


def _close(thing: Any) -> None:
    close = getattr(thing, "close", None)
    if callable(close):
        close()


def _probe(config: DoctorConfig, settings: CallbackSettings, name: str, spec: SinkSpec) -> CheckResult:
    check = f"sink:{name}"
    only = settings.model_copy(update={"sinks": {name: spec}})
    try:
        sinks, dead_letters = build_sinks(only)
    except Exception as exc:  # sqlite3, pika, a missing secret: each says what is wrong
        detail = f"{spec.type} sink cannot be built: {type(exc).__name__}: {exc}"
        return fail(check, detail, f"fix its options in CIFLOW_SINKS; {_FIXES[spec.type]}")
    sink = sinks[name]
    try:
        sink.deliver(probe_result(secrets.token_hex(8)), deadline=Deadline.after(config.timeout))
    except Exception as exc:  # DeliveryError by contract; anything else is reported the same way
        return fail(check, f"{spec.type} refused the probe: {type(exc).__name__}: {exc}", _FIXES[spec.type])
    finally:
        _close(sink)
        _close(dead_letters)
    return ok(check, f"{spec.type} accepted a probe message (event {PROBE_EVENT})")


def check_sinks(config: DoctorConfig) -> list[CheckResult]:
    """One ``sink:<name>`` result per sink in ``CIFLOW_SINKS`` (the local queue by default)."""
    with patched_environ(config.env):
        try:
            settings = load_settings(CallbackSettings, config.env)
        except ConfigError as exc:
            listed = "; ".join(f"{variable}: {problem}" for variable, problem in exc.problems.items())
            return [fail("sinks", f"the callback function's settings do not load: {listed}", "see settings:callback")]
        return [_probe(config, settings, name, spec) for name, spec in settings.sinks.items()]
