"""What both MLflow readers produce: small dataclasses the one mapping reads.

The tracking-store reader fills them from MLflow's entities, the export reader from
mlflow-export-import's JSON; neither knows about the graph, so a run maps the same
whichever reader read it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

CONTEXT_TAG = "mlflow.data.context"
"""The tag of a run's dataset input saying what it was for (``training``, ``evaluation``...)."""
LOGGED_MODEL_SOURCE = re.compile(r"^models:/(m-[0-9a-f]+)$")
"""A model version's source that names the MLflow 3 logged model it registers."""


@dataclass
class Metric:
    key: str
    value: Any
    step: int = 0
    timestamp: int = 0
    dataset_name: str | None = None
    dataset_digest: str | None = None
    model_id: str | None = None
    run_id: str | None = None
    where: str = ""
    """Where the value is, when its reader knows better than its owner's place."""


@dataclass
class DatasetInput:
    name: str
    digest: str
    where: str
    source_type: str = ""
    source: str = ""
    """MLflow's JSON text saying where the data is (``{"uri": "s3://..."}``)."""
    schema: str | None = None
    profile: str | None = None
    context: str | None = None
    """``training``, ``evaluation``...: the ``mlflow.data.context`` tag of the input."""
    run_id: str | None = None
    experiment_id: str | None = None


@dataclass
class Experiment:
    id: str
    where: str
    name: str = ""
    created: int | None = None
    modified: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    """Fields the mapping has no term for, kept as annotations."""


@dataclass
class Run:
    id: str
    where: str
    experiment_id: str | None = None
    name: str | None = None
    user: str | None = None
    status: str | None = None
    start: int | None = None
    end: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[str] = field(default_factory=list)
    model_outputs: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoggedModel:
    id: str
    where: str
    name: str = ""
    experiment_id: str | None = None
    source_run_id: str | None = None
    created: int | None = None
    modified: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class RegisteredModel:
    name: str
    where: str
    description: str | None = None
    created: int | None = None
    modified: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    """alias -> version"""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelVersion:
    model: str
    version: str
    where: str
    run_id: str | None = None
    model_id: str | None = None
    """The MLflow 3 logged model this version registers."""
    description: str | None = None
    user: str | None = None
    stage: str | None = None
    status: str | None = None
    created: int | None = None
    modified: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Registry:
    """Everything one input says, whichever reader read it."""

    ui_url: str | None = None
    """The tracking server's web address, for links to its pages."""
    experiments: list[Experiment] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    logged_models: list[LoggedModel] = field(default_factory=list)
    models: list[RegisteredModel] = field(default_factory=list)
    versions: list[ModelVersion] = field(default_factory=list)
    extra_inputs: list[DatasetInput] = field(default_factory=list)
    """Dataset inputs of runs not described here (a logged model's source run)."""
    skipped: Counter[str] = field(default_factory=Counter)
    """What the reader left out on purpose, counted for the load summary."""
