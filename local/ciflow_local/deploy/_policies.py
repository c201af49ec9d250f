"""CAM policies: what each operation needs, what each function's code can call, and checks of the templates."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import quote

from ciflow.callback import CallbackSettings
from ciflow.handlers import IdempotencySettings
from ciflow.regions import is_region

from ._manifest import FUNCTIONS, CosTrigger, function
from ._reach import ROOT, Reach, function_reach, operations_called_by, reach_of

__all__ = [
    "CAM_ACTIONS",
    "Grant",
    "Need",
    "Reach",
    "coverage_gaps",
    "excess_grants",
    "operations_called_by",
    "reach_of",
    "render_policies",
    "required_grants",
    "template_problems",
]

POLICIES_DIR = ROOT / "deploy" / "policies"
PLACEHOLDERS = frozenset({"region", "appid", "bucket", "ownerUin"})
#: CIFLOW_CLEANUP_PURGE_PREFIXES has no default: the cleanup policy lets it purge these (change both together).
PURGE_PREFIXES = ("tmp/",)

Scope = Literal["ci-object", "ci-job", "cos-object", "cos-copy-target", "cos-listing", "passrole"]
_CI = "qcs::ci:${region}:uid/${appid}:bucket/${bucket}/"
_COS = "qcs::cos:${region}:uid/${appid}:${bucket}/"


class Need(NamedTuple):
    """One CAM action an operation needs, and the kind of resource it is checked on."""

    action: str
    scope: Scope


def _ci(*actions: str, scope: Scope = "ci-object", passes: bool = False) -> tuple[Need, ...]:
    # Asynchronous CI jobs run as CI_QCSRole: whoever submits them must be allowed to pass that role.
    return (*(Need(action, scope) for action in actions), *((Need("cam:PassRole", "passrole"),) if passes else ()))


def _cos(*actions: str, scope: Scope = "cos-object") -> tuple[Need, ...]:
    return tuple(Need(f"name/cos:{action}", scope) for action in actions)


# Kind -> (submit, query). Video submit: 436/47315 says ci:CreateAuditingJobs, the other kinds' pattern
# ci:CreateAuditingVideoJob: both. The video and document queries follow the pattern (not found verbatim).
_MODERATION = {
    "image": (("ci:CreateAuditingPictureJob",), "ci:DescribeAuditingPictureJob"),
    "video": (("ci:CreateAuditingJobs", "ci:CreateAuditingVideoJob"), "ci:DescribeAuditingVideoJob"),
    "audio": (("ci:CreateAuditingAudioJob",), "ci:DescribeAuditingAudioJob"),
    "text": (("ci:CreateAuditingTextJob",), "ci:DescribeAuditingTextJob"),
    "document": (("ci:CreateAuditingDocumentJob",), "ci:DescribeAuditingDocumentJob"),
}

#: Operation name (``Operation.name``) -> the CAM actions it needs, each with the kind of resource it is on.
CAM_ACTIONS: dict[str, tuple[Need, ...]] = {
    "SubmitMediaJob": _ci("ci:CreateMediaJobs", passes=True),
    "DescribeMediaJobs": _ci("ci:DescribeMediaJob", scope="ci-job"),
    "ListMediaJobs": _ci("ci:DescribeMediaJobs", scope="ci-job"),
    "CancelJob": _ci("ci:CancelMediaJob", scope="ci-job"),  # PUT /jobs/<id>?cancel, media and picture jobs
    # POST /file_jobs: 436/115537 says CreateFileProcessJobs, 460/83085 (2025) CreateMediaJobs: both.
    "SubmitFileJob": _ci("ci:CreateFileProcessJobs", "ci:CreateMediaJobs", passes=True),
    "DescribeFileJobs": _ci("ci:DescribeFileProcessJob", scope="ci-job"),
    "FileHash": _cos("GetObject"),  # synchronous, on the COS host (436/121027)
    "SubmitDocJob": _ci("ci:CreateDocProcessJobs", passes=True),
    "DescribeDocJobs": _ci("ci:DescribeDocProcessJob", scope="ci-job"),
    # 1250/61065 says DescribeDocProcessJobs, 436/121094 DescribeDocProcessJob (likely a typo): both.
    "ListDocJobs": _ci("ci:DescribeDocProcessJobs", "ci:DescribeDocProcessJob", scope="ci-job"),
    "SubmitPicJob": _ci("ci:CreateMediaJobs", passes=True),  # 460/82394
    # Picture job queries are undocumented; the media job pages cover picture jobs (low confidence).
    "DescribePicJobs": _ci("ci:DescribeMediaJob", scope="ci-job"),
    "ListPicJobs": _ci("ci:DescribeMediaJobs", scope="ci-job"),
    # Synchronous, on the COS host, yet authorised as a CI action on the CI resource (436/119478).
    "ModerateImageObject": _ci("ci:CreateAuditingPictureJob"),
    **{f"Submit{kind.title()}Moderation": _ci(*submit, passes=True) for kind, (submit, _) in _MODERATION.items()},
    **{f"Query{kind.title()}Moderation": _ci(query, scope="ci-job") for kind, (_, query) in _MODERATION.items()},
    # Content and speech recognition jobs (/ai_jobs, /asr_jobs): named after their APIs (CI's pattern, not found
    # verbatim for these; 436/96222 names CreateSpeechJobs).
    "SubmitAiJob": _ci("ci:CreateAiProcessJobs", passes=True),
    "DescribeAiJobs": _ci("ci:DescribeAiProcessJob", scope="ci-job"),
    "CancelAiJob": _ci("ci:CancelAiProcessJob", scope="ci-job"),
    "SubmitSpeechJob": _ci("ci:CreateSpeechJobs", passes=True),
    "DescribeSpeechJobs": _ci("ci:DescribeSpeechJob", scope="ci-job"),
    "ListSpeechJobs": _ci("ci:DescribeSpeechJobs", scope="ci-job"),
    # Workflows: TriggerMediaWorkflow is documented (1045/50340); the others follow the API names (unverified).
    "TriggerWorkflow": _ci("ci:TriggerMediaWorkflow", passes=True),
    "CreateWorkflow": _ci("ci:CreateMediaWorkflow", scope="ci-job"),
    "UpdateWorkflow": _ci("ci:UpdateMediaWorkflow", scope="ci-job"),
    "UpdateWorkflowState": _ci("ci:UpdateMediaWorkflow", scope="ci-job"),
    "DeleteWorkflow": _ci("ci:DeleteMediaWorkflow", scope="ci-job"),
    "DescribeWorkflow": _ci("ci:DescribeMediaWorkflows", scope="ci-job"),
    "DescribeWorkflowExecution": _ci("ci:DescribeWorkflowExecution", scope="ci-job"),
    "ListWorkflowExecution": _ci("ci:DescribeWorkflowExecutions", scope="ci-job"),
    # Templates, queues, batch jobs, media buckets: bucket-level CI resources, named after their APIs (unverified).
    "CreateMediaTemplate": _ci("ci:CreateMediaTemplate", scope="ci-job"),
    "UpdateMediaTemplate": _ci("ci:UpdateMediaTemplate", scope="ci-job"),
    "DeleteMediaTemplate": _ci("ci:DeleteMediaTemplate", scope="ci-job"),
    "DescribeMediaTemplates": _ci("ci:DescribeMediaTemplates", scope="ci-job"),
    "DescribeMediaQueues": _ci("ci:DescribeMediaQueues", scope="ci-job"),
    "UpdateMediaQueue": _ci("ci:UpdateMediaQueue", scope="ci-job"),
    "CreateInventoryTriggerJob": _ci("ci:CreateInventoryTriggerJob", scope="ci-job", passes=True),
    "DescribeInventoryTriggerJob": _ci("ci:DescribeInventoryTriggerJob", scope="ci-job"),
    "DescribeInventoryTriggerJobs": _ci("ci:DescribeInventoryTriggerJobs", scope="ci-job"),
    "CancelInventoryTriggerJob": _ci("ci:CancelInventoryTriggerJob", scope="ci-job"),
    "DescribeMediaBuckets": _ci("ci:DescribeMediaBuckets", scope="ci-job"),
    "CreateMediaBucket": _ci("ci:CreateMediaBucket", scope="ci-job"),
    "DeleteMediaBucket": _ci("ci:DeleteMediaBucket", scope="ci-job"),
    # Synchronous media and document processing on the object (ci-process), authorised per object.
    "GenerateSnapshot": _ci("ci:GenerateSnapshot"),
    "GetSnapshot": _ci("ci:GetSnapshot"),
    "GetMediaInfo": _ci("ci:GetMediaInfo"),
    "GetPrivateM3U8": _ci("ci:GetPrivateM3U8"),
    "DocPreview": _ci("ci:DocPreview"),
    "HeadObject": _cos("HeadObject"),
    "GetObject": _cos("GetObject"),
    "PutObject": _cos("PutObject"),
    # GetObject on the source; on the target 436/10881 says PutObjectCopy, the SDK pages PutObject: both.
    "CopyObject": (*_cos("GetObject"), *_cos("PutObject", "PutObjectCopy", scope="cos-copy-target")),
    "DeleteObject": _cos("DeleteObject"),
    "DeleteObjects": _cos("DeleteMultipleObjects", "DeleteObject"),  # per-key authorisation unverified: both
    "ListObjects": _cos("GetBucket", scope="cos-listing"),
    "PutObjectAcl": _cos("PutObjectACL"),
}


class Grant(NamedTuple):
    """One action on one resource; ``condition`` is a listing's ``(operator, URL-encoded cos:prefix)``."""

    action: str
    resource: str
    condition: tuple[str, str] | None = None


