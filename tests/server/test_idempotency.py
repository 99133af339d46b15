"""The idempotency store: claims, first answers kept, and a store from an earlier release upgraded in place."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from flagpipe.server.idempotency import IDEMPOTENCY_PATH, IdempotencyStore

if TYPE_CHECKING:
    from pathlib import Path


def test_the_first_claim_wins_and_keeps_its_first_answer(tmp_path: Path) -> None:
    store = IdempotencyStore(tmp_path)
    try:
        first = store.claim("writer", "k", "id-1", "fp-a")
        second = store.claim("writer", "k", "id-2", "fp-b")
        assert (first.event_id, second.event_id) == ("id-1", "id-1")
        assert second.fingerprint == "fp-a" and second.answer is None
        store.keep_answer("writer", "k", '{"id": "id-1"}')
        store.keep_answer("writer", "k", '{"id": "later"}')
        assert store.claim("writer", "k", "id-3", "fp-a").answer == '{"id": "id-1"}'
        assert store.claim("reader", "k", "id-4", "fp-a").event_id == "id-4"  # keys are per API key
    finally:
        store.close()


def test_a_store_written_before_answers_were_kept_gains_the_columns(tmp_path: Path) -> None:
    path = tmp_path / IDEMPOTENCY_PATH
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE idempotency (key_id TEXT NOT NULL, key TEXT NOT NULL, event_id TEXT NOT NULL,"
            " created_at TEXT NOT NULL, PRIMARY KEY (key_id, key))"
        )
        db.execute("INSERT INTO idempotency VALUES ('writer', 'old', 'id-0', '2026-01-01T00:00:00+00:00')")
    db.close()
    store = IdempotencyStore(tmp_path)
    try:
        old = store.claim("writer", "old", "id-new", "fp")
        assert (old.event_id, old.fingerprint, old.answer) == ("id-0", None, None)
    finally:
        store.close()
