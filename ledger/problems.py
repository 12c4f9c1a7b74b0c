"""RFC 9457 problem details: the one shape of the HTTP API's errors (`application/problem+json`).

`type` is `about:blank`, so `title` is the status's phrase; `detail` is the one-line message the
CLI prints too. A bad query parameter is named in `invalid-params` (RFC 9457 §3's own
extension: `name`, `reason`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from http import HTTPStatus

import orjson
from starlette.responses import Response

PROBLEM = "application/problem+json"


def problem(
    status: int, detail: str, *, parameter: str | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    """A problem details response."""
    body: dict[str, object] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if parameter is not None:
        body["invalid-params"] = [{"name": parameter, "reason": detail}]
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM, headers=headers)


@dataclass(eq=False)
class HttpError(Exception):
    """A request refused with `status` and a one-line `detail`, naming the `parameter` at fault if one is."""

    status: int
    detail: str
    parameter: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    @property
    def message(self) -> str:
        """The detail, as the one-line message the CLI prints too."""
        return self.detail

    def response(self) -> Response:
        """The refusal as problem details."""
        return problem(self.status, self.detail, parameter=self.parameter)


class BadParameter(HttpError):
    """A query parameter that is unknown, missing or malformed: 422, naming it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(422, message, parameter)


def refuse_unknown(query: Iterable[str], allowed: Set[str]) -> None:
    """Raise `BadParameter` for the first (by name) parameter of `query` that is not `allowed`."""
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise BadParameter(unknown[0], f"unknown parameter {unknown[0]!r}")
