"""A small Hub that speaks the part of the Hugging Face Hub HTTP API the huggingface_hub client uses.

Enough for the hf_dataset callback and its tests: whoami, repo create and info, YAML validation,
preupload (binary files go to LFS, as on the Hub), the LFS batch API and upload, NDJSON commits
with a parent-commit check, tree, commits, and resolve (with ``X-Repo-Commit`` and ``ETag``).
Xet is not spoken: the tests set ``HF_HUB_DISABLE_XET=1``, so the client uses the LFS batch API. Errors carry
``X-Error-Code``; an optional commits-per-hour limit answers 429 with ``Retry-After``. Repositories
live in memory; one lock guards every change.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass
class Commit:
    oid: str
    title: str
    files: dict[str, bytes]
    parent: str | None
    date: float = field(default_factory=time.time)


@dataclass
class Repo:
    repo_id: str
    kind: str
    private: bool
    commits: list[Commit] = field(default_factory=list)

    @property
    def head(self) -> Commit:
        return self.commits[-1]


class Hub:
    """The Hub's state, plus knobs for tests: tokens, a commit limit, injected failures."""

    def __init__(self, tokens: dict[str, str], writable_orgs: dict[str, set[str]] | None = None) -> None:
        self.tokens = tokens
        self.writable_orgs = writable_orgs or {}
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lock = threading.Lock()
        self.commits_per_hour: int | None = None
        self.retry_after = "1"  # the Retry-After of the commit limit's 429
        #: Large-file storage: sha256 -> bytes, filled by LFS uploads.
        self.lfs: dict[str, bytes] = {}
        self.commit_times: list[float] = []
        self.url = ""

    # -- helpers for tests ---------------------------------------------------------------------

    def repo(self, repo_id: str, kind: str = "dataset") -> Repo:
        return self.repos[(kind, repo_id)]

    def files(self, repo_id: str) -> dict[str, bytes]:
        return dict(self.repo(repo_id).head.files)

    def data_commits(self, repo_id: str) -> list[Commit]:
        return [c for c in self.repo(repo_id).commits if c.parent is not None]


def _error(status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None) -> Response:
    extra = {"X-Error-Code": code} if code else {}
    return JSONResponse({"error": message}, status_code=status, headers={**extra, **(headers or {})})


