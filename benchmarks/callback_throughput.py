"""Callback throughput: authenticate + parse + normalise, one core, sinks excluded; vs the official SDK's XML parse.

Bodies are every callback sample of the CI docs (tests/fixtures/seed: XML and JSON, every job kind, workflow and
moderation reports). Target: >= 10,000 callbacks/s, and not slower than the SDK parsing the same XML bodies.
Run: .venv/bin/python benchmarks/callback_throughput.py [--rounds N]
"""

import argparse
import hmac
import json
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from ciflow.models.callbacks import parse_callback
from ciflow.results import normalise

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "seed"
TOKEN = "callback-token-0123456789"
SECRETS = ["userdata-secret-0123456789", "userdata-secret-previous-00"]


def compact(body: bytes, kind: str) -> bytes:
    """The body as sent on the wire: the docs pretty-print their samples, CI does not."""
    if kind == "application/json":
        return json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
    return re.sub(rb">\s+<", b"><", body.strip())


def bodies(*, wire: bool) -> list[tuple[bytes, str]]:
    index = json.loads((FIXTURES / "index.json").read_text())
    out = []
    for entry in index:
        if entry["role"] == "callback":
            kind = "application/xml" if entry["format"] == "xml" else "application/json"
            body = (FIXTURES / entry["file"]).read_bytes()
            out.append((compact(body, kind) if wire else body, kind))
    return out


def handle(body: bytes, content_type: str, token: str = TOKEN) -> int:
    if not hmac.compare_digest(token.encode(), TOKEN.encode()):
        raise PermissionError
    return len(normalise(parse_callback(body, content_type), user_data_secrets=SECRETS))


def per_item(function: Callable[[], object], items: int, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) / items)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    for wire in (False, True):
        measure(bodies(wire=wire), "compact, as sent" if wire else "pretty-printed, as documented", args.rounds)


def measure(samples: list[tuple[bytes, str]], label: str, rounds: int) -> None:
    from qcloud_cos.cos_comm import xml_to_dict

    xml = [body for body, kind in samples if kind == "application/xml"]

    def ours_all() -> None:
        for body, kind in samples:
            handle(body, kind)

    def ours_xml() -> None:
        for body in xml:
            handle(body, "application/xml")

    def sdk_xml() -> None:
        for body in xml:
            xml_to_dict(body)

    for function in (ours_all, sdk_xml):
        function()  # warm up: imports, deferred model builds
    all_s = per_item(ours_all, len(samples), rounds)
    ours_xml_s = per_item(ours_xml, len(xml), rounds)
    sdk_xml_s = per_item(sdk_xml, len(xml), rounds)
    print(f"{len(samples)} documented callback bodies ({len(xml)} XML), {label}; median of {rounds} rounds, one core")
    print(
        f"  ciflow auth+parse+normalise, all bodies: {all_s * 1e6:7.1f} us/callback = {1 / all_s:8.0f} callbacks/s (target >= 10,000)"
    )
    print(
        f"  ciflow auth+parse+normalise, XML bodies: {ours_xml_s * 1e6:7.1f} us/callback = {1 / ours_xml_s:8.0f} callbacks/s"
    )
    print(
        f"  official SDK xml_to_dict,    XML bodies: {sdk_xml_s * 1e6:7.1f} us/callback = {1 / sdk_xml_s:8.0f} callbacks/s"
    )
    print(f"  ciflow / SDK time on XML: {ours_xml_s / sdk_xml_s:.2f}x (target <= 1.00x)")


if __name__ == "__main__":
    main()
