"""The CAM policy templates grant each function exactly what its code can call, and render for one deployment."""

import copy
import json
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ciflow import operations as ops
from ciflow.client import Operation
from ciflow.models import JobsQuery
from ciflow.models.moderation import (
    AudioModerationRequest,
    DocumentModerationRequest,
    ImageModerationRequest,
    ModerationInput,
    ModerationKind,
    TextModerationRequest,
    VideoModerationRequest,
)
from ciflow_local.deploy import FUNCTIONS
from ciflow_local.deploy._policies import (
    CAM_ACTIONS,
    PLACEHOLDERS,
    coverage_gaps,
    excess_grants,
    granted,
    render_policies,
    template_path,
    template_problems,
)
from ciflow_local.deploy._reach import SHARED, Reach, builder_operations, operations_called_by, reach_of

KEYS = [spec.key for spec in FUNCTIONS]
UPLOADS = [key for key in KEYS if key not in {"callback", "cleanup"}]
BUCKET_WIDE_COS = "qcs::cos:${region}:uid/${appid}:${bucket}/*"
MARKERS = {"GetObject", "PutObject", "ListObjects", "DeleteObject", "DeleteObjects"}
ROUTING = MARKERS | {"DescribeMediaJobs", "DescribeFileJobs", "DescribeDocJobs", "DescribePicJobs"}
ROUTING |= {"CopyObject", "PutObjectAcl"}
SUBMIT_MODERATION = {f"Submit{kind.value.title()}Moderation" for kind in ModerationKind}
QUERY_MODERATION = {f"Query{kind.value.title()}Moderation" for kind in ModerationKind}


def policy(key: str) -> Any:
    return json.loads(template_path(key).read_text(encoding="utf-8"))


def actions_of(document: Mapping[str, Any]) -> set[str]:
    return {grant.action for grant in granted(document)}


# -- (a) every operation has its CAM actions ----------------------------------------------------------------


def test_every_builder_builds_named_operations_that_have_cam_actions() -> None:
    builders = {name for name in ops.__all__ if callable(getattr(ops, name))}
    read = builder_operations()
    assert set(read) == builders
    for builder, names in read.items():
        assert names, f"{builder}: no operation name found in its source"
        assert names <= set(CAM_ACTIONS), f"{builder} builds {sorted(names - set(CAM_ACTIONS))} without CAM actions"


def test_cam_actions_name_only_operations_some_builder_builds() -> None:
    built = set().union(*builder_operations().values())
    assert set(CAM_ACTIONS) == built


def _samples() -> Iterator[tuple[str, Operation[Any]]]:
    query = JobsQuery(tag="Transcode")
    source = ModerationInput(object="uploads/moderate/a")
    yield "head_object", ops.head_object("k")
    yield "get_object", ops.get_object("k")
    yield "put_object", ops.put_object("k", b"x")
    source_object: dict[str, Any] = {
        "source_bucket": "b-1250000000",
        "source_region": "ap-guangzhou",
        "source_key": "s",
    }
    yield "copy_object", ops.copy_object("k", **source_object)
    yield "delete_object", ops.delete_object("k")
    yield "delete_objects", ops.delete_objects(["k"])
    yield "list_objects", ops.list_objects("p/")
    yield "put_object_acl", ops.put_object_acl("k", "private")
    yield "file_hash", ops.file_hash("k")
    yield "moderate_image_object", ops.moderate_image_object("k")
    yield "cancel_job", ops.cancel_job("j1")
    for family in ("media", "file", "doc", "pic"):
        yield f"describe_{family}_jobs", getattr(ops, f"describe_{family}_jobs")("j1")
    for family in ("media", "doc", "pic"):
        yield f"list_{family}_jobs", getattr(ops, f"list_{family}_jobs")(query)
    for kind in ModerationKind:
        yield "query_moderation", ops.query_moderation(kind, "j1")
    yield "submit_moderation", ops.submit_moderation(ImageModerationRequest(input=[source]))
    for request_type in (VideoModerationRequest, AudioModerationRequest, TextModerationRequest):
        yield "submit_moderation", ops.submit_moderation(request_type(input=source))
    yield "submit_moderation", ops.submit_moderation(DocumentModerationRequest(input=source))


def test_names_read_from_the_source_are_the_names_the_builders_give() -> None:
    read = builder_operations()
    seen: dict[str, set[str]] = {}
    for builder, operation in _samples():
        assert operation.name in read[builder]
        seen.setdefault(builder, set()).add(operation.name)
    assert seen["query_moderation"] == set(read["query_moderation"]) == QUERY_MODERATION
    assert seen["submit_moderation"] == set(read["submit_moderation"]) == SUBMIT_MODERATION


# -- what each function can call ----------------------------------------------------------------------------

