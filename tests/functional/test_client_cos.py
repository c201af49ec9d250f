"""COS object operations through the real client, against respx: wire format, errors, odd keys, paging."""

import base64
import hashlib
from xml.etree.ElementTree import fromstring

import httpx
import pytest
import respx

from ciflow import operations as ops
from ciflow.client import CiClient
from ciflow.errors import AccessDeniedError, ConflictError, NotFoundError, ServerError
from tests.functional.conftest import COS

ODD_KEYS = ["a b+c.mp4", "100%.jpg", "q?x=1#frag.png", "目录/视频 1.mp4", "a/../b", "./x", "+%2F%25"]


@pytest.mark.parametrize("key", ODD_KEYS)
@respx.mock
def test_odd_keys_round_trip_through_url_and_signature(client: CiClient, key: str) -> None:
    route = respx.head(url__startswith=COS).mock(
        return_value=httpx.Response(200, headers={"Content-Length": "5", "ETag": '"abc"', "x-cos-meta-owner": "u1"})
    )
    head = client.send(ops.head_object(key))
    sent = route.calls.last.request
    assert sent.url.path == "/" + key
    assert sent.headers["host"] == "media-1250000000.cos.ap-guangzhou.myqcloud.com"
    assert sent.headers["x-cos-security-token"] == "test-session-token"
    assert sent.headers["authorization"].startswith("q-sign-algorithm=sha1&q-ak=AKIDtestid&")
    assert head.content_length == 5
    assert head.metadata == {"owner": "u1"}


@respx.mock
def test_put_object_sends_md5_metadata_and_forbid_overwrite(client: CiClient) -> None:
    route = respx.put(f"{COS}/in/clip.mp4").mock(
        return_value=httpx.Response(200, headers={"ETag": '"e1"', "x-cos-hash-crc64ecma": "123"})
    )
    result = client.send(
        ops.put_object("in/clip.mp4", b"hello", content_type="video/mp4", metadata={"job": "j1"}, forbid_overwrite=True)
    )
    sent = route.calls.last.request
    assert sent.content == b"hello"
    assert sent.headers["content-md5"] == base64.b64encode(hashlib.md5(b"hello").digest()).decode()
    assert sent.headers["x-cos-forbid-overwrite"] == "true"
    assert sent.headers["x-cos-meta-job"] == "j1"
    assert "x-cos-forbid-overwrite" in sent.headers["authorization"]
    assert result.etag == '"e1"'
    assert result.crc64 == "123"


@respx.mock
def test_forbidden_overwrite_is_a_conflict_error(client: CiClient) -> None:
    respx.put(f"{COS}/k").mock(
        return_value=httpx.Response(
            409,
            content=b"<Error><Code>FileAlreadyExists</Code><Message>exists</Message>"
            b"<RequestId>req-1</RequestId><TraceId>tr-1</TraceId></Error>",
            headers={"Content-Type": "application/xml"},
        )
    )
    with pytest.raises(ConflictError) as caught:
        client.send(ops.put_object("k", b"x", forbid_overwrite=True))
    error = caught.value
    assert (error.status_code, error.code, error.message) == (409, "FileAlreadyExists", "exists")
    assert (error.request_id, error.trace_id) == ("req-1", "tr-1")
    assert not error.transient


@respx.mock
def test_head_404_without_body_uses_header_ids(client: CiClient) -> None:
    respx.head(f"{COS}/missing").mock(return_value=httpx.Response(404, headers={"x-cos-request-id": "rid-404"}))
    with pytest.raises(NotFoundError) as caught:
        client.send(ops.head_object("missing"))
    assert caught.value.request_id == "rid-404"


