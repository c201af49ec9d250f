"""A workflow step (``POST /triggerworkflow``) whose answer was lost: found again among the workflow's executions.

A trigger is billed like a job submit and recorded like one (its ``InstanceId``, the RunId, is the step's job).
When its answer never came, the step is ``PENDING`` in the ledger; before it is triggered again, the executions
of the workflow on this object created since the upload's claim (less ``CLOCK_SLACK_S``) are listed: one found is
the step's run; none means the trigger created nothing (it is sent again); more than one cannot be told apart
(another upload of the same key ran it too) and is left unresolved rather than triggered a third time.
"""

from datetime import datetime, timezone

from ..client import CiClient, Deadline
from ..errors import CiflowError
from ..events import ObjectRef
from ..operations import list_workflow_executions
from ._plan import PlannedJob

__all__ = ["TRIGGER_PATH", "CLOCK_SLACK_S", "AmbiguousRunError", "find_triggered_run"]

#: The path of a workflow trigger: how a planned step is recognised as one.
TRIGGER_PATH = "/triggerworkflow"
#: How far before the claim a run may have been created (the clocks of SCF and CI differ).
CLOCK_SLACK_S = 120.0


class AmbiguousRunError(CiflowError):
    """Several runs of the workflow on this object since the claim: which one is this step's cannot be told, and
    triggering again could make a third. Not transient; the cleanup reports the upload later (``awaits_callback``)."""

    transient = False
    awaits_callback = True


def find_triggered_run(
    client: CiClient, ref: ObjectRef, job: PlannedJob, deadline: Deadline, *, since: float
) -> str | None:
    """The RunId of the run this trigger step created, if CI lists exactly one (see the module docstring)."""
    params = dict(job.operation.params)
    workflow_id, key = params.get("workflowId", ""), params.get("object", ref.key)
    earliest = since - CLOCK_SLACK_S
    start = datetime.fromtimestamp(earliest, tz=timezone.utc)
    listing = list_workflow_executions(workflow_id, name=key, start_creation_time=start, size=100)
    found: list[str] = []
    for page in client.paginate(listing, deadline=deadline):
        for run in page.workflow_execution_list:
            created = run.create_time.timestamp() if run.create_time is not None else None
            if run.run_id and run.object == key and (created is None or created >= earliest):
                found.append(run.run_id)
    if len(found) > 1:
        raise AmbiguousRunError(
            f"workflow {workflow_id} ran {len(found)} times on {key} since this upload was claimed: the lost"
            " trigger's run cannot be told apart; not triggered again"
        )
    return found[0] if found else None
