"""The sample events under events/ name the README's bucket and region, so its recipes work on them as they are."""

import json
import re
from pathlib import Path

import pytest

from ciflow.events import EventError, parse_cos_event

ROOT = Path(__file__).resolve().parents[3]
README_BUCKET, README_REGION = "media-1250000000", "ap-guangzhou"


def test_the_readme_names_that_bucket_in_its_recipes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f'Endpoint("{README_REGION}", "{README_BUCKET}")' in readme
    assert re.search(rf"generate-event cos --bucket {README_BUCKET}\b", readme)


@pytest.mark.parametrize("path", sorted((ROOT / "events").glob("cos-*.json")), ids=lambda path: path.name)
def test_every_cos_sample_names_the_readme_bucket(path: Path) -> None:
    event = parse_cos_event(json.loads(path.read_text(encoding="utf-8")))
    refs = [item for _, item in event.records_or_errors()]
    assert refs
    for ref in refs:
        assert not isinstance(ref, EventError), ref
        assert (ref.bucket, ref.region) == (README_BUCKET, README_REGION)
    for record in json.loads(path.read_text(encoding="utf-8"))["Records"]:
        assert record["cos"]["cosObject"]["url"].startswith(f"http://{README_BUCKET}.cos.{README_REGION}.")
