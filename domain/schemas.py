"""JSON Schema (2020-12) for every catalogue type, generated from the models alone."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson

from domain.catalogue import CATALOGUE, EventType
from domain.envelope import Envelope

SCHEMA_DIR = Path(__file__).parent / "schemas"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "urn:nl:groningen:ledger:schema:"


def _envelope_schema() -> dict[str, Any]:
    schema = Envelope.model_json_schema()
    schema["properties"].pop("recordedtime", None)
    return schema


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace local `$ref`s with their definitions so each schema stands alone."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(copy.deepcopy(defs[ref.split("/")[-1]]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    inlined: dict[str, Any] = walk(schema)
    return inlined


def event_schema(entry: EventType) -> dict[str, Any]:
    """The schema of one type's structured-mode CloudEvent as a publisher sends it."""
    schema = _inline(_envelope_schema())
    data = _inline(entry.model.model_json_schema())
    data.pop("title", None)
    schema["properties"]["type"] = {"const": entry.type, "title": "Type"}
    schema["properties"]["org"] = {"enum": sorted(entry.emitters), "title": "Org"}
    schema["properties"]["data"] = data
    schema["additionalProperties"] = False
    return {
        "$schema": DIALECT,
        "$id": f"{BASE_ID}{entry.type}",
        "title": entry.name,
        "description": f"{entry.dutch} ({entry.english}); emitted by {', '.join(sorted(entry.emitters))}.",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def stored_event_schema() -> dict[str, Any]:
    """The schema of an exported (stored) event: any catalogue type plus the ledger's attributes."""
    schema = _inline(_envelope_schema())
    ts = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"}
    hex64 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
    schema["properties"].update(
        {
            "type": {"enum": sorted(CATALOGUE), "title": "Type"},
            "time": ts,
            "recordedtime": ts,
            "streamposition": {"type": "integer", "minimum": 1},
            "prevhash": hex64,
            "hash": hex64,
        }
    )
    schema["required"] = sorted({*schema.get("required", []), "recordedtime", "streamposition", "prevhash", "hash"})
    schema["additionalProperties"] = False
    return {
        "$schema": DIALECT,
        "$id": f"{BASE_ID}stored-event.v1",
        "title": "StoredEvent",
        "description": "An accepted event as exported and published on ledger.events (structured mode).",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every type plus the stored-event schema and an index."""
    out = {f"{t}.json": event_schema(e) for t, e in sorted(CATALOGUE.items())}
    out["stored-event.v1.json"] = stored_event_schema()
    out["index.json"] = {
        "title": "Groningen coordination ledger: event contract v1",
        "types": [
            {
                "type": t,
                "name": e.name,
                "group": e.group,
                "dutch": e.dutch,
                "english": e.english,
                "emitters": sorted(e.emitters),
                "schema": f"{t}.json",
            }
            for t, e in sorted(CATALOGUE.items())
        ],
    }
    return out


def render(schema: dict[str, Any]) -> bytes:
    """Stable, readable bytes for a committed schema file."""
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def write_schemas(out: Path) -> list[Path]:
    """Write every schema into `out`; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        path = out / name
        path.write_bytes(render(schema))
        written.append(path)
    return written
