"""A small Hugging Face Hub-compatible HTTP server for tests.

The real, unmodified ``huggingface_hub`` client (2.4.0) and Keras 3 ``hf://`` paths talk to it
over real HTTP, so pushes and pulls can be tested without network access. It reproduces the
wire protocol the client speaks: routes, status codes, the ``X-Error-Code`` / ``X-Error-Message``
headers the client maps to its exceptions, the ``X-Repo-Commit`` / ``ETag`` / ``X-Linked-*``
headers and cross-origin redirect its download cache relies on, and the JSON shapes it parses.

Two origins are served, like the real Hub and its storage hosts:

* the **Hub** (``endpoint``, what ``HF_ENDPOINT`` points to): repo API, git LFS batch API, resolve;
* the **CDN/CAS** (``cdn_endpoint``, another port hence another origin): signed blob downloads,
  LFS basic-transfer uploads and the Xet CAS API. ``hf_hub_download`` only keeps the metadata of
  a resolve redirect and drops the ``Authorization`` header when the redirect leaves the Hub
  origin, so a second origin is what makes its LFS code path run as it does in production.

Why Xet is implemented (and ``HF_HUB_DISABLE_XET`` is not needed): with ``hf_xet`` installed,
huggingface_hub 2.4.0 never asks the server whether to use Xet. ``upload_folder`` goes through
``_upload_pipeline`` and ``create_commit`` through ``_upload_files``, both of which upload every
``lfs``-mode file with Xet whenever ``is_xet_available()`` (i.e. ``hf_xet`` importable and
``HF_HUB_DISABLE_XET`` unset). The legacy LFS batch + basic PUT path is used only when an upload
source is an ``io.BufferedIOBase`` (e.g. ``io.BytesIO``), or when Xet is disabled. Downloads use
Xet when the resolve response carries ``X-Xet-Hash`` (or the cached tree listing has ``xetHash``).
So this server implements both: the Xet CAS protocol for path/bytes uploads and downloads, and
LFS batch + basic transfer for file-object uploads.

Hub origin endpoints
    ``POST /api/repos/create`` (409 when it exists), ``DELETE /api/repos/delete``,
    ``GET /api/whoami-v2``, ``POST /api/validate-yaml``,
    ``GET /api/{models|datasets|spaces}/{ns}/{name}[/revision/{rev}]`` (``?blobs=true``),
    ``GET .../tree/{rev}[/{path}]`` (``recursive``, ``expand`` with ``lastCommit``, ``cursor``
    pagination through a ``Link: rel="next"`` header), ``POST .../paths-info/{rev}``,
    ``POST .../preupload/{rev}``, ``POST .../commit/{rev}`` (NDJSON ``header`` / ``file`` /
    ``lfsFile`` / ``deletedFile`` / ``deletedFolder`` lines), ``GET .../commits/{rev}``,
    ``GET .../refs``, ``GET .../xet-read-token/{rev}``, ``GET .../xet-write-token/{rev}``,
    ``POST /[datasets/|spaces/]{ns}/{name}.git/info/lfs/objects/batch`` (upload and download,
    ``basic`` transfer), ``POST .../info/lfs/objects/verify``,
    ``GET|HEAD /[datasets/|spaces/]{ns}/{name}/resolve/{rev}/{path}``.

CDN/CAS origin endpoints
    ``GET|HEAD /blobs/{sha256}`` (signed; LFS content, rebuilt from xorbs for Xet files),
    ``PUT /lfs-upload/{sha256}`` (signed; LFS basic transfer), ``GET /xorbs/{hash}`` (signed,
    ``Range``), and the Xet CAS API with bearer Xet tokens: ``POST /v1/xorbs/{prefix}/{hash}``,
    ``POST /v1/xorb-grants/{prefix}/{hash}`` (always 404, which hf_xet >= 1.8 documents as "upload
    through ``/v1/xorbs``"), ``POST /v1/shards``, ``POST /v2/shards`` (NDJSON events),
    ``GET /v1/chunks/{prefix}/{hash}`` (always 404: no global dedup),
    ``GET /v1|v2/reconstructions/{file_hash}`` (``Range``, 416 past the end), ``POST /v1/telemetry``.

Rules it applies like the Hub: new repos get an initial commit holding the default
``.gitattributes``; preupload answers ``lfs`` for files matching an LFS pattern of that file,
files of 10 MiB or more, and binary samples; a commit carrying a regular file that is binary or
10 MiB or more is refused; ``lfsFile`` lines must name an object that was uploaded. Commits get
40-hex ids, revisions resolve by branch name or commit id, and old commits stay readable.

Auth: tokens map to user names. A write without a token is 401, into another namespace 403;
reading a private repo without access is 404 ``RepoNotFound`` (the client raises
``RepositoryNotFoundError``); an unknown token is 401 ``Invalid credentials in Authorization
header``. Download URLs on the CDN are HMAC-signed and expire; Xet tokens are HMAC-signed and
scoped to one repo and read/write. Requests are recorded as (origin, method, path, status); no
header and no query string is recorded, so token values never are.

Deliberately not implemented: pull requests (``create_pr``), tags and branch creation, orgs and
gated repos, Spaces runtime, repo settings/moves/likes, ``lfs-files`` listing and duplication,
the LFS multipart transfer, Xet upload grants (their JSON is not published; the client falls
back as documented), server-side verification of Xet xorb/file hashes (the client's hashes are
trusted; that needs keyed BLAKE3, not installed), Xet global dedup and batch reconstruction,
multi-range xorb fetches, per-repo scoping of Xet reads (a read token reads any registered file
by hash), and rate limits. Unknown routes answer FastAPI's plain 404.

Run standalone: ``python tests/hub_server.py --port 8000 --token hf_x:alice [--storage-dir DIR]``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import dataclasses
import datetime as dt
import fnmatch
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import lz4.block
import lz4.frame
import uvicorn
import yaml
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

REPO_KINDS = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}

LFS_SIZE_THRESHOLD = 10 * 1024 * 1024
DEFAULT_BRANCH = "main"
SIGNED_URL_TTL = 3600
XET_TOKEN_TTL = 3600
DEFAULT_TREE_PAGE_SIZE = 1000
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
LFS_CONTENT_TYPE = "application/vnd.git-lfs+json"

# The patterns the Hub writes into a new repo's .gitattributes.
_DEFAULT_LFS_PATTERNS = [
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib",
    "*.lfs.*", "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot",
    "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors",
    "saved_model/**/*", "*.tar.*", "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip",
    "*.zst", "*tfevents*",
]  # fmt: skip
DEFAULT_GITATTRIBUTES = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in _DEFAULT_LFS_PATTERNS)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class HubError(Exception):
    """An HTTP error answered the way the Hub does: JSON body plus X-Error-* headers."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})

    def to_response(self) -> JSONResponse:
        """Render as the Hub renders errors (the client reads the headers first)."""
        headers = {"X-Error-Message": header_safe(self.message), **self.headers}
        if self.code is not None:
            headers["X-Error-Code"] = self.code
        return JSONResponse({"error": self.message}, status_code=self.status, headers=headers)


def header_safe(text: str) -> str:
    """A message fit for an HTTP header value (single line, latin-1), e.g. with a non-ASCII path."""
    return " ".join(text.split()).encode("latin-1", "backslashreplace").decode("latin-1")


def repo_not_found() -> HubError:
    return HubError(404, "Repository not found", code="RepoNotFound")


def revision_not_found(revision: str) -> HubError:
    return HubError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")


def entry_not_found(path: str, commit_id: str | None = None) -> HubError:
    headers = {"X-Repo-Commit": commit_id} if commit_id else None
    return HubError(404, f"Entry not found: {path}", code="EntryNotFound", headers=headers)


def bad_request(message: str) -> HubError:
    return HubError(400, message)


# --------------------------------------------------------------------------------------------
# Hashing and small helpers
# --------------------------------------------------------------------------------------------


def git_blob_id(content: bytes) -> str:
    """Git object id of a blob, as the Hub reports in ``oid`` / ``blobId``."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git LFS pointer file that stands in the git tree for an LFS object."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def xet_hash_hex(raw: bytes) -> str:
    """Xet's string form of a 32-byte hash: each 8-byte word little-endian, in order."""
    if len(raw) != 32:
        raise bad_request("xet hashes are 32 bytes")
    return "".join(raw[i : i + 8][::-1].hex() for i in range(0, 32, 8))


