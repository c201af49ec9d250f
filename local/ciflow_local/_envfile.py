"""Deployment variables from ``KEY=VALUE`` env files (the dotenv format), blank values dropped as ciflow does."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from dotenv.parser import parse_stream

__all__ = ["EnvFileError", "read_env_file", "merged_environment"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class EnvFileError(ValueError):
    """The env file is missing or has a line that is not ``KEY=VALUE``."""


def read_env_file(path: Path) -> dict[str, str]:
    """The variables ``path`` sets, in file order; ``KEY=`` (blank) and bare ``KEY`` lines count as unset."""
    if not path.is_file():
        raise EnvFileError(f"{path}: no such env file")
    values: dict[str, str] = {}
    with path.open(encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            if binding.error or (binding.key is not None and not _NAME.match(binding.key)):
                raise EnvFileError(
                    f"{path}:{binding.original.line}: not KEY=VALUE: {binding.original.string.strip()!r}"
                )
            if binding.key is not None:
                values.pop(binding.key, None)  # the last assignment wins, and keeps its place
                if binding.value is not None and binding.value.strip():
                    values[binding.key] = binding.value
    return values


def merged_environment(base: Mapping[str, str], env_file: Path | None) -> dict[str, str]:
    """``base`` (usually ``os.environ``) with the env file's variables on top, as ``sam local --env-vars`` does."""
    merged = dict(base)
    if env_file is not None:
        merged.update(read_env_file(env_file))
    return merged
