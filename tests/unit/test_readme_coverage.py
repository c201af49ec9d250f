"""README's CI coverage table matches the code: every typed tag has a row naming its model module and a worker, every
API row names operation builders that exist."""

import re
from pathlib import Path

from ciflow import operations
from ciflow.models.callbacks import DETAIL_MODELS
from ciflow_local.emulator.workers import WORKERS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## CI job and API coverage", 1)[1].split("\n## ", 1)[0]
TAG_ROW = re.compile(r"^\| `(\w+)` \| `(\w+)`", re.MULTILINE)
API_ROW = re.compile(r"^\| [a-z][^|]*\| [^|]*/ ([^|]+)\|", re.MULTILINE)


def test_every_typed_tag_has_one_row_naming_its_model_module() -> None:
    rows = TAG_ROW.findall(SECTION)
    assert len(rows) == len({tag for tag, _ in rows}), "a tag has two rows"
    assert {tag for tag, _ in rows} == set(DETAIL_MODELS)
    for tag, module in rows:
        assert DETAIL_MODELS[tag].partition(":")[0] == module, tag


def test_every_tag_in_the_table_has_an_emulator_worker() -> None:
    assert {tag for tag, _ in TAG_ROW.findall(SECTION)} <= set(WORKERS)


def test_api_rows_name_builders_that_exist() -> None:
    named = [name.strip(" `") for cell in API_ROW.findall(SECTION) for name in cell.split(",")]
    assert len(named) > 30
    missing = [name for name in named if name not in operations.__all__]
    assert missing == []
