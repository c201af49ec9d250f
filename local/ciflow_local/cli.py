"""The ``ciflow`` command: ``demo``, ``emulator``, ``generate-event``, ``invoke`` and ``queue``."""

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ciflow.events import ObjectRef

from ._cos_cli import add_cos_parser, run_cos
from ._envfile import EnvFileError, merged_environment
from ._events import CALLBACK_KINDS, apigw_callback_event, callback_user_data, cos_event, timer_event
from ._invoke import InvokeRefusedError, check_time_budget, emulator_environment, invoke, local_defaults
from ._queue_cli import DEFAULT_QUEUE_PATH, add_queue_parser, run_queue
from .deploy import add_deploy_parsers, run_config, run_deploy
from .doctor import add_doctor_parser, run_doctor_command
from .drill import add_drill_parser, run_drill_command

__all__ = ["main"]


def _read_event(source: str) -> Any:
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    return json.loads(text)


def _setting(given: str | None, environ: Mapping[str, str], variable: str, option: str) -> str:
    """An option's value, else the variable the deployed functions read it from; a ValueError if neither is set."""
    value = given or environ.get(variable, "").strip()
    if not value:
        raise ValueError(f"{option} or {variable} is required")
    return value


def _callback_event(args: argparse.Namespace) -> Any:
    environ = merged_environment(os.environ, args.env_file)
    token = _setting(args.token, environ, "CIFLOW_CALLBACK_TOKEN", "--token")
    secret = _setting(args.user_data_secret, environ, "CIFLOW_USERDATA_SECRET", "--user-data-secret")
    ref = ObjectRef(bucket=args.bucket, region=args.region, key=args.key, size=args.size, etag=args.etag)
    user_data = callback_user_data(args.callback_kind, ref, secret, route=args.route)
    return apigw_callback_event(
        args.callback_kind, ref, token=token, user_data=user_data, state=args.state, fmt=args.format
    )


def _generate(args: argparse.Namespace) -> Any:
    if args.kind == "timer":
        return timer_event(args.message)
    if args.kind == "apigw-callback":
        return _callback_event(args)
    return cos_event(
        args.bucket,
        args.key,
        region=args.region,
        size=args.size,
        etag=args.etag,
        content_type=args.content_type,
        event_name=args.event_name,
    )


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be within 0 and 1")
    return value


def _fault_options() -> argparse.ArgumentParser:
    faults = argparse.ArgumentParser(add_help=False)
    group = faults.add_argument_group("fault injection (all off by default; drawn from --seed)")
    group.add_argument("--latency-ms", type=float, default=0.0, help="delay every request this long")
    group.add_argument("--latency-jitter-ms", type=float, default=0.0, help="plus up to this much, at random")
    group.add_argument("--error-rate", type=_rate, default=0.0, help="share of requests answered 503")
    group.add_argument("--throttle-rate", type=_rate, default=0.0, help="share of requests answered 429 SlowDown")
    group.add_argument("--drop-callback-rate", type=_rate, default=0.0, help="share of job reports never sent")
    group.add_argument("--slow-job-ms", type=float, default=0.0, help="every job waits this long before reporting")
    group.add_argument("--seed", type=int, default=0, help="seed of the fault RNG")
    return faults


def _faults(args: argparse.Namespace) -> Any:
    from .emulator import Faults

    return Faults(
        latency_ms=args.latency_ms,
        latency_jitter_ms=args.latency_jitter_ms,
        error_rate=args.error_rate,
        throttle_rate=args.throttle_rate,
        drop_callback_rate=args.drop_callback_rate,
        duplicate_event_rate=getattr(args, "duplicate_event_rate", 0.0),
        slow_job_ms=args.slow_job_ms,
        seed=args.seed,
    )


def _add_local_parsers(commands: Any) -> None:
    faults = _fault_options()
    demo = commands.add_parser(
        "demo", parents=[faults], help="run the whole pipeline offline on the emulator and write an HTML report"
    )
    demo.add_argument("--data-dir", type=Path, default=Path(".ciflow") / "demo", help="default: .ciflow/demo")
    demo.add_argument("--keep", action="store_true", help="keep the emulator and functions running afterwards")
    demo.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for handlers, then for results")
    demo.add_argument("--duplicate-event-rate", type=_rate, default=0.0, help="share of upload events delivered twice")
    emulator = commands.add_parser("emulator", parents=[faults], help="run the COS/CI emulator alone until Ctrl-C")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=9000, help="0 picks a free port")
    emulator.add_argument(
        "--data-dir", type=Path, default=Path(".ciflow") / "emulator", help="default: .ciflow/emulator"
    )
    emulator.add_argument("--region", default="ap-guangzhou", help="region named in upload events")
    emulator.add_argument("--workers", type=int, default=2, help="jobs run at once")
    from .emulator import add_ci_setup_options  # the emulator's own switches (CI binding, services, queues)

    add_ci_setup_options(emulator)


def _demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    try:
        result = run_demo(args.data_dir, timeout=args.timeout, faults=_faults(args), keep=args.keep)
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"ciflow demo: {exc}", file=sys.stderr)
        return 2
    return 0 if result.ok else 1