@respx.mock
def test_signature_error_is_access_denied(client: CiClient) -> None:
    respx.get(f"{COS}/k").mock(
        return_value=httpx.Response(403, content=b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
    )
    with pytest.raises(AccessDeniedError, match="SignatureDoesNotMatch"):
        client.send(ops.get_object("k"))


@respx.mock
def test_get_object_range(client: CiClient) -> None:
    route = respx.get(f"{COS}/big.bin").mock(
        return_value=httpx.Response(206, content=b"0123", headers={"Content-Range": "bytes 0-3/100"})
    )
    content = client.send(ops.get_object("big.bin", byte_range=(0, 3)))
    assert route.calls.last.request.headers["range"] == "bytes=0-3"
    assert "range" in route.calls.last.request.headers["authorization"]
    assert content.content == b"0123"
    assert content.content_range == "bytes 0-3/100"
    client.send(ops.get_object("big.bin", byte_range=(10, None)))
    assert route.calls.last.request.headers["range"] == "bytes=10-"


@respx.mock
def test_copy_and_its_200_error_body(client: CiClient) -> None:
    route = respx.put(f"{COS}/dst/a b.mp4").mock(
        return_value=httpx.Response(
            200, content=b'<CopyObjectResult><ETag>"e"</ETag><CRC64>1</CRC64></CopyObjectResult>'
        )
    )
    result = client.send(
        ops.copy_object(
            "dst/a b.mp4", source_bucket="src-1250000000", source_region="ap-guangzhou", source_key="a b.mp4"
        )
    )
    sent = route.calls.last.request
    assert sent.headers["x-cos-copy-source"] == "src-1250000000.cos.ap-guangzhou.myqcloud.com/a%20b.mp4"
    assert sent.headers["x-cos-metadata-directive"] == "Copy"
    assert result.etag == '"e"'
    route.mock(return_value=httpx.Response(200, content=b"<Error><Code>InternalError</Code></Error>"))
    with pytest.raises(ServerError, match="InternalError"):
        client.send(
            ops.copy_object("dst/a b.mp4", source_bucket="s-1250000000", source_region="ap-guangzhou", source_key="k")
        )


@respx.mock
def test_delete_objects_body_md5_and_result(client: CiClient) -> None:
    route = respx.post(f"{COS}/?delete").mock(
        return_value=httpx.Response(
            200,
            content=b"<DeleteResult><Deleted><Key>a</Key></Deleted>"
            b"<Error><Key>b</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>",
        )
    )
    result = client.send(ops.delete_objects(["a", "b"], quiet=False))
    sent = route.calls.last.request
    body = fromstring(sent.content)
    assert body.tag == "Delete"
    assert [o.findtext("Key") for o in body.findall("Object")] == ["a", "b"]
    assert body.findtext("Quiet") == "false"
    assert sent.headers["content-md5"] == base64.b64encode(hashlib.md5(sent.content).digest()).decode()
    assert [d.key for d in result.deleted] == ["a"]
    assert result.error[0].code == "AccessDenied"


def test_delete_objects_refuses_more_than_1000_keys() -> None:
    with pytest.raises(ValueError, match="1000"):
        ops.delete_objects([str(i) for i in range(1001)])


@respx.mock
def test_list_objects_pages_until_not_truncated_and_decodes_keys(client: CiClient) -> None:
    pages = [
        b"<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
        b"<NextMarker>tmp/b%20c</NextMarker><Contents><Key>tmp/a%2B1</Key><Size>1</Size></Contents>"
        b"<Contents><Key>tmp/b%20c</Key><Size>2</Size></Contents></ListBucketResult>",
        b"<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
        b"<Contents><Key>tmp/%E8%A7%86.mp4</Key><Size>3</Size></Contents></ListBucketResult>",
    ]
    route = respx.get(url__startswith=f"{COS}/?").mock(side_effect=[httpx.Response(200, content=p) for p in pages])
    keys = [item.key for page in client.paginate(ops.list_objects("tmp/", max_keys=2)) for item in page.contents]
    assert keys == ["tmp/a+1", "tmp/b c", "tmp/视.mp4"]
    first, second = (call.request.url.params for call in route.calls)
    assert first["prefix"] == "tmp/"
    assert "marker" not in first
    assert second["marker"] == "tmp/b c"
    assert second["encoding-type"] == "url"


@respx.mock
def test_put_object_acl(client: CiClient) -> None:
    route = respx.put(f"{COS}/k?acl").mock(return_value=httpx.Response(200))
    client.send(ops.put_object_acl("k", "private"))
    assert route.calls.last.request.headers["x-cos-acl"] == "private"
    assert "q-url-param-list=acl&" in route.calls.last.request.headers["authorization"]
    with pytest.raises(ValueError, match="ACL"):
        ops.put_object_acl("k", "public-read-write")


@respx.mock
def test_a_header_differing_only_in_case_is_sent_once_with_the_callers_value(client: CiClient) -> None:
    # Issue 13: put_object's own Content-Type and the caller's content-type used to go out as two header
    # lines and be signed comma-joined ("application/octet-stream, text/plain").
    route = respx.put(f"{COS}/a.txt").mock(return_value=httpx.Response(200))
    client.send(
        ops.put_object(
            "a.txt",
            b"x",
            metadata={"Owner": "m"},
            headers={"content-type": "text/plain", "X-COS-META-OWNER": "h", "CONTENT-md5": "bogus=="},
        )
    )
    sent = route.calls.last.request
    assert [v for k, v in sent.headers.raw if k.lower() == b"content-type"] == [b"text/plain"]
    assert [v for k, v in sent.headers.raw if k.lower() == b"x-cos-meta-owner"] == [b"h"]
    assert [v for k, v in sent.headers.raw if k.lower() == b"content-md5"] == [b"bogus=="]
    assert "content-md5;content-type;host;x-cos-meta-owner;x-cos-security-token&" in sent.headers["authorization"]


@respx.mock
def test_a_callers_host_header_replaces_the_endpoints_and_is_signed(client: CiClient) -> None:
    route = respx.put(f"{COS}/a.txt").mock(return_value=httpx.Response(200))
    client.send(ops.put_object("a.txt", b"x", headers={"host": "other-1250000000.cos.ap-guangzhou.myqcloud.com"}))
    sent = route.calls.last.request
    assert [v for k, v in sent.headers.raw if k.lower() == b"host"] == [
        b"other-1250000000.cos.ap-guangzhou.myqcloud.com"
    ]
    assert ";host;" in sent.headers["authorization"]


@respx.mock
def test_header_values_are_trimmed_before_sending_and_signing(client: CiClient) -> None:
    route = respx.put(f"{COS}/a.txt").mock(return_value=httpx.Response(200))
    client.send(ops.put_object("a.txt", b"x", content_type=" text/plain\t", metadata={"note": "  two words  "}))
    sent = route.calls.last.request
    assert sent.headers["content-type"] == "text/plain"
    assert sent.headers["x-cos-meta-note"] == "two words"


@pytest.mark.parametrize("value", ["a\r\nx-cos-acl: public-read", "a\nb", "a\rb", "a\x00b"])
def test_header_values_with_line_breaks_or_nul_are_refused_before_sending(client: CiClient, value: str) -> None:
    with pytest.raises(ValueError, match="header"):
        client.send(ops.put_object("a.txt", b"x", metadata={"note": value}))


@respx.mock
def test_non_ascii_header_values_go_out_as_utf8_and_are_signed_as_the_sdk_signs_them(client: CiClient) -> None:
    route = respx.put(f"{COS}/a.txt").mock(return_value=httpx.Response(200))
    client.send(ops.put_object("a.txt", b"x", metadata={"title": "视频 é"}))
    sent = route.calls.last.request
    assert [v for k, v in sent.headers.raw if k == b"x-cos-meta-title"] == ["视频 é".encode()]


@pytest.mark.parametrize(("key", "path"), [("/a", "/a"), ("//a", "//a"), ("/dir/x y", "/dir/x y"), ("a", "/a")])
@respx.mock
def test_one_leading_slash_of_a_key_is_dropped_as_the_sdk_does(client: CiClient, key: str, path: str) -> None:
    route = respx.get(url__startswith=COS).mock(return_value=httpx.Response(200))
    client.send(ops.get_object(key))
    assert route.calls.last.request.url.path == path


def test_a_key_that_is_only_a_slash_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        ops.get_object("/")


@respx.mock
def test_copy_source_drops_one_leading_slash_too(client: CiClient) -> None:
    route = respx.put(f"{COS}/dst").mock(return_value=httpx.Response(200, content=b"<CopyObjectResult/>"))
    client.send(ops.copy_object("dst", source_bucket="s-1250000000", source_region="ap-guangzhou", source_key="/a b"))
    assert route.calls.last.request.headers["x-cos-copy-source"] == "s-1250000000.cos.ap-guangzhou.myqcloud.com/a%20b"


@respx.mock
def test_cookies_are_still_kept_when_an_answer_sets_one(client: CiClient) -> None:
    # The client skips httpx's cookie handling for answers without Set-Cookie (all of COS's); one that sets a
    # cookie is still handled as httpx would, so the skip changes nothing.
    assert type(client._http.cookies).__name__ == "_Cookies"
    respx.head(f"{COS}/plain").mock(return_value=httpx.Response(200))
    respx.head(f"{COS}/sets").mock(return_value=httpx.Response(200, headers={"Set-Cookie": "session=s1; Path=/"}))
    client.send(ops.head_object("plain"))
    assert dict(client._http.cookies) == {}
    client.send(ops.head_object("sets"))
    assert dict(client._http.cookies) == {"session": "s1"}
