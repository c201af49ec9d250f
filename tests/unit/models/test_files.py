"""File-processing models against the seed's samples (seed 003, L14891-16500) and the file-job callback."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pytest

from ciflow.codec import from_xml, parse_xml, to_xml
from ciflow.models._common import (
    CallbackFormat,
    CallbackType,
    JobDetail,
    JobInput,
    JobOutput,
    JobRequest,
    MqConfig,
)
from ciflow.models.callbacks import TaskFinish
from ciflow.models.files import (
    FILE_TAGS,
    FileCompressConfig,
    FileCompressJobDetail,
    FileCompressJobRequest,
    FileCompressKeyConfig,
    FileCompressOperation,
    FileHashCodeConfig,
    FileHashCodeJobDetail,
    FileHashCodeJobRequest,
    FileHashCodeOperation,
    FileHashQuery,
    FileHashResponse,
    FileJobsResponse,
    FileUncompressConfig,
    FileUncompressDownloadConfig,
    FileUncompressJobDetail,
    FileUncompressJobRequest,
    FileUncompressOperation,
)
from tests.support.models import CHINA, seed_fixtures, unmodelled, xml_tree
from tests.support.xmltree import lossless_equal_xml

REQUESTS: dict[str, type[JobRequest[Any]]] = {
    "filehashcode": FileHashCodeJobRequest,
    "fileuncompress": FileUncompressJobRequest,
    "filecompress": FileCompressJobRequest,
}
TYPED_DETAILS = {
    "FileHashCode": FileHashCodeJobDetail,
    "FileUncompress": FileUncompressJobDetail,
    "FileCompress": FileCompressJobDetail,
}


# Seed 003 L15040-15055 (sync filehash example; two fences joined).
SYNC_HASH = """
<Response>
  <FileHashCodeResult>
    <MD5>0fe771ba515b0525552f59290a50c0ef</MD5>
    <FileSize>1048576</FileSize>
    <LastModified>2022-06-27T15:23:12+0800</LastModified>
    <Etag>"ee8de918d05640145b18f70f4c3aa602"</Etag>
  </FileHashCodeResult>
  <Input>
    <Bucket>test-1234567890</Bucket>
    <Object>wg.txt</Object>
    <Region>ap-chongqing</Region>
  </Input>
</Response>
"""

# Seed 003 L15325-15354 (FileHashCode submit response; fences joined).
HASH_SUBMITTED = """
<Response>
  <JobsDetail>
    <Code>Success</Code>
    <Message/>
    <JobId>f93984788066911ed89ed352d4d9d2084</JobId>
    <State>Submitted</State>
    <CreationTime>2022-07-18T15:16:43+0800</CreationTime>
    <EndTime>-</EndTime>
    <StartTime>-</StartTime>
    <QueueId>p2911917386e148639319e13c285cc774</QueueId>
    <Tag>FileHashCode</Tag>
    <Input>
      <BucketId>test-1234567890</BucketId>
      <Object>input/deer.jpg</Object>
      <Region>ap-chongqing</Region>
    </Input>
    <Operation>
      <FileHashCodeConfig>
        <Type>MD5</Type>
        <AddToHeader>true</AddToHeader>
      </FileHashCodeConfig>
      <UserData>This is my data.</UserData>
    </Operation>
  </JobsDetail>
</Response>
"""

# Seed 003 L15405-15438 (GET /file_jobs/<id> for FileHashCode, with the result).
HASH_DESCRIBED = """
<Response>
  <JobsDetail>
    <Code>Success</Code>
    <Message/>
    <JobId>f93984788066911ed89ed352d4d9d2084</JobId>
    <State>Submitted</State>
    <CreationTime>2022-07-18T15:16:43+0800</CreationTime>
    <EndTime>-</EndTime>
    <StartTime>-</StartTime>
    <QueueId>p2911917386e148639319e13c285cc774</QueueId>
    <Tag>FileHashCode</Tag>
    <Input>
      <BucketId>test-1234567890</BucketId>
      <Object>input/test.mp4</Object>
      <Region>ap-chongqing</Region>
    </Input>
    <Operation>
      <FileHashCodeConfig>
        <Type>MD5</Type>
        <AddToHeader>true</AddToHeader>
      </FileHashCodeConfig>
      <FileHashCodeResult>
        <MD5>xxxxxxx</MD5>
        <FileSize>123</FileSize>
        <LastModified>2022-06-27T15:23:11+0800</LastModified>
        <Etag>xxxxxxx</Etag>
      </FileHashCodeResult>
      <UserData>This is my data.</UserData>
    </Operation>
  </JobsDetail>
