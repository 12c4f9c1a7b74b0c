"""The AsyncAPI 3.0 document of the five Kafka topics, generated from the catalogue's models.

Written by `ledger schema` next to the JSON Schemas (`domain/schemas/asyncapi.json`) and
validated in the tests with the official AsyncAPI parser. Messages on `ledger.events` and the
inbound topics are CloudEvents in binary mode: the payload is the type's `data`, the
attributes are `ce_*` headers (`content-type` for `datacontenttype`), the key is the address.
No Kafka import here.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from consumers.intake import (
    H_CODE,
    H_NULL_VALUE,
    H_OFFSET,
    H_ORG,
    H_PARTITION,
    H_RESULT,
    H_SHA256,
    H_TOPIC,
    H_WITHHELD,
)
from consumers.topics import DEFAULT_RETENTION_DAYS, EVENTS, INBOUND, REJECTIONS, TopicSpec, topic_specs
from domain.catalogue import CATALOGUE, EventType
from domain.results import CODES, PERSONAL_DATA
from domain.schemas import BASE_ID, event_schema, render

FILE_NAME = "asyncapi.json"
BINDING_VERSION = "0.5.0"
SUBJECT = {"type": "string", "pattern": r"^\d{4}20\d{10}$", "description": "BAG nummeraanduiding id (the address)"}
STORED_TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"}
HEX64 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
CHANNEL_IDS = {
    EVENTS: "ledgerEvents",
    "ledger.inbound.img": "inboundImg",
    "ledger.inbound.ncg": "inboundNcg",
    "ledger.inbound.portal": "inboundPortal",
    REJECTIONS: "ledgerRejections",
}


def _non_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional attribute's schema without its `null` branch (absent headers stand for null)."""
    schema = {k: v for k, v in schema.items() if k not in ("default", "title")}
    branches = schema.pop("anyOf", None)
    if branches:
        schema.update(next(b for b in branches if b.get("type") != "null"))
    return schema


def _headers(entry: EventType, stored: bool) -> dict[str, Any]:
    """The binary-mode headers of one type: inbound (publisher-set) or as published on ledger.events."""
    structured = event_schema(entry)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, schema in structured["properties"].items():
        if name == "data":
            continue
        header = "content-type" if name == "datacontenttype" else f"ce_{name}"
        item = _non_null(schema)
        item.setdefault("type", "string")
        properties[header] = item
        if name in structured["required"]:
            required.append(header)
    if stored:
        properties["ce_time"] = dict(STORED_TIME)
        properties["ce_recordedtime"] = dict(STORED_TIME, description="when the ledger accepted it (UTC)")
        properties["ce_streamposition"] = {
            "type": "string",
            "pattern": "^[1-9][0-9]*$",
            "description": "1-based position in the address's stream, as a decimal string",
        }
        properties["ce_prevhash"] = dict(HEX64, description="hash of the previous event of this address")
        properties["ce_hash"] = dict(HEX64, description="SHA-256 of the canonical form (contract §5)")
        required += ["ce_recordedtime", "ce_streamposition", "ce_prevhash", "ce_hash"]
    return {"type": "object", "properties": properties, "required": required}


def _data(entry: EventType) -> dict[str, Any]:
    data = copy.deepcopy(event_schema(entry)["properties"]["data"])
    data["description"] = f"`data` of {entry.name}: {entry.dutch} ({entry.english})"
    return data


def _kafka_message_binding() -> dict[str, Any]:
    return {"kafka": {"key": dict(SUBJECT), "bindingVersion": BINDING_VERSION}}


def _channel_binding(spec: TopicSpec) -> dict[str, Any]:
    configs = spec.configs
    return {
        "kafka": {
            "topic": spec.name,
            "partitions": spec.partitions,
            "replicas": spec.replication,
            "topicConfiguration": {
                "cleanup.policy": [configs["cleanup.policy"]],
                "retention.ms": int(configs["retention.ms"]),
                "retention.bytes": int(configs["retention.bytes"]),
            },
            "bindingVersion": BINDING_VERSION,
        }
    }


