"""The lineage API under /api: JSON over the same functions as the CLI.

``/api/assets`` is :func:`mlg.lineage.search` (``mlg search``), ``/api/assets/<ref>`` is
:func:`mlg.lineage.asset`, ``/api/lineage/<ref>`` is :func:`mlg.lineage.trace` (``mlg
lineage --format json``) and ``/api/impact/<ref>`` is :func:`mlg.lineage.impact` (``mlg
impact --format json``); every body is :func:`mlg.render.json_text` of the result's
``as_dict()``, so the API answers the same JSON the CLI prints (compact rather than
indented). The server passes its
in-memory :class:`~mlg.lineage_index.LineageIndex`, kept fresh after every write, so a
small lineage request runs no SPARQL; the answers are the same as from the store. ``/api/openapi.json``
describes every route (the file ``mlg/server/openapi.json``).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, request

from mlg import lineage, render
from mlg.errors import UsageError
from mlg.server.state import ServerState

OPENAPI = Path(__file__).with_name("openapi.json")


def _json(data: object) -> Response:
    return Response(render.json_text(data, compact=True) + "\n", mimetype="application/json")


def _integer(name: str, default: int | None, minimum: int) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise UsageError(f"{name} must be an integer, not {value!r}") from None
    if number < minimum:
        raise UsageError(f"{name} must be {minimum} or more, not {number}")
    return number


def api_blueprint(state: ServerState) -> Blueprint:
    blueprint = Blueprint("api", __name__, url_prefix="/api")

    @blueprint.before_request
    def readable() -> None:
        state.tokens.require_read(request.headers.get("Authorization"))
        request.environ["mlg.read"] = True

    @blueprint.route("/openapi.json")
    def openapi() -> Response:
        """The OpenAPI 3.1 description of this API."""
        return Response(OPENAPI.read_bytes(), mimetype="application/json")

    @blueprint.route("/assets")
    def assets() -> Response:
        """Assets by name substring, kind, owner and tag, one page at a time."""
        result = lineage.search(
            state.store,
            state.minter,
            request.args.get("q") or None,
            kind=request.args.get("kind") or None,
            owner=request.args.get("owner") or None,
            tag=request.args.get("tag") or None,
            limit=min(_integer("limit", 50, 1) or 50, 1000),
            offset=_integer("offset", 0, 0) or 0,
        )
        return _json(result.as_dict())

    @blueprint.route("/assets/<path:ref>")
    def asset(ref: str) -> Response:
        """One asset: its properties and its direct neighbours."""
        store, index = state.store, state.lineage
        node = lineage.resolve(store, state.minter, ref, index=index)
        return _json(lineage.asset(store, node, index=index).as_dict())

    @blueprint.route("/lineage/<path:ref>")
    def trace(ref: str) -> Response:
        """The upstream or downstream lineage subgraph of an asset."""
        direction = request.args.get("direction", "upstream")
        if direction not in ("upstream", "downstream"):
            raise UsageError(f"direction must be upstream or downstream, not {direction!r}")
        depth = _integer("depth", None, 0)
        store, index = state.store, state.lineage
        root = lineage.resolve(store, state.minter, ref, index=index)
        return _json(lineage.trace(store, root, direction, depth, index=index).as_dict())  # type: ignore[arg-type]

    @blueprint.route("/impact/<path:ref>")
    def impact(ref: str) -> Response:
        """What depends on an asset, by kind, and the owners to notify."""
        store, index = state.store, state.lineage
        root = lineage.resolve(store, state.minter, ref, index=index)
        return _json(lineage.impact(store, root, _integer("depth", None, 0), index=index).as_dict())

    return blueprint
