"""Document-preview job models against the seed's doc_jobs samples (seed 003, L12638-13425)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import cast

import pytest

from ciflow.codec import element_to_tree, from_xml, parse_xml, to_xml
from ciflow.models._common import JobInput, JobOutput
from ciflow.models.callbacks import TaskFinish
from ciflow.models.documents import (
    DocJobDetail,
    DocJobRequest,
    DocJobsQuery,
    DocJobsResponse,
    DocProcess,
    DocProcessOperation,
)
from tests.support.models import CHINA, SEED_FIXTURES, seed_fixtures, unmodelled

FIXTURES = SEED_FIXTURES / "documents"
# Jobs in each seed response fixture (by the seed line its sample starts at).
FIXTURE_JOB_COUNTS = {"L12800": 1, "L13034": 1, "L13145": 1, "L13195": 1, "L13321": 0, "L13361": 2}


# Seed 003 L12945-12977 (submit response; fences joined; the doc cut the ImageParams line, closed here).
SUBMITTED = """<?xml version="1.0" encoding="utf-8"?>
<Response>
  <JobsDetail>
    <Code>Success</Code>
    <CreationTime>2020-07-27T15:20:08+0800</CreationTime>
    <EndTime>-</EndTime>
    <Input>
        <Object>1.doc</Object>
    </Input>
    <JobId>d99b3127ecfd911eab5e60dedb7c395dd</JobId>
    <Message/>
    <Operation>
        <DocProcess>
            <EndPage>5001</EndPage>
            <ImageParams>watermark/1/image/aHR0cDovL3Rlc3QwMDUt</ImageParams>
            <SrcType/>
            <StartPage>1</StartPage>
            <TgtType>png</TgtType>
        </DocProcess>
        <Output>
            <Bucket>examplebucket-1250000000</Bucket>
            <Object>big/test-${Number}</Object>
            <Region>ap-chongqing</Region>
        </Output>
    </Operation>
    <QueueId>p532fdead78444e649e1a4467c1cd19d3</QueueId>
    <State>Submitted</State>
    <Tag>DocProcess</Tag>
  </JobsDetail>
</Response>
"""

# Seed 003 L13145-13193 (describe, non-Excel source).
DESCRIBED_DOC = """
<Response>
  <JobsDetail>
    <Code>Success</Code>
    <CreationTime>2020-07-24T17:28:47+0800</CreationTime>
    <EndTime>2020-07-24T17:28:49+0800</EndTime>
    <Input>
      <Object>1.doc</Object>
    </Input>
    <JobId>d13cfd584cd9011ea820b597ad1785a2f</JobId>
    <Message/>
    <Operation>
      <DocProcess>
        <EndPage>0</EndPage>
        <ImageParams/>
        <SrcType/>
        <StartPage>2</StartPage>
        <TgtType>png</TgtType>
      </DocProcess>
      <DocProcessResult>
        <FailPageCount>0</FailPageCount>
        <PageInfo>
          <PageNo>2</PageNo>
          <TgtUri>big/test-1</TgtUri>
        </PageInfo>
        <SuccPageCount>1</SuccPageCount>
        <TaskId/>
        <TgtType/>
        <TotalPageCount>2</TotalPageCount>
      </DocProcessResult>
      <Output>
        <Bucket>examplebucket-1250000000</Bucket>
        <Object>big/test-${Number}</Object>
        <Region>ap-chongqing</Region>
      </Output>
    </Operation>
    <QueueId>p50882922b848464fadd222d771438328</QueueId>
    <State>Success</State>
    <Tag>DocProcess</Tag>
  </JobsDetail>
