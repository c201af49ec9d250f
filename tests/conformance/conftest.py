"""The official SDK (``cos-python-sdk-v5``) against a running emulator, configured exactly as the README shows.

The client is built by running the README's "Use the emulator with the official SDK" snippet (only its endpoint
replaced by this session's emulator), so the documented configuration is the one every conformance test uses.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ciflow_local.emulator import Emulator

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Use the emulator with the official SDK"
DOCUMENTED_ENDPOINT = "http://127.0.0.1:9000"
REGION = "ap-guangzhou"
BUCKET = "conformance-1250000000"


def readme_snippet() -> str:
    """The first ```python block of the README's SDK section."""
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    match = re.search(r"```python\n(.*?)```", text[start:], re.DOTALL)
    assert match is not None, f"no python block under {SECTION!r}"
    return match.group(1)


def run_snippet(endpoint: str) -> dict[str, Any]:
    """Run the README snippet against ``endpoint``; its namespace (``client``, ``config``…)."""
    snippet = readme_snippet()
    assert DOCUMENTED_ENDPOINT in snippet, "the README snippet names the emulator's default endpoint"
    namespace: dict[str, Any] = {"__name__": "readme_snippet"}
    exec(compile(snippet.replace(DOCUMENTED_ENDPOINT, endpoint), str(README), "exec"), namespace)  # noqa: S102
    return namespace


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(tmp_path_factory.mktemp("conformance"), region=REGION) as emu:
        yield emu


@pytest.fixture(scope="session")
def readme_namespace(emulator: Emulator) -> dict[str, Any]:
    return run_snippet(emulator.url)


@pytest.fixture(scope="session")
def sdk(readme_namespace: dict[str, Any]) -> Any:
    """The README's ``client``: a ``qcloud_cos.CosS3Client`` on the emulator."""
    return readme_namespace["client"]


@pytest.fixture
def key(request: pytest.FixtureRequest) -> str:
    """A key of this test's own."""
    return f"{request.node.name}/object.txt"


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo's generated media (image, video, audio, text, PDF, zip), by file name."""
    from ciflow_local._samples import generate_samples

    return dict(generate_samples(tmp_path_factory.mktemp("samples")))
