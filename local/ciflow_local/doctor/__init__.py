"""``ciflow doctor``: check what a deploy needs and say what to fix for each failure (see README.md here)."""

from ._bucket import explain_bucket_error
from ._callback import PROBE_FIELD, envelope_of, probe_body
from ._command import add_doctor_parser, config_from_args, run_doctor_command
from ._config import ALL_FUNCTIONS, API_ENDPOINT_VARIABLE, LAYER_NAME, DoctorConfig, SettingsProblems
from ._report import CheckResult, Status, exit_code, render_json, render_text, summary
from ._runner import GROUPS, run_doctor
from ._sinks import PROBE_EVENT, probe_result

__all__ = [
    "ALL_FUNCTIONS",
    "API_ENDPOINT_VARIABLE",
    "GROUPS",
    "LAYER_NAME",
    "PROBE_EVENT",
    "PROBE_FIELD",
    "CheckResult",
    "DoctorConfig",
    "SettingsProblems",
    "Status",
    "add_doctor_parser",
    "config_from_args",
    "envelope_of",
    "exit_code",
    "explain_bucket_error",
    "probe_body",
    "probe_result",
    "render_json",
    "render_text",
    "run_doctor",
    "run_doctor_command",
    "summary",
]
