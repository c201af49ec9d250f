"""Shared for the deployment tests: the repository's deploy/ folder and its example variables."""

from pathlib import Path

import pytest

from ciflow_local._envfile import read_env_file

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
BEFORE = ROOT / "tests" / "fixtures" / "deploy" / "serverless-before-issue-11.yml"


@pytest.fixture
def example_env() -> dict[str, str]:
    return read_env_file(DEPLOY / "example.env")
