"""MLflow: a live tracking store, or the JSON files of mlflow-export-import.

Two readers, one mapping. ``mlflow+sqlite:///mlflow.db`` and ``mlflow+http://host:5000``
are read with MLflow's own ``MlflowClient`` (:mod:`.tracking`); ``run.json``,
``model.json``, ``version.json``, ``experiment.json`` and ``logged_model.json`` written by
`mlflow-export-import <https://github.com/mlflow/mlflow-export-import>`_ are parsed as
JSON (:mod:`.export`). Both readers fill the same small dataclasses (:mod:`.model`),
which :mod:`.mapping` turns into records once, so a run reads the same from either.
This module only declares the two formats and tells an export file by its first bytes.

``mlflow`` itself is imported only when a store is read, so the export files load
without it.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from mlg.loaders import Format, Request
from mlg.loaders.mapping import submission
from mlg.loaders.mlflow.export import read_export
from mlg.loaders.mlflow.mapping import map_registry
from mlg.loaders.mlflow.tracking import SCHEMES, read_store
from mlg.submission import Submission, records_digest

_EXPORT_SCRIPT = re.compile(rb'"script"\s*:\s*"export_(run|model|model_version|experiment|logged_model)\.py"')
_EXPORT_BODY = re.compile(rb'"mlflow"\s*:\s*\{\s*"(info|registered_model|model_version|experiment)"\s*:')


def _sniff_export(path: Path, head: bytes) -> bool:
    """mlflow-export-import's files: a ``system`` block, and an ``mlflow`` object of a known kind."""
    if path.suffix.lower() != ".json" or not re.search(rb'^\s*\{\s*"system"\s*:\s*\{', head):
        return False
    return bool(_EXPORT_SCRIPT.search(head) or _EXPORT_BODY.search(head))


def _load_export(request: Request) -> Submission:
    registry = read_export(request.location, request.data)
    return submission(request, "mlflow-export", map_registry(registry, request.minter))


def _load_store(request: Request) -> Submission:
    registry = read_store(request.location)
    loaded = submission(request, "mlflow", map_registry(registry, request.minter))
    # A store has no bytes to digest: its records stand in, so an unchanged store is not admitted twice.
    return dataclasses.replace(loaded, digest=records_digest(loaded.records()))


FORMATS = [
    Format(
        "mlflow",
        (),
        "a live MLflow tracking store and model registry: mlflow+sqlite:///mlflow.db, mlflow+http://host:5000",
        lambda path, head: False,
        _load_store,
        schemes=SCHEMES,
    ),
    Format(
        "mlflow-export",
        (".json",),
        "mlflow-export-import files: run.json, model.json, version.json, experiment.json, logged_model.json",
        _sniff_export,
        _load_export,
    ),
]
