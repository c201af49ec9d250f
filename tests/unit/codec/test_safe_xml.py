"""Hostile XML is refused with a typed error before anything expands or reaches out."""

from typing import cast
from xml.etree.ElementTree import Element

import pytest

from ciflow.codec import MAX_XML_DEPTH, element_to_tree, parse_xml
from ciflow.errors import MalformedXmlError, UnsafeXmlError, XmlError, XmlTooLargeError

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Response><JobId>&lol4;</JobId></Response>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Response><JobId>&xxe;</JobId></Response>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Response SYSTEM "http://127.0.0.1:1/evil.dtd">
<Response/>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x"> %p;]>
<Response/>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY])
def test_declarations_are_refused(body: bytes) -> None:
    with pytest.raises(UnsafeXmlError):
        parse_xml(body)


def test_dtd_hidden_in_utf16_is_refused() -> None:
    with pytest.raises(UnsafeXmlError):
        parse_xml(BILLION_LAUGHS.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16"))


def test_dtd_after_exotic_encoding_declaration_is_refused() -> None:
    body = b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'
    with pytest.raises(UnsafeXmlError):
        parse_xml(body)


def test_size_limit_applies_before_parsing() -> None:
    body = b"<Response>" + b"<A>x</A>" * 1000 + b"</Response>"
    assert parse_xml(body, max_bytes=len(body)).tag == "Response"
    with pytest.raises(XmlTooLargeError):
        parse_xml(body, max_bytes=len(body) - 1)


@pytest.mark.parametrize("body", [b"", b"   ", b"<Response>", b"<A></B>", b"not xml", b"<A>&undefined;</A>"])
def test_malformed_bodies_get_a_typed_error(body: bytes) -> None:
    with pytest.raises(MalformedXmlError):
        parse_xml(body)


def test_all_xml_errors_share_one_base_and_are_value_errors() -> None:
    for error in (UnsafeXmlError, XmlTooLargeError, MalformedXmlError):
        assert issubclass(error, XmlError)
        assert issubclass(error, ValueError)


def test_predefined_entities_comments_and_cdata_still_parse() -> None:
    element = parse_xml(b"<R><!-- c --><E>&quot;x&quot; &amp; <![CDATA[<y>]]></E></R>")
    assert cast(Element, element.find("E")).text == '"x" & <y>'


def test_utf8_declaration_and_unicode_text_take_the_fast_path() -> None:
    element = parse_xml('<?xml version="1.0" encoding="utf-8"?><R><K>视频 1+1%.mp4</K></R>'.encode())
    assert cast(Element, element.find("K")).text == "视频 1+1%.mp4"


@pytest.mark.parametrize("prefix", [b"", b"<!-- the defused path -->"])
def test_nesting_deeper_than_the_limit_is_a_typed_error_not_a_recursion_error(prefix: bytes) -> None:
    deep = prefix + b"<a>" * 5000 + b"x" + b"</a>" * 5000
    with pytest.raises(MalformedXmlError, match="nested deeper"):
        element_to_tree(parse_xml(deep))


def test_nesting_up_to_the_limit_still_reads() -> None:
    depth = MAX_XML_DEPTH
    tree = element_to_tree(parse_xml(b"<a>" * depth + b"x" + b"</a>" * depth))
    for _ in range(depth - 1):
        tree = tree["a"]
    assert tree == "x"


@pytest.mark.parametrize("encoding", ["UTF-7", "x-no-such-encoding", "utf-32"])
def test_an_encoding_the_parser_cannot_read_is_a_typed_error(encoding: str) -> None:
    with pytest.raises(XmlError):
        parse_xml(f'<?xml version="1.0" encoding="{encoding}"?><R>+ADw-x</R>'.encode())
