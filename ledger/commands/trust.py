"""`ledger keys init|trust`, `ledger checkpoint`, `ledger witness` (contract trust §2, docs/trust.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ledger.bootstrap import Settings
from ledger.commands.common import EXIT_FAILED, EXIT_USAGE, Host, fail, opened_ledger, ops_port_option
from ledger.commands.keys import keys_app

if TYPE_CHECKING:  # domain.note is imported by the commands that use it (start-up: `ledger --help`)
    from domain.note import Trust, VerifierKey


def make_keys(settings: Settings, directory: Path | None, ledger_key: bool, witnesses: list[str], force: bool) -> None:
    """`ledger keys init --ledger / --witness NAME`: Ed25519 keys, private 0600, vkeys printed."""
    from domain.note import ALG_COSIGNATURE_V1, ALG_ED25519
    from ledger.keys import KeyError_, generate, write_private

    folder = directory or settings.signing_key.parent
    wanted: list[tuple[str, int, Path]] = []
    if ledger_key:
        path = settings.signing_key if directory is None else folder / f"{settings.origin}.key"
        wanted.append((settings.origin, ALG_ED25519, path))
    for name in witnesses:
        wanted.append((name, ALG_COSIGNATURE_V1, folder / f"{name}.key"))
    for name, alg, path in wanted:
        try:
            key = generate(name, alg)
            write_private(path, key, force=force)
            vkey = key.verifier.vkey()
            path.with_suffix(".vkey").write_text(vkey + "\n")
        except KeyError_ as exc:
            fail(str(exc), EXIT_USAGE)
        except OSError as exc:
            fail(f"cannot write {path}: {exc.strerror}", EXIT_USAGE)
        typer.echo(vkey)
        typer.echo(f"{'ledger' if alg == ALG_ED25519 else 'witness'} key {name}: {path} (private, 0600)", err=True)


def keys_trust(
    vkeys: Annotated[list[str], typer.Argument(help="Verifier keys (vkeys) or files holding one.")],
    out: Annotated[Path, typer.Option("--out", help="The trust file to write.")],
    require: Annotated[
        list[str] | None, typer.Option("--require", help="A witness that must cosign (default: every witness).")
    ] = None,
) -> None:
    """Write a trust file: the ledger's key (alg 0x01), the witnesses' keys (0x04), who must cosign."""
    from domain.note import ALG_COSIGNATURE_V1, ALG_ED25519, NoteError, Trust
    from ledger.keys import load_vkey

    try:
        keys = [load_vkey(v) for v in vkeys]
        logs = [k for k in keys if k.alg == ALG_ED25519]
        if len(logs) != 1:
            raise NoteError(f"give exactly one ledger key (algorithm 0x01), not {len(logs)}")
        witnesses = tuple(k for k in keys if k.alg == ALG_COSIGNATURE_V1)
        trust = Trust(logs[0], witnesses, tuple(require) if require else tuple(w.name for w in witnesses))
        Trust.parse(trust.text())  # the same checks a verifier makes
    except NoteError as exc:
        fail(str(exc), EXIT_USAGE)
    out.write_text(trust.text())
    typer.echo(f"trust file written: {out} (ledger {trust.log.name}; requires {', '.join(trust.required) or 'none'})")


def checkpoint(
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Sign a checkpoint of the log's tree, have the configured witnesses cosign it, publish it.

    Exit 0 when published; 1 when a required witness did not cosign (nothing published) or the
    store's tree no longer extends the last published checkpoint."""
    from ledger.checkpoints import CheckpointError, checkpoint_now

    with opened_ledger() as ledger:
        try:
            made = checkpoint_now(ledger)
        except CheckpointError as exc:
            fail(str(exc))
    if as_json:
        import orjson

        body = {
            "size": made.checkpoint.size,
            "root": made.checkpoint.text().split("\n")[2],
            "published": made.published,
            "new": made.new,
            "cosigners": made.cosigners,
            "problems": made.problems,
            "note": made.note,
        }
        typer.echo(orjson.dumps(body).decode())
    else:
        state = "published" if made.published else "NOT published"
        again = "" if made.new else " (already published)"
        typer.echo(
            f"checkpoint {made.checkpoint.size} {state}{again}: root {made.checkpoint.text().split(chr(10))[2]}, "
            f"cosigned by {', '.join(made.cosigners) or 'no witness'}"
        )
        for problem in made.problems:
            typer.echo(f"  {problem}", err=True)
    if not made.published:
        raise typer.Exit(EXIT_FAILED)


