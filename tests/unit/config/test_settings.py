"""Settings: read from the environment once, every bad variable named in one error."""

import pytest

from ciflow.config import CoreSettings, load_settings, shared_client
from ciflow.errors import ConfigError
from ciflow.signing import environment_credentials

GOOD = {"CIFLOW_REGION": "ap-guangzhou", "CIFLOW_BUCKET": "media-1250000000"}


def test_minimal_environment_gives_defaults() -> None:
    settings = load_settings(CoreSettings, GOOD)
    assert settings.region == "ap-guangzhou"
    assert settings.scheme == "https"
    assert settings.client_endpoint().virtual_host("ci") == "media-1250000000.ci.ap-guangzhou.myqcloud.com"
    assert settings.client_timeout().connect == 3.0


def test_every_bad_variable_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            CoreSettings,
            {
                "CIFLOW_REGION": "mars-1",
                "CIFLOW_BUCKET": "NoAppId",
                "CIFLOW_READ_TIMEOUT": "-1",
                "CIFLOW_RETRY_ATTEMPTS": "many",
                "CIFLOW_ENDPOINT": "ftp://host",
                "CIFLOW_LOG_LEVEL": "LOUD",
            },
        )
    assert set(caught.value.problems) == {
        "CIFLOW_REGION",
        "CIFLOW_BUCKET",
        "CIFLOW_READ_TIMEOUT",
        "CIFLOW_RETRY_ATTEMPTS",
        "CIFLOW_ENDPOINT",
        "CIFLOW_LOG_LEVEL",
    }
    assert "CIFLOW_BUCKET" in str(caught.value)


def test_missing_required_variables_say_not_set() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(CoreSettings, {})
    assert caught.value.problems == {"CIFLOW_REGION": "not set", "CIFLOW_BUCKET": "not set"}


def test_scf_region_and_short_codes_are_accepted() -> None:
    settings = load_settings(CoreSettings, {"TENCENTCLOUD_REGION": "sh", "CIFLOW_BUCKET": "a-1250000000"})
    assert settings.region == "ap-shanghai"


def test_endpoint_override_forms() -> None:
    plain = load_settings(CoreSettings, {**GOOD, "CIFLOW_ENDPOINT": "http://127.0.0.1:9000"}).client_endpoint()
    assert plain.base_url("ci") == ("http://127.0.0.1:9000", "media-1250000000.ci.ap-guangzhou.myqcloud.com")
    template = load_settings(
        CoreSettings, {**GOOD, "CIFLOW_ENDPOINT": "https://{bucket}.{service}-internal.{region}.tencentcos.cn"}
    ).client_endpoint()
    assert template.base_url("cos") == (
        "https://media-1250000000.cos-internal.ap-guangzhou.tencentcos.cn",
        "media-1250000000.cos-internal.ap-guangzhou.tencentcos.cn",
    )


def test_handler_settings_extend_the_core() -> None:
    from pydantic import Field

    class HashSettings(CoreSettings):
        algorithm: str = Field(default="md5", pattern="^(md5|sha1|sha256)$", validation_alias="CIFLOW_HASH_ALGORITHM")

    assert load_settings(HashSettings, {**GOOD, "CIFLOW_HASH_ALGORITHM": "sha256"}).algorithm == "sha256"
    with pytest.raises(ConfigError) as caught:
        load_settings(HashSettings, {**GOOD, "CIFLOW_HASH_ALGORITHM": "crc32"})
    assert list(caught.value.problems) == ["CIFLOW_HASH_ALGORITHM"]


def test_one_client_per_process_and_settings() -> None:
    first = load_settings(CoreSettings, GOOD)
    again = load_settings(CoreSettings, dict(GOOD))
    assert shared_client(first) is shared_client(again)
    other = load_settings(CoreSettings, {**GOOD, "CIFLOW_BUCKET": "other-1250000000"})
    assert shared_client(other) is not shared_client(first)


def test_credentials_come_from_scf_variables_on_every_read() -> None:
    env = {"TENCENTCLOUD_SECRETID": "AKID1", "TENCENTCLOUD_SECRETKEY": "key-one", "TENCENTCLOUD_SESSIONTOKEN": "t1"}
    read = environment_credentials(env)
    assert read().token == "t1"
    env["TENCENTCLOUD_SESSIONTOKEN"] = "t2"
    assert read().token == "t2"
    assert "key-one" not in repr(read())
    assert "t2" not in repr(read())


def test_missing_credentials_name_the_variables() -> None:
    with pytest.raises(ConfigError) as caught:
        environment_credentials({"TENCENTCLOUD_SECRETID": "AKID1"})()
    assert list(caught.value.problems) == ["TENCENTCLOUD_SECRETKEY"]


def test_handler_settings_with_lists_share_one_client_per_endpoint() -> None:
    from ciflow.handlers import UploadSettings

    env = {
        **GOOD,
        "CIFLOW_USERDATA_SECRET": "0123456789abcdef",
        "CIFLOW_CALLBACK_TYPE": "Queue",
        "CIFLOW_FILTER_SUFFIXES": ".mp4,.mov",
    }
    first = load_settings(UploadSettings, env)
    second = load_settings(UploadSettings, {**env, "CIFLOW_FILTER_SUFFIXES": ".mp3"})
    assert shared_client(first) is shared_client(second)
    assert shared_client(first).timeout.read == 15.0


def test_empty_variables_count_as_unset() -> None:
    settings = load_settings(CoreSettings, {**GOOD, "CIFLOW_ENDPOINT": "", "CIFLOW_READ_TIMEOUT": ""})
    assert settings.endpoint is None
    assert settings.read_timeout == 15.0