_TDMQ = "qcs::tdmq:${region}:uin/${ownerUin}:"
#: The functions the manifest deploys (``ciflow-<key>``, namespace ``default``).
_SCF_FUNCTIONS = "qcs::scf:${region}:uin/${ownerUin}:namespace/default/function/ciflow-*"
#: Grants for calls made outside ``ciflow.operations``, by module. The CMQ sink speaks the data plane (legacy CMQ
#: actions, 598/11082; their TDMQ mapping is unverified) and API 3.0 (resource forms of 1111/43005 and 598/98179).
MODULE_GRANTS: dict[str, tuple[Grant, ...]] = {
    "ciflow.routing._cmq": (
        *(Grant("tdmq:SendCmqMsg", f"{_TDMQ}{kind}/*") for kind in ("queue", "cmqqueue")),
        *(Grant("tdmq:PublishCmqMsg", f"{_TDMQ}{kind}/*") for kind in ("topic", "cmqtopic")),
        Grant("name/cmqqueue:SendMessage", "qcs::cmqqueue::uin/${ownerUin}:queueName/*"),
        Grant("name/cmqtopic:PublishMessage", "qcs::cmqtopic::uin/${ownerUin}:topicName/*"),
    ),
    # The cleanup drains SCF's dead-letter queue over the data plane (legacy CMQ actions, as the sink's).
    "ciflow.routing._cmq_reader": (
        Grant("name/cmqqueue:ReceiveMessage", "qcs::cmqqueue::uin/${ownerUin}:queueName/*"),
        Grant("name/cmqqueue:DeleteMessage", "qcs::cmqqueue::uin/${ownerUin}:queueName/*"),
    ),
    # SCF Invoke (API 3.0): the cleanup finishes unfinished uploads by invoking their functions. Granted on the
    # deployment's own functions (583/47932's resource form); CAM's newer table (598/57149) calls InvokeFunction
    # operation-level (resource *): see deploy/policies/README.md for when to widen it.
    "ciflow.api3._scf": (Grant("scf:InvokeFunction", _SCF_FUNCTIONS),),
}

