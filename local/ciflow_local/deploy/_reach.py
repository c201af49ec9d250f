"""What a function's code can call: its entry's imports followed statically to the operations they build.

A deliberate over-approximation ("can call"): a module reached by any import counts whole, so a function is
granted every operation any reached module may send, never fewer than it sends.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import ciflow
from ciflow.models.moderation import ModerationKind

from ._manifest import function

__all__ = [
    "OPERATIONS",
    "ROOT",
    "SHARED",
    "Reach",
    "builder_operations",
    "operations_called_by",
    "function_reach",
    "reach_of",
]

SHARED = Path(ciflow.__file__).resolve().parents[1]
ROOT = Path(__file__).resolve().parents[3]
OPERATIONS = "ciflow.operations"

#: The calls in ``ciflow/operations`` whose first argument is the operation's name.
_NAMING_CALLS = frozenset({"Operation", "_submit", "_describe", "_listing", "_cancel", "_call", "_item", "_flag"})


def _names_built(builder: ast.FunctionDef) -> set[str]:
    """Names given in ``Operation("…")``-like calls; an f-string name (moderation) once per ``ModerationKind``."""
    names: set[str] = set()
    for node in ast.walk(builder):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _NAMING_CALLS):
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant):
            names.add(str(first.value))
        elif isinstance(first, ast.JoinedStr):
            for kind in ModerationKind:
                names.add(
                    "".join(str(p.value) if isinstance(p, ast.Constant) else kind.value.title() for p in first.values)
                )
    return names


@lru_cache(maxsize=4)
def builder_operations(shared: Path = SHARED) -> dict[str, frozenset[str]]:
    """Builder of ``ciflow.operations.__all__`` -> the operation name(s) it builds, read from the source."""
    found: dict[str, frozenset[str]] = {}
    for path in sorted((shared / "ciflow" / "operations").glob("_*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and node.name in ciflow.operations.__all__:
                found[node.name] = frozenset(_names_built(node))
    return found


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node that can run, function bodies (lazy imports) included, ``if TYPE_CHECKING:`` bodies not."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        skip = isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        stack.extend(node.orelse if isinstance(node, ast.If) and skip else ast.iter_child_nodes(node))


def _bindings(body: Iterable[ast.stmt]) -> Iterator[ast.ImportFrom]:
    """Module-level ``from … import`` statements, those under ``if`` (TYPE_CHECKING too) or ``try`` included."""
    for node in body:
        if isinstance(node, ast.ImportFrom):
            yield node
        elif isinstance(node, (ast.If, ast.Try)):
            yield from _bindings([*node.body, *node.orelse, *getattr(node, "finalbody", [])])


def _absolute(package: str, module: str | None, level: int) -> str:
    if not level:
        return module or ""
    parts = package.split(".")[: len(package.split(".")) - level + 1]
    return ".".join([*parts, *([module] if module else [])])


class Reach(NamedTuple):
    """What an entry point can reach: modules, and (module, operation name) for each builder they refer to."""

    modules: frozenset[str]
    sites: frozenset[tuple[str, str]]


@dataclass
class _Walk:
    roots: Sequence[Path]
    builders: Mapping[str, frozenset[str]]
    modules: set[str] = field(default_factory=set)
    sites: set[tuple[str, str]] = field(default_factory=set)

    def _path(self, module: str) -> Path | None:
        for root in self.roots:
            base = root.joinpath(*module.split("."))
            for candidate in (base.parent / f"{base.name}.py", base / "__init__.py"):
                if candidate.is_file():
                    return candidate
        return None

    def _home(self, module: str, name: str) -> tuple[str, str]:
        """(module, name) where ``name`` seen in ``module`` is defined, through re-exports; name "" for a module."""
        path = self._path(module)
        if path is None:
            return module, name
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in _bindings(_parse(path).body):
            for alias in node.names:
                source = _absolute(package, node.module, node.level)
                if (alias.asname or alias.name) == name and (source, alias.name) != (module, name):
                    if self._path(f"{source}.{alias.name}"):
                        return f"{source}.{alias.name}", ""
                    return self._home(source, alias.name)
        return module, name

    def bind(self, site: str, base: str, name: str) -> str | None:
        """Follow ``from base import name`` made in ``site``; the module bound, when ``name`` is one."""
        home, original = (f"{base}.{name}", "") if self._path(f"{base}.{name}") else self._home(base, name)
        if home.startswith(OPERATIONS + "."):  # where the builders are defined
            self.sites.update((site, operation) for operation in self.builders.get(original, ()))
        self.visit(home)
        return None if original else home

    def visit(self, module: str, path: Path | None = None) -> None:
        """Follow every import ``module`` can make, and note the builders it refers to."""
        path = path or self._path(module)
        if module in self.modules or path is None or f"{module}.".startswith(OPERATIONS + "."):
            return  # done, outside the roots (standard library, dependencies), or the builders themselves
        self.modules.add(module)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        aliases: dict[str, str] = {}
        nodes = list(_runtime_nodes(_parse(path)))
        for node in nodes:
            if isinstance(node, ast.Import):  # ``import a.b`` binds ``a``: ``a.b.name`` is not followed
                for alias in node.names:
                    self.visit(alias.name)
                    aliases[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(package, node.module, node.level)
                for alias in node.names:
                    bound = self.bind(module, base, alias.name)
                    if bound:
                        aliases[alias.asname or alias.name] = bound
        for node in nodes:
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                self.bind(module, aliases[node.value.id], node.attr)


@lru_cache(maxsize=256)
def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def reach_of(entry: Path, roots: Sequence[Path] = (SHARED,)) -> Reach:
    """What the entry file can call: imports followed through ``roots`` (lazy ones in functions too), a name
    from a package resolved to the module defining it. Module-grained: "can call", an over-approximation."""
    walk = _Walk(roots, builder_operations())
    walk.visit("__entry__", entry)
    return Reach(frozenset(walk.modules), frozenset(walk.sites))


@lru_cache(maxsize=16)
def function_reach(function_key: str) -> Reach:
    return reach_of(ROOT / "functions" / function(function_key).key / "index.py")


def operations_called_by(function_key: str) -> set[str]:
    """Operation names the function's code can call (an over-approximation, see ``reach_of``)."""
    return {operation for _, operation in function_reach(function_key).sites}
