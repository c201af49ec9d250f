"""The job-adjacent models and builders: template bodies placed per Tag, queue notify settings, batch JobParam typing,
query parameters, and the operations' paths and refusals."""

from __future__ import annotations

from xml.etree.ElementTree import fromstring

import pytest

from ciflow import operations as ops
from ciflow.codec import from_xml, to_xml
from ciflow.models import batch, buckets, queues, sync, templates
from ciflow.models.media import Snapshot, TranscodeOperation


def test_inline_tags_send_their_parameters_at_the_top_level() -> None:
    body = fromstring(to_xml(templates.template_request("Transcode", "t", {"Container": {"Format": "mp4"}})))
    assert [child.tag for child in body] == ["Tag", "Name", "Container"]


def test_wrapped_tags_send_their_parameters_inside_their_element() -> None:
    body = fromstring(to_xml(templates.template_request("Snapshot", "s", Snapshot(count=2), template_id="t1")))
    assert sorted(child.tag for child in body) == ["Name", "Snapshot", "Tag", "TemplateId"]
    assert body.findtext("Snapshot/Count") == "2"


def test_a_template_answer_is_typed_by_its_tag_and_unknown_tags_stay_plain() -> None:
    answer = from_xml(
        templates.TemplatesResponse,
        "<Response><TemplateList><Tag>TranscodePro</Tag><TransProTpl><Video><Interlaced>true</Interlaced></Video>"
        "</TransProTpl></TemplateList><TemplateList><Tag>Future</Tag><X>1</X></TemplateList></Response>",
    )
    pro, future = answer.template_list
    params = pro.parameters
    assert isinstance(params, templates.TranscodePro)
    assert params.video is not None
    assert params.video.interlaced is True
    assert type(future) is templates.TemplateBody
    assert future.parameters is None


def test_an_unknown_template_tag_has_no_request_model() -> None:
    with pytest.raises(KeyError):
        templates.template_request_model("Nope")


def test_notify_config_events_and_state() -> None:
    notify = queues.NotifyConfig(state="On", event="TaskFinish, WorkflowFinish")
    assert notify.enabled
    assert notify.events == {"TaskFinish", "WorkflowFinish"}
    assert not queues.NotifyConfig(state="Off").enabled


def test_job_param_is_typed_by_the_sibling_tag() -> None:
    operation = batch.BatchOperation.model_validate({"Tag": "Transcode", "JobParam": {"TemplateId": "t1"}})
    assert isinstance(operation.job_param, TranscodeOperation)
    assert operation.job_param.template_id == "t1"
    unknown = batch.BatchOperation.model_validate({"Tag": "NoSuchTag", "JobParam": {"A": "1"}})
    assert type(unknown.job_param).__name__ == "CiModel"
    assert fromstring(to_xml(unknown, "Operation")).findtext("JobParam/A") == "1", "kept as sent"


def test_query_parameters_are_the_documented_camel_case() -> None:
    query = batch.BatchJobsQuery(type="Job", states=["Success", "Failed"], size=5, workflow_id="w1")
    assert dict(query.to_params()) == {"type": "Job", "size": "5", "states": "Success,Failed", "workflowId": "w1"}
    bucket_query = buckets.MediaBucketQuery(regions=["ap-guangzhou"], bucket_name="media", page_size=20)
    assert dict(bucket_query.to_params()) == {"regions": "ap-guangzhou", "bucketName": "media", "pageSize": "20"}
    snap = sync.SnapshotQuery(time=1.5, width=32, format="png")
    assert snap.to_params() == (("ci-process", "snapshot"), ("time", "1.5"), ("width", "32"), ("format", "png"))


def test_operations_address_their_apis() -> None:
    assert (ops.delete_template("t1").method, ops.delete_template("t1").path) == ("DELETE", "/template/t1")
    describe = ops.describe_templates(tag="Snapshot", ids=["a", "b"], page_size=5)
    assert dict(describe.params) == {"tag": "Snapshot", "ids": "a,b", "pageSize": "5"}
    assert ops.update_media_queue("p1", queues.QueueUpdate(name="n", state="Active")).path == "/queue/p1"
    assert ops.cancel_batch_job("b1").params == (("cancel", ""),)
    assert ops.create_batch_job.__name__ == "create_batch_job"
    assert ops.get_media_info("/a.mp4").path == "/a.mp4"
    assert ops.get_media_info("a.mp4").service == "cos"
    assert ops.generate_snapshot(sync.GenerateSnapshotRequest(input={"Object": "a"}, time=1)).service == "ci"


def test_submits_are_not_blindly_retried() -> None:
    request = templates.template_request("Snapshot", "s", Snapshot())
    assert ops.create_template(request).retry == "submit"
    assert ops.update_template("t1", request).retry == "idempotent"


@pytest.mark.parametrize("bad", ["", "a/b", "a,b"])
def test_ids_that_would_change_the_path_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        ops.delete_template(bad)
    with pytest.raises(ValueError, match="invalid"):
        ops.describe_batch_job(bad)


def test_listing_pages_follow_the_next_token() -> None:
    first = ops.list_batch_jobs(batch.BatchJobsQuery(size=1))
    assert first.next_page is not None
    after = first.next_page(batch.BatchJobsResponse(next_token="7"))
    assert after is not None
    assert dict(after.params)["nextToken"] == "7"
    assert first.next_page(batch.BatchJobsResponse()) is None
