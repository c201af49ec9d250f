"""The import-linter contracts (pyproject.toml, ``[tool.importlinter]``) hold, cover the whole core, and fail on
a violating import: each case adds one bad import to a copy of the code and runs ``lint-imports`` on it."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomli

ROOT = Path(__file__).resolve().parents[3]
CORE = ROOT / "shared" / "ciflow"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONFIG = tomli.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
CONTRACTS = {contract["id"]: contract for contract in CONFIG["contracts"]}


def _packages() -> list[str]:
    """Every package and top-level module of the core (``ciflow.x``), private helpers of the root excepted."""
    names = {path.parent.name for path in CORE.glob("*/__init__.py")}
    names |= {path.stem for path in CORE.glob("*.py") if not path.stem.startswith("_")}
    return sorted(f"ciflow.{name}" for name in names)


def _layered() -> set[str]:
    return {
        name.strip()
        for layer in CONTRACTS["layers"]["layers"]
        for name in layer.replace("|", ":").split(":")
        if name.strip()
    }


def test_every_part_of_the_core_has_its_layer() -> None:
    assert set(_packages()) - _layered() == set(), "add the new package to the layers contract (and README, Layout)"
    assert _layered() - set(_packages()) == set(), "the layers contract names a package that does not exist"


def _private_modules() -> list[tuple[str, str]]:
    """(owning package, private module) for every ``_name`` module or package inside a package of the core."""
    found = [("ciflow", f"ciflow.{path.stem}") for path in CORE.glob("_*.py") if path.stem != "__init__"]
    for path in sorted(CORE.rglob("_*.py")):
        parts = path.relative_to(CORE.parent).with_suffix("").parts
        if path.name == "__init__.py" or len(parts) < 3:
            continue
        found.append((".".join(parts[:-1]), ".".join(parts)))
    return found


def _protected_by(package: str) -> list[str]:
    return [
        expression
        for contract in CONTRACTS.values()
        if contract["type"] == "protected" and contract["allowed_importers"] == [package]
        for expression in contract["protected_modules"]
    ]


@pytest.mark.parametrize(("package", "module"), _private_modules(), ids=lambda value: value)
def test_every_private_module_is_protected_for_its_package(package: str, module: str) -> None:
    expressions = _protected_by(package)
    assert module in expressions or f"{package}.*" in expressions, (
        f"{module} is private to {package}: add it to the protected contract of {package}"
    )


def test_a_wildcard_protects_only_private_modules() -> None:
    for contract in CONTRACTS.values():
        if contract["type"] != "protected":
            continue
        for expression in contract["protected_modules"]:
            if expression.endswith(".*"):
                package = CORE.parent.joinpath(*expression[:-2].split("."))
                public = [p.stem for p in package.glob("[!_]*.py")] + [
                    p.parent.name for p in package.glob("[!_]*/__init__.py")
                ]
                assert public == [], f"{expression} would protect the public modules {public}"


def _lint_imports(cwd: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    args = [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--config", str(cwd / "pyproject.toml")]
    for contract in contracts:
        args += ["--contract", contract]
    return subprocess.run(  # noqa: S603 - the venv's own lint-imports on our own code
        args, cwd=cwd, capture_output=True, text=True, env={"PYTHONPATH": str(cwd / "src"), "PATH": ""}, check=False
    )


def test_the_contracts_hold() -> None:
    result = subprocess.run(  # noqa: S603
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The core and the tooling copied with the project's contracts; each case edits one module of it."""
    root = tmp_path_factory.mktemp("layers")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(CORE, root / "src" / "ciflow", ignore=ignore)
    shutil.copytree(ROOT / "local" / "ciflow_local", root / "src" / "ciflow_local", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


#: (contract, module edited, import added, text the failure must show)
VIOLATIONS = [
    # The cycle issue 14 found: results reading the signed UserData through routing, whose sinks import results.
    (
        "layers",
        "ciflow/results/_model.py",
        "from ..routing import RouteTag",
        "ciflow.results is not allowed to import ciflow.routing",
    ),
    ("no-cycles", "ciflow/results/_model.py", "from ..routing import RouteTag", "No cycles are allowed in ciflow."),
    # The callback loading the upload pipeline (they share a layer, so only this contract sees it).
    (
        "callback-without-pipeline",
        "ciflow/callback/_rules.py",
        "from ..handlers import UploadSettings",
        "ciflow.handlers",
    ),
    ("callback-without-pipeline", "ciflow/callback/_rules.py", "import ciflow.concerns.hash", "ciflow.concerns"),
    # A lower layer importing a higher one.
    (
        "layers",
        "ciflow/idempotency/_store.py",
        "from ..results import JobResult",
        "ciflow.idempotency is not allowed to import ciflow.results",
    ),
    (
        "layers",
        "ciflow/handlers/_plan.py",
        "import ciflow.cleanup",
        "ciflow.handlers is not allowed to import ciflow.cleanup",
    ),
    # Another package's private module: what callback/_handler.py and cleanup/_runner.py did with handlers._entry.
    ("private-handlers", "ciflow/cleanup/_runner.py", "import ciflow.handlers._pipeline", "ciflow.handlers._pipeline"),
    ("private-routing", "ciflow/handlers/_plan.py", "from ..routing._sink import Sink", "ciflow.routing._sink"),
    ("private-models", "ciflow/concerns/hash.py", "from ..models._common import JobInput", "ciflow.models._common"),
    # The core importing the local tooling.
    ("core-without-tooling", "ciflow/config/_settings.py", "import ciflow_local", "ciflow_local"),
]


@pytest.mark.parametrize(("contract", "module", "statement", "shown"), VIOLATIONS)
def test_a_violating_import_breaks_its_contract(
    copy: Path, contract: str, module: str, statement: str, shown: str
) -> None:
    path = copy / "src" / module
    original = path.read_text(encoding="utf-8")
    if contract != "no-cycles":  # the emulator's cycle is no business of these cases (see the no-cycles case)
        before = _lint_imports(copy, contract)
        assert before.returncode == 0, before.stdout + before.stderr
    try:
        path.write_text(original + f"\n{statement}  # noqa\n", encoding="utf-8")
        after = _lint_imports(copy, contract)
    finally:
        path.write_text(original, encoding="utf-8")
    assert after.returncode != 0, f"{contract} kept with `{statement}` in {module}:\n{after.stdout}"
    assert "BROKEN" in after.stdout
    assert shown in after.stdout, after.stdout
