"""The personal-data guard of contract §6 (version 1.1).

Every string of an event, envelope attributes and `data` fields alike (identifiers, pseudonyms and
free text, also inside a correction's replacement `data`), is rejected with `personal_data` when it
is, or contains as a token, a BSN, an IBAN, an e-mail address or a Dutch phone number. The
validators are python-stdnum's (`stdnum.nl.bsn`, `stdnum.iban`) and phonenumbers'; the regular
expressions here only find the candidates to hand to them.

Tokens. A token is a maximal run of letters and digits; everything else (white space,
punctuation, `_`) separates tokens. So `claim-0612345678`, `C_111222333` and
`C-NL91ABNA0417164300` contain a phone number, a BSN and an IBAN, while `IMG111222333` (one token)
contains none. A number may be written over several tokens: digit groups joined by one separator
each (`1112.22.333`, `111 222 333`, `111-22-2333`, `06 12 34 56 78`, `(050) 123 45 67`,
`+31 (0)6 12345678`). Every run of consecutive groups of such a number is tried, so a BSN after
another number (`dossier 12 111222333`) is found, but a digit group is never cut: the last nine
digits of the BAG id `0014200000000001` are no token. An IBAN is one token, or groups of at most
four letters and digits after a space, dash or dot (`NL91 ABNA 0417 1643 00`).

The ledger's own formats. Strings that are exactly the format of the attribute that holds them
(a UUID in `id`, `correlationid`, `causationid`, `corrects`, `retracts`; a BAG id in `subject`,
`pand_id`, `verblijfsobject_id`; a timestamp in `time`; a W3C traceparent, random hex, in
`traceparent`) are skipped. Inside other strings, UUIDs,
ISO and Dutch dates with an optional time, times (`12:30`) and amounts marked as such (`€ 1.234,56`,
`123456 cent`, `12 euro`) are blanked before the number checks, so their digits never join a
number. BAG ids (16 digits), postcodes (`9712AB`: four digits in a token with letters) and the
catalogue's identifiers need nothing: their digit groups are never nine to fourteen digits long.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberType
from stdnum import iban as stdnum_iban
from stdnum import numdb
from stdnum.nl import bsn as stdnum_bsn

from domain.envelope import TRACEPARENT_FIELDS
from domain.results import PERSONAL_DATA, Rejection

BSN = "a BSN (nine digits that pass the eleven-test)"
IBAN = "an IBAN"
EMAIL = "an e-mail address"
PHONE = "a Dutch phone number"

_UUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_uuid = re.compile(_UUID)
_bag_id = re.compile(r"[0-9]{4}(?:20|10|01)[0-9]{10}")
_timestamp = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
# A W3C traceparent (version 00's fields; random hex, whose digit runs are no number).
_traceparent = re.compile(TRACEPARENT_FIELDS)
# Attributes whose value, when it is exactly this format, cannot hold personal data.
_FORMATTED: dict[str | int, re.Pattern[str]] = {
    "id": _uuid,
    "correlationid": _uuid,
    "causationid": _uuid,
    "corrects": _uuid,
    "retracts": _uuid,
    "subject": _bag_id,
    "pand_id": _bag_id,
    "verblijfsobject_id": _bag_id,
    "time": _timestamp,
    "recordedtime": _timestamp,
    "traceparent": _traceparent,
}

# Whether a string can hold personal data at all, in one search over all of an event's strings
# (joined by newlines, which no pattern here crosses; an `@` is looked for separately): two
# digits that start nine digits, each at most three separator characters from the next; or two
# digits after two letters, followed by at least eleven more IBAN characters.
_SUSPECT = re.compile(r"[0-9]{2}(?:(?:[ .()/+-]{0,3}[0-9]){7}|(?<=[A-Za-z]{2}[0-9]{2})(?:[ .-]?[A-Za-z0-9]){11})")
# A local part of RFC 5322 `atext` and dots, and a domain name with at least two labels.
_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# An IBAN's first token (two letters and two check digits at the start of a token, and the rest of
# that token), and the groups that may follow it.
_IBAN_HEAD = re.compile(r"(?<![^\W_])[A-Za-z]{2}[0-9]{2}[A-Za-z0-9]*(?![^\W_])")
_IBAN_GROUP = re.compile(r"[ .-]([A-Za-z0-9]{1,4})(?![^\W_])")
_IBAN_REGISTRY = numdb.get("iban")  # the country formats stdnum.iban validates against
# A number: digit groups, the first at the start of a token, joined by one separator each; a
# bracket or a slash joins groups too (`(050) 123 45 67`, `+31 (0)6 …`, `050/1234567`), and a `+`
# may lead.
_NUMBER = re.compile(r"(?<![^\W_])\+?[0-9]+(?:(?:[ .\-/]|\) ?| ?\()[0-9]+)*+")
_GROUP = re.compile(r"[0-9]+")
_BSN_SEPARATORS = frozenset(" .-")
_LEDGER_FORMATS = re.compile(
    "|".join(
        (
            _UUID,
            # dates, ISO (2021-03-04) or Dutch (4-3-2021, 04/03/2021, 04.03.2021), with an optional time
            r"(?<![0-9])(?:(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
            r"|(?:0?[1-9]|[12][0-9]|3[01])([-/.])(?:0?[1-9]|1[0-2])\1(?:19|20)[0-9]{2})(?![0-9])"
            r"(?:[Tt ](?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.,][0-9]+)?)?"
            r"(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?(?![0-9]))?",
            # times
            r"(?<![0-9])(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.,][0-9]+)?)?(?![0-9])",
            # amounts marked as such
            r"(?:€|\bEUR)\s?[0-9][0-9.]*(?:,(?:[0-9]{1,2}|-{1,2}))?",
            r"(?<![^\W_])[0-9][0-9.]*(?:,[0-9]{1,2})?\s?(?:euro|eurocent|cent|EUR)(?![^\W_])",
        )
    )
)
# Lines of persons; not the organisations' numbers (0800, 0900, 0906/0909, 088).
_PERSONAL_PHONE_TYPES = frozenset(
    {
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.VOIP,
        PhoneNumberType.PERSONAL_NUMBER,
        PhoneNumberType.PAGER,
    }
)


def is_bsn(digits: str) -> bool:
    """Nine digits that python-stdnum accepts as a BSN (the eleven-test; not all zeros)."""
    return len(digits) == 9 and digits.isdigit() and stdnum_bsn.is_valid(digits)


def is_dutch_phone(national: str) -> bool:
    """A ten-digit national number (`0…`) that phonenumbers knows as a Dutch line of a person."""
    if len(national) != 10 or national[0] != "0" or national[1] == "0" or not national.isdigit():
        return False
    try:
        number = phonenumbers.parse(national, "NL")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in _PERSONAL_PHONE_TYPES


def _national(digits: str, plus: bool) -> str | None:
    """The national form of a phone number candidate written in national, +31 or 0031 form."""
    if plus:
        if not digits.startswith("31"):
            return None
        rest = digits[2:]
    elif digits.startswith("0031"):
        rest = digits[4:]
    else:
        return digits if len(digits) == 10 and digits[0] == "0" else None
    if len(rest) == 10 and rest[0] == "0":  # +31 (0)6 …
        return rest
    return "0" + rest if len(rest) == 9 and rest[0] != "0" else None


def _number_problem(number: str) -> str | None:
    """A phone number or BSN in some run of consecutive digit groups of `number`, or None."""
    plus = number.startswith("+")
    groups = [(m.group(), m.start(), m.end()) for m in _GROUP.finditer(number)]
    for i, (first, _, _) in enumerate(groups):
        if len(first) < 2:
            continue
        digits = ""
        bsn_form = True  # BSN separators are one space, dot or dash, between groups of 2+ digits
        for j in range(i, len(groups)):
            group, start, _ = groups[j]
            if j > i:
                separator = number[groups[j - 1][2] : start]
                bsn_form = bsn_form and separator in _BSN_SEPARATORS and len(group) >= 2
            digits += group
            if len(digits) > 14:
                break
            if len(digits) >= 10:
                national = _national(digits, plus and i == 0)
                if national is not None and is_dutch_phone(national):
                    return PHONE
            elif len(digits) == 9 and bsn_form and not (plus and i == 0) and is_bsn(digits):
                return BSN
    return None


@functools.cache
def _iban_length(country: str) -> int | None:
    """How long the country's IBANs are by python-stdnum's registry; None if it has none."""
    props = _IBAN_REGISTRY.info(country + "00")[0][1]
    bban = props.get("bban") if props else None
    return 4 + sum(int(n) for n in re.findall(r"[0-9]+", bban)) if bban else None


def _has_iban(text: str) -> bool:
    for head in _IBAN_HEAD.finditer(text):
        compact = head.group()
        length = _iban_length(compact[:2].upper())
        if length is None or len(compact) not in (4, length):
            continue
        at = head.end()  # grouped: NL91 ABNA 0417 1643 00
        while len(compact) < length and (group := _IBAN_GROUP.match(text, at)) is not None:
            compact += group.group(1)
            at = group.end()
            if len(group.group(1)) < 4:
                break
        if len(compact) == length and stdnum_iban.is_valid(compact):
            return True
    return False


def string_problem(text: str) -> str | None:
    """The kind of personal data `text` is or contains as a token (a BSN, an IBAN, …), or None."""
    if "@" in text and _EMAIL.search(text):
        return EMAIL
    if not _SUSPECT.search(text):
        return None
    text = _LEDGER_FORMATS.sub(" ", text)
    if _has_iban(text):
        return IBAN
    for match in _NUMBER.finditer(text):
        number = match.group()
        if len(number) < 9:
            continue
        end = match.end()
        if end < len(text) and text[end].isalnum():
            number = number.rstrip("0123456789")  # the last group belongs to a token with letters
        problem = _number_problem(number)
        if problem:
            return problem
    return None


def _collect(value: dict[str, Any] | list[Any], out: list[str]) -> None:
    """Every string inside `value` but those that are exactly the format of their attribute."""
    for key, inner in value.items() if type(value) is dict else enumerate(value):
        kind = type(inner)
        if kind is str:
            own = _FORMATTED.get(key)
            if own is None or own.fullmatch(inner) is None:
                out.append(inner)
        elif kind is dict or kind is list:
            _collect(inner, out)


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(JSON path, string) for every string inside `value`."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, inner in items:
        inner_path = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"
        if isinstance(inner, str):
            yield inner_path, inner
        elif isinstance(inner, dict | list):
            yield from _walk(inner, inner_path)


def check_personal_data(event: dict[str, Any]) -> None:
    """Raise `Rejection(personal_data)` at the first string that is or contains personal data.

    The message says which kind of data and where, never the value itself.
    """
    strings: list[str] = []
    _collect(event, strings)
    text = "\n".join(strings)
    if "@" not in text and not _SUSPECT.search(text):
        return
    for path, value in _walk(event, "$"):
        problem = string_problem(value)
        if problem:
            raise Rejection(PERSONAL_DATA, f"{path[2:]} is or contains {problem}: personal data (§6)", path)
