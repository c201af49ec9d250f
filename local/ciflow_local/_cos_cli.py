"""``ciflow cos ls|cp|rm|cat``: COS objects on a running emulator (or any COS endpoint), with ``cos://`` URLs.

In the spirit of LocalStack's ``awslocal s3``: the commands send ciflow's own production operations
(``ciflow.operations``) through its production client (``ciflow.client.CiClient``), signed as in the cloud.
``--endpoint`` (default ``$CIFLOW_ENDPOINT``, else the emulator's default ``http://127.0.0.1:9000``) receives every
request with the bucket's real virtual host in ``Host``; the credentials are ``$TENCENTCLOUD_SECRETID`` /
``$TENCENTCLOUD_SECRETKEY`` when set, else the emulator's ``DEFAULT_CREDENTIALS``.

- ``ls cos://bucket[/prefix] [-r]``: keys under the prefix; without ``-r`` one level (``PRE name/`` lines);
- ``cp SRC DST [-r]``: local file -> ``cos://``, ``cos://`` -> local file (or ``-`` for stdout), ``cos://`` ->
  ``cos://`` (server-side copy); ``-r`` copies a local directory under a prefix, or a prefix into a directory;
  a destination ending in ``/`` takes the source's base name;
- ``rm cos://bucket/key [-r]``: one key, or with ``-r`` every key under the prefix (multi-delete, 1000 a request);
- ``cat cos://bucket/key``: the object's bytes on stdout.
"""

from __future__ import annotations

import argparse
import mimetypes
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ciflow import operations as ops
from ciflow.client import CiClient, Endpoint, RetryPolicy
from ciflow.errors import CiflowError, NotFoundError
from ciflow.signing import Credentials

__all__ = ["DEFAULT_ENDPOINT", "CosUrl", "add_cos_parser", "parse_cos_url", "run_cos"]

#: Where ``ciflow emulator`` listens unless told otherwise (its ``--port`` default).
DEFAULT_ENDPOINT = "http://127.0.0.1:9000"
_SCHEME = "cos://"


@dataclass(frozen=True)
class CosUrl:
    """``cos://<bucket>/<key or prefix>``; ``key`` may be empty (the whole bucket)."""

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"{_SCHEME}{self.bucket}/{self.key}"


def is_cos_url(text: str) -> bool:
    return text.startswith(_SCHEME)


def parse_cos_url(text: str) -> CosUrl:
    """``cos://bucket/key`` -> ``CosUrl``; a ValueError unless the bucket is ``<name>-<appid>``."""
    if not is_cos_url(text):
        raise ValueError(f"{text!r} is not a cos://bucket/key URL")
    bucket, _, key = text[len(_SCHEME) :].partition("/")
    name, _, appid = bucket.rpartition("-")
    if not name or not appid.isdigit():
        raise ValueError(f"{text!r}: the bucket must be <name>-<appid>, e.g. cos://media-1250000000/key")
    return CosUrl(bucket, key)


class _Session:
    """One production client per bucket, all on the same endpoint and credentials."""

    def __init__(self, endpoint: str, region: str, credentials: Credentials) -> None:
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self._clients: dict[str, CiClient] = {}

    def client(self, bucket: str) -> CiClient:
        if bucket not in self._clients:
            scheme = "https" if self.endpoint.startswith("https://") else "http"
            endpoint = Endpoint(self.region, bucket, scheme=scheme, override=self.endpoint)
            self._clients[bucket] = CiClient(endpoint, self.credentials, retry=RetryPolicy(attempts=2))
        return self._clients[bucket]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def _credentials() -> Credentials:
    secret_id = os.environ.get("TENCENTCLOUD_SECRETID", "").strip()
    secret_key = os.environ.get("TENCENTCLOUD_SECRETKEY", "").strip()
    if secret_id and secret_key:
        token = os.environ.get("TENCENTCLOUD_SESSIONTOKEN", "").strip() or None
        return Credentials(secret_id, secret_key, token)
    from .emulator import DEFAULT_CREDENTIALS

    return DEFAULT_CREDENTIALS


