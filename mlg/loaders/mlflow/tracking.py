"""The reader of a live MLflow tracking store and model registry, through MLflow's own client.

``mlflow+sqlite:///mlflow.db`` is checked first with :mod:`sqlite3`, read-only (MLflow
would create, set up or migrate it); ``mlflow+http(s)://host:port`` is probed with a
socket (MLflow would retry for minutes). Only then is ``mlflow`` imported, here and
nowhere else, so the package loads without it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sqlite3
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from mlg.errors import InputError
from mlg.loaders import require
from mlg.loaders.mlflow.model import (
    CONTEXT_TAG,
    LOGGED_MODEL_SOURCE,
    DatasetInput,
    Experiment,
    LoggedModel,
    Metric,
    ModelVersion,
    RegisteredModel,
    Registry,
    Run,
)

SCHEMES = ("mlflow+sqlite", "mlflow+http", "mlflow+https")
"""``mlflow+`` and the tracking URI MLflow's client is given."""
PAGE = 5000
"""Runs and model versions asked for at a time."""
_MLFLOW_TABLES = {"experiments", "runs", "alembic_version"}


def _sqlite_store(location: str, tracking_uri: str) -> tuple[str, str | None]:
    """A read-only SQLAlchemy URI of an existing MLflow SQLite store, and its schema revision.

    Checked before MLflow sees it: MLflow would create a missing file, set up an empty
    one and migrate an old one, all writes to what the user only asked to read.
    """
    path = Path(tracking_uri.removeprefix("sqlite:///").split("?", 1)[0])
    if not tracking_uri.startswith("sqlite:///") or not str(path) or str(path) == ".":
        raise InputError(
            "expected mlflow+sqlite:///path/to/mlflow.db (a file after three slashes)", where=location
        )
    if not path.is_file():
        raise InputError(
            f"no such file: {path}" if not path.exists() else f"{path} is not a file", where=location
        )
    readonly = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(readonly, uri=True)) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            row = (
                db.execute("SELECT version_num FROM alembic_version").fetchone()
                if "alembic_version" in tables
                else None
            )
    except sqlite3.Error as error:
        raise InputError(f"{path} is not an SQLite database ({error})", where=location) from None
    if not tables >= _MLFLOW_TABLES:
        raise InputError(
            f"{path} is not an MLflow tracking store (no experiments and runs tables)", where=location
        )
    return f"sqlite:///{readonly}&uri=true", row[0] if row else None


def _reachable(location: str, tracking_uri: str) -> None:
    """Fail in seconds on a server that is not there, not after MLflow's minutes of retries."""
    try:
        parts = urlsplit(tracking_uri)
        address = (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    except ValueError as error:
        raise InputError(f"not a valid tracking server address: {error}", where=location) from None
    if not address[0]:
        raise InputError("expected mlflow+http://host:port", where=location)
    try:
        socket.create_connection(address, timeout=5).close()
    except OSError as error:
        reason = error.strerror or str(error)
        raise InputError(
            f"cannot reach the MLflow server at {address[0]}:{address[1]}: {reason}", where=location
        ) from None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """MLflow's INFO logs and warnings stay out of mlg's output; HTTP retries stay short."""
    loggers = [logging.getLogger(name) for name in ("mlflow", "alembic", "urllib3")]
    levels = [logger.level for logger in loggers]
    settings = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}
    added = [name for name in settings if name not in os.environ]
    os.environ.update({name: settings[name] for name in added})
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        for name in added:
            os.environ.pop(name, None)


def _pages(fetch: Callable[[str | None], Any]) -> Iterator[Any]:
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def _live_metric(metric: Any) -> Metric:
    return Metric(
        key=metric.key, value=metric.value, step=metric.step or 0, timestamp=metric.timestamp or 0,
        dataset_name=getattr(metric, "dataset_name", None), model_id=getattr(metric, "model_id", None),
        dataset_digest=getattr(metric, "dataset_digest", None), run_id=getattr(metric, "run_id", None),
    )  # fmt: skip


def _live_run(run: Any, location: str) -> Run:
    info, inputs, outputs = run.info, getattr(run, "inputs", None), getattr(run, "outputs", None)
    where = f"{location}: run {info.run_id}"
    datasets = []
    for item in getattr(inputs, "dataset_inputs", None) or []:
        data = item.dataset
        datasets.append(DatasetInput(
            name=data.name, digest=data.digest, where=f"{where} input {data.name}",
            source_type=data.source_type or "", source=data.source or "", schema=data.schema or None,
            profile=data.profile or None, run_id=info.run_id, experiment_id=info.experiment_id,
            context=next((tag.value for tag in item.tags or [] if tag.key == CONTEXT_TAG), None),
        ))  # fmt: skip
    return Run(
        id=info.run_id, where=where, experiment_id=info.experiment_id, name=info.run_name or None,
        user=info.user_id or None, status=info.status, start=info.start_time, end=info.end_time,
        params=dict(run.data.params), metrics=[Metric(k, v) for k, v in run.data.metrics.items()],
        tags=dict(run.data.tags), inputs=datasets,
        model_inputs=[m.model_id for m in getattr(inputs, "model_inputs", None) or []],
        model_outputs=[m.model_id for m in getattr(outputs, "model_outputs", None) or []],
        extra={"artifact_uri": info.artifact_uri},
    )  # fmt: skip


