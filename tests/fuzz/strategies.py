"""Hypothesis strategies: COS events, API Gateway events and CI callback bodies mutated from the real fixtures."""

import base64
import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree as ET

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
CALLBACKS = ROOT / "tests" / "fixtures" / "seed" / "callbacks"

COS_EVENTS = [json.loads(p.read_text()) for p in sorted(EVENTS.glob("cos-*.json"))]
APIGW_EVENTS = [json.loads(p.read_text()) for p in sorted(EVENTS.glob("apigw-*.json"))]
XML_BODIES = [p.read_bytes() for p in sorted(CALLBACKS.glob("*.xml"))]
MODERATION = CALLBACKS.parent / "moderation"
JSON_BODIES = [json.loads(p.read_text()) for p in [*sorted(CALLBACKS.glob("*.json")), *MODERATION.glob("*callback*")]]

SURROGATES = ["\ud800", "\udfff", "\udcff", "a\ud83d", "\ude00b"]
ODD_KEYS = ["", " ", "Records ", "key+", "%2F", "a b", "视频", "\u202e", "\x00", "JobsDetail", "__proto__", "%E8"]
HUGE = [2**63, 2**64, 2**70, -(2**70), 10**400, 1e300, -1e300, float("inf"), float("-inf"), float("nan"), -0.0]


def _one_in(draw: st.DrawFn, n: int) -> bool:
    """True about once in ``n`` draws (integers are biased towards 0; the last index of a sample is not)."""
    return bool(draw(st.sampled_from(range(n))) == n - 1)


# -- random JSON values -------------------------------------------------------------------------------------

texts = st.one_of(
    st.text(max_size=20),
    st.text(max_size=20),
    st.text(st.characters(codec="utf-8"), max_size=20),
    st.sampled_from(SURROGATES + ODD_KEYS),
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=5), st.sampled_from(SURROGATES), st.text(max_size=5)),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(HUGE),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
)
keys = st.one_of(st.text(max_size=8), st.sampled_from(ODD_KEYS + SURROGATES))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = {"a": value} if depth % 2 else [value]
    return value


# As deep as an event can be and still be JSON-decoded by the runtime before the handler sees it.
deep_json = st.integers(min_value=50, max_value=900).map(_nested)
#: In a body, a placeholder text replaced by that many nested arrays after serialisation (json.dumps recurses).
deep_text = st.integers(min_value=50, max_value=5000).map(lambda depth: f"__DEEP_{depth}__")


# -- mutating a JSON tree ------------------------------------------------------------------------------------


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, (*prefix, index)))
    return found


def _parent(tree: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        tree = tree[step]
    return tree


def _apply(draw: st.DrawFn, tree: Any, path: tuple[Any, ...], text_deep: bool) -> Any:
    """One mutation at ``path``: drop, replace (random, huge, deep), rename to an odd key, or duplicate."""
    action = draw(st.sampled_from(["drop", "replace", "replace", "deep", "rename", "duplicate"]))
    if not path:
        return draw(json_values) if action in ("replace", "drop") else tree
    parent, last = _parent(tree, path), path[-1]
    if action == "drop":
        del parent[last]
    elif action == "replace":
        parent[last] = draw(json_values)
    elif action == "deep":
        parent[last] = draw(deep_text if text_deep else deep_json)
    elif action == "rename" and isinstance(parent, dict):
        parent[draw(keys)] = parent.pop(last)
    # Duplicates share the node rather than copy it: a deep node would overflow deepcopy's recursion, and the
    # tree is only ever serialised, never compared by identity.
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(parent[last])
    elif action == "duplicate":
        parent[draw(keys)] = parent[last]
    return tree


@st.composite
def mutated_json(draw: st.DrawFn, base: Any, max_mutations: int = 4, text_deep: bool = False) -> Any:
    """``base`` with 0..max_mutations random mutations."""
    tree = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=0, max_value=max_mutations))):
        paths = _paths(tree)
        tree = _apply(draw, tree, draw(st.sampled_from(paths)), text_deep)
    return tree


# -- COS trigger events --------------------------------------------------------------------------------------