#: What every upload function may call to find a job (or workflow run) whose submit answer was lost.
LOOKUPS = {"ListDocJobs", "ListMediaJobs", "ListPicJobs", "ListWorkflowExecution"}
EXPECTED = {
    "moderate": MARKERS | LOOKUPS | {"ModerateImageObject"} | SUBMIT_MODERATION,
    "transcode": MARKERS | LOOKUPS | {"SubmitMediaJob", "TriggerWorkflow"},
    "hash": MARKERS | LOOKUPS | {"FileHash", "SubmitFileJob"},
    "unzip": MARKERS | LOOKUPS | {"SubmitFileJob"},
    "previews": MARKERS | LOOKUPS | {"SubmitMediaJob", "SubmitPicJob", "SubmitDocJob"},
    "callback": ROUTING,
    "cleanup": ROUTING | QUERY_MODERATION | {"CancelJob", "DescribeWorkflowExecution"},
}


@pytest.mark.parametrize("key", KEYS)
def test_what_each_function_can_call(key: str) -> None:
    assert operations_called_by(key) == EXPECTED[key]


def test_lazy_imports_are_followed_and_type_checking_imports_are_not() -> None:
    callback = reach_of(SHARED.parent / "functions" / "callback" / "index.py")
    upload = reach_of(SHARED.parent / "functions" / "hash" / "index.py")
    assert "ciflow.routing._cmq" in callback.modules  # imported inside callback._sinks._build only
    assert "ciflow.routing._cmq" not in upload.modules  # routing/__init__ names it under TYPE_CHECKING
    assert "ciflow.userdata" in upload.modules  # the names the pipeline imports (moved from ciflow.routing._userdata)


# -- (b) everything needed is granted, on the right resources ------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_each_policy_grants_everything_its_function_can_call(key: str) -> None:
    assert coverage_gaps(key, policy(key)) == []


@pytest.mark.parametrize("key", KEYS)
def test_no_policy_touches_objects_across_the_whole_bucket(key: str) -> None:
    for grant in granted(policy(key)):
        if grant.resource == BUCKET_WIDE_COS:
            assert grant.action == "name/cos:GetBucket"
            assert grant.condition is not None
            assert grant.condition[1].startswith(("ciflow%2F", "tmp%2F"))
        elif grant.action.startswith("name/cos:"):
            assert grant.resource.startswith(BUCKET_WIDE_COS[:-1])
            assert len(grant.resource) > len(BUCKET_WIDE_COS)


def test_upload_policies_submit_only_for_their_own_uploads() -> None:
    for key in UPLOADS:
        for grant in granted(policy(key)):
            if grant.action.startswith("ci:Create"):
                assert grant.resource.endswith(f"/uploads/{key}/*")


# -- (c) nothing is granted that no call needs -----------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_each_policy_grants_nothing_its_function_cannot_use(key: str) -> None:
    assert excess_grants(key, policy(key)) == []


def test_pass_role_and_cmq_only_where_their_calls_are() -> None:
    for key in KEYS:
        actions = actions_of(policy(key))
        assert ("cam:PassRole" in actions) == (key in UPLOADS)
        assert ("tdmq:SendCmqMsg" in actions) == (key in {"callback", "cleanup"})
        assert not any(action.startswith("ci:Create") for action in actions if key not in UPLOADS)


# -- (d) templates and rendering -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_templates_are_cam_json_with_known_placeholders_only(key: str) -> None:
    assert template_problems(template_path(key).read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not a readable policy"),
        ('{"version": "2.0", "statement": [{"effect": "deny", "action": ["a"], "resource": ["*"]}]}', "allow"),
        ('{"version": "2.0", "statement": [{"effect": "allow", "action": ["a"], "resource": ["${uin}"]}]}', "${uin}"),
        ('{"version": "1.0", "statement": [{"effect": "allow", "action": ["a"], "resource": ["*"]}]}', "2.0"),
    ],
)
def test_template_problems_name_what_is_wrong(text: str, problem: str) -> None:
    assert any(problem in message for message in template_problems(text))


def test_render_fills_every_placeholder_of_every_template() -> None:
    rendered = render_policies("ap-guangzhou", "1250000000", "media-1250000000", "100000000001")
    assert set(rendered) == {f"ciflow-{key}.json" for key in KEYS}
    for name, text in rendered.items():
        assert "${" not in text, name
        resources = {grant.resource for grant in granted(json.loads(text))}
        assert all("${" + placeholder + "}" not in resource for resource in resources for placeholder in PLACEHOLDERS)
    hash_resources = {grant.resource for grant in granted(json.loads(rendered["ciflow-hash.json"]))}
    assert "qcs::ci:ap-guangzhou:uid/1250000000:bucket/media-1250000000/uploads/hash/*" in hash_resources
    assert "qcs::cam::uin/100000000001:roleName/CI_QCSRole" in hash_resources


@pytest.mark.parametrize(
    ("region", "appid", "bucket", "owner_uin", "wrong"),
    [
        ("Guangzhou", "1250000000", "media-1250000000", "100000000001", "region"),
        ("ap-guangzhou", "12ab", "media-12ab", "100000000001", "appid"),
        ("ap-guangzhou", "1250000000", "media", "100000000001", "bucket"),
        ("ap-guangzhou", "1250000000", "media-1250000001", "100000000001", "bucket"),
        ("ap-guangzhou", "1250000000", "Media-1250000000", "100000000001", "bucket"),
        ("ap-guangzhou", "1250000000", "media-1250000000", "uin-1", "ownerUin"),
        ("ap-guangzhou", "1250000000", 'a"}-1250000000', "100000000001", "bucket"),
    ],
)
def test_render_refuses_values_that_are_not_what_they_claim(
    region: str, appid: str, bucket: str, owner_uin: str, wrong: str
) -> None:
    with pytest.raises(ValueError, match=wrong):
        render_policies(region, appid, bucket, owner_uin)


