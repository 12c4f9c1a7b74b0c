"""`ledger append` reads a line of any length in bounded memory and rejects it as `too_large`.

The real command in a subprocess, its peak memory taken from the kernel (`wait4`'s rusage) and
compared with the same command on a small input in the same run.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from domain.envelope import Oversized
from domain.results import MAX_EVENT_BYTES
from ledger.commands.write import LINE_LIMIT, read_lines
from tests.factories import claim_filed, receipt, subject

A = subject(1)
BIG = 200 * 1024 * 1024
CHUNK = b"x" * (1 << 20)


def _run_append(home: Path, lines: list[bytes | int]) -> tuple[list[dict[str, Any]], int, int]:
    """Feed `ledger append` the lines (an int: a line of that many bytes, written in chunks).

    Returns the results, the exit status and the child's peak resident memory in KiB.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["LEDGER_HOME"] = str(home)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger", "append", "-", "--as", "IMG"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    for line in lines:
        if isinstance(line, int):
            line_start = b'{"specversion":"1.0","reason":"'
            proc.stdin.write(line_start)
            left = line - len(line_start) - 3
            while left > 0:
                proc.stdin.write(CHUNK[: min(left, len(CHUNK))])
                left -= len(CHUNK)
            proc.stdin.write(b'"}\n')
        else:
            proc.stdin.write(line + b"\n")
    proc.stdin.close()
    out = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # so that Popen does not wait again
    return [orjson.loads(r) for r in out.splitlines()], proc.returncode, usage.ru_maxrss


def test_a_200_mb_line_is_rejected_as_too_large_in_bounded_memory(tmp_path: Path) -> None:
    first, last = claim_filed(A, "C-1"), receipt(A, "C-1", time="2021-03-02T09:00:00Z")
    small, _, baseline_kib = _run_append(tmp_path / "small", [orjson.dumps(claim_filed(A, "C-9"))])
    assert [r["result"] for r in small] == ["accepted"]

    results, code, peak_kib = _run_append(tmp_path / "big", [orjson.dumps(first), BIG, orjson.dumps(last)])

    assert code == 1
    assert [(r["line"], r["result"], r["code"]) for r in results] == [
        (1, "accepted", None),
        (2, "rejected", "too_large"),
        (3, "accepted", None),
    ]
    assert f"{MAX_EVENT_BYTES} bytes" in results[1]["message"]
    # Reading the whole line would hold 200 MB (it peaked at 454 MB); a bounded reader holds
    # one chunk of a megabyte. Allow for noise, not for the line.
    assert peak_kib - baseline_kib < 40 * 1024, f"peak {peak_kib} KiB vs {baseline_kib} KiB on a small input"


def test_read_lines_keeps_short_lines_and_replaces_long_ones() -> None:
    long_line = b"y" * (LINE_LIMIT + 5) + b"\n"
    stream = io.BytesIO(b"a\n" + long_line + b"b" * LINE_LIMIT + b"\n" + b"tail without newline")
    got = list(read_lines(stream))
    assert got[0] == (b"a\n", 2)
    assert got[1] == (Oversized(len(long_line)), len(long_line))
    assert got[2] == (b"b" * LINE_LIMIT + b"\n", LINE_LIMIT + 1)
    assert got[3] == (b"tail without newline", 20)
    assert len(got) == 4


def test_a_long_last_line_without_newline_is_oversized() -> None:
    data = b"z" * (3 * LINE_LIMIT)
    assert list(read_lines(io.BytesIO(data))) == [(Oversized(len(data)), len(data))]