ODD_OBJECT_KEYS = ["a b.mp4", "a+b.mp4", "100%.mp4", "%E8%A7%86.mp4", "视频 最终+版%.mp4", "x\ud800.bin", "dir/", " ",
                   "a//b", "../../etc/passwd", "a?b#c.mp4", "\u202egnp.exe"]  # fmt: skip


@st.composite
def odd_object_key(draw: st.DrawFn, record: Any) -> Any:
    """The record naming an odd object key: unicode, spaces, ``+``, ``%``; its url encoded, raw, or gone."""
    name = draw(st.sampled_from(ODD_OBJECT_KEYS) | texts)
    cos_object = record.get("cos", {}).get("cosObject") if isinstance(record.get("cos"), dict) else None
    if not isinstance(cos_object, dict):
        return record
    cos_object["key"] = f"/1250000000/media/uploads/{name}"
    encoded = quote(name.encode("utf-8", "surrogatepass"), safe="/")
    url = draw(st.sampled_from([encoded, name, encoded.replace("%20", "+"), None]))
    host = "http://media-1250000000.cos.ap-guangzhou.myqcloud.com/uploads/"
    cos_object["url"] = None if url is None else host + url
    return record


@st.composite
def cos_records(draw: st.DrawFn) -> list[Any]:
    """The records of a real COS event, each possibly mutated (a record may become anything at all)."""
    event = draw(st.sampled_from(COS_EVENTS))
    records = [draw(mutated_json(record)) for record in event["Records"]]
    records = [draw(odd_object_key(r)) if isinstance(r, dict) and draw(st.booleans()) else r for r in records]
    if draw(st.booleans()):
        records.append(draw(json_values))
    return draw(st.permutations(records))


# -- API Gateway events --------------------------------------------------------------------------------------

TOKEN = "callback-token-example"
OLD_TOKEN = "callback-token-previous-0000"


def _encode_body(text: str, charset: str) -> bytes:
    try:
        return text.encode(charset)
    except (UnicodeError, LookupError):
        return text.encode("utf-8", "surrogatepass")


@st.composite
def gateway_body(draw: st.DrawFn, text: str | bytes) -> tuple[Any, Any]:
    """``(body, isBase64Encoded)``: the text as is, or its bytes base64-encoded (or broken base64)."""
    mode = draw(st.sampled_from(["plain"] * 4 + ["base64"] * 4 + ["bad-base64", "bytes"]))
    charset = draw(st.sampled_from(["utf-8"] * 6 + ["utf-16", "latin-1"]))
    raw = text if isinstance(text, bytes) else _encode_body(text, charset)
    if mode == "plain":
        return (text if isinstance(text, str) else raw.decode("utf-8", "surrogateescape")), draw(
            st.sampled_from([False, None, "false", 0])
        )
    if mode == "base64":
        return base64.b64encode(raw).decode(), draw(st.sampled_from([True, "true", 1]))
    if mode == "bad-base64":
        return draw(st.sampled_from(["!!!", "YQ", "Y\ud800Q==", base64.b64encode(raw).decode()[:-3]])), True
    return draw(st.binary(max_size=64)).decode("latin-1"), draw(st.booleans())


def _token_mode(draw: st.DrawFn) -> str | None:
    # sampled_from leans towards its first elements: the valid token leads.
    return draw(st.sampled_from([TOKEN] * 8 + [OLD_TOKEN] * 2 + ["wrong-token-0123456789", "", "\ud800" * 20, None]))


@st.composite
def gateway_events(
    draw: st.DrawFn, body: st.SearchStrategy[tuple[Any, Any]] | None = None, content_type: str | None = None
) -> dict[str, Any]:
    """An API Gateway event from the real samples: token (query or header), method, headers and body mutated."""
    event = copy.deepcopy(draw(st.sampled_from(APIGW_EVENTS)))
    token = _token_mode(draw)
    where = draw(st.sampled_from(["queryStringParameters", "queryStringParameters", "headers", "queryString"]))
    event["queryStringParameters"], event["queryString"] = {}, {}
    if token is not None:
        event[where]["x-ciflow-token" if where == "headers" else "token"] = token
    if body is not None:
        event["body"], event["isBase64Encoded"] = draw(body)
    if _one_in(draw, 20):
        event["httpMethod"] = event["requestContext"]["httpMethod"] = draw(st.sampled_from(["GET", "PUT", "", None]))
    if content_type:
        event["headers"]["content-type"] = content_type
    if _one_in(draw, 4):
        event["headers"]["content-type"] = draw(
            st.sampled_from(
                ["application/xml", "application/json", "text/plain", "", "x\ud800", "application/json; charset=utf-7"]
            )
        )
    return draw(
        mutated_json(event, max_mutations=draw(st.sampled_from([0, 0, 0, 1, 3] if body is not None else [1, 2, 3])))
    )


