"""A minimal Azure Blob endpoint for the emulated Data Landing Zone, enough for Microsoft's ``azure-storage-blob``.

Served under ``/blob/<container>/…`` (``blob`` stands where Azure has the storage account). Operations: Put Blob,
Put Block, Put Block List, Get Block List, Get Blob Properties (HEAD), Get Blob, List Blobs. Every call needs a
SAS the landing zone issued (``sig`` known and not past ``se``), else 403 ``AuthenticationFailed``, as Azure
answers. Content-MD5 is checked on Put Blob and Put Block (400 ``Md5Mismatch``); conditions If-None-Match ``*``
and If-Match are honoured (409 / 412). Last-Modified is whole seconds, as Azure shows it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import formatdate
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from .messages import Request, Response

PREFIX = "/blob/"
ACCOUNT = "blob"
CONTAINER = "dlz-user-container"
API_VERSION = "2020-04-08"


@dataclass
class Blob:
    data: bytes
    content_md5: bytes | None
    content_type: str
    last_modified: float
    etag: str
    created: float
    committed_blocks: dict[str, bytes] = field(default_factory=dict)

    @property
    def last_modified_seconds(self) -> int:
        return int(self.last_modified)


@dataclass
class SasToken:
    token: str
    expires_at: float  # time.time()


@dataclass
class BlobStore:
    """The landing zone's container: committed blobs, uncommitted blocks, the SAS tokens it accepts."""

    container: str = CONTAINER
    blobs: dict[str, Blob] = field(default_factory=dict)
    blocks: dict[str, dict[str, bytes]] = field(default_factory=dict)  # blob name -> block id -> data
    tokens: dict[str, SasToken] = field(default_factory=dict)  # sig -> token
    sas_ttl: float = 86400.0
    #: every token issued so far expires once this many more blocks have been staged (a SAS expiring mid-upload)
    expire_after_blocks: int | None = None
    _last_stamp: float = 0.0

    # -- SAS ------------------------------------------------------------------------------------------------

    def issue_token(self) -> SasToken:
        """A new container SAS; earlier ones stay valid until they expire (a refresh revokes them explicitly)."""
        expires = time.time() + self.sas_ttl
        sig = base64.b64encode(secrets.token_bytes(32)).decode()
        se = datetime.fromtimestamp(expires, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        token = (f"sv={API_VERSION}&si=dlz-{uuid.uuid4()}&sr=c&sp=racwdlm&se={se}"
                 f"&sig={sig.replace('+', '%2B').replace('/', '%2F').replace('=', '%3D')}")
        issued = SasToken(token, expires)
        self.tokens[sig] = issued
        return issued

    def current_token(self) -> SasToken:
        """The newest token still valid, else a new one (Adobe hands out a fresh token once the old expired)."""
        now = time.time()
        valid = [t for t in self.tokens.values() if t.expires_at > now]
        return max(valid, key=lambda t: t.expires_at) if valid else self.issue_token()

    def refresh_token(self) -> SasToken:
        """A new token; every earlier one is revoked (a new stored access policy)."""
        self.tokens.clear()
        return self.issue_token()

    def expire_tokens(self) -> None:
        for token in self.tokens.values():
            token.expires_at = 0.0

    # -- blobs ----------------------------------------------------------------------------------------------

    def stamp(self) -> float:
        now = max(time.time(), self._last_stamp)
        self._last_stamp = now
        return now

    def put(self, name: str, data: bytes, content_md5: bytes | None, content_type: str) -> Blob:
        now = self.stamp()
        old = self.blobs.get(name)
        blob = Blob(data, content_md5, content_type, now, f'"0x{uuid.uuid4().hex[:15].upper()}"',
                    old.created if old else now)
        self.blobs[name] = blob
        self.blocks.pop(name, None)
        return blob

    def list(self, prefix: str = "") -> list[tuple[str, Blob]]:
        return sorted((n, b) for n, b in self.blobs.items() if n.startswith(prefix))


class BlobError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(code)
        self.status, self.code, self.message = status, code, message

    def response(self, head: bool) -> Response:
        body = b"" if head else (
            f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{self.code}</Code>'
            f"<Message>{escape(self.message)}\nRequestId:{uuid.uuid4()}</Message></Error>").encode()
        return Response(self.status, body, {"Content-Type": "application/xml", "x-ms-error-code": self.code,
                                            "x-ms-version": API_VERSION})


def handle(store: BlobStore, req: Request) -> Response:
    """Every request under ``/blob/``."""
    head = req.method == "HEAD"
    try:
        _authorize(store, req)
        rest = req.path[len(PREFIX):]
        container, _, name = rest.partition("/")
        if container != store.container:
            raise BlobError(404, "ContainerNotFound", "The specified container does not exist.")
        response = _route(store, req, name)
    except BlobError as err:
        return err.response(head)
    response.headers.setdefault("x-ms-request-id", str(uuid.uuid4()))
    response.headers.setdefault("x-ms-version", API_VERSION)
    response.headers.setdefault("Date", formatdate(usegmt=True))
    return response


def _authorize(store: BlobStore, req: Request) -> None:
    sig = req.query_value("sig")
    token = store.tokens.get(sig or "")
    if token is None or token.expires_at <= time.time():
        raise BlobError(403, "AuthenticationFailed", "Server failed to authenticate the request. Make sure the "
                        "value of Authorization header is formed correctly including the signature.")


def _route(store: BlobStore, req: Request, name: str) -> Response:
    comp = req.query_value("comp")
    if not name:
        if req.method == "GET" and comp == "list":
            return _list(store, req)
        raise BlobError(400, "UnsupportedHttpVerb", "Only List Blobs is served on the container.")
    match req.method, comp:
        case "PUT", None:
            return _put_blob(store, req, name)
        case "PUT", "block":
            return _put_block(store, req, name)
        case "PUT", "blocklist":
            return _put_block_list(store, req, name)
        case "GET", "blocklist":
            return _get_block_list(store, req, name)
        case "HEAD", None:
            return _properties(_existing(store, name), head=True)
        case "GET", None:
            return _get_blob(_existing(store, name), req)
    raise BlobError(400, "UnsupportedQueryParameter", f"{req.method} with comp={comp} is not emulated.")


def _existing(store: BlobStore, name: str) -> Blob:
    blob = store.blobs.get(name)
    if blob is None:
        raise BlobError(404, "BlobNotFound", "The specified blob does not exist.")
    return blob


def _check_conditions(store: BlobStore, req: Request, name: str) -> None:
    existing = store.blobs.get(name)
    if req.header("if-none-match") == "*" and existing is not None:
        raise BlobError(409, "BlobAlreadyExists", "The specified blob already exists.")
    if_match = req.header("if-match")
    if if_match and (existing is None or (if_match != "*" and if_match != existing.etag)):
        raise BlobError(412, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met.")


def _md5_header(req: Request, name: str) -> bytes | None:
    value = req.header(name)
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise BlobError(400, "InvalidMd5", "The MD5 value specified in the request is invalid.") from None


def _check_md5(req: Request) -> None:
    sent = _md5_header(req, "content-md5")
    if sent is not None and sent != hashlib.md5(req.body, usedforsecurity=False).digest():
        raise BlobError(400, "Md5Mismatch", "The MD5 value specified in the request did not match with the MD5 "
                        "value calculated by the server.")


def _written(blob: Blob, status: int = 201) -> Response:
    headers = {"ETag": blob.etag, "Last-Modified": formatdate(blob.last_modified_seconds, usegmt=True),
               "x-ms-request-server-encrypted": "true"}
    if blob.content_md5:
        headers["Content-MD5"] = base64.b64encode(blob.content_md5).decode()
    return Response(status, b"", headers)


def _put_blob(store: BlobStore, req: Request, name: str) -> Response:
    if (req.header("x-ms-blob-type") or "") != "BlockBlob":
        raise BlobError(400, "InvalidHeaderValue", "x-ms-blob-type must be BlockBlob.")
    _check_md5(req)
    _check_conditions(store, req, name)
    # A single-shot Put Blob gets its MD5 computed by the store (blocks do not).
    md5 = _md5_header(req, "x-ms-blob-content-md5") or hashlib.md5(req.body, usedforsecurity=False).digest()
    blob = store.put(name, req.body, md5, req.header("x-ms-blob-content-type") or "application/octet-stream")
    return _written(blob)


def _put_block(store: BlobStore, req: Request, name: str) -> Response:
    block_id = req.query_value("blockid")
    if not block_id:
        raise BlobError(400, "InvalidQueryParameterValue", "blockid is required.")
    _check_md5(req)
    store.blocks.setdefault(name, {})[block_id] = req.body
    if store.expire_after_blocks is not None:
        store.expire_after_blocks -= 1
        if store.expire_after_blocks <= 0:
            store.expire_after_blocks = None
            store.expire_tokens()
    return Response(201, b"", {"x-ms-request-server-encrypted": "true"})


def _put_block_list(store: BlobStore, req: Request, name: str) -> Response:
    try:
        root = ElementTree.fromstring(req.body)
    except ElementTree.ParseError:
        raise BlobError(400, "InvalidXmlDocument", "The block list is not valid XML.") from None
    _check_conditions(store, req, name)
    staged = store.blocks.get(name, {})
    old = store.blobs.get(name)
    committed = old.committed_blocks if old else {}
    parts = []
    for element in root:
        block_id = element.text or ""
        source = staged if element.tag in ("Latest", "Uncommitted") else committed
        if element.tag == "Latest" and block_id not in staged:
            source = committed
        if block_id not in source:
            raise BlobError(400, "InvalidBlockList", "The specified block list is invalid.")
        parts.append((block_id, source[block_id]))
    md5 = _md5_header(req, "x-ms-blob-content-md5")  # stored as sent: Azure does not check it
    blob = store.put(name, b"".join(data for _, data in parts), md5,
                     req.header("x-ms-blob-content-type") or "application/octet-stream")
    blob.committed_blocks = dict(parts)
    response = _written(blob)
    # Azure's Content-MD5 here is that of the request (the block list), not of the blob: the SDK's
    # validate_content compares it with what it sent.
    response.headers["Content-MD5"] = base64.b64encode(hashlib.md5(req.body, usedforsecurity=False).digest()).decode()
    return response


def _get_block_list(store: BlobStore, req: Request, name: str) -> Response:
    staged = store.blocks.get(name)
    blob = store.blobs.get(name)
    if staged is None and blob is None:
        raise BlobError(404, "BlobNotFound", "The specified blob does not exist.")
    kind = (req.query_value("blocklisttype") or "committed").lower()

    def blocks(items: dict[str, bytes]) -> str:
        return "".join(f"<Block><Name>{escape(i)}</Name><Size>{len(d)}</Size></Block>" for i, d in items.items())

    committed = blocks(blob.committed_blocks if blob else {}) if kind in ("committed", "all") else ""
    uncommitted = blocks(staged or {}) if kind in ("uncommitted", "all") else ""
    body = (f'<?xml version="1.0" encoding="utf-8"?><BlockList><CommittedBlocks>{committed}</CommittedBlocks>'
            f"<UncommittedBlocks>{uncommitted}</UncommittedBlocks></BlockList>").encode()
    headers = {"Content-Type": "application/xml"}
    if blob is not None:
        headers.update({"ETag": blob.etag, "Last-Modified": formatdate(blob.last_modified_seconds, usegmt=True)})
    return Response(200, body, headers)


def _properties(blob: Blob, *, head: bool) -> Response:
    headers: dict[str, Any] = {
        "Last-Modified": formatdate(blob.last_modified_seconds, usegmt=True),
        "x-ms-creation-time": formatdate(int(blob.created), usegmt=True),
        "ETag": blob.etag,
        "x-ms-blob-type": "BlockBlob",
        "Content-Type": blob.content_type,
        "Accept-Ranges": "bytes",
        "x-ms-server-encrypted": "true",
        "x-ms-lease-state": "available",
        "x-ms-lease-status": "unlocked",
    }
    if blob.content_md5:
        headers["Content-MD5"] = base64.b64encode(blob.content_md5).decode()
    if head:
        headers["Content-Length"] = str(len(blob.data))  # HEAD: the length of the body it would have
    return Response(200, b"", headers)


def _get_blob(blob: Blob, req: Request) -> Response:
    """Get Blob, whole or a byte range (``x-ms-range``/``Range: bytes=a-b``, as the SDK downloads)."""
    response = _properties(blob, head=False)
    wanted = req.header("x-ms-range") or req.header("range")
    if not wanted:
        response.body = blob.data
        return response
    first, _, last = wanted.removeprefix("bytes=").partition("-")
    size = len(blob.data)
    start = int(first or 0)
    end = min(int(last) if last else size - 1, size - 1)
    if start >= size:
        raise BlobError(416, "InvalidRange", "The range specified is invalid for the current size of the resource.")
    response.status = 206
    response.body = blob.data[start:end + 1]
    response.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


def _list(store: BlobStore, req: Request) -> Response:
    prefix = req.query_value("prefix") or ""
    items = "".join(
        f"<Blob><Name>{escape(name)}</Name><Properties>"
        f"<Creation-Time>{formatdate(int(b.created), usegmt=True)}</Creation-Time>"
        f"<Last-Modified>{formatdate(b.last_modified_seconds, usegmt=True)}</Last-Modified>"
        f"<Etag>{b.etag}</Etag><Content-Length>{len(b.data)}</Content-Length>"
        f"<Content-Type>{escape(b.content_type)}</Content-Type>"
        f"<Content-MD5>{base64.b64encode(b.content_md5).decode() if b.content_md5 else ''}</Content-MD5>"
        f"<BlobType>BlockBlob</BlobType></Properties></Blob>"
        for name, b in store.list(prefix)
    )
    body = (f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="" '
            f'ContainerName="{escape(store.container)}"><Prefix>{escape(prefix)}</Prefix><Blobs>{items}</Blobs>'
            f"<NextMarker /></EnumerationResults>").encode()
    return Response(200, body, {"Content-Type": "application/xml"})
