"""What each bucket configuration body must hold, checked and normalised the way COS answers it back.

Every XML configuration is kept as the plain tree ``ciflow.codec.element_to_tree`` makes of it (document order
kept, repeated elements as lists), so a GET sends back what the PUT said, element for element; a ``Kind`` names
the root element, what GET answers while nothing is stored, the methods served and the checker that refuses what
COS refuses (``ConfigRefusedError``) and adds what COS adds (``URLRedirect`` in website redirects, the ``Id`` of an
inventory). Unknown elements are kept, not refused: COS accepts them (the SDK's own suite PUTs a lifecycle rule
with a misspelt ``Transation``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ._bucket_config_tree import (
    ConfigRefusedError,
    Tree,
    as_list,
    check_date,
    child,
    counted,
    invalid,
    leaf,
    malformed,
    one_of,
    positive_int,
    unique_ids,
)

__all__ = ["KINDS", "Kind"]

_CORS_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "HEAD"})
_LIFECYCLE_ACTIONS = (
    "Expiration",
    "Transition",
    "NoncurrentVersionExpiration",
    "NoncurrentVersionTransition",
    "AbortIncompleteMultipartUpload",
)
_INVENTORY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_REPLICATION_BUCKET = re.compile(r"^qcs::cos:[a-z0-9-]+::[a-z0-9][a-z0-9-]*-\d+$")


# -- the checkers: (tree, bucket, query id) -> the tree to store ------------------------------------------------


def _cors(tree: Tree, bucket: str, item_id: str) -> Tree:
    rules = counted(as_list(tree, "CORSRule"), "CORSRule", 1, 100)
    unique_ids(rules, "CORS")
    for rule in rules:
        origins = as_list(rule, "AllowedOrigin")
        methods = as_list(rule, "AllowedMethod")
        if not origins or not all(isinstance(origin, str) and origin for origin in origins):
            raise malformed("every <CORSRule> needs at least one non-empty <AllowedOrigin>")
        if any(origin.count("*") > 1 for origin in origins):
            raise invalid("an <AllowedOrigin> may hold at most one '*' wildcard")
        if not methods or not set(methods) <= _CORS_METHODS:
            raise invalid(f"<AllowedMethod> must be among {sorted(_CORS_METHODS)}, not {methods}")
        for name in ("AllowedHeader", "ExposeHeader"):
            if not all(isinstance(value, str) for value in as_list(rule, name)):
                raise malformed(f"<{name}> must be a text element")
        max_age = leaf(rule, "MaxAgeSeconds")
        if max_age is not None and not max_age.strip().isdigit():
            raise invalid(f"<MaxAgeSeconds> must be a non-negative integer, not {max_age!r}")
    return tree


def _lifecycle(tree: Tree, bucket: str, item_id: str) -> Tree:
    rules = counted(as_list(tree, "Rule"), "Rule", 1, 1000)
    unique_ids(rules, "lifecycle")
    for rule in rules:
        one_of(rule, "Status", ("Enabled", "Disabled"))
        if "Filter" not in rule and "Prefix" not in rule:
            raise malformed("every <Rule> needs a <Filter> (or a legacy <Prefix>)")
        if not any(action in rule for action in _LIFECYCLE_ACTIONS):
            raise malformed(f"every <Rule> needs an action: one of {list(_LIFECYCLE_ACTIONS)}")
        expiration = child(rule, "Expiration", required=False)
        if expiration:
            positive_int(expiration, "Days")
            check_date(expiration, "Date")
            if "Days" in expiration and "Date" in expiration:
                raise malformed("<Expiration> takes <Days> or <Date>, not both")
        for transition in as_list(rule, "Transition"):
            positive_int(transition, "Days")
            check_date(transition, "Date")
            if leaf(transition, "StorageClass") is None:
                raise malformed("every <Transition> needs a <StorageClass>")
    return tree


def _website(tree: Tree, bucket: str, item_id: str) -> Tree:
    index = child(tree, "IndexDocument", required="RedirectAllRequestsTo" not in tree)
    if index and not leaf(index, "Suffix"):
        raise malformed("<IndexDocument> needs a non-empty <Suffix>")
    redirect_all = child(tree, "RedirectAllRequestsTo", required=False)
    if redirect_all:
        one_of(redirect_all, "Protocol", ("http", "https"), required=False)
    if "RoutingRules" in tree:
        holder = child(tree, "RoutingRules")
        raw = holder.get("RoutingRule")
        rules = counted(as_list(holder, "RoutingRule"), "RoutingRule", 1, 100)
        normalised = []
        for rule in rules:
            redirect = child(rule, "Redirect")
            one_of(redirect, "Protocol", ("http", "https"), required=False)
            one_of(redirect, "HttpRedirectCode", ("301", "302"), required=False)
            one_of(redirect, "URLRedirect", ("Enabled", "Disabled"), required=False)
            normalised.append({**rule, "Redirect": {**redirect, "URLRedirect": redirect.get("URLRedirect", "Enabled")}})
        holder["RoutingRule"] = normalised if isinstance(raw, list) else normalised[0]
    return tree


def _logging(tree: Tree, bucket: str, item_id: str) -> Tree:
    enabled = child(tree, "LoggingEnabled", required=False)
    if enabled and not leaf(enabled, "TargetBucket"):
        raise malformed("<LoggingEnabled> needs a <TargetBucket>")
    return tree


def _referer(tree: Tree, bucket: str, item_id: str) -> Tree:
    one_of(tree, "Status", ("Enabled", "Disabled"))
    one_of(tree, "RefererType", ("Black-List", "White-List"))
    one_of(tree, "EmptyReferConfiguration", ("Allow", "Deny"), required=False)
    domains = as_list(child(tree, "DomainList"), "Domain")
    if not domains or not all(isinstance(domain, str) and domain for domain in domains):
        raise malformed("<DomainList> needs at least one non-empty <Domain>")
    return tree


def _tagging(tree: Tree, bucket: str, item_id: str) -> Tree:
    tags = as_list(child(tree, "TagSet"), "Tag")
    if not 1 <= len(tags) <= 50:
        raise ConfigRefusedError(400, "InvalidTag", f"a bucket carries 1 to 50 tags, not {len(tags)}")
    keys = []
    for tag in tags:
        key, value = leaf(tag, "Key"), leaf(tag, "Value")
        if key is None or value is None:
            raise malformed("every <Tag> needs a <Key> and a <Value>")
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise ConfigRefusedError(400, "InvalidTag", "tag keys are 1 to 128 characters, values at most 256")
        keys.append(key)
    if len(set(keys)) != len(keys):
        raise ConfigRefusedError(400, "InvalidTag", "tag keys must be unique")
    return tree


def _inventory(tree: Tree, bucket: str, item_id: str) -> Tree:
    if not _INVENTORY_ID.match(item_id):
        raise invalid("an inventory id is 1 to 64 of A-Z a-z 0-9 - _ .")
    body_id = leaf(tree, "Id")
    if body_id is not None and body_id != item_id:
        raise invalid(f"the body's <Id> {body_id!r} differs from the id parameter {item_id!r}")
    destination = child(child(tree, "Destination"), "COSBucketDestination")
    if not leaf(destination, "Bucket"):
        raise malformed("<COSBucketDestination> needs a <Bucket>")
    one_of(destination, "Format", ("CSV",))
    enabled = leaf(tree, "IsEnabled")
    if enabled is None or enabled.lower() not in ("true", "false"):
        raise malformed("<IsEnabled> must be true or false")
    one_of(tree, "IncludedObjectVersions", ("All", "Current"))
    one_of(child(tree, "Schedule"), "Frequency", ("Daily", "Weekly"))
    rest = {name: value for name, value in tree.items() if name != "Id"}
    rest.setdefault("OptionalFields", "")  # COS always answers one; the SDK's GET reads it unconditionally
    return {"Id": item_id, **rest}


def _encryption(tree: Tree, bucket: str, item_id: str) -> Tree:
    rules = counted(as_list(tree, "Rule"), "Rule", 1, 1)
    default = rules[0].get("ApplyServerSideEncryptionByDefault")
    if default is None:
        # COS answers AES256 to a rule without the element (the SDK's suite PUTs a misspelt one and reads that).
        return {"Rule": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    one_of(default, "SSEAlgorithm", ("AES256", "SM4", "KMS"))
    return tree


def _object_lock(tree: Tree, bucket: str, item_id: str) -> Tree:
    one_of(tree, "ObjectLockEnabled", ("Enabled",))
    rule = child(tree, "Rule", required=False)
    if rule:
        positive_int(child(rule, "DefaultRetention"), "Days", required=True)
    return tree


def _domain(tree: Tree, bucket: str, item_id: str) -> Tree:
    rules = counted(as_list(tree, "DomainRule"), "DomainRule", 1, 100)
    names = []
    for rule in rules:
        name = leaf(rule, "Name")
        if not name:
            raise malformed("every <DomainRule> needs a <Name>")
        one_of(rule, "Status", ("ENABLED", "DISABLED"))
        one_of(rule, "Type", ("REST", "WEBSITE"))
        names.append(name.lower())
    if len(set(names)) != len(names):
        raise invalid("a domain appears twice")
    return tree


def _replication(tree: Tree, bucket: str, item_id: str) -> Tree:
    if not leaf(tree, "Role"):
        raise malformed("<Role> is required")
    rules = counted(as_list(tree, "Rule"), "Rule", 1, 1000)
    unique_ids(rules, "replication")
    for rule in rules:
        one_of(rule, "Status", ("Enabled", "Disabled"))
        target = leaf(child(rule, "Destination"), "Bucket")
        if target is None or not _REPLICATION_BUCKET.match(target):
            raise invalid(f"<Destination><Bucket> must be qcs::cos:<region>::<bucket>, not {target!r}")
    return tree


def _origin(tree: Tree, bucket: str, item_id: str) -> Tree:
    for rule in counted(as_list(tree, "OriginRule"), "OriginRule", 1, 100):
        positive_int(rule, "RulePriority", required=True)
        if not leaf(rule, "OriginType"):
            raise malformed("every <OriginRule> needs an <OriginType>")
        child(rule, "OriginInfo")
    return tree


def _accelerate(tree: Tree, bucket: str, item_id: str) -> Tree:
    one_of(tree, "Status", ("Enabled", "Suspended"))
    one_of(tree, "Type", ("COS",), required=False)
    return {**tree, "Type": tree.get("Type", "COS")}  # COS answers the acceleration type too


def _intelligent_tiering(tree: Tree, bucket: str, item_id: str) -> Tree:
    one_of(tree, "Status", ("Enabled", "Suspended"))
    transition = child(tree, "Transition", required=False)
    if transition:
        one_of(transition, "Days", ("30", "60", "90"), required=False)
        one_of(transition, "RequestFrequent", ("1",), required=False)
    return tree


def _tiering_rules(tree: Tree, bucket: str, item_id: str) -> Tree:
    """The by-id (v2) intelligent-tiering API: ``?intelligent-tiering&id=``."""
    if not _INVENTORY_ID.match(item_id):
        raise invalid("an intelligent-tiering id is 1 to 64 of A-Z a-z 0-9 - _ .")
    body_id = leaf(tree, "Id")
    if body_id is not None and body_id != item_id:
        raise invalid(f"the body's <Id> {body_id!r} differs from the id parameter {item_id!r}")
    one_of(tree, "Status", ("Enabled", "Disabled", "Suspended"))
    for tier in counted(as_list(tree, "Tiering"), "Tiering", 1, 10):
        if not leaf(tier, "AccessTier"):
            raise malformed("every <Tiering> needs an <AccessTier>")
        positive_int(tier, "Days", required=True)
    return {"Id": item_id, **{name: value for name, value in tree.items() if name != "Id"}}


@dataclass(frozen=True)
class Kind:
    """One XML bucket sub-resource: its root element and how GET answers while nothing is stored."""

    name: str
    root: str
    check: Callable[[Tree, str, str], Tree]
    #: ``(404, code)`` GET answers while absent; ``None``: GET answers ``default`` instead.
    missing: tuple[int, str] | None
    default: Tree | None = None
    methods: frozenset[str] = frozenset({"GET", "PUT", "DELETE"})
    #: True: one configuration per ``id`` query parameter (inventory).
    by_id: bool = False
    #: The root and item element of ``GET`` without ``id`` (by-id kinds list their configurations).
    listing: tuple[str, str] = ("", "")
    #: True: a PUT of an empty body or root removes it (the SDK's ``delete_bucket_referer`` is such a PUT).
    empty_clears: bool = False


_NO_DELETE = frozenset({"GET", "PUT"})

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("cors", "CORSConfiguration", _cors, (404, "NoSuchCORSConfiguration")),
        Kind("lifecycle", "LifecycleConfiguration", _lifecycle, (404, "NoSuchLifecycleConfiguration")),
        Kind("website", "WebsiteConfiguration", _website, (404, "NoSuchWebsiteConfiguration")),
        Kind("logging", "BucketLoggingStatus", _logging, None, {}, _NO_DELETE, empty_clears=True),
        Kind("referer", "RefererConfiguration", _referer, None, {}, empty_clears=True),
        Kind("tagging", "Tagging", _tagging, (404, "NoSuchTagSet")),
        Kind(
            "inventory",
            "InventoryConfiguration",
            _inventory,
            (404, "NoSuchInventoryConfiguration"),
            methods=frozenset({"GET", "PUT", "DELETE", "POST"}),
            by_id=True,
            listing=("ListInventoryConfigurationResult", "InventoryConfiguration"),
        ),
        Kind("encryption", "ServerSideEncryptionConfiguration", _encryption, (404, "NoSuchEncryptionConfiguration")),
        Kind(
            "object-lock",
            "ObjectLockConfiguration",
            _object_lock,
            (404, "ObjectLockConfigurationNotFoundError"),
            methods=_NO_DELETE,
        ),
        Kind("domain", "DomainConfiguration", _domain, (404, "DomainConfigNotFoundError")),
        Kind("replication", "ReplicationConfiguration", _replication, (404, "ReplicationConfigurationnotFoundError")),
        Kind("origin", "OriginConfiguration", _origin, (404, "NoSuchOriginConfiguration")),
        # Never set: COS answers an empty root for both.
        Kind("accelerate", "AccelerateConfiguration", _accelerate, None, {}, _NO_DELETE),
        Kind("intelligenttiering", "IntelligentTieringConfiguration", _intelligent_tiering, None, {}, _NO_DELETE),
        Kind(
            "intelligent-tiering",
            "IntelligentTieringConfiguration",
            _tiering_rules,
            (404, "NoSuchConfiguration"),
            by_id=True,
            listing=("ListBucketIntelligentTieringConfigurationsOutput", "IntelligentTieringConfiguration"),
        ),
    )
}