# -- XML callback bodies -------------------------------------------------------------------------------------

DECLARATIONS = [
    b"",
    b'<?xml version="1.0"?>',
    b'<?xml version="1.0" encoding="UTF-8"?>',
    b'<?xml version="1.0" encoding="UTF-7"?>',
    b'<?xml version="1.0" encoding="UTF-16"?>',
    b'<?xml version="1.0" encoding="ISO-8859-1"?>',
    b'<?xml version="1.0" encoding="GBK"?>',
    b'<?xml version="1.0" encoding="bogus-charset"?>',
    b'<?xml version="1.1" encoding="utf-32"?>',
    b"\xef\xbb\xbf",
    b"\xff\xfe",
]
INJECTIONS = [
    b'<!DOCTYPE r [<!ENTITY e "x">]>',
    b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE r SYSTEM "http://127.0.0.1:1/evil.dtd">',
    b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:1/p">%p;]>',
]
ENTITY_REFS = ["&e;", "&b;", "&x;", "&lt;", "&#0;", "&#xD800;", "&#1114112;", "&undefined;"]
TAGS = ["JobsDetail", "JobId", "Tag", "State", "EventName", "Code", "Input", "Object", "UserData", "Operation"]


def _elements(root: ET.Element) -> list[tuple[ET.Element | None, ET.Element]]:
    pairs: list[tuple[ET.Element | None, ET.Element]] = [(None, root)]
    for parent in root.iter():
        pairs.extend((parent, child) for child in parent)
    return pairs


def _mutate_element(draw: st.DrawFn, root: ET.Element) -> ET.Element:
    parent, element = draw(st.sampled_from(_elements(root)))
    action = draw(st.sampled_from(["delete", "duplicate", "rename", "text", "text", "nest", "entity"]))
    if action == "delete" and parent is not None:
        parent.remove(element)
    elif action == "duplicate" and parent is not None:
        for _ in range(draw(st.integers(1, 3))):
            parent.append(copy.deepcopy(element))
    elif action == "rename":
        element.tag = draw(st.sampled_from(TAGS) | st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True))
    elif action == "text":
        element.text = draw(texts | st.sampled_from(["", "Success", "Failed", "Transcode", " " * 3]))
    elif action == "nest":
        ET.SubElement(element, "DeepPlaceholder", depth=str(draw(st.integers(min_value=10, max_value=5000))))
    elif action == "entity":
        element.text = draw(st.sampled_from(ENTITY_REFS))
    return root


def _serialise(root: ET.Element) -> bytes:
    text = ET.tostring(root, encoding="unicode")  # recursive: deep nesting is spliced in as text afterwards
    text = re.sub(r'<DeepPlaceholder depth="(\d+)" />', lambda m: "<N>" * int(m[1]) + "</N>" * int(m[1]), text)
    for ref in ENTITY_REFS:  # entity references survive as references, not escaped text
        text = text.replace(ref.replace("&", "&amp;"), ref)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def xml_bodies(draw: st.DrawFn) -> bytes:
    """A real XML callback with elements deleted, duplicated, renamed, re-texted or nested deep; then maybe a
    declaration, a DTD/entity injection, and truncation."""
    root = ET.fromstring(draw(st.sampled_from(XML_BODIES)))
    for _ in range(draw(st.integers(0, 4))):
        root = _mutate_element(draw, root)
    body = _serialise(root)
    if _one_in(draw, 4):
        body = draw(st.sampled_from(INJECTIONS)) + body
    if _one_in(draw, 4):
        body = draw(st.sampled_from(DECLARATIONS)) + body
    if _one_in(draw, 6):
        body = body[: draw(st.integers(0, len(body)))]
    return body


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    """A real JSON callback, mutated as a tree, then serialised (maybe truncated, maybe with bad escapes)."""
    tree = draw(mutated_json(draw(st.sampled_from(JSON_BODIES)), max_mutations=5, text_deep=True))
    text = re.sub(
        r'"__DEEP_(\d+)__"',
        lambda m: "[" * int(m[1]) + "]" * int(m[1]),
        json.dumps(tree, ensure_ascii=draw(st.booleans())),
    )
    if _one_in(draw, 6):
        text = text[: draw(st.integers(0, len(text)))]
    return text.encode("utf-8", "surrogatepass")


