"""Result delivery is an explicit choice (Url, TDMQ or Queue), and a configuration error is never retried."""

from typing import cast
from xml.etree.ElementTree import fromstring

import httpx
import pytest
import respx

from ciflow.client import CiClient, Endpoint
from ciflow.concerns import moderate
from ciflow.config import load_settings
from ciflow.errors import ConfigError
from ciflow.handlers import UploadRunner, UploadSettings
from ciflow.idempotency import MemoryStore
from ciflow.signing import environment_credentials
from tests.functional.handlers.test_pipeline import CI, CONTEXT, ENV, event, hash_planner, make_client, submitted

WITHOUT_CALLBACK = {k: v for k, v in ENV.items() if k not in {"CIFLOW_CALLBACK_URL", "CIFLOW_CALLBACK_TOKEN"}}
CALLBACK_FIELDS = ("CallBack", "CallBackType", "CallBackFormat", "CallBackMqConfig")


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        (("CIFLOW_CALLBACK_URL", "CIFLOW_CALLBACK_TOKEN"), {"CIFLOW_CALLBACK_URL", "CIFLOW_CALLBACK_TOKEN"}),
        (("CIFLOW_CALLBACK_TOKEN",), {"CIFLOW_CALLBACK_TOKEN"}),
        (("CIFLOW_CALLBACK_URL",), {"CIFLOW_CALLBACK_URL"}),
    ],
)
def test_url_delivery_the_default_needs_url_and_token(missing: tuple[str, ...], named: set[str]) -> None:
    env = {k: v for k, v in ENV.items() if k not in missing}
    with pytest.raises(ConfigError) as caught:
        load_settings(UploadSettings, env)
    assert set(caught.value.problems) == named
    assert all("CIFLOW_CALLBACK_TYPE=Url" in why for why in caught.value.problems.values())


@pytest.mark.parametrize("url", ["ftp://example.com/callback", "example.com/callback", "https:///callback"])
def test_the_callback_url_must_be_http(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(UploadSettings, {**ENV, "CIFLOW_CALLBACK_URL": url})
    assert "http(s)" in caught.value.problems["CIFLOW_CALLBACK_URL"]


def test_queue_and_tdmq_need_no_callback_url_and_unknown_types_are_refused() -> None:
    assert load_settings(UploadSettings, {**WITHOUT_CALLBACK, "CIFLOW_CALLBACK_TYPE": "Queue"}).callback_url is None
    tdmq = {**WITHOUT_CALLBACK, "CIFLOW_CALLBACK_TYPE": "TDMQ", "CIFLOW_TDMQ_REGION": "gz", "CIFLOW_TDMQ_NAME": "q"}
    assert load_settings(UploadSettings, tdmq).callback_type == "TDMQ"
    with pytest.raises(ConfigError, match="CIFLOW_TDMQ_NAME"):
        load_settings(UploadSettings, {**WITHOUT_CALLBACK, "CIFLOW_CALLBACK_TYPE": "TDMQ"})
    with pytest.raises(ConfigError) as caught:
        load_settings(UploadSettings, {**ENV, "CIFLOW_CALLBACK_TYPE": "url"})
    assert set(caught.value.problems) == {"CIFLOW_CALLBACK_TYPE"}


@respx.mock
def test_queue_delivery_submits_jobs_without_any_callback_field() -> None:
    settings = load_settings(UploadSettings, {**ENV, "CIFLOW_CALLBACK_TYPE": "Queue", "CIFLOW_QUEUE_ID": "p-media"})
    route = respx.post(f"{CI}/file_jobs").mock(return_value=submitted("f1"))
    with make_client() as client:
        result = UploadRunner("hash", settings, hash_planner, client=client, store=MemoryStore()).handle(
            event("in/a.bin"), CONTEXT
        )
    assert result["submitted"] == 1
    body = fromstring(route.calls[0].request.content)
    assert [name for name in CALLBACK_FIELDS if body.find(name) is not None] == []
    assert body.findtext("QueueId") == "p-media"
    assert body.findtext("Operation/UserData", "").startswith("cf1.hash.")


@respx.mock
def test_url_and_tdmq_deliveries_still_set_their_fields() -> None:
    route = respx.post(f"{CI}/file_jobs").mock(side_effect=[submitted("f1"), submitted("f2")])
    tdmq = {"CIFLOW_CALLBACK_TYPE": "TDMQ", "CIFLOW_TDMQ_REGION": "gz", "CIFLOW_TDMQ_NAME": "results"}
    for env in (ENV, {**ENV, **tdmq}):
        settings = load_settings(UploadSettings, env)
        with make_client() as client:
            UploadRunner("hash", settings, hash_planner, client=client, store=MemoryStore()).handle(
                event("in/a.bin"), CONTEXT
            )
    url_body, tdmq_body = (fromstring(call.request.content) for call in route.calls)
    assert (url_body.findtext("CallBackType"), url_body.find("CallBackMqConfig")) == ("Url", None)
    assert httpx.URL(cast(str, url_body.findtext("CallBack"))).params["token"] == ENV["CIFLOW_CALLBACK_TOKEN"]
    assert (tdmq_body.findtext("CallBackType"), tdmq_body.find("CallBack")) == ("TDMQ", None)
    assert tdmq_body.findtext("CallBackMqConfig/MqName") == "results"


def test_queue_delivery_gives_moderation_no_conf_callback() -> None:
    settings = load_settings(moderate.ModerateSettings, {**WITHOUT_CALLBACK, "CIFLOW_CALLBACK_TYPE": "Queue"})
    captured: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(200, content=b"<Response><JobsDetail><JobId>st1</JobId></JobsDetail></Response>")

    with respx.mock() as router, make_client() as client:
        router.post(url__startswith=CI).mock(side_effect=answer)
        UploadRunner("moderate", settings, moderate.plan, client=client, store=MemoryStore()).handle(
            event("in/photo.png"), CONTEXT
        )
    assert len(captured) == 1
    body = fromstring(captured[0].content)
    assert body.find("Conf") is not None
    assert body.find("Conf/Callback") is None


def test_missing_credentials_fail_the_record_permanently_not_forever_retried() -> None:
    # The cloud default store (COS markers) signs its first request at claim time: no credentials is a
    # ConfigError, which no retry of the event can fix.
    settings = load_settings(UploadSettings, {**ENV, "CIFLOW_IDEMPOTENCY_STORE": "cos"})
    with CiClient(Endpoint("ap-guangzhou", "media-1250000000"), environment_credentials({})) as client:
        result = UploadRunner("hash", settings, hash_planner, client=client).handle(event("in/a.bin"), CONTEXT)
    (outcome,) = result["outcomes"]
    assert (outcome["status"], outcome["transient"]) == ("failed", False)
    assert "TENCENTCLOUD_SECRETID" in outcome["error"]
