"""Trust benchmarks (contract trust §2–3), every ratio from the same run:

1. tree maintenance: importing a generated history with the tree kept in the append's
   transaction vs the same import with the tree hook switched off (in process, 1,000 events
   per transaction as `ledger import`); target: the tree costs <= 10 % of import throughput;
2. proofs on a tree of N leaves (default 2,238,585, the size of the replay benchmark's store):
   the tree tables are filled directly with the perfect nodes of N synthetic leaves (proofs
   read nothing else), then inclusion and consistency proofs at random positions are timed
   (median and p99); targets: inclusion <= 1 ms, consistency <= 2 ms;
3. `verify --bundle` of a 100-event version-2 bundle: in process (`replay.bundle.check_bundle`
   with the trust file) and as the command (process start included); target <= 50 ms;
4. `ledger checkpoint` with two local witness processes (`ledger witness`): sign, two
   add-checkpoint round trips with consistency proofs, verify both cosignatures, store; target
   <= 100 ms.

    .venv/bin/python benchmarks/trust.py [--addresses 1000] [--runs 6] [--tree-size 2238585]
        [--only import|proofs|witnessed]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import REPO, history_file  # noqa: E402


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return f"median {statistics.median(values) * 1000:.3f} ms, p99 {p99 * 1000:.3f} ms (n={len(values)})"


def import_run(source: Path, folder: Path, with_tree: bool) -> tuple[float, float]:
    """(seconds for the import, seconds of it spent in the tree hook)."""
    import ledger.tree as tree_module
    from ledger.bootstrap import Settings, open_ledger

    original = tree_module.sqlite_append
    spent = [0.0]

    def hook(*args: object) -> None:
        t = time.perf_counter()
        original(*args)  # type: ignore[arg-type]
        spent[0] += time.perf_counter() - t

    tree_module.sqlite_append = hook if with_tree else (lambda *a, **k: None)  # type: ignore[assignment]
    try:
        led = open_ledger(Settings(home=folder, store_url=f"sqlite:///{folder / 'events.sqlite'}"))
        lines = source.read_bytes().splitlines()
        started = time.perf_counter()
        for start in range(0, len(lines), 1000):
            led.service.append(lines[start : start + 1000], None, importing=True)
        seconds = time.perf_counter() - started
        led.close()
        return seconds, spent[0]
    finally:
        tree_module.sqlite_append = original


def bench_import(addresses: int, runs: int, work: Path) -> None:
    source, count = history_file(work, addresses)
    with_tree, without, hooks = [], [], []
    for run in range(runs):
        order = (True, False) if run % 2 == 0 else (False, True)
        for flag in order:
            seconds, hook = import_run(source, work / f"import-{run}-{flag}", flag)
            (with_tree if flag else without).append(seconds)
            if flag:
                hooks.append(hook / seconds)
    ratios = [w / o - 1 for w, o in zip(with_tree, without, strict=True)]
    print(f"1. import of {count:,} events ({addresses} addresses), SQLite, {runs} runs each, alternating")
    print(f"   with the tree:    median {count / statistics.median(with_tree):,.0f} events/s")
    print(f"   without the tree: median {count / statistics.median(without):,.0f} events/s")
    print(
        f"   wall-clock difference: median {statistics.median(ratios) * 100:.1f} % "
        f"(runs: {', '.join(f'{r * 100:.1f} %' for r in ratios)})"
    )
    print(
        f"   time inside the tree's hook: median {statistics.median(hooks) * 100:.1f} % of import time "
        f"(runs: {', '.join(f'{h * 100:.1f} %' for h in hooks)}); target <= 10 %"
    )


def bench_proofs(size: int, work: Path) -> None:
    import hashlib

    from domain.merkle import CompactRange
    from ledger.bootstrap import Settings, open_ledger
    from ledger.tree import HEAD, TILE_HEIGHT, TREE

    folder = work / "proofs"
    led = open_ledger(Settings(home=folder, store_url=f"sqlite:///{folder / 'events.sqlite'}"))
    started = time.perf_counter()
    cr = CompactRange()
    tiles: dict[tuple[int, int], bytearray] = {}
    for i in range(size):
        for level, idx, h in cr.append(hashlib.sha256(i.to_bytes(8, "big")).digest()):
            if level % TILE_HEIGHT == 0:
                tiles.setdefault((level // TILE_HEIGHT, idx >> TILE_HEIGHT), bytearray()).extend(h)
    with led.app.recorder.datastore.transaction(commit=True) as c:
        c.executemany(f"INSERT INTO {TREE} VALUES (?,?,?)", [(t, j, bytes(b)) for (t, j), b in tiles.items()])
        c.execute(f"INSERT OR REPLACE INTO {HEAD} VALUES (1, ?, ?)", (size, size))
    print(f"2. proofs on a tree of {size:,} leaves (tree tables filled in {time.perf_counter() - started:.0f} s)")
    tree = led.tree
    rng = random.Random(1)
    incl, cons = [], []
    for _ in range(2000):
        i = rng.randrange(size)
        t = time.perf_counter()
        tree.inclusion(i, size)
        incl.append(time.perf_counter() - t)
        m = rng.randrange(1, size)
        t = time.perf_counter()
        tree.consistency(m, size)
        cons.append(time.perf_counter() - t)
    print(f"   inclusion:   {_ms(incl)}; target <= 1 ms")
    print(f"   consistency: {_ms(cons)}; target <= 2 ms")
    led.close()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int) -> None:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"witness on {port} did not start")


def bench_witnessed(work: Path) -> None:
    from domain.note import ALG_COSIGNATURE_V1, ALG_ED25519, Trust
    from ledger.bootstrap import Settings, open_ledger
    from ledger.checkpoints import make_checkpoint
    from ledger.evidence import bundle_v2
    from ledger.keys import ed25519_verify, generate, write_private
    from ledger.ports import replay_store
    from replay.bundle import check_bundle
    from replay.run import bundle as make_v1
    from tests import factories as f

    folder = work / "witnessed"
    keys = {
        n: generate(n, a)
        for n, a in (
            ("groningen-ledger", ALG_ED25519),
            ("img-witness", ALG_COSIGNATURE_V1),
            ("ncg-witness", ALG_COSIGNATURE_V1),
        )
    }
    for name, key in keys.items():
        write_private(folder / "keys" / f"{name}.key", key)
    (folder / "keys" / "groningen-ledger.vkey").write_text(keys["groningen-ledger"].verifier.vkey())
    trust = Trust(
        keys["groningen-ledger"].verifier,
        (keys["img-witness"].verifier, keys["ncg-witness"].verifier),
        ("img-witness", "ncg-witness"),
    )
    trust_file = folder / "trust.txt"
    trust_file.write_text(trust.text())
    procs, urls = [], []
    for name in ("img-witness", "ncg-witness"):
        port = _port()
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "ledger",
                    "witness",
                    "--key",
                    str(folder / "keys" / f"{name}.key"),
                    "--log-key",
                    str(folder / "keys" / "groningen-ledger.vkey"),
                    "--port",
                    str(port),
                ],
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
        _wait(port)
    try:
        settings = Settings(
            home=folder,
            store_url=f"sqlite:///{folder / 'events.sqlite'}",
            signing_key=folder / "keys" / "groningen-ledger.key",
            witnesses=tuple(urls),
            trust_file=trust_file,
        )
        led = open_ledger(settings)
        subject = f.subject(1)
        events = []
        for i in range(50):  # one address of exactly 100 events
            events += [
                f.claim_filed(subject, f"C-{i}", time="2021-03-01T09:00:00Z"),
                f.receipt(subject, f"C-{i}", time="2021-03-02T09:00:00Z"),
            ]
        results = led.service.append(events, "IMG")
        assert all(r.result == "accepted" for r in results), results[:3]
        # 4. checkpoints: each after a new batch, so every one is new and needs two consistency proofs
        times = []
        for n in range(2, 32):
            batch = [f.claim_filed(f.subject(n), f"C-{n}", time="2021-03-01T09:00:00Z")]
            led.service.append(batch, "IMG")
            t = time.perf_counter()
            made = make_checkpoint(led, keys["groningen-ledger"], urls, trust)
            times.append(time.perf_counter() - t)
            assert made.published, made.problems
        # 3. the 100-event bundle
        v1, _ = make_v1(replay_store(led), subject, None, None)
        raw = bundle_v2(led, v1)
        led.close()
        checks = []
        for _ in range(200):
            t = time.perf_counter()
            check = check_bundle(raw, trust, ed25519_verify)
            checks.append(time.perf_counter() - t)
            assert check.ok, check.problems
        path = folder / "bundle.json"
        path.write_bytes(raw)
        walls = []
        for _ in range(5):
            t = time.perf_counter()
            r = subprocess.run(
                [sys.executable, "-m", "ledger", "verify", "--bundle", str(path), "--trust", str(trust_file)],
                cwd=REPO,
                capture_output=True,
                env=dict(os.environ),
            )
            walls.append(time.perf_counter() - t)
            assert r.returncode == 0, r.stderr
        print(f"3. verify --bundle of 100 events ({len(raw):,} bytes, tree size {check.checkpoint['size']})")  # type: ignore[index]
        print(f"   in process: {_ms(checks)}; target <= 50 ms")
        print(f"   the command, process start included: {_ms(walls)}")
        print(f"4. ledger checkpoint with two local witnesses: {_ms(times)}; target <= 100 ms")
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--addresses", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--tree-size", type=int, default=2_238_585)
    parser.add_argument("--only", choices=["import", "proofs", "witnessed"], default=None)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="trust-bench-") as tmp:
        work = Path(tmp)
        if args.only in (None, "import"):
            bench_import(args.addresses, args.runs, work)
        if args.only in (None, "witnessed"):
            bench_witnessed(work)
        if args.only in (None, "proofs"):
            bench_proofs(args.tree_size, work)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
