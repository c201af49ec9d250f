"""Deployment: the manifest, serverless.yml rendered from it and read back as the deploy tool reads it, checks."""

from ._cli import add_deploy_parsers, run_config, run_deploy
from ._component import InstancePlan, Problem, ScfFunction
from ._deployment import describe, errors_of, read_deployment
from ._manifest import FUNCTIONS, CosTrigger, FunctionSpec, function, settings_problems
from ._readers import read_instance
from ._render import INSTANCES, render_all, write_all

__all__ = [
    "FUNCTIONS",
    "INSTANCES",
    "CosTrigger",
    "FunctionSpec",
    "InstancePlan",
    "Problem",
    "ScfFunction",
    "add_deploy_parsers",
    "describe",
    "errors_of",
    "function",
    "read_deployment",
    "read_instance",
    "render_all",
    "run_config",
    "run_deploy",
    "settings_problems",
    "write_all",
]
