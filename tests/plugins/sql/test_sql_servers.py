"""The server check of the sql tests: skip with a reason on a machine without servers, fail under CI."""

from __future__ import annotations

import pytest

from .conftest import require_server

UNREACHABLE = "postgresql+psycopg://postgres:pw@127.0.0.1:1/test"


def test_an_unreachable_server_skips_the_test_with_a_one_line_reason() -> None:
    with pytest.raises(pytest.skip.Exception) as caught:
        require_server("postgresql", UNREACHABLE, ci=False)
    reason = str(caught.value.msg)
    assert "\n" not in reason
    assert "postgresql at postgresql+psycopg://postgres:***@127.0.0.1:1/test is unreachable" in reason
    assert "FLAGPIPE_TEST_POSTGRES_URL" in reason


def test_under_ci_an_unreachable_server_fails_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and postgresql at"):
        require_server("postgresql", UNREACHABLE)


def test_a_reachable_server_is_used_as_it_is() -> None:
    url = require_server("postgresql")  # skips on a machine without PostgreSQL
    assert url.startswith("postgresql")
