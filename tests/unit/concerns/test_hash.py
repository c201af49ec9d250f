"""The hash planner: a FileHashCode job per algorithm, the sync filehash API for small objects, refusals."""

import pytest

from ciflow.concerns.hash import HashSettings, plan
from ciflow.config import load_settings
from ciflow.errors import ConfigError

from .helpers import CALLBACK, ENV, assert_request, body, ref, steps, tdmq_delivery, url_delivery, user_data


def settings(**env: str) -> HashSettings:
    return load_settings(HashSettings, {**ENV, **env})


def test_defaults() -> None:
    loaded = settings()
    assert loaded.algorithms == ["MD5"]
    assert loaded.add_to_header is False
    assert loaded.sync_max_size == 0


def test_one_job_per_algorithm_with_delivery() -> None:
    jobs = plan(
        ref("uploads/视频 final+cut.mp4", size=10_000),
        settings(CIFLOW_HASH_ALGORITHMS="md5, SHA-256,sha1", CIFLOW_HASH_ADD_TO_HEADER="true"),
        url_delivery("hash"),
    )
    assert steps(jobs) == ["md5", "sha256", "sha1"]
    for job, algorithm in zip(jobs, ["MD5", "SHA256", "SHA1"], strict=True):
        assert job.operation.retry == "submit"
        assert_request(
            job,
            "POST",
            "ci",
            "/file_jobs",
            {
                "Tag": "FileHashCode",
                "Input/Object": "uploads/视频 final+cut.mp4",
                "Operation/FileHashCodeConfig/Type": algorithm,
                "Operation/FileHashCodeConfig/AddToHeader": "true",
                "Operation/UserData": user_data("hash", job.step),
                "QueueId": "p-media-queue",
                "CallBack": CALLBACK,
                "CallBackFormat": "JSON",
                "CallBackType": "Url",
            },
        )


def test_add_to_header_is_left_out_when_off() -> None:
    [job] = plan(ref("a.bin"), settings(), url_delivery("hash", queue_id=None))
    assert_request(
        job,
        "POST",
        "ci",
        "/file_jobs",
        {
            "Tag": "FileHashCode",
            "Input/Object": "a.bin",
            "Operation/FileHashCodeConfig/Type": "MD5",
            "Operation/UserData": user_data("hash", "md5"),
            "CallBack": CALLBACK,
            "CallBackFormat": "JSON",
            "CallBackType": "Url",
        },
    )


def test_tdmq_delivery_replaces_the_url() -> None:
    [job] = plan(ref("a.bin"), settings(), tdmq_delivery("hash"))
    root = body(job)
    assert root.find("CallBack") is None
    assert root.findtext("CallBackType") == "TDMQ"
    assert root.findtext("CallBackFormat") == "XML"
    assert root.findtext("CallBackMqConfig/MqRegion") == "gz"
    assert root.findtext("CallBackMqConfig/MqName") == "ciflow-results"
    assert root.findtext("CallBackMqConfig/MqMode") == "Queue"
    assert root.findtext("Operation/UserData") == user_data("hash", "md5")


def test_small_objects_use_the_sync_api() -> None:
    loaded = settings(CIFLOW_HASH_SYNC_MAX_SIZE="1048576", CIFLOW_HASH_ALGORITHMS="sha1,sha256")
    jobs = plan(ref("docs/a b.pdf", size=1_048_576), loaded, url_delivery("hash"))
    assert steps(jobs) == ["sha1-sync", "sha256-sync"]
    for job, algorithm in zip(jobs, ["sha1", "sha256"], strict=True):
        operation = job.operation
        assert (operation.method, operation.service, operation.path) == ("GET", "cos", "/docs/a b.pdf")
        assert operation.params == (("ci-process", "filehash"), ("type", algorithm))
        assert operation.body is None
        assert operation.retry == "idempotent"


def test_sync_api_sends_addtoheader() -> None:
    loaded = settings(CIFLOW_HASH_SYNC_MAX_SIZE="100", CIFLOW_HASH_ADD_TO_HEADER="1")
    [job] = plan(ref("a.bin", size=100), loaded, url_delivery("hash"))
    assert job.operation.params == (("ci-process", "filehash"), ("type", "md5"), ("addtoheader", "true"))


@pytest.mark.parametrize("size", [101, None])
def test_bigger_or_unknown_size_uses_the_job(size: int | None) -> None:
    [job] = plan(ref("a.bin", size=size), settings(CIFLOW_HASH_SYNC_MAX_SIZE="100"), url_delivery("hash"))
    assert job.step == "md5"
    assert (job.operation.method, job.operation.path) == ("POST", "/file_jobs")


def test_zero_byte_object_uses_the_job_when_sync_is_off() -> None:
    [job] = plan(ref("empty.txt", size=0), settings(), url_delivery("hash"))
    assert job.operation.path == "/file_jobs"


def test_folder_markers_are_not_hashed() -> None:
    assert plan(ref("uploads/", size=0), settings(), url_delivery("hash")) == []


def test_objects_of_50_gb_are_refused() -> None:
    with pytest.raises(ValueError, match="50 GB"):
        plan(ref("huge.bin", size=50 * 1024**3), settings(), url_delivery("hash"))
    assert plan(ref("big.bin", size=50 * 1024**3 - 1), settings(), url_delivery("hash"))


def test_objects_of_another_bucket_are_refused() -> None:
    with pytest.raises(ValueError, match="CIFLOW_BUCKET"):
        plan(ref("a.bin", bucket="other-1250000000"), settings(), url_delivery("hash"))


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"CIFLOW_HASH_ALGORITHMS": "md5,crc64"}, "CIFLOW_HASH_ALGORITHMS"),
        ({"CIFLOW_HASH_ALGORITHMS": " , "}, "CIFLOW_HASH_ALGORITHMS"),
        ({"CIFLOW_HASH_SYNC_MAX_SIZE": str(128 * 1024 * 1024)}, "CIFLOW_HASH_SYNC_MAX_SIZE"),
        ({"CIFLOW_HASH_SYNC_MAX_SIZE": "-1"}, "CIFLOW_HASH_SYNC_MAX_SIZE"),
        ({"CIFLOW_HASH_ADD_TO_HEADER": "maybe"}, "CIFLOW_HASH_ADD_TO_HEADER"),
    ],
)
def test_misconfiguration_names_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(**env)
    assert set(caught.value.problems) == {variable}