# -- structure-aware JobsDetail ------------------------------------------------------------------------------

JOB_TAGS = [
    "Transcode", "Snapshot", "Animation", "SmartCover", "SuperResolution", "PicProcess", "FileHashCode",
    "FileUncompress", "DocProcess", "QualityEstimate", "VideoAuditing", "ImageAuditing", "Segment", "Concat",
]  # fmt: skip
STATES = ["Success", "Failed", "Cancel", "Running", "Submitted", "Pause", ""]


#: Text a real report could hold: no control characters, no lone surrogates.
clean_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=20)


def job_details(user_data: st.SearchStrategy[str], *, noisy: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """One ``JobsDetail`` entry: the fields CI sends, plausible; when ``noisy``, any of them possibly anything."""

    def _maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.sampled_from(range(10)).flatmap(lambda n: json_values if n == 9 else value) if noisy else value

    return _job_detail(user_data, _maybe)


def _job_detail(
    user_data: st.SearchStrategy[str], _maybe: Callable[[st.SearchStrategy[Any]], st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    output = st.fixed_dictionaries(
        {}, optional={"Bucket": _maybe(st.just("media-1250000000")), "Region": _maybe(st.just("ap-guangzhou")),
                      "Object": _maybe(clean_texts), "ObjectName": _maybe(st.lists(clean_texts, max_size=3))},
    )  # fmt: skip
    operation = st.fixed_dictionaries(
        {}, optional={"UserData": _maybe(user_data), "Output": _maybe(output),
                      "MediaResult": _maybe(st.fixed_dictionaries({"OutputFile": output}))},
    )  # fmt: skip
    return st.fixed_dictionaries(
        {},
        optional={
            "JobId": _maybe(st.from_regex(r"j[0-9a-f]{32}", fullmatch=True)),
            "Tag": _maybe(st.sampled_from(JOB_TAGS)),
            "State": _maybe(st.sampled_from(STATES)),
            "Code": _maybe(st.sampled_from(["Success", "InternalError", "InvalidParameter"])),
            "Message": _maybe(clean_texts),
            "CreationTime": _maybe(st.sampled_from(["2022-06-30T15:29:42+0800"] * 6 + ["0", "9999-99-99", "-1"])),
            "EndTime": _maybe(st.sampled_from(["2022-06-30T15:30:08+0800", "2022-06-30T15:30:08Z"])),
            "Input": _maybe(
                st.fixed_dictionaries({}, optional={"Object": _maybe(clean_texts), "BucketId": clean_texts})
            ),
            "Operation": _maybe(operation),
        },
    )


def _to_xml(parent: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _to_xml(parent, name, item)
        return
    child = ET.SubElement(parent, name if name and name.isidentifier() and name.isascii() else "X")
    if isinstance(value, dict):
        for key, item in value.items():
            _to_xml(child, str(key), item)
    elif value is not None:
        child.text = str(value)


@st.composite
def jobs_detail_bodies(draw: st.DrawFn, user_data: st.SearchStrategy[str], max_entries: int) -> tuple[bytes, str, int]:
    """``(body, content type, entries)``: a TaskFinish report generated field by field, as XML or JSON."""
    count = draw(st.one_of(*[st.integers(0, 4)] * 3, st.integers(0, max_entries)))
    noisy = _one_in(draw, 4)
    details = draw(st.lists(job_details(user_data, noisy=noisy), min_size=count, max_size=count))
    event_name = draw(json_values) if noisy and _one_in(draw, 10) else "TaskFinish"
    report = {"EventName": event_name, "JobsDetail": details}
    if draw(st.booleans()):
        return json.dumps(report).encode("utf-8", "surrogatepass"), "application/json", len(details)
    root = ET.Element("Response")
    for key, value in report.items():
        _to_xml(root, key, value)
    return _serialise(root), "application/xml", len(details)
