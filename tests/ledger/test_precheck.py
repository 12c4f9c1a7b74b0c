"""Checking an import's next batch in a worker process (`ledger.precheck`, `ledger import --check-ahead`).

The worker's verdicts must be the writer's own, whatever the input; a worker that dies must cost
nothing but speed; and an import checked ahead must store and print exactly what one checked in
the writing process does.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.envelope import Oversized
from domain.results import MAX_EVENT_BYTES
from domain.service import Checked, check_item
from ledger.precheck import CheckAhead, check_batch, from_wire
from tests.factories import claim_filed, subject
from tests.homes import history

REPO = Path(__file__).resolve().parents[2]

LINES = history(12, 5).splitlines()
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
HOSTILE = [
    b"{not json",
    b"[1, 2]",
    b'{"id": "a", "id": "b"}',
    b'{"sub\\u003aject": 1, "subject": 2}',
    Oversized(2_000_000),
    orjson.dumps({**claim_filed(subject(7), "C-1"), "recordedtime": "2021-03-01T09:00:00Z", "note": "a@b.nl"}),
    orjson.dumps({**claim_filed(subject(8), "C-1"), "type": "nl.groningen.unknown.v1"}),
    "{\"text\": \"as str\"}",
    {**claim_filed(subject(9), "C-1"), "recordedtime": "2021-03-01T09:00:00Z"},
]


def verdict(c: Checked) -> tuple[Any, ...]:
    """A verdict as plain values (a `Rejection` compares by identity)."""
    sub = c.sub and (orjson.dumps(c.sub.event), c.sub.event, c.sub.name, c.sub.recordedtime)
    rej = c.refusal and (c.refusal.code, c.refusal.message, c.refusal.path)
    return sub, c.digest, rej, c.event_id, c.address


def mutated(line: bytes, key: str, value: Any) -> bytes:
    event = orjson.loads(line)
    if key.startswith("data."):
        event.setdefault("data", {})[key[5:]] = value
    else:
        event[key] = value
    return json.dumps(event, ensure_ascii=False).encode()  # the stdlib writes any integer


@given(
    st.lists(
        st.tuples(
            st.sampled_from(LINES),
            st.sampled_from(["", "id", "subject", "time", "recordedtime", "org", "data.x", "data.claim_id"]),
            JSON,
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([(None, True), ("IMG", False), ("NCG", False), ("nobody", False)]),
)
@settings(max_examples=150, deadline=None)
def test_the_wire_form_gives_the_writers_own_verdicts(
    items: list[tuple[bytes, str, Any]], who: tuple[Any, bool]
) -> None:
    principal, importing = who
    batch = [line if not key else mutated(line, key, value) for line, key, value in items] + HOSTILE
    wire = check_batch(batch, principal, importing)
    assert [verdict(c) for c in from_wire(wire, batch, principal, importing)] == [
        verdict(check_item(item, principal, importing)) for item in batch
    ]


def test_valid_events_cross_as_json_and_refusals_as_fields() -> None:
    wire = check_batch([LINES[0], b"{not json"], None, True)
    assert isinstance(wire[0], tuple) and isinstance(wire[0][0], bytes)
    assert wire[1] is not None and wire[1][:2] == (None, "schema_invalid")


def test_check_ahead_checks_in_another_process_from_the_second_batch() -> None:
    batches = [LINES[i : i + 40] for i in range(0, 120, 40)]
    with CheckAhead(None, True) as ahead:
        handles = [ahead.submit(b) for b in batches]
        assert handles[0] is None  # one batch alone never waits for a process to start
        assert all(h is not None for h in handles[1:])
        pool = ahead._pool
        assert pool is not None
        pids = list(pool._processes)  # type: ignore[attr-defined]
        assert pids and os.getpid() not in pids
        for handle, batch in zip(handles, batches, strict=True):
            assert [verdict(c) for c in ahead.verdicts(handle, batch)] == [
                verdict(check_item(item, None, True)) for item in batch
            ]
        assert not ahead.broken


def test_a_dead_worker_leaves_the_writer_checking_with_the_same_verdicts() -> None:
    batches = [LINES[i : i + 30] for i in range(0, 120, 30)]
    expected = [[verdict(check_item(item, None, True)) for item in b] for b in batches]
    with CheckAhead(None, True) as ahead:
        ahead.submit(batches[0])
        second = ahead.submit(batches[1])
        assert [verdict(c) for c in ahead.verdicts(second, batches[1])] == expected[1]
        pool = ahead._pool
        assert pool is not None
        (worker,) = pool._processes.values()  # type: ignore[attr-defined]
        os.kill(worker.pid, signal.SIGKILL)  # the worker this test's pool started
        worker.join()
        third = ahead.submit(batches[2])
        assert [verdict(c) for c in ahead.verdicts(third, batches[2])] == expected[2]
        assert ahead.broken
        assert ahead.submit(batches[3]) is None
        assert [verdict(c) for c in ahead.verdicts(None, batches[3])] == expected[3]


def test_an_import_checked_ahead_stores_and_prints_what_one_checked_in_process_does(
    cli: Any, tmp_path: Path
) -> None:
    # Rejections of every kind among valid events, a duplicate, a refused address's later events
    # in the same batch, a blank line; batches of 7 so that many batches are checked ahead.
    lines = list(LINES[:150])
    for at, bad in [(3, b"{not json"), (20, b""), (41, LINES[40]), (60, HOSTILE[5]), (99, HOSTILE[2])]:
        lines.insert(at, bad)
    lines.insert(77, mutated(LINES[76], "time", "yesterday"))
    lines.insert(90, b'{"x": "' + b"a" * (MAX_EVENT_BYTES + 4096) + b'"}')  # read as Oversized
    source = tmp_path / "history.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    runs = {}
    for mode in ("--check-ahead", "--no-check-ahead"):
        home = tmp_path / mode
        run = cli("import", str(source), "--quiet", "--all-results", "--batch-size", "7", mode, at=home)
        runs[mode] = (run.exit_code, run.stdout, run.stderr.splitlines()[-1], cli("export", at=home).stdout)
    ahead, in_process = runs["--check-ahead"], runs["--no-check-ahead"]
    assert ahead == in_process
    assert ahead[0] == 1
    codes = {orjson.loads(line).get("code") for line in ahead[1].splitlines()}
    assert {"schema_invalid", "personal_data", "too_large", None} <= codes
    assert len(ahead[3].splitlines()) > 100


def _children(pid: int) -> list[str]:
    """The command lines of the processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return found


