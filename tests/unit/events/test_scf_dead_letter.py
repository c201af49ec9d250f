"""SCF dead-letter messages, in the shape of Tencent's "Dead Letter Queue" page (SCF, document 583/39704)."""

import json
from typing import Any

import pytest

from ciflow.events import EventError, parse_cos_event, parse_scf_dead_letter

from ._samples import EVENTS, load

#: The page's own example, with its placeholders (``xxx``) filled in: a timer event that raised.
DOCUMENTED: dict[str, Any] = {
    "RequestId": "b615b896-d197-47d7-8919-000000000000",
    "ErrorCode": -1,
    "ErrorMessage": 'Traceback (most recent call last):\n File "/var/user/index.py", line 5, in main_handler\n'
    "    if 'key1' in event.keys():\nNameError: global name 'event' is not defined",
    "Body": {
        "AppId": 1250000000,
        "Uin": "100000000001",
        "SubAccountUin": "100000000001",
        "RequestSource": "TRIGGER_TIMER",
        "FunctionName": "tabortest",
        "Namespace": "default",
        "Qualifier": "$DEFAULT",
        "InvocationType": "RequestResponse",
        "ClientContext": '{"Type":"Timer","TriggerName":"tabortimer","Time":"2020-10-10T01:22:00Z","Message":""}',
        "LogType": "",
        "TimeStampForInvoker": "1602293100000",
        "RequestId": "b615b896-d197-47d7-8919-000000000000",
        "PushTime": "2020-10-10T09:22:00.061824591+08:00",
        "RetryNum": 2,
        "Ttl": 0,
    },
}


def test_the_documented_example_reads_back_with_its_event_and_error() -> None:
    letter = parse_scf_dead_letter(json.dumps(DOCUMENTED))
    assert (letter.body.function_name, letter.body.retry_num, letter.error_code) == ("tabortest", 2, -1)
    assert letter.event == {"Type": "Timer", "TriggerName": "tabortimer", "Time": "2020-10-10T01:22:00Z", "Message": ""}
    assert letter.error_summary == "NameError: global name 'event' is not defined"


def test_the_cos_sample_carries_the_upload_event() -> None:
    letter = parse_scf_dead_letter((EVENTS / "scf-dead-letter-cos.json").read_text(encoding="utf-8"))
    assert letter.body.function_name == "ciflow-hash"
    assert letter.event == load("cos-put.json")
    ((_, ref),) = list(parse_cos_event(letter.event).records_or_errors())
    assert ref.key == "uploads/2026/视频 final+cut.mp4"  # type: ignore[union-attr]
    assert letter.error_summary.startswith("ciflow.handlers._outcome.RetryableInvocationError")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not json", "message"),
        ("[]", "message"),
        (json.dumps({**DOCUMENTED, "Body": None}), "Body"),
        (json.dumps({**DOCUMENTED, "Body": {**DOCUMENTED["Body"], "ClientContext": "{broken"}}), "ClientContext"),
        (json.dumps({**DOCUMENTED, "Body": {**DOCUMENTED["Body"], "FunctionName": ""}}), "FunctionName"),
        ("x" * (2 << 20), "characters"),
    ],
)
def test_anything_else_is_a_typed_error_naming_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(EventError, match=why):
        parse_scf_dead_letter(text)
