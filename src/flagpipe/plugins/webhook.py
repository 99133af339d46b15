"""The ``webhook`` callback: POST each flag as signed JSON, or as a Slack or Discord message.

Requests carry the Standard Webhooks headers (``webhook-id`` is the event id, the same on every
retry; ``webhook-timestamp`` is the attempt; ``webhook-signature`` holds one ``v1,<base64>`` HMAC
per configured secret). Responses are classified for the delivery lanes: 2xx is success; 408, 425,
429, 5xx, timeouts and connection errors are retryable (``Retry-After`` passed on); 410 and a
Slack or Discord webhook that no longer exists disable the destination; other answers, redirects
included, are permanent. The URL, headers and secrets never appear in logs, errors or ``repr``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import threading
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

import flagpipe

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import httpx

    from flagpipe import FlagEvent, FlagSchema

#: The ``type`` of the JSON payload of one flag, and of a batch of flags.
EVENT_TYPE = "flag.created"
BATCH_TYPE = "flag.batch"
#: The version of the JSON payload's layout.
PAYLOAD_VERSION = 1

#: Addresses refused unless allow-listed: cloud metadata services (besides every link-local address).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})

#: Requests per second allowed by default for each format (Slack allows about one a second per webhook).
DEFAULT_RATE = {"json": None, "slack": 1.0, "discord": 0.5}

_SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of Standard Webhooks secrets, not a secret


class WebhookSettings(flagpipe.CallbackSettings):
    """Settings of the ``webhook`` callback."""

    url: SecretStr = Field(description="Where to POST (kept secret: webhook URLs often hold a token).")
    headers: dict[str, SecretStr] = Field(
        default_factory=dict, description="Extra request headers; values may use ${ENV} and are kept secret."
    )
    timeout: float = Field(default=15.0, gt=0, le=120, description="Seconds to wait for an answer.")
    format: Literal["json", "slack", "discord"] = Field(
        default="json", description="json: the event as signed JSON; slack or discord: a readable message."
    )
    secret: SecretStr | list[SecretStr] | None = Field(
        default=None,
        description="Standard Webhooks signing secret(s), whsec_ + base64; several during a rotation.",
    )
    files: Literal["none", "paths", "url"] = Field(
        default="paths",
        description="How files appear: not at all, as paths in the flagging dir, or as URLs under files_url.",
    )
    files_url: str | None = Field(
        default=None, description="Base URL where the flagging dir's files are served (for files: url)."
    )
    batch: bool = Field(
        default=False, description="json only: send a batch of flags in one request instead of one each."
    )
    rate_limit: float | None = Field(
        default=None,
        gt=0,
        description="Requests per second to this destination (default: 1 for slack, 0.5 for discord, none for json).",
    )
    allow_addresses: list[str] = Field(
        default_factory=list,
        description="Hosts or networks (CIDR) allowed even though they are link-local or cloud metadata.",
    )
    follow_redirects: bool = Field(default=False, description="Follow redirects (off: a redirect is an error).")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: SecretStr) -> SecretStr:
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an http:// or https:// URL with a host")
        return value

    @field_validator("secret")
    @classmethod
    def _valid_secrets(cls, value: SecretStr | list[SecretStr] | None) -> SecretStr | list[SecretStr] | None:
        for secret in [] if value is None else value if isinstance(value, list) else [value]:
            try:
                key = _secret_bytes(secret.get_secret_value())
            except ValueError:
                raise ValueError("secret must be whsec_ followed by base64") from None
            if not 24 <= len(key) <= 64:
                raise ValueError("secret must decode to 24 to 64 bytes (Standard Webhooks)")
        return value

    @field_validator("allow_addresses")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _looks_like_host(item):
                ipaddress.ip_network(item, strict=False)
        return value

    @field_validator("files_url")
    @classmethod
    def _files_base(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("files_url must be an http:// or https:// URL")
        return value

    def secrets(self) -> list[str]:
        """The configured signing secrets, in order."""
        if self.secret is None:
            return []
        items = self.secret if isinstance(self.secret, list) else [self.secret]
        return [s.get_secret_value() for s in items]


def _looks_like_host(item: str) -> bool:
    return any(c.isalpha() for c in item) and ":" not in item and "/" not in item


def _secret_bytes(secret: str) -> bytes:
    raw = secret.removeprefix(_SECRET_PREFIX)
    return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the Standard Webhooks ``v1`` signature of ``body`` (``v1,<base64 HMAC-SHA256>``)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# -- payloads -----------------------------------------------------------------------------------


class PayloadFile(BaseModel):
    """A file of a field, as the JSON payload shows it (``path`` or ``url``, never the bytes)."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = None
    url: str | None = None
    original_name: str | None = None
    media_type: str | None = None
    size: int
    sha256: str