def add_cos_parser(commands: Any) -> None:
    """Add the ``cos`` command group to the ``ciflow`` subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--endpoint",
        default=None,
        help=f"where requests go (default: $CIFLOW_ENDPOINT, else {DEFAULT_ENDPOINT}, the emulator's default)",
    )
    common.add_argument("--region", default="ap-guangzhou", help="the buckets' region (default: ap-guangzhou)")
    cos = commands.add_parser("cos", help="ls/cp/rm/cat COS objects on the emulator with cos://bucket/key URLs")
    actions = cos.add_subparsers(dest="cos_command", required=True)
    listing = actions.add_parser("ls", parents=[common], help="list keys under cos://bucket[/prefix]")
    listing.add_argument("url", help="cos://bucket[/prefix]")
    listing.add_argument("-r", "--recursive", action="store_true", help="every key under the prefix")
    copy = actions.add_parser("cp", parents=[common], help="copy local <-> cos:// or cos:// -> cos://")
    copy.add_argument("source", help="a local path or cos://bucket/key")
    copy.add_argument("destination", help="a local path, - (stdout), or cos://bucket/key")
    copy.add_argument("-r", "--recursive", action="store_true", help="a directory or a whole prefix")
    copy.add_argument("--content-type", default=None, help="for uploads (default: guessed from the file name)")
    remove = actions.add_parser("rm", parents=[common], help="delete cos://bucket/key (or a prefix with -r)")
    remove.add_argument("url", help="cos://bucket/key")
    remove.add_argument("-r", "--recursive", action="store_true", help="every key under the prefix")
    cat = actions.add_parser("cat", parents=[common], help="write an object's bytes to stdout")
    cat.add_argument("url", help="cos://bucket/key")


def _keys(client: CiClient, prefix: str) -> Iterator[Any]:
    for page in client.paginate(ops.list_objects(prefix)):
        yield from page.contents


def _ls(session: _Session, args: argparse.Namespace) -> int:
    url = parse_cos_url(args.url)
    client = session.client(url.bucket)
    if args.recursive:
        pages = client.paginate(ops.list_objects(url.key))
    else:
        pages = client.paginate(ops.list_objects(url.key, delimiter="/"))
    for page in pages:
        for common in page.common_prefixes:
            print(f"{'PRE':>30} {common.prefix}")
        for item in page.contents:
            stamp = item.last_modified.strftime("%Y-%m-%d %H:%M:%S") if item.last_modified else "-"
            print(f"{stamp} {item.size or 0:>10} {item.key}")
    return 0


def _content_type(path: Path, given: str | None) -> str:
    return given or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _upload(session: _Session, path: Path, url: CosUrl, content_type: str | None) -> None:
    key = url.key + path.name if not url.key or url.key.endswith("/") else url.key
    session.client(url.bucket).send(
        ops.put_object(key, path.read_bytes(), content_type=_content_type(path, content_type))
    )
    print(f"upload: {path} to {CosUrl(url.bucket, key)}", file=sys.stderr)


def _download(session: _Session, url: CosUrl, destination: str) -> None:
    if not url.key or url.key.endswith("/"):
        raise ValueError(f"{url} names a prefix, not an object (use -r)")
    content = session.client(url.bucket).send(ops.get_object(url.key)).content
    if destination == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return
    target = Path(destination)
    if destination.endswith(("/", os.sep)) or target.is_dir():
        target = target / PurePosixPath(url.key).name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    print(f"download: {url} to {target}", file=sys.stderr)


def _server_copy(session: _Session, source: CosUrl, destination: CosUrl) -> None:
    if not source.key or source.key.endswith("/"):
        raise ValueError(f"{source} names a prefix, not an object (use -r)")
    key = destination.key
    if not key or key.endswith("/"):
        key += PurePosixPath(source.key).name
    operation = ops.copy_object(key, source_bucket=source.bucket, source_region=session.region, source_key=source.key)
    session.client(destination.bucket).send(operation)
    print(f"copy: {source} to {CosUrl(destination.bucket, key)}", file=sys.stderr)


def _under(prefix: str, relative: str) -> str:
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return prefix + relative


def _cp_recursive(session: _Session, args: argparse.Namespace) -> int:
    source, destination = args.source, args.destination
    if not is_cos_url(source):
        root = Path(source)
        if not root.is_dir():
            raise ValueError(f"{source} is not a directory")
        target = parse_cos_url(destination)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = path.relative_to(root).as_posix()
            _upload(session, path, CosUrl(target.bucket, _under(target.key, relative)), args.content_type)
        return 0
    origin = parse_cos_url(source)
    client = session.client(origin.bucket)
    for item in _keys(client, origin.key):
        relative = item.key[len(origin.key) :].lstrip("/") or PurePosixPath(item.key).name
        if is_cos_url(destination):
            target = parse_cos_url(destination)
            _server_copy(session, CosUrl(origin.bucket, item.key), CosUrl(target.bucket, _under(target.key, relative)))
        else:
            if destination == "-":
                raise ValueError("-r cannot write to stdout")
            _download(session, CosUrl(origin.bucket, item.key), str(Path(destination) / relative))
    return 0


def _cp(session: _Session, args: argparse.Namespace) -> int:
    if args.recursive:
        return _cp_recursive(session, args)
    source, destination = args.source, args.destination
    if is_cos_url(source) and is_cos_url(destination):
        _server_copy(session, parse_cos_url(source), parse_cos_url(destination))
    elif is_cos_url(source):
        _download(session, parse_cos_url(source), destination)
    elif is_cos_url(destination):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"{source} is not a file (use -r for a directory)")
        _upload(session, path, parse_cos_url(destination), args.content_type)
    else:
        raise ValueError("one of SOURCE and DESTINATION must be a cos:// URL")
    return 0


def _rm(session: _Session, args: argparse.Namespace) -> int:
    url = parse_cos_url(args.url)
    client = session.client(url.bucket)
    if not args.recursive:
        if not url.key:
            raise ValueError(f"{url} names no key (use -r to delete a prefix)")
        client.send(ops.head_object(url.key))  # DELETE answers 204 for a missing key too: report it instead
        client.send(ops.delete_object(url.key))
        print(f"delete: {url}", file=sys.stderr)
        return 0
    keys = [item.key for item in _keys(client, url.key)]
    failed = 0
    for start in range(0, len(keys), ops.MAX_DELETE_KEYS):
        result = client.send(ops.delete_objects(keys[start : start + ops.MAX_DELETE_KEYS], quiet=False))
        for deleted in result.deleted:
            print(f"delete: {CosUrl(url.bucket, deleted.key)}", file=sys.stderr)
        for error in result.error:
            failed += 1
            print(f"delete failed: {CosUrl(url.bucket, error.key)}: {error.code} {error.message}", file=sys.stderr)
    return 1 if failed else 0


def _cat(session: _Session, args: argparse.Namespace) -> int:
    url = parse_cos_url(args.url)
    _download(session, url, "-")
    return 0


def run_cos(args: argparse.Namespace) -> int:
    """Run one ``ciflow cos`` command; 0 on success, 1 when the service refused, 2 on a usage error."""
    endpoint = args.endpoint or os.environ.get("CIFLOW_ENDPOINT", "").strip() or DEFAULT_ENDPOINT
    session = _Session(endpoint, args.region, _credentials())
    commands = {"ls": _ls, "cp": _cp, "rm": _rm, "cat": _cat}
    try:
        return commands[args.cos_command](session, args)
    except NotFoundError as exc:
        print(f"ciflow cos {args.cos_command}: not found: {exc}", file=sys.stderr)
        return 1
    except (CiflowError, OSError) as exc:
        print(f"ciflow cos {args.cos_command}: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"ciflow cos: {exc}", file=sys.stderr)
        return 2
    finally:
        session.close()