def test_render_refuses_a_template_with_an_unknown_placeholder(tmp_path: Path) -> None:
    for key in KEYS:
        (tmp_path / f"ciflow-{key}.json").write_text(template_path(key).read_text(encoding="utf-8"))
    (tmp_path / "ciflow-hash.json").write_text('{"version": "2.0", "statement": [], "x": "${bucketName}"}')
    with pytest.raises(ValueError, match="bucketName"):
        render_policies("ap-guangzhou", "1250000000", "media-1250000000", "100000000001", directory=tmp_path)


# -- (e) the checks catch what they are for --------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_removing_any_action_from_a_policy_is_a_coverage_gap(key: str) -> None:
    document = policy(key)
    for index, statement in enumerate(document["statement"]):
        for action in statement["action"]:
            mutated = copy.deepcopy(document)
            mutated["statement"][index]["action"].remove(action)
            if not mutated["statement"][index]["action"]:
                del mutated["statement"][index]
            gaps = coverage_gaps(key, mutated)
            assert any(f"missing {action} on" in gap for gap in gaps), (key, action)


def test_narrowing_a_listing_condition_is_a_coverage_gap() -> None:
    document = policy("hash")
    for statement in document["statement"]:
        if "condition" in statement:
            statement["condition"] = {"string_equal": {"cos:prefix": ["ciflow%2Fidempotency%2Fa"]}}
    assert any("name/cos:GetBucket" in gap for gap in coverage_gaps("hash", document))


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"action": ["name/cos:DeleteObject"], "resource": [BUCKET_WIDE_COS]}, "broader than needed (whole bucket)"),
        ({"action": ["name/cos:GetBucket"], "resource": [BUCKET_WIDE_COS]}, "broader than needed (whole bucket)"),
        ({"action": ["name/cos:PutObject"], "resource": [BUCKET_WIDE_COS[:-1] + "uploads/hash/*"]}, "dead"),
        ({"action": ["ci:CreateDocProcessJobs"], "resource": ["*"]}, "dead"),
    ],
)
def test_grants_beyond_the_calls_are_reported(statement: dict[str, Any], expected: str) -> None:
    document = policy("hash")
    document["statement"].append({"effect": "allow", **statement})
    excess = excess_grants("hash", document)
    assert len(excess) == 1
    assert excess[0].startswith(expected + ":")


def _fake_package(tmp_path: Path) -> Reach:
    package = tmp_path / "fakeflow"
    package.mkdir()
    sources = {
        "__init__.py": """
            from typing import TYPE_CHECKING
            from ._docs import preview
            from ._other import unused
            if TYPE_CHECKING:
                from ._typing_only import Hint
        """,
        "_docs.py": """
            from ciflow.operations import delete_objects

            def preview(request):
                from ciflow import operations as ops  # lazy, like the concerns' model imports
                return ops.submit_doc_job(request), ops.cancel_job, delete_objects
        """,
        "_other.py": "from ciflow import operations as ops\nunused = ops.put_object_acl\n",
        "_typing_only.py": "from ciflow import operations as ops\nHint = ops.copy_object\n",
    }
    for name, text in sources.items():
        (package / name).write_text(textwrap.dedent(text))
    hash_entry = (SHARED.parent / "functions" / "hash" / "index.py").read_text()
    entry = tmp_path / "index.py"
    entry.write_text(hash_entry + "from fakeflow import preview\n")
    return reach_of(entry, roots=(SHARED, tmp_path))


def test_a_new_call_in_a_reached_module_is_reported(tmp_path: Path) -> None:
    reach = _fake_package(tmp_path)
    assert ("fakeflow._docs", "SubmitDocJob") in reach.sites
    assert {module for module, _ in reach.sites if module.startswith("fakeflow")} == {"fakeflow._docs"}
    gaps = coverage_gaps("hash", policy("hash"), reach=reach)
    assert any(gap.startswith("missing ci:CancelMediaJob on") for gap in gaps)  # job-scoped: no prefix
    assert any(gap.startswith("SubmitDocJob in fakeflow._docs: no prefix known") for gap in gaps)
    assert any(gap.startswith("DeleteObjects in fakeflow._docs: no prefix known") for gap in gaps)
    assert coverage_gaps("hash", policy("hash")) == []


def test_an_operation_without_cam_actions_is_reported() -> None:
    reach = Reach(frozenset(), frozenset({("ciflow.concerns.hash", "SubmitTeleportJob")}))
    assert coverage_gaps("hash", policy("hash"), reach=reach) == [
        "SubmitTeleportJob (called in ciflow.concerns.hash) has no CAM_ACTIONS entry"
    ]
