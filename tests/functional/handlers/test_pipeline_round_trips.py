"""The round trips of one upload with the cloud default store (COS markers): claim, one intent per step, the
submit, one job id per step but the last, which ``complete`` carries; and two invocations of one event at once."""

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import respx

from ciflow.config import load_settings
from ciflow.handlers import UploadRunner, UploadSettings
from ciflow.handlers._outcome import RetryableInvocationError
from ciflow.idempotency import CosMarkerStore
from tests.functional.handlers.test_pipeline import CI, CONTEXT, ENV, event, hash_planner, make_client, submitted
from tests.support.fake_cos import FakeCos

COS = "https://media-1250000000.cos.ap-guangzhou.myqcloud.com"
SETTINGS = {**ENV, "CIFLOW_IDEMPOTENCY_STORE": "cos"}


def record_order(router: respx.Router, fake: FakeCos, order: list[str], answers: Iterator[httpx.Response]) -> None:
    """Send marker requests to ``fake`` and submits to ``answers``, noting each (marker requests by method)."""

    def marker(request: httpx.Request) -> httpx.Response:
        order.append(request.method)
        return fake(request)

    def submit(request: httpx.Request) -> httpx.Response:
        order.append("POST")
        return next(answers)

    router.route(url__startswith=COS + "/").mock(side_effect=marker)
    router.post(f"{CI}/file_jobs").mock(side_effect=submit)


def test_a_one_step_upload_is_four_round_trips_and_complete_carries_its_job_id() -> None:
    settings = load_settings(UploadSettings, SETTINGS)
    fake = FakeCos()
    with respx.mock(assert_all_called=False) as router, make_client() as client:
        order: list[str] = []
        record_order(router, fake, order, iter([submitted("f-md5")]))
        runner = UploadRunner("hash", settings, hash_planner, client=client)
        result = runner.handle(event("in/a.bin"), CONTEXT)
    assert result["submitted"] == 1
    assert order == ["PUT", "PUT", "POST", "PUT"]  # claim, intent, submit, complete with the job id
    assert fake.requests[0].headers["x-cos-forbid-overwrite"] == "true"
    intent, done = (json.loads(request.content) for request in fake.requests[1:])
    assert (intent["state"], intent["jobs"]) == ("in_progress", {"md5": "pending"})
    assert (done["state"], done["jobs"]) == ("completed", {"md5": "f-md5"})
    assert len({body["owner"] for body in (intent, done)}) == 1


def test_a_two_step_upload_writes_the_first_job_id_on_its_own_and_the_last_with_complete() -> None:
    settings = load_settings(UploadSettings, SETTINGS)
    fake = FakeCos()
    with respx.mock(assert_all_called=False) as router, make_client() as client:
        order: list[str] = []
        record_order(router, fake, order, iter([submitted("f-md5"), submitted("f-sha")]))
        UploadRunner("hash", settings, hash_planner, client=client).handle(event("in/a.two"), CONTEXT)
    assert order == ["PUT", "PUT", "POST", "PUT", "PUT", "POST", "PUT"]
    written = [json.loads(request.content)["jobs"] for request in fake.requests]
    assert written[1:] == [
        {"md5": "pending"},
        {"md5": "f-md5"},
        {"md5": "f-md5", "sha256": "pending"},
        {"md5": "f-md5", "sha256": "f-sha"},
    ]


def test_two_invocations_of_one_event_at_once_submit_each_step_once() -> None:
    settings = load_settings(UploadSettings, SETTINGS)
    fake = FakeCos()
    keys = [f"in/{index}.two" for index in range(6)]
    with respx.mock(assert_all_called=False) as router, make_client() as first, make_client() as second:
        fake.mount(router, COS)
        counter = iter(range(1000))
        submit = router.post(f"{CI}/file_jobs").mock(side_effect=lambda request: submitted(f"f{next(counter)}"))
        runners = [UploadRunner("hash", settings, hash_planner, client=c) for c in (first, second)]
        assert all(isinstance(runner.store, CosMarkerStore) for runner in runners)
        barrier = threading.Barrier(2)
        results: list[dict[str, Any]] = []

        def invoke(runner: UploadRunner[UploadSettings]) -> None:
            barrier.wait()
            try:
                results.append(runner.handle(event(*keys), CONTEXT))
            except RetryableInvocationError as exc:  # the record the other invocation owns: retried by SCF
                results.append(exc.summary.as_dict())

        threads = [threading.Thread(target=invoke, args=(runner,)) for runner in runners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert submit.call_count == 2 * len(keys)  # each upload's two steps, once
    statuses = [outcome["status"] for result in results for outcome in result["outcomes"]]
    assert statuses.count("submitted") == len(keys)
    markers = [json.loads(stored.body) for stored in fake.objects.values()]
    assert len(markers) == len(keys)
    assert all(marker["state"] == "completed" and len(marker["jobs"]) == 2 for marker in markers)
