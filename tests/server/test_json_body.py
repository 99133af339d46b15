"""JSON bodies: one linear pass bounds nesting and elements, so no body costs more than its size."""

from __future__ import annotations

import json

import pytest
from tests.server.conftest import auth

from flagpipe.server.errors import ApiError
from flagpipe.server.json_body import parse_json, scan_json

MB = 1024 * 1024


def refusal(body: bytes, max_depth: int = 32, max_nodes: int = 100_000) -> ApiError:
    with pytest.raises(ApiError) as refused:
        parse_json(body, max_depth, max_nodes)
    return refused.value


def test_an_unterminated_string_of_escaped_quotes_is_refused_in_one_pass() -> None:
    """A pattern that backtracks would take minutes here (and meet the test timeout)."""
    body = b'"' + b'\\"' * (MB // 2)
    error = refusal(body)
    assert error.status == 422 and "not terminated" in error.body.message
    body = b'{"values": {"a": "' + b'\\"' * (MB // 2)
    assert "not terminated" in refusal(body).body.message


def test_a_long_string_of_escapes_parses_whole() -> None:
    text = '"[{' * (MB // 3)
    body = json.dumps({"values": {"a": text}}).encode()
    assert len(body) > MB
    assert parse_json(body, 4, 10) == {"values": {"a": text}}


def test_many_tiny_elements_are_413_before_parsing() -> None:
    body = b"[" + b"{}," * (MB // 3) + b"{}]"
    error = refusal(body)
    assert error.status == 413 and error.body.error == "too_large" and "100000 elements" in error.body.message
    assert refusal(b"[" + b"1," * 200 + b"1]", max_nodes=100).status == 413
    assert refusal(b"[" + b'"a"' * 200 + b"]", max_nodes=100).status == 413  # strings count, valid or not
    parse_json(b"[" + b"1," * 98 + b"1]", 32, 100)  # the array and its commas: 99 elements


def test_nesting_is_counted_outside_strings_only() -> None:
    assert refusal(b"[" * 40 + b"]" * 40).status == 422
    assert "deeper than 32" in refusal(b"[" * 40 + b"]" * 40).body.message
    inside = b'{"a": "' + b"[" * 40 + b'\\"' + b"{" * 40 + b'"}'
    assert parse_json(inside, 2, 10) == {"a": "[" * 40 + '"' + "{" * 40}
    backslash_last = b'["\\\\", [[1]]]'  # an escaped backslash does not escape the closing quote
    assert parse_json(backslash_last, 3, 10) == ["\\", [[1]]]
    assert refusal(backslash_last, max_depth=2).status == 422


@pytest.mark.parametrize(
    "document",
    [{}, [], "x", 1.5, None, {"a": [1, {"b": 'c\\"d'}], "e": "é ✓"}, [[[]]], {"k": {"k": {"k": True}}}],
)
def test_valid_documents_pass_the_scan_and_parse_as_json_does(document: object) -> None:
    body = json.dumps(document, ensure_ascii=False).encode()
    scan_json(body, 32, 100)
    assert parse_json(body, 32, 100) == document


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"]" + b"[" * 10, "closing bracket"),
        (b'{"a": 1}}', "closing bracket"),
        (b"{nope", "not valid JSON"),
        ('{"a": "x"}'.encode("utf-16"), "not UTF-8"),  # json.loads would guess the encoding; the scan reads UTF-8
        (b'{"a": "\xed\xa0\x80"}', "not UTF-8"),  # an encoded surrogate
    ],
)
def test_malformed_bodies_are_422(body: bytes, says: str) -> None:
    error = refusal(body)
    assert error.status == 422 and says in error.body.message


def test_a_byte_order_mark_is_allowed() -> None:
    assert parse_json(b'\xef\xbb\xbf{"a": 1}', 32, 100) == {"a": 1}


@pytest.mark.anyio
async def test_the_api_refuses_a_body_past_the_element_budget_with_413(make_client) -> None:
    headers = {**auth(), "content-type": "application/json"}
    async with make_client(max_json_nodes=100) as c:
        many = b'{"values": {"a": [' + b"{}," * 200 + b"{}]}}"
        response = await c.post("/v1/flags", content=many, headers=headers)
        assert response.status_code == 413 and response.json()["error"] == "too_large"
        batch = await c.post("/v1/flags/batch", content=b'{"flags": [' + b"{}," * 200 + b"{}]}", headers=headers)
        assert batch.status_code == 413
        multipart = await c.post(
            "/v1/flags", data={"values": json.dumps({"a": [{}] * 200})}, files={"f": ("a.bin", b"1")}, headers=auth()
        )
        assert multipart.status_code == 413
        unterminated = await c.post("/v1/flags", content=b'"' + b'\\"' * 50_000, headers=headers)
        assert unterminated.status_code == 422 and "not terminated" in unterminated.json()["message"]
        fine = await c.post("/v1/flags", content=b'{"values": {"a": [' + b"{}," * 20 + b"{}]}}", headers=headers)
        assert fine.status_code == 202, fine.text
