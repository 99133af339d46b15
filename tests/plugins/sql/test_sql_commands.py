"""``flagpipe sql init``: create the tables as an admin, or print their DDL; no SQLAlchemy import before."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import sqlalchemy as sa
from click.testing import CliRunner

from flagpipe.cli import cli

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import Database


def write_config(tmp_path: Path, database: Database, **settings: object) -> Path:
    import yaml

    item = {"type": "sql", "name": "warehouse", **database.settings, **settings}
    config = {"dir": str(database.directory or tmp_path / "flagged"), "callbacks": [{"type": "csv"}, item]}
    path = tmp_path / "flagging.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_init_creates_the_tables_once(database: Database, tmp_path: Path) -> None:
    config = write_config(tmp_path, database, create_tables=False)
    runner = CliRunner()
    result = runner.invoke(cli, ["sql", "init", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert f"{database.prefix}flags, {database.prefix}blobs, {database.prefix}version are ready" in result.output
    assert "(layout version 1)" in result.output
    assert sa.inspect(database.admin).has_table(f"{database.prefix}flags", schema=database.schema)
    again = runner.invoke(cli, ["sql", "init", "--config", str(config), "--callback", "warehouse"])
    assert again.exit_code == 0, again.output


def test_print_shows_the_ddl_of_each_database_without_connecting(tmp_path: Path) -> None:
    runner = CliRunner()
    url = "postgresql+psycopg://app:Secret-Pw@127.0.0.1:1/flags"
    result = runner.invoke(cli, ["sql", "init", "--url", url, "--schema", "flagging", "--print"])
    assert result.exit_code == 0, result.output
    assert "CREATE SCHEMA IF NOT EXISTS flagging;" in result.output
    assert "fields JSONB NOT NULL" in result.output
    assert "USING gin (fields)" in result.output
    assert "INSERT INTO flagging.flagpipe_version" in result.output
    assert "Secret-Pw" not in result.output
    maria = runner.invoke(cli, ["sql", "init", "--url", "mysql+pymysql://root@127.0.0.1:1/db", "--print"])
    assert maria.exit_code == 0, maria.output
    assert "`option` VARCHAR(255)" in maria.output
    assert "created_at DATETIME(6) NOT NULL" in maria.output
    assert "USING gin" not in maria.output


def test_init_explains_a_config_without_a_sql_callback(tmp_path: Path) -> None:
    config = tmp_path / "flagging.yaml"
    config.write_text("callbacks:\n  - type: csv\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["sql", "init", "--config", str(config)])
    assert result.exit_code == 1
    assert "has no sql callback" in result.output


def test_init_explains_an_unreachable_server_in_one_line(tmp_path: Path) -> None:
    url = "postgresql+psycopg://app:Secret-Pw@127.0.0.1:1/flags"
    result = CliRunner().invoke(cli, ["sql", "init", "--url", url])
    assert result.exit_code == 1
    assert "postgresql+psycopg://app:***@127.0.0.1:1/flags is unavailable while creating the tables" in result.output
    assert "Secret-Pw" not in result.output


def test_starting_and_help_import_no_database_library() -> None:
    code = (
        "import sys\n"
        "from flagpipe.cli import cli\n"
        "from flagpipe.core.host import create_plugin_host\n"
        "assert 'sql' in create_plugin_host().callback_types()\n"
        "try:\n"
        "    cli.main(['--help'], standalone_mode=False)\n"
        "    cli.main(['sql', '--help'], standalone_mode=False)\n"
        "finally:\n"
        "    loaded = sorted(m for m in ('sqlalchemy', 'psycopg', 'pymysql', 'fsspec') if m in sys.modules)\n"
        "    print('LOADED', loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert "  sql " in result.stdout  # listed among the commands
    assert "LOADED []" in result.stdout
