"""A service's OpenAPI document as the contract partners generate clients from.

FastAPI describes the routes and their bodies; this adds what every Mandi API shares and FastAPI
cannot know: the gateway's base path as the server, how a caller authenticates (a bearer access
token or an API key, except on operations that say `security: []`), and every error a caller
can meet, each an RFC 9457 `application/problem+json` document, with `Retry-After` where the
caller should wait.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from copy import deepcopy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from mandi_errors.http import PROBLEM_JSON, ProblemDetail, ValidationProblemDetail

__all__ = ["ERROR_RESPONSES", "Amendment", "install_contract"]

# Completes the document with what only the running service knows (e.g. its configured plans).
Amendment = Callable[[dict[str, Any]], None]

_REF = "#/components/schemas/{model}"
_PROBLEM = {"$ref": _REF.format(model="ProblemDetail")}
_VALIDATION_PROBLEM = {"$ref": _REF.format(model="ValidationProblemDetail")}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}

# Every error a Mandi API (or the gateway in front of it) answers, by status.
ERROR_RESPONSES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "400": ("The request cannot be read (malformed JSON, a bad cursor).", _PROBLEM, {}),
    "401": ("No credential, or one that is not valid (expired, revoked, unknown).", _PROBLEM, {}),
    "403": ("The credential lacks the scope or the right to do this.", _PROBLEM, {}),
    "404": ("No such resource, or none the caller may see.", _PROBLEM, {}),
    "409": ("The request conflicts with the resource's state.", _PROBLEM, {}),
    "412": ("If-Match names a version the resource no longer has.", _PROBLEM, {}),
    "413": ("The body is larger than the API accepts.", _PROBLEM, {}),
    "415": ("The body is not JSON.", _PROBLEM, {}),
    "422": (
        "The request is well formed but not valid; `errors` says where.",
        _VALIDATION_PROBLEM,
        {},
    ),
    "428": ("This change needs If-Match with the version read.", _PROBLEM, {}),
    "429": ("Too many requests; wait Retry-After seconds.", _PROBLEM, _RETRY_AFTER),
    "503": (
        "A dependency is briefly unavailable; retry after Retry-After seconds.",
        _PROBLEM,
        _RETRY_AFTER,
    ),
}
_SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from POST /api/v1/auth/login.",
    },
    "apiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
        "description": "A partner integration's API key (`mandi_live_…`).",
    },
}
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def install_contract(app: FastAPI, service: str, amendments: Sequence[Amendment] = ()) -> None:
    """Makes `app.openapi()` answer the completed document, built once."""

    def contract() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                routes=app.routes,
                servers=[{"url": f"/api/v1/{service}"}],
            )
            document = completed(document)
            for amend in amendments:
                amend(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = contract  # type: ignore[method-assign]


def completed(document: dict[str, Any]) -> dict[str, Any]:
    """The document with the shared error responses, problem schemas and security added."""
    document = deepcopy(document)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(_problem_schemas())
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = _SECURITY_SCHEMES
    document["security"] = [{"bearer": []}, {"apiKey": []}]
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            if method in _HTTP_METHODS:
                _add_errors(operation)
                _without_null_parameters(operation)
    return document


def _without_null_parameters(operation: dict[str, Any]) -> None:
    # A header, query or path parameter is present or absent, never null: FastAPI writes an
    # optional one as `anyOf: [<schema>, {type: null}]`, which would invite a literal "null".
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        options = [option for option in schema.get("anyOf", []) if option != {"type": "null"}]
        if len(options) == 1 and len(options) < len(schema.get("anyOf", [])):
            extras = {name: value for name, value in schema.items() if name != "anyOf"}
            parameter["schema"] = {**options[0], **extras}


def _problem_schemas() -> dict[str, Any]:
    definitions: dict[str, Any] = {}
    for model in (ProblemDetail, ValidationProblemDetail):
        schema = model.model_json_schema(ref_template=_REF)
        definitions.update(schema.pop("$defs", {}))
        definitions[model.__name__] = schema
    return definitions


def _add_errors(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for status, (description, schema, headers) in ERROR_RESPONSES.items():
        response: dict[str, Any] = {
            "description": description,
            "content": {PROBLEM_JSON: {"schema": schema}},
        }
        if headers:
            response["headers"] = headers
        responses[status] = response
