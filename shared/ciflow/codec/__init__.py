"""Safe XML and the generic model codec: untrusted bodies in, typed models out, and back."""

from ._model import (
    CiBool,
    CiFloat,
    CiInt,
    CiModel,
    CiTime,
    ListOf,
    decode_tree,
    format_ci_time,
    from_xml,
    parse_ci_time,
    to_tree,
    to_xml,
)
from ._safe import DEFAULT_MAX_XML_BYTES, parse_xml
from ._tree import MAX_XML_DEPTH, element_to_tree, local_name, tree_depth_within, tree_to_xml

__all__ = [
    "DEFAULT_MAX_XML_BYTES",
    "MAX_XML_DEPTH",
    "CiBool",
    "CiFloat",
    "CiInt",
    "CiModel",
    "CiTime",
    "ListOf",
    "decode_tree",
    "element_to_tree",
    "format_ci_time",
    "from_xml",
    "local_name",
    "parse_ci_time",
    "parse_xml",
    "to_tree",
    "to_xml",
    "tree_depth_within",
    "tree_to_xml",
]