# Where a rejected record was read, in the headers of every rejection.
_POSITION_HEADERS = {
    H_TOPIC: {"type": "string", "enum": sorted(INBOUND), "description": "the inbound topic it was read from"},
    H_PARTITION: {"type": "string", "pattern": "^[0-9]+$"},
    H_OFFSET: {"type": "string", "pattern": "^[0-9]+$"},
    H_ORG: {"type": "string", "enum": sorted(set(INBOUND.values()))},
}


def _rejection_message(
    name: str,
    title: str,
    summary: str,
    *,
    result: str,
    code: dict[str, Any],
    headers: dict[str, Any],
    required: list[str],
    additional: bool,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """A message of `ledger.rejections`: the result (described by `result`), its `code` and where the
    record was read in ledger_* headers, then `headers` (the `required` ones among them)."""
    return {
        "name": name,
        "title": title,
        "summary": summary,
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "properties": {
                H_RESULT: {"type": "string", "description": result},
                H_CODE: code,
                **copy.deepcopy(_POSITION_HEADERS),
                **headers,
            },
            "required": [H_RESULT, H_CODE, H_TOPIC, H_PARTITION, H_OFFSET, H_ORG, *required],
            "additionalProperties": additional,
        },
        "payload": payload,
    }


def _messages() -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for event_type, entry in sorted(CATALOGUE.items()):
        for stored in (False, True):
            messages[f"{'Stored' if stored else 'Inbound'}{entry.name}"] = {
                "name": entry.name,
                "title": f"{entry.name} ({'as published by the ledger' if stored else 'as submitted'})",
                "summary": f"{entry.dutch}: {entry.english}; emitted by {', '.join(sorted(entry.emitters))}.",
                "contentType": "application/json",
                "headers": _headers(entry, stored),
                "payload": {"$ref": f"#/components/schemas/{entry.name}Data"},
                "bindings": _kafka_message_binding(),
                "externalDocs": {
                    "url": f"{BASE_ID}{event_type}",
                    "description": f"the structured-mode JSON Schema (domain/schemas/{event_type}.json)",
                },
            }
    messages["StructuredCloudEvent"] = {
        "name": "StructuredCloudEvent",
        "title": "Any catalogue event in CloudEvents structured mode",
        "summary": "The whole event as JSON in the value; header content-type: application/cloudevents+json.",
        "contentType": "application/cloudevents+json",
        "headers": {
            "type": "object",
            "properties": {"content-type": {"type": "string", "pattern": "^application/cloudevents\\+json"}},
            "required": ["content-type"],
        },
        "payload": {
            "type": "object",
            "required": ["specversion", "id", "source", "type", "subject", "time", "org", "data"],
            "properties": {
                "specversion": {"const": "1.0"},
                "type": {"enum": sorted(CATALOGUE)},
                "subject": dict(SUBJECT),
                "data": {"type": "object"},
            },
            "description": "Validated against the per-type JSON Schema named by `type` (domain/schemas/<type>.json).",
        },
        "bindings": _kafka_message_binding(),
    }
    messages["Rejection"] = _rejection_message(
        "Rejection",
        "An inbound record that was not appended (any code but personal_data)",
        "The original key, value and headers, plus the ledger's result in ledger_* headers.",
        result="JSON: id, result (rejected), code, message, path, topic, partition, offset, org",
        code={"type": "string", "enum": [c for c in CODES if c != PERSONAL_DATA]},
        headers={H_NULL_VALUE: {"type": "string", "const": "true", "description": "the original value was null"}},
        required=[],
        additional=True,
        payload={"description": "the original record value, byte for byte"},
    )
    messages["PersonalDataRejection"] = _rejection_message(
        "PersonalDataRejection",
        "An inbound record rejected as personal_data: without its payload",
        (
            "No value and none of the original headers (contract §2): the result, where the record was read "
            "and the SHA-256 of its value, and a well-formed traceparent. The key is the original key when that "
            "is a BAG id, else null."
        ),
        result=(
            "JSON: id (when a UUID), result (rejected), code (personal_data), message (never repeating "
            "the value), path, topic, partition, offset, org, sha256, withheld (true)"
        ),
        code={"type": "string", "const": PERSONAL_DATA},
        headers={
            H_SHA256: dict(
                HEX64,
                description=(
                    "SHA-256 of the original record value, exactly the bytes read from the inbound topic "
                    "(binary mode: the data JSON; structured mode: the whole event)"
                ),
            ),
            H_WITHHELD: {"type": "string", "const": "true", "description": "the payload and headers were left out"},
            "traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "the record's W3C traceparent, when it had a well-formed one (events §1)",
            },
        },
        required=[H_SHA256, H_WITHHELD],
        additional=False,
        payload={"type": "string", "maxLength": 0, "description": "empty: the payload is withheld"},
    )
    messages["PersonalDataRejection"]["bindings"] = {
        "kafka": {
            "key": dict(SUBJECT, description="the original key when it is a BAG id (the address); else null"),
            "bindingVersion": BINDING_VERSION,
        }
    }
    return messages