def _stored(home: Path) -> int:
    """How many events the home's SQLite store holds (0 before it exists)."""
    path = home / "events.sqlite"
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
        try:
            return int(db.execute("SELECT count(*) FROM stored_events").fetchone()[0])
        except sqlite3.OperationalError:  # the tables are being created
            return 0


def test_ctrl_c_stops_an_import_checked_ahead_cleanly_and_a_rerun_imports_the_rest(tmp_path: Path) -> None:
    lines = history(1500, 3).splitlines()
    source = tmp_path / "history.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["LEDGER_HOME"] = str(tmp_path / "home")
    command = [sys.executable, "-m", "ledger", "import", str(source), "-q", "--batch-size", "200"]
    proc = subprocess.Popen(
        [*command, "--check-ahead"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as from a terminal
    )
    deadline = time.monotonic() + 60
    # interrupted once the checking worker runs and two batches are stored
    while not (any("spawn_main" in c for c in _children(proc.pid)) and _stored(tmp_path / "home") >= 400):
        assert proc.poll() is None, "the import ended before it could be interrupted"
        assert time.monotonic() < deadline, "no checking worker and two batches within 60 s"
        time.sleep(0.002)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the terminal's whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err  # neither the writer's nor the worker's
    rerun = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    counts = [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) (?:accepted|duplicate|rejected)", rerun.stderr)]
    accepted, duplicates, rejected = counts[-3:]
    assert duplicates > 0 and rejected == 0  # what the interrupted run stored stays, once
    assert accepted + duplicates == len(lines)
    exported = subprocess.run(
        [sys.executable, "-m", "ledger", "export"], env=env, cwd=REPO, capture_output=True, timeout=300
    )
    assert len(exported.stdout.splitlines()) == len(lines)