#: Which prefixes a module's object operations touch, by role (a name ending in "." covers its submodules).
MODULE_ROLES: dict[str, str] = {
    "ciflow.concerns.": "input",
    "ciflow.idempotency._cos": "records",
    "ciflow.routing._cos_dead_letter": "dead-letters",
    "ciflow.callback._actions": "moderated",
    "ciflow.cleanup._purge": "purge",
}
#: Each upload function's input prefix: its COS trigger's.
_INPUTS = {spec.key: spec.trigger.prefix for spec in FUNCTIONS if isinstance(spec.trigger, CosTrigger)}
#: The COS marker stores each function opens (``store_for`` purposes); upload functions keep the ledger.
_RECORD_STORES = {"callback": ("dedupe_prefix",), "cleanup": ("idempotency_prefix", "dedupe_prefix")}

# -- what the policy must grant -----------------------------------------------------------------------------


class _Area(NamedTuple):
    objects: tuple[str, ...]
    copy_targets: tuple[str, ...]
    subtree_listing: bool = False


def _area(function_key: str, module: str) -> _Area | None:
    """The prefixes ``module``'s object operations touch when ``function_key`` runs it (None: unknown)."""
    role = next((r for name, r in MODULE_ROLES.items() if module == name or module.startswith(name)), None)
    defaults = {name: str(info.default) for name, info in IdempotencySettings.model_fields.items()}
    if role == "records":
        prefixes = tuple(defaults[name] for name in _RECORD_STORES.get(function_key, ("idempotency_prefix",)))
        return _Area(prefixes, prefixes)
    if role == "dead-letters":  # letters are listed per sink too: everything below the prefix
        return _Area((defaults["dead_letter_prefix"],), (defaults["dead_letter_prefix"],), subtree_listing=True)
    if role == "moderated":  # a blocked upload is copied to the quarantine prefix + its key, then deleted
        moderated = _INPUTS["moderate"]
        return _Area((moderated,), (str(CallbackSettings.model_fields["quarantine_prefix"].default) + moderated,))
    if role == "purge":
        return _Area(PURGE_PREFIXES, PURGE_PREFIXES)
    prefix = _INPUTS.get(function_key) if role == "input" else None
    return _Area((prefix,), (prefix,)) if prefix else None


