"""The same Transcode job built, signed and parsed by ciflow and by the official SDK (cos-python-sdk-v5).

Imported by the benchmark scripts; each function does exactly the work being compared.
"""

from __future__ import annotations

from typing import Any

BUCKET = "media-1250000000"
REGION = "ap-guangzhou"
SECRET_ID = "AKIDbenchmarkbenchmarkbenchmark"
SECRET_KEY = "benchmark-secret-key-0123456789"
TOKEN = "benchmark-session-token"
KEY = "uploads/2026/视频 final+cut.mp4"
NOW = 1_767_000_000

RESPONSE = (
    b'<?xml version="1.0" encoding="utf-8"?><Response><JobsDetail><Code>Success</Code><Message/>'
    b"<JobId>j8d121820f5e411ec926ef19d53ba9c6f</JobId><Tag>Transcode</Tag><State>Submitted</State>"
    b"<Progress>0</Progress><CreationTime>2026-11-22T10:00:00+0800</CreationTime><StartTime>-</StartTime>"
    b"<EndTime>-</EndTime><QueueId>p2242ab62c7c94486915508540933a2c6</QueueId>"
    b"<Input><Region>ap-guangzhou</Region><BucketId>media-1250000000</BucketId>"
    b"<Object>uploads/2026/video.mp4</Object></Input><Operation><TemplateId>t01e57db1c2d154d2fb57aa5de9313a897</TemplateId>"
    b"<TemplateName>mp4-720p</TemplateName><Output><Region>ap-guangzhou</Region><Bucket>media-1250000000</Bucket>"
    b"<Object>out/${jobid}.${ext}</Object></Output><UserData>r=transcode;c=abc123</UserData><JobLevel>0</JobLevel>"
    b"</Operation></JobsDetail></Response>"
)

JOB_FIELDS: dict[str, Any] = {
    "Tag": "Transcode",
    "Input": {"Object": KEY},
    "Operation": {
        "TemplateId": "t01e57db1c2d154d2fb57aa5de9313a897",
        "Output": {"Region": REGION, "Bucket": BUCKET, "Object": "out/${jobid}.${ext}"},
        "UserData": "r=transcode;c=abc123",
        "JobLevel": "0",
    },
    "QueueId": "p2242ab62c7c94486915508540933a2c6",
    "CallBack": "https://service-abc.gz.apigw.tencentcs.com/release/callback?token=t0k3n",
    "CallBackFormat": "JSON",
}


def ciflow_build_and_sign() -> Any:
    """Build a TranscodeJobRequest, the POST /jobs operation and request, and sign it."""
    from ciflow.client import Endpoint, build_request
    from ciflow.models.media import TranscodeJobRequest
    from ciflow.operations import submit_media_job
    from ciflow.signing import Credentials, cos_key_time, sign_request

    request_model = TranscodeJobRequest.model_validate(JOB_FIELDS)
    request = build_request(submit_media_job(request_model), Endpoint(REGION, BUCKET))
    sign_request(request, Credentials(SECRET_ID, SECRET_KEY, TOKEN), cos_key_time(NOW))
    return request


def ciflow_parse(body: bytes = RESPONSE) -> Any:
    from ciflow.codec import from_xml
    from ciflow.models.media import MediaJobsResponse

    return from_xml(MediaJobsResponse, body, root="Response")


def sdk_build_and_sign() -> Any:
    """The official SDK's own pieces for the same request: its XML builder, requests, and CosS3Auth."""
    import requests
    from qcloud_cos import CosConfig
    from qcloud_cos.cos_auth import CosS3Auth
    from qcloud_cos.cos_comm import format_xml

    config = CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY, Token=TOKEN)
    body = format_xml(data=JOB_FIELDS, root="Request")
    url = f"https://{BUCKET}.ci.{REGION}.myqcloud.com/jobs"
    headers = {"Content-Type": "application/xml", "x-ci-security-token": TOKEN}
    prepared = requests.Request("POST", url, data=body, headers=headers).prepare()
    return CosS3Auth(config, "/jobs", params={})(prepared)


def sdk_parse(body: bytes = RESPONSE) -> Any:
    """The SDK's response path in ci_create_media_jobs: xml_to_dict, then force JobsDetail to a list."""
    from qcloud_cos.cos_comm import format_dict, xml_to_dict

    data = xml_to_dict(body)
    format_dict(data, ["JobsDetail"])
    return data
