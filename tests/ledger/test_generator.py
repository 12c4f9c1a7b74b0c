"""The history generator: deterministic, valid publisher-form events, calibrated, importable."""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest

from domain.envelope import validate
from domain.privacy import check_personal_data
from domain.service import LedgerService
from ledger.bootstrap import Settings, open_ledger
from ledger.generator import generate
from ledger.generator.calibrate import measure
from ledger.generator.catalogue import NAMES
from ledger.generator.core import CHUNK_ADDRESSES

SMALL = 2_000
CALIBRATION = 20_000
UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
SUBJECT = re.compile(r"^\d{4}20\d{10}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
PSEUDONYM = re.compile(r"^[a-z0-9-]{1,64}$")
PUBLISHER = {"specversion", "id", "source", "type", "subject", "time", "org", "actor", "correlationid", "data"}
SOURCES = {
    "IMG": "urn:nl:img:schadesysteem",
    "NCG": "urn:nl:ncg:versterkingssysteem",
    "PORTAL": "urn:nl:portal:bewonersportaal",
}


@cache
def history(addresses: int, seed: int, until: date = date(2024, 12, 31)) -> bytes:
    out = io.BytesIO()
    count = generate(addresses, seed, until, out)
    data = out.getvalue()
    assert data.count(b"\n") == count
    return data


def events(data: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in data.splitlines()]


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    first = history(SMALL, 5)
    again = io.BytesIO()
    generate(SMALL, 5, out=again)
    assert again.getvalue() == first
    other = io.BytesIO()
    generate(SMALL, 6, out=other)
    assert other.getvalue() != first


def test_same_bytes_in_another_process_with_another_hash_seed() -> None:
    script = (
        "import hashlib, io, sys; from ledger.generator import generate; b = io.BytesIO(); "
        f"generate({SMALL}, 5, out=b); sys.stdout.write(hashlib.sha256(b.getvalue()).hexdigest())"
    )
    root = Path(__file__).resolve().parents[2]
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            check=True,
            text=True,
        ).stdout
        for hash_seed in ("1", "2")
    }
    assert digests == {hashlib.sha256(history(SMALL, 5)).hexdigest()}


def test_worker_processes_do_not_change_the_bytes() -> None:
    size = 2 * CHUNK_ADDRESSES + 700  # three chunks, the last one partial
    alone, together = io.BytesIO(), io.BytesIO()
    count = generate(size, 8, out=alone, workers=1)
    assert generate(size, 8, out=together, workers=2) == count
    assert together.getvalue() == alone.getvalue()


def test_every_event_type_occurs_at_small_scale() -> None:
    names = Counter(e["type"].split(".")[3] for e in events(history(SMALL, 1)))
    assert set(names) == set(NAMES)
    assert len(NAMES) == 43


def test_every_line_is_a_valid_publisher_event_in_recorded_order() -> None:
    lines = history(SMALL, 1).splitlines()
    last_recorded = ""
    per_address: dict[str, str] = {}
    ids: set[str] = set()
    for line in lines:
        obj = orjson.loads(line)
        recorded = obj["recordedtime"]
        assert set(obj) - {"recordedtime"} <= PUBLISHER
        assert {"specversion", "id", "source", "type", "subject", "time", "org", "data"} <= set(obj)
        assert not {"streamposition", "prevhash", "hash"} & set(obj)
        assert obj["specversion"] == "1.0"
        assert UUID.match(obj["id"]) and obj["id"] not in ids
        ids.add(obj["id"])
        assert SUBJECT.match(obj["subject"])
        assert obj["source"] == SOURCES[obj["org"]]
        assert re.match(r"^nl\.groningen\.(img|ncg|resident|coordination|ledger)\.[A-Za-z]+\.v1$", obj["type"])
        assert UTC_TIME.match(obj["time"]) and UTC_TIME.match(recorded)
        assert "2018-01-01" <= obj["time"] <= recorded
        assert "actor" not in obj or PSEUDONYM.match(obj["actor"])
        assert "correlationid" not in obj or UUID.match(obj["correlationid"])
        # global recorded order, and per address
        assert recorded >= last_recorded
        last_recorded = recorded
        assert recorded >= per_address.get(obj["subject"], "")
        per_address[obj["subject"]] = recorded
        # the ledger's own envelope, catalogue, authorisation (R1) and privacy checks
        sub = validate(dict(obj), None, importing=True)
        check_personal_data(sub.event)