def is_binary(sample: bytes) -> bool:
    """Whether a content sample looks binary, as git and the Hub judge it (NUL or not UTF-8)."""
    if b"\0" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as err:
        # A multi-byte character cut at the end of a sample is still text.
        return err.start < len(sample) - 3
    return False


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def validate_repo_path(path: str) -> str:
    """Reject paths the Hub refuses to store (absolute, ``..``, ``.git``)."""
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..", ".git") for p in parts):
        raise bad_request(f"Invalid path: {path!r}")
    return path


def parse_front_matter(text: str) -> dict[str, Any] | None:
    """YAML metadata block at the top of a README, or None; raises ``yaml.YAMLError``."""
    match = re.match(r"^\s*---\r?\n(.*?)\r?\n---\s*(\r?\n|$)", text, re.DOTALL)
    if match is None:
        return None
    data = yaml.safe_load(match.group(1))
    if data is not None and not isinstance(data, dict):
        raise yaml.YAMLError("metadata must be a YAML mapping")
    return data or {}


def parse_byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``Range: bytes=a-b`` as an inclusive (start, end), None without header; 416 if unsatisfiable."""
    if not header:
        return None
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if match is None or match.group(1) == match.group(2) == "":
        raise HubError(416, f"Unsupported range: {header}", headers={"Content-Range": f"bytes */{size}"})
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), (int(last) if last else size - 1)
    end = min(end, size - 1)
    if start >= size or start > end:
        raise HubError(416, "Range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
    return start, end


def content_response(request: Request, data: bytes, headers: Mapping[str, str]) -> Response:
    """Serve bytes with HEAD and single-range support, as storage back ends do."""
    headers = {"Accept-Ranges": "bytes", **headers}
    total = len(data)
    byte_range = parse_byte_range(request.headers.get("range"), total)
    status = 200
    if byte_range is not None:
        start, end = byte_range
        data = data[start : end + 1]
        headers["Content-Range"] = f"bytes {start}-{end}/{total}"
        status = 206
    headers["Content-Length"] = str(len(data))
    body = b"" if request.method == "HEAD" else data
    return Response(body, status_code=status, headers=headers, media_type="application/octet-stream")


# --------------------------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------------------------


class ObjectStore:
    """Content-addressed bytes by (kind, key): in memory, or as files under ``root``."""

    def __init__(self, root: Path | None) -> None:
        self._root = root
        self._memory: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def _path(self, kind: str, key: str) -> Path:
        if self._root is None or not re.fullmatch(r"[0-9a-f]{8,}", key):
            raise bad_request(f"Invalid object key: {key!r}")
        return self._root / "objects" / kind / key[:2] / key

    def put(self, kind: str, key: str, data: bytes) -> None:
        if self._root is None:
            with self._lock:
                self._memory[(kind, key)] = data
            return
        path = self._path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{key}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def get(self, kind: str, key: str) -> bytes | None:
        if self._root is None:
            with self._lock:
                return self._memory.get((kind, key))
        path = self._path(kind, key)
        return path.read_bytes() if path.is_file() else None

    def has(self, kind: str, key: str) -> bool:
        if self._root is None:
            with self._lock:
                return (kind, key) in self._memory
        return self._path(kind, key).is_file()


@dataclasses.dataclass
class FileEntry:
    """One file of a commit's tree. ``lfs_sha256`` is set for LFS (and Xet) files."""

    size: int
    blob_id: str
    lfs_sha256: str | None = None
    pointer_size: int | None = None


@dataclasses.dataclass
class Commit:
    oid: str
    parents: list[str]
    title: str
    message: str
    author: str
    date: str
    files: dict[str, FileEntry]


