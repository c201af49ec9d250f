"""Each function imports only what its path uses: its entry, loaded in a fresh interpreter as SCF loads it, leaves
exactly the committed set of ``ciflow`` modules in ``sys.modules`` (``expected/<function>.txt``).

When a change legitimately adds or drops a module, update the file (the failure message shows the diff); when
it does not, the change made a function import what it does not use.
"""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FUNCTIONS = ROOT / "functions"
EXPECTED = Path(__file__).resolve().parent / "expected"
UPLOAD_FUNCTIONS = ("hash", "moderate", "previews", "transcode", "unzip")
ALL_FUNCTIONS = (*UPLOAD_FUNCTIONS, "callback", "cleanup")

#: What each function's settings need to load (every function validates its settings at import).
ENV = {
    "CIFLOW_REGION": "ap-guangzhou",
    "CIFLOW_BUCKET": "media-1250000000",
    "CIFLOW_USERDATA_SECRET": "layers-userdata-secret",
    "CIFLOW_CALLBACK_URL": "https://service-x.gz.apigw.tencentcs.com/release/callback",
    "CIFLOW_CALLBACK_TOKEN": "callback-token-0123456789",
    "CIFLOW_TRANSCODE_TEMPLATES": "t0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "TENCENTCLOUD_SECRETID": "AKIDlayers",
    "TENCENTCLOUD_SECRETKEY": "layers-secret-key",
}

#: Loads the entry as SCF does (a file, module name ``index``), then lists the ciflow modules loaded.
PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("index", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.main_handler)
print(json.dumps(sorted(name for name in sys.modules if name == "ciflow" or name.startswith("ciflow."))))
"""

#: The model families (``ciflow.models.<family>``) each upload function's path uses.
FAMILIES = {
    "hash": {"files"},
    "unzip": {"files"},
    "transcode": {"media"},
    "moderate": {"moderation"},
    "previews": {"media", "pictures", "documents"},
}


def loaded_modules(function: str) -> set[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CIFLOW_", "TENCENTCLOUD_"))}
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", PROBE, str(FUNCTIONS / function / "index.py")],
        env={**env, **ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


def expected_modules(function: str) -> set[str]:
    lines = (EXPECTED / f"{function}.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def _diff(function: str, loaded: set[str], expected: set[str]) -> str:
    extra, missing = sorted(loaded - expected), sorted(expected - loaded)
    return (
        f"functions/{function}/index.py loads a different set of ciflow modules than "
        f"tests/unit/layers/expected/{function}.txt:\n"
        + "".join(f"  + {name}  (loaded, not expected)\n" for name in extra)
        + "".join(f"  - {name}  (expected, not loaded)\n" for name in missing)
    )


def _check(function: str) -> set[str]:
    loaded, expected = loaded_modules(function), expected_modules(function)
    assert loaded == expected, _diff(function, loaded, expected)
    return loaded


def _families(loaded: set[str]) -> set[str]:
    families = {"media", "files", "documents", "pictures", "moderation", "callbacks"}
    return {name.split(".")[2] for name in loaded if name.startswith("ciflow.models.")} & families


def _package_loaded(loaded: set[str], package: str) -> bool:
    return any(name == package or name.startswith(package + ".") for name in loaded)


def test_hash_imports_only_its_path() -> None:
    loaded = _check("hash")
    assert _families(loaded) == FAMILIES["hash"]


def test_unzip_imports_only_its_path() -> None:
    loaded = _check("unzip")
    assert _families(loaded) == FAMILIES["unzip"]


def test_transcode_imports_only_its_path() -> None:
    loaded = _check("transcode")
    assert _families(loaded) == FAMILIES["transcode"]


def test_moderate_imports_only_its_path() -> None:
    loaded = _check("moderate")
    assert _families(loaded) == FAMILIES["moderate"]


def test_previews_imports_only_its_path() -> None:
    loaded = _check("previews")
    assert _families(loaded) == FAMILIES["previews"]


def test_callback_imports_only_its_path() -> None:
    loaded = _check("callback")
    for package in ("ciflow.handlers", "ciflow.concerns", "ciflow.operations", "ciflow.cleanup", "ciflow.api3"):
        assert not _package_loaded(loaded, package), f"the callback entry loads {package}"


def test_cleanup_imports_only_its_path() -> None:
    loaded = _check("cleanup")
    for package in ("ciflow.handlers", "ciflow.concerns"):
        assert not _package_loaded(loaded, package), f"the cleanup entry loads {package}"


@pytest.mark.parametrize("function", UPLOAD_FUNCTIONS)
def test_an_upload_function_loads_no_other_concern_nor_the_result_side(function: str) -> None:
    loaded = expected_modules(function)
    others = {f"ciflow.concerns.{name}" for name in UPLOAD_FUNCTIONS if name != function}
    assert loaded & others == set()
    for package in ("ciflow.callback", "ciflow.cleanup", "ciflow.routing", "ciflow.results", "ciflow.api3"):
        assert not _package_loaded(loaded, package), f"{function} loads {package}"


def _imported(function: str) -> set[str]:
    tree = ast.parse((FUNCTIONS / function / "index.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_a_function_imports_only_its_concerns_entry(function: str) -> None:
    allowed = (
        {f"ciflow.concerns.{function}", "ciflow.handlers"} if function in UPLOAD_FUNCTIONS else {f"ciflow.{function}"}
    )
    assert _imported(function) <= allowed, f"functions/{function}/index.py imports {_imported(function) - allowed}"


def test_every_function_is_pinned() -> None:
    assert sorted(path.parent.name for path in FUNCTIONS.glob("*/index.py")) == sorted(ALL_FUNCTIONS)
    assert sorted(path.stem for path in EXPECTED.glob("*.txt")) == sorted(ALL_FUNCTIONS)
