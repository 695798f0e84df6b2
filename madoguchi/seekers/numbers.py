"""Job-seeker numbers (求職番号): five digits, a hyphen, eight digits."""

import re
import unicodedata

from django.utils.translation import gettext as _

from madoguchi.errors import BookingError

# Every dash a phone keyboard or an IME may produce, besides the ASCII hyphen-minus.
_DASHES = "-‐‑‒–—―−ー－ｰ─━﹣"
_SEPARATORS = re.compile(f"[\\s{re.escape(_DASHES)}]+")
_CANONICAL = re.compile(r"([0-9]{5})-([0-9]{8})")


def normalize_job_seeker_number(raw: str) -> str:
    """Return the canonical `NNNNN-NNNNNNNN` or raise `invalid_job_seeker_number`.

    Accepts full-width digits and dashes, spaces anywhere, and a missing hyphen.
    """
    text = unicodedata.normalize("NFKC", raw or "").strip()
    digits = _SEPARATORS.sub("", text)
    if not (digits.isascii() and digits.isdigit() and len(digits) == 13):
        raise BookingError(
            "invalid_job_seeker_number",
            _("A job-seeker number has 13 digits, like 01040-12345678."),
            field="job_seeker_number",
        )
    return f"{digits[:5]}-{digits[5:]}"


def office_code_of(number: str) -> str:
    """The registering office's code: the first five digits of a canonical number."""
    match = _CANONICAL.fullmatch(number)
    if not match:
        raise ValueError(f"not a canonical job-seeker number: {number!r}")
    return match.group(1)
