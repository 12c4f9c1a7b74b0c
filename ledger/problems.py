"""RFC 9457 problem details: the one shape of the HTTP API's errors (`application/problem+json`).

`type` is `about:blank`, so `title` is the status's phrase; `detail` is the one-line message the
CLI prints too. A bad query parameter is named in `invalid-params` (RFC 9457 §3's own
extension: `name`, `reason`).
"""

from __future__ import annotations

from collections.abc import Mapping
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
