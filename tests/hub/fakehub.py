"""A small Hugging Face Hub on 127.0.0.1, for tests that run the real huggingface_hub client.

It answers the API paths and JSON shapes modeld (and huggingface_hub) use:

    GET  /api/models?search=&limit=&sort=              search (substring of the repo id)
    GET  /api/models/{repo}[/revision/{rev}]?blobs=true  model info; siblings carry
                                                       {"lfs": {"sha256", "size", "pointerSize"}}
    POST /api/models/{repo}/paths-info/{rev}           form paths=...; {"lfs": {"oid", ...}}
    GET  /api/models/{repo}/tree/{rev}[/{path}]        the repo tree, same entry shape

Unknown repos get the Hub's 404 (`X-Error-Code: RepoNotFound`); a private repo
asked without its token gets 401 like the real Hub. Scenario switches:
`fail_next` (canned statuses such as 429 with Retry-After, or 500s), `hang`
(requests block until `release`), `down` (the port refuses, or resets every
connection while counting it) and `up`. Every request is recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import struct
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class FakeFile:
    path: str
    sha256: str | None  # None: a small file kept in git, not LFS
    size: int

    @property
    def blob_id(self) -> str:
        return hashlib.sha1(f"{self.path}:{self.sha256}".encode()).hexdigest()


@dataclass
class FakeRepo:
    repo_id: str
    files: list[FakeFile]
    sha: str
    license: str | None = None
    pipeline_tag: str | None = None
    tags: list[str] = field(default_factory=list)
    base_model: list[str] | None = None
    downloads: int = 0
    library_name: str | None = None
    private: bool = False
    readme: str | None = None  # served at /{repo}/raw/{rev}/README.md
    contents: dict[str, bytes] = field(default_factory=dict)  # at /{repo}/resolve/{rev}/{path}

    @property
    def author(self) -> str | None:
        return self.repo_id.split("/")[0] if "/" in self.repo_id else None


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # None-free: "" for a connection reset before any request was read
    query: dict[str, list[str]]
    headers: dict[str, str]
    form: dict[str, list[str]]
    time: float


@dataclass
class _Canned:
    status: int
    headers: dict[str, str]
    body: Any


class FakeHub:
    def __init__(self, token: str | None = None):
        self.repos: dict[str, FakeRepo] = {}
        self.token = token  # the token private repos require
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self._lock = threading.Lock()
        self._canned: list[_Canned] = []
        self._hanging = False
        self._release = threading.Event()
        self._port = 0
        self._server: ThreadingHTTPServer | None = None
        self._resetter: _Resetter | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            fake = hub

        server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        server.daemon_threads = True
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._resetter is not None:
            self._resetter.close()
            self._resetter = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- content ----------------------------------------------------------------------

    def add_repo(
        self,
        repo_id: str,
        files: Mapping[str, Path | bytes | tuple[str | None, int]],
        **card: Any,
    ) -> FakeRepo:
        """A repo holding `files`: path in repo -> a local file (hashed), the bytes
        themselves (also served for download), or (sha256, size)."""
        entries = []
        contents = {}
        for path, source in files.items():
            if isinstance(source, Path):
                entries.append(FakeFile(path, file_sha256(source), source.stat().st_size))
            elif isinstance(source, bytes):
                entries.append(FakeFile(path, hashlib.sha256(source).hexdigest(), len(source)))
                contents[path] = source
            else:
                entries.append(FakeFile(path, source[0], source[1]))
        sha = hashlib.sha1(repo_id.encode()).hexdigest()
        repo = FakeRepo(repo_id, entries, sha, contents=contents, **card)
        self.repos[repo_id.lower()] = repo
        return repo

    # -- scenarios --------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """The next `times` requests get `status` (e.g. 429 with Retry-After, or 503)."""
        with self._lock:
            self._canned.extend(
                _Canned(status, dict(headers or {}), body or {"error": f"HTTP {status}"})
                for _ in range(times)
            )

    def hang(self) -> None:
        """From now on requests block (without an answer) until `release()`."""
        self._release.clear()
        self._hanging = True

    def release(self) -> None:
        self._hanging = False
        self._release.set()

    def down(self, mode: str = "reset") -> None:
        """Take the server down: "refuse" closes the port; "reset" accepts, counts, resets."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if mode == "reset":
            self._resetter = _Resetter(self._port, self._record_reset)
        elif mode != "refuse":
            raise ValueError(f"unknown mode {mode!r}")

    def up(self) -> None:
        if self._resetter is not None:
            self._resetter.close()
            self._resetter = None
        if self._server is None:
            self.start()

    # -- what happened ------------------------------------------------------------------

    def count(self, prefix: str = "") -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path.startswith(prefix))

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests) >= count:
                return True
            time.sleep(0.01)
        return False

    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self.requests.append(recorded)

    def _record_reset(self) -> None:
        self._record(Recorded("CONNECT", "", {}, {}, {}, time.monotonic()))

    def _take_canned(self) -> _Canned | None:
        with self._lock:
            return self._canned.pop(0) if self._canned else None

    # -- answers ------------------------------------------------------------------------

    def answer(self, method: str, path: str, query: Mapping[str, list[str]], form, headers):
        """(status, headers, JSON body) for one request."""
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if len(parts) == 5 and parts[2] == "raw" and parts[4] == "README.md":
            return self._readme(f"{parts[0]}/{parts[1]}", parts[3], headers)
        if len(parts) >= 5 and parts[2] == "resolve":
            return self._download(f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:]))
        if parts[:2] != ["api", "models"]:
            return 404, {}, {"error": "Not Found"}
        rest = parts[2:]
        if not rest:
            if method != "GET":
                return 405, {}, {"error": "Method Not Allowed"}
            return 200, {}, self._search(query)
        if len(rest) >= 2 and rest[1] not in ("revision", "paths-info", "tree"):
            repo_id, rest = f"{rest[0]}/{rest[1]}", rest[2:]
        else:
            repo_id, rest = rest[0], rest[1:]
        repo = self.repos.get(repo_id.lower())
        if repo is None or (repo.private and not self._authorized(headers)):
            # like the Hub: anonymous callers cannot tell missing from private
            return (
                404 if "authorization" in headers else 401,
                {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"},
                {"error": "Repository not found"},
            )
        revision = "main"
        if rest[:1] in (["revision"], ["paths-info"], ["tree"]) and len(rest) >= 2:
            revision = rest[1]
        if revision not in ("main", repo.sha):
            return (
                404,
                {"X-Error-Code": "RevisionNotFound", "X-Error-Message": "Invalid rev id"},
                {"error": "Invalid rev id"},
            )
        if not rest or rest[0] == "revision":
            blobs = (query.get("blobs") or ["false"])[0].lower() == "true"
            return 200, {}, self._model_info(repo, blobs)
        if rest[0] == "paths-info" and method == "POST":
            wanted = set(form.get("paths", []))
            return 200, {}, [self._entry(f) for f in repo.files if f.path in wanted]
        if rest[0] == "tree" and method == "GET":
            prefix = "/".join(rest[2:])
            return 200, {}, self._tree(repo, prefix)
        return 404, {}, {"error": "Not Found"}

    def _readme(self, repo_id: str, revision: str, headers: Mapping[str, str]):
        """A file's raw text, as the Hub serves /{repo}/raw/{rev}/{path}."""
        repo = self.repos.get(repo_id.lower())
        visible = repo is not None and (not repo.private or self._authorized(headers))
        if not visible or repo.readme is None or revision not in ("main", repo.sha):
            return 404, {}, {"error": "Entry not found"}
        return 200, {"Content-Type": "text/markdown; charset=utf-8"}, repo.readme.encode()

    def _download(self, repo_id: str, revision: str, path: str):
        """A file's bytes, as the Hub serves /{repo}/resolve/{rev}/{path} (no CDN hop here)."""
        repo = self.repos.get(repo_id.lower())
        if repo is None or repo.private or revision not in ("main", repo.sha):
            return 404, {}, {"error": "Repository not found"}
        if path not in repo.contents:
            return 404, {}, {"error": "Entry not found"}
        return 200, {"Content-Type": "application/octet-stream"}, repo.contents[path]

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        return self.token is not None and headers.get("authorization") == f"Bearer {self.token}"

    def _search(self, query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        terms = (query.get("search") or [""])[0].lower().split()
        limit = int((query.get("limit") or ["1000"])[0])
        found = [
            repo
            for repo in self.repos.values()
            if not repo.private and all(term in repo.repo_id.lower() for term in terms)
        ]
        if (query.get("sort") or [""])[0] == "downloads":
            found.sort(key=lambda repo: -repo.downloads)
        return [
            {
                "_id": repo.sha[:24],
                "id": repo.repo_id,
                "modelId": repo.repo_id,
                "likes": 0,
                "trendingScore": 0,
                "private": False,
                "downloads": repo.downloads,
                "tags": repo.tags,
                "pipeline_tag": repo.pipeline_tag,
                "library_name": repo.library_name,
                "createdAt": "2024-01-01T00:00:00.000Z",
            }
            for repo in found[:limit]
        ]

    def _model_info(self, repo: FakeRepo, blobs: bool) -> dict[str, Any]:
        siblings = []
        for file in repo.files:
            sibling: dict[str, Any] = {"rfilename": file.path}
            if blobs:
                sibling.update(blobId=file.blob_id, size=file.size)
                if file.sha256:
                    sibling["lfs"] = {"sha256": file.sha256, "size": file.size, "pointerSize": 134}
            siblings.append(sibling)
        card: dict[str, Any] = {}
        if repo.license:
            card["license"] = repo.license
        if repo.base_model:
            card["base_model"] = repo.base_model
        return {
            "_id": repo.sha[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "author": repo.author,
            "sha": repo.sha,
            "lastModified": "2024-05-01T12:00:00.000Z",
            "createdAt": "2024-01-01T00:00:00.000Z",
            "private": repo.private,
            "disabled": False,
            "gated": False,
            "downloads": repo.downloads,
            "likes": 3,
            "tags": repo.tags,
            "pipeline_tag": repo.pipeline_tag,
            "library_name": repo.library_name,
            "cardData": card,
            "siblings": siblings,
            "spaces": [],
            "usedStorage": sum(f.size for f in repo.files),
        }

    @staticmethod
    def _entry(file: FakeFile) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "type": "file",
            "oid": file.blob_id,
            "size": file.size,
            "path": file.path,
        }
        if file.sha256:
            entry["lfs"] = {"oid": file.sha256, "size": file.size, "pointerSize": 134}
        return entry

    def _tree(self, repo: FakeRepo, prefix: str) -> list[dict[str, Any]]:
        entries: dict[str, dict[str, Any]] = {}
        base = f"{prefix}/" if prefix else ""
        for file in repo.files:
            if not file.path.startswith(base):
                continue
            rest = file.path[len(base) :]
            if "/" in rest:
                folder = base + rest.split("/", 1)[0]
                entries[folder] = {"type": "directory", "oid": "0" * 40, "size": 0, "path": folder}
            else:
                entries[file.path] = self._entry(file)
        return list(entries.values())


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHub
    protocol_version = "HTTP/1.0"  # one request per connection: connections == requests

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `FakeHub.requests` instead."""

    def _serve(self, method: str) -> None:
        fake = self.fake
        split = urlsplit(self.path)
        query = parse_qs(split.query)
        headers = {k.lower(): v for k, v in self.headers.items()}
        form: dict[str, list[str]] = {}
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(min(length, 1 << 20)).decode("utf-8", "replace"))
        fake._record(Recorded(method, split.path, query, headers, form, time.monotonic()))
        with fake._lock:
            fake.in_flight += 1
        try:
            if fake._hanging:
                fake._release.wait(60)
                return  # no answer at all: the client's read timeout is what ends it
            canned = fake._take_canned()
            if canned is not None:
                self._send(canned.status, canned.headers, canned.body)
                return
            status, extra_headers, body = fake.answer(method, split.path, query, form, headers)
            self._send(status, extra_headers, body)
        finally:
            with fake._lock:
                fake.in_flight -= 1

    def _send(self, status: int, headers: Mapping[str, str], body: Any) -> None:
        raw = isinstance(body, bytes)  # a file's text; anything else is API JSON
        data = body if raw else json.dumps(body).encode()
        with contextlib.suppress(OSError):  # the client may have timed out and gone
            self.send_response(status)
            if not raw:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)


class _Resetter:
    """A "down" server that still counts: accepts each connection and resets it (RST)."""

    def __init__(self, port: int, on_connection):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self._socket.listen(64)
        self._on_connection = on_connection
        self._closed = False
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._socket.accept()
            except OSError:
                return
            self._on_connection()
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()
        self._thread.join(5)
