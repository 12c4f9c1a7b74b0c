"""Making, cosigning and publishing checkpoints of the log's tree (contract trust §2).

`make_checkpoint` signs a C2SP checkpoint of the stored tree with the ledger's key, after
checking that the tree still extends the latest published checkpoint (the ledger never signs two
inconsistent checkpoints); sends it to every configured witness with the consistency proof from
the size that witness last cosigned (learnt from its 409 answer when the ledger's guess is
wrong); keeps the cosignatures that verify against the trust file's witness keys; and publishes
the checkpoint (stored in the event store's database, served over HTTP, sent to Kafka's
`ledger.checkpoints` when Kafka is configured) once every required witness cosigned. Otherwise
it stores nothing and says which witness did not cosign and why.

`Checkpointer` makes one every N events or T minutes in a background thread (`ledger serve`,
`ledger kafka relay`).
"""

from __future__ import annotations

import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.note import Checkpoint, Note, NoteError, NoteVerifier, Trust, b64, parse_signature_line
from domain.timeutil import format_utc
from ledger.bootstrap import Ledger, Settings
from ledger.keys import KeyError_, SigningKey, ed25519_verify, load_signing_key, read_text

TOPIC = "ledger.checkpoints"
WITNESS_TIMEOUT = 10.0


class CheckpointError(Exception):
    """A checkpoint that could not be made or published (one clear message)."""


@dataclass
class Made:
    checkpoint: Checkpoint
    note: str
    cosigners: list[str]
    problems: list[str] = field(default_factory=list)
    published: bool = False
    new: bool = True


def signing_key(settings: Settings) -> SigningKey:
    try:
        key = load_signing_key(settings.signing_key)
    except KeyError_ as exc:
        raise CheckpointError(str(exc)) from None
    if key.name != settings.origin:
        raise CheckpointError(
            f"the signing key {settings.signing_key} is named {key.name!r}, not the origin {settings.origin!r}"
        )
    return key


def load_trust(path: Path | None) -> Trust | None:
    if path is None:
        return None
    text = read_text(path, CheckpointError, "trust file", f"the trust file {path} is not text")
    try:
        return Trust.parse(text)
    except NoteError as exc:
        raise CheckpointError(f"{path}: {exc}") from None


def _post(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url.rstrip("/") + "/add-checkpoint", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=WITNESS_TIMEOUT) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), bytes(exc.read())


def request_body(old: int, proof: list[bytes], note: bytes) -> bytes:
    return f"old {old}\n".encode() + b"".join(b64(h).encode() + b"\n" for h in proof) + b"\n" + note


def ask_witness(
    ledger: Ledger, url: str, old: int, checkpoint: Checkpoint, note: bytes, post: Callable[[str, bytes], Any] = _post
) -> tuple[list[str], str | None]:
    """(cosignature lines, problem or None) from one witness; follows one 409 to its size."""
    for _ in range(2):
        if old > checkpoint.size:
            return [], f"{url}: it cosigned size {old}, larger than this checkpoint ({checkpoint.size})"
        proof = ledger.tree.consistency(old, checkpoint.size) if 0 < old < checkpoint.size else []
        try:
            status, answer = post(url, request_body(old, proof, note))
        except (OSError, ValueError) as exc:
            return [], f"{url}: unreachable ({getattr(exc, 'reason', exc)})"
        text = answer.decode("utf-8", "replace")
        if status == 200:
            return [line + "\n" for line in text.splitlines() if line.startswith("— ")], None
        if status == 409 and text.strip().isdigit() and int(text.strip()) != old:
            old = int(text.strip())
            continue
        detail = text.strip().replace("\n", " ")[:300]
        return [], f"{url}: refused with {status}: {detail}"
    return [], f"{url}: its size keeps changing"