def asyncapi_document(partitions: int = 12, brokers: int = 3) -> dict[str, Any]:
    """The AsyncAPI 3.0 document (as a dict) for a cluster of `brokers` brokers."""
    specs = {s.name: s for s in topic_specs(brokers, partitions)}
    entries = sorted(CATALOGUE.values(), key=lambda e: e.type)
    channels: dict[str, Any] = {}
    for name, spec in specs.items():
        cid = CHANNEL_IDS[name]
        if name == EVENTS:
            refs = {f"Stored{e.name}": f"Stored{e.name}" for e in entries}
        elif name == REJECTIONS:
            refs = {"Rejection": "Rejection", "PersonalDataRejection": "PersonalDataRejection"}
        else:
            org = INBOUND[name]
            refs = {f"Inbound{e.name}": f"Inbound{e.name}" for e in entries if org in e.emitters}
            refs["StructuredCloudEvent"] = "StructuredCloudEvent"
        channels[cid] = {
            "address": name,
            "title": name,
            "description": spec.description,
            "messages": {key: {"$ref": f"#/components/messages/{ref}"} for key, ref in refs.items()},
            "bindings": _channel_binding(spec),
        }
    operations: dict[str, Any] = {
        "publishAcceptedEvents": {
            "action": "send",
            "title": "The relay publishes every accepted event",
            "channel": {"$ref": f"#/channels/{CHANNEL_IDS[EVENTS]}"},
            "bindings": {"kafka": {"clientId": {"type": "string"}, "bindingVersion": BINDING_VERSION}},
        },
        "publishRejections": {
            "action": "send",
            "title": "The intake publishes every record it did not append",
            "channel": {"$ref": f"#/channels/{CHANNEL_IDS[REJECTIONS]}"},
        },
    }
    for name, org in INBOUND.items():
        operations[f"receive{org.title()}Submissions"] = {
            "action": "receive",
            "title": f"The intake appends what {org} publishes",
            "channel": {"$ref": f"#/channels/{CHANNEL_IDS[name]}"},
            "bindings": {
                "kafka": {"groupId": {"type": "string", "const": "ledger-intake"}, "bindingVersion": BINDING_VERSION}
            },
        }
    return {
        "asyncapi": "3.0.0",
        "id": "urn:nl:groningen:ledger:kafka",
        "info": {
            "title": "Groningen coordination ledger: Kafka topics",
            "version": "1.0.0",
            "description": (
                "The ledger's Kafka interface (contract v1). IMG, NCG and the resident portal submit CloudEvents "
                "on their inbound topic (the topic decides the organisation); every accepted event is published "
                "on ledger.events in CloudEvents binary mode, keyed by address, with the ledger's attributes; every "
                "record that was not appended goes to ledger.rejections with its result (one rejected as "
                "personal_data without its payload). The inbound and rejection topics keep records "
                f"{DEFAULT_RETENTION_DAYS} days by default, ledger.events forever. Generated from the models by "
                "`ledger schema`."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "production": {
                "host": "kafka.ledger.example:9092",
                "protocol": "kafka",
                "description": "Three brokers: replication 3, min.insync.replicas 2 (DESIGN §1).",
            },
            "local": {
                "host": "127.0.0.1:29092",
                "protocol": "kafka",
                "description": "deploy/kafka.sh start (one broker, replication 1).",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": _messages(),
            "schemas": {f"{e.name}Data": _data(e) for e in entries},
        },
    }


def write_asyncapi(out_dir: Path) -> Path:
    """Write `asyncapi.json` into `out_dir` (called by `ledger schema`); return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILE_NAME
    path.write_bytes(render(asyncapi_document()))
    return path
