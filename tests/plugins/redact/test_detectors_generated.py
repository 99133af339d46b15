"""Generated emails, phone numbers, card numbers and IBANs, written inside a sentence, are all caught."""

from __future__ import annotations

import collections

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban, luhn

from .conftest import redactor

SENTENCE = "Hello, my {what} is {value} - please keep it private."

REDACTOR = redactor("url_credentials", "email", "secret", "iban", "credit_card", "ip", {"phone": {"region": "GB"}})


def assert_gone(value: str, what: str) -> None:
    text = SENTENCE.format(what=what, value=value)
    out = REDACTOR._text(text, collections.Counter(), [], "test")
    assert value not in out, out
    assert out == SENTENCE.format(what=what, value=f"<{what}>"), out


@given(st.emails())
def test_generated_emails(email: str) -> None:
    assert_gone(email, "email")


REGIONS = ("US", "GB", "DE", "FR", "IN", "BR", "JP", "AU")
FORMATS = (phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164)


@st.composite
def phone_numbers(draw: st.DrawFn) -> str:
    """A valid number of one of :data:`REGIONS`: its example number with other last digits, formatted for people."""
    region = draw(st.sampled_from(REGIONS))
    kind = draw(st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]))
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None
    national = str(example.national_number)
    tail = draw(st.text("0123456789", min_size=3, max_size=3))
    number = phonenumbers.parse(f"+{example.country_code}{national[:-3]}{tail}")
    if not phonenumbers.is_valid_number(number):
        number = example
    return phonenumbers.format_number(number, draw(st.sampled_from(FORMATS)))


@given(phone_numbers())
@settings(max_examples=200)
def test_generated_phone_numbers_in_several_regions(number: str) -> None:
    assert_gone(number, "phone")


@given(st.sampled_from(["4", "51", "55", "34", "37", "6011", "35"]), st.integers(min_value=0), st.sampled_from(" -"))
def test_generated_card_numbers(prefix: str, body: int, separator: str) -> None:
    length = 15 if prefix in ("34", "37") else 16
    partial = (prefix + str(body).zfill(length))[: length - 1]
    digits = partial + luhn.calc_check_digit(partial)
    grouped = separator.join(digits[i : i + 4] for i in range(0, length, 4))
    for written in (digits, grouped):
        assert_gone(written, "credit_card")


#: Countries whose BBAN has no national check digit of its own: (letters, digits) of their BBAN.
BBANS = {"DE": (0, 18), "GB": (4, 14), "NL": (4, 10), "AT": (0, 16), "CH": (0, 17), "IE": (4, 14), "DK": (0, 14)}


@st.composite
def ibans(draw: st.DrawFn) -> str:
    """A valid IBAN (mod-97 check digits computed), compact or in groups of four."""
    country = draw(st.sampled_from(sorted(BBANS)))
    letters, numbers = BBANS[country]
    bban = draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=letters, max_size=letters))
    bban += draw(st.text("0123456789", min_size=numbers, max_size=numbers))
    compact = country + iban.calc_check_digits(country + "00" + bban) + bban
    assert iban.is_valid(compact)
    return compact if draw(st.booleans()) else iban.format(compact)


@given(ibans())
def test_generated_ibans(value: str) -> None:
    assert_gone(value, "iban")
