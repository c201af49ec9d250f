"""CI's image processing, image styles, QR code generation and document preview on the emulator, judged by the
official SDK: every image is decoded again with Pillow, every PDF page was rendered by PDFium."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from ciflow_local.emulator import DEFAULT_CREDENTIALS, CiSetup, Emulator

from ._sdk_client import BUCKET, sdk_client


def _pdf(pages: list[str]) -> bytes:
    """A small PDF with one line of Helvetica text on each A4 page."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
        page_id, content_id = len(objects) + 1, len(objects) + 2
        kids.append(f"{page_id} 0 R")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content_id} 0 R "
            "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode()}\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>"
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode())
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _png(size: tuple[int, int], colour: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def _image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def _object(client: CosS3Client, key: str) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].get_raw_stream().read()  # type: ignore[no-any-return]


def _body(response: dict[str, Any]) -> bytes:
    return response["Body"].get_raw_stream().read()  # type: ignore[no-any-return]


def _header(response: dict[str, Any], name: str) -> str | None:
    return next((value for key, value in response.items() if key.lower() == name.lower()), None)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[CosS3Client]:
    with Emulator(tmp_path / "data") as running:
        yield sdk_client(running.url, DEFAULT_CREDENTIALS)


# -- image styles -----------------------------------------------------------------------------------------------


def test_styles_are_put_listed_replaced_and_deleted(client: CosS3Client) -> None:
    client.ci_put_image_style(Bucket=BUCKET, Request={"StyleName": "a", "StyleBody": "imageMogr2/thumbnail/10x"})
    client.ci_put_image_style(Bucket=BUCKET, Request={"StyleName": "b", "StyleBody": "imageMogr2/rotate/90"})
    client.ci_put_image_style(Bucket=BUCKET, Request={"StyleName": "a", "StyleBody": "imageMogr2/thumbnail/20x"})
    _, listed = client.ci_get_image_style(Bucket=BUCKET, Request={})
    assert listed["StyleRule"] == [
        {"StyleName": "a", "StyleBody": "imageMogr2/thumbnail/20x"},
        {"StyleName": "b", "StyleBody": "imageMogr2/rotate/90"},
    ]
    _, one = client.ci_get_image_style(Bucket=BUCKET, Request={"StyleName": "b"})
    assert one["StyleRule"] == {"StyleName": "b", "StyleBody": "imageMogr2/rotate/90"}
    client.ci_delete_image_style(Bucket=BUCKET, Request={"StyleName": "a"})
    _, left = client.ci_get_image_style(Bucket=BUCKET, Request={})
    assert left["StyleRule"] == {"StyleName": "b", "StyleBody": "imageMogr2/rotate/90"}


def test_style_requests_are_checked(client: CosS3Client) -> None:
    with pytest.raises(CosServiceError) as refused:
        client.ci_put_image_style(Bucket=BUCKET, Request={"StyleName": "no spaces", "StyleBody": "imageMogr2/x"})
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (400, "InvalidArgument")
    with pytest.raises(CosServiceError) as refused:
        client.ci_put_image_style(Bucket=BUCKET, Request={"StyleName": "empty"})
    assert refused.value.get_error_code() == "InvalidArgument"


def test_an_unknown_style_is_refused_when_applied(client: CosS3Client) -> None:
    client.put_object(Bucket=BUCKET, Key="a.png", Body=_png((20, 10)))
    ops = json.dumps({"rules": [{"fileid": "out.png", "rule": "style/missing"}]})
    with pytest.raises(CosServiceError) as refused:
        client.ci_image_process(Bucket=BUCKET, Key="a.png", PicOperations=ops)
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (400, "InvalidArgument")


def test_styles_need_ci_bound(tmp_path: Path) -> None:
    with Emulator(tmp_path / "data", ci_setup=CiSetup(bound=False)) as running:
        sdk = sdk_client(running.url, DEFAULT_CREDENTIALS)
        with pytest.raises(CosServiceError) as refused:
            sdk.ci_put_image_style(Bucket=BUCKET, Request={"StyleName": "a", "StyleBody": "imageMogr2/rotate/90"})
        assert refused.value.get_status_code() == 400
        sdk.put_object(Bucket=BUCKET, Key="a.png", Body=_png((20, 10)))
        with pytest.raises(CosServiceError):
            sdk.ci_get_image_info(Bucket=BUCKET, Key="a.png")
        assert _object(sdk, "a.png")  # the plain object API is not CI's


# -- Pic-Operations -------------------------------------------------------------------------------------------------