</Response>
"""

# Seed 003 L13195-13257 (describe, Excel source: per-sheet pictures).
DESCRIBED_EXCEL = """
<Response>
  <JobsDetail>
    <Code>Success</Code>
    <CreationTime>2020-12-03T19:54:10+0800</CreationTime>
    <EndTime>2020-12-03T19:54:13+0800</EndTime>
    <Input>
      <Object>1.xlsx</Object>
    </Input>
    <JobId>d13cfd584cd9011ea820b597ad1785a2f</JobId>
    <Message/>
    <Operation>
      <DocProcess>
        <Comments>0</Comments>
        <DocPassword/>
        <EndPage>2</EndPage>
        <ImageParams/>
        <PaperDirection>0</PaperDirection>
        <PaperSize>0</PaperSize>
        <Quality>100</Quality>
        <SheetId>0</SheetId>
        <SrcType/>
        <StartPage>1</StartPage>
        <TgtType/>
        <Zoom>100</Zoom>
      </DocProcess>
      <DocProcessResult>
        <FailPageCount>0</FailPageCount>
        <PageInfo>
          <PageNo>1</PageNo>
          <PicIndex>1</PicIndex>
          <PicNum>1</PicNum>
          <TgtUri>mark2/1/test-1.jpg</TgtUri>
          <X-SheetPics>2</X-SheetPics>
        </PageInfo>
        <PageInfo>
          <PageNo>1</PageNo>
          <PicIndex>2</PicIndex>
          <PicNum>2</PicNum>
          <TgtUri>mark2/1/test-2.jpg</TgtUri>
          <X-SheetPics>2</X-SheetPics>
        </PageInfo>
        <SuccPageCount>6</SuccPageCount>
        <TaskId/>
        <TgtType/>
        <TotalPageCount>6</TotalPageCount>
        <TotalSheetCount>3</TotalSheetCount>
      </DocProcessResult>
      <Output>
        <Bucket>markjrzhang-1251704708</Bucket>
        <Object>mark/${SheetID}/pic-${Page}.jpg</Object>
        <Region>ap-chongqing</Region>
      </Output>
    </Operation>
    <QueueId>p5fdbba9a9b83479f84538d5beb*****</QueueId>
    <State>Success</State>
    <Tag>DocProcess</Tag>
  </JobsDetail>
</Response>
"""

# Seed 003 L13361-13420 (DescribeDocProcessJobs: two jobs and NextToken).
LISTED = """
<Response>
  <JobsDetail>
    <Code>Success</Code>
    <CreationTime>2020-07-20T10:43:17+0800</CreationTime>
    <EndTime>-</EndTime>
    <Input><Object>1.docx</Object></Input>
    <JobId>JobId</JobId>
    <Message/>
    <Operation>
      <DocProcess>
        <EndPage>1</EndPage><ImageParams>ImageParams</ImageParams><SrcType/><StartPage>1</StartPage>
        <TgtType>png</TgtType>
      </DocProcess>
      <Output><Bucket>BucketId</Bucket><Object>file/test-${Page}.jpg</Object><Region>Region</Region></Output>
    </Operation>
    <QueueId>QueueId</QueueId>
    <State>Submitted</State>
    <Tag>DocProcess</Tag>
  </JobsDetail>
  <JobsDetail>
    <Code>Success</Code>
    <CreationTime>2020-07-20T10:43:17+0800</CreationTime>
    <EndTime>-</EndTime>
    <Input><Object>test.docx</Object></Input>
    <JobId>JobId</JobId>
    <Message/>
    <Operation>
      <DocProcess>
        <EndPage>1</EndPage><ImageParams>ImageParams</ImageParams><SrcType/><StartPage>1</StartPage>
        <TgtType>png</TgtType>
      </DocProcess>
      <Output><Bucket>BucketId</Bucket><Object>file/test-${Page}.jpg</Object><Region>Region</Region></Output>
    </Operation>
    <QueueId>QueueId</QueueId>
    <State>Submitted</State>
    <Tag>DocProcess</Tag>
  </JobsDetail>
  <NextToken>19193</NextToken>