@dataclasses.dataclass
class Repo:
    repo_type: str
    namespace: str
    name: str
    private: bool
    created_at: str
    branches: dict[str, str]
    commits: dict[str, Commit]

    @property
    def repo_id(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def key(self) -> str:
        return f"{self.repo_type}s/{self.repo_id}"

    @property
    def url_path(self) -> str:
        return f"{URL_PREFIXES[self.repo_type]}{self.repo_id}"


Term = tuple[str, int, int, int]  # (xorb hash, first chunk, end chunk exclusive, unpacked bytes)


@dataclasses.dataclass
class XetFile:
    """A file registered by a Xet shard: its reconstruction terms over xorbs."""

    file_hash: str
    sha256: str | None
    terms: list[Term]

    @property
    def size(self) -> int:
        return sum(term[3] for term in self.terms)


def _to_jsonable(value: Any) -> Any:
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value


def _repo_from_json(data: dict[str, Any]) -> Repo:
    commits = {
        oid: Commit(**{**c, "files": {p: FileEntry(**f) for p, f in c["files"].items()}})
        for oid, c in data["commits"].items()
    }
    return Repo(**{**data, "commits": commits})


# --------------------------------------------------------------------------------------------
# Signing (CDN URLs and Xet tokens)
# --------------------------------------------------------------------------------------------


class Signer:
    """HMAC signatures for expiring CDN URLs and stateless Xet access tokens."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, message: str) -> str:
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()

    def sign_query(self, path: str, ttl: int = SIGNED_URL_TTL, **extra: str) -> str:
        params = {**extra, "exp": str(int(time.time()) + ttl)}
        params["sig"] = self._mac(f"{path}?{urlencode(sorted(params.items()))}")
        return urlencode(params)

    def verify_query(self, path: str, query: Mapping[str, str]) -> None:
        """403 (what storage answers, and what makes hf_xet refresh its URLs) if not valid."""
        params = {k: v for k, v in query.items() if k != "sig"}
        expected = self._mac(f"{path}?{urlencode(sorted(params.items()))}")
        if not hmac.compare_digest(expected, query.get("sig", "")):
            raise HubError(403, "Invalid signature")
        if int(params.get("exp", "0")) < time.time():
            raise HubError(403, "Request has expired")

    def issue_token(self, claims: dict[str, Any]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(claims, sort_keys=True).encode()).decode().rstrip("=")
        return f"xet_{payload}.{self._mac(payload)}"

    def read_token(self, token: str) -> dict[str, Any]:
        """Claims of a valid, unexpired token; 401 otherwise."""
        payload, _, mac = token.removeprefix("xet_").partition(".")
        if not token.startswith("xet_") or not hmac.compare_digest(mac, self._mac(payload)):
            raise HubError(401, "Invalid Xet token")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if claims["exp"] < time.time():
            raise HubError(401, "Xet token expired")
        return claims


# --------------------------------------------------------------------------------------------
# Xet formats (xorbs and shards)
# --------------------------------------------------------------------------------------------

XORB_CHUNK_HEADER_SIZE = 8
SHARD_HEADER_SIZE = 48
SHARD_ENTRY_SIZE = 48
SHARD_FLAG_VERIFICATION = 1 << 31
SHARD_FLAG_METADATA_EXT = 1 << 30
LZ4_FRAME_MAGIC = b"\x04\x22\x4d\x18"


def _walk_chunk_offsets(data: bytes, end: int) -> list[int]:
    offsets = [0]
    pos = 0
    while pos < end:
        header = data[pos : pos + XORB_CHUNK_HEADER_SIZE]
        if len(header) < XORB_CHUNK_HEADER_SIZE or header[0] != 0:
            raise ValueError("bad chunk header")
        pos += XORB_CHUNK_HEADER_SIZE + int.from_bytes(header[1:4], "little")
        if pos > end:
            raise ValueError("truncated chunk")
        offsets.append(pos)
    return offsets


def xorb_chunk_offsets(data: bytes) -> list[int]:
    """Byte offset of every chunk of a serialized xorb, plus the end of the last chunk.

    hf_xet uploads xorbs without their metadata footer; one with a footer is accepted too.
    """
    try:
        return _walk_chunk_offsets(data, len(data))
    except ValueError:
        pass
    if len(data) >= 4:
        footer_start = len(data) - 4 - int.from_bytes(data[-4:], "little")
        try:
            return _walk_chunk_offsets(data, footer_start)
        except ValueError:
            pass
    raise bad_request("Malformed xorb")


def _lz4_decompress(payload: bytes, raw_size: int) -> bytes:
    if payload.startswith(LZ4_FRAME_MAGIC):
        return lz4.frame.decompress(payload)
    return lz4.block.decompress(payload, uncompressed_size=raw_size)


def _bg4_ungroup(grouped: bytes) -> bytes:
    """Undo Xet's 4-way byte grouping (byte i of each 4-byte word was moved to group i)."""
    size = len(grouped)
    base, extra = divmod(size, 4)
    out = bytearray(size)
    pos = 0
    for group in range(4):
        length = base + (1 if group < extra else 0)
        out[group::4] = grouped[pos : pos + length]
        pos += length
    return bytes(out)


def decode_xorb_chunk(chunk: bytes) -> bytes:
    """Uncompressed content of one serialized chunk (header + payload)."""
    scheme = chunk[4]
    raw_size = int.from_bytes(chunk[5:8], "little")
    payload = chunk[XORB_CHUNK_HEADER_SIZE:]
    if scheme == 0:
        return payload
    if scheme == 1:
        return _lz4_decompress(payload, raw_size)
    if scheme == 2:
        return _bg4_ungroup(_lz4_decompress(payload, raw_size))
    raise bad_request(f"Unknown xorb compression scheme {scheme}")


def parse_shard_files(data: bytes) -> list[XetFile]:
    """File reconstructions listed in an uploaded shard's file-info section."""
    if len(data) < SHARD_HEADER_SIZE or int.from_bytes(data[32:40], "little") != 2:
        raise bad_request("Malformed shard header")
    files: list[XetFile] = []
    pos = SHARD_HEADER_SIZE
    while True:
        header = data[pos : pos + SHARD_ENTRY_SIZE]
        if len(header) < SHARD_ENTRY_SIZE:
            raise bad_request("Truncated shard")
        if header[:32] == b"\xff" * 32:
            return files
        flags = int.from_bytes(header[32:36], "little")
        count = int.from_bytes(header[36:40], "little")
        pos += SHARD_ENTRY_SIZE
        terms = []
        for _ in range(count):
            entry = data[pos : pos + SHARD_ENTRY_SIZE]
            unpacked, first, end = (int.from_bytes(entry[i : i + 4], "little") for i in (36, 40, 44))
            terms.append((xet_hash_hex(entry[:32]), first, end, unpacked))
            pos += SHARD_ENTRY_SIZE
        if flags & SHARD_FLAG_VERIFICATION:
            pos += count * SHARD_ENTRY_SIZE
        sha256 = None
        if flags & SHARD_FLAG_METADATA_EXT:
            sha256 = xet_hash_hex(data[pos : pos + 32])  # stored in Xet's word order too
            pos += SHARD_ENTRY_SIZE
        files.append(XetFile(file_hash=xet_hash_hex(header[:32]), sha256=sha256, terms=terms))


# --------------------------------------------------------------------------------------------
# Hub state and rules
# --------------------------------------------------------------------------------------------


class Hub:
    """Repositories, commits, LFS and Xet objects, and the Hub's access rules.

    HTTP-free: the routes translate requests into calls here. Thread-safe.
    """

    def __init__(self, tokens: Mapping[str, str], storage_dir: Path | None, tree_page_size: int) -> None:
        self.tokens = dict(tokens)
        self.tree_page_size = tree_page_size
        self._storage_dir = storage_dir
        self._lock = threading.RLock()
        self.objects = ObjectStore(storage_dir)
        self.repos: dict[str, Repo] = {}
        self.xet_files: dict[str, XetFile] = {}
        self._secret = secrets.token_bytes(32)
        self._load()
        self.signer = Signer(self._secret)

    # -- persistence --

    @property
    def _state_path(self) -> Path | None:
        return None if self._storage_dir is None else self._storage_dir / "state.json"

    def _load(self) -> None:
        path = self._state_path
        if path is None or not path.is_file():
            return
        state = json.loads(path.read_text())
        self._secret = bytes.fromhex(state["secret"])
        self.repos = {key: _repo_from_json(repo) for key, repo in state["repos"].items()}
        self.xet_files = {
            h: XetFile(file_hash=f["file_hash"], sha256=f["sha256"], terms=[tuple(t) for t in f["terms"]])
            for h, f in state["xet_files"].items()
        }

    def _save(self) -> None:
        path = self._state_path
        if path is None:
            return
        state = {
            "secret": self._secret.hex(),
            "repos": {k: _to_jsonable(r) for k, r in self.repos.items()},
            "xet_files": {k: _to_jsonable(f) for k, f in self.xet_files.items()},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, path)

    # -- identity and access --

    def user_for(self, token: str | None) -> str | None:
        """User owning ``token``; None without token; 401 for a token nobody owns."""
        if token is None:
            return None
        user = self.tokens.get(token)
        if user is None:
            raise HubError(401, INVALID_CREDENTIALS)
        return user

    @staticmethod
    def require_user(user: str | None) -> str:
        if user is None:
            raise HubError(401, "You must be authenticated to perform this action")
        return user

    def readable_repo(self, user: str | None, repo_type: str, namespace: str, name: str) -> Repo:
        """The repo if ``user`` may read it; 404 RepoNotFound otherwise (private repos hide)."""
        with self._lock:
            repo = self.repos.get(f"{repo_type}s/{namespace}/{name}")
        if repo is None or (repo.private and user != repo.namespace):
            raise repo_not_found()
        return repo

    def writable_repo(self, user: str | None, repo_type: str, namespace: str, name: str) -> Repo:
        """The repo if ``user`` may write it: 401 anonymous, 404 unreadable, 403 not theirs."""
        user = self.require_user(user)
        repo = self.readable_repo(user, repo_type, namespace, name)
        if repo.namespace != user:
            raise HubError(403, f"You don't have write access to {repo.repo_id}")
        return repo

    # -- repositories --

    def create_repo(self, user: str, repo_type: str, namespace: str, name: str, private: bool) -> Repo:
        """Create a repo with the Hub's initial ``.gitattributes`` commit; 409 if it exists."""
        if namespace != user:
            message = f'You don\'t have the rights to create a {repo_type} under the namespace "{namespace}"'
            raise HubError(403, message)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}", name) or name.endswith((".git", ".")):
            raise bad_request(f"Invalid repo name: {name!r}")
        with self._lock:
            key = f"{repo_type}s/{namespace}/{name}"
            if key in self.repos:
                raise HubError(409, f"You already created this {repo_type} repo")
            now = utc_now()
            repo = Repo(repo_type, namespace, name, private, now, branches={}, commits={})
            self.repos[key] = repo
            self._add_commit(repo, DEFAULT_BRANCH, None, user, "initial commit", "", self._initial_files())
            self._save()
            return repo

    def _initial_files(self) -> dict[str, FileEntry]:
        content = DEFAULT_GITATTRIBUTES.encode()
        self.objects.put("git", git_blob_id(content), content)
        return {".gitattributes": FileEntry(size=len(content), blob_id=git_blob_id(content))}

    def delete_repo(self, user: str, repo_type: str, namespace: str, name: str) -> None:
        repo = self.writable_repo(user, repo_type, namespace, name)
        with self._lock:
            self.repos.pop(repo.key, None)
            self._save()

    @staticmethod
    def resolve(repo: Repo, revision: str) -> Commit:
        """Commit named by a branch or a full commit id; 404 RevisionNotFound otherwise."""
        oid = repo.branches.get(revision, revision)
        commit = repo.commits.get(oid)
        if commit is None:
            raise revision_not_found(revision)
        return commit

    def history(self, repo: Repo, revision: str) -> list[Commit]:
        """First-parent history, newest first."""
        commit: Commit | None = self.resolve(repo, revision)
        commits = []
        while commit is not None:
            commits.append(commit)
            commit = repo.commits.get(commit.parents[0]) if commit.parents else None
        return commits

    def last_commit_of(self, repo: Repo, revision: str, path: str) -> Commit:
        """Newest commit that changed ``path`` (a file, or anything under a folder)."""

        def snapshot(commit: Commit) -> dict[str, str]:
            prefix = path + "/"
            return {p: e.blob_id for p, e in commit.files.items() if p == path or p.startswith(prefix)}

        commits = self.history(repo, revision)
        for newer, older in zip(commits, commits[1:]):
            if snapshot(newer) != snapshot(older):
                return newer
        return commits[-1]

    # -- uploads --

    def upload_mode(self, commit: Commit, path: str, size: int, sample: bytes) -> str:
        """``lfs`` or ``regular``, the Hub's way: .gitattributes patterns, 10 MiB, binary."""
        if size == 0:
            return "regular"
        if any(self._matches(path, pattern) for pattern in self.lfs_patterns(commit)):
            return "lfs"
        return "lfs" if size >= LFS_SIZE_THRESHOLD or is_binary(sample) else "regular"

    def lfs_patterns(self, commit: Commit) -> list[str]:
        entry = commit.files.get(".gitattributes")
        content = self.objects.get("git", entry.blob_id) if entry and entry.lfs_sha256 is None else None
        lines = (content or b"").decode("utf-8", "replace").splitlines()
        return [line.split()[0] for line in lines if "filter=lfs" in line.split()[1:]]

    @staticmethod
    def _matches(path: str, pattern: str) -> bool:
        if "/" not in pattern:
            return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern)
        return fnmatch.fnmatchcase(path, pattern.replace("**/", "*"))

    @staticmethod
    def ignored(path: str, gitignore: str | None) -> bool:
        """Whether a simple (glob-per-line) .gitignore excludes ``path``."""
        patterns = [line.strip() for line in (gitignore or "").splitlines()]
        patterns = [p for p in patterns if p and not p.startswith(("#", "!"))]
        return any(Hub._matches(path, p.rstrip("/")) or path.startswith(p.rstrip("/") + "/") for p in patterns)

    def commit(
        self, repo: Repo, branch: str, user: str, header: Mapping[str, Any], operations: list[dict[str, Any]]
    ) -> Commit:
        """Apply NDJSON commit operations on top of ``branch``; returns the new commit."""
        with self._lock:
            if branch not in repo.branches:
                raise revision_not_found(branch)
            base = repo.commits[repo.branches[branch]]
            parent = header.get("parentCommit")
            if parent is not None and parent != base.oid:
                raise HubError(412, "A commit has happened since. Please refresh and try again.")
            files = dict(base.files)
            for operation in operations:
                self._apply(files, operation.get("key"), operation.get("value") or {}, base.oid)
            summary = str(header.get("summary") or "").strip()
            if not summary:
                raise bad_request("The commit summary is required")
            description = str(header.get("description") or "")
            commit = self._add_commit(repo, branch, base.oid, user, summary, description, files)
            self._save()
            return commit

    def _apply(self, files: dict[str, FileEntry], kind: str | None, value: Mapping[str, Any], base: str) -> None:
        path = validate_repo_path(str(value.get("path", "")))
        if kind == "file":
            files[path] = self._regular_file(path, value)
        elif kind == "lfsFile":
            files[path] = self._lfs_file(path, value)
        elif kind == "deletedFile":
            if files.pop(path, None) is None:
                raise entry_not_found(path, base)
        elif kind == "deletedFolder":
            doomed = [p for p in files if p.startswith(path.rstrip("/") + "/")]
            if not doomed:
                raise entry_not_found(path, base)
            for p in doomed:
                del files[p]
        else:
            raise bad_request(f"Unknown commit operation: {kind!r}")

    def _regular_file(self, path: str, value: Mapping[str, Any]) -> FileEntry:
        if value.get("encoding", "base64") != "base64":
            raise bad_request("Only base64 encoded file contents are supported")
        try:
            content = base64.b64decode(str(value.get("content", "")), validate=True)
        except binascii.Error as err:
            raise bad_request(f"Invalid base64 content for {path}") from err
        if len(content) >= LFS_SIZE_THRESHOLD or is_binary(content[:8000]):
            raise bad_request(
                f"Your push was rejected because {path} is binary or larger than 10 MiB."
                " Use git-lfs (uploadMode 'lfs') to store it."
            )
        blob_id = git_blob_id(content)
        self.objects.put("git", blob_id, content)
        return FileEntry(size=len(content), blob_id=blob_id)

    def _lfs_file(self, path: str, value: Mapping[str, Any]) -> FileEntry:
        sha256 = str(value.get("oid", ""))
        size = self.lfs_object_size(sha256)
        if value.get("algo", "sha256") != "sha256" or size is None:
            raise bad_request(
                f"Your push was rejected because an LFS pointer pointed to a file that does not exist ({path})"
            )
        if value.get("size") is not None and int(value["size"]) != size:
            raise bad_request(f"LFS object size mismatch for {path}")
        pointer = lfs_pointer(sha256, size)
        return FileEntry(size=size, blob_id=git_blob_id(pointer), lfs_sha256=sha256, pointer_size=len(pointer))

    def _add_commit(
        self,
        repo: Repo,
        branch: str,
        parent: str | None,
        user: str,
        title: str,
        message: str,
        files: dict[str, FileEntry],
    ) -> Commit:
        tree = "".join(f"{p}\0{e.blob_id}\n" for p, e in sorted(files.items()))
        # A random salt keeps ids unique even for identical trees committed in the same second.
        seed = f"tree {hashlib.sha1(tree.encode()).hexdigest()}\nparent {parent}\n{user}\n{title}\n{uuid.uuid4()}"
        commit = Commit(
            oid=hashlib.sha1(seed.encode()).hexdigest(),
            parents=[parent] if parent else [],
            title=title,
            message=message,
            author=user,
            date=utc_now(),
            files=files,
        )
        repo.commits[commit.oid] = commit
        repo.branches[branch] = commit.oid
        return commit

    # -- LFS and Xet objects --

    def lfs_object_size(self, sha256: str) -> int | None:
        """Size of an uploaded LFS object (basic transfer or Xet), None if never uploaded."""
        if not SHA256_RE.fullmatch(sha256):
            return None
        xet_file = self.xet_file_for_sha256(sha256)
        if xet_file is not None:
            return xet_file.size
        data = self.objects.get("lfs", sha256)
        return None if data is None else len(data)

    def put_lfs_object(self, sha256: str, data: bytes) -> None:
        if hashlib.sha256(data).hexdigest() != sha256:
            raise bad_request("Uploaded content does not match its sha256")
        self.objects.put("lfs", sha256, data)

    def lfs_content(self, sha256: str) -> bytes:
        """Bytes of an LFS object, rebuilt from xorbs when it was uploaded with Xet."""
        data = self.objects.get("lfs", sha256)
        if data is not None:
            return data
        xet_file = self.xet_file_for_sha256(sha256)
        if xet_file is None:
            raise HubError(404, "Object not found")
        return b"".join(self.term_content(term) for term in xet_file.terms)

    def term_content(self, term: Term) -> bytes:
        xorb_hash, first, end, _ = term
        xorb = self.xorb(xorb_hash)
        offsets = xorb_chunk_offsets(xorb)
        return b"".join(decode_xorb_chunk(xorb[offsets[i] : offsets[i + 1]]) for i in range(first, end))

    def xorb(self, xorb_hash: str) -> bytes:
        data = self.objects.get("xorb", xorb_hash)
        if data is None:
            raise HubError(404, "Xorb not found")
        return data

    def put_xorb(self, xorb_hash: str, data: bytes) -> bool:
        """Store a xorb; False if it was already there. Its hash is trusted, not recomputed."""
        xorb_chunk_offsets(data)  # reject malformed bodies early
        if self.objects.has("xorb", xorb_hash):
            return False
        self.objects.put("xorb", xorb_hash, data)
        return True

    def register_shard(self, data: bytes) -> int:
        """Register the files a shard describes; 0 if nothing new (Exists), 1 otherwise."""
        files = parse_shard_files(data)
        for xet_file in files:
            for xorb_hash, *_ in xet_file.terms:
                if not self.objects.has("xorb", xorb_hash):
                    raise bad_request(f"Shard references unknown xorb {xorb_hash}")
        with self._lock:
            new = [f for f in files if f.file_hash not in self.xet_files]
            self.xet_files.update({f.file_hash: f for f in files})
            self._save()
        return 1 if new else 0

    def xet_file(self, file_hash: str) -> XetFile:
        with self._lock:
            xet_file = self.xet_files.get(file_hash)
        if xet_file is None:
            raise HubError(404, "File not found")
        return xet_file

    def xet_file_for_sha256(self, sha256: str) -> XetFile | None:
        with self._lock:
            return next((f for f in self.xet_files.values() if f.sha256 == sha256), None)


