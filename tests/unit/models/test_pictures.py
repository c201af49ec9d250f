"""Picture-job models against the seed's pic_jobs samples and callbacks (seed 003, L38278-39434)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import cast

import pytest
from pydantic import ValidationError

from ciflow import operations as ops
from ciflow.codec import from_xml, to_xml
from ciflow.models._common import CallbackFormat, JobInput, JobOutput
from ciflow.models.callbacks import TaskFinish
from ciflow.models.pictures import (
    PicJobDetail,
    PicJobRequest,
    PicJobsQuery,
    PicJobsResponse,
    PicOperation,
    PicProcess,
    PicProcessResult,
)
from tests.support.models import CHINA, seed_fixtures, unmodelled, xml_tree

# Schema-only samples that are not bodies CI could send.
NOT_BODIES = {
    "describepicjobs-response-003-L38959.xml",  # <JobsDetail> holds the literal text "..."
    "describepicjob-response-003-L38796.xml",  # <JobsDetail> holds only a newline and indentation
}


# Seed 003 L38543-38570 (CreatePicJobs response to request 1, template; fences joined).
SUBMITTED = """
<Response>
  <JobsDetail>
    <Code>Success</Code>
    <Message/>
    <JobId>c93984788066911ed89ed352d4d9d2084</JobId>
    <State>Submitted</State>
    <CreationTime>2022-07-18T15:16:43+0800</CreationTime>
    <EndTime>-</EndTime>
    <StartTime>-</StartTime>
    <QueueId>p2911917386e148639319e13c285cc774</QueueId>
    <Tag>PicProcess</Tag>
    <Input>
      <BucketId>test-1234567890</BucketId>
      <Object>input/deer.jpg</Object>
      <Region>ap-chongqing</Region>
    </Input>
    <Operation>
      <Output>
        <Bucket>test-1234567890</Bucket>
        <Object>output/out.jpg</Object>
        <Region>ap-chongqing</Region>
      </Output>
      <TemplateId>t10461fe2bd5a649db9022452ec71e0381</TemplateId>
      <TemplateName>test</TemplateName>
      <UserData>This is my data.</UserData>
      <JobLevel>0</JobLevel>
    </Operation>
  </JobsDetail>
</Response>
"""

# Seed 003 L39015-39078 (DescribePicJobs: a template job and an inline PicProcess job).
LISTED = """
<Response>
  <JobsDetail>
    <Code>Success</Code><Message/>
    <JobId>c93984788066911e689ed352d4d9d2ghd4</JobId>
    <State>Submitted</State>
    <CreationTime>2022-07-18T15:16:43+0800</CreationTime><EndTime>-</EndTime><StartTime>-</StartTime>
    <QueueId>p2911917386e148639319e13c285cc774</QueueId>
    <Tag>PicProcess</Tag>
    <Input><BucketId>test-1234567890</BucketId><Object>input/deer.jpg</Object><Region>ap-chongqing</Region></Input>
    <Operation>
      <Output><Bucket>test-1234567890</Bucket><Object>output/out.jpg</Object><Region>ap-chongqing</Region></Output>
      <TemplateId>t10461fe2bd5a649db9022452ec71e0381</TemplateId>
      <TemplateName>test</TemplateName>
      <UserData>This is my data.</UserData>
      <JobLevel>0</JobLevel>
    </Operation>
  </JobsDetail>
  <JobsDetail>
    <Code>Success</Code><Message/>
    <JobId>c93984788066911ed89ed352d4d9d2084</JobId>
    <State>Submitted</State>
    <CreationTime>2022-07-18T15:16:43+0800</CreationTime><EndTime>-</EndTime><StartTime>-</StartTime>
    <QueueId>p2911917386e148639319e13c285cc774</QueueId>
    <Tag>PicProcess</Tag>
    <Input><BucketId>test-1234567890</BucketId><Object>input/deer.jpg</Object><Region>ap-chongqing</Region></Input>
    <Operation>
      <Output><Bucket>test-1234567890</Bucket><Object>output/out.jpg</Object><Region>ap-chongqing</Region></Output>
      <PicProcess>
        <IsPicInfo>true</IsPicInfo>
        <ProcessRule>imageMogr2/rotate/90</ProcessRule>
      </PicProcess>
      <UserData>This is my data.</UserData>
      <JobLevel>0</JobLevel>
    </Operation>
  </JobsDetail>
