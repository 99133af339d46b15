"""``flagpipe compact``: merge the small shards of past days in a ``parquet`` dataset.

pyarrow and fsspec are imported only when the command runs, never to list the commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pathlib import Path


def _from_config(config: str, callback: str | None) -> tuple[str, dict[str, Any], Path]:
    """The url and storage options of the config's ``parquet`` callback, and its flagging dir."""
    from flagpipe.plugins.config_entry import callback_settings
    from flagpipe.plugins.parquet.settings import ParquetSettings

    settings, directory = callback_settings(config, "parquet", callback, ParquetSettings)
    return settings.url, dict(settings.storage_options), directory


def _options(pairs: tuple[str, ...]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--storage-option")
        if key == "endpoint_url":
            options.setdefault("client_kwargs", {})["endpoint_url"] = value
        else:
            options[key] = value
    return options


@click.command(name="compact")
@click.argument("url", required=False)
@click.option("--config", "config", metavar="FILE", help="Take the URL and storage options from this config.")
@click.option("--callback", metavar="NAME", help="Which parquet callback of the config (when it has several).")
@click.option(
    "--storage-option",
    "storage_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="An fsspec storage option for URL (repeatable); endpoint_url goes into client_kwargs.",
)
@click.option("--before", metavar="YYYY-MM-DD", help="Compact days before this one (default: today, UTC).")
@click.option("--target-size", default=128, show_default=True, help="Merged shards grow up to this many MiB.")
@click.option("--compression", default="zstd", show_default=True, help="The merged shards' Parquet codec.")
def compact_command(
    url: str | None,
    config: str | None,
    callback: str | None,
    storage_options: tuple[str, ...],
    before: str | None,
    target_size: int,
    compression: str,
) -> None:
    """Merge the small shards of past days in a parquet dataset, keeping every flag exactly once.

    Safe to stop at any point: running it again finishes or undoes an interrupted merge.
    """
    from flagpipe.plugins.parquet.compact import compact
    from flagpipe.plugins.parquet.errors import classify
    from flagpipe.plugins.parquet.settings import ParquetSettings
    from flagpipe.plugins.parquet.storage import Store

    if (config is None) == (url is None):
        raise click.UsageError("give either URL or --config")
    directory: Path | None = None
    if config is not None:
        url, options, directory = _from_config(config, callback)
    else:
        options = _options(storage_options)
    assert url is not None
    secrets = ParquetSettings(url=url, storage_options=options).secrets()
    store: Store | None = None
    try:
        store = Store(url, options, directory)
        report = compact(
            store,
            before=before,
            target_bytes=target_size * 1024 * 1024,
            compression=compression,
            on_merge=lambda path, rows: click.echo(f"wrote {path} ({rows:,} flags)"),
        )
    except Exception as exc:  # noqa: BLE001 - explained in one line, like a delivery error
        where = store.where if store is not None else url
        raise click.ClickException(str(classify(exc, where=where, doing="compacting", secrets=secrets))) from None
    for problem in report.skipped:
        click.echo(f"skipped {problem}", err=True)
    click.echo(
        f"merged {report.merged_shards} shard(s) into {report.written_shards} ({report.rows:,} flags) in "
        f"{report.partitions} partition(s) of past days; finished {report.finished_plans} interrupted merge(s)"
    )


__all__ = ["compact_command"]
