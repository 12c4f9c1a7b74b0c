"""One address: its BAG identity, owner pseudonym and the events generated for it."""

from __future__ import annotations

from typing import Any

from ledger.generator import catalogue as T
from ledger.generator.context import Ctx, Table
from ledger.generator.params import MUNICIPALITIES, OWNER_TYPES

# one event while an address is simulated: (time, org, type code, data, correlationid, actor)
Event = tuple[int, int, int, dict[str, Any], str | None, str | None]

_MUNI = Table([(m, m[1]) for m in MUNICIPALITIES])
_OWNER = Table(OWNER_TYPES)
_LETTERS = "ABCDEGHJKLMNPRTVWXZ"
_PROG_NORM = sum(m[1] * m[4] for m in MUNICIPALITIES)
_DAMAGE_NORM = sum(m[1] * m[5] for m in MUNICIPALITIES)


def pseudonym(prefix: str, bits: int) -> str:
    """`prefix-` and ten hex digits; an `x` before them when all ten are decimal.

    Ten decimal digits after a dash are a token that may read as a Dutch phone number
    (`bewoner-0612345678`), which the personal-data guard rejects (contract §6).
    """
    digits = f"{bits:010x}"
    return f"{prefix}-x{digits}" if digits.isdigit() else f"{prefix}-{digits}"


class Address:
    """Identity and working state of one simulated address."""

    __slots__ = (
        "subject",
        "prefix",
        "postcode_range",
        "codes",
        "prog_factor",
        "damage_factor",
        "owner_ref",
        "party_ref",
        "owner_type",
        "number",
        "events",
        "traj",
        "claims",
    )

    def __init__(self, ctx: Ctx, index: int) -> None:
        r = ctx.r
        m = _MUNI.pick(r())
        self.prefix = m[0]
        self.postcode_range = m[2]
        self.codes = m[3]
        self.prog_factor = m[4] / _PROG_NORM
        self.damage_factor = m[5] / _DAMAGE_NORM
        # unique: 37 numbers per address index, 5 random bits within them
        self.number = 1_000_000 + index * 37 + int(r() * 32)
        self.subject = f"{self.prefix}20{self.number:010d}"
        self.owner_type = _OWNER.pick(r())
        self.owner_ref = pseudonym("eigenaar", ctx.rng.getrandbits(40))
        self.party_ref = pseudonym("bewoner", ctx.rng.getrandbits(40))
        self.events: list[Event] = []
        self.traj: Any = None
        self.claims: list[Any] = []

    def emit(
        self, t: int, org: int, code: int, data: dict[str, Any], corr: str | None = None, actor: str | None = None
    ) -> None:
        self.events.append((t, org, code, data, corr, actor))

    def registration(self, ctx: Ctx, t: int) -> dict[str, Any]:
        """`AddressRegistered` data as known at time `t`."""
        r = ctx.r
        lo, hi = self.postcode_range
        code = self.codes[0][1]
        for since, c in self.codes:
            if t >= since * 86_400_000_000:
                code = c
        data: dict[str, Any] = {
            "postcode": f"{lo + int(r() * (hi - lo + 1))}{_LETTERS[int(r() * 19)]}{_LETTERS[int(r() * 19)]}",
            "huisnummer": 1 + int(r() * r() * 240),
            "gemeentecode": code,
        }
        u = r()
        if u < 0.06:
            data["huisletter"] = "ABC"[int(r() * 3)]
        elif u < 0.09:
            data["toevoeging"] = ("1", "2", "A", "BIS", "2H")[int(r() * 5)]
        if r() < 0.9:
            data["pand_id"] = f"{self.prefix}10{self.number + 7_000_000:010d}"
            data["verblijfsobject_id"] = f"{self.prefix}01{self.number + 3_000_000:010d}"
        data["owner_ref"] = self.owner_ref
        data["owner_type"] = self.owner_type
        return data

    def register(self, ctx: Ctx) -> None:
        """Add `AddressRegistered` at the address's first activity (IMG or NCG)."""
        if not self.events:
            return
        first = min(self.events, key=lambda e: e[0])
        if first[1] == T.NCG:
            t = first[0] + 1_000_000 + int(ctx.r() * 600_000_000)
            org = T.NCG
        else:
            t = first[0] - 1_000_000 - int(ctx.r() * 3_600_000_000)
            org = T.IMG
        self.emit(t, org, T.ADDRESS_REGISTERED, self.registration(ctx, t), None, _REGISTRAR[org])


_REGISTRAR = ("img-schadesysteem", "ncg-versterkingssysteem", None)
