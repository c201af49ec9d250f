"""The fuzz targets by name: a strategy and the check that runs one drawn input through its harness."""

import base64
import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from ciflow.routing import RouteTag, encode_user_data
from tests.fuzz import strategies as s
from tests.fuzz.harness import SECRET, CallbackTarget, UploadTarget

_serial = itertools.count()

user_data = st.builds(
    lambda route, step: encode_user_data(RouteTag(route=route, correlation_id="c0ffee", step=step), SECRET),
    st.sampled_from(["transcode", "hash", "previews"]),
    st.sampled_from(["mp4", "md5", "cover"]),
) | st.sampled_from(["r=previews;c=def456", "", "v1.garbage.sig"])


def _callback_events(bodies: st.SearchStrategy[bytes], content_type: str) -> st.SearchStrategy[dict[str, Any]]:
    return bodies.flatmap(lambda body: s.gateway_events(body=s.gateway_body(body), content_type=content_type))


def _reported(body: tuple[bytes, str, int]) -> tuple[dict[str, Any], int]:
    raw, content_type, entries = body
    event = copy.deepcopy(s.APIGW_EVENTS[0])
    event["headers"]["content-type"] = content_type
    event["queryStringParameters"] = {"token": s.TOKEN}
    event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    return event, entries


def good_record() -> dict[str, Any]:
    """A clean record of a fresh object: whatever shares its event, it must be submitted."""
    record: dict[str, Any] = copy.deepcopy(s.COS_EVENTS[-1]["Records"][0])
    key = f"fuzz/good-{next(_serial)}.bin"
    record["cos"]["cosObject"]["key"] = f"/1250000000/media/{key}"
    record["cos"]["cosObject"]["url"] = f"http://media-1250000000.cos.ap-guangzhou.myqcloud.com/{key}"
    return record


@dataclass(frozen=True)
class Target:
    """A named fuzz target: what to draw, which harness runs it, and how."""

    strategy: st.SearchStrategy[Any]
    harness: Callable[[], Any]
    run: Callable[[Any, Any], Any]


TARGETS: dict[str, Target] = {
    "callback-xml": Target(
        _callback_events(s.xml_bodies(), "application/xml"), CallbackTarget, lambda h, event: h(event)
    ),
    "callback-json": Target(
        _callback_events(s.json_bodies(), "application/json"), CallbackTarget, lambda h, event: h(event)
    ),
    "callback-jobsdetail": Target(
        s.jobs_detail_bodies(user_data, max_entries=60).map(_reported),
        CallbackTarget,
        lambda h, drawn: h(drawn[0], entries=drawn[1]),
    ),
    "apigw": Target(s.gateway_events(), CallbackTarget, lambda h, event: h(event)),
    "cos-upload": Target(s.cos_records(), UploadTarget, lambda h, records: h(records, good_record())),
}