def _git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def build_app(hub: Hub) -> Starlette:
    def user_of(request: Request) -> str | None:
        auth = request.headers.get("authorization", "")
        return hub.tokens.get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None

    def can_write(user: str, namespace: str) -> bool:
        return namespace == user or user in hub.writable_orgs.get(namespace, set())

    def find(request: Request) -> tuple[Repo | None, Response | None]:
        kind = {"datasets": "dataset", "models": "model"}.get(request.path_params.get("kinds", "datasets"), "dataset")
        repo_id = f"{request.path_params['ns']}/{request.path_params['name']}"
        repo = hub.repos.get((kind, repo_id))
        user = user_of(request)
        if repo is None or (repo.private and (user is None or not can_write(user, repo_id.split("/", maxsplit=1)[0]))):
            return None, _error(404, f"Repository Not Found for url: {request.url}", "RepoNotFound")
        return repo, None

    async def whoami(request: Request) -> Response:
        user = user_of(request)
        if user is None:
            return _error(401, "Invalid user token.")
        orgs = [{"name": org} for org, members in hub.writable_orgs.items() if user in members]
        return JSONResponse({"type": "user", "name": user, "orgs": orgs, "auth": {"type": "access_token"}})

    async def create(request: Request) -> Response:
        user = user_of(request)
        if user is None:
            return _error(401, "Invalid user token.")
        body = await request.json()
        namespace = body.get("organization") or user
        kind = body.get("type", "model")
        if not can_write(user, namespace):
            return _error(403, f"You don't have the rights to create a {kind} under the namespace {namespace}")
        repo_id = f"{namespace}/{body['name']}"
        prefix = "datasets/" if kind == "dataset" else ""
        with hub.lock:
            if (kind, repo_id) in hub.repos:
                url = f"{hub.url}/{prefix}{repo_id}"
                return JSONResponse({"error": "You already created this repo", "url": url}, status_code=409)
            private = body.get("visibility") == "private" or bool(body.get("private"))
            repo = Repo(repo_id, kind, private)
            oid = hashlib.sha1(f"init {repo_id} {time.time()}".encode()).hexdigest()
            repo.commits.append(Commit(oid, "initial commit", {".gitattributes": b"*.parquet filter=lfs\n"}, None))
            hub.repos[(kind, repo_id)] = repo
        return JSONResponse({"url": f"{hub.url}/{prefix}{repo_id}", "name": repo_id})

    async def info(request: Request) -> Response:
        repo, problem = find(request)
        if problem is not None:
            return problem
        assert repo is not None
        head = repo.head
        siblings = [{"rfilename": p, "size": len(b), "blobId": _git_oid(b)} for p, b in sorted(head.files.items())]
        return JSONResponse(
            {
                "id": repo.repo_id,
                "sha": head.oid,
                "private": repo.private,
                "siblings": siblings,
                "tags": [],
                "lastModified": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(head.date)),
            }
        )

    async def validate_yaml(request: Request) -> Response:
        return JSONResponse({"errors": [], "warnings": []})

    async def preupload(request: Request) -> Response:
        repo, problem = find(request)
        if problem is not None:
            return problem
        assert repo is not None
        body = await request.json()
        answers = []
        for item in body["files"]:
            existing = repo.head.files.get(item["path"])
            # the Hub's rule: binary content (a NUL byte in the sample) or 10 MB and more goes to LFS
            binary = b"\0" in base64.b64decode(item.get("sample", "")) or item.get("size", 0) >= 10_000_000
            mode = "lfs" if binary and item.get("size", 0) > 0 else "regular"
            oid = None
            if existing is not None:
                oid = hashlib.sha256(existing).hexdigest() if mode == "lfs" else _git_oid(existing)
            answers.append({"path": item["path"], "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        return JSONResponse({"files": answers})

    async def commit(request: Request) -> Response:  # noqa: PLR0911 - one answer per way a commit fails
        repo, problem = find(request)
        if problem is not None:
            return problem
        assert repo is not None
        user = user_of(request)
        if user is None:
            return _error(401, "Invalid user token.")
        if not can_write(user, repo.repo_id.split("/")[0]):
            return _error(403, "You don't have write access to this repository")
        lines = [json.loads(line) for line in (await request.body()).decode().splitlines() if line.strip()]
        header = next(line["value"] for line in lines if line["key"] == "header")
        with hub.lock:
            now = time.time()
            hub.commit_times = [t for t in hub.commit_times if now - t < 3600]
            if hub.commits_per_hour is not None and len(hub.commit_times) >= hub.commits_per_hour:
                limit = hub.commits_per_hour
                return _error(
                    429,
                    f"You have exceeded the rate limit for repository commits ({limit} per hour).",
                    headers={"Retry-After": hub.retry_after},
                )
            parent = header.get("parentCommit")
            if parent and parent != repo.head.oid:
                return _error(412, "A commit has happened since. Please refresh and try again.")
            files = dict(repo.head.files)
            for line in lines:
                value = line["value"]
                if line["key"] == "file":
                    files[value["path"]] = base64.b64decode(value["content"])
                elif line["key"] == "lfsFile":
                    if value["oid"] not in hub.lfs:
                        return _error(422, f"LFS object {value['oid']} was never uploaded")
                    files[value["path"]] = hub.lfs[value["oid"]]
                elif line["key"] == "deletedFile":
                    files.pop(value["path"], None)
            oid = hashlib.sha1(f"{repo.head.oid}{time.time()}{len(files)}".encode()).hexdigest()
            repo.commits.append(Commit(oid, header.get("summary", ""), files, repo.head.oid))
            hub.commit_times.append(now)
        prefix = "datasets/" if repo.kind == "dataset" else ""
        return JSONResponse({"commitOid": oid, "commitUrl": f"{hub.url}/{prefix}{repo.repo_id}/commit/{oid}"})

    async def tree(request: Request) -> Response:
        repo, problem = find(request)
        if problem is not None:
            return problem
        assert repo is not None
        below = request.path_params.get("path", "").strip("/")
        entries = [
            {"type": "file", "path": p, "size": len(b), "oid": _git_oid(b)}
            for p, b in sorted(repo.head.files.items())
            if not below or p.startswith(below + "/")
        ]
        return JSONResponse(entries)

    async def commits(request: Request) -> Response:
        repo, problem = find(request)
        if problem is not None:
            return problem
        assert repo is not None
        return JSONResponse(
            [
                {
                    "id": c.oid,
                    "title": c.title,
                    "message": "",
                    "authors": [],
                    "date": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(c.date)),
                }
                for c in reversed(repo.commits)
            ]
        )

    async def resolve(request: Request) -> Response:
        repo, problem = find(request)
        if problem is not None:
            return problem
        assert repo is not None
        path = request.path_params["path"]
        head = repo.head
        data = head.files.get(path)
        if data is None:
            return _error(404, "Entry not found", "EntryNotFound", headers={"X-Repo-Commit": head.oid})
        headers = {"X-Repo-Commit": head.oid, "ETag": f'"{_git_oid(data)}"', "Content-Length": str(len(data))}
        if request.method == "HEAD":
            return Response(b"", headers=headers)
        return Response(data, headers=headers, media_type="application/octet-stream")

    async def lfs_batch(request: Request) -> Response:
        _, problem = find(request)
        if problem is not None:
            return problem
        body = await request.json()
        objects = []
        for item in body["objects"]:
            entry: dict[str, Any] = {"oid": item["oid"], "size": item["size"]}
            if item["oid"] not in hub.lfs:  # no actions: already stored, the client skips it
                entry["actions"] = {"upload": {"href": f"{hub.url}/lfs-upload/{item['oid']}"}}
            objects.append(entry)
        return JSONResponse({"transfer": "basic", "objects": objects}, media_type="application/vnd.git-lfs+json")

    async def lfs_upload(request: Request) -> Response:
        data = await request.body()
        oid = request.path_params["oid"]
        if hashlib.sha256(data).hexdigest() != oid:
            return _error(400, "the uploaded bytes do not match the oid")
        with hub.lock:
            hub.lfs[oid] = data
        return Response(b"", status_code=200)

    async def harnesses(request: Request) -> Response:
        return JSONResponse([])

    repo_path = "/api/{kinds:str}/{ns:str}/{name:str}"
    return Starlette(
        routes=[
            Route("/api/whoami-v2", whoami),
            Route("/api/repos/create", create, methods=["POST"]),
            Route("/api/validate-yaml", validate_yaml, methods=["POST"]),
            Route("/api/agent-harnesses", harnesses),
            Route(repo_path, info),
            Route(repo_path + "/revision/{rev:path}", info),
            Route(repo_path + "/preupload/{rev:str}", preupload, methods=["POST"]),
            Route(repo_path + "/commit/{rev:str}", commit, methods=["POST"]),
            Route(repo_path + "/tree/{rev:str}", tree),
            Route(repo_path + "/tree/{rev:str}/{path:path}", tree),
            Route(repo_path + "/commits/{rev:str}", commits),
            Route("/{kinds:str}/{ns:str}/{name:str}/resolve/{rev:str}/{path:path}", resolve, methods=["GET", "HEAD"]),
            Route("/{kinds:str}/{ns:str}/{name:str}.git/info/lfs/objects/batch", lfs_batch, methods=["POST"]),
            Route("/lfs-upload/{oid:str}", lfs_upload, methods=["PUT"]),
        ]
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_hub(tokens: dict[str, str], writable_orgs: dict[str, set[str]] | None = None) -> Iterator[Hub]:
    """Serve a :class:`Hub` on 127.0.0.1 in a thread for the ``with`` block."""
    hub = Hub(tokens, writable_orgs)
    port = _free_port()
    hub.url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(build_app(hub), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test Hub did not start")
        time.sleep(0.01)
    try:
        yield hub
    finally:
        server.should_exit = True
        thread.join(timeout=10)


__all__ = ["Hub", "running_hub"]