def _grants(need: Need, area: _Area | None) -> Iterator[Grant]:
    if need.scope in ("ci-job", "passrole"):
        yield Grant(
            need.action, _CI + "*" if need.scope == "ci-job" else "qcs::cam::uin/${ownerUin}:roleName/CI_QCSRole"
        )
        return
    for prefix in () if area is None else area.copy_targets if need.scope == "cos-copy-target" else area.objects:
        encoded = quote(prefix, safe="")
        if need.scope != "cos-listing":
            yield Grant(need.action, (_CI if need.scope == "ci-object" else _COS) + prefix + "*")
        elif area is not None and area.subtree_listing:
            yield Grant(need.action, _COS + "*", ("string_like", encoded + "*"))
        else:
            yield Grant(need.action, _COS + "*", ("string_equal", encoded))


def required_grants(function_key: str, reach: Reach | None = None) -> tuple[dict[Grant, set[str]], list[str]]:
    """Grant -> why (operation @ module), and the calls no grant can be derived for."""
    reach = reach or function_reach(function_key)
    needed: dict[Grant, set[str]] = {}
    problems: list[str] = []
    for module, operation in sorted(reach.sites):
        needs = CAM_ACTIONS.get(operation)
        area = _area(function_key, module)
        if needs is None:
            problems.append(f"{operation} (called in {module}) has no CAM_ACTIONS entry")
        elif area is None and any(need.scope not in ("ci-job", "passrole") for need in needs):
            problems.append(f"{operation} in {module}: no prefix known for this module (MODULE_ROLES)")
        for grant in (grant for need in needs or () for grant in _grants(need, area)):
            needed.setdefault(grant, set()).add(f"{operation} @ {module}")
    for module in sorted(reach.modules & set(MODULE_GRANTS)):
        for grant in MODULE_GRANTS[module]:
            needed.setdefault(grant, set()).add(module)
    return needed, problems


# -- checking a policy --------------------------------------------------------------------------------------


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def granted(policy_document: Mapping[str, Any]) -> list[Grant]:
    """Every (action, resource, cos:prefix condition) the policy allows; ValueError for what it cannot read."""
    grants: list[Grant] = []
    for statement in _listed(policy_document.get("statement", [])):
        if statement.get("effect") != "allow" or not statement.get("action") or not statement.get("resource"):
            raise ValueError(f"expected an allow statement with actions and resources: {statement}")
        conditions: list[tuple[str, str] | None] = [] if "condition" in statement else [None]
        for operator, keys in statement.get("condition", {}).items():
            if operator not in ("string_equal", "string_like") or set(keys) != {"cos:prefix"}:
                raise ValueError(f"unsupported condition {operator} {sorted(keys)}")
            conditions += [(operator, str(value)) for value in _listed(keys["cos:prefix"])]
        for action in _listed(statement["action"]):
            for resource in _listed(statement["resource"]):
                grants += [Grant(str(action), str(resource), condition) for condition in conditions]
    return grants