def test_history_is_cut_at_the_end_of_until() -> None:
    full = history(SMALL, 3).splitlines()
    cut = history(SMALL, 3, date(2021, 6, 30)).splitlines()
    limit = b'"recordedtime":"2021-06-30T23:59:59.999999Z"'
    assert cut == [line for line in full if line[line.rindex(b'"recordedtime"') :] <= limit + b"}"]
    assert 0 < len(cut) < len(full)
    assert generate(SMALL, 3, date(2017, 12, 31), io.BytesIO()) == 0


def test_progress_reports_events_written() -> None:
    seen: list[int] = []
    count = generate(300, 2, out=io.BytesIO(), progress=seen.append)
    assert seen and seen == sorted(seen) and seen[-1] == count


def test_the_ledger_accepts_the_whole_history(tmp_path: Path) -> None:
    """Import through the real service: rules R1-R9, privacy, recordedtime checks."""
    ledger = open_ledger(Settings(home=tmp_path, store_url=f"sqlite:///{tmp_path / 'events.sqlite'}"))
    try:
        service = LedgerService(ledger.app, clock=lambda: "2025-06-01T00:00:00.000000Z")
        lines = history(SMALL, 4).splitlines()
        rejected = []
        for first in range(0, len(lines), 5_000):
            batch = lines[first : first + 5_000]
            for result in service.append(batch, None, importing=True, first_line=first + 1):
                if result.result != "accepted":
                    rejected.append((result.line, result.code, result.message))
        assert rejected == []
        assert ledger.log.max_position() == len(lines)
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    return measure(history(CALIBRATION, 1).splitlines(), CALIBRATION)


def test_calibration_programme_and_phases(figures: dict[str, Any]) -> None:
    assert figures["types_present"] == 43
    # public: 26,919 programme addresses of ~220,000 on 2021-10-31; 27,234 end 2022
    assert 25_500 <= figures["programme_2021-10-31"] <= 28_300
    assert 25_800 <= figures["programme_2022-12-31"] <= 28_600
    # public: phases 1-6 on 2021-10-31: 11/12/24/38/6/9 %
    for share, public in zip(figures["phases_2021-10-31"], (0.11, 0.12, 0.24, 0.38, 0.06, 0.09), strict=True):
        assert abs(share - public) <= 0.03
    # public: op norm 30 % end 2022, 50.3 % Apr 2024
    assert abs(figures["op_norm_2022-12-31"]["share"] - 0.30) <= 0.04
    assert abs(figures["op_norm_2024-04-30"]["share"] - 0.503) <= 0.04
    # public: ~70 % of programme addresses never claimed (Nov 2021)
    assert abs(figures["programme_without_claim_2021-11-01"] - 0.70) <= 0.05


def test_calibration_claims(figures: dict[str, Any]) -> None:
    assert abs(figures["rejection_share"] - 0.07) <= 0.02  # public: ~7 % rejected
    assert abs(figures["objection_share"] - 0.034) <= 0.015  # public: ~3.4 % objected
    assert 130 <= figures["lead_time_2020_21_median"] <= 200  # public: 148-180 days
    assert figures["claims_per_decision"] > 1.0  # public: 75,012 claims / 67,766 decisions
    assert 0.8 <= figures["physical_filed_by_year"][2020] / 48_756 <= 1.2
    assert 0.8 <= figures["claims_by_end_2021"] / 242_000 <= 1.2
    assert 0.15 <= figures["late_share_by_org"]["NCG"] <= 0.35
    assert figures["late_share_by_org"]["IMG"] < 0.1
