"""What a blocking moderation verdict does to the object: quarantine it (copy + delete) or make it private.

The COS operations load only when an action is taken, so a callback that acts on nothing never imports them.
"""

from ..client import CiClient, Deadline
from ..results import JobResult
from ._rules import verdict_name
from ._settings import CallbackSettings

__all__ = ["apply_moderation_action"]


def apply_moderation_action(
    result: JobResult, settings: CallbackSettings, client: CiClient, deadline: Deadline
) -> str | None:
    """Act on a blocked object as configured; return what was done (``None`` when nothing applies).

    Raises a ``CiflowError`` when COS refuses or fails, so the callback answers 5xx rather than routing a
    result whose object is still public.
    """
    if settings.block_action == "none" or verdict_name(result) != "block" or result.input is None:
        return None
    if result.input.bucket not in (None, settings.bucket):
        return f"not acted on: {result.input.bucket} is not this function's bucket"
    from .. import operations as ops  # only a blocked object needs the COS operations

    key = result.input.key
    if settings.block_action == "private":
        client.send(ops.put_object_acl(key, "private"), deadline=deadline)
        return "made private"
    if key.startswith(settings.quarantine_prefix):
        return "already quarantined"
    target = settings.quarantine_prefix + key
    client.send(
        ops.copy_object(
            target, source_bucket=settings.bucket, source_region=settings.region, source_key=key, acl="private"
        ),
        deadline=deadline,
    )
    client.send(ops.delete_object(key), deadline=deadline)
    return f"quarantined to {target}"
