"""The bodies the server answers with when there is no data: errors and empty successes.

Every error has one JSON shape, ``{"error": {"status": 400, "message": "..."}}`` (a SHACL
rejection adds ``"findings"``), whatever the client asked for in Accept: an error is not
a query result, and one shape is one parser for every client.
"""

from __future__ import annotations

import json

from flask import Response


def empty_response(status: int, headers: dict[str, str] | None = None) -> Response:
    """A response without a body, and so without a Content-Type."""
    response = Response(status=status, headers=headers or {})
    del response.headers["Content-Type"]
    return response


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, findings: list[dict] | None = None
) -> Response:
    """The one shape of every error the server answers."""
    body: dict[str, object] = {"error": {"status": status, "message": message}}
    if findings is not None:
        body["findings"] = findings
    return Response(
        json.dumps(body, ensure_ascii=False) + "\n", status, headers or {}, mimetype="application/json"
    )