def test_image_process_writes_every_rule_where_it_says(client: CosS3Client) -> None:
    client.put_object(Bucket=BUCKET, Key="p1/photo.png", Body=_png((300, 200)))
    client.ci_put_image_style(Bucket=BUCKET, Request={"StyleName": "tall", "StyleBody": "imageMogr2/thumbnail/!50py"})
    rules = [
        {"fileid": "p2/small.jpg", "rule": "imageMogr2/thumbnail/150x/format/jpg/quality/70"},
        {"fileid": "/top/gray.png", "rule": "imageMogr2/grayscale/1|imageMogr2/flip/vertical"},
        {"fileid": "/other/styled.png", "rule": "style/tall", "bucket": "other-1250000000"},
    ]
    _, result = client.ci_image_process(
        Bucket=BUCKET, Key="p1/photo.png", PicOperations=json.dumps({"is_pic_info": 1, "rules": rules})
    )
    info = result["OriginalInfo"]["ImageInfo"]
    assert (info["Format"], info["Width"], info["Height"], info["Ave"]) == ("PNG", "300", "200", "0x1e78c8")
    made = result["ProcessResults"]["Object"]
    assert [entry["Key"] for entry in made] == ["p1/p2/small.jpg", "top/gray.png", "other/styled.png"]
    assert made[2]["Location"] == "other-1250000000.cos.ap-guangzhou.myqcloud.com/other/styled.png"
    small = _image(_object(client, "p1/p2/small.jpg"))
    assert (small.format, small.size, made[0]["Quality"]) == ("JPEG", (150, 100), "70")
    assert _image(_object(client, "top/gray.png")).mode == "L"
    styled = client.get_object(Bucket="other-1250000000", Key="other/styled.png")["Body"].get_raw_stream().read()
    assert _image(styled).size == (300, 100)


def test_processing_onto_the_source_reports_the_new_etag(client: CosS3Client) -> None:
    client.put_object(Bucket=BUCKET, Key="self.png", Body=_png((40, 40)))
    ops = json.dumps({"rules": [{"fileid": "self.png", "rule": "imageMogr2/thumbnail/10x10"}]})
    _, result = client.ci_image_process(Bucket=BUCKET, Key="self.png", PicOperations=ops)
    etag = client.head_object(Bucket=BUCKET, Key="self.png")["ETag"]
    assert result["OriginalInfo"]["ETag"] == result["ProcessResults"]["Object"]["ETag"] == etag
    assert _image(_object(client, "self.png")).size == (10, 10)


@pytest.mark.parametrize(
    ("operations", "code"),
    [
        ("not json", "InvalidArgument"),
        (json.dumps({"rules": [{"fileid": f"{n}.png", "rule": "imageMogr2/rotate/90"} for n in range(6)]}), None),
        (json.dumps({"rules": [{"fileid": "dir/", "rule": "imageMogr2/rotate/90"}]}), None),
        (json.dumps({"rules": [{"fileid": "../../x.png", "rule": "imageMogr2/rotate/90"}]}), None),
        (json.dumps({"rules": [{"fileid": "x.png", "rule": "watermark/2/text/aGk"}]}), "NotImplemented"),
    ],
)
def test_bad_pic_operations_are_refused(client: CosS3Client, operations: str, code: str | None) -> None:
    client.put_object(Bucket=BUCKET, Key="a.png", Body=_png((20, 10)))
    with pytest.raises(CosServiceError) as refused:
        client.ci_image_process(Bucket=BUCKET, Key="a.png", PicOperations=operations)
    assert refused.value.get_error_code() == (code or "InvalidArgument")


def test_image_process_of_a_missing_or_broken_object(client: CosS3Client) -> None:
    ops = json.dumps({"rules": [{"fileid": "x.png", "rule": "imageMogr2/rotate/90"}]})
    with pytest.raises(CosServiceError) as refused:
        client.ci_image_process(Bucket=BUCKET, Key="missing.png", PicOperations=ops)
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (404, "NoSuchKey")
    client.put_object(Bucket=BUCKET, Key="text.png", Body=b"not an image")
    with pytest.raises(CosServiceError) as refused:
        client.ci_image_process(Bucket=BUCKET, Key="text.png", PicOperations=ops)
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (400, "InvalidImage")


def test_upload_with_pic_operations_keeps_the_original(client: CosS3Client) -> None:
    data = _png((64, 32))
    ops = json.dumps({"is_pic_info": 1, "rules": [{"fileid": "thumb.png", "rule": "imageView2/2/w/16"}]})
    headers, result = client.ci_put_object(Bucket=BUCKET, Body=data, Key="up/orig.png", PicOperations=ops)
    assert headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert _object(client, "up/orig.png") == data
    assert result["ProcessResults"]["Object"]["Key"] == "up/thumb.png"
    assert _image(_object(client, "up/thumb.png")).size == (16, 8)


