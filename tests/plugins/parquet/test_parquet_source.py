"""``read_flags(URL)`` and ``--from URL`` read a parquet dataset through ``flagpipe_open_flag_source``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

import flagpipe
from flagpipe.cli import cli
from flagpipe.core.host import PluginHost
from flagpipe.core.sources import FlagFilter

if TYPE_CHECKING:
    from .targets import Target

pd = pytest.importorskip("pandas")


def _url(target: Target) -> str:
    """The dataset's URL: a bucket's as it is, a local folder's as ``file://``."""
    return target.url if "://" in target.url else Path(target.url).resolve().as_uri()


def _flag(target: Target, directory: Path, plugins: PluginHost) -> list[str]:
    config = {
        "delivery": {"mode": "inline"},
        "callbacks": ["csv", {"type": "parquet", **target.settings()}],
    }
    ids = []
    with flagpipe.Flagger(config, dir=directory, plugins=plugins, options=["wrong", "rude"], app="calc") as flagger:
        for n in range(6):
            receipt = flagger.flag(
                {"n": n, "text": f"answer {n}"},
                option=["wrong", "rude", None][n % 3],
                username=f"user{n % 2}",
                metadata={"model": "v2", "latency": n / 10},
            )
            ids.append(receipt.id)
    return ids


def test_read_flags_from_the_dataset_equals_the_journal(target: Target, tmp_path: Path, plugins: PluginHost) -> None:
    ids = _flag(target, tmp_path / "flags", plugins)
    url = _url(target)
    for query in ({}, {"options": ["wrong"]}, {"options": [None]}, {"apps": ["calc"]}, {"apps": ["other"]}):
        journal = flagpipe.read_flags(tmp_path / "flags", **query)  # type: ignore[arg-type]
        dataset = flagpipe.read_flags(url, storage_options=target.options, plugins=plugins, **query)  # type: ignore[arg-type]
        # Parquet stores a ``number`` field as a double: the same values, read back as float64
        pd.testing.assert_frame_equal(dataset, journal, check_dtype=False)
        assert dataset.empty or dataset["n"].dtype == "float64"
    assert list(flagpipe.read_flags(url, storage_options=target.options, plugins=plugins)["id"]) == ids


def test_the_source_filters_and_counts(target: Target, tmp_path: Path, plugins: PluginHost) -> None:
    ids = _flag(target, tmp_path / "flags", plugins)
    with plugins.open_flag_source(_url(target), target.options) as source:
        assert [e.id for e in source.events()] == ids
        assert [e.id for e in source.events(FlagFilter.of(options=["rude"]))] == ids[1::3]
        assert [e.id for e in source.latest(2)] == ids[-2:]
        stats = source.stats()
        assert stats["total"] == 6
        assert {row["option"]: row["count"] for row in stats["by_option"]} == {"wrong": 2, "rude": 2, None: 2}


def test_show_and_stats_from_the_dataset(tmp_path: Path, plugins: PluginHost) -> None:
    from .targets import Target

    target = Target(str(tmp_path / "lake"))
    ids = _flag(target, tmp_path / "flags", plugins)
    runner = CliRunner()
    env = {"COLUMNS": "80", "FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD": "1"}
    shown = runner.invoke(cli, ["show", "--from", _url(target), "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    assert [flag["id"] for flag in json.loads(shown.stdout)["flags"]] == ids
    stats = runner.invoke(cli, ["stats", "--from", _url(target)], env=env)  # a table, at 80 columns
    assert stats.exit_code == 0, stats.output
    title, *table = stats.stdout.splitlines()
    assert title.endswith(_url(target))  # the source is named whole, even past 80 columns
    assert all(len(line) <= 80 for line in table)
    assert "wrong" in stats.stdout


def test_a_missing_bucket_is_a_clear_error(s3: object, plugins: PluginHost) -> None:
    options = s3.options()  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match=r"cannot read flags from s3://no-such-bucket-here/flags/"):
        flagpipe.read_flags("s3://no-such-bucket-here/flags/", storage_options=options, plugins=plugins)


def test_other_urls_are_not_this_plugins(plugins: PluginHost) -> None:
    from flagpipe.plugins.parquet.source import open_source, recognises

    assert not recognises("postgresql+psycopg://u@h/db")
    assert not recognises("/a/local/path")
    assert open_source("sqlite:///flags.db", {}) is None
    assert recognises("S3://bucket/flags/")


def test_duckdb_reads_the_bucket_directly(s3: object, tmp_path: Path, plugins: PluginHost) -> None:
    """docs/parquet.md's DuckDB recipe, against the same S3 endpoint (httpfs from its PyPI package)."""
    duckdb = pytest.importorskip("duckdb")
    httpfs = pytest.importorskip("duckdb_extension_httpfs")
    from .conftest import KEY, SECRET, new_bucket
    from .targets import Target

    bucket = new_bucket(s3)  # type: ignore[arg-type]
    target = Target(f"s3://{bucket}/flags/", s3.options())  # type: ignore[attr-defined]
    ids = _flag(target, tmp_path / "flags", plugins)
    extension = next(Path(httpfs.__file__).parent.glob(f"extensions/v{duckdb.__version__}/httpfs.duckdb_extension"))
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{extension}'")
    endpoint = s3.endpoint.removeprefix("http://")  # type: ignore[attr-defined]
    con.execute(
        f"CREATE SECRET lake (TYPE s3, KEY_ID '{KEY}', SECRET '{SECRET}', REGION 'us-east-1', "
        f"ENDPOINT '{endpoint}', URL_STYLE 'path', USE_SSL false)"
    )
    rows = con.execute(
        f"SELECT id, option FROM read_parquet('s3://{bucket}/flags/*/**/*.parquet', hive_partitioning = true) "
        "ORDER BY timestamp, id"
    ).fetchall()
    assert [r[0] for r in rows] == ids
    assert [r[1] for r in rows] == ["wrong", "rude", None] * 2