class PayloadField(BaseModel):
    """One field of a flag in the JSON payload."""

    model_config = ConfigDict(extra="forbid")

    name: str
    role: Literal["input", "output"]
    kind: str
    value: Any = None
    file: PayloadFile | None = None


class PayloadFlag(BaseModel):
    """One flag in the JSON payload."""

    model_config = ConfigDict(extra="forbid")

    id: str
    created_at: datetime
    mode: Literal["manual", "auto"]
    option: str | None
    comment: str | None
    username: str | None
    session_id: str | None
    app: str | None
    fields: list[PayloadField]
    metadata: dict[str, Any]


class WebhookPayload(BaseModel):
    """The JSON body of ``format: json``: one flag (``flag.created``) or a batch (``flag.batch``)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["flag.created", "flag.batch"]
    timestamp: datetime = Field(description="When the flag was made (for a batch: its first flag).")
    schema_version: Literal[1]
    data: PayloadFlag | dict[str, list[PayloadFlag]]


def _file_view(settings: WebhookSettings, path: str, ref: dict[str, Any]) -> dict[str, Any] | None:
    if settings.files == "none":
        return None
    view = {k: ref[k] for k in ("original_name", "media_type", "size", "sha256")}
    if settings.files == "url" and settings.files_url:
        view["url"] = settings.files_url.rstrip("/") + "/" + path
    else:
        view["path"] = path
    return view


def flag_data(event: FlagEvent, settings: WebhookSettings) -> dict[str, Any]:
    """The JSON view of one flag: the event's own JSON with files shown as the settings say."""
    data: dict[str, Any] = event.model_dump(mode="json", exclude={"schema_version"})
    for field in data["fields"]:
        if field.get("file") is not None:
            field["file"] = _file_view(settings, field["file"]["path"], field["file"])
    return data


def json_body(events: Sequence[FlagEvent], settings: WebhookSettings) -> dict[str, Any]:
    """The ``format: json`` body for one flag or a batch."""
    if len(events) == 1 and not settings.batch:
        return {
            "type": EVENT_TYPE,
            "timestamp": events[0].created_at.isoformat(),
            "schema_version": PAYLOAD_VERSION,
            "data": flag_data(events[0], settings),
        }
    return {
        "type": BATCH_TYPE,
        "timestamp": events[0].created_at.isoformat(),
        "schema_version": PAYLOAD_VERSION,
        "data": {"events": [flag_data(e, settings) for e in events]},
    }


def _shown(field: dict[str, Any], limit: int = 300) -> str:
    file = field.get("file")
    if file is not None:
        text = file.get("url") or file.get("path") or ""
    elif field.get("value") is None:
        text = "(empty)"
    else:
        value = field["value"]
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _headline(event: FlagEvent) -> str:
    reason = event.option or "flagged"
    app = f" in {event.app}" if event.app else ""
    return f"Flag{app}: {reason}"


def slack_body(event: FlagEvent, settings: WebhookSettings) -> dict[str, Any]:
    """A Slack incoming-webhook message: reason, who, when, inputs and outputs, file links."""
    data = flag_data(event, settings)
    who = event.username or "anonymous"
    when = event.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [f"*{f['name']}* ({f['role']}): {_shown(f)}" for f in data["fields"]]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _headline(event)[:150]}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Reason*\n{event.option or '-'}"},
                {"type": "mrkdwn", "text": f"*Who*\n{who}"},
                {"type": "mrkdwn", "text": f"*When*\n{when}"},
                {"type": "mrkdwn", "text": f"*Flag id*\n{event.id}"},
            ],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:2900] or "(no fields)"}},
    ]
    if event.comment:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": event.comment[:2900]}]})
    text = f"{_headline(event)} by {who} at {when}"
    return {"text": text, "blocks": blocks}