def _live_version(version: Any, location: str) -> ModelVersion:
    matched = LOGGED_MODEL_SOURCE.match(version.source or "")
    return ModelVersion(
        model=version.name, version=str(version.version), run_id=version.run_id or None,
        where=f"{location}: model version {version.name}/{version.version}",
        model_id=getattr(version, "model_id", None) or (matched.group(1) if matched else None),
        description=version.description or None, user=version.user_id or None,
        stage=version.current_stage or None, status=version.status or None,
        created=version.creation_timestamp, modified=version.last_updated_timestamp,
        tags=dict(version.tags or {}), aliases=[str(alias) for alias in version.aliases or []],
        extra={"source": None if matched else version.source, "status_message": version.status_message},
    )  # fmt: skip


def _live_logged_model(model: Any, location: str) -> LoggedModel:
    status = str(getattr(model.status, "value", model.status))
    return LoggedModel(
        id=model.model_id, where=f"{location}: logged model {model.model_id}", name=model.name,
        experiment_id=model.experiment_id, source_run_id=model.source_run_id or None,
        created=model.creation_timestamp, modified=model.last_updated_timestamp,
        params=dict(model.params or {}), tags=dict(model.tags or {}),
        metrics=[_live_metric(metric) for metric in model.metrics or []],
        extra={"model_type": model.model_type, "artifact_location": model.artifact_location,
               "status": None if status == "READY" else status},
    )  # fmt: skip


def read_store(location: str) -> Registry:
    """Everything active in a tracking store and its model registry, read with MLflow's client."""
    scheme, rest = location.split("://", 1)
    tracking_uri = f"{scheme.lower().removeprefix('mlflow+')}://{rest}"
    revision, ui_url = None, None
    if tracking_uri.startswith("sqlite:"):
        uri, revision = _sqlite_store(location, tracking_uri)
    else:
        _reachable(location, tracking_uri)
        uri, ui_url = tracking_uri, tracking_uri.rstrip("/")
    # Reading a store is no usage to report: MLflow's telemetry stays off unless the user turned it on.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    registry = Registry(ui_url=ui_url)
    with _quiet():
        tracking = require("mlflow.tracking", "mlflow")
        from mlflow.exceptions import MlflowException

        failures: tuple[type[BaseException], ...] = (MlflowException, OSError)
        with contextlib.suppress(ImportError):
            from requests.exceptions import RequestException
            from sqlalchemy.exc import SQLAlchemyError

            failures += (RequestException, SQLAlchemyError)
        if revision is not None:
            _check_schema(location, revision)
        try:
            _read_client(tracking.MlflowClient(uri, registry_uri=uri), registry, location)
        except failures as error:
            lines = str(getattr(error, "message", "") or error).strip().splitlines() or [type(error).__name__]
            raise InputError(f"MLflow could not read the store: {lines[0][:300]}", where=location) from None
    return registry


def _check_schema(location: str, revision: str) -> None:
    """An older or newer store than this MLflow reads is refused, never migrated."""
    try:
        from mlflow.store.db.utils import _get_latest_schema_revision

        head = _get_latest_schema_revision()
    except Exception:  # a private helper of MLflow's; without it, MLflow's own check refuses such a store
        return
    if revision != head:
        from mlflow.version import VERSION

        raise InputError(
            f"the store's schema is at revision {revision} but MLflow {VERSION} reads {head}: read it with "
            "the MLflow that wrote it, or back it up and run `mlflow db upgrade`",
            where=location,
        )


def _read_client(client: Any, registry: Registry, location: str) -> None:
    from mlflow.entities import ViewType

    for e in _pages(lambda token: client.search_experiments(max_results=1000, page_token=token)):
        registry.experiments.append(Experiment(
            id=e.experiment_id, where=f"{location}: experiment {e.experiment_id}", name=e.name,
            created=e.creation_time, modified=e.last_update_time, tags=dict(e.tags or {}),
            extra={"artifact_location": e.artifact_location},
        ))  # fmt: skip
    ids = [experiment.id for experiment in registry.experiments]
    for chunk in [ids[start : start + 100] for start in range(0, len(ids), 100)]:
        for run in _pages(
            lambda token, chunk=chunk: client.search_runs(
                chunk, run_view_type=ViewType.ACTIVE_ONLY, max_results=PAGE, page_token=token
            )
        ):
            registry.runs.append(_live_run(run, location))
        if hasattr(client, "search_logged_models"):  # MLflow 3
            for model in _pages(
                lambda token, chunk=chunk: client.search_logged_models(
                    chunk, max_results=100, page_token=token
                )
            ):
                registry.logged_models.append(_live_logged_model(model, location))
    for m in _pages(lambda token: client.search_registered_models(max_results=1000, page_token=token)):
        registry.models.append(RegisteredModel(
            name=m.name, where=f"{location}: registered model {m.name}", description=m.description or None,
            created=m.creation_timestamp, modified=m.last_updated_timestamp, tags=dict(m.tags or {}),
            aliases={str(alias): str(version) for alias, version in (m.aliases or {}).items()},
        ))  # fmt: skip
    for version in _pages(lambda token: client.search_model_versions(max_results=PAGE, page_token=token)):
        registry.versions.append(_live_version(version, location))
