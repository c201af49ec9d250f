"""The unzip planner: FileUncompress for archive suffixes, prefix and password from config, size refusals."""

import base64

import pytest

from ciflow.concerns.unzip import UnzipSettings, plan
from ciflow.config import load_settings
from ciflow.errors import ConfigError

from .helpers import BUCKET, CALLBACK, ENV, REGION, assert_request, body, ref, steps, url_delivery, user_data


def settings(**env: str) -> UnzipSettings:
    return load_settings(UnzipSettings, {**ENV, **env})


def expected(key: str, prefix: str, replaced: str = "0", **extra: str) -> dict[str, str]:
    return {
        "Tag": "FileUncompress",
        "Input/Object": key,
        "Operation/FileUncompressConfig/Prefix": prefix,
        "Operation/FileUncompressConfig/PrefixReplaced": replaced,
        **extra,
        "Operation/Output/Region": REGION,
        "Operation/Output/Bucket": BUCKET,
        "Operation/UserData": user_data("unzip", "unzip"),
        "QueueId": "p-media-queue",
        "CallBack": CALLBACK,
        "CallBackFormat": "JSON",
        "CallBackType": "Url",
    }


def test_defaults() -> None:
    loaded = settings()
    assert loaded.suffixes == ["tar.gz", "rar", "tar", "tgz", "zip", "7z"]  # longest first
    assert loaded.prefix is None
    assert loaded.prefix_replaced == "0"
    assert loaded.password is None
    assert loaded.max_archive_size == 5 * 1024**3


@pytest.mark.parametrize(
    ("key", "prefix"),
    [
        ("inbox/photos.zip", "ciflow-out/unzip/inbox/photos/"),
        ("inbox/Backup.TAR.GZ", "ciflow-out/unzip/inbox/Backup/"),
        ("inbox/logs.tgz", "ciflow-out/unzip/inbox/logs/"),
        ("inbox/a.tar", "ciflow-out/unzip/inbox/a/"),
        ("inbox/相册 2024.rar", "ciflow-out/unzip/inbox/相册 2024/"),
        ("inbox/x.7z", "ciflow-out/unzip/inbox/x/"),
        ("inbox/.zip", "ciflow-out/unzip/inbox/.zip/"),
    ],
)
def test_archives_extract_under_the_output_prefix(key: str, prefix: str) -> None:
    jobs = plan(ref(key), settings(), url_delivery("unzip"))
    assert steps(jobs) == ["unzip"]
    assert_request(jobs[0], "POST", "ci", "/file_jobs", expected(key, prefix))


def test_configured_prefix_replaced_and_password() -> None:
    loaded = settings(
        CIFLOW_UNZIP_PREFIX="extracted/",
        CIFLOW_UNZIP_PREFIX_REPLACED="1",
        CIFLOW_UNZIP_PASSWORD="s3cret pässword",
        CIFLOW_OUTPUT_PREFIX="derived/",
        CIFLOW_OUTPUT_BUCKET="results-1250000000",
        CIFLOW_OUTPUT_REGION="ap-shanghai",
    )
    [job] = plan(ref("in/a.zip"), loaded, url_delivery("unzip"))
    key = base64.b64encode("s3cret pässword".encode()).decode()
    want = expected("in/a.zip", "derived/extracted/", "1", **{"Operation/FileUncompressConfig/UnCompressKey": key})
    want |= {"Operation/Output/Region": "ap-shanghai", "Operation/Output/Bucket": "results-1250000000"}
    assert_request(job, "POST", "ci", "/file_jobs", want)
    assert "pässword" not in repr(loaded)


def test_configured_suffixes_replace_the_defaults() -> None:
    loaded = settings(CIFLOW_UNZIP_SUFFIXES=".ZIP, jar")
    assert loaded.suffixes == ["jar", "zip"]
    assert steps(plan(ref("lib/app.jar"), loaded, url_delivery("unzip"))) == ["unzip"]
    assert plan(ref("lib/app.rar"), loaded, url_delivery("unzip")) == []


@pytest.mark.parametrize("key", ["inbox/photo.jpg", "inbox/zip", "inbox/a.gz", "inbox/archive.zip/", "inbox/a.zipx"])
def test_other_objects_are_not_for_unzip(key: str) -> None:
    assert plan(ref(key, content_type="application/zip"), settings(), url_delivery("unzip")) == []


def test_archives_over_the_limit_are_refused() -> None:
    loaded = settings(CIFLOW_UNZIP_MAX_SIZE="1000")
    assert steps(plan(ref("a.zip", size=1000), loaded, url_delivery("unzip"))) == ["unzip"]
    with pytest.raises(ValueError, match=r"1001 bytes is over CIFLOW_UNZIP_MAX_SIZE \(1000 bytes\)"):
        plan(ref("a.zip", size=1001), loaded, url_delivery("unzip"))


def test_archives_of_unknown_size_are_refused() -> None:
    with pytest.raises(ValueError, match="size unknown"):
        plan(ref("a.zip", size=None), settings(), url_delivery("unzip"))


def test_archives_of_another_bucket_are_refused() -> None:
    with pytest.raises(ValueError, match="other-1250000000"):
        plan(ref("a.zip", bucket="other-1250000000"), settings(), url_delivery("unzip"))


def test_no_password_no_key_element() -> None:
    [job] = plan(ref("a.zip"), settings(CIFLOW_UNZIP_PASSWORD=""), url_delivery("unzip"))
    assert body(job).find("Operation/FileUncompressConfig/UnCompressKey") is None


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"CIFLOW_UNZIP_PREFIX_REPLACED": "3"}, "CIFLOW_UNZIP_PREFIX_REPLACED"),
        ({"CIFLOW_UNZIP_PREFIX": "/abs/"}, "CIFLOW_UNZIP_PREFIX"),
        ({"CIFLOW_UNZIP_PREFIX": "no-slash"}, "CIFLOW_UNZIP_PREFIX"),
        ({"CIFLOW_UNZIP_MAX_SIZE": "0"}, "CIFLOW_UNZIP_MAX_SIZE"),
        ({"CIFLOW_UNZIP_MAX_SIZE": str(6 * 1024**4)}, "CIFLOW_UNZIP_MAX_SIZE"),
        ({"CIFLOW_UNZIP_SUFFIXES": ","}, "CIFLOW_UNZIP_SUFFIXES"),
        ({"CIFLOW_UNZIP_SUFFIXES": "zip,."}, "CIFLOW_UNZIP_SUFFIXES"),
    ],
)
def test_misconfiguration_names_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(**env)
    assert set(caught.value.problems) == {variable}
