"""A fuzz run of POST /events (hypothesis, 5,000+ requests in process): never a 5xx, every refusal a
problem details answer, nothing invalid accepted, nothing of another address in any answer."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.http import create_app
from tests.factories import claim_filed, subject
from tests.ledger.identity_support import Client, Keys, client_for, open_test_ledger

REQUESTS = 5_000
SECRET = subject(777_777)  # an address that is in the ledger and must never show in an answer
REQUIRED = ("specversion", "id", "source", "type", "subject", "time", "org", "data")
LEDGER_SET = ("recordedtime", "streamposition", "prevhash", "hash")
CONTENT_TYPES = (
    "application/cloudevents+json",
    "application/cloudevents-batch+json",
    "application/json",
    "text/plain",
    "application/cloudevents+json; charset=latin-1",
    "",
    "application/cloudevents+json;;",
    "\x7f",
)
_addresses = itertools.count(1)
sent = {"requests": 0}


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()  # also integers beyond 64 bits (which orjson refuses)


def fresh_event() -> dict[str, Any]:
    return claim_filed(subject(next(_addresses)), f"f{uuid.uuid4().hex[:12]}")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def invalid_event(draw: st.DrawFn, binary: bool = False) -> dict[str, Any]:
    """A claim that one mutation makes certainly invalid (in binary mode every attribute is text: no retyping)."""
    event = fresh_event()
    kinds = ["drop", "subject", "ledger", "unknown-data", "org", "version", "id"] + ([] if binary else ["retype"])
    kind = draw(st.sampled_from(kinds))
    if kind == "drop":
        del event[draw(st.sampled_from(REQUIRED))]
    elif kind == "retype":
        event[draw(st.sampled_from(REQUIRED[:-1]))] = draw(st.none() | st.integers() | st.lists(st.integers()))
    elif kind == "subject":
        event["subject"] = draw(st.text(max_size=20).filter(lambda s: not (len(s) == 16 and s.isdigit())))
    elif kind == "ledger":
        event[draw(st.sampled_from(LEDGER_SET))] = draw(json_values.filter(lambda v: v is not None))
    elif kind == "unknown-data":
        # null is no value: an optional field that is null is left out (decisions, Write side 5)
        event["data"]["zz_unknown"] = draw(json_values.filter(lambda v: v is not None))
    elif kind == "org":
        event["org"] = draw(st.text(max_size=8).filter(lambda s: s not in ("IMG", "NCG", "PORTAL")))
    elif kind == "version":
        event["specversion"] = draw(st.text(max_size=5).filter(lambda s: s != "1.0"))
    else:
        event["id"] = "not-a-uuid-" + draw(st.text(max_size=20))
    return event


# (JSON text or raw bytes, whether it may be accepted)
element = st.one_of(
    st.builds(lambda: (orjson.dumps(fresh_event()), True)),
    invalid_event().map(lambda e: (dumps(e), False)),
    json_values.map(lambda v: (dumps(v), False)),
    st.binary(max_size=200).map(lambda b: (b, None)),  # may be no element, or several
)
tokens = st.sampled_from(["IMG", "NCG", "PORTAL", "OMBUDSMAN", "EVALUATOR", None, "garbage"])


@st.composite
def requests(draw: st.DrawFn) -> tuple[str | None, dict[str, str], bytes, list[bool] | None]:
    mode = draw(st.sampled_from(["structured", "batch", "binary", "other"]))
    if mode == "structured":
        body, ok = draw(element)
        return draw(tokens), {"content-type": "application/cloudevents+json"}, body, [bool(ok)]
    if mode == "batch":
        items = draw(st.lists(element, max_size=6))
        if any(ok is None for _, ok in items):
            # Raw bytes may make no element or several, so results no longer line up with the
            # items: leave out the valid events, and then nothing at all may be accepted.
            items = [item for item in items if item[1] is not True]
        body = b"[" + b",".join(text for text, _ in items) + b"]"
        known = None if any(ok is None for _, ok in items) else [bool(ok) for _, ok in items]
        return draw(tokens), {"content-type": "application/cloudevents-batch+json"}, body, known
    if mode == "binary":
        event = draw(
            st.one_of(
                st.builds(fresh_event).map(lambda e: (e, True)), invalid_event(binary=True).map(lambda e: (e, False))
            )
        )
        attributes, ok = event
        data = attributes.pop("data", None)
        headers = {
            f"ce-{k}": str(v)
            for k, v in attributes.items()
            if str(v).isascii() and str(v).isprintable() and str(v) == str(v).strip()
        }
        if len(headers) != len(attributes):
            ok = True  # an attribute that cannot be a header was left out: the event may well be valid now
        if draw(st.booleans()):
            headers["content-type"] = "application/json"
        body = dumps(data) if data is not None and draw(st.booleans()) else draw(st.binary(max_size=50))
        ok = ok and data is not None and body == dumps(data)  # True: may be accepted, False: must not
        return draw(tokens), headers, body, [ok]
    content_type = draw(st.sampled_from(CONTENT_TYPES) | st.text(max_size=30).filter(str.isascii))
    headers = {"content-type": content_type} if content_type.isprintable() else {}
    extra = draw(st.dictionaries(st.sampled_from(["ce-id", "ce-", "ce-type", "x-any"]), st.text(max_size=10)))
    headers.update({k: v for k, v in extra.items() if v.isascii() and v.isprintable() and v == v.strip()})
    return draw(tokens), headers, draw(st.binary(max_size=300)), None  # any count of results, none accepted


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, dict[str, str]]]:
    keys = Keys(tmp_path_factory.mktemp("keys"))
    ledger = open_test_ledger(tmp_path_factory.mktemp("fuzz"))
    assert ledger.service.append([claim_filed(SECRET, "secret")], "IMG")[0].result == "accepted"
    issued = {role: keys.token(role) for role in ("IMG", "NCG", "PORTAL", "OMBUDSMAN", "EVALUATOR")}
    issued["garbage"] = "eyJhbGciOiJFZERTQSJ9.e30.AAAA"
    for client in client_for(create_app(ledger, limit=1, verifier=keys.verifier())):
        yield client, issued
    ledger.close()


def test_fuzz_post_events(setup: tuple[Client, dict[str, str]]) -> None:
    client, issued = setup

    @settings(
        max_examples=REQUESTS, deadline=None, database=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    @given(requests())
    def one(request: tuple[str | None, dict[str, str], bytes, list[bool] | None]) -> None:
        role, headers, body, acceptable = request
        token = issued.get(role) if role is not None else None
        response = client.post("/events", token, content=body, headers=headers)
        sent["requests"] += 1
        assert response.status_code < 500, response.text
        assert SECRET not in response.text
        if response.status_code != 200:
            assert response.headers["content-type"] == "application/problem+json", response.text
            problem = response.json()
            assert problem["status"] == response.status_code and problem["detail"]
            return
        assert role in ("IMG", "NCG", "PORTAL")
        results = response.json()
        if acceptable is None:
            acceptable = [False] * len(results)
        assert len(results) == len(acceptable)
        for result, ok in zip(results, acceptable, strict=True):
            assert result["result"] in ("accepted", "duplicate", "rejected")
            if not ok:
                assert result["result"] == "rejected", (body[:300], result)

    one()
    assert sent["requests"] >= REQUESTS
