"""A small HTTP client for a flagpipe collector (``flagpipe serve``), for scripts and other services.

::

    from flagpipe.client import Client

    with Client("https://flags.example", key=os.environ["FLAGPIPE_KEY"]) as client:
        client.flag({"prompt": "2+2", "answer": "5"}, option="wrong", files={"shot": Path("shot.png")})
"""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

__all__ = ["Client", "CollectorError"]


class CollectorError(RuntimeError):
    """The collector refused a request: ``status`` and the answer's ``body``."""

    def __init__(self, status: int, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else str(body)[:200]
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.body = body


class Client:
    """Flags over HTTP: ``Client(url, key).flag(values, option=...)`` returns the collector's answer."""

    def __init__(self, url: str, key: str, *, timeout: float = 30.0) -> None:
        import httpx

        self.url = url.rstrip("/")
        self._http: httpx.Client = httpx.Client(
            base_url=self.url, timeout=timeout, headers={"authorization": f"Bearer {key}"}
        )

    def flag(
        self,
        values: Mapping[str, Any],
        *,
        files: Mapping[str, str | Path | bytes] | None = None,
        option: str | None = None,
        username: str | None = None,
        comment: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        session_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Send one flag; return the answer (``id``, ``stored``, ...); raise :class:`CollectorError` if refused.

        ``files`` maps field names to paths or bytes. Pass ``idempotency_key`` to make retries safe.
        """
        body: dict[str, Any] = {"values": dict(values), "files": {n: _file(n, v) for n, v in (files or {}).items()}}
        details = {"option": option, "username": username, "comment": comment, "session_id": session_id}
        body.update({k: v for k, v in details.items() if v is not None})
        if metadata is not None:
            body["metadata"] = dict(metadata)
        headers = {"idempotency-key": idempotency_key} if idempotency_key else {}
        return self._answer(self._http.post("/v1/flags", json=body, headers=headers))

    def status(self, event_id: str) -> dict[str, Any]:
        """A flag's delivery state per callback (the key needs the ``read`` scope)."""
        return self._answer(self._http.get(f"/v1/flags/{event_id}"))

    def config(self) -> dict[str, Any]:
        """The collector's mode, options and notice."""
        return self._answer(self._http.get("/v1/config"))

    @staticmethod
    def _answer(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code >= 300 or not isinstance(body, dict):
            raise CollectorError(response.status_code, body)
        return body

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _file(name: str, value: str | Path | bytes) -> dict[str, Any]:
    if isinstance(value, bytes):
        return {"data": base64.b64encode(value).decode(), "name": name}
    path = Path(value)
    media_type = mimetypes.guess_type(path.name)[0]
    return {"data": base64.b64encode(path.read_bytes()).decode(), "name": path.name, "content_type": media_type}
