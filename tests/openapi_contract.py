"""Every HTTP response the tests get is checked against the ledger's OpenAPI document.

`install` (an autouse fixture of `tests/conftest.py`) wraps httpx's `Client.send` and
`AsyncClient.send`, which every way the tests talk HTTP goes through: FastAPI's `TestClient`,
httpx on the app in process (`ASGITransport`, `tests.ledger.identity_support.Client`), and
httpx against a real `ledger serve` (`tests.serving.ledger_serve` registers its base URL). Each
response of the ledger's API is validated with openapi-core against the document the app
serves at `/openapi.json` (`ledger.http.create_app`): its status must be documented for that
operation, its media type documented for that status, its body valid for that media type's
schema (JSON bodies parsed; text bodies as strings), every documented required header present.
A response for a path or method the document does not have must be problem details
(`Problem`). So every HTTP test is also a contract test: a response that drifts from the
document fails the test that got it.

Not checked: the witness's app (`ledger witness`, its own C2SP API) and FastAPI's own pages
(`/docs`, `/redoc`, `/openapi.json`), and the web app's pages (`WEB_APP`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.util import json_loads, plain_loads
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

LEDGER_TITLE = "Groningen coordination ledger"
NOT_DOCUMENTED = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
# The web app's pages and assets (ledger/web/): HTML for people, checked in a browser by tests/web.
WEB_APP = ("/adres/", "/static/", "/dashboard", "/status", "/aanmelden", "/afmelden", "/werklijst")
JSON_TYPES = ("application/problem+json", "application/schema+json")
TEXT_TYPES = ("text/markdown",)  # text/plain and text/html: openapi-core knows them
_servers: set[str] = set()  # base URLs of real `ledger serve` processes


class ContractViolation(AssertionError):
    pass


def register_server(base: str) -> None:
    """Check the responses of the `ledger serve` at `base` too."""
    _servers.add(base.rstrip("/"))


@functools.cache
def ledger_document() -> str:
    """The ledger's OpenAPI document (JSON text), as `create_app` serves it."""
    from ledger.http import create_app

    return orjson.dumps(create_app(limit=1, verifier=None).openapi()).decode()


@functools.cache
def validator(document: str) -> OpenAPI:
    spec = orjson.loads(document)
    # openapi-core deserializes the media types it knows; the API's JSON flavours are JSON, its
    # texts (UTF-8) strings.
    extra: dict[str, Callable[..., Any]] = {media: json_loads for media in JSON_TYPES}
    extra.update({media: plain_loads for media in TEXT_TYPES})
    return OpenAPI.from_dict(spec, config=_config(extra))


def _config(extra: dict[str, Callable[..., Any]]) -> Any:
    from openapi_core import Config

    return Config(extra_media_type_deserializers=extra)


class _Request:
    def __init__(self, request: httpx.Request) -> None:
        url = urlsplit(str(request.url))
        self.host_url = f"{url.scheme}://{url.netloc}"
        self.path = url.path
        self.method = request.method.lower()
        query = httpx.QueryParams(url.query)
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(query.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )
        self.content_type = request.headers.get("content-type", "")
        self.body = None  # requests are not validated here: the tests send malformed ones on purpose


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(list(response.headers.items()))
        self.data = response.content


def check(document: str, request: httpx.Request, response: httpx.Response, *, ledger_app: bool = True) -> None:
    """Raise ContractViolation when `response` to `request` is not what `document` describes."""
    path = urlsplit(str(request.url)).path
    if path in NOT_DOCUMENTED or path == "/" or path.startswith(WEB_APP):
        return
    openapi = validator(document)
    what = f"{request.method} {request.url} -> {response.status_code} {response.headers.get('content-type')}"
    try:
        openapi.validate_response(_Request(request), _Response(response))  # (validation only: ~4 ms a case view)
    except (PathNotFound, OperationNotFound):
        if ledger_app:
            _check_problem(document, what, response)
    except Exception as exc:  # openapi-core's errors: the response is not the documented one
        raise ContractViolation(f"{what}: {_explain(exc)[:1500]}\nbody: {response.content[:300]!r}") from None


def _check_problem(document: str, what: str, response: httpx.Response) -> None:
    """A response outside the document: it must still be problem details."""
    if response.headers.get("content-type") != "application/problem+json":
        raise ContractViolation(f"{what}: not in the document, and not problem details")
    import jsonschema

    schema = {"$ref": "#/components/schemas/Problem", "components": orjson.loads(document)["components"]}
    try:
        jsonschema.validate(orjson.loads(response.content), schema)
    except jsonschema.ValidationError as exc:
        raise ContractViolation(f"{what}: not problem details: {exc.message}") from None


def _explain(error: Exception) -> str:
    causes = getattr(error, "schema_errors", None) or getattr(getattr(error, "__cause__", None), "schema_errors", None)
    if causes:
        return f"{error}: " + "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in causes)
    return f"{error!r}" + (f" (from {error.__cause__!r})" if error.__cause__ else "")


def _document_for(client: httpx.Client | httpx.AsyncClient, request: httpx.Request) -> tuple[str, bool] | None:
    """The document a response of this client is checked against, and whether the app is the
    whole ledger app; None: not the ledger's API."""
    app = getattr(client._transport, "app", None)
    if app is not None:
        title = getattr(app, "title", None)
        if isinstance(title, str) and title.startswith("tlog-witness"):
            return None
        if title == LEDGER_TITLE:
            return orjson.dumps(app.openapi()).decode(), True  # its own (a test may add routes)
        return ledger_document(), False  # e.g. the replay's router alone: the ledger's document
    url = str(request.url)
    if any(url.startswith(base + "/") for base in _servers):
        return ledger_document(), True
    return None


def _checked(response: httpx.Response, client: Any, request: httpx.Request, stream: bool) -> None:
    if stream:
        return  # not read here; streaming tests read bodies themselves
    target = _document_for(client, request)
    if target is not None:
        check(target[0], request, response, ledger_app=target[1])


def install() -> Iterator[None]:
    """Wrap httpx's send for the duration of one test (a generator for a pytest fixture)."""
    sync_send = httpx.Client.send
    async_send = httpx.AsyncClient.send

    def send(self: httpx.Client, request: httpx.Request, *args: Any, **kw: Any) -> httpx.Response:
        response = sync_send(self, request, *args, **kw)
        _checked(response, self, request, kw.get("stream", False))
        return response

    async def asend(self: httpx.AsyncClient, request: httpx.Request, *args: Any, **kw: Any) -> httpx.Response:
        response = await async_send(self, request, *args, **kw)
        _checked(response, self, request, kw.get("stream", False))
        return response

    httpx.Client.send = send  # type: ignore[method-assign]
    httpx.AsyncClient.send = asend  # type: ignore[method-assign]
    try:
        yield
    finally:
        httpx.Client.send = sync_send  # type: ignore[method-assign]
        httpx.AsyncClient.send = async_send  # type: ignore[method-assign]
