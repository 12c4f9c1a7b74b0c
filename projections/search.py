"""Finding addresses: by postcode and house number (and letter/addition), as people ask.

`parse` checks the question (naming the parameter at fault); `ReadModel.find` answers it from
the projection store's index on the registered postcode and number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

POSTCODE = re.compile(r"^[1-9][0-9]{3} ?[A-Za-z]{2}$")
ADDITION = re.compile(r"^[A-Za-z0-9 -]{0,8}$")


class BadSearch(Exception):
    """A search that cannot be asked: `parameter` names the field at fault."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True, slots=True)
class Search:
    postcode: str  # 9711AB
    huisnummer: int
    addition: str | None  # huisletter and/or toevoeging, as typed


def parse_search(postcode: str | None, huisnummer: str | None, addition: str | None = None) -> Search:
    """The search a form or query string asks for; BadSearch naming the parameter otherwise."""
    postcode = (postcode or "").strip()
    if not POSTCODE.match(postcode):
        raise BadSearch("postcode", "postcode must be 4 digits (the first not 0) and 2 letters, e.g. 9711AB")
    number = (huisnummer or "").strip()
    if not number.isascii() or not number.isdigit() or not 1 <= int(number) <= 99999:
        raise BadSearch("huisnummer", "huisnummer must be a whole number from 1 to 99999")
    extra = (addition or "").strip()
    if not ADDITION.match(extra):
        raise BadSearch("toevoeging", "toevoeging must be a letter and/or up to 4 letters or digits, e.g. A or 2")
    return Search(postcode.replace(" ", "").upper(), int(number), extra.replace("-", "") or None)
