"""Run an SCF handler in this process with an SCF-shaped context, as the platform would."""

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["load_handler_module", "scf_context", "invoke"]


def load_handler_module(function: str, functions_dir: Path) -> ModuleType:
    """Import ``functions/<function>/index.py`` under a unique module name (functions do not clash)."""
    path = functions_dir / function / "index.py"
    if not path.is_file():
        known = sorted(p.parent.name for p in functions_dir.glob("*/index.py"))
        raise FileNotFoundError(f"no handler {path}; functions here: {', '.join(known) or 'none'}")
    spec = importlib.util.spec_from_file_location(f"ciflow_function_{function}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def scf_context(function: str, *, timeout_seconds: float = 60.0, memory_mb: int = 128) -> dict[str, Any]:
    """The context dict SCF passes to Python handlers (same keys as the platform's)."""
    return {
        "memory_limit_in_mb": memory_mb,
        "time_limit_in_ms": int(timeout_seconds * 1000),
        "request_id": str(uuid.uuid4()),
        "environment": '{"SCF_NAMESPACE":"default"}',
        "environ": "SCF_NAMESPACE=default",
        "function_version": "$LATEST",
        "function_name": function,
        "namespace": "default",
        "tencentcloud_region": "local",
        "tencentcloud_appid": "0",
        "tencentcloud_uin": "0",
    }


def invoke(function: str, event: Any, *, functions_dir: Path, timeout_seconds: float = 60.0) -> Any:
    """Call ``main_handler(event, context)`` of one function and return what it returns."""
    module = load_handler_module(function, functions_dir)
    handler = getattr(module, "main_handler", None)
    if not callable(handler):
        raise AttributeError(f"{function}/index.py has no main_handler")
    return handler(event, scf_context(function, timeout_seconds=timeout_seconds))