def discord_body(event: FlagEvent, settings: WebhookSettings) -> dict[str, Any]:
    """A Discord execute-webhook message with one embed."""
    data = flag_data(event, settings)
    fields = [
        {"name": f"{f['name']} ({f['role']})"[:256], "value": _shown(f, 1000) or "-", "inline": len(_shown(f)) < 40}
        for f in data["fields"][:20]
    ]
    fields.append({"name": "Who", "value": event.username or "anonymous", "inline": True})
    embed: dict[str, Any] = {
        "title": _headline(event)[:256],
        "description": (event.comment or "")[:4000],
        "timestamp": event.created_at.isoformat(),
        "fields": fields,
        "footer": {"text": f"flag {event.id}"},
    }
    return {"content": _headline(event)[:2000], "embeds": [embed], "allowed_mentions": {"parse": []}}


# -- sending ------------------------------------------------------------------------------------


class _RateLimiter:
    """At most ``rate`` requests per second to one destination, across the whole process."""

    _lock = threading.Lock()
    _next: dict[str, float] = {}  # noqa: RUF012 - shared on purpose: one limit per destination

    @classmethod
    def wait(cls, key: str, rate: float | None) -> None:
        if rate is None:
            return
        with cls._lock:
            now = time.monotonic()
            start = max(now, cls._next.get(key, now))
            cls._next[key] = start + 1.0 / rate
        if start > now:
            time.sleep(start - now)


class _RedactSecrets(logging.Filter):
    """Masks webhook URLs and header values in log records of the HTTP library."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            for secret in self.secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, None
        return True


_REDACT = _RedactSecrets()
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).addFilter(_REDACT)


def redact_url(url: str) -> str:
    """Scheme and host only: ``https://hooks.slack.com/…``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{host}{port}", "/…" if parts.path not in ("", "/") else "", "", ""))


def retry_after_seconds(response: httpx.Response) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date), or Discord's JSON ``retry_after``."""
    header = response.headers.get("retry-after")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                when = parsedate_to_datetime(header)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    if "json" in response.headers.get("content-type", ""):
        try:
            value = response.json().get("retry_after")
        except (ValueError, AttributeError):
            value = None
        if isinstance(value, (int, float)):
            return float(value)
    return None


def _gone(settings: WebhookSettings, response: httpx.Response) -> bool:
    if response.status_code == 410:
        return True
    body = response.text[:200]
    if settings.format == "slack" and response.status_code == 404:
        return any(code in body for code in ("no_service", "no_active_hooks", "channel_not_found"))
    return settings.format == "discord" and response.status_code == 404