</Response>
"""


def test_submit_response() -> None:
    resp = from_xml(DocJobsResponse, SUBMITTED, root="Response")
    (job,) = resp.jobs_detail
    assert isinstance(job, cast(type, DocJobDetail))
    assert job.job_id == "d99b3127ecfd911eab5e60dedb7c395dd"
    assert job.tag == "DocProcess"
    assert job.state == "Submitted"
    assert job.creation_time == datetime(2020, 7, 27, 15, 20, 8, tzinfo=CHINA)
    assert job.end_time is None
    assert job.input is not None
    assert job.input.object == "1.doc"
    assert job.operation is not None
    doc = job.operation.doc_process
    assert doc is not None
    assert (doc.start_page, doc.end_page, doc.tgt_type) == (1, 5001, "png")
    assert doc.src_type == ""
    assert doc.image_params == "watermark/1/image/aHR0cDovL3Rlc3QwMDUt"
    assert job.operation.output is not None
    assert job.operation.output.object == "big/test-${Number}"
    assert job.operation.doc_process_result is None


def test_describe_non_excel_single_page_info_is_a_list() -> None:
    (job,) = from_xml(DocJobsResponse, DESCRIBED_DOC, root="Response").jobs_detail
    assert job.succeeded
    assert job.operation is not None
    result = job.operation.doc_process_result
    assert result is not None
    assert len(result.page_info) == 1
    assert result.page_info[0].page_no == 2
    assert result.page_info[0].tgt_uri == "big/test-1"
    assert result.page_info[0].x_sheet_pics is None
    assert (result.total_page_count, result.succ_page_count, result.fail_page_count) == (2, 1, 0)
    assert result.total_sheet_count is None
    assert result.task_id == ""
    assert result.tgt_type == ""


def test_describe_excel_pages_and_sheet_fields() -> None:
    (job,) = from_xml(DocJobsResponse, DESCRIBED_EXCEL, root="Response").jobs_detail
    assert job.operation is not None
    doc = job.operation.doc_process
    assert doc is not None
    assert (doc.comments, doc.paper_direction, doc.paper_size, doc.quality, doc.zoom, doc.sheet_id) == (
        0,
        0,
        0,
        100,
        100,
        0,
    )
    assert doc.doc_password == ""
    result = job.operation.doc_process_result
    assert result is not None
    assert [p.tgt_uri for p in result.page_info] == ["mark2/1/test-1.jpg", "mark2/1/test-2.jpg"]
    assert [(p.pic_index, p.pic_num, p.x_sheet_pics) for p in result.page_info] == [(1, 1, 2), (2, 2, 2)]
    assert result.total_sheet_count == 3
    assert result.succ_page_count == 6


def test_list_response_two_jobs_and_next_token() -> None:
    resp = from_xml(DocJobsResponse, LISTED, root="Response")
    assert resp.next_token == "19193"
    assert [j.input.object for j in resp.jobs_detail if j.input] == ["1.docx", "test.docx"]
    assert all(isinstance(j, cast(type, DocJobDetail)) for j in resp.jobs_detail)
    assert resp.non_exist_job_ids == []


def test_schema_sample_with_all_empty_elements() -> None:
    # Seed 003 L13034-13077 (the schema sample; its `<TgtType></TgtType/>` typo fixed to `<TgtType/>`).
    body = """<Response><JobsDetail><Code></Code><CreationTime></CreationTime><EndTime></EndTime>
      <Input><Object></Object></Input><JobId></JobId><Message> </Message>
      <Operation>
        <DocProcess><EndPage></EndPage><ImageParams></ImageParams><SrcType></SrcType><StartPage></StartPage>
          <TgtType></TgtType></DocProcess>
        <DocProcessResult><FailPageCount></FailPageCount><PageInfo><PageNo></PageNo><TgtUri></TgtUri></PageInfo>
          <SuccPageCount></SuccPageCount><TaskId></TaskId><TgtType/><TotalPageCount></TotalPageCount>
        </DocProcessResult>
        <Output><Bucket></Bucket><Object></Object><Region></Region></Output>
      </Operation><QueueId></QueueId><State></State><Tag></Tag></JobsDetail>
      <NonExistJobIds></NonExistJobIds></Response>"""
    resp = from_xml(DocJobsResponse, body, root="Response")
    (job,) = resp.jobs_detail
    assert job.creation_time is None
    assert job.operation is not None
    assert job.operation.doc_process is not None
    assert job.operation.doc_process.end_page is None
    result = job.operation.doc_process_result
    assert result is not None
    assert result.fail_page_count is None
    assert len(result.page_info) == 1
    assert result.page_info[0].page_no is None
    assert resp.non_exist_job_ids == []


def test_request_matches_doc_sample() -> None:
    # Seed 003 L12904-12927 (its ImageParams value is cut by the PDF; a full value is used here).
    expected = """<?xml version="1.0" encoding="UTF-8" ?>
    <Request>
      <Input><Object>1.doc</Object></Input>
      <Operation>
        <Output>
          <Region>ap-chongqing</Region>
          <Object>big/test-${Number}</Object>
          <Bucket>examplebucket-1250000000</Bucket>
        </Output>
        <DocProcess>
          <TgtType>png</TgtType><StartPage>1</StartPage><EndPage>-1</EndPage>
          <ImageParams>imageMogr2/thumbnail/!50p</ImageParams>
        </DocProcess>
      </Operation>
      <Tag>DocProcess</Tag>
      <QueueId>p532fdead78444e649e1a4467c1cd19d3</QueueId>
    </Request>"""
    request = DocJobRequest(
        input=JobInput(object="1.doc"),
        operation=DocProcessOperation(
            doc_process=DocProcess(tgt_type="png", start_page=1, end_page=-1, image_params="imageMogr2/thumbnail/!50p"),
            output=JobOutput(region="ap-chongqing", bucket="examplebucket-1250000000", object="big/test-${Number}"),
        ),
        queue_id="p532fdead78444e649e1a4467c1cd19d3",
    )
    assert request.tag == "DocProcess"
    body = to_xml(request, "Request")
    assert element_to_tree(parse_xml(body)) == element_to_tree(parse_xml(expected))


def test_request_spreadsheet_options_serialise_as_numbers() -> None:
    request = DocJobRequest(
        input=JobInput(object="1.xlsx"),
        operation=DocProcessOperation(
            doc_process=DocProcess(
                sheet_id=2, paper_direction=1, paper_size=2, image_dpi=300, pic_pagination=1, zoom=150
            ),
            output=JobOutput(region="ap-guangzhou", bucket="b-1250000000", object="/${SheetID}/p_${Number}.jpg"),
        ),
        queue_id="q",
    )
    tree = element_to_tree(parse_xml(to_xml(request)))
    assert tree["Operation"]["DocProcess"] == {
        "SheetId": "2",
        "PaperDirection": "1",
        "PaperSize": "2",
        "Zoom": "150",
        "ImageDpi": "300",
        "PicPagination": "1",
    }
    assert "CallBack" not in tree


def test_json_notification_validates() -> None:
    # JSON job notification (moderation-and-cos-apis.md §A.6.3): one-item arrays collapse,
    # scalars are strings.
    body = json.loads(
        """{
          "EventName": "TaskFinish",
          "JobsDetail": {
            "Code": "Success", "Message": "", "JobId": "d1", "State": "Success", "Tag": "DocProcess",
            "CreationTime": "2020-12-03T19:54:10+0800", "EndTime": "2020-12-03T19:54:13+0800",
            "Input": {"Object": "1.xlsx"},
            "Operation": {
              "DocProcess": {"SheetId": "0", "StartPage": "1", "EndPage": "-1", "TgtType": "jpg"},
              "DocProcessResult": {
                "PageInfo": {"PageNo": "1", "TgtUri": "a/1.jpg", "X-SheetPics": "1", "PicIndex": "1",
                             "PicNum": "1"},
                "TotalPageCount": "1", "SuccPageCount": "1", "FailPageCount": "0", "TotalSheetCount": "1"
              },
              "Output": {"Region": "ap-guangzhou", "Bucket": "b-1250000000", "Object": "a/${Number}.jpg"}
            }
          }
        }"""
    )
    callback = TaskFinish.model_validate(body)
    assert callback.event_name == "TaskFinish"
    (job,) = callback.jobs_detail
    assert job.operation is not None
    assert job.operation.doc_process is not None
    assert job.operation.doc_process.end_page == -1
    result = job.operation.doc_process_result
    assert result is not None
    assert [(p.page_no, p.x_sheet_pics, p.tgt_uri) for p in result.page_info] == [(1, 1, "a/1.jpg")]
    assert result.total_sheet_count == 1


def test_jobs_query_params() -> None:
    assert DocJobsQuery(queue_id="p1").to_params() == {"queueId": "p1", "tag": "DocProcess"}
    params = DocJobsQuery(
        queue_id="p1",
        order_by_time="Asc",
        next_token="19193",
        size=100,
        states=["Success", "Failed"],
        start_creation_time=datetime(2020, 7, 20, 10, 0, 0, tzinfo=CHINA),
        end_creation_time="2020-07-21T00:00:00+0800",
    ).to_params()
    assert params == {
        "queueId": "p1",
        "tag": "DocProcess",
        "orderByTime": "Asc",
        "nextToken": "19193",
        "size": "100",
        "states": "Success,Failed",
        "startCreationTime": "2020-07-20T10:00:00+0800",
        "endCreationTime": "2020-07-21T00:00:00+0800",
    }
    assert DocJobsQuery(queue_id="p1", states="All").to_params()["states"] == "All"
    with pytest.raises(ValueError, match="Extra inputs"):
        DocJobsQuery(queue_id="p1", queueId="p2")  # type: ignore[call-arg]


def test_seed_request_fixture_parses_fully() -> None:
    # The all-nodes request (L12702): every element empty.
    request = from_xml(DocJobRequest, (FIXTURES / "docprocess-request-003-L12702.xml").read_bytes(), root="Request")
    assert request.tag == ""
    assert request.operation.doc_process is not None
    assert request.operation.doc_process.start_page is None
    assert request.operation.output is not None
    assert unmodelled(request) == []


@pytest.mark.parametrize("path", seed_fixtures("documents", "*-response-*.xml"), ids=lambda p: p.name)
def test_seed_response_fixtures_parse_fully(path: Path) -> None:
    resp = from_xml(DocJobsResponse, path.read_bytes(), root="Response")
    assert len(resp.jobs_detail) == FIXTURE_JOB_COUNTS[path.stem.rsplit("-", 1)[1]]
    assert all(isinstance(job, cast(type, DocJobDetail)) for job in resp.jobs_detail)
    assert unmodelled(resp) == []
