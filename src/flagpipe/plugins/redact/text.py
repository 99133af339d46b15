"""Detectors of addresses and secrets written in text: emails, IP addresses, URL credentials, API keys."""

from __future__ import annotations

import collections
import ipaddress
import math
import re
from typing import TYPE_CHECKING, Any

from flagpipe.core.detectors import Detector

if TYPE_CHECKING:
    from collections.abc import Mapping

_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"

#: An address ``local@domain.tld`` (RFC 5322 dot-atom local part, DNS labels).
EMAIL_PATTERN = (
    rf"(?<![.{_ATEXT}])[{_ATEXT}]+(?:\.[{_ATEXT}]+)*"
    rf"@(?:{_LABEL}\.)+[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?(?![\w-])"
)

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
#: IPv4 dotted quads and IPv6 addresses (checked by :mod:`ipaddress`), not part of a longer dotted run.
IP_PATTERN = (
    rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.\d)"
    r"|(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:.]?[\w])"
)

#: ``scheme://user:password@``; the check narrows the span to ``user:password``.
URL_CREDENTIALS_PATTERN = r"(?i:[a-z][a-z0-9+.-]*)://[^\s/?#@:]*:[^\s/?#@]+@"

#: API keys and tokens recognised by their provider's prefix, JWTs and private key blocks.
PROVIDER_TOKENS = (
    r"A[KS]IA[0-9A-Z]{16}",  # AWS access key ids
    r"gh[pousr]_[A-Za-z0-9]{36,255}",  # GitHub tokens
    r"github_pat_[A-Za-z0-9_]{22,255}",
    r"glpat-[A-Za-z0-9_-]{20,}",  # GitLab
    r"xox[abposr]-[A-Za-z0-9-]{10,}",  # Slack
    r"sk-(?:proj-|ant-|live-)?[A-Za-z0-9_-]{20,}",  # OpenAI, Anthropic and other sk- keys
    r"[spr]k_(?:live|test)_[A-Za-z0-9]{16,}",  # Stripe
    r"AIza[0-9A-Za-z_-]{35}",  # Google API keys
    r"hf_[A-Za-z0-9]{30,}",  # Hugging Face
    r"npm_[A-Za-z0-9]{36}",  # npm
    r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}",  # JWTs
)
_PROVIDER = "|".join(PROVIDER_TOKENS)
_PRIVATE_KEY = r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]{1,16384}?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----"
_TOKEN_CHARS = r"A-Za-z0-9+/=_-"  # noqa: S105 - the characters of a token, not a password

#: Default options of ``secret``: the least Shannon entropy (bits per character) and length of an unprefixed token.
DEFAULT_ENTROPY = 4.2
DEFAULT_MIN_LENGTH = 32


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``'s own character frequencies."""
    length = len(text)
    return -sum(n / length * math.log2(n / length) for n in collections.Counter(text).values())


def ip_check(candidate: str) -> bool:
    """True when ``candidate`` is an IPv4 or IPv6 address with at least one decimal digit (not ``a::b`` in code)."""
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return any(c.isdigit() for c in candidate)


def url_credentials_check(candidate: str) -> tuple[int, int]:
    """The ``user:password`` between ``://`` and ``@``."""
    return candidate.index("://") + 3, len(candidate) - 1


def _secret_detector(entropy: float, min_length: int) -> Detector:
    provider = re.compile(rf"(?:{_PROVIDER})\Z")
    pattern = (
        rf"{_PRIVATE_KEY}|(?<![\w-])(?:{_PROVIDER})(?![\w-])"
        rf"|(?<![{_TOKEN_CHARS}])[{_TOKEN_CHARS}]{{{min_length},}}(?![{_TOKEN_CHARS}])"
    )

    def check(candidate: str) -> bool:
        if candidate.startswith("-----BEGIN") or provider.match(candidate):
            return True
        has_digit = any(c.isdigit() for c in candidate)
        has_letter = any(c.isalpha() for c in candidate)
        return has_digit and has_letter and shannon_entropy(candidate) >= entropy

    def configure(options: Mapping[str, Any]) -> Detector:
        unknown = sorted(set(options) - {"entropy", "min_length"})
        if unknown:
            raise ValueError(f"unknown option(s) of secret: {', '.join(unknown)}; allowed: entropy, min_length")
        wanted_entropy = float(options.get("entropy", entropy))
        wanted_length = int(options.get("min_length", min_length))
        if not 0 < wanted_entropy <= 8 or wanted_length < 8:
            raise ValueError("secret needs 0 < entropy <= 8 (bits per character) and min_length >= 8")
        return _secret_detector(wanted_entropy, wanted_length)

    return Detector(
        "secret",
        pattern=pattern,
        check=check,
        configure=configure,
        description=f"API keys and tokens by provider prefix, JWTs, private keys, and tokens of {min_length}+ "
        f"characters with at least {entropy:g} bits of entropy per character",
    )


EMAIL = Detector("email", pattern=EMAIL_PATTERN, requires=("@",), description="email addresses")
IP = Detector("ip", pattern=IP_PATTERN, check=ip_check, requires=(".", ":"), description="IPv4 and IPv6 addresses")
URL_CREDENTIALS = Detector(
    "url_credentials",
    pattern=URL_CREDENTIALS_PATTERN,
    check=url_credentials_check,
    requires=("://",),
    description="user:password written into a URL",
)
SECRET = _secret_detector(DEFAULT_ENTROPY, DEFAULT_MIN_LENGTH)

__all__ = ["EMAIL", "IP", "SECRET", "URL_CREDENTIALS", "ip_check", "shannon_entropy", "url_credentials_check"]