</Response>
"""

# Seed 003 L39260-39341 (callback sample 2, workflow-triggered; the page break's auto-close removed).
CALLBACK_WORKFLOW = """
<Response>
  <EventName>TaskFinish</EventName>
  <JobsDetail>
    <Code>Success</Code>
    <CreationTime>2022-07-18T15:16:43+0800</CreationTime>
    <EndTime>2022-07-18T15:16:44+0800</EndTime>
    <Input>
      <BucketId>test-1234567890</BucketId>
      <Object>input/deer.jpg</Object>
      <Region>ap-chongqing</Region>
      <CosHeaders><Key>Content-Type</Key><Value>image/jpeg</Value></CosHeaders>
      <CosHeaders><Key>x-cos-request-id</Key><Value>NjJiZDYwYTFfNjUzYTYyNjRfZjEwZl8xMmZhYzY5</Value></CosHeaders>
      <CosHeaders><Key>EventName</Key><Value>cos:ObjectCreated:Put</Value></CosHeaders>
      <CosHeaders><Key>Size</Key><Value>1024</Value></CosHeaders>
    </Input>
    <JobId>c93984788066911ed89ed352d4d9d2084</JobId>
    <Message/>
    <Operation>
      <Output>
        <Bucket>test-1234567890</Bucket>
        <Object>output/out.jpg</Object>
        <Region>ap-chongqing</Region>
      </Output>
      <PicProcessResult>
        <ObjectName>output/out.jpg</ObjectName>
        <OriginalInfo>
          <Etag>"d5a491cd3d8d071e3212c3478e8e35a1"</Etag>
          <ImageInfo>
            <Ave>0xc64847</Ave>
            <Format>JPEG</Format>
            <Height>417</Height>
            <Orientation>0</Orientation>
            <Quality>68</Quality>
            <Width>500</Width>
          </ImageInfo>
        </OriginalInfo>
        <ProcessResult>
          <Etag/>
          <Format>JPEG</Format>
          <Height>500</Height>
          <Quality>68</Quality>
          <Size>24911</Size>
          <Width>417</Width>
        </ProcessResult>
      </PicProcessResult>
      <TemplateId>t10461fe2bd5a649db9022452ec71e0381</TemplateId>
      <TemplateName>test</TemplateName>
      <UserData>This is my PicProcess job.</UserData>
      <JobLevel>0</JobLevel>
    </Operation>
    <QueueId>p2911917386e148639319e13c285cc774</QueueId>
    <StartTime>2022-07-18T15:16:44+0800</StartTime>
    <State>Success</State>
    <Tag>PicProcess</Tag>
    <Workflow>
      <Name>PicProcess_1581665960537</Name>
      <RunId>ic90edd59f84f11ec9d4f525400a3c59f</RunId>
      <WorkflowId>web6ac56c1ef54dbfa44d7f4103203be9</WorkflowId>
      <WorkflowName>workflow-test</WorkflowName>
    </Workflow>
  </JobsDetail>
