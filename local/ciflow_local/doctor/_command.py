"""``ciflow doctor``: its arguments, and a run from them to printed results and an exit code (0, 1, or 2)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from .._envfile import EnvFileError, merged_environment
from ._config import ALL_FUNCTIONS, API_ENDPOINT_VARIABLE, LAYER_NAME, DoctorConfig
from ._report import exit_code as exit_code_of
from ._report import render_json, render_text, summary
from ._runner import GROUPS, run_doctor
from ._settings import deploy_interface

__all__ = ["add_doctor_parser", "run_doctor_command", "config_from_args"]


def _names(allowed: tuple[str, ...]) -> Any:
    def parse(text: str) -> tuple[str, ...]:
        names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
        unknown = [name for name in names if name not in allowed]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(unknown)}; choose from {', '.join(allowed)}")
        return names

    return parse


def add_doctor_parser(commands: Any) -> argparse.ArgumentParser:
    """Register ``doctor`` on the ``ciflow`` subcommands."""
    doctor: argparse.ArgumentParser = commands.add_parser(
        "doctor", help="check what a deploy needs (settings, bucket, CI, layer, callback)"
    )
    doctor.add_argument("--env-file", type=Path, help="KEY=VALUE file layered over the environment")
    doctor.add_argument("--json", action="store_true", help="one JSON document instead of one line per check")
    doctor.add_argument(
        "--functions",
        type=_names(ALL_FUNCTIONS),
        help=f"comma-separated functions deployed (default: all; {','.join(ALL_FUNCTIONS)})",
    )
    doctor.add_argument("--skip", type=_names(GROUPS), default=(), help=f"check groups not to run ({','.join(GROUPS)})")
    doctor.add_argument(
        "--api-endpoint",
        help=f"Tencent Cloud API 3.0 endpoint override, e.g. the emulator's api_url (or {API_ENDPOINT_VARIABLE})",
    )
    doctor.add_argument("--layer-name", default=LAYER_NAME, help=f"layer to look up (default {LAYER_NAME})")
    doctor.add_argument("--timeout", type=float, default=10.0, help="seconds each request may take (default 10)")
    return doctor


def config_from_args(args: argparse.Namespace, environ: Mapping[str, str]) -> DoctorConfig:
    """The run the arguments describe; ``EnvFileError`` for a bad ``--env-file``."""
    env = merged_environment(environ, args.env_file)
    keys, problems = deploy_interface()
    functions = args.functions or keys
    return DoctorConfig(
        env=env,
        functions=tuple(functions),
        api_endpoint=args.api_endpoint or env.get(API_ENDPOINT_VARIABLE) or None,
        timeout=args.timeout,
        layer_name=args.layer_name,
        skip=frozenset(args.skip),
        settings_problems=problems,
    )


def run_doctor_command(
    args: argparse.Namespace, *, environ: Mapping[str, str] | None = None, out: TextIO | None = None
) -> int:
    """Run the checks, print them; 0 when nothing failed, 1 when something did, 2 for a bad invocation."""
    stream = out or sys.stdout
    try:
        config = config_from_args(args, os.environ if environ is None else environ)
    except EnvFileError as exc:
        print(f"ciflow doctor: {exc}", file=sys.stderr)
        return 2
    results = run_doctor(config)
    print(render_json(results) if args.json else render_text(results), file=stream)
    if not args.json:
        counts = summary(results)
        print(f"{counts['FAIL']} failed, {counts['ok']} ok, {counts['skip']} skipped", file=sys.stderr)
    return exit_code_of(results)