def test_upload_with_a_bad_header_stores_nothing(client: CosS3Client) -> None:
    with pytest.raises(CosServiceError) as refused:
        client.ci_put_object(Bucket=BUCKET, Body=_png((8, 8)), Key="never.png", PicOperations="{")
    assert refused.value.get_error_code() == "InvalidArgument"
    assert not client.object_exists(Bucket=BUCKET, Key="never.png")


# -- processing on download, imageInfo -------------------------------------------------------------------------------


def test_image_info_is_read_from_the_image(client: CosS3Client) -> None:
    frames = [Image.new("RGB", (12, 7), colour) for colour in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    client.put_object(Bucket=BUCKET, Key="anim.gif", Body=out.getvalue())
    _, raw = client.ci_get_image_info(Bucket=BUCKET, Key="anim.gif")
    info = json.loads(raw)
    assert info == {
        "format": "gif",
        "width": "12",
        "height": "7",
        "size": str(len(out.getvalue())),
        "md5": hashlib.md5(out.getvalue()).hexdigest(),
        "frame_count": "3",
    }


def test_image_ave_is_the_mean_colour(client: CosS3Client) -> None:
    image = Image.new("RGB", (2, 1), (0, 0, 0))
    image.putpixel((1, 0), (200, 100, 50))
    out = io.BytesIO()
    image.save(out, "PNG")
    client.put_object(Bucket=BUCKET, Key="two.png", Body=out.getvalue())
    _, raw = client.ci_get_image_ave_info(Bucket=BUCKET, Key="two.png")
    assert json.loads(raw) == {"RGB": "0x643219"}


def test_unserved_operations_on_download_are_refused(client: CosS3Client) -> None:
    client.put_object(Bucket=BUCKET, Key="e.png", Body=_png((4, 4)))
    with pytest.raises(CosServiceError) as refused:
        client.ci_get_image_exif_info(Bucket=BUCKET, Key="e.png")
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (501, "NotImplemented")


def test_processing_on_download_leaves_the_object(client: CosS3Client, tmp_path: Path) -> None:
    data = _png((80, 40))
    client.put_object(Bucket=BUCKET, Key="d.png", Body=data)
    target = tmp_path / "out"
    client.ci_get_object(Bucket=BUCKET, Key="d.png", DestImagePath=str(target), Rule="imageMogr2/thumbnail/!50p")
    assert _image(target.read_bytes()).size == (40, 20)
    client.ci_get_object(
        Bucket=BUCKET, Key="d.png", DestImagePath=str(target), Rule="imageMogr2/rotate/90/format/jpg/quality/50"
    )
    rotated = _image(target.read_bytes())
    assert (rotated.format, rotated.size) == ("JPEG", (40, 80))
    client.ci_get_object(Bucket=BUCKET, Key="d.png", DestImagePath=str(target), Rule="imageMogr2/thumbnail/100x100>")
    assert _image(target.read_bytes()).size == (80, 40)  # ">" never enlarges
    assert _object(client, "d.png") == data


def test_exif_orientation_is_applied(client: CosS3Client, tmp_path: Path) -> None:
    image = Image.new("RGB", (60, 20), "white")
    exif = image.getexif()
    exif[0x0112] = 6  # rotated 90° clockwise
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    client.put_object(Bucket=BUCKET, Key="exif.jpg", Body=out.getvalue())
    target = tmp_path / "out"
    client.ci_get_object(Bucket=BUCKET, Key="exif.jpg", DestImagePath=str(target), Rule="imageMogr2/format/png")
    assert _image(target.read_bytes()).size == (20, 60)


# -- QR codes ---------------------------------------------------------------------------------------------------------


def test_qrcode_generate_answers_a_png_of_the_width(client: CosS3Client) -> None:
    answer = client.ci_qrcode_generate(Bucket=BUCKET, QrcodeContent="https://www.example.com", Width=200)
    image = _image(base64.b64decode(answer["ResultImage"]))
    assert (image.format, image.size) == ("PNG", (200, 200))
    colours = {colour for _, colour in image.convert("L").getcolors() or []}
    assert colours == {0, 255}
    assert image.convert("L").getpixel((2, 2)) == 255  # the quiet zone


@pytest.mark.parametrize(("width", "content"), [("0", "x"), ("99999", "x"), ("abc", "x"), ("200", "")])
def test_qrcode_generate_checks_its_parameters(client: CosS3Client, width: str, content: str) -> None:
    with pytest.raises(CosServiceError) as refused:
        client.ci_qrcode_generate(Bucket=BUCKET, QrcodeContent=content, Width=width)
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (400, "InvalidArgument")


def test_qrcode_content_too_long_for_a_qr_code(client: CosS3Client) -> None:
    with pytest.raises(CosServiceError) as refused:
        client.ci_qrcode_generate(Bucket=BUCKET, QrcodeContent="x" * 3000, Width=200)
    assert refused.value.get_error_code() == "InvalidArgument"


# -- document preview -------------------------------------------------------------------------------------------------


def test_pdf_preview_renders_the_asked_page(client: CosS3Client) -> None:
    client.put_object(Bucket=BUCKET, Key="doc/two.pdf", Body=_pdf(["Page one", "Page two"]))
    page = client.ci_doc_preview_process(Bucket=BUCKET, Key="doc/two.pdf", Page=2, DstType="png")
    assert _header(page, "x-total-page") == "2"
    image = _image(_body(page))
    assert (image.format, image.size) == ("PNG", (794, 1123))  # A4 at 96 dpi
    darkest, _ = image.convert("L").getextrema()
    assert isinstance(darkest, int)
    assert darkest < 100  # the text was drawn
    big = client.ci_doc_preview_process(Bucket=BUCKET, Key="doc/two.pdf", Page=1, ImageDpi=192, Scale=50)
    assert _image(_body(big)).size == (794, 1123)
    thumb = client.ci_doc_preview_process(
        Bucket=BUCKET, Key="doc/two.pdf", Page=1, ImageParams="imageMogr2/thumbnail/100x/format/webp"
    )
    assert (_header(thumb, "content-type"), _image(_body(thumb)).width) == ("image/webp", 100)
    text = client.ci_doc_preview_process(Bucket=BUCKET, Key="doc/two.pdf", Page=2, DstType="txt")
    assert _body(text).decode().strip() == "Page two"
    whole = client.ci_doc_preview_process(Bucket=BUCKET, Key="doc/two.pdf", DstType="pdf")
    assert _body(whole) == _object(client, "doc/two.pdf")
    with pytest.raises(CosServiceError) as refused:
        client.ci_doc_preview_process(Bucket=BUCKET, Key="doc/two.pdf", Page=3)
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (400, "InvalidArgument")


def test_text_preview_as_image_pdf_and_html(client: CosS3Client) -> None:
    text = "\n".join(f"line {n} <&>" for n in range(120))
    client.put_object(Bucket=BUCKET, Key="notes", Body=text.encode())
    page = client.ci_doc_preview_process(Bucket=BUCKET, Key="notes", SrcType="txt", Page=2, DstType="jpg")
    assert _header(page, "x-total-page") == "3"
    assert _image(_body(page)).format == "JPEG"
    pdf = _body(client.ci_doc_preview_process(Bucket=BUCKET, Key="notes", SrcType="txt", DstType="pdf"))
    assert pdf.startswith(b"%PDF")
    title = base64.urlsafe_b64encode("标题".encode()).decode().rstrip("=")
    page_html = _body(
        client.ci_doc_preview_html_process(Bucket=BUCKET, Key="notes", SrcType="txt", HtmlTitle=title)
    ).decode()
    assert "<title>标题</title>" in page_html
    assert "line 7 &lt;&amp;&gt;" in page_html
    assert "user-select" not in page_html


def test_pdf_preview_as_html_embeds_every_page(client: CosS3Client) -> None:
    client.put_object(Bucket=BUCKET, Key="two.pdf", Body=_pdf(["A", "B"]))
    answer = client.ci_doc_preview_html_process(Bucket=BUCKET, Key="two.pdf")
    page = _body(answer).decode()
    assert page.count('<img alt="page') == 2
    assert _header(answer, "content-type") == "text/html; charset=utf-8"


@pytest.mark.parametrize("key", ["slides.pptx", "sheet.xlsx", "letter.doc", "page.html"])
def test_office_and_web_documents_are_not_implemented(client: CosS3Client, key: str) -> None:
    client.put_object(Bucket=BUCKET, Key=key, Body=b"whatever")
    with pytest.raises(CosServiceError) as refused:
        client.ci_doc_preview_process(Bucket=BUCKET, Key=key, Page=1)
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (501, "NotImplemented")


def test_unknown_sources_and_broken_pdfs_are_refused(client: CosS3Client) -> None:
    client.put_object(Bucket=BUCKET, Key="blob.bin", Body=b"\x00\x01")
    client.put_object(Bucket=BUCKET, Key="broken.pdf", Body=b"%PDF-1.4 garbage")
    for key in ("blob.bin", "broken.pdf"):
        with pytest.raises(CosServiceError) as refused:
            client.ci_doc_preview_process(Bucket=BUCKET, Key=key, Page=1)
        assert refused.value.get_status_code() == 400