</Response>
"""

# Seed 003 L39344-39427 (callback sample 3, JSON). The doc's braces are unbalanced (ProcessResult falls
# outside PicProcessResult) and it has a trailing comma after JobLevel; both are repaired here.
CALLBACK_JSON = r"""
{
  "EventName": "TaskFinish",
  "JobsDetail": [{
    "Code": "Success",
    "CreationTime": "2022-07-18T15:16:43+0800",
    "EndTime": "2022-07-18T15:16:44+0800",
    "Input": {
      "BucketId": "test-1234567890",
      "Object": "input/deer.jpg",
      "Region": "ap-chongqing",
      "CosHeaders": [
        {"Key": "Content-Type", "Value": "image/jpeg"},
        {"Key": "x-cos-request-id", "Value": "NjJiZDYwYTFfNjUzYTYyNjRfZjEwZl8xMmZhYzY5"},
        {"Key": "EventName", "Value": "cos:ObjectCreated:Put"},
        {"Key": "Size", "Value": "1024"}
      ]
    },
    "JobId": "c93984788066911ed89ed352d4d9d2084",
    "Operation": {
      "Output": {"Bucket": "test-1234567890", "Object": "output/out.jpg", "Region": "ap-chongqing"},
      "PicProcessResult": {
        "ObjectName": "output/out.jpg",
        "OriginalInfo": {
          "Etag": "\"d5a491cd3d8d071e3212c3478e8e35a1\"",
          "ImageInfo": {"Ave": "0xc64847", "Format": "JPEG", "Height": "417", "Orientation": "0",
                        "Quality": "68", "Width": "500"}
        },
        "ProcessResult": {"Format": "JPEG", "Height": "500", "Quality": "68", "Size": "24911", "Width": "417"}
      },
      "TemplateId": "t10461fe2bd5a649db9022452ec71e0381",
      "TemplateName": "test",
      "UserData": "This is my PicProcess job.",
      "JobLevel": 0
    },
    "QueueId": "p2911917386e148639319e13c285cc774",
    "StartTime": "2022-07-18T15:16:44+0800",
    "State": "Success",
    "Tag": "PicProcess",
    "Workflow": {
      "Name": "PicProcess_1581665960537",
      "RunId": "ic90edd59f84f11ec9d4f525400a3c59f",
      "WorkflowId": "web6ac56c1ef54dbfa44d7f4103203be9",
      "WorkflowName": "workflow-test"
    }
  }]
}
"""

# Seed 003 L5315-5344 (UploadResult of persistent processing, which the PicProcessResult table points to;
# the PDF cut the Location lines and one </ETag>, repaired here).
UPLOAD_RESULT_SHAPE = """
<PicProcessResult>
  <OriginalInfo>
    <Key>filename.jpg</Key>
    <Location>examplebucket-1250000000.cos.ap-chengdu.myqcloud.com/filename.jpg</Location>
    <ETag>"eaa4e3d8fd498bbc63be3b71c46b9c61f23e3f0c"</ETag>
    <ImageInfo>
      <Format>JPEG</Format><Width>640</Width><Height>427</Height><Quality>100</Quality>
      <Ave>0xa18454</Ave><Orientation>1</Orientation>
    </ImageInfo>
  </OriginalInfo>
  <ProcessResults>
    <Object>
      <Key>test.jpg</Key>
      <Location>examplebucket-1250000000.cos.ap-chengdu.myqcloud.com/test.jpg</Location>
      <Format>png</Format><Width>640</Width><Height>427</Height><Size>463092</Size><Quality>100</Quality>
      <ETag>"eaa4e3d8fd498bbc63be3b71c46b9c61f23e3f0c"</ETag>
    </Object>
  </ProcessResults>