def _emulator(args: argparse.Namespace) -> int:
    from .emulator import ci_setup_from_args, serve

    try:
        serve(
            args.data_dir,
            host=args.host,
            port=args.port,
            region=args.region,
            workers=args.workers,
            faults=_faults(args),
            ci_setup=ci_setup_from_args(args),
        )
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"ciflow emulator: {exc}", file=sys.stderr)
        return 2
    return 0


def _add_callback_parser(kinds: Any) -> None:
    callback = kinds.add_parser(
        "apigw-callback", help="CI's report of a finished job, as API Gateway hands it to the callback function"
    )
    callback.add_argument("--kind", dest="callback_kind", required=True, choices=list(CALLBACK_KINDS))
    callback.add_argument("--key", required=True, help="the uploaded object the job was about")
    callback.add_argument("--state", choices=("Success", "Failed"), default="Success")
    callback.add_argument("--format", choices=("json", "xml"), default="json", help="moderation reports are JSON")
    callback.add_argument("--bucket", default="media-1250000000")
    callback.add_argument("--region", default="ap-guangzhou")
    callback.add_argument("--etag", default=None, help="the upload's ETag (its correlation id depends on it)")
    callback.add_argument("--size", type=int, default=1024)
    callback.add_argument("--route", default=None, help="default: the function that submits such jobs")
    callback.add_argument("--token", default=None, help="the URL's ?token= (default: $CIFLOW_CALLBACK_TOKEN)")
    callback.add_argument(
        "--user-data-secret", default=None, help="signs the job's UserData (default: $CIFLOW_USERDATA_SECRET)"
    )
    callback.add_argument("--env-file", type=Path, default=None, help="KEY=VALUE file read over the environment")


def _add_invoke_parser(commands: Any) -> None:
    run = commands.add_parser("invoke", help="run functions/<function>/index.py main_handler on an event")
    run.add_argument("function")
    run.add_argument("-e", "--event", required=True, help="event JSON file, or - for standard input")
    run.add_argument("--functions-dir", type=Path, default=Path("functions"))
    run.add_argument("--timeout", type=float, default=60.0, help="the function's time limit in seconds")
    run.add_argument(
        "--env-file", type=Path, default=None, help="KEY=VALUE file whose variables override the environment"
    )
    run.add_argument(
        "--emulator",
        metavar="URL",
        default=None,
        help="run against `ciflow emulator` at URL: sets CIFLOW_ENDPOINT and the emulator's credentials",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ciflow", description="ciflow local tooling")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate-event", help="print a sample SCF event as JSON")
    kinds = generate.add_subparsers(dest="kind", required=True)
    cos = kinds.add_parser("cos", help="a COS upload (ObjectCreated) event")
    cos.add_argument("--bucket", required=True, help="full bucket name <name>-<appid>")
    cos.add_argument("--key", required=True, help="raw object key (unicode, spaces, + and %% are fine)")
    cos.add_argument("--region", default="ap-guangzhou")
    cos.add_argument("--size", type=int, default=1024)
    cos.add_argument("--etag", default=None)
    cos.add_argument("--content-type", default="application/octet-stream")
    cos.add_argument("--event-name", default="cos:ObjectCreated:Put")
    timer = kinds.add_parser("timer", help="a timer trigger event")
    timer.add_argument("--message", default="")
    _add_callback_parser(kinds)
    _add_invoke_parser(commands)
    add_queue_parser(commands)
    add_cos_parser(commands)
    add_deploy_parsers(commands)
    add_doctor_parser(commands)
    add_drill_parser(commands)
    _add_local_parsers(commands)
    return parser


def _print_event(args: argparse.Namespace) -> int:
    try:
        print(json.dumps(_generate(args), ensure_ascii=False, indent=2))
    except ValueError as exc:
        print(f"ciflow: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "deploy": run_deploy,
        "config": run_config,
        "doctor": run_doctor_command,
        "drill": run_drill_command,
        "queue": run_queue,
        "cos": run_cos,
        "demo": _demo,
        "emulator": _emulator,
        "generate-event": _print_event,
        "invoke": _invoke,
    }
    return commands[args.command](args)


def _run_environment(args: argparse.Namespace) -> dict[str, str]:
    environ = merged_environment(os.environ, args.env_file)
    if args.emulator:
        environ = emulator_environment(environ, args.emulator)
    check_time_budget(args.function, environ, args.timeout)
    return local_defaults(environ, DEFAULT_QUEUE_PATH)


def _invoke(args: argparse.Namespace) -> int:
    try:
        environ = _run_environment(args)
        event = _read_event(args.event)
        result = invoke(
            args.function, event, functions_dir=args.functions_dir, timeout_seconds=args.timeout, environ=environ
        )
    except (EnvFileError, InvokeRefusedError, FileNotFoundError, json.JSONDecodeError, AttributeError) as exc:
        print(f"ciflow invoke: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the handler failed: SCF would log and (for async triggers) retry
        print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}, ensure_ascii=False))
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
