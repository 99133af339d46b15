"""Masking secrets wherever a value may be printed, dumped or logged.

Settings hold secrets as :class:`pydantic.SecretStr` (dumped as :data:`SECRET_MASK`). Two things
escape that: a password written into a URL (``https://user:pass@host/``), which :func:`mask_userinfo`
hides in any text, and settings that were never validated by their callback's model, where
:func:`mask_settings` masks every value whose key names a secret.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["SECRET_KEY", "SECRET_MASK", "mask_settings", "mask_userinfo", "mask_userinfo_in"]

#: What a secret is shown as (pydantic's own mask for ``SecretStr``).
SECRET_MASK = "**********"  # noqa: S105 - the mask, not a password
#: Setting names that hold secrets or URLs that may carry one.
SECRET_KEY = re.compile(r"url|uri|dsn|token|secret|passw|pwd|key|auth|credential|header|cookie", re.IGNORECASE)
#: ``scheme://user:password@`` (or ``scheme://token@``): the userinfo of a URL inside any text.
_USERINFO = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@\s]+)@")


def mask_userinfo(text: str) -> str:
    """``text`` with every URL's password (or lone user token) replaced: ``https://user:***@host/``."""

    def one(match: re.Match[str]) -> str:
        user, sep, _ = match.group("userinfo").partition(":")
        shown = f"{user}:***" if sep else "***"
        return f"{match.group('head')}{shown}@"

    return _USERINFO.sub(one, text)


def mask_settings(value: Any, key: str = "") -> Any:
    """A copy of raw settings with each value under a secret-looking key masked, and URL passwords hidden."""
    if isinstance(value, dict):
        return {k: mask_settings(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_settings(v, key) for v in value]
    if isinstance(value, str):
        return SECRET_MASK if key and SECRET_KEY.search(key) else mask_userinfo(value)
    return value


def mask_userinfo_in(value: Any) -> Any:
    """A copy of plain data (dicts, lists, strings) with :func:`mask_userinfo` applied to every string."""
    if isinstance(value, dict):
        return {k: mask_userinfo_in(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_userinfo_in(v) for v in value]
    return mask_userinfo(value) if isinstance(value, str) else value