# --------------------------------------------------------------------------------------------
# HTTP helpers
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    """One request as seen by the server: which origin, method, path and answer."""

    origin: str  # "hub" or "cdn"
    method: str
    path: str
    status: int


class RequestRecorder:
    """ASGI middleware recording (origin, method, path, status); never headers nor query."""

    def __init__(self, app: Callable[..., Any], origin: str, sink: list[RecordedRequest]) -> None:
        self.app = app
        self.origin = origin
        self.sink = sink

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        recorded = False

        def record(status: int) -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                self.sink.append(RecordedRequest(self.origin, scope["method"], scope["path"], status))

        async def capture(message: dict[str, Any]) -> None:
            # Recorded before the response leaves: a client that has its answer finds the
            # request in the record (recording after the body raced with tests on a busy machine).
            if message["type"] == "http.response.start":
                record(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            record(500)


def filter_requests(
    requests: Iterable[RecordedRequest], method: str | None = None, pattern: str = "", origin: str | None = None
) -> list[RecordedRequest]:
    """Requests with this method and origin (None: any) whose path matches the regex ``pattern``."""
    return [
        r
        for r in list(requests)
        if (method is None or r.method == method)
        and (origin is None or r.origin == origin)
        and re.search(pattern, r.path)
    ]


def bearer_token(request: Request) -> str | None:
    """Token from ``Authorization: Bearer`` (or the password of git's Basic auth)."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode().partition(":")[2] or None
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return value.strip() if scheme.lower() == "bearer" else ""


def is_true(value: str | None) -> bool:
    """Boolean query/form parameter as the client sends it (``True``/``true``/``1``)."""
    return (value or "").lower() in ("1", "true")


def repo_type_of(kind: str) -> str:
    if kind not in REPO_KINDS:
        raise HubError(404, f"Unknown repo kind: {kind}")
    return REPO_KINDS[kind]


def add_error_handler(app: FastAPI) -> None:
    async def handle(_: Request, exc: Exception) -> Response:
        if not isinstance(exc, HubError):
            raise exc
        return exc.to_response()

    app.add_exception_handler(HubError, handle)


async def json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except json.JSONDecodeError as err:
        raise bad_request(f"Invalid JSON body: {err}") from err


@dataclasses.dataclass
class Urls:
    """Public base URLs of both origins, known once sockets are bound."""

    hub: str = ""
    cdn: str = ""


# --------------------------------------------------------------------------------------------
# JSON views
# --------------------------------------------------------------------------------------------


def file_json(hub: Hub, path: str, entry: FileEntry) -> dict[str, Any]:
    """A tree / paths-info entry for a file."""
    info: dict[str, Any] = {"type": "file", "oid": entry.blob_id, "size": entry.size, "path": path}
    if entry.lfs_sha256 is not None:
        info["lfs"] = {"oid": entry.lfs_sha256, "size": entry.size, "pointerSize": entry.pointer_size}
        xet_file = hub.xet_file_for_sha256(entry.lfs_sha256)
        if xet_file is not None:
            info["xetHash"] = xet_file.file_hash
    return info


def folder_json(commit: Commit, path: str) -> dict[str, Any]:
    prefix = path + "/"
    listing = "".join(f"{p}\0{e.blob_id}\n" for p, e in sorted(commit.files.items()) if p.startswith(prefix))
    return {"type": "directory", "oid": hashlib.sha1(listing.encode()).hexdigest(), "size": 0, "path": path}


def folders_of(commit: Commit) -> set[str]:
    """Every folder of the tree (git has no empty folders: they are the files' ancestors)."""
    folders = set()
    for path in commit.files:
        parts = path.split("/")[:-1]
        folders.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return folders


def tree_entries(hub: Hub, commit: Commit, base: str, recursive: bool) -> list[dict[str, Any]]:
    """Entries under folder ``base`` ('' for the root): folders first, then files, by path."""
    prefix = f"{base}/" if base else ""

    def listed(path: str) -> bool:
        return path.startswith(prefix) and (recursive or "/" not in path[len(prefix) :])

    folders = sorted(filter(listed, folders_of(commit)))
    files = sorted(filter(listed, commit.files))
    return [folder_json(commit, f) for f in folders] + [file_json(hub, p, commit.files[p]) for p in files]


def with_last_commit(hub: Hub, repo: Repo, revision: str, entry: dict[str, Any]) -> dict[str, Any]:
    commit = hub.last_commit_of(repo, revision, entry["path"])
    return {**entry, "lastCommit": {"id": commit.oid, "title": commit.title, "date": commit.date}}


def card_data(hub: Hub, commit: Commit) -> dict[str, Any] | None:
    entry = commit.files.get("README.md")
    if entry is None or entry.lfs_sha256 is not None:
        return None
    try:
        return parse_front_matter((hub.objects.get("git", entry.blob_id) or b"").decode("utf-8", "replace"))
    except yaml.YAMLError:
        return None


def repo_info_json(hub: Hub, repo: Repo, commit: Commit, blobs: bool) -> dict[str, Any]:
    """Body of ``GET /api/{kind}/{repo_id}[/revision/{rev}]``."""
    siblings = []
    for path, entry in sorted(commit.files.items()):
        sibling: dict[str, Any] = {"rfilename": path}
        if blobs:
            sibling.update(size=entry.size, blobId=entry.blob_id)
            if entry.lfs_sha256 is not None:
                sibling["lfs"] = {"size": entry.size, "sha256": entry.lfs_sha256, "pointerSize": entry.pointer_size}
        siblings.append(sibling)
    card = card_data(hub, commit)
    info: dict[str, Any] = {
        "_id": hashlib.sha1(repo.key.encode()).hexdigest()[:24],
        "id": repo.repo_id,
        "author": repo.namespace,
        "sha": commit.oid,
        "lastModified": commit.date,
        "createdAt": repo.created_at,
        "private": repo.private,
        "gated": False,
        "disabled": False,
        "downloads": 0,
        "likes": 0,
        "tags": list((card or {}).get("tags") or []),
        "siblings": siblings,
        "usedStorage": sum(e.size for e in commit.files.values()),
    }
    if card is not None:
        info["cardData"] = card
    if repo.repo_type == "model":
        info.update(modelId=repo.repo_id, library_name=(card or {}).get("library_name"), spaces=[])
    return info


def commit_json(commit: Commit) -> dict[str, Any]:
    return {
        "id": commit.oid,
        "title": commit.title,
        "message": commit.message,
        "date": commit.date,
        "authors": [{"user": commit.author}],
    }


# --------------------------------------------------------------------------------------------
# Hub origin application
# --------------------------------------------------------------------------------------------


def create_hub_app(hub: Hub, urls: Urls) -> FastAPI:
    """FastAPI app of the Hub origin (``HF_ENDPOINT``)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    add_error_handler(app)

    def identify(request: Request) -> str | None:
        return hub.user_for(bearer_token(request))

    def read_repo(request: Request, repo_type: str, namespace: str, name: str) -> tuple[str | None, Repo]:
        user = identify(request)
        return user, hub.readable_repo(user, repo_type, namespace, name)

    @app.post("/api/repos/create")
    async def create_repo(request: Request) -> JSONResponse:
        user = hub.require_user(identify(request))
        body = await json_body(request) or {}
        repo_type = body.get("type") or "model"
        if repo_type not in URL_PREFIXES:
            raise bad_request(f"Invalid repo type: {repo_type}")
        namespace = body.get("organization") or user
        private = body.get("visibility", "public") == "private" or bool(body.get("private"))
        url = f"{urls.hub}/{URL_PREFIXES[repo_type]}{namespace}/{body.get('name')}"
        try:
            repo = hub.create_repo(user, repo_type, namespace, str(body.get("name") or ""), private)
        except HubError as err:
            if err.status == 409:
                return JSONResponse({"error": err.message, "url": url}, 409, {"X-Error-Message": err.message})
            raise
        repo_object_id = hashlib.sha1(repo.key.encode()).hexdigest()[:24]
        return JSONResponse({"url": url, "name": repo.repo_id, "id": repo_object_id})

    @app.delete("/api/repos/delete")
    async def delete_repo(request: Request) -> JSONResponse:
        user = hub.require_user(identify(request))
        body = await json_body(request) or {}
        hub.delete_repo(user, body.get("type") or "model", body.get("organization") or user, str(body.get("name")))
        return JSONResponse({})

    @app.get("/api/whoami-v2")
    async def whoami(request: Request) -> JSONResponse:
        user = hub.require_user(identify(request))
        return JSONResponse(
            {
                "type": "user",
                "id": hashlib.sha1(user.encode()).hexdigest()[:24],
                "name": user,
                "fullname": user,
                "isPro": False,
                "orgs": [],
                "auth": {"type": "access_token", "accessToken": {"displayName": "test token", "role": "write"}},
            }
        )

    @app.post("/api/validate-yaml")
    async def validate_yaml(request: Request) -> JSONResponse:
        identify(request)
        body = await json_body(request) or {}
        try:
            parse_front_matter(str(body.get("content", "")))
        except yaml.YAMLError as err:
            errors = [{"message": f"Invalid YAML metadata: {err}"}]
            return JSONResponse({"errors": errors, "warnings": []}, 400, {"X-Error-Message": "Invalid metadata"})
        return JSONResponse({"errors": [], "warnings": []})

    @app.get("/api/{kind}/{namespace}/{name}")
    async def repo_info(request: Request, kind: str, namespace: str, name: str) -> JSONResponse:
        return await repo_info_at(request, kind, namespace, name, DEFAULT_BRANCH)

    @app.get("/api/{kind}/{namespace}/{name}/revision/{revision:path}")
    async def repo_info_at(request: Request, kind: str, namespace: str, name: str, revision: str) -> JSONResponse:
        _, repo = read_repo(request, repo_type_of(kind), namespace, name)
        blobs = is_true(request.query_params.get("blobs"))
        return JSONResponse(repo_info_json(hub, repo, hub.resolve(repo, revision), blobs))

    @app.get("/api/{kind}/{namespace}/{name}/tree/{revision}")
    async def tree_root(request: Request, kind: str, namespace: str, name: str, revision: str) -> JSONResponse:
        return await tree(request, kind, namespace, name, revision, "")

    @app.get("/api/{kind}/{namespace}/{name}/tree/{revision}/{path:path}")
    async def tree(request: Request, kind: str, namespace: str, name: str, revision: str, path: str) -> JSONResponse:
        _, repo = read_repo(request, repo_type_of(kind), namespace, name)
        commit = hub.resolve(repo, revision)
        path = path.strip("/")
        if path and path not in folders_of(commit):
            raise entry_not_found(path, commit.oid)
        query = request.query_params
        entries = tree_entries(hub, commit, path, is_true(query.get("recursive")))
        expand = is_true(query.get("expand"))
        cursor = query.get("cursor") or "0"
        if not cursor.isdigit():
            raise bad_request(f"Invalid cursor: {cursor}")
        start = int(cursor)
        page = entries[start : start + hub.tree_page_size]
        if expand:
            page = [with_last_commit(hub, repo, commit.oid, e) for e in page]
        headers = {"X-Repo-Commit": commit.oid}
        if start + hub.tree_page_size < len(entries):
            next_page = request.url.include_query_params(cursor=str(start + hub.tree_page_size))
            headers["Link"] = f'<{next_page}>; rel="next"'
        return JSONResponse(page, headers=headers)

    @app.post("/api/{kind}/{namespace}/{name}/paths-info/{revision}")
    async def paths_info(request: Request, kind: str, namespace: str, name: str, revision: str) -> JSONResponse:
        _, repo = read_repo(request, repo_type_of(kind), namespace, name)
        commit = hub.resolve(repo, revision)
        form = await paths_info_form(request)
        expand = is_true(form.get("expand", ["false"])[0])
        folders = folders_of(commit)
        result = []
        for path in form.get("paths", []):
            path = path.strip("/")
            if path in commit.files:
                result.append(file_json(hub, path, commit.files[path]))
            elif path in folders:
                result.append(folder_json(commit, path))
        if expand:
            result = [with_last_commit(hub, repo, commit.oid, e) for e in result]
        return JSONResponse(result)

    @app.post("/api/{kind}/{namespace}/{name}/preupload/{revision}")
    async def preupload(request: Request, kind: str, namespace: str, name: str, revision: str) -> JSONResponse:
        repo = hub.writable_repo(identify(request), repo_type_of(kind), namespace, name)
        commit = hub.resolve(repo, revision)
        body = await json_body(request) or {}
        files = []
        for item in body.get("files", []):
            path = validate_repo_path(str(item.get("path", "")))
            sample = base64.b64decode(item.get("sample", ""))
            info: dict[str, Any] = {
                "path": path,
                "uploadMode": hub.upload_mode(commit, path, int(item.get("size", 0)), sample),
                "shouldIgnore": hub.ignored(path, body.get("gitIgnore")),
            }
            existing = commit.files.get(path)
            if existing is not None:
                info["oid"] = existing.lfs_sha256 or existing.blob_id
            files.append(info)
        return JSONResponse({"files": files, "commitOid": commit.oid})

    @app.post("/api/{kind}/{namespace}/{name}/commit/{revision}")
    async def commit(request: Request, kind: str, namespace: str, name: str, revision: str) -> JSONResponse:
        user = identify(request)
        repo = hub.writable_repo(user, repo_type_of(kind), namespace, name)
        if request.query_params.get("create_pr"):
            raise HubError(501, "Pull requests are not implemented by this test server")
        header, operations = parse_commit_payload(await request.body())
        new = hub.commit(repo, revision, hub.require_user(user), header, operations)
        return JSONResponse(
            {
                "success": True,
                "commitOid": new.oid,
                "commitUrl": f"{urls.hub}/{repo.url_path}/commit/{new.oid}",
                "hookOutput": "",
            }
        )

    @app.get("/api/{kind}/{namespace}/{name}/commits/{revision}")
    async def commits(request: Request, kind: str, namespace: str, name: str, revision: str) -> JSONResponse:
        _, repo = read_repo(request, repo_type_of(kind), namespace, name)
        return JSONResponse([commit_json(c) for c in hub.history(repo, revision)])

    @app.get("/api/{kind}/{namespace}/{name}/refs")
    async def refs(request: Request, kind: str, namespace: str, name: str) -> JSONResponse:
        _, repo = read_repo(request, repo_type_of(kind), namespace, name)
        branches = [
            {"name": branch, "ref": f"refs/heads/{branch}", "targetCommit": oid}
            for branch, oid in sorted(repo.branches.items())
        ]
        return JSONResponse({"branches": branches, "converts": [], "tags": [], "pullRequests": []})

    def xet_token_response(repo: Repo, user: str | None, scope: str) -> JSONResponse:
        exp = int(time.time()) + XET_TOKEN_TTL
        token = hub.signer.issue_token({"u": user, "r": repo.key, "s": scope, "exp": exp})
        headers = {"X-Xet-Cas-Url": urls.cdn, "X-Xet-Access-Token": token, "X-Xet-Token-Expiration": str(exp)}
        return JSONResponse({"accessToken": token, "exp": exp, "casUrl": urls.cdn}, headers=headers)

    @app.get("/api/{kind}/{namespace}/{name}/xet-read-token/{revision:path}")
    async def xet_read_token(request: Request, kind: str, namespace: str, name: str, revision: str) -> JSONResponse:
        user, repo = read_repo(request, repo_type_of(kind), namespace, name)
        hub.resolve(repo, revision)
        return xet_token_response(repo, user, "read")

    @app.get("/api/{kind}/{namespace}/{name}/xet-write-token/{revision:path}")
    async def xet_write_token(request: Request, kind: str, namespace: str, name: str, revision: str) -> JSONResponse:
        user = identify(request)
        repo = hub.writable_repo(user, repo_type_of(kind), namespace, name)
        if revision != "None":  # the client sends "None" when the target ref is a future PR
            hub.resolve(repo, revision)
        return xet_token_response(repo, user, "write")

    for repo_type, prefix in URL_PREFIXES.items():
        add_repo_file_routes(app, hub, urls, repo_type, prefix, read_repo, identify)
    return app


def add_repo_file_routes(
    app: FastAPI,
    hub: Hub,
    urls: Urls,
    repo_type: str,
    prefix: str,
    read_repo: Callable[[Request, str, str, str], tuple[str | None, Repo]],
    identify: Callable[[Request], str | None],
) -> None:
    """Resolve and git LFS routes of one repo type (``/``, ``/datasets/``, ``/spaces/``)."""

    @app.post(f"/{prefix}{{namespace}}/{{name}}.git/info/lfs/objects/batch")
    async def lfs_batch(request: Request, namespace: str, name: str) -> JSONResponse:
        body = await json_body(request) or {}
        operation = body.get("operation")
        if operation == "upload":
            repo = hub.writable_repo(identify(request), repo_type, namespace, name)
        elif operation == "download":
            _, repo = read_repo(request, repo_type, namespace, name)
        else:
            raise HubError(422, f"Unsupported LFS operation: {operation!r}")
        if "basic" not in body.get("transfers", ["basic"]):
            raise HubError(422, "Only the basic transfer is supported")
        objects = [lfs_batch_object(hub, urls, repo, operation, obj) for obj in body.get("objects", [])]
        body = {"transfer": "basic", "objects": objects, "hash_algo": "sha256"}
        return JSONResponse(body, media_type=LFS_CONTENT_TYPE)

    @app.post(f"/{prefix}{{namespace}}/{{name}}.git/info/lfs/objects/verify")
    async def lfs_verify(request: Request, namespace: str, name: str) -> JSONResponse:
        hub.writable_repo(identify(request), repo_type, namespace, name)
        body = await json_body(request) or {}
        size = hub.lfs_object_size(str(body.get("oid", "")))
        if size is None or size != body.get("size"):
            raise HubError(404, "Object not found")
        return JSONResponse({"message": "Object verified"}, media_type=LFS_CONTENT_TYPE)

    @app.api_route(f"/{prefix}{{namespace}}/{{name}}/resolve/{{revision}}/{{path:path}}", methods=["GET", "HEAD"])
    async def resolve(request: Request, namespace: str, name: str, revision: str, path: str) -> Response:
        _, repo = read_repo(request, repo_type, namespace, name)
        commit = hub.resolve(repo, revision)
        entry = commit.files.get(path)
        if entry is None:
            raise entry_not_found(path, commit.oid)
        headers = {"X-Repo-Commit": commit.oid}
        if entry.lfs_sha256 is None:
            content = hub.objects.get("git", entry.blob_id) or b""
            return content_response(request, content, {**headers, "ETag": f'"{entry.blob_id}"'})
        return lfs_redirect(hub, urls, repo, commit, entry, headers)


def lfs_redirect(
    hub: Hub, urls: Urls, repo: Repo, commit: Commit, entry: FileEntry, headers: dict[str, str]
) -> Response:
    """302 to the signed CDN URL, carrying the metadata the client reads off the redirect."""
    sha256 = entry.lfs_sha256 or ""
    blob_path = f"/blobs/{sha256}"
    headers.update(
        {
            "Location": f"{urls.cdn}{blob_path}?{hub.signer.sign_query(blob_path)}",
            "ETag": f'"{sha256}"',
            "X-Linked-Etag": f'"{sha256}"',
            "X-Linked-Size": str(entry.size),
        }
    )
    xet_file = hub.xet_file_for_sha256(sha256)
    if xet_file is not None:
        refresh = f"{urls.hub}/api/{repo.repo_type}s/{repo.repo_id}/xet-read-token/{commit.oid}"
        reconstruction = f"{urls.cdn}/v1/reconstructions/{xet_file.file_hash}"
        headers["X-Xet-Hash"] = xet_file.file_hash
        headers["Link"] = f'<{refresh}>; rel="xet-auth", <{reconstruction}>; rel="xet-reconstruction-info"'
    return Response(status_code=302, headers=headers)


def lfs_batch_object(hub: Hub, urls: Urls, repo: Repo, operation: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    """One object of an LFS batch answer: actions when there is work, an error when impossible."""
    oid, size = str(obj.get("oid", "")), obj.get("size")
    result: dict[str, Any] = {"oid": oid, "size": size if isinstance(size, int) else 0, "authenticated": True}
    if not SHA256_RE.fullmatch(oid) or not isinstance(size, int) or size < 0:
        return {**result, "error": {"code": 422, "message": "Invalid object"}}
    known_size = hub.lfs_object_size(oid)
    expires_at = dt.datetime.fromtimestamp(time.time() + SIGNED_URL_TTL, dt.timezone.utc).isoformat()
    if operation == "download":
        if known_size is None:
            return {**result, "error": {"code": 404, "message": "Object does not exist"}}
        path = f"/blobs/{oid}"
        download = {"href": f"{urls.cdn}{path}?{hub.signer.sign_query(path)}", "expires_at": expires_at}
        return {**result, "actions": {"download": download}}
    if known_size is not None:
        return result  # already uploaded: no actions, the client skips it
    path = f"/lfs-upload/{oid}"
    upload = {"href": f"{urls.cdn}{path}?{hub.signer.sign_query(path, size=str(size))}", "expires_at": expires_at}
    verify = {"href": f"{urls.hub}/{repo.url_path}.git/info/lfs/objects/verify", "expires_at": expires_at}
    return {**result, "actions": {"upload": upload, "verify": verify}}


# --------------------------------------------------------------------------------------------
# CDN / CAS origin application
# --------------------------------------------------------------------------------------------


def create_cdn_app(hub: Hub, urls: Urls) -> FastAPI:
    """FastAPI app of the storage origin: signed blob URLs, LFS uploads and the Xet CAS API."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    add_error_handler(app)

    def xet_claims(request: Request, scope: str) -> dict[str, Any]:
        token = bearer_token(request)
        if not token:
            raise HubError(401, "Missing Xet token")
        claims = hub.signer.read_token(token)
        if scope == "write" and claims["s"] != "write":
            raise HubError(403, "This Xet token is read-only")
        return claims

    @app.api_route("/blobs/{sha256}", methods=["GET", "HEAD"])
    async def blob(request: Request, sha256: str) -> Response:
        hub.signer.verify_query(request.url.path, dict(request.query_params))
        return content_response(request, hub.lfs_content(sha256), {"ETag": f'"{sha256}"'})

    @app.put("/lfs-upload/{sha256}")
    async def lfs_upload(request: Request, sha256: str) -> Response:
        query = dict(request.query_params)
        hub.signer.verify_query(request.url.path, query)
        data = await request.body()
        if len(data) != int(query.get("size", -1)):
            raise bad_request("Uploaded size does not match the announced size")
        hub.put_lfs_object(sha256, data)
        return Response(status_code=200, headers={"ETag": f'"{sha256}"'})

    @app.get("/xorbs/{xorb_hash}")
    async def xorb_range(request: Request, xorb_hash: str) -> Response:
        hub.signer.verify_query(request.url.path, dict(request.query_params))
        if "," in request.headers.get("range", ""):
            raise HubError(416, "Multi-range fetches are not supported")
        return content_response(request, hub.xorb(xorb_hash), {})

    @app.post("/v1/xorb-grants/{prefix}/{xorb_hash}")
    async def xorb_grant(request: Request, prefix: str, xorb_hash: str) -> JSONResponse:
        xet_claims(request, "write")
        # hf_xet answers a 404 here by uploading the xorb through POST /v1/xorbs instead.
        raise HubError(404, "Xorb upload grants are not supported; use POST /v1/xorbs")

    @app.post("/v1/xorbs/{prefix}/{xorb_hash}")
    async def upload_xorb(request: Request, prefix: str, xorb_hash: str) -> JSONResponse:
        xet_claims(request, "write")
        check_hex_hash(xorb_hash)
        return JSONResponse({"was_inserted": hub.put_xorb(xorb_hash, await request.body())})

    @app.get("/v1/chunks/{prefix}/{chunk_hash}")
    async def chunk_dedup(request: Request, prefix: str, chunk_hash: str) -> Response:
        xet_claims(request, "read")
        raise HubError(404, "Global deduplication is not implemented")

    @app.post("/v1/shards")
    async def upload_shard(request: Request) -> JSONResponse:
        xet_claims(request, "write")
        return JSONResponse({"result": hub.register_shard(await request.body())})

    @app.post("/v2/shards")
    async def upload_shard_v2(request: Request) -> Response:
        xet_claims(request, "write")
        try:
            hub.register_shard(await request.body())
            frames = [{"type": "validating", "verified": 1, "total": 1}, {"type": "result"}]
        except HubError as err:  # after a 200 the stream's last frame carries the failure
            frames = [{"type": "error", "message": err.message, "retryable": False}]
        return Response("".join(json.dumps(f) + "\n" for f in frames), media_type="application/x-ndjson")

    @app.get("/v1/reconstructions/{file_hash}")
    async def reconstruction_v1(request: Request, file_hash: str) -> JSONResponse:
        xet_claims(request, "read")
        offset, terms = reconstruction_terms(hub, file_hash, request.headers.get("range"))
        fetch_info: dict[str, list[dict[str, Any]]] = {}
        for xorb_hash, first, end, url, byte_range in fetch_ranges(hub, terms):
            fetch_info.setdefault(xorb_hash, []).append(
                {"range": {"start": first, "end": end}, "url": url, "url_range": byte_range}
            )
        terms_json = [term_json(t) for t in terms]
        return JSONResponse({"offset_into_first_range": offset, "terms": terms_json, "fetch_info": fetch_info})

    @app.get("/v2/reconstructions/{file_hash}")
    async def reconstruction_v2(request: Request, file_hash: str) -> JSONResponse:
        xet_claims(request, "read")
        offset, terms = reconstruction_terms(hub, file_hash, request.headers.get("range"))
        xorbs: dict[str, list[dict[str, Any]]] = {}
        for xorb_hash, first, end, url, byte_range in fetch_ranges(hub, terms):
            entry = {"chunks": {"start": first, "end": end}, "bytes": byte_range}
            xorbs.setdefault(xorb_hash, []).append({"url": url, "ranges": [entry]})
        terms_json = [term_json(t) for t in terms]
        return JSONResponse({"offset_into_first_range": offset, "terms": terms_json, "xorbs": xorbs})

    @app.post("/v1/telemetry")
    async def telemetry() -> JSONResponse:
        return JSONResponse({})

    def fetch_ranges(hub: Hub, terms: list[Term]) -> Iterator[tuple[str, int, int, str, dict[str, int]]]:
        """(xorb, first chunk, end chunk, signed url, inclusive byte range) per distinct term."""
        seen = set()
        for xorb_hash, first, end, _ in terms:
            if (xorb_hash, first, end) in seen:
                continue
            seen.add((xorb_hash, first, end))
            offsets = xorb_chunk_offsets(hub.xorb(xorb_hash))
            path = f"/xorbs/{xorb_hash}"
            url = f"{urls.cdn}{path}?{hub.signer.sign_query(path)}"
            yield xorb_hash, first, end, url, {"start": offsets[first], "end": offsets[end] - 1}

    return app


def parse_commit_payload(body: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Split the commit NDJSON into its header value and its operation lines."""
    try:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
    except json.JSONDecodeError as err:
        raise bad_request(f"Invalid NDJSON commit payload: {err}") from err
    if not lines or not isinstance(lines[0], dict) or lines[0].get("key") != "header":
        raise bad_request("The first line of a commit must be its header")
    operations = lines[1:]
    if not all(isinstance(line, dict) for line in operations):
        raise bad_request("Every commit line must be a JSON object")
    return dict(lines[0].get("value") or {}), operations


async def paths_info_form(request: Request) -> dict[str, list[str]]:
    """paths-info parameters: the client posts a form (``paths`` repeated), JSON is accepted too."""
    if "application/json" in request.headers.get("content-type", ""):
        body = await json_body(request) or {}
        return {k: [str(x) for x in v] if isinstance(v, list) else [str(v)] for k, v in body.items()}
    return parse_qs((await request.body()).decode())


def check_hex_hash(value: str) -> None:
    if not SHA256_RE.fullmatch(value):
        raise bad_request(f"Malformed hash: {value}")


def term_json(term: Term) -> dict[str, Any]:
    xorb_hash, first, end, unpacked = term
    return {"hash": xorb_hash, "unpacked_length": unpacked, "range": {"start": first, "end": end}}


def reconstruction_terms(hub: Hub, file_hash: str, range_header: str | None) -> tuple[int, list[Term]]:
    """Whole terms overlapping the requested byte range, and the offset into the first one."""
    check_hex_hash(file_hash)
    xet_file = hub.xet_file(file_hash)
    byte_range = parse_byte_range(range_header, xet_file.size)
    start, end = byte_range if byte_range is not None else (0, xet_file.size - 1)
    selected, offset, position = [], 0, 0
    for term in xet_file.terms:
        term_end = position + term[3]
        if term_end > start and position <= end:
            if not selected:
                offset = start - position
            selected.append(term)
        position = term_end
    return offset, selected


# --------------------------------------------------------------------------------------------
# Server runner
# --------------------------------------------------------------------------------------------


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(False)
    return sock


class _UvicornThread:
    """One uvicorn server serving an app on an already bound socket, in a daemon thread."""

    def __init__(self, app: Any, sock: socket.socket, name: str) -> None:
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._sock = sock
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("hub server failed to start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


class HubServer:
    """A Hub-compatible server on 127.0.0.1, for pytest fixtures or standalone use.

    ``tokens`` maps bearer tokens to user names. ``storage_dir`` None keeps everything in memory
    (kept across ``stop()``/``start()`` of the same instance); a directory also keeps it across
    instances and processes. Ports are chosen on the first ``start()`` (or ``bind()``) unless given,
    and kept on restart so an ``HF_ENDPOINT`` read at import time stays valid.

    Attributes: ``endpoint`` (Hub origin, for ``HF_ENDPOINT``), ``cdn_endpoint`` (storage
    origin), ``tokens``, ``requests`` (list of :class:`RecordedRequest`).
    """

    def __init__(
        self,
        tokens: Mapping[str, str] | None = None,
        storage_dir: Path | str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        cdn_port: int = 0,
        tree_page_size: int = DEFAULT_TREE_PAGE_SIZE,
    ) -> None:
        self.tokens = dict(tokens or {})
        self.storage_dir = Path(storage_dir) if storage_dir is not None else None
        self.host = host
        self.port = port
        self.cdn_port = cdn_port
        self.tree_page_size = tree_page_size
        self.requests: list[RecordedRequest] = []
        self._hub: Hub | None = None
        self._sockets: tuple[socket.socket, socket.socket] | None = None
        self._threads: list[_UvicornThread] = []

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def cdn_endpoint(self) -> str:
        return f"http://{self.host}:{self.cdn_port}"

    @property
    def is_running(self) -> bool:
        return bool(self._threads)

    def bind(self) -> str:
        """Reserve both ports now (connections wait in the backlog until ``start()``)."""
        if self._sockets is None:
            hub_sock, cdn_sock = _bind(self.host, self.port), _bind(self.host, self.cdn_port)
            self.port, self.cdn_port = hub_sock.getsockname()[1], cdn_sock.getsockname()[1]
            self._sockets = (hub_sock, cdn_sock)
        return self.endpoint

    def start(self) -> str:
        """Serve both origins; returns the Hub endpoint URL."""
        if self.is_running:
            return self.endpoint
        self.bind()
        if self._hub is None or self.storage_dir is not None:
            self._hub = Hub(self.tokens, self.storage_dir, self.tree_page_size)
        self._hub.tokens = dict(self.tokens)
        urls = Urls(hub=self.endpoint, cdn=self.cdn_endpoint)
        hub_sock, cdn_sock = self._sockets  # type: ignore[misc]
        self._sockets = None
        hub_app = RequestRecorder(create_hub_app(self._hub, urls), "hub", self.requests)
        cdn_app = RequestRecorder(create_cdn_app(self._hub, urls), "cdn", self.requests)
        self._threads = [_UvicornThread(hub_app, hub_sock, "hub"), _UvicornThread(cdn_app, cdn_sock, "hub-cdn")]
        for thread in self._threads:
            thread.start()
        return self.endpoint

    def stop(self) -> None:
        """Stop serving; the state survives for the next ``start()``."""
        for thread in self._threads:
            thread.stop()
        self._threads = []
        if self._sockets is not None:
            for sock in self._sockets:
                sock.close()
            self._sockets = None

    def restart(self) -> str:
        self.stop()
        return self.start()

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """Stop serving for the duration of the block (e.g. to test offline mode), then restart."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def clear_requests(self) -> None:
        self.requests.clear()

    def hits(self, method: str | None = None, pattern: str = "", origin: str | None = None) -> list[RecordedRequest]:
        """Recorded requests matching, see :func:`filter_requests`."""
        return filter_requests(self.requests, method, pattern, origin)

    def __enter__(self) -> HubServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _parse_token(value: str) -> tuple[str, str]:
    token, sep, user = value.partition(":")
    if not sep or not token or not user:
        raise argparse.ArgumentTypeError("expected TOKEN:USER")
    return token, user


def main(argv: Iterable[str] | None = None) -> None:
    """Run the server in the foreground until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="Hub port (0: any free port)")
    parser.add_argument("--cdn-port", type=int, default=0, help="storage/CAS port (0: any free port)")
    parser.add_argument("--token", type=_parse_token, action="append", default=[], help="TOKEN:USER, repeatable")
    parser.add_argument("--storage-dir", type=Path, default=None, help="persist here (default: memory)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    server = HubServer(dict(args.token), args.storage_dir, host=args.host, port=args.port, cdn_port=args.cdn_port)
    server.start()
    print(f"Hub endpoint: {server.endpoint} (storage: {server.cdn_endpoint})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
