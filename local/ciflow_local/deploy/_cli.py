"""``ciflow deploy render|check|policies`` and ``ciflow config check``: deployment files and variables, offline."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .._envfile import EnvFileError, merged_environment, read_env_file
from ._deployment import describe, errors_of, not_passed, read_deployment
from ._manifest import DEPLOY_VARIABLES, FUNCTIONS, settings_problems
from ._render import INSTANCES, render_all, write_all

__all__ = ["add_deploy_parsers", "run_config", "run_deploy"]

DEFAULT_DIR = Path("deploy")


def add_deploy_parsers(commands: Any) -> None:
    """Add ``deploy`` and ``config`` to the ``ciflow`` subparsers."""
    env_file = argparse.ArgumentParser(add_help=False)
    env_file.add_argument("--env-file", type=Path, default=None, help="KEY=VALUE file on top of the environment")
    folder = argparse.ArgumentParser(add_help=False)
    folder.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="the deploy folder (default: deploy)")

    deploy = commands.add_parser("deploy", help="render and check the serverless.yml files under deploy/")
    actions = deploy.add_subparsers(dest="deploy_command", required=True)
    render = actions.add_parser(
        "render", parents=[env_file, folder], help="write deploy/*/serverless.yml from the manifest"
    )
    render.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file differs")
    check = actions.add_parser(
        "check", parents=[env_file, folder], help="read the files as the deploy tool does; print what SCF gets"
    )
    check.add_argument(
        "--only", default=None, help="comma-separated instances: " + ",".join(i.folder for i in INSTANCES)
    )
    policies = actions.add_parser("policies", help="CAM policies of the functions' roles, filled in")
    policies.add_argument("--region", required=True)
    policies.add_argument("--appid", required=True)
    policies.add_argument("--bucket", required=True, help="full bucket name <name>-<appid>")
    policies.add_argument("--owner-uin", required=True, help="the account's root UIN (for CI_QCSRole)")
    policies.add_argument("--out", type=Path, default=None, help="write <role>.json files here, else print")

    config = commands.add_parser("config", help="the deployment's variables")
    config_actions = config.add_subparsers(dest="config_command", required=True)
    config_check = config_actions.add_parser(
        "check", parents=[env_file], help="validate every function's variables with its settings model"
    )
    config_check.add_argument("--function", action="append", default=None, help="only this function (repeatable)")


def _fail(message: str) -> int:
    print(f"ciflow: {message}", file=sys.stderr)
    return 2


def _present(env_file: Path | None) -> dict[str, str]:
    return read_env_file(env_file) if env_file is not None else {}


def _render(args: argparse.Namespace) -> int:
    present = _present(args.env_file)
    if not args.check:
        for path in write_all(args.dir, present):
            print(f"wrote {path}")
        return 0
    stale = [
        relative
        for relative, text in render_all(present).items()
        if not (args.dir / relative).is_file() or (args.dir / relative).read_text(encoding="utf-8") != text
    ]
    for relative in stale:
        print(f"{args.dir / relative} differs from the manifest: run `ciflow deploy render`", file=sys.stderr)
    return 1 if stale else 0


def _check(args: argparse.Namespace) -> int:
    env = merged_environment(os.environ, args.env_file)
    folders = args.only.split(",") if args.only else None
    plans = read_deployment(args.dir, env, folders)
    print(describe(plans))
    errors = errors_of(plans) + not_passed(plans, _present(args.env_file))
    print(f"\n{len(errors)} error(s)" if errors else "\nno errors: the deploy tool would create the above")
    return 1 if errors else 0


def _policies(args: argparse.Namespace) -> int:
    from ._policies import render_policies

    rendered = render_policies(args.region, args.appid, args.bucket, args.owner_uin)
    if args.out is None:
        print(json.dumps({name: json.loads(text) for name, text in rendered.items()}, indent=2))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


def run_deploy(args: argparse.Namespace) -> int:
    """Run one ``ciflow deploy`` command; 0 ok, 1 check failed, 2 bad input."""
    try:
        if args.deploy_command == "render":
            return _render(args)
        if args.deploy_command == "check":
            return _check(args)
        return _policies(args)
    except (EnvFileError, FileNotFoundError, ValueError) as exc:
        return _fail(str(exc))


def run_config(args: argparse.Namespace) -> int:
    """``ciflow config check``: every bad variable of every function named; 0 when all would start."""
    try:
        env = merged_environment(os.environ, args.env_file)
    except EnvFileError as exc:
        return _fail(str(exc))
    keys = args.function or [spec.key for spec in FUNCTIONS]
    unknown = sorted(set(keys) - {spec.key for spec in FUNCTIONS})
    if unknown:
        return _fail(f"unknown functions {unknown}; functions: {', '.join(spec.key for spec in FUNCTIONS)}")
    failed = 0
    for variable in DEPLOY_VARIABLES:
        if not env.get(variable, "").strip():
            print(f"deploy: {variable}: not set (the deploy itself needs it)")
            failed += 1
    for key in keys:
        problems = settings_problems(key, env)
        for variable, message in sorted(problems.items()):
            print(f"{key}: {variable}: {message}")
        print(f"{key}: ok" if not problems else f"{key}: {len(problems)} problem(s)")
        failed += len(problems)
    return 1 if failed else 0
