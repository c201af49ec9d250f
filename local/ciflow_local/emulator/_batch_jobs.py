"""CI's batch (inventory-triggered) job APIs: ``/inventorytriggerjob`` on the CI host.

``POST /inventorytriggerjob`` creates a batch job, ``GET /inventorytriggerjob`` lists them (``type``, ``states``,
``orderByTime``, ``size`` up to 100, ``nextToken``, ``startCreationTime``/``endCreationTime``, ``workflowId``,
``jobId``, ``name``), ``GET /inventorytriggerjob/<JobId>`` describes one (an unknown id in ``NonExistJobIds``) and
``PUT /inventorytriggerjob/<JobId>?cancel`` cancels one (what the SDK's ``ci_delete_inventory_trigger_jobs`` sends).

Creating one selects the bucket's objects named by its ``Input`` — ``Object`` (that key), ``Prefix`` (every key
under it; folder markers ending in ``/`` skipped), ``Manifest`` (a COS inventory ``manifest.json``: the keys of its
CSV files, gzipped or not, the ``Key`` column located by ``fileSchema``) or ``UrlFile`` (one object URL a line) —
filtered by ``Operation.TimeInterval`` (``Start``/``End`` on the objects' upload time), at most ``MAX_OBJECTS``.
Then, for every object:

- ``Type`` ``Job``: one real job of ``Operation.Tag`` through ``JobEngine.submit``, its ``Operation`` made of
  ``JobParam`` (``TemplateId``, the tag's parameters, a stored template applied as for ``/jobs``) plus ``Output``
  (``${InventoryTriggerJobId}`` replaced by the batch job's id), ``UserData`` and ``JobLevel``; ``QueueId`` and the
  ``CallBack*`` elements become the job's own, so each job reports to the callback like any job.
- ``Type`` ``Workflow`` (the default): an execution of each workflow of ``Operation.WorkflowIds`` on the object,
  as ``POST /triggerworkflow`` makes (see ``_workflows`` for which nodes run).

The batch job is ``Running`` until every job (or execution) it started ended, then ``Success`` when all succeeded,
else ``Failed`` with the first failure's ``Code`` and a ``Message`` counting the failures
(``2 of 5 objects failed; first: <key>: <message>``). A batch job that matched no object is ``Success`` at once.
Tags the engine does not run (such as ``ImageInspect``) are accepted, like CI does, but every object's job is a
failure with ``Code`` ``NotSupported`` rather than claiming work that never happened; an object that does not exist
fails with ``NoSuchKey``. Cancelling marks the batch ``Cancel`` and cancels its jobs still ``Submitted`` (running ones
finish); a batch job already ended is left as it is. The request is answered once every job is submitted (the
selection runs within the request). Not implemented: ``Pause``, and progress counts beyond the documented elements
(the per-object jobs are listed by ``GET /jobs`` as usual).

Batch jobs live in memory, like the templates and workflows: a restart forgets them (their jobs stay in the engine).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import element_to_tree, local_name, parse_xml, tree_to_xml
from ciflow.errors import CiflowError

from ._app import Target, error_response
from ._batch_selection import MAX_OBJECTS, BatchError, Tree
from ._batch_store import BatchStore

__all__ = ["BATCH_PATH", "MAX_OBJECTS", "BatchJobApi"]

BATCH_PATH = "inventorytriggerjob"

_MAX_BODY = 1024 * 1024


class BatchJobApi(BatchStore):
    """The HTTP face of ``BatchStore``: ``/inventorytriggerjob`` requests routed to it, answered as CI's XML."""

    async def handle(self, request: Request, target: Target, parts: list[str]) -> Response:
        try:
            return await self._route(request, target, parts)
        except BatchError as refused:
            return error_response(refused.status, refused.code, refused.message, target, "/" + "/".join(parts))

    async def _route(self, request: Request, target: Target, parts: list[str]) -> Response:
        method, item = request.method, parts[1] if len(parts) == 2 else None
        if method == "POST" and item is None:
            tree = await _request_tree(request)
            detail = await run_in_threadpool(self.create, target, tree)
            return _xml({"RequestId": target.request_id, "JobsDetail": detail})
        if method == "GET" and item is None:
            details, token = await run_in_threadpool(self.list, target.bucket, target.params)
            return _xml({"RequestId": target.request_id, "JobsDetail": details, "NextToken": token})
        if method == "GET" and item:
            found = await run_in_threadpool(self.describe, target.bucket, item)
            if found is None:
                return _xml({"RequestId": target.request_id, "NonExistJobIds": item})
            return _xml({"RequestId": target.request_id, "JobsDetail": found})
        if method == "PUT" and item and "cancel" in target.params:
            await run_in_threadpool(self.cancel, target.bucket, item)
            return Response(b"", media_type="application/xml")
        raise BatchError(405, "MethodNotAllowed", f"{method} is not supported on /{'/'.join(parts)}")


def _xml(tree: Tree) -> Response:
    return Response(tree_to_xml("Response", tree), media_type="application/xml")


async def _request_tree(request: Request) -> Tree:
    body = await request.body()
    if len(body) > _MAX_BODY:
        raise BatchError(400, "InvalidArgument", f"request body over {_MAX_BODY} bytes")
    try:
        element = parse_xml(body, max_bytes=_MAX_BODY)
    except CiflowError as exc:
        raise BatchError(400, "InvalidArgument", f"unreadable XML body: {exc}") from None
    tree = element_to_tree(element)
    if local_name(element.tag) != "Request" or not isinstance(tree, dict):
        raise BatchError(400, "InvalidArgument", "the body must be a <Request> document")
    return tree
