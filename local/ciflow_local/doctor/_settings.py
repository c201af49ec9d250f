"""Checks 1-2: every function's variables validate (``ciflow_local.deploy``), and credentials are present."""

from __future__ import annotations

from ..deploy import settings_problems
from ._config import ALL_FUNCTIONS, DoctorConfig, SettingsProblems, credentials_from
from ._report import CheckResult, fail, ok, skip

__all__ = ["deploy_interface", "check_settings", "check_credentials", "mask"]


def deploy_interface() -> tuple[tuple[str, ...], SettingsProblems]:
    """The deployment's function keys and its ``settings_problems`` (``ciflow_local.deploy``)."""
    return ALL_FUNCTIONS, settings_problems


def check_settings(config: DoctorConfig) -> list[CheckResult]:
    """One ``settings:<function>`` result per configured function."""
    validate = config.settings_problems
    if validate is None:
        return [skip("settings", "no settings validator given: function settings not validated")]
    results = []
    for function in config.functions:
        name = f"settings:{function}"
        try:
            problems = validate(function, config.env)
        except Exception as exc:  # a validator bug must not hide the other checks
            results.append(fail(name, f"validation crashed: {type(exc).__name__}: {exc}", "report this as a bug"))
            continue
        if problems:
            listed = "; ".join(f"{variable}: {problem}" for variable, problem in sorted(problems.items()))
            fix = f"set or correct {', '.join(sorted(problems))} in the environment or the --env-file"
            results.append(fail(name, listed, fix))
        else:
            results.append(ok(name, "every variable validates"))
    return results


def mask(secret_id: str) -> str:
    """``AKID…wxyz``: enough to tell keys apart, not enough to use one."""
    return f"{secret_id[:4]}…{secret_id[-4:]}" if len(secret_id) > 8 else "…"


def check_credentials(config: DoctorConfig) -> CheckResult:
    env = config.env
    missing = [name for name in ("TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY") if not env.get(name)]
    if missing:
        return fail(
            "credentials",
            f"{' and '.join(missing)} not set",
            "export TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY (plus TENCENTCLOUD_SESSIONTOKEN for temporary "
            "credentials) of an account that may read the bucket, CI and SCF",
        )
    credentials = credentials_from(env)
    assert credentials is not None
    kind = "temporary (TENCENTCLOUD_SESSIONTOKEN set)" if credentials.token else "long-term (no session token)"
    return ok("credentials", f"SecretId {mask(credentials.secret_id)}, {kind}")
