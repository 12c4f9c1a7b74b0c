"""The HTTP API's OpenAPI document, finished: response models of the ledger's own routes, and every
error response documented as what it is — RFC 9457 problem details (`ledger.problems`).

The models describe; no endpoint builds its answer from them (they write JSON directly), and the
HTTP tests validate every response they get against the finished document
(`tests/openapi_contract.py`). `finish` runs once, when the document is first asked for.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ledger.identity.access import ACCESS_KEY, ADDRESS_LEVEL
from ledger.problems import PROBLEM


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InvalidParam(Closed):
    name: str = Field(description="the query or path parameter, or header, at fault")
    reason: str


class Problem(Closed):
    """RFC 9457 problem details: the one shape of every error of this API."""

    type: Literal["about:blank"] = Field(description="`about:blank`: `title` is the HTTP status phrase")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="the one-line message the CLI prints too")
    invalid_params: list[InvalidParam] | None = Field(
        None, alias="invalid-params", description="the parameter at fault (RFC 9457 §3's extension)"
    )


class ContractType(Closed):
    name: str
    type: str = Field(description="the CloudEvents `type`, e.g. nl.groningen.img.DamageClaimFiled.v1")
    schema_: str = Field(alias="schema", description="its JSON Schema: GET /contract/{schema}")
    group: str
    emitters: list[str]
    dutch: str
    english: str


class ContractIndex(Closed):
    """`GET /contract`: every event type of the contract with its JSON Schema's name."""

    title: str
    types: list[ContractType]


class AppendResult(Closed):
    """One event's result, as `ledger append` prints it (events §2)."""

    line: int = Field(ge=1, description="the event's 1-based place in the request")
    id: str | None
    result: Literal["accepted", "duplicate", "rejected"]
    code: str | None = Field(description="for a rejection: the contract's code (events §4)")
    message: str | None
    path: str | None
    streamposition: int | None
    recordedtime: str | None
    hash: str | None


class Ready(Closed):
    """`GET /readyz`: ready, and how far the projections are behind the event store."""

    status: Literal["ready"]
    max_lag: int
    position: int
    store_position: int
    behind: int


class InclusionProof(Closed):
    """RFC 9162 §2.1.3 inclusion proof; hashes in base64."""

    position: int = Field(ge=1)
    size: int = Field(ge=1)
    leaf_hash: str
    root: str
    proof: list[str]


class ConsistencyProof(Closed):
    """RFC 9162 §2.1.4 consistency proof; hashes in base64."""

    from_: int = Field(alias="from", ge=1)
    to: int = Field(ge=1)
    from_root: str
    to_root: str
    proof: list[str]


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
HEADERS = {
    "401": {"WWW-Authenticate": "the RFC 6750 challenge"},
    "403": {"WWW-Authenticate": "the RFC 6750 challenge (insufficient_scope)"},
    "503": {"Retry-After": "seconds until asking again is worthwhile"},
}


def _model_schemas(schema: dict[str, Any], *models: type[BaseModel]) -> None:
    """Add the models' JSON Schemas (and their definitions) to the document's components."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in models:
        body = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True, mode="serialization")
        components.update(body.pop("$defs", {}))
        components[model.__name__] = body


def finish(schema: dict[str, Any]) -> dict[str, Any]:
    """Every error response as problem details, and nothing FastAPI documents that cannot happen:
    its `HTTPValidationError` 422 (every parameter is read as text and checked by the endpoint,
    which answers problem details) is dropped where the route declares no 422 of its own."""
    _model_schemas(schema, Problem)
    components = schema["components"]["schemas"]
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            if operation.get(ACCESS_KEY) in ADDRESS_LEVEL:
                responses.setdefault(
                    "503", {"description": "reads of address data are refused until they can be logged"}
                )
            for status in list(responses):
                response = responses[status]
                content = response.get("content", {})
                if "HTTPValidationError" in str(content):
                    del responses[status]
                    continue
                if method == "head":
                    response.pop("content", None)  # no body, whatever GET's would be
                elif status[0] in "45":
                    response["content"] = {PROBLEM: {"schema": PROBLEM_REF}}
                    for header, description in HEADERS.get(status, {}).items():
                        response.setdefault("headers", {})[header] = {
                            "description": description,
                            "schema": {"type": "string"},
                        }
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused not in str(schema.get("paths")):
            components.pop(unused, None)
    return schema