def _covers(grant: Grant, need: Grant) -> bool:
    if grant.action != need.action or not fnmatchcase(need.resource, grant.resource):
        return False
    if grant.condition is None or need.condition is None:
        return grant.condition is None
    operator, value = grant.condition
    return need.condition == grant.condition or (operator == "string_like" and fnmatchcase(need.condition[1], value))


def _show(grant: Grant) -> str:
    condition = f" if cos:prefix {grant.condition[0]} {grant.condition[1]}" if grant.condition else ""
    return f"{grant.action} on {grant.resource}{condition}"


def coverage_gaps(function_key: str, policy_document: Mapping[str, Any], *, reach: Reach | None = None) -> list[str]:
    """What the function can need and the policy does not grant (empty when covered)."""
    needed, problems = required_grants(function_key, reach)
    grants = granted(policy_document)
    missing = [need for need in needed if not any(_covers(grant, need) for grant in grants)]
    return problems + [f"missing {_show(need)} for {', '.join(sorted(needed[need]))}" for need in sorted(missing)]


def excess_grants(function_key: str, policy_document: Mapping[str, Any], *, reach: Reach | None = None) -> list[str]:
    """Grants no call of the function needs (dead), or broader than the calls need (a whole bucket, say)."""
    needed, _ = required_grants(function_key, reach)
    excess: list[str] = []
    for grant in granted(policy_document):
        if grant not in needed:
            dead = not any(_covers(grant, need) for need in needed)
            wide = " (whole bucket)" if grant.resource == _COS + "*" and not grant.condition else ""
            excess.append(f"{'dead' if dead else 'broader than needed'}{wide}: {_show(grant)}")
    return excess


# -- templates ----------------------------------------------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\$\{([^}]*)\}", text))


def template_problems(text: str) -> list[str]:
    """What is wrong with a template: its JSON, CAM syntax (version 2.0, allow statements), placeholders."""
    try:
        document = json.loads(text)
        granted(document)
    except (ValueError, AttributeError, TypeError) as exc:
        return [f"not a readable policy: {exc}"]
    problems = [f"unknown placeholder ${{{name}}}" for name in sorted(_placeholders(text) - PLACEHOLDERS)]
    if document.get("version") != "2.0" or not document.get("statement"):
        problems.append('a CAM policy needs "version": "2.0" and statements')
    return problems


def template_path(function_key: str, directory: Path = POLICIES_DIR) -> Path:
    return directory / f"{function(function_key).role}.json"


def render_policies(
    region: str, appid: str, bucket: str, owner_uin: str, *, directory: Path = POLICIES_DIR
) -> dict[str, str]:
    """File name -> the function's policy JSON for one deployment (``bucket`` is the full ``<name>-<appid>``)."""
    valid = {
        "region": is_region(region),
        "appid": re.fullmatch(r"[1-9][0-9]{4,11}", appid),
        "bucket": re.fullmatch(rf"[a-z0-9][a-z0-9-]*-{re.escape(appid)}", bucket),
        "ownerUin": re.fullmatch(r"[1-9][0-9]{4,19}", owner_uin),
    }
    if not all(valid.values()):
        wrong = ", ".join(name for name, ok in valid.items() if not ok)
        raise ValueError(f"invalid {wrong}: a region id, APPID and owner UIN digits, bucket <name>-<appid>")
    values = {"region": region, "appid": appid, "bucket": bucket, "ownerUin": owner_uin}
    rendered: dict[str, str] = {}
    for spec in FUNCTIONS:
        path = template_path(spec.key, directory)
        text = re.sub(r"\$\{(region|appid|bucket|ownerUin)\}", lambda match: values[match[1]], path.read_text("utf-8"))
        if "${" in text:
            raise ValueError(f"{path.name}: placeholders left unfilled: {sorted(_placeholders(text))}")
        json.loads(text)  # still JSON: the values were validated above
        rendered[path.name] = text
    return rendered