def witness(
    key: Annotated[Path, typer.Option("--key", help="The witness's private key file (cosignature/v1).")],
    log_key: Annotated[str, typer.Option("--log-key", help="The ledger's verifier key (vkey or file).")],
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=0, max=65535)] = 7380,
    host: Annotated[str, Host] = "127.0.0.1",
    state: Annotated[
        Path | None, typer.Option("--state", help="The witness's state file (default: beside the key).")
    ] = None,
    ops_port: Annotated[int | None, ops_port_option()] = None,
) -> None:
    """Run a C2SP tlog-witness (POST /add-checkpoint) for the ledger's log."""
    import uvicorn

    from domain.note import ALG_COSIGNATURE_V1, ALG_ED25519, NoteError
    from ledger.keys import KeyError_, load_signing_key, load_vkey
    from ledger.witness import Witness, create_witness_app

    try:
        signer = load_signing_key(key)
        log: VerifierKey = load_vkey(log_key)
    except (KeyError_, NoteError) as exc:
        fail(str(exc), EXIT_USAGE)
    if signer.alg != ALG_COSIGNATURE_V1:
        fail(f"{key} is not a witness (cosignature/v1) key", EXIT_USAGE)
    if log.alg != ALG_ED25519:
        fail("--log-key is not a ledger note key (algorithm 0x01)", EXIT_USAGE)
    state_path = state or key.with_name(f"{signer.name}.state.json")
    try:
        w = Witness(signer, log, state_path)
    except (ValueError, KeyError, OSError) as exc:
        fail(f"the state file {state_path} cannot be read: {exc}", EXIT_FAILED)
    size = w.state.size if w.state else 0
    typer.echo(f"witness {signer.name} for {log.name} on http://{host}:{port} (last cosigned size {size})", err=True)
    app = create_witness_app(w)
    _witness_ops(ops_port, w, app)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def _witness_ops(option: int | None, w: Any, app: Any) -> None:
    """The witness's operators' metrics (`ledger.ops`): its requests by route and status, and the size
    it last cosigned. It has no store of its own, so nothing else."""
    from ledger.bootstrap import ConfigError
    from ledger.ops import AccessLog, StateCollector, ops_port, start

    try:
        port = ops_port(option)
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    if port is None:
        return

    def figures() -> dict[str, tuple[str, float]]:
        size = w.state.size if w.state else 0
        return {"ledger_witness_cosigned_size": ("Tree size of the checkpoint this witness last cosigned", size)}

    app.add_middleware(AccessLog, log=False, routes=app.router.routes)
    try:
        start(port, StateCollector("witness", store=False, gauges=figures))
    except OSError as exc:
        fail(f"cannot serve the operators' metrics on port {port}: {exc}")


def register(app: typer.Typer) -> None:
    keys_app.command("trust")(keys_trust)  # joins `ledger keys` (ledger.commands.keys registers the group)
    app.command("checkpoint")(checkpoint)
    app.command("witness")(witness)


def read_trust(path: Path | None) -> Trust | None:
    """A trust file for `ledger verify`, or None; exit 2 naming what is wrong."""
    from domain.note import NoteError, Trust

    if path is None:
        return None
    try:
        text = path.read_text()
    except OSError as exc:
        fail(f"cannot read the trust file {path}: {exc.strerror}", EXIT_USAGE)
    except UnicodeDecodeError:
        fail(f"the trust file {path} is not text", EXIT_USAGE)
    try:
        return Trust.parse(text)
    except NoteError as exc:
        fail(f"{path}: {exc}", EXIT_USAGE)


def verify_bundle(bundle: Path, trust_path: Path | None, json: bool = False) -> None:
    """`ledger verify --bundle FILE [--trust TRUSTFILE] [--json]` (offline)."""
    from ledger.commands.common import emit_json
    from ledger.keys import ed25519_verify
    from replay.bundle import verify_bundle_file

    code, lines, error = verify_bundle_file(bundle, read_trust(trust_path), ed25519_verify)
    if json:
        emit_json({"bundle": str(bundle), "intact": not error, "checks": lines, "error": error})
        raise typer.Exit(code if error else 0)
    for line in lines:
        typer.echo(line)
    if error:
        fail(error, code)


def load_since(ledger: Any, since: str, trust: Trust | None) -> tuple[Any, str]:
    """The checkpoint `--since` names (a file holding a signed checkpoint, or the size of one the
    store published) and how its signatures were checked."""
    from domain.note import Checkpoint, NoteError, check_checkpoint, parse_note
    from ledger.keys import ed25519_verify

    path = Path(since)
    if since.isdigit() and not path.exists():
        stored = ledger.tree.checkpoint(int(since))
        if stored is None:
            fail(f"--since {since}: the store published no checkpoint of that size", EXIT_USAGE)
        note, origin = stored.note, f"the store's checkpoint {since}"
    else:
        try:
            note, origin = path.read_text(), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read the checkpoint {since}: {getattr(exc, 'strerror', None) or 'not text'}", EXIT_USAGE)
    try:
        if trust is not None:
            checked = check_checkpoint(note, trust, ed25519_verify)
            if checked.missing:
                fail(f"{origin}: the checkpoint lacks the required cosignature of {', '.join(checked.missing)}")
            how = f"signed by {trust.log.name}, cosigned by {', '.join(sorted(checked.cosigners)) or 'no witness'}"
            return checked.checkpoint, how
        return Checkpoint.parse(parse_note(note).text), "signatures not checked (no --trust)"
    except NoteError as exc:
        fail(f"{origin}: not a checkpoint: {exc}", EXIT_USAGE)


def verify_since(ledger: Any, since: str, trust_path: Path | None, quiet: bool = False) -> dict[str, Any]:
    """`ledger verify --since CHECKPOINT`: whether the store extends it (`extends`), the checkpoint's
    size, how its signatures were checked and the proof's lines; printed on stdout unless `quiet`."""
    from ledger.since import verify_since as check

    checkpoint, how = load_since(ledger, since, read_trust(trust_path))
    result = check(ledger, checkpoint)
    if not quiet:
        for line in result.lines:
            typer.echo(("since: " if result.ok else "broken: ") + line)
        typer.echo(f"since: checkpoint {checkpoint.size}: {how}")  # part of the verdict: stdout, as the rest
    return {"checkpoint": checkpoint.size, "extends": result.ok, "signatures": how, "checks": list(result.lines)}
