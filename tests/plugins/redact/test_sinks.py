"""Global redaction keeps the raw value out of every sink; a callback's own redaction only out of that one.

Each sink is real: the journal and CSV files, the hf_dataset callback against the test Hub, a
webhook receiver on 127.0.0.1, and the sql callback on SQLite. "Never sees" is checked on bytes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
import sqlalchemy as sa
from huggingface_hub import hf_hub_download
from tests.plugins.hf_dataset.hub import running_hub

from flagpipe import Flagger

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_httpserver import HTTPServer

    from flagpipe.core.host import PluginHost

EMAIL = "jane.doe@example.com"
PROMPT = f"My email is {EMAIL}, what is 5 add 7?"
REPO = "alice/redacted-flags"


def all_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


def webhook(url: str, **settings: Any) -> dict[str, Any]:
    return {"type": "webhook", "private_addresses": "allow", "url": url, "rate_limit": 100, **settings}


def test_global_redaction_reaches_journal_csv_hub_and_webhook(
    tmp_path: Path, plugins: PluginHost, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    with running_hub({"hf_good_token": "alice"}) as hub:
        hf = {"type": "hf_dataset", "repo_id": REPO, "token": "hf_good_token", "endpoint": hub.url}
        config = {
            "dir": str(tmp_path / "flags"),
            "redact": {"detect": ["email"]},
            "callbacks": [{"type": "csv"}, hf, webhook(httpserver.url_for("/hook"))],
            "delivery": {"mode": "inline", "grace": 60},
        }
        with Flagger(config, plugins=plugins) as flagger:
            receipt = flagger.flag({"prompt": PROMPT, "output": "12"}, comment=f"from {EMAIL}")
        assert set(receipt.delivered) == {"csv", "hf_dataset", "webhook"}
        hub_bytes = b"".join(hub.files(REPO).values())
        shard = next(p for p in hub.files(REPO) if p.endswith(".parquet"))
        table = pq.read_table(
            hf_hub_download(REPO, shard, repo_type="dataset", endpoint=hub.url, token="hf_good_token")
        )
    stored = all_bytes(tmp_path / "flags")  # the journal and the CSV
    received = b"".join(request.get_data() for request, _ in httpserver.log)
    for sink, data in {"flagging dir": stored, "hub": hub_bytes, "webhook": received}.items():
        assert EMAIL.encode() not in data, sink
    assert b"My email is <email>" in (tmp_path / "flags" / "log.csv").read_bytes()
    assert "My email is <email>, what is 5 add 7?" in json.dumps(table.to_pylist(), default=str)
    assert b"My email is <email>" in received


def test_a_callbacks_own_redaction_leaves_the_journal_and_the_others_the_raw_value(
    tmp_path: Path, plugins: PluginHost, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/slack").respond_with_data("ok")
    database = tmp_path / "flags.db"
    config = {
        "dir": str(tmp_path / "flags"),
        "callbacks": [
            {"type": "sql", "url": f"sqlite:///{database}"},
            {"type": "csv"},
            webhook(httpserver.url_for("/slack"), name="slack", format="slack", redact={"detect": ["email"]}),
        ],
        "delivery": {"mode": "inline"},
    }
    with Flagger(config, plugins=plugins) as flagger:
        receipt = flagger.flag({"prompt": PROMPT}, comment=f"from {EMAIL}")
        (journal_event,) = flagger.latest(1)
    assert set(receipt.delivered) == {"sql", "csv", "slack"}
    assert journal_event.field("prompt").value == PROMPT
    assert "redacted" not in journal_event.metadata
    assert EMAIL.encode() in (tmp_path / "flags" / "log.csv").read_bytes()
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        values = [str(v) for row in conn.execute(sa.text("SELECT * FROM flagpipe_flags")) for v in row]
    engine.dispose()
    assert any(EMAIL in v for v in values)
    ((request, _),) = list(httpserver.log)
    body = request.get_data()
    assert EMAIL.encode() not in body
    assert b"&lt;email&gt;" in body  # the mask, escaped as Slack wants it (shown as <email>)


def test_a_callback_with_drop_does_not_get_the_flag_but_the_others_do(
    tmp_path: Path, plugins: PluginHost, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    config = {
        "dir": str(tmp_path / "flags"),
        "callbacks": [
            {"type": "csv"},
            webhook(httpserver.url_for("/hook"), redact={"detect": ["email"], "action": "drop"}),
        ],
        "delivery": {"mode": "inline"},
    }
    with Flagger(config, plugins=plugins) as flagger:
        dropped = flagger.flag({"prompt": PROMPT})
        kept = flagger.flag({"prompt": "nothing personal here"})
    assert dropped.stored and dropped.delivered == ("csv",) and dropped.skipped == ("webhook",)
    assert kept.delivered == ("csv", "webhook") and kept.skipped == ()
    bodies = [request.get_data() for request, _ in httpserver.log]
    assert len(bodies) == 1
    assert b"nothing personal here" in bodies[0]
    assert EMAIL.encode() in (tmp_path / "flags" / "log.csv").read_bytes()
