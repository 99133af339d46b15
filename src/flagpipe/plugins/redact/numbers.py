"""Detectors of numbers with a checksum or a numbering plan: credit cards, IBANs, phone numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagpipe.core.detectors import Detector

if TYPE_CHECKING:
    from collections.abc import Mapping

#: First digits of card numbers: Mastercard 2, 5; Amex, Diners, JCB 3; Visa 4; Discover, Maestro, UnionPay 6.
CARD_FIRST_DIGITS = frozenset("23456")

#: 13 to 19 digits, grouped by single spaces or hyphens, not continuing a run of grouped digits.
CARD_PATTERN = r"(?<![\d-])(?<!\d[ -])\d(?:[ -]?\d){12,18}(?![\d])(?!-\d)"

#: Two capital letters, two check digits, then 11 to 30 letters or digits, optionally in groups.
IBAN_PATTERN = r"(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?!\w)"

#: A candidate phone number: digits with the separators people write, optionally international.
PHONE_PATTERN = r"(?<![\w+./-])(?:\+|00)?\(?\d[\d \t().\-/]{5,24}\d(?!\w|[.\-/]\d)"

#: Fewer digits than this are not worth asking libphonenumber about (no plan has shorter full numbers).
MIN_PHONE_DIGITS = 6

#: The default region for phone numbers written without a country code.
DEFAULT_PHONE_REGION = "US"


def card_check(candidate: str) -> bool:
    """True for 13-19 digits with a known first digit, one kind of separator and a valid Luhn check digit."""
    from stdnum import luhn

    digits = candidate.replace(" ", "").replace("-", "")
    if " " in candidate and "-" in candidate:
        return False
    return 13 <= len(digits) <= 19 and digits[0] in CARD_FIRST_DIGITS and luhn.is_valid(digits)


def iban_check(candidate: str) -> bool | tuple[int, int]:
    """The longest prefix of ``candidate``, cut at a space, that is an IBAN with a valid checksum."""
    from stdnum import iban

    ends = [len(candidate)] + [i for i in range(len(candidate) - 1, 14, -1) if candidate[i] == " "]
    for end in ends:
        if iban.is_valid(candidate[:end]):
            return True if end == len(candidate) else (0, end)
    return False


def _phone_detector(region: str) -> Detector:
    def check(candidate: str) -> bool | tuple[int, int]:
        if sum(c.isdigit() for c in candidate) < MIN_PHONE_DIGITS:
            return False
        import phonenumbers

        leniency = phonenumbers.Leniency.VALID
        for match in phonenumbers.PhoneNumberMatcher(candidate, region, leniency=leniency):
            return (match.start, match.end)
        return False

    def configure(options: Mapping[str, Any]) -> Detector:
        import phonenumbers  # here, when a config is loaded: a missing library is a config error

        unknown = sorted(set(options) - {"region"})
        if unknown:
            raise ValueError(f"unknown option(s) of phone: {', '.join(unknown)}; allowed: region")
        wanted = str(options.get("region", region)).upper()
        if wanted not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"phone region {wanted!r} is not a region code phonenumbers knows (such as US, GB, DE)")
        return _phone_detector(wanted)

    return Detector(
        "phone",
        pattern=PHONE_PATTERN,
        check=check,
        configure=configure,
        description=f"phone numbers valid by libphonenumber's numbering plans (default region {region})",
    )


def phone_detector(region: str = DEFAULT_PHONE_REGION) -> Detector:
    """The ``phone`` detector for numbers written without a country code in ``region`` (option ``region``)."""
    return _phone_detector(region)


def _needs_stdnum(detector_name: str) -> Any:
    def configure(options: Mapping[str, Any]) -> Detector:
        import stdnum  # noqa: F401 - here, when a config is loaded: a missing library is a config error

        if options:
            raise ValueError(f"detector {detector_name!r} takes no options")
        return CREDIT_CARD if detector_name == "credit_card" else IBAN

    return configure


CREDIT_CARD = Detector(
    "credit_card",
    pattern=CARD_PATTERN,
    check=card_check,
    configure=_needs_stdnum("credit_card"),
    description="card numbers of 13-19 digits, Luhn-checked",
)
IBAN = Detector(
    "iban",
    pattern=IBAN_PATTERN,
    check=iban_check,
    configure=_needs_stdnum("iban"),
    description="IBANs (ISO 13616) with a valid mod-97 checksum",
)

__all__ = ["CREDIT_CARD", "DEFAULT_PHONE_REGION", "IBAN", "card_check", "iban_check", "phone_detector"]
