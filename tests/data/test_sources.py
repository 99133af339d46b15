"""The journal as a flag source, and telling URLs from paths."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from flagpipe import FlagFilter, Flagger
from flagpipe.data.records import SourceError
from flagpipe.data.sources import JournalSource, is_url

if TYPE_CHECKING:
    from pathlib import Path


def test_urls_and_paths() -> None:
    for url in ("sqlite:///flags.db", "postgresql+psycopg://h/db", "s3://bucket/flags/", "gs://b/x"):
        assert is_url(url), url
    for path in ("flags", "./flagging.yaml", "C:\\flags", "a b://c", "://x"):
        assert not is_url(path), path


def test_the_journal_as_a_source(tmp_path: Path) -> None:
    with Flagger({"delivery": {"mode": "inline"}, "app": "demo"}, dir=tmp_path) as flagger:
        for n in range(5):
            flagger.flag({"n": n}, option=("a", "b")[n % 2])
        flagged = flagger.latest(10)
    with JournalSource(tmp_path) as source:
        assert list(source.events()) == flagged
        assert source.latest(2) == flagged[-2:]
        assert source.latest(1, FlagFilter.of(options=["a"])) == [flagged[4]]
        assert source.count() == 5
        assert source.count(FlagFilter.of(options=["b"], apps=["demo"])) == 2
        assert source.stats()["by_option"] == [{"option": "a", "count": 3}, {"option": "b", "count": 2}]
        assert source.directory == tmp_path
    with pytest.raises(SourceError, match="is closed"):
        source.count()


def test_a_directory_without_a_journal(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no flags in .*journal.sqlite3 does not exist"):
        JournalSource(tmp_path)