class WebhookCallback(flagpipe.Callback[WebhookSettings]):
    """POSTs flags to a URL: signed JSON, a Slack message or a Discord message."""

    type_name = "webhook"
    Settings = WebhookSettings

    def __init__(self, settings: WebhookSettings) -> None:
        super().__init__(settings)
        self.max_batch_size = None if settings.format == "json" and settings.batch else 1
        self._client: httpx.Client | None = None
        self._url = settings.url.get_secret_value()
        if settings.format == "discord":
            separator = "&" if urlsplit(self._url).query else "?"
            self._url += f"{separator}wait=true"
        _REDACT.secrets.update(_secret_parts(self._url, [v.get_secret_value() for v in settings.headers.values()]))
        self._safe_url = redact_url(self._url)
        self._rate = settings.rate_limit or DEFAULT_RATE[settings.format]

    def setup(self, schema: FlagSchema, directory: Path) -> None:
        """Open the HTTP client (once; a second call keeps it)."""
        self._ensure_client()

    def _ensure_client(self) -> httpx.Client:
        if self._client is None:
            try:
                import httpx
            except ImportError:
                raise flagpipe.PermanentError(
                    "the webhook callback needs httpx: pip install 'flagpipe[webhook]'"
                ) from None
            self._client = httpx.Client(timeout=self.settings.timeout, follow_redirects=self.settings.follow_redirects)
        return self._client

    def _bodies(self, events: Sequence[FlagEvent]) -> list[tuple[str, dict[str, Any]]]:
        if self.settings.format == "json":
            if self.settings.batch:
                msg_id = events[0].id if len(events) == 1 else _batch_id(events)
                return [(msg_id, json_body(events, self.settings))]
            return [(e.id, json_body([e], self.settings)) for e in events]
        render = slack_body if self.settings.format == "slack" else discord_body
        return [(e.id, render(e, self.settings)) for e in events]

    def deliver(self, events: Sequence[FlagEvent]) -> None:
        """Send the events (one request each, or one for the batch); classify the answer."""
        self._ensure_client()
        self._check_address()
        for msg_id, payload in self._bodies(events):
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
            _RateLimiter.wait(self._url, self._rate)
            self._send(msg_id, body)

    def _send(self, msg_id: str, body: bytes) -> None:
        import httpx

        client = self._ensure_client()
        timestamp = int(time.time())
        headers = {k: v.get_secret_value() for k, v in self.settings.headers.items()}
        headers["content-type"] = "application/json"
        headers["user-agent"] = f"flagpipe/{flagpipe.__version__}"
        headers["webhook-id"] = msg_id
        headers["webhook-timestamp"] = str(timestamp)
        signatures = [sign(s, msg_id, timestamp, body) for s in self.settings.secrets()]
        if signatures:
            headers["webhook-signature"] = " ".join(signatures)
        try:
            response = client.post(self._url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise flagpipe.RetryableError(
                f"no answer from {self._safe_url} within {self.settings.timeout:g}s"
            ) from None
        except httpx.HTTPError as exc:
            raise flagpipe.RetryableError(f"could not reach {self._safe_url}: {self._scrub(exc)}") from None
        self._classify(response)

    def _classify(self, response: httpx.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = f"HTTP {status} from {self._safe_url}"
        snippet = self._scrub(response.text[:120].strip())
        if snippet:
            detail += f": {snippet}"
        if _gone(self.settings, response):
            raise flagpipe.DestinationDisabledError(f"{detail} (the webhook is gone; fix it, then flagpipe retry)")
        if status in (408, 425, 429) or status >= 500:
            raise flagpipe.RetryableError(detail, retry_after=retry_after_seconds(response))
        if 300 <= status < 400:
            raise flagpipe.PermanentError(f"{detail} (a redirect; set the final URL, or follow_redirects: true)")
        raise flagpipe.PermanentError(detail)

    def _scrub(self, value: object) -> str:
        text = str(value)
        for secret in _REDACT.secrets:
            text = text.replace(secret, "***")
        return text

    def _check_address(self) -> None:
        """Refuse link-local and cloud-metadata destinations unless allow-listed (SSRF protection)."""
        host = urlsplit(self._url).hostname or ""
        allowed = self.settings.allow_addresses
        if host in allowed:
            return
        if host.lower() in METADATA_HOSTS:
            raise flagpipe.PermanentError(f"refusing {self._safe_url}: a cloud metadata host (allow_addresses)")
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise flagpipe.RetryableError(f"cannot resolve the host of {self._safe_url}: {exc}") from None
        networks = [ipaddress.ip_network(a, strict=False) for a in allowed if not _looks_like_host(a)]
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if any(address in n for n in networks):
                continue
            if address.is_link_local or address in METADATA_ADDRESSES:
                raise flagpipe.PermanentError(
                    f"refusing {self._safe_url}: it resolves to {address}, a link-local or cloud metadata "
                    "address; add it to allow_addresses if this is intended"
                )

    def healthcheck(self) -> str | None:
        """Resolve the host and open a TCP connection to it, without sending a flag."""
        parts = urlsplit(self._url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        self._check_address()
        try:
            with socket.create_connection((parts.hostname or "", port), timeout=self.settings.timeout):
                pass
        except OSError as exc:
            raise flagpipe.RetryableError(f"cannot connect to {self._safe_url}: {exc}") from None
        return f"{redact_url(self._url)} reachable"

    def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def __repr__(self) -> str:
        return f"<WebhookCallback format={self.settings.format!r} url={self._safe_url!r}>"


def _secret_parts(url: str, header_values: list[str]) -> set[str]:
    """The strings to mask wherever they appear: the URL, its path and query, their long parts, header values."""
    parts = urlsplit(url)
    pieces = {url, parts.path, parts.query, *header_values}
    pieces |= {segment for segment in parts.path.split("/") if len(segment) >= 8}
    pieces |= {pair.partition("=")[2] for pair in parts.query.split("&")}
    pieces |= {word for value in header_values for word in value.split() if len(word) >= 8}
    pieces.discard("wait=true")
    return {p for p in pieces if len(p) >= 6}


def _batch_id(events: Sequence[FlagEvent]) -> str:
    digest = hashlib.sha256("\n".join(e.id for e in events).encode()).hexdigest()[:32]
    return f"batch_{digest}"


@flagpipe.hookimpl
def flagpipe_register_callbacks() -> list[type[flagpipe.Callback[Any]]]:
    """Register the ``webhook`` callback."""
    return [WebhookCallback]
