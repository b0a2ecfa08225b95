"""The application factory: ``create_app(config)`` builds the Flask app over one store.

Every error, ours or werkzeug's, goes through :func:`handle_error`, the one place that
maps :class:`~mlg.errors.MlgError` (``http_status``, ``http_headers``) and werkzeug's
errors to the one JSON shape of :func:`~mlg.server.responses.error_response`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

from flask import Blueprint, Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from mlg.admission import install_ontology, recover
from mlg.config import Config
from mlg.errors import MlgError, PayloadTooLarge, ValidationFailed
from mlg.server.access_log import AccessLog
from mlg.server.api import api_blueprint
from mlg.server.executor import Executor
from mlg.server.graph_store import graph_store_blueprint
from mlg.server.receiver import receiver_blueprint
from mlg.server.responses import error_response
from mlg.server.sparql import sparql_blueprint
from mlg.server.state import ServerState
from mlg.server.writer import Link
from mlg.store import GraphStore, open_store

log = logging.getLogger("mlg.server")


def create_app(
    config: Config | None = None,
    *,
    store: GraphStore | None = None,
    executor: Executor | None = None,
    link: Link | None = None,
) -> Flask:
    """The mlg server over ``store`` (default: the store at ``config.store``, opened for writing).

    With ``link``, it is a worker of ``mlg serve``: it reads ``config.store`` read-only and
    sends writes to the writer process (:mod:`mlg.server.writer`).

    >>> from mlg.store import OxigraphStore
    >>> client = create_app(Config(), store=OxigraphStore(None)).test_client()
    >>> client.get("/healthz").json
    {'status': 'ok'}
    """
    config = config or Config.from_env()
    if store is None and link is None:
        store = open_served_store(config.store)
    state = ServerState.build(config, store, executor, link)  # type: ignore[arg-type]
    app = Flask("mlg")
    app.config.update(MAX_CONTENT_LENGTH=config.max_body_bytes, MAX_FORM_MEMORY_SIZE=config.max_body_bytes)
    app.extensions["mlg"] = state
    app.register_blueprint(sparql_blueprint(state))
    app.register_blueprint(graph_store_blueprint(state))
    app.register_blueprint(health_blueprint(state))
    app.register_blueprint(api_blueprint(state))
    app.register_blueprint(receiver_blueprint(state))
    app.register_error_handler(Exception, lambda error: handle_error(error, config))
    app.before_request(lambda: _limit_body(config))
    app.before_request(state.refresh)
    app.after_request(lambda response: _cors(state, response))
    app.wsgi_app = AccessLog(app.wsgi_app, log_queries=bool(config.log_queries))  # type: ignore[method-assign]
    return app


def open_served_store(path: Path) -> GraphStore:
    """The store a server holds: opened for writing, a crashed bulk load dropped, the ontology current."""
    store = open_store(path)
    for graph in recover(store):
        log.warning("dropped %s, left half-written by an interrupted load", graph.value)
    install_ontology(store)
    return store


def handle_error(error: Exception, config: Config) -> Response:
    if isinstance(error, RequestEntityTooLarge):
        error = PayloadTooLarge(_too_large(config))
    if isinstance(error, MlgError):
        findings = None
        if isinstance(error, ValidationFailed) and error.report is not None:
            findings = [asdict(finding) for finding in error.report.findings]  # type: ignore[attr-defined]
        return error_response(error.http_status, str(error), dict(error.http_headers), findings)
    if isinstance(error, HTTPException):
        headers = {k: v for k, v in error.get_headers() if k.lower() == "allow"}  # 405 says what is allowed
        return error_response(error.code or 500, error.description or error.name, headers)
    log.exception("unexpected error answering %s %s", request.method, request.path)
    return error_response(500, "internal error; the server log has the details")


def _too_large(config: Config) -> str:
    return f"the request body is over the limit of {config.max_body_bytes:,} bytes (MLG_MAX_BODY_BYTES)"


def _limit_body(config: Config) -> None:
    declared = request.environ.get("CONTENT_LENGTH")  # the raw header: most requests have none
    if declared and request.content_length is not None and request.content_length > config.max_body_bytes:
        raise PayloadTooLarge(_too_large(config))


def _cors(state: ServerState, response: Response) -> Response:
    """CORS headers for reads from configured origins; never on writes."""
    origin = request.headers.get("Origin")
    if not origin or not state.cors_origins:
        return response
    preflight = request.method == "OPTIONS" and request.endpoint in (
        "sparql.sparql",
        "graph_store.graph_store",
    )
    if not (request.environ.get("mlg.read") or preflight):
        return response
    allowed = "*" if "*" in state.cors_origins else origin if origin in state.cors_origins else None
    if allowed is None:
        return response
    response.headers["Access-Control-Allow-Origin"] = allowed
    response.vary.add("Origin")
    if preflight:
        methods = "GET, POST" if request.endpoint == "sparql.sparql" else "GET, HEAD"
        headers = "Accept, Content-Type" + (", Authorization" if state.tokens.read else "")
        response.headers["Access-Control-Allow-Methods"] = methods
        response.headers["Access-Control-Allow-Headers"] = headers
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def health_blueprint(state: ServerState) -> Blueprint:
    blueprint = Blueprint("health", __name__)

    @blueprint.route("/healthz")
    def healthz() -> Response:
        """The process answers (for a liveness probe)."""
        return Response('{"status": "ok"}\n', mimetype="application/json")

    @blueprint.route("/readyz")
    def readyz() -> Response:
        """The store answers a query (for a readiness probe)."""
        try:
            bool(state.store.query("ASK {}"))
        except MlgError as error:
            return error_response(503, f"the store does not answer: {error}")
        return Response('{"status": "ready"}\n', mimetype="application/json")

    return blueprint
