"""The README's SDK section: its snippet is what the suite runs, and its support table names real tests."""

import ast
import re
from pathlib import Path
from typing import Any

from .conftest import README, SECTION

HERE = Path(__file__).resolve().parent
#: Test modules about the README and the SDK-suite runner rather than SDK calls.
NOT_SDK_CALLS = {"test_readme.py", "test_sdk_suite_shim.py"}
ROW = re.compile(r"^\| `(?P<call>[a-z0-9_]+)` \| (?P<supported>yes|no) \| (?P<tests>.+?) \|$")


def support_table() -> list[dict[str, Any]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    table = section[section.index("### Support table") :]
    rows = []
    for line in table.splitlines():
        if line.startswith("## "):
            break
        match = ROW.match(line)
        assert match or not line.startswith("| `"), f"malformed support table row: {line}"
        if match:
            tests = re.findall(r"`([^`]+)`", match["tests"])
            rows.append({"call": match["call"], "supported": match["supported"], "tests": tests})
    return rows


def conformance_tests() -> set[str]:
    """``file.py::test_name`` of every test function in this directory."""
    names = set()
    for path in HERE.glob("test_*.py"):
        if path.name in NOT_SDK_CALLS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {f"{path.name}::{node.name}" for node in tree.body if isinstance(node, ast.FunctionDef)}
    return {name for name in names if name.split("::")[1].startswith("test_")}


def calls_in(test_id: str) -> set[str]:
    """The SDK methods a test calls (``sdk.put_object(...)``, ``client.x(...)``)."""
    file_name, function = test_id.split("::")
    tree = ast.parse((HERE / file_name).read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    calls = {n.func.attr for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
    helpers = {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    for helper in helpers:
        found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == helper]
        for helper_node in found:
            calls |= {
                n.func.attr
                for n in ast.walk(helper_node)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            }
    return calls


def test_readme_snippet_runs_against_the_emulator(readme_namespace: dict[str, Any]) -> None:
    assert readme_namespace["body"] == b"hello"
    assert readme_namespace["job"]["Tag"] == "FileHashCode"
    assert readme_namespace["job"]["State"] in {"Submitted", "Running", "Success"}
    config = readme_namespace["config"]
    assert config._scheme == "http"
    assert config._ip is None, "the documented configuration routes by proxy, not IP/Port"


def test_support_table_rows_name_tests_that_call_them() -> None:
    rows = support_table()
    assert len(rows) >= 20
    known = conformance_tests()
    for row in rows:
        assert row["tests"], f"{row['call']}: no conformance test named"
        for test_id in row["tests"]:
            assert test_id in known, f"{row['call']}: {test_id} is not a test in tests/conformance"
            assert row["call"] in calls_in(test_id), f"{test_id} does not call {row['call']}"


def test_every_conformance_test_is_in_the_table() -> None:
    named = {test_id for row in support_table() for test_id in row["tests"]}
    unlisted = conformance_tests() - named
    assert not unlisted, f"conformance tests no table row names: {sorted(unlisted)}"
