"""Conformance: every workflow sample of the seed docs decodes into its model and re-encodes to an equal tree.

Fixtures are the samples of F003 L16549-L20020 (``index-workflows.json`` lists each one's lines and every repair
of PDF damage).
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from ciflow.codec import CiModel, to_tree
from ciflow.models import workflows
from ciflow.models.media import SnapshotOperation, TranscodeOperation
from tests.support.seed import assert_complete_and_lossless, decode_sample, entry_id, load_index, root_of

INDEX = load_index("index-workflows.json")

MODELS: dict[tuple[str, str], type[CiModel]] = {
    ("POST /workflow", "request"): workflows.MediaWorkflowRequest,
    ("PUT /workflow/<WorkflowId>", "request"): workflows.MediaWorkflowRequest,
    ("POST /workflow", "response"): workflows.MediaWorkflowResponse,
    ("PUT /workflow/<WorkflowId>", "response"): workflows.MediaWorkflowResponse,
    ("GET /workflow", "response"): workflows.MediaWorkflowListResponse,
    ("DELETE /workflow/<WorkflowId>", "response"): workflows.DeleteWorkflowResponse,
    ("POST /triggerworkflow", "response"): workflows.TriggerWorkflowResponse,
    ("GET /workflowexecution/<RunId>", "response"): workflows.WorkflowExecutionResponse,
    ("GET /workflowexecution", "response"): workflows.WorkflowExecutionListResponse,
}


def topologies(model: BaseModel) -> list[workflows.WorkflowTopology]:
    if isinstance(model, workflows.MediaWorkflowListResponse):
        return [w.topology for w in model.media_workflow_list if w.topology]
    holder = getattr(model, "media_workflow", None) or getattr(model, "workflow_execution", None)
    topology = getattr(holder, "topology", None)
    return [topology] if topology is not None else []


XML_ENTRIES = INDEX  # the WorkflowFinish callbacks are in index.json (test_seed_samples)


@pytest.mark.parametrize("entry", XML_ENTRIES, ids=entry_id)
def test_workflow_sample_parses_and_round_trips(entry: dict[str, Any]) -> None:
    body, model = decode_sample(entry, MODELS[(entry["api"], entry["role"])])
    for topology in topologies(model):
        assert topology.start is not None
        assert topology.start.object_prefix, "no Start.Input.ObjectPrefix"
        for name, node in topology.nodes.items():
            assert name == "Start" or name.startswith(f"{node.type}_"), f"node {name} is not <Type>_<suffix>"
            if node.type in ("Transcode", "Snapshot"):
                assert isinstance(node.operation, TranscodeOperation | SnapshotOperation), f"{name} untyped"
        # (not every successor names a node: the doc's own body 2, L16559, lists SmartCover_1581665960567 for
        # its node SmartCover_1581665960539 — kept as documented, not a PDF repair)
        assert all(topology.successors(source) is not None for source in topology.dependencies)
    assert_complete_and_lossless(model, body, root_of(entry))


def test_every_workflow_api_has_samples_and_repairs_are_listed() -> None:
    seen = {(e["api"], e["role"]) for e in INDEX}
    assert set(MODELS) <= seen
    assert all(entry["source"] and entry["lines"][0] <= entry["lines"][1] for entry in INDEX)
    # the adaptive-streaming samples had their page-width cuts repaired; the repair must say so
    cut = next(e for e in INDEX if e["file"].endswith("L16673.xml"))
    assert any("VideoStream_1581665960537" in repair for repair in cut["repairs"])


def test_an_unknown_node_type_keeps_its_operation_raw() -> None:
    node = workflows.WorkflowNode.model_validate({"Type": "StreamPack", "Operation": {"StreamPackInfo": {"X": "1"}}})
    assert node.operation == {"StreamPackInfo": {"X": "1"}}
    typed = workflows.WorkflowNode.model_validate({"Type": "Transcode", "Operation": {"TemplateId": "t1"}})
    assert isinstance(typed.operation, TranscodeOperation)
    assert typed.operation.template_id == "t1"
    assert to_tree(typed)["Operation"]["TemplateId"] == "t1"
