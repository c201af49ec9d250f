"""Fuzz properties: mutated COS events, API Gateway events and callback bodies keep the outcome contract."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings

from tests.fuzz.conftest import FUZZ_PROFILE
from tests.fuzz.targets import TARGETS


@pytest.fixture(scope="module")
def harnesses() -> Iterator[Callable[[str], Any]]:
    built: dict[str, Any] = {}

    def harness(name: str) -> Any:
        if name not in built:
            built[name] = TARGETS[name].harness()
        return built[name]

    yield harness
    for built_harness in built.values():
        built_harness.close()


def _property(name: str, share: float = 1.0) -> Callable[..., None]:
    """A property over one target; ``share`` scales the profile's examples (for the slow generators)."""
    target = TARGETS[name]
    profile = settings.get_profile(FUZZ_PROFILE)

    @settings(profile, max_examples=max(1, int(profile.max_examples * share)))
    @given(drawn=target.strategy)
    def check(harnesses: Callable[[str], Any], drawn: Any) -> None:
        target.run(harnesses(name), drawn)

    return check


test_callback_xml_bodies_keep_the_contract = _property("callback-xml")
test_callback_json_bodies_keep_the_contract = _property("callback-json")
test_generated_jobs_detail_keeps_the_contract = _property("callback-jobsdetail", share=0.5)
test_api_gateway_events_keep_the_contract = _property("apigw")
test_cos_events_keep_the_contract = _property("cos-upload")