</Response>
"""

# moderation-and-cos-apis.md §B.1: the file-job TaskFinish callback (FileUncompress, finished).
UNCOMPRESS_CALLBACK = """
<Response>
  <EventName>TaskFinish</EventName>
  <JobsDetail>
    <Code>Success</Code><Message/>
    <JobId>f93984788066911ed89ed352d4d9d2084</JobId>
    <State>Success</State><Progress>100</Progress>
    <CreationTime>2022-07-18T15:16:43+0800</CreationTime>
    <StartTime>2022-07-18T15:16:43+0800</StartTime><EndTime>2022-07-18T15:16:44+0800</EndTime>
    <QueueId>p2911917386e148639319e13c285cc774</QueueId>
    <Tag>FileUncompress</Tag>
    <Input><BucketId>test-1234567890</BucketId><Object>input/test.zip</Object><Region>ap-chongqing</Region></Input>
    <Operation>
      <FileUncompressConfig><Prefix>output/</Prefix><PrefixReplaced>1</PrefixReplaced></FileUncompressConfig>
      <Output><Region>ap-chongqing</Region><Bucket>test-1234567890</Bucket></Output>
      <FileUncompressResult>
        <Region>ap-chongqing</Region><Bucket>test-1234567890</Bucket><FileCount>1</FileCount>
      </FileUncompressResult>
      <UserData>This is my data.</UserData>
    </Operation>
  </JobsDetail>
</Response>
"""

# Seed 003 L16464-16492 (GET /file_jobs/<id> for FileCompress: no Input element).
COMPRESS_DESCRIBED = """
<Response>
  <JobsDetail>
    <Code>Success</Code>
    <Message/>
    <JobId>f93984788066911ed89ed352d4d9d2084</JobId>
    <State>Submitted</State>
    <CreationTime>2022-07-18T15:16:43+0800</CreationTime>
    <EndTime>-</EndTime>
    <StartTime>-</StartTime>
    <QueueId>p2911917386e148639319e13c285cc774</QueueId>
    <Tag>FileCompress</Tag>
    <Operation>
      <FileCompressConfig>
        <Prefix>test</Prefix>
        <Format>zip</Format>
        <Flatten>0</Flatten>
      </FileCompressConfig>
      <Output>
        <Region>ap-chongqing</Region>
        <Bucket>test-1234567890</Bucket>
        <Object>output/test.zip</Object>
      </Output>
      <UserData>This is my data.</UserData>
    </Operation>
  </JobsDetail>
