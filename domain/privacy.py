"""The personal-data guard of contract §6."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from domain.results import PERSONAL_DATA, Rejection

_NINE_DIGIT_RUN = re.compile(r"(?<!\d)\d{9}(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Two letters, two check digits, 10-30 alphanumerics, optionally grouped by spaces.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,30}\b", re.IGNORECASE)
# Dutch numbers: 0 + 9 digits, or +31 / 0031 + 9 digits; spaces or dashes between digits; or an
# area code in brackets, (050) 123 45 67 / (0591) 12 34 56.
_PHONE = re.compile(
    r"(?<![\d+])(?:\+31|0031|0)(?:[ -]?\(?0?\)?)?(?:[ -]?\d){9}(?!\d)"
    r"|\(0(?:\d{2}\)(?:[ -]?\d){7}|\d{3}\)(?:[ -]?\d){6})(?!\d)"
)
# The ledger's own formats in free text: event ids (UUIDs) and dates with an optional time, in ISO
# and Dutch order. They are blanked out before the checks so that their digits never read as a BSN
# or a phone number (contract §6); BAG ids, postcodes and amounts already pass the checks.
_LEDGER_FORMATS = re.compile(
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"|(?<!\d)(?:(?:19|20)\d{2}-\d{2}-\d{2}|\d{1,2}-\d{1,2}-(?:19|20)\d{2})"
    r"(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})?)?(?!\d)"
)

FREE_TEXT_FIELDS = frozenset({"reason"})


def passes_eleven_test(digits: str) -> bool:
    """True when nine digits pass the BSN eleven-test (9·d1 + … + 2·d8 − d9 ≡ 0 mod 11)."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    return (total - int(digits[8])) % 11 == 0


def _iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def free_text_problem(text: str) -> str | None:
    """Why a free-text value looks like personal data, or None."""
    text = _LEDGER_FORMATS.sub(" ", text)
    for run in _NINE_DIGIT_RUN.findall(text):
        if passes_eleven_test(run):
            return "a nine-digit number that passes the eleven-test (BSN)"
    if _EMAIL.search(text):
        return "an e-mail address"
    for match in _IBAN.finditer(text):
        if _iban_valid(match.group(0)):
            return "an IBAN"
    if _PHONE.search(text):
        return "a Dutch phone number"
    return None


def _is_bsn(text: str) -> bool:
    return len(text) == 9 and text.isdigit() and passes_eleven_test(text)


def _walk(value: Any, path: str) -> Iterator[tuple[str, str, str]]:
    """Yield (path, field name, string) for every string inside `value`."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(inner, str):
                yield f"{path}.{key}", key, inner
            elif isinstance(inner, dict | list):
                yield from _walk(inner, f"{path}.{key}")
    elif isinstance(value, list):
        name = path.rsplit(".", 1)[-1]
        for index, inner in enumerate(value):
            if isinstance(inner, str):
                yield f"{path}[{index}]", name, inner
            elif isinstance(inner, dict | list):
                yield from _walk(inner, f"{path}[{index}]")


def check_personal_data(event: dict[str, Any]) -> None:
    """Raise `Rejection(personal_data)` when the event carries something like personal data.

    Identifiers and pseudonyms (every string in `data`, and `actor`) may not be a BSN;
    free-text fields may not contain a BSN, an IBAN, an e-mail address or a phone number.
    """
    actor = event.get("actor")
    if isinstance(actor, str) and _is_bsn(actor):
        raise Rejection(PERSONAL_DATA, "actor is a nine-digit number that passes the eleven-test (BSN)", "$.actor")
    for path, name, text in _walk(event.get("data"), "$.data"):
        if name in FREE_TEXT_FIELDS:
            problem = free_text_problem(text)
            if problem:
                raise Rejection(PERSONAL_DATA, f"{name} contains {problem}", path)
        elif _is_bsn(text):
            raise Rejection(
                PERSONAL_DATA,
                f"{name} is a nine-digit number that passes the eleven-test (BSN)",
                path,
            )
