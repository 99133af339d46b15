"""Each built-in detector: what it finds, and the near misses it leaves alone."""

from __future__ import annotations

import pytest

from .conftest import found

ALL = ("url_credentials", "email", "secret", "iban", "credit_card", "ip", "phone")

#: Text that looks like numbers or addresses but holds none of them: nothing is found by any detector.
NEAR_MISSES = [
    "4111 1111 1111 1112",  # 16 digits failing Luhn
    "4111111111111112",
    "1234567812345678",
    "5 add 7 = -12",  # the calculator's output
    "on 2024-01-15 at 12:30:45",  # a date and a time
    "15/01/2024 and 01.02.2023",
    "flagpipe 10.0.19041.1234 and v2.3.4",  # version numbers
    "id 123e4567-e89b-12d3-a456-426614174000",  # a UUID
    "sha 3b18e512dba79e4c8300dd08aeb37f8e728b8dad",  # a git commit, hex: low entropy
    "DE89 3704 0044 0532 0130 01",  # IBAN with a wrong checksum
    "user at example dot com, or user@localhost",
    "std::vector<int> and a::b",
    "this_is_a_rather_long_identifier_name_in_code",
    "https://example.com/path?q=1#frag and http://host:8080/x",
    "order 12345 costs 99.95 EUR, total 1,234,567",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_left_alone(text: str) -> None:
    assert found(text, *ALL) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jane.doe+flags@example.co.uk today", "jane.doe+flags@example.co.uk"),
        ("<bob_o'neil@mail.example.org>", "bob_o'neil@mail.example.org"),
        ("CAPS@EXAMPLE.COM.", "CAPS@EXAMPLE.COM"),
    ],
)
def test_email(text: str, expected: str) -> None:
    assert found(text, "email") == [("email", expected)]


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("call +1 415-555-2671 now", "US", "+1 415-555-2671"),
        ("call (415) 555-2671", "US", "(415) 555-2671"),
        ("ring 030 12345678", "DE", "030 12345678"),
        ("ring +49 30 12345678", "US", "+49 30 12345678"),
        ("tel: 020 7946 0018", "GB", "020 7946 0018"),
        ("+33 1 23 45 67 89", "US", "+33 1 23 45 67 89"),
    ],
)
def test_phone(text: str, region: str, expected: str) -> None:
    assert found(text, {"phone": {"region": region}}) == [("phone", expected)]


def test_phone_needs_the_right_region_for_a_national_number() -> None:
    assert found("ring 030 12345678", "phone") == []  # the default region is US


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111 1111 1111 1111 ok", "4111 1111 1111 1111"),
        ("4111-1111-1111-1111", "4111-1111-1111-1111"),
        ("amex 378282246310005.", "378282246310005"),
        ("mc 5555555555554444", "5555555555554444"),
    ],
)
def test_credit_card(text: str, expected: str) -> None:
    assert found(text, "credit_card") == [("credit_card", expected)]


def test_credit_card_needs_one_kind_of_separator_and_a_card_first_digit() -> None:
    assert found("4111 1111-1111 1111", "credit_card") == []
    assert found("0000000000000000", "credit_card") == []  # passes Luhn, no card starts with 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pay to DE89 3704 0044 0532 0130 00 AND thanks", "DE89 3704 0044 0532 0130 00"),
        ("GB82WEST12345698765432", "GB82WEST12345698765432"),
        ("NL91 ABNA 0417 1643 00.", "NL91 ABNA 0417 1643 00"),
    ],
)
def test_iban(text: str, expected: str) -> None:
    assert found(text, "iban") == [("iban", expected)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from 192.168.1.20.", ["192.168.1.20"]),
        ("v6 2001:db8::1 and ::ffff:10.0.0.1", ["2001:db8::1", "::ffff:10.0.0.1"]),
        ("fe80::1ff:fe23:4567:890a", ["fe80::1ff:fe23:4567:890a"]),
    ],
)
def test_ip(text: str, expected: list[str]) -> None:
    assert found(text, "ip") == [("ip", e) for e in expected]


def test_ip_leaves_out_of_range_and_longer_dotted_runs() -> None:
    assert found("999.1.1.1 and 1.2.3.4.5 and 10:20:30", "ip") == []


def test_url_credentials_masks_only_user_and_password() -> None:
    text = "db at postgresql://admin:hunter2@db.internal:5432/app and https://:tok3n@example.com/"
    assert found(text, "url_credentials") == [("url_credentials", "admin:hunter2"), ("url_credentials", ":tok3n")]


@pytest.mark.parametrize(
    "token",
    [
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_" + "a1B2" * 9,
        "xoxb-123456789012-abcdefghij",
        "sk-proj-abcdefghijklmnopqrstuvwxyz0123",
        "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
        "hf_" + "abcdEFGHijklMNOPqrstUVWXyz012345",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "Zx9Qv2LmP4tR8sW1yB6nK3jH7gF5dC0aE2uY",  # no prefix: high entropy
    ],
)
def test_secret(token: str) -> None:
    assert found(f"my key is {token}, thanks", "secret") == [("secret", token)]


def test_secret_finds_a_private_key_block() -> None:
    block = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
    assert found(f"key:\n{block}\n", "secret") == [("secret", block)]


def test_secret_entropy_threshold_is_an_option() -> None:
    token = "Zx9Qv2LmP4tR8sW1yB6nK3jH7gF5dC0aE2uY"
    assert found(token, {"secret": {"entropy": 6.0}}) == []
    assert found(token[:20], {"secret": {"min_length": 16}}) == [("secret", token[:20])]


def test_a_candidate_one_detector_rejects_goes_to_the_next() -> None:
    # 13 digits that are not a card (Luhn fails) but are a phone number with its country code
    assert found("+4930123456789", "credit_card", {"phone": {"region": "DE"}}) == [("phone", "+4930123456789")]


def test_every_kind_in_one_text() -> None:
    text = (
        "Hi, I'm jane@example.com, +1 415-555-2671, card 4111 1111 1111 1111, IBAN GB82WEST12345698765432, "
        "from 10.1.2.3 via https://u:pw@proxy.example.com with key AKIAIOSFODNN7EXAMPLE."
    )
    assert [name for name, _ in found(text, *ALL)] == [
        "email",
        "phone",
        "credit_card",
        "iban",
        "ip",
        "url_credentials",
        "secret",
    ]