</PicProcessResult>
"""


def test_submit_response_with_template() -> None:
    resp = from_xml(PicJobsResponse, SUBMITTED, root="Response")
    (job,) = resp.jobs_detail
    assert isinstance(job, cast(type, PicJobDetail))
    assert job.job_id == "c93984788066911ed89ed352d4d9d2084"
    assert job.state == "Submitted"
    assert job.start_time is None
    assert job.creation_time == datetime(2022, 7, 18, 15, 16, 43, tzinfo=CHINA)
    assert job.input is not None
    assert job.input.bucket_id == "test-1234567890"
    op = job.operation
    assert op is not None
    assert (op.template_id, op.template_name) == ("t10461fe2bd5a649db9022452ec71e0381", "test")
    assert op.job_level == 0
    assert op.pic_process is None
    assert op.pic_process_result is None
    assert op.output is not None
    assert op.output.object == "output/out.jpg"


def test_list_response_two_jobs() -> None:
    resp = from_xml(PicJobsResponse, LISTED, root="Response")
    assert len(resp.jobs_detail) == 2
    first, second = resp.jobs_detail
    assert first.job_id == "c93984788066911e689ed352d4d9d2ghd4"
    assert first.operation is not None
    assert first.operation.template_name == "test"
    assert second.operation is not None
    assert second.operation.pic_process is not None
    assert second.operation.pic_process.is_pic_info is True
    assert second.operation.pic_process.process_rule == "imageMogr2/rotate/90"
    assert resp.next_token is None


def test_describe_with_missing_ids() -> None:
    # Seed 003 L38796-38800 shape: JobsDetail plus NonExistJobIds.
    body = "<Response><NonExistJobIds>c1</NonExistJobIds></Response>"
    resp = from_xml(PicJobsResponse, body, root="Response")
    assert resp.jobs_detail == []
    assert resp.non_exist_job_ids == ["c1"]


def test_workflow_callback_xml() -> None:
    callback = from_xml(TaskFinish, CALLBACK_WORKFLOW, root="Response")
    assert callback.event_name == "TaskFinish"
    (job,) = callback.jobs_detail
    assert job.succeeded
    assert job.end_time == datetime(2022, 7, 18, 15, 16, 44, tzinfo=CHINA)
    assert job.input is not None
    assert [h.key for h in job.input.cos_headers] == ["Content-Type", "x-cos-request-id", "EventName", "Size"]
    assert job.input.cos_headers[2].value == "cos:ObjectCreated:Put"
    assert job.workflow is not None
    assert (job.workflow.name, job.workflow.run_id, job.workflow.workflow_name) == (
        "PicProcess_1581665960537",
        "ic90edd59f84f11ec9d4f525400a3c59f",
        "workflow-test",
    )
    assert job.operation is not None
    assert job.operation.user_data == "This is my PicProcess job."
    result = job.operation.pic_process_result
    assert result is not None
    assert result.object_name == "output/out.jpg"
    assert result.original_info is not None
    assert result.original_info.entity_tag == '"d5a491cd3d8d071e3212c3478e8e35a1"'
    info = result.original_info.image_info
    assert info is not None
    assert (info.ave, info.format, info.width, info.height, info.quality, info.orientation) == (
        "0xc64847",
        "JPEG",
        500,
        417,
        68,
        0,
    )
    assert result.process_result is not None
    assert result.process_result.etag == ""
    assert (result.process_result.width, result.process_result.height, result.process_result.size) == (
        417,
        500,
        24911,
    )
    assert result.outputs == [result.process_result]


def test_json_callback() -> None:
    callback = TaskFinish.model_validate(json.loads(CALLBACK_JSON))
    (job,) = callback.jobs_detail
    assert isinstance(job, cast(type, PicJobDetail))
    assert job.tag == "PicProcess"
    assert job.input is not None
    assert len(job.input.cos_headers) == 4
    assert job.operation is not None
    assert job.operation.job_level == 0
    result = job.operation.pic_process_result
    assert result is not None
    assert result.original_info is not None
    assert result.original_info.etag == '"d5a491cd3d8d071e3212c3478e8e35a1"'
    assert result.original_info.image_info is not None
    assert result.original_info.image_info.height == 417
    assert [(o.format, o.size, o.etag) for o in result.outputs] == [("JPEG", 24911, None)]


def test_json_callback_with_collapsed_arrays() -> None:
    # JSON callbacks may collapse one-item arrays to objects (JobsDetail, CosHeaders).
    body = json.loads(CALLBACK_JSON)
    detail = body["JobsDetail"][0]
    detail["Input"]["CosHeaders"] = detail["Input"]["CosHeaders"][0]
    body["JobsDetail"] = detail
    callback = TaskFinish.model_validate(body)
    (job,) = callback.jobs_detail
    assert job.input is not None
    assert [(h.key, h.value) for h in job.input.cos_headers] == [("Content-Type", "image/jpeg")]


def test_upload_result_shaped_pic_process_result() -> None:
    result = from_xml(PicProcessResult, UPLOAD_RESULT_SHAPE, root="PicProcessResult")
    assert result.object_name is None
    assert result.original_info is not None
    assert result.original_info.key == "filename.jpg"
    assert result.original_info.etag is None
    assert result.original_info.entity_tag == '"eaa4e3d8fd498bbc63be3b71c46b9c61f23e3f0c"'
    assert result.original_info.image_info is not None
    assert result.original_info.image_info.orientation == 1
    (output,) = result.outputs
    assert (output.key, output.format, output.width, output.size) == ("test.jpg", "png", 640, 463092)
    assert output.entity_tag == '"eaa4e3d8fd498bbc63be3b71c46b9c61f23e3f0c"'


def test_upload_result_shape_with_several_objects() -> None:
    body = """<PicProcessResult><ProcessResults>
      <Object><Key>a.jpg</Key><Size>1</Size></Object><Object><Key>b.png</Key><Size>2</Size></Object>
    </ProcessResults></PicProcessResult>"""
    result = from_xml(PicProcessResult, body)
    assert [(o.key, o.size) for o in result.outputs] == [("a.jpg", 1), ("b.png", 2)]


def test_request_matches_doc_sample_inline_rule() -> None:
    # Seed 003 L38591-38612 (request 2; the doc omits </Input>, restored here).
    expected = """<Request>
      <Tag>PicProcess</Tag>
      <Input><Object>input/deer.jpg</Object></Input>
      <Operation>
        <PicProcess><IsPicInfo>true</IsPicInfo><ProcessRule>imageMogr2/rotate/90</ProcessRule></PicProcess>
        <Output><Region>ap-chongqing</Region><Bucket>test-123456789</Bucket><Object>output/out.jpg</Object></Output>
        <UserData>This is my data.</UserData>
        <JobLevel>0</JobLevel>
      </Operation>
      <QueueId>p2911917386e148639319e13c285cc774</QueueId>
      <CallBack>http://callback.demo.com</CallBack>
      <CallBackFormat>JSON</CallBackFormat>
    </Request>"""
    request = PicJobRequest(
        input=JobInput(object="input/deer.jpg"),
        operation=PicOperation(
            pic_process=PicProcess(is_pic_info=True, process_rule="imageMogr2/rotate/90"),
            output=JobOutput(region="ap-chongqing", bucket="test-123456789", object="output/out.jpg"),
            user_data="This is my data.",
            job_level=0,
        ),
        queue_id="p2911917386e148639319e13c285cc774",
        callback="http://callback.demo.com",
        callback_format=CallbackFormat.JSON,
    )
    assert request.tag == "PicProcess"
    body = to_xml(request, "Request")
    assert xml_tree(body) == xml_tree(expected)


def test_request_with_template_omits_unset_fields() -> None:
    # Seed 003 L38321-38342 (request 1, template): no PicProcess, no TemplateName in a request.
    request = PicJobRequest(
        input=JobInput(object="input/deer.jpg"),
        operation=PicOperation(
            template_id="t10461fe2bd5a649db9022452ec71e0381",
            output=JobOutput(region="ap-chongqing", bucket="test-123456789", object="output/out.jpg"),
        ),
        queue_id="p2911917386e148639319e13c285cc774",
        callback="no",
    )
    tree = xml_tree(to_xml(request))
    assert tree == {
        "Tag": "PicProcess",
        "Input": {"Object": "input/deer.jpg"},
        "Operation": {
            "TemplateId": "t10461fe2bd5a649db9022452ec71e0381",
            "Output": {"Region": "ap-chongqing", "Bucket": "test-123456789", "Object": "output/out.jpg"},
        },
        "QueueId": "p2911917386e148639319e13c285cc774",
        "CallBack": "no",
    }


def test_jobs_query_params() -> None:
    assert PicJobsQuery(queue_id="p1").to_params() == {"queueId": "p1", "tag": "PicProcess"}
    params = PicJobsQuery(
        queue_id="p1",
        workflow_id="w1",
        inventory_trigger_job_id="b1",
        input_object="input/deer.jpg",
        order_by_time="Desc",
        next_token="t",
        size=10,
        states=["Running"],
        start_creation_time=datetime(2001, 1, 1, 0, 0, 0),
        end_creation_time="2001-01-01T23:59:59+0800",
    ).to_params()
    assert params == {
        "queueId": "p1",
        "tag": "PicProcess",
        "workflowId": "w1",
        "inventoryTriggerJobId": "b1",
        "inputObject": "input/deer.jpg",
        "orderByTime": "Desc",
        "nextToken": "t",
        "size": "10",
        "states": "Running",
        "startCreationTime": "2001-01-01T00:00:00+0800",
        "endCreationTime": "2001-01-01T23:59:59+0800",
    }
    with pytest.raises(ValueError, match="Extra inputs"):
        PicJobsQuery(queue_id="p1", queueId="p2")  # type: ignore[call-arg]


def test_jobs_query_next_page_keeps_the_family_query() -> None:
    query = PicJobsQuery(queue_id="p1", states="Success")
    page2 = query.next_page("t2")
    assert type(page2) is PicJobsQuery
    assert page2.to_params() == {"queueId": "p1", "tag": "PicProcess", "nextToken": "t2", "states": "Success"}
    with pytest.raises(ValidationError):
        PicJobsQuery(queue_id="p1", size=101)


def test_list_pic_jobs_reads_pic_jobs_and_follows_next_token() -> None:
    operation = ops.list_pic_jobs(PicJobsQuery(queue_id="p1", size=10))
    assert (operation.name, operation.method, operation.service, operation.path) == (
        "ListPicJobs",
        "GET",
        "ci",
        "/pic_jobs",
    )
    assert dict(operation.params) == {"queueId": "p1", "tag": "PicProcess", "size": "10"}
    body = SUBMITTED.replace("</Response>", "<NextToken>n2</NextToken></Response>")
    page = from_xml(PicJobsResponse, body, root="Response")
    assert isinstance(page.jobs_detail[0], cast(type, PicJobDetail))
    assert operation.next_page is not None
    following = operation.next_page(page)
    assert following is not None
    assert dict(following.params)["nextToken"] == "n2"
    assert operation.next_page(PicJobsResponse()) is None


@pytest.mark.parametrize("path", seed_fixtures("pictures", "*-request-*.xml", exclude=NOT_BODIES), ids=lambda p: p.name)
def test_seed_request_fixtures_parse_fully_and_round_trip(path: Path) -> None:
    body = path.read_bytes()
    request = from_xml(PicJobRequest, body, root="Request")
    assert request.tag == "PicProcess"
    assert request.input.object == "input/deer.jpg"
    assert request.operation.output is not None
    assert request.operation.output.object == "output/out.jpg"
    assert unmodelled(request) == []
    assert xml_tree(to_xml(request)) == xml_tree(body)


@pytest.mark.parametrize(
    "path", seed_fixtures("pictures", "*-response-*.xml", exclude=NOT_BODIES), ids=lambda p: p.name
)
def test_seed_response_fixtures_parse_fully(path: Path) -> None:
    resp = from_xml(PicJobsResponse, path.read_bytes(), root="Response")
    assert resp.jobs_detail
    for job in resp.jobs_detail:
        assert isinstance(job, cast(type, PicJobDetail))
        assert job.tag == "PicProcess"
        assert job.operation is not None
        assert job.operation.output is not None
    assert unmodelled(resp) == []


@pytest.mark.parametrize(
    "path", seed_fixtures("callbacks", "picprocess-*.xml", exclude=NOT_BODIES), ids=lambda p: p.name
)
def test_seed_callback_fixtures_parse_fully(path: Path) -> None:
    callback = from_xml(TaskFinish, path.read_bytes(), root="Response")
    assert callback.event_name == "TaskFinish"
    (job,) = callback.jobs_detail
    assert job.succeeded
    assert job.operation is not None
    outputs = job.operation.outputs
    assert [(o.format, o.size) for o in outputs] == [("JPEG", 24911)]
    assert unmodelled(callback) == []
