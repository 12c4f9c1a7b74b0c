"""Finish one address: order its events, give them ids and recorded times, encode them.

Recorded times: each organisation registers its own events in the order they happened,
with an organisation-specific lag (`params.LAG_*`), so an event is never recorded before an
event of the same organisation it depends on. Events recorded after the cut-off are left out.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from orjson import OPT_APPEND_NEWLINE, dumps

from ledger.generator import catalogue as T
from ledger.generator import params as P
from ledger.generator.address import Address
from ledger.generator.context import Ctx
from ledger.generator.corrections import amend
from ledger.generator.timeline import DAY


def _lag_table(rows: tuple[tuple[float, float, float], ...]) -> list[tuple[int, int]]:
    """The lag distribution as 64 equal-probability buckets `(start, width)` in microseconds."""
    total = sum(s for s, _, _ in rows)

    def inverse(u: float) -> float:  # days; the rows are a mixture of uniform ranges
        acc = 0.0
        for share, lo, hi in rows:
            p = share / total
            if u <= acc + p:
                return lo + (hi - lo) * (u - acc) / p
            acc += p
        return rows[-1][2]

    out = []
    for k in range(LAG_BUCKETS):
        lo, hi = inverse(k / LAG_BUCKETS), inverse((k + 1) / LAG_BUCKETS)
        out.append((int(lo * DAY), int((hi - lo) * DAY)))
    return out


LAG_BUCKETS = 64
LAGS = (_lag_table(P.LAG_IMG), _lag_table(P.LAG_NCG), _lag_table(P.LAG_PORTAL))
_BY_TIME = itemgetter(0)
_VARIANT = {c: "89ab"[i % 4] for i, c in enumerate("0123456789abcdef")}


def finish(ctx: Ctx, a: Address) -> None:
    """Append the address's events, encoded, to the run's output buffers."""
    end = ctx.end
    rows: list[list[Any]] = [[*e, None] for e in a.events if e[0] < end]
    if not rows:
        return
    rows.sort(key=_BY_TIME)
    bits = ctx.rng.getrandbits
    variant = _VARIANT
    for row in rows:
        h = f"{bits(128):032x}"
        row[6] = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant[h[16]]}{h[17:20]}-{h[20:]}"
    tr = a.traj
    extra = amend(ctx, rows, tr.ncg_may_emit if tr is not None else (lambda _t: False))
    if extra:
        for row in extra:
            row[6] = ctx.uuid()
        rows.extend(extra)
        rows.sort(key=_BY_TIME)
    r = ctx.r
    cut = ctx.cut
    fmt = ctx.fmt
    day_t, hms, milli, micro = fmt.day_t, fmt.hms, fmt.milli, fmt.micro
    last = [0, 0, 0]
    subject = a.subject
    buf = ctx.buf
    starts = ctx.starts
    keys = ctx.keys
    types, sources, orgs = T.TYPES, T.SOURCES, T.ORGS
    lags = LAGS
    for t, org, code, data, corr, actor, event_id in rows:
        u = r() * LAG_BUCKETS
        k = int(u)
        lo, span = lags[org][k]
        rt = t + lo + int((u - k) * span)
        if rt < last[org]:
            rt = last[org]
        last[org] = rt
        if rt >= cut:
            continue
        rest = t % DAY
        rrest = rt % DAY
        ev: dict[str, Any] = {
            "specversion": "1.0",
            "id": event_id,
            "source": sources[org],
            "type": types[code],
            "subject": subject,
            "time": day_t[t // DAY] + hms[rest // 1_000_000] + milli[rest // 1000 % 1000] + micro[rest % 1000],
            "org": orgs[org],
        }
        if actor is not None:
            ev["actor"] = actor
        if corr is not None:
            ev["correlationid"] = corr
        ev["data"] = data
        ev["recordedtime"] = (
            day_t[rt // DAY] + hms[rrest // 1_000_000] + milli[rrest // 1000 % 1000] + micro[rrest % 1000]
        )
        starts.append(len(buf))
        buf += dumps(ev, option=OPT_APPEND_NEWLINE)
        keys.append(float(rt))