def make_checkpoint(
    ledger: Ledger,
    key: SigningKey,
    witnesses: list[str],
    trust: Trust | None,
    *,
    post: Callable[[str, bytes], Any] = _post,
    kafka: Callable[[bytes], None] | None = None,
) -> Made:
    tree = ledger.tree
    size = tree.size()
    if size == 0:
        raise CheckpointError("the log is empty: nothing to checkpoint")
    latest = tree.checkpoint()
    if latest is not None:
        try:
            published = Checkpoint.parse(latest.note[: latest.note.rfind("\n\n") + 1])
        except NoteError as exc:
            raise CheckpointError(f"the stored checkpoint of size {latest.size} is malformed: {exc}") from None
        if published.size > size or tree.root(published.size) != published.root:
            raise CheckpointError(
                f"the store's tree does not extend the published checkpoint of size {published.size}: "
                "history was rewritten; not signing (run `ledger verify --since`)"
            )
        if published.size == size:
            names = [s.name for s in _sigs(latest.note)]
            return Made(published, latest.note, [n for n in names if n != key.name], published=True, new=False)
    if trust is None:
        raise CheckpointError(
            "no trust file (LEDGER_TRUST): it names the witnesses' keys and which must cosign (docs/trust.md)"
        )
    checkpoint = Checkpoint(key.name, size, tree.root(size))
    text = checkpoint.text()
    note = Note(text, (key.sign_note(text),)).encode()
    verifiers = {w.name: NoteVerifier(w, ed25519_verify) for w in (trust.witnesses if trust else ())}
    old_guess = latest.size if latest is not None else 0
    cosigs: dict[str, str] = {}
    problems: list[str] = []
    for url in witnesses:
        lines, problem = ask_witness(ledger, url, old_guess, checkpoint, note, post)
        if problem:
            problems.append(problem)
        for line in lines:
            try:
                sig = parse_signature_line(line[:-1])
            except NoteError:
                continue
            verifier = verifiers.get(sig.name)
            if verifier is None or verifier.key_id != sig.key_id or not verifier.verify(text, sig.signature):
                continue  # unknown keys are ignored; a bad cosignature does not count
            cosigs.setdefault(sig.name, line)
    required = list(trust.required) if trust else []
    missing = [name for name in required if name not in cosigs]
    full = note.decode() + "".join(cosigs[name] for name in sorted(cosigs))
    made = Made(checkpoint, full, sorted(cosigs), problems)
    if missing:
        made.problems.append("not published: no cosignature from " + ", ".join(missing))
        return made
    tree.save_checkpoint(size, full, format_utc(datetime.now(UTC)))
    made.published = True
    if kafka is not None:
        try:
            kafka(full.encode())
        except Exception as exc:  # noqa: BLE001 - published in the store; Kafka is distribution
            made.problems.append(f"not sent to Kafka topic {TOPIC}: {exc}")
    return made


def _sigs(note: str) -> list[Any]:
    try:
        from domain.note import parse_note

        return list(parse_note(note).signatures)
    except NoteError:
        return []


def kafka_sender(settings: Settings) -> Callable[[bytes], None] | None:
    """Send checkpoints to `ledger.checkpoints` (made by `ledger kafka init`; created here when
    missing and the principal may: one partition, kept forever)."""
    if not settings.kafka:
        return None
    bootstrap = settings.kafka_endpoint()

    def send(note: bytes) -> None:
        from kafka.errors import ClusterAuthorizationFailedError, TopicAlreadyExistsError, TopicAuthorizationFailedError

        from consumers.clients import broker_count, ensure_topics, make_admin, make_producer
        from consumers.topics import TopicNames, checkpoint_spec

        names = TopicNames(settings.kafka_topic_prefix)
        admin = make_admin(bootstrap, "ledger-checkpoints")
        try:
            ensure_topics(admin, [checkpoint_spec(broker_count(admin), names)], timeout_ms=30_000)
        except (TopicAlreadyExistsError, TopicAuthorizationFailedError, ClusterAuthorizationFailedError):
            pass  # the ledger's principal may not create topics: `ledger kafka init` made it
        finally:
            admin.close()
        producer = make_producer(bootstrap, "ledger-checkpoints")
        try:
            producer.send(names.checkpoints, key=b"checkpoint", value=note).get(timeout=30)
        finally:
            producer.close()

    return send


def checkpoint_now(ledger: Ledger) -> Made:
    settings = ledger.settings
    return make_checkpoint(
        ledger,
        signing_key(settings),
        list(settings.witnesses),
        load_trust(settings.trust_file),
        kafka=kafka_sender(settings),
    )


class Checkpointer(threading.Thread):
    """Every N events or T minutes (whichever first) while the log grew: a checkpoint."""

    def __init__(self, settings: Settings, poll: float = 2.0) -> None:
        super().__init__(name="checkpointer", daemon=True)
        self.settings = settings
        self.poll = poll
        self.stopping = threading.Event()
        self.made = 0

    def due(self, size: int, last: int, last_at: float, now: float) -> bool:
        if size <= last:
            return False
        return size - last >= self.settings.checkpoint_every or now - last_at >= 60 * self.settings.checkpoint_minutes

    def run(self) -> None:
        from ledger.bootstrap import open_ledger

        try:
            ledger = open_ledger(self.settings)
        except Exception as exc:  # noqa: BLE001
            print(f"ledger: checkpoints: cannot open the store: {exc}", file=sys.stderr)
            return
        last_at = time.monotonic()
        try:
            while not self.stopping.wait(self.poll):
                latest = ledger.tree.checkpoint()
                if not self.due(ledger.tree.size(), latest.size if latest else 0, last_at, time.monotonic()):
                    continue
                last_at = time.monotonic()
                try:
                    made = checkpoint_now(ledger)
                except CheckpointError as exc:
                    print(f"ledger: checkpoint: {exc}", file=sys.stderr)
                    continue
                self.made += made.published
                for problem in made.problems:
                    print(f"ledger: checkpoint {made.checkpoint.size}: {problem}", file=sys.stderr)
        finally:
            ledger.close()


def start_checkpointer(settings: Settings) -> Checkpointer | None:
    """Start periodic checkpoints when the ledger has a signing key; None otherwise."""
    if not settings.signing_key.exists():
        return None
    worker = Checkpointer(settings)
    worker.start()
    return worker