</Response>
"""


def test_sync_filehash_response() -> None:
    resp = from_xml(FileHashResponse, SYNC_HASH, root="Response")
    result = resp.file_hash_code_result
    assert result is not None
    assert result.md5 == "0fe771ba515b0525552f59290a50c0ef"
    assert result.sha1 is None
    assert result.digest == result.md5
    assert result.file_size == 1048576
    assert result.last_modified == "2022-06-27T15:23:12+0800"
    assert result.etag == '"ee8de918d05640145b18f70f4c3aa602"'
    assert resp.input is not None
    assert (resp.input.bucket, resp.input.object, resp.input.region) == (
        "test-1234567890",
        "wg.txt",
        "ap-chongqing",
    )


def test_sync_filehash_schema_sample_without_optional_fields() -> None:
    # Seed 003 L14967-14977 shape: one digest and FileSize only.
    body = "<Response><FileHashCodeResult><SHA256>abc</SHA256><FileSize>1</FileSize></FileHashCodeResult></Response>"
    result = from_xml(FileHashResponse, body, root="Response").file_hash_code_result
    assert result is not None
    assert result.digest == "abc"
    assert result.etag is None


def test_filehash_query_params() -> None:
    assert FileHashQuery(type="sha256").to_params() == {"ci-process": "filehash", "type": "sha256"}
    assert FileHashQuery(add_to_header=True).to_params() == {
        "ci-process": "filehash",
        "type": "md5",
        "addtoheader": "true",
    }
    with pytest.raises(ValueError, match="Extra inputs"):
        FileHashQuery(typo="x")  # type: ignore[call-arg]


def test_hash_job_submit_response() -> None:
    resp = from_xml(FileJobsResponse, HASH_SUBMITTED, root="Response")
    assert len(resp.jobs_detail) == 1
    job = resp.jobs_detail[0]
    assert isinstance(job, cast(type, FileHashCodeJobDetail))
    assert job.job_id == "f93984788066911ed89ed352d4d9d2084"
    assert job.state == "Submitted"
    assert not job.finished
    assert job.message == ""
    assert job.creation_time == datetime(2022, 7, 18, 15, 16, 43, tzinfo=CHINA)
    assert job.start_time is None
    assert job.end_time is None
    assert job.input is not None
    assert job.input.bucket_id == "test-1234567890"
    assert job.input.object == "input/deer.jpg"
    assert job.operation is not None
    assert job.operation.file_hash_code_config is not None
    assert job.operation.file_hash_code_config.type == "MD5"
    assert job.operation.file_hash_code_config.add_to_header is True
    assert job.operation.user_data == "This is my data."
    assert job.operation.file_hash_code_result is None


def test_hash_job_describe_has_result() -> None:
    job = from_xml(FileJobsResponse, HASH_DESCRIBED, root="Response").jobs_detail[0]
    assert isinstance(job, cast(type, FileHashCodeJobDetail))
    assert job.operation is not None
    result = job.operation.file_hash_code_result
    assert result is not None
    assert result.md5 == "xxxxxxx"
    assert result.file_size == 123
    assert result.last_modified == "2022-06-27T15:23:11+0800"
    assert result.etag == "xxxxxxx"


def test_uncompress_callback_xml() -> None:
    callback = from_xml(TaskFinish, UNCOMPRESS_CALLBACK, root="Response")
    assert callback.event_name == "TaskFinish"
    assert len(callback.jobs_detail) == 1
    job = callback.jobs_detail[0]
    assert isinstance(job, cast(type, FileUncompressJobDetail))
    assert job.finished
    assert job.succeeded
    assert job.progress == 100
    assert job.operation is not None
    config = job.operation.file_uncompress_config
    assert config is not None
    assert (config.prefix, config.prefix_replaced) == ("output/", "1")
    assert job.operation.output is not None
    assert job.operation.output.bucket == "test-1234567890"
    result = job.operation.file_uncompress_result
    assert result is not None
    assert (result.region, result.bucket, result.file_count) == ("ap-chongqing", "test-1234567890", 1)


def test_compress_job_describe_has_no_input() -> None:
    job = from_xml(FileJobsResponse, COMPRESS_DESCRIBED, root="Response").jobs_detail[0]
    assert isinstance(job, cast(type, FileCompressJobDetail))
    assert job.input is None
    assert job.operation is not None
    config = job.operation.file_compress_config
    assert config is not None
    assert (config.prefix, config.format, config.flatten) == ("test", "zip", "0")
    assert config.key == []
    assert job.operation.output is not None
    assert job.operation.output.object == "output/test.zip"


def test_compress_result_newer_fields() -> None:
    # moderation-and-cos-apis.md §B.1/§B.2: CompressFileCount, ErrorCount,
    # ErrorDetail{ErrorCount, ErrorFile*}.
    body = """<Response><JobsDetail><JobId>f1</JobId><State>Success</State><Tag>FileCompress</Tag>
      <Operation><FileCompressResult><Region>ap-guangzhou</Region><Bucket>b-1250000000</Bucket>
        <Object>out.zip</Object><CompressFileCount>8</CompressFileCount><ErrorCount>2</ErrorCount>
        <ErrorDetail><ErrorCount>2</ErrorCount><ErrorFile>a.txt</ErrorFile><ErrorFile>b.txt</ErrorFile></ErrorDetail>
      </FileCompressResult></Operation></JobsDetail></Response>"""
    job = from_xml(FileJobsResponse, body, root="Response").jobs_detail[0]
    assert isinstance(job, cast(type, FileCompressJobDetail))
    assert job.operation is not None
    result = job.operation.file_compress_result
    assert result is not None
    assert (result.object, result.compress_file_count, result.error_count) == ("out.zip", 8, 2)
    assert result.error_detail is not None
    assert result.error_detail.error_file == ["a.txt", "b.txt"]


def test_uncompress_result_file_list_one_and_many() -> None:
    # D-FU (moderation-and-cos-apis.md §B.1): FileList{Contents*{Key, LastModified, FileSize}, IsTruncated}.
    def body(contents: str) -> str:
        return (
            "<Response><JobsDetail><Tag>FileUncompress</Tag><Operation><FileUncompressResult>"
            f"<FileCount>2</FileCount><FileList>{contents}<IsTruncated>false</IsTruncated></FileList>"
            "</FileUncompressResult></Operation></JobsDetail></Response>"
        )

    entry = (
        "<Contents><Key>out/{0}</Key><LastModified>2025-02-01T00:00:00+0800</LastModified>"
        "<FileSize>{1}</FileSize></Contents>"
    )
    one = from_xml(FileJobsResponse, body(entry.format("a", 3)), root="Response").jobs_detail[0]
    many = from_xml(FileJobsResponse, body(entry.format("a", 3) + entry.format("b", 4)), root="Response").jobs_detail[0]
    for job, keys in ((one, ["out/a"]), (many, ["out/a", "out/b"])):
        assert isinstance(job, cast(type, FileUncompressJobDetail))
        assert job.operation is not None
        assert job.operation.file_uncompress_result is not None
        file_list = job.operation.file_uncompress_result.file_list
        assert file_list is not None
        assert [c.key for c in file_list.contents] == keys
        assert file_list.is_truncated is False
    assert isinstance(many, cast(type, FileUncompressJobDetail))
    assert many.operation is not None
    assert many.operation.file_uncompress_result is not None
    assert many.operation.file_uncompress_result.file_list is not None
    assert many.operation.file_uncompress_result.file_list.contents[1].file_size == 4


def test_unknown_tag_falls_back_to_plain_job_detail() -> None:
    body = """<Response>
      <JobsDetail><JobId>a</JobId><Tag>FileHashCode</Tag><Operation><FileHashCodeConfig><Type>SHA1</Type>
        </FileHashCodeConfig></Operation></JobsDetail>
      <JobsDetail><JobId>b</JobId><Tag>FileZipPreview</Tag><Operation><Anything>1</Anything></Operation></JobsDetail>
      <NonExistJobIds>c</NonExistJobIds>
    </Response>"""
    resp = from_xml(FileJobsResponse, body, root="Response")
    first, second = resp.jobs_detail
    assert isinstance(first, cast(type, FileHashCodeJobDetail))
    assert type(second) is JobDetail
    assert second.operation == {"Anything": "1"}
    assert resp.non_exist_job_ids == ["c"]
    assert {"FileHashCode", "FileUncompress", "FileCompress"} == FILE_TAGS


def test_hash_request_matches_doc_sample() -> None:
    # Seed 003 L15289-15307 (with the doc's `<CallBackFormat>JSON<CallBackFormat>` typo fixed).
    expected = """<Request>
      <Tag>FileHashCode</Tag>
      <Input><Object>input/test.mp4</Object></Input>
      <Operation>
        <FileHashCodeConfig><Type>MD5</Type><AddToHeader>true</AddToHeader></FileHashCodeConfig>
        <UserData>This is my data.</UserData>
      </Operation>
      <QueueId>p2911917386e148639319e13c285cc774</QueueId>
      <CallBack>http://callback.demo.com</CallBack>
      <CallBackFormat>JSON</CallBackFormat>
    </Request>"""
    request = FileHashCodeJobRequest(
        input=JobInput(object="input/test.mp4"),
        operation=FileHashCodeOperation(
            file_hash_code_config=FileHashCodeConfig(type="MD5", add_to_header=True),
            user_data="This is my data.",
        ),
        queue_id="p2911917386e148639319e13c285cc774",
        callback="http://callback.demo.com",
        callback_format=CallbackFormat.JSON,
    )
    body = to_xml(request, "Request")
    assert xml_tree(body) == xml_tree(expected)
    assert [child.tag for child in parse_xml(body)] == [
        "Tag",
        "Input",
        "Operation",
        "QueueId",
        "CallBackFormat",
        "CallBack",
    ]


def test_uncompress_request_matches_doc_sample_and_newer_fields() -> None:
    # Seed 003 L15590-15609, plus the 2025 fields (UnCompressKey, DownloadConfig with one Key)
    # and a TDMQ callback.
    expected = """<Request>
      <Tag>FileUncompress</Tag>
      <Input><Object>input/test.zip</Object></Input>
      <Operation>
        <FileUncompressConfig>
          <Prefix>output</Prefix><PrefixReplaced>1</PrefixReplaced><UnCompressKey>MTIzNDU2</UnCompressKey>
          <DownloadConfig><Key>dir/a.jpg</Key></DownloadConfig>
        </FileUncompressConfig>
        <Output><Region>ap-chongqing</Region><Bucket>test-1234567890</Bucket></Output>
        <UserData>This is my data.</UserData>
      </Operation>
      <QueueId>p2911917386e148639319e13c285cc774</QueueId>
      <CallBackType>TDMQ</CallBackType>
      <CallBackMqConfig><MqRegion>gz</MqRegion><MqName>topic-1</MqName><MqMode>Queue</MqMode></CallBackMqConfig>
    </Request>"""
    request = FileUncompressJobRequest(
        input=JobInput(object="input/test.zip"),
        operation=FileUncompressOperation(
            file_uncompress_config=FileUncompressConfig(
                prefix="output",
                prefix_replaced="1",
                un_compress_key="MTIzNDU2",
                download_config=FileUncompressDownloadConfig(key=["dir/a.jpg"]),
            ),
            output=JobOutput(region="ap-chongqing", bucket="test-1234567890"),
            user_data="This is my data.",
        ),
        queue_id="p2911917386e148639319e13c285cc774",
        callback_type=CallbackType.TDMQ,
        callback_mq_config=MqConfig(mq_region="gz", mq_name="topic-1"),
    )
    assert xml_tree(to_xml(request)) == xml_tree(expected)


def test_compress_request_has_no_input_and_repeats_keys() -> None:
    # Seed 003 L16273-16291 shape, selecting by Key (repeatable) and KeyConfig instead of Prefix.
    request = FileCompressJobRequest(
        operation=FileCompressOperation(
            file_compress_config=FileCompressConfig(
                flatten="0",
                format="zip",
                key=["a/1.jpg", "a/2.jpg"],
                key_config=[FileCompressKeyConfig(key="b/3.jpg", folder="pics", rename="three.jpg")],
            ),
            output=JobOutput(region="ap-chongqing", bucket="test-1234567890", object="output/test.zip"),
        ),
        queue_id="p2911917386e148639319e13c285cc774",
    )
    assert request.tag == "FileCompress"
    expected = """<Request>
      <Tag>FileCompress</Tag>
      <Operation>
        <FileCompressConfig>
          <Flatten>0</Flatten><Format>zip</Format><Key>a/1.jpg</Key><Key>a/2.jpg</Key>
          <KeyConfig><Key>b/3.jpg</Key><Folder>pics</Folder><Rename>three.jpg</Rename></KeyConfig>
        </FileCompressConfig>
        <Output><Region>ap-chongqing</Region><Bucket>test-1234567890</Bucket><Object>output/test.zip</Object></Output>
      </Operation>
      <QueueId>p2911917386e148639319e13c285cc774</QueueId>
    </Request>"""
    body = to_xml(request)
    assert xml_tree(body) == xml_tree(expected)
    assert b"<Input>" not in body


def test_compress_config_single_key_element_is_a_list() -> None:
    body = """<Response><JobsDetail><Tag>FileCompress</Tag><Operation><FileCompressConfig>
      <Format>tar.gz</Format><Key>only.txt</Key></FileCompressConfig></Operation></JobsDetail></Response>"""
    job = from_xml(FileJobsResponse, body, root="Response").jobs_detail[0]
    assert isinstance(job, cast(type, FileCompressJobDetail))
    assert job.operation is not None
    assert job.operation.file_compress_config is not None
    assert job.operation.file_compress_config.key == ["only.txt"]


def test_json_callback_collapsed_array_and_string_scalars() -> None:
    # JSON form of §B.1 (CallBackFormat=JSON): one-item arrays may collapse, every scalar is a string.
    body = json.loads(
        """{
          "EventName": "TaskFinish",
          "JobsDetail": {
            "Code": "Success", "Message": "", "JobId": "f93984788066911ed89ed352d4d9d2084",
            "State": "Success", "Progress": "100", "Tag": "FileHashCode",
            "CreationTime": "2022-07-18T15:16:43+0800", "StartTime": "2022-07-18T15:16:43+0800",
            "EndTime": "2022-07-18T15:16:44+0800", "QueueId": "p2911917386e148639319e13c285cc774",
            "Input": {"BucketId": "test-1234567890", "Object": "input/test.mp4", "Region": "ap-chongqing",
                      "CosHeaders": {"Key": "Content-Type", "Value": "video/mp4"}},
            "Operation": {
              "FileHashCodeConfig": {"Type": "SHA256", "AddToHeader": "false"},
              "FileHashCodeResult": {"SHA256": "9f86d081884c7d65", "FileSize": "5242880",
                                     "LastModified": "2022-06-27T15:23:11+0800", "Etag": "\\"abc\\""},
              "UserData": "u"
            },
            "Workflow": {"RunId": "i1", "WorkflowId": "w1", "WorkflowName": "wf", "Name": "FileHashCode_1"}
          }
        }"""
    )
    callback = TaskFinish.model_validate(body)
    assert callback.event_name == "TaskFinish"
    (job,) = callback.jobs_detail
    assert isinstance(job, cast(type, FileHashCodeJobDetail))
    assert job.progress == 100
    assert job.end_time == datetime(2022, 7, 18, 15, 16, 44, tzinfo=CHINA)
    assert job.input is not None
    assert [(h.key, h.value) for h in job.input.cos_headers] == [("Content-Type", "video/mp4")]
    assert job.workflow is not None
    assert job.workflow.workflow_id == "w1"
    assert job.operation is not None
    assert job.operation.file_hash_code_config is not None
    assert job.operation.file_hash_code_config.add_to_header is False
    result = job.operation.file_hash_code_result
    assert result is not None
    assert (result.sha256, result.file_size, result.etag) == ("9f86d081884c7d65", 5242880, '"abc"')


def test_parsed_job_is_typed_and_round_trips_to_the_same_tree() -> None:
    resp = from_xml(FileJobsResponse, HASH_DESCRIBED, root="Response")
    typed = resp.model_dump(by_alias=True, exclude_none=True, mode="json")["JobsDetail"][0]
    assert typed["Operation"]["FileHashCodeResult"]["MD5"] == "xxxxxxx"
    assert typed["Operation"]["FileHashCodeResult"]["FileSize"] == 123
    assert typed["Operation"]["FileHashCodeConfig"]["AddToHeader"] is True
    assert typed["Input"]["BucketId"] == "test-1234567890"
    assert "StartTime" not in typed
    assert lossless_equal_xml(HASH_DESCRIBED.encode(), to_xml(resp, "Response")) is None


@pytest.mark.parametrize("path", seed_fixtures("files", "*-request-*.xml"), ids=lambda p: p.name)
def test_seed_request_fixtures_parse_fully_and_round_trip(path: Path) -> None:
    body = path.read_bytes()
    model_type = REQUESTS[path.name.split("-")[0]]
    request = from_xml(model_type, body, root="Request")
    assert request.tag == model_type.model_fields["tag"].default
    assert request.queue_id == "p2911917386e148639319e13c285cc774"
    assert unmodelled(request) == []
    assert xml_tree(to_xml(request)) == xml_tree(body)


@pytest.mark.parametrize(
    "path",
    seed_fixtures("files", "file*code-*response-*.xml") + seed_fixtures("files", "file*compress-*response-*.xml"),
    ids=lambda p: p.name,
)
def test_seed_job_response_fixtures_parse_fully(path: Path) -> None:
    resp = from_xml(FileJobsResponse, path.read_bytes(), root="Response")
    (job,) = resp.jobs_detail
    assert job.tag is not None
    assert type(job) is TYPED_DETAILS[job.tag]
    assert job.tag.lower() == path.name.split("-")[0]
    assert job.job_id == "f93984788066911ed89ed352d4d9d2084"
    assert job.operation is not None
    assert job.operation.user_data == "This is my data."
    assert unmodelled(resp) == []


@pytest.mark.parametrize("path", seed_fixtures("files", "filehash-sync-response-*.xml"), ids=lambda p: p.name)
def test_seed_sync_hash_fixtures_parse_fully(path: Path) -> None:
    resp = from_xml(FileHashResponse, path.read_bytes(), root="Response")
    assert resp.file_hash_code_result is not None
    assert resp.file_hash_code_result.md5 == "0fe771ba515b0525552f59290a50c0ef"
    assert resp.file_hash_code_result.file_size == 1048576
    assert unmodelled(resp) == []
