"""`ledger witness`: the C2SP tlog-witness service IMG and NCG each run (POST /add-checkpoint).

The witness knows one log: the ledger's note key (its name is the checkpoint origin). For a
request it checks, in the order of the spec: the body's shape (400), the origin (404), the
ledger's signature (403), old size <= new size (400), old size = the size it last cosigned (409,
body `<size>\\n`, `text/x.tlog.size`), the consistency proof (422), equal sizes with different
roots (409). Then it persists the new checkpoint — temp file, fsync, rename, fsync of the folder,
so a kill -9 leaves the old state or the new, never a torn one — and only then answers with its
cosignature/v1 line. Check and persist happen under one lock (the spec's rollback race).
Errors other than 409 carry RFC 9457 problem details.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from domain import merkle
from domain.note import Checkpoint, NoteError, NoteVerifier, VerifierKey, b64, b64decode, open_note
from ledger.keys import SigningKey, ed25519_verify
from ledger.problems import HttpError, problem

SIZE_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63
MAX_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class State:
    size: int
    root: bytes
    checkpoint: str

    def encode(self) -> bytes:
        return orjson.dumps({"size": self.size, "root": b64(self.root), "checkpoint": self.checkpoint})


def load_state(path: Path) -> State | None:
    """The persisted state, None before the first cosignature; ValueError when unreadable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    body = orjson.loads(raw)
    return State(int(body["size"]), b64decode(body["root"], "the stored root"), str(body["checkpoint"]))


def save_state(path: Path, state: State) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, state.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    """(old size, proof hashes, checkpoint note) of an add-checkpoint body."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise HttpError(400, "the request body is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise HttpError(400, "the request body has no empty line before the checkpoint")
    lines = head.split("\n")
    old = lines[0]
    if not old.startswith("old "):
        raise HttpError(400, "the request body does not start with 'old <size>'")
    number = old[4:]
    if not number.isascii() or not number.isdigit() or (number != "0" and number.startswith("0")):
        raise HttpError(400, f"the old size {number[:30]!r} is not a decimal number")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise HttpError(400, f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in lines[1:]:
        try:
            h = b64decode(line, "a consistency proof line")
        except NoteError as exc:
            raise HttpError(400, str(exc)) from None
        if len(h) != 32:
            raise HttpError(400, "a consistency proof line is not a 32-byte hash")
        proof.append(h)
    return int(number), proof, note


class Witness:
    """The witness's logic, independent of HTTP (tests call it directly too)."""

    def __init__(self, key: SigningKey, log: VerifierKey, state_path: Path) -> None:
        self.key = key
        self.log = log
        self.state_path = state_path
        self.lock = threading.Lock()
        self.verifier = NoteVerifier(log, ed25519_verify)
        self.state = load_state(state_path)

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature line; HttpError with the spec's status otherwise."""
        old, proof, note = parse_request(body)
        try:
            checkpoint = Checkpoint.parse(note[: note.rfind("\n\n") + 1] if "\n\n" in note else note)
        except NoteError as exc:
            raise HttpError(400, f"the checkpoint is malformed: {exc}") from None
        if checkpoint.origin != self.log.name:
            raise HttpError(404, f"unknown log origin {checkpoint.origin[:80]!r}")
        try:
            opened = open_note(note, [self.verifier])
        except NoteError as exc:
            raise HttpError(403, f"the checkpoint is not signed by the log: {exc}") from None
        text = opened.note.text
        if old > checkpoint.size:
            raise HttpError(400, f"old size {old} is larger than the checkpoint's size {checkpoint.size}")
        with self.lock:
            state = self.state
            current = state.size if state else 0
            if old != current:
                raise HttpError(409, f"{current}\n")
            if state is not None and old == checkpoint.size:
                if state.root != checkpoint.root:
                    raise HttpError(409, f"{current}\n")
            elif state is not None:
                try:
                    merkle.verify_consistency(old, checkpoint.size, state.root, checkpoint.root, proof)
                except merkle.ProofError as exc:
                    raise HttpError(422, f"the consistency proof from size {old} does not verify: {exc}") from None
            elif proof:
                raise HttpError(422, "a consistency proof from size 0 must be empty")
            new = State(checkpoint.size, checkpoint.root, text)
            save_state(self.state_path, new)
            self.state = new
            return self.key.cosign(text).line()


def create_witness_app(witness: Witness) -> FastAPI:
    app = FastAPI(title=f"tlog-witness {witness.key.name}", version="1")

    async def handler(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return problem(400, "the request body is too large")
        try:
            line = await run_in_threadpool(witness.add_checkpoint, body)
        except HttpError as exc:
            if exc.status == 409:
                return Response(exc.detail, status_code=409, media_type=SIZE_TYPE)
            return problem(exc.status, exc.detail)
        return Response(line, media_type="text/plain; charset=utf-8")

    app.add_route("/add-checkpoint", handler, methods=["POST"])

    @app.get("/", summary="The witness's name, verifier key and the size it last cosigned")
    def info() -> dict[str, Any]:
        state = witness.state
        return {"name": witness.key.name, "vkey": witness.key.verifier.vkey(), "size": state.size if state else 0}

    return app
