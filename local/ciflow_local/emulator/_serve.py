"""``ciflow emulator`` in the foreground: run until Ctrl-C, print how to reach it; its CI-account options."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ._account import SERVICES, CiSetup
from ._app import DEFAULT_CREDENTIALS
from ._cmq import CMQ_PATH

if TYPE_CHECKING:
    from . import Emulator, Faults

__all__ = ["add_ci_setup_options", "ci_setup_from_args", "serve"]


def _services(text: str) -> frozenset[str]:
    names = frozenset(name.strip() for name in text.split(",") if name.strip())
    unknown = names - set(SERVICES)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown services {sorted(unknown)}; known: {', '.join(SERVICES)}")
    return names


def add_ci_setup_options(parser: argparse.ArgumentParser) -> None:
    """``--ci-unbound``, ``--ci-inactive media,file`` and ``--ci-strict-queues`` (see ``CiSetup``)."""
    group = parser.add_argument_group("CI account (default: every bucket bound, every service active)")
    group.add_argument("--ci-unbound", action="store_true", help="buckets start without CI bound")
    group.add_argument(
        "--ci-inactive",
        type=_services,
        default=frozenset(),
        metavar="SERVICES",
        help=f"comma-separated services not activated ({', '.join(SERVICES)})",
    )
    group.add_argument(
        "--ci-strict-queues", action="store_true", help="refuse jobs naming a queue the account lacks (QueueNotFound)"
    )


def ci_setup_from_args(args: argparse.Namespace) -> CiSetup:
    """The ``CiSetup`` the options of ``add_ci_setup_options`` describe (defaults when they were not added)."""
    return CiSetup(
        bound=not getattr(args, "ci_unbound", False),
        inactive=frozenset(getattr(args, "ci_inactive", frozenset())),
        strict_queues=getattr(args, "ci_strict_queues", False),
    )


def _banner(emulator: Emulator) -> str:
    ci = emulator.ci
    return (
        f"ciflow emulator on {emulator.url} (data in {emulator.data_dir}); COS and CI for any bucket and region.\n"
        f"  CIFLOW_ENDPOINT={emulator.url} CIFLOW_SCHEME=http\n"
        f"  TENCENTCLOUD_SECRETID={DEFAULT_CREDENTIALS.secret_id} "
        f"TENCENTCLOUD_SECRETKEY={DEFAULT_CREDENTIALS.secret_key}\n"
        f"  TDMQ CMQ data plane: {emulator.cmq_url}{CMQ_PATH}\n"
        f"  SCF API 3.0 (GetLayerVersion): {emulator.api_url} (ciflow doctor --api-endpoint {emulator.api_url}); "
        "layer ciflow-core version 1\n"
        f"  queues: media {ci.media_queue_id}, file {ci.file_queue_id}, doc {ci.doc_queue_id}, "
        f"pic {ci.pic_queue_id}\n"
        "Ctrl-C stops."
    )


def serve(
    data_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 9000,
    region: str = "ap-guangzhou",
    workers: int = 2,
    faults: Faults | None = None,
    ci_setup: CiSetup | None = None,
) -> None:
    """``ciflow emulator``: run the emulator in the foreground until Ctrl-C, printing how to reach it."""
    from . import Emulator, Faults

    emulator = Emulator(
        Path(data_dir),
        faults=faults or Faults(),
        host=host,
        port=port,
        region=region,
        workers=workers,
        ci_setup=ci_setup or CiSetup(),
    )
    with emulator:
        emulator.scf.publish_layer("ciflow-core")  # version 1, so CIFLOW_LAYER_VERSION=1 passes ciflow doctor
        print(_banner(emulator), flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            print("stopping", file=sys.stderr)
