"""The one mapping of MLflow onto the graph, whichever reader filled the :class:`Registry`.

What meets what: a dataset input whose source names a location (``s3://bucket/key``)
is the dataset OpenLineage and DataHub report under that name, and its digest is a
dataset version. A registered model version is produced by its run and trained on
that run's training datasets; the MLflow 3 logged model it registers is folded into it.
Metrics MLflow 3 logs against a model and a dataset become an evaluation of the one
on the other.
"""

from __future__ import annotations

import contextlib
import json
import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from pyoxigraph import NamedNode

from mlg.errors import InputError
from mlg.identity import Minter, split_dataset_uri
from mlg.loaders.mapping import RecordWriter
from mlg.loaders.mlflow.model import (
    DatasetInput,
    Experiment,
    LoggedModel,
    Metric,
    ModelVersion,
    RegisteredModel,
    Registry,
    Run,
)

REGISTRY = "mlflow"
RUN_STATES = {
    "FINISHED": "completed",
    "RUNNING": "running",
    "SCHEDULED": "scheduled",
    "FAILED": "failed",
    "KILLED": "aborted",
}
TRAINING = {"training", "train"}
SPLITS = {
    "test": "test",
    "testing": "test",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
}
EVALUATION = {"evaluation", "eval", *SPLITS}
# System tags the mapping turns into terms; every other ``mlflow.*`` tag is kept as an annotation.
MAPPED_TAGS = {
    "mlflow.user",
    "mlflow.ownerEmail",
    "mlflow.runName",
    "mlflow.note.content",
    "mlflow.parentRunId",
    "mlflow.modelVersions",  # a logged model's registrations: read from the registry itself
}
EXPORT_TAG_PREFIX = "mlflow_export_import."
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class _Mapper:
    """Turns a :class:`Registry` into records through one :class:`RecordWriter`.

    A node is described in one go (the writer describes one node at a time), so the
    nodes a description points at are described first: people, datasets, experiments,
    runs, models, versions, then evaluations.
    """

    def __init__(self, registry: Registry, writer: RecordWriter) -> None:
        self.registry = registry
        self.writer = writer
        self.minter = writer.minter
        self.runs = {run.id: run for run in registry.runs}
        self.experiments = {experiment.id: experiment for experiment in registry.experiments}
        self.logged = {model.id: model for model in registry.logged_models}
        self.registrations: dict[str, list[ModelVersion]] = {}
        self.outputs: dict[str, list[NamedNode]] = {}
        """The model versions each run produced, by run id."""
        self.labels: dict[NamedNode, str] = {}
        for version in registry.versions:
            if version.model_id:
                self.registrations.setdefault(version.model_id, []).append(version)
            self.labels[self.version_iri(version)] = f"{version.model} v{version.version}"
            if version.run_id:
                self.outputs.setdefault(version.run_id, []).append(self.version_iri(version))
        for model in registry.logged_models:
            self.labels.setdefault(self.logged_iri(model), model.name)
        self.unregistered = [model for model in registry.logged_models if model.id not in self.registrations]
        """Logged models no version registers: each is a model version of its own."""
        for model in self.unregistered:
            if model.source_run_id:
                self.outputs.setdefault(model.source_run_id, []).append(self.logged_iri(model))
        self.described: dict[tuple[str, str, str, str | None], NamedNode] = {}
        self.inputs: dict[tuple[str, str], DatasetInput] = {}
        for dataset in [d for run in registry.runs for d in run.inputs] + registry.extra_inputs:
            self.inputs.setdefault((dataset.name, dataset.digest), dataset)

    # -- naming

    def version_iri(self, version: ModelVersion) -> NamedNode:
        return self.minter.version(self.minter.asset("model", version.model), version.version)

    def logged_model_iri(self, model: LoggedModel) -> NamedNode:
        """An unregistered logged model is a version of its name, within its experiment."""
        return self.minter.asset("model", f"{model.experiment_id or '-'}/{model.name}")

    def logged_iri(self, model: LoggedModel) -> NamedNode:
        return self.minter.version(self.logged_model_iri(model), model.id)

    def models_for(self, model_id: str) -> list[NamedNode]:
        """The model versions a logged model stands for: its registrations, else itself."""
        if model_id in self.registrations:
            return [self.version_iri(version) for version in self.registrations[model_id]]
        return [self.logged_iri(self.logged[model_id])] if model_id in self.logged else []

    def dataset_iri(self, dataset: DatasetInput) -> tuple[NamedNode, str, str]:
        """The dataset an input reads and its (namespace, name), the OpenLineage way where the
        source says where it is; a dataset MLflow knows only by name is named in its experiment."""
        run = self.runs.get(dataset.run_id or "")
        source = _source(dataset.source)
        location = source.get("uri") or source.get("url") or source.get("path")
        if dataset.source_type == "huggingface" and isinstance(source.get("path"), str):
            location = f"hf://datasets/{source['path']}"
        if isinstance(location, str) and location.strip():
            location = location.strip()
            if location.startswith("/"):
                on_databricks = dataset.source_type in ("uc_volume", "delta_table", "spark")
                location = f"dbfs:{location}" if on_databricks else f"file://{location}"
            with contextlib.suppress(InputError):
                namespace, name = split_dataset_uri(location)
                return self.minter.dataset(namespace, name), namespace, name
        table = source.get("delta_table_name") or source.get("table_name")
        if isinstance(table, str) and table.strip():
            host = run.tags.get("mlflow.databricks.workspaceURL") if run else None
            namespace = f"databricks://{host}" if host else "databricks"
            return self.minter.dataset(namespace, table.strip()), namespace, table.strip()
        name = f"experiments/{dataset.experiment_id or '-'}/datasets/{dataset.name}"
        return self.minter.dataset(REGISTRY, name), REGISTRY, name

    def url(self, path: str) -> str | None:
        return f"{self.registry.ui_url}/#/{path}" if self.registry.ui_url else None

    # -- writing

    def write(self) -> None:
        self.people()
        for dataset in self.registry.extra_inputs:
            self.dataset_version(dataset)
        for experiment in self.registry.experiments:
            self.experiment(experiment)
        for run in self.registry.runs:
            self.run(run)
        for model in self.registry.models:
            self.registered_model(model)
        described = {model.name for model in self.registry.models}
        aliases: dict[tuple[str, str], list[str]] = {}
        for model in self.registry.models:
            for alias, version in model.aliases.items():
                aliases.setdefault((model.name, version), []).append(alias)
        for version in self.registry.versions:
            self.model_version(
                version, version.model in described, aliases.get((version.model, version.version))
            )
        for model in self.unregistered:
            self.unregistered_model(model)
        self.evaluations()

    def people(self) -> None:
        """The users MLflow names, described before anything points at them."""
        users: dict[str, str] = {}
        registry = self.registry
        for item in [*registry.experiments, *registry.runs, *self.unregistered, *registry.versions]:
            users.setdefault(self.user_of(item) or "", item.where)
        users.pop("", None)
        for user, where in sorted(users.items()):
            self.writer.node(self.minter.asset("person", user), "person")
            self.writer.attribute("name", user, where)
            self.writer.attribute("email", user if _EMAIL.match(user) else None, where)
            self.writer.attribute("sourceRegistry", REGISTRY, where)
            self.writer.attribute("sourceId", user, where)

    def user_of(self, item: Experiment | Run | LoggedModel | ModelVersion) -> str | None:
        """Who MLflow says made it; a version without its creator was made by its run's user."""
        if isinstance(item, ModelVersion):
            run = self.runs.get(item.run_id or "")
            user = item.user or (self.user_of(run) if run else None)
        elif isinstance(item, Run):
            user = item.tags.get("mlflow.user") or item.user
        else:
            user = item.tags.get("mlflow.ownerEmail") or item.tags.get("mlflow.user")
        return user.strip() if user and user.strip() else None

    def describe(
        self, iri: NamedNode, kind: str, name: str, source_id: str, where: str, url: str | None
    ) -> None:
        """Start a node of ours: its kind, name and where in the registry it comes from."""
        self.writer.node(iri, kind)
        self.writer.attribute("name", name, f"{where}.name")
        self.writer.attribute("sourceRegistry", REGISTRY, where)
        self.writer.attribute("sourceId", source_id, where)
        self.writer.attribute("sourceUrl", url, where)

    def common(self, item: Any, where: str, *, registered: bool = False) -> None:
        """What experiments, runs, models and versions share: times, owner, tags, unmapped fields.

        A logged model that a version registers gives that version its tags, not its times
        or owner (the version's are its creator's, or its run's).
        """
        if not registered:
            self.writer.attribute("created", getattr(item, "created", None) or None, f"{where}.created")
            self.writer.attribute("modified", getattr(item, "modified", None) or None, f"{where}.modified")
        user = None if registered or isinstance(item, RegisteredModel) else self.user_of(item)
        if user:
            self.writer.edge("ownedBy", self.writer.reference(self.minter.asset("person", user), "person"))
        for key, value in sorted(item.tags.items()):
            if key.startswith(EXPORT_TAG_PREFIX):
                self.writer.warn("export-import tag, not kept (restates the run)")
            elif key.startswith("mlflow.") and key not in MAPPED_TAGS:
                self.writer.annotation(key, value, warning="MLflow system tag")
            elif key not in MAPPED_TAGS:
                self.writer.attribute("tag", f"{key}={value}" if value != "" else key, f"{where}.tags.{key}")
        for key, value in sorted(item.extra.items()):
            if value not in (None, "", [], {}):
                self.writer.annotation(key, value, warning="MLflow field")

    def settings(self, params: dict[str, str], metrics: list[Metric], where: str) -> None:
        for key, value in sorted(params.items()):
            self.writer.parameter(key, value, f"{where}.params.{key}")
        for metric in _latest(metrics):
            self.writer.metric(metric.key, metric.value, metric.where or f"{where}.metrics.{metric.key}")

    def experiment(self, experiment: Experiment) -> None:
        where = experiment.where
        url = self.url(f"experiments/{experiment.id}")
        iri = self.minter.asset("experiment", experiment.id)
        self.describe(iri, "experiment", experiment.name or experiment.id, experiment.id, where, url)
        self.writer.attribute("description", experiment.tags.get("mlflow.note.content"), f"{where}.tags")
        self.common(experiment, where)

    def run(self, run: Run) -> None:
        where = run.where
        trains = (
            any((d.context or "").lower() in TRAINING for d in run.inputs)
            or bool(run.model_outputs)
            or run.id in self.outputs
            or "mlflow.log-model.history" in run.tags
        )
        used = [self.dataset_version(dataset) for dataset in run.inputs]
        url = self.url(f"experiments/{run.experiment_id}/runs/{run.id}") if run.experiment_id else None
        name = run.name or run.tags.get("mlflow.runName") or run.id
        self.describe(
            self.minter.asset("run", run.id), "training-run" if trains else "run", name, run.id, where, url
        )
        self.writer.attribute("description", run.tags.get("mlflow.note.content"), f"{where}.tags")
        self.writer.attribute("startedAt", run.start or None, f"{where}.start_time")
        self.writer.attribute("endedAt", run.end or None, f"{where}.end_time")
        self.writer.attribute("runState", RUN_STATES.get(run.status or ""), f"{where}.status")
        if run.status and run.status not in RUN_STATES:
            self.writer.annotation("status", run.status, warning="MLflow field")
        if run.experiment_id:
            experiment = self.minter.asset("experiment", run.experiment_id)
            self.writer.edge("partOf", self.writer.reference(experiment, "experiment"))
        if run.tags.get("mlflow.parentRunId"):
            parent = self.minter.asset("run", run.tags["mlflow.parentRunId"])
            self.writer.edge("partOf", self.writer.reference(parent, "run"))
        self.settings(run.params, run.metrics, where)
        self.common(run, where)
        for dataset, version in zip(run.inputs, used, strict=True):
            self.writer.edge("used", version)
            context = (dataset.context or "").lower()
            if context and context not in TRAINING | EVALUATION:
                key = f"input.{dataset.name}@{dataset.digest}.context"
                self.writer.annotation(key, dataset.context, warning="dataset context")
        for model_id in run.model_inputs:
            for target in self.models_for(model_id):
                self.writer.edge("used", self.writer.reference(target, "model-version"))

    def dataset_version(self, dataset: DatasetInput) -> NamedNode:
        """Describe an input's dataset and its version (the digest), once; return the version."""
        key = (dataset.name, dataset.digest, dataset.source, dataset.experiment_id)
        if key in self.described:
            return self.described[key]
        where = dataset.where
        iri, namespace, name = self.dataset_iri(dataset)
        self.writer.node(iri, "dataset")
        self.writer.attribute("name", dataset.name or name, f"{where}.name")
        self.writer.attribute("namespace", namespace, where)
        self.writer.attribute("qualifiedName", name, where)
        self.writer.attribute("sourceRegistry", REGISTRY, where)
        label = f"{dataset.name}@{dataset.digest}"
        version = self.minter.version(iri, dataset.digest)
        self.describe(version, "dataset-version", label, label, where, None)
        self.writer.attribute("version", dataset.digest, f"{where}.digest")
        self.writer.attribute("contentDigest", dataset.digest, f"{where}.digest")
        self.writer.edge("versionOf", iri)
        if set(_source(dataset.source)) - {"uri", "url"}:
            self.writer.annotation("source", dataset.source, warning="dataset source detail")
        for field_name in ("schema", "profile"):
            if getattr(dataset, field_name):
                self.writer.annotation(
                    field_name, getattr(dataset, field_name), warning="dataset schema or profile"
                )
        self.described[key] = version
        return version

    def registered_model(self, model: RegisteredModel) -> None:
        url = self.url(f"models/{quote(model.name, safe='')}")
        self.describe(
            self.minter.asset("model", model.name), "model", model.name, model.name, model.where, url
        )
        self.writer.attribute("description", model.description or None, f"{model.where}.description")
        self.common(model, model.where)

    def model_version(self, version: ModelVersion, model_described: bool, aliases: list[str] | None) -> None:
        where = version.where
        model = self.minter.asset("model", version.model)
        url = self.url(f"models/{quote(version.model, safe='')}/versions/{version.version}")
        label = f"{version.model} v{version.version}"
        self.describe(
            self.version_iri(version),
            "model-version",
            label,
            f"{version.model}/{version.version}",
            where,
            url,
        )
        self.writer.attribute("version", version.version, f"{where}.version")
        self.writer.attribute("description", version.description or None, f"{where}.description")
        if version.stage and version.stage != "None":
            self.writer.attribute("stage", version.stage.lower(), f"{where}.current_stage")
        if version.stage == "Archived":
            self.writer.attribute("status", "retired", f"{where}.current_stage")
        elif version.status == "READY":
            self.writer.attribute("status", "active", f"{where}.status")
        elif version.status:
            self.writer.annotation("status", version.status, warning="MLflow field")
        self.writer.attribute("alias", sorted({*version.aliases, *(aliases or [])}), f"{where}.aliases")
        self.writer.edge("versionOf", model if model_described else self.writer.reference(model, "model"))
        self.produced_by(version.run_id)
        self.common(version, where)
        if version.model_id:
            self.writer.annotation("model_id", version.model_id, warning="MLflow field")
        logged = self.logged.get(version.model_id or "")
        if logged:  # the artefact this version registers: its settings and tags are the version's
            self.settings(logged.params, [m for m in logged.metrics if not m.dataset_name], logged.where)
            self.common(logged, logged.where, registered=True)

    def unregistered_model(self, model: LoggedModel) -> None:
        where = model.where
        parent = self.logged_model_iri(model)
        experiment = self.experiments.get(model.experiment_id or "")
        name = f"{model.name} ({experiment.name})" if experiment else model.name
        self.describe(parent, "model", name, f"{model.experiment_id or '-'}/{model.name}", where, None)
        url = (
            self.url(f"experiments/{model.experiment_id}/models/{model.id}") if model.experiment_id else None
        )
        self.describe(self.logged_iri(model), "model-version", model.name, model.id, where, url)
        self.writer.attribute("version", model.id, f"{where}.model_id")
        self.writer.edge("versionOf", parent)
        self.produced_by(model.source_run_id)
        self.settings(model.params, [m for m in model.metrics if not m.dataset_name], where)
        self.common(model, where)

    def produced_by(self, run_id: str | None) -> None:
        """The run that made a model version, and the training data of that run."""
        if not run_id:
            return
        self.writer.edge(
            "producedBy", self.writer.reference(self.minter.asset("run", run_id), "training-run")
        )
        run = self.runs.get(run_id)
        inputs = run.inputs if run else [d for d in self.registry.extra_inputs if d.run_id == run_id]
        for dataset in inputs:
            if (dataset.context or "").lower() in TRAINING:
                self.writer.edge(
                    "trainedOn", self.minter.version(self.dataset_iri(dataset)[0], dataset.digest)
                )

    def evaluations(self) -> None:
        """Metrics measured on a dataset, and a run's evaluation-context inputs, as evaluations.

        One evaluation a (run, model, dataset) that MLflow 3 metrics name; an evaluation
        input no such metric covers evaluates every model version its run made or used.
        """
        measured: dict[tuple[str, str, str, str], list[Metric]] = {}
        for model in self.registry.logged_models:
            for metric in model.metrics:
                if metric.dataset_name:
                    run_id = metric.run_id or model.source_run_id or "-"
                    key = (
                        run_id,
                        metric.model_id or model.id,
                        metric.dataset_name,
                        metric.dataset_digest or "",
                    )
                    measured.setdefault(key, []).append(metric)
        for (run_id, model_id, name, digest), metrics in sorted(measured.items()):
            targets = self.models_for(model_id)
            label = self.labels.get(targets[0], model_id) if targets else model_id
            self.evaluation(run_id, model_id, name, digest, targets, metrics, label)
        covered = {(run_id, name, digest) for run_id, _, name, digest in measured}
        for run in self.registry.runs:
            for dataset in run.inputs:
                context = (dataset.context or "").lower()
                if context not in EVALUATION or (run.id, dataset.name, dataset.digest) in covered:
                    continue
                targets = list(self.outputs.get(run.id, []))
                for model_id in [*run.model_outputs, *run.model_inputs]:
                    targets += [t for t in self.models_for(model_id) if t not in targets]
                if not targets:
                    self.writer.warn("evaluation dataset of a run with no model")
                    continue
                self.evaluation(run.id, "-", dataset.name, dataset.digest, targets, [], run.name or run.id)

    def evaluation(
        self,
        run_id: str,
        model_id: str,
        name: str,
        digest: str,
        targets: list[NamedNode],
        metrics: list[Metric],
        label: str,
    ) -> None:
        identifier = f"{run_id}/{model_id}/{name}@{digest}"
        dataset = self.inputs.get((name, digest))
        where = dataset.where if dataset else f"evaluation {identifier}"
        data = self.dataset_version(dataset) if dataset else None
        self.describe(
            self.minter.asset("evaluation", identifier),
            "evaluation",
            f"{label} on {name}",
            identifier,
            where,
            None,
        )
        for target in targets:
            self.writer.edge("evaluates", self.writer.reference(target, "model-version"))
        if data is not None:
            self.writer.edge("evaluatedOn", data)
            self.writer.attribute("split", SPLITS.get((dataset.context or "").lower()), where)
        else:
            self.writer.annotation(
                "dataset", f"{name}@{digest}", warning="evaluation dataset not in this input"
            )
        if run_id != "-":
            self.writer.edge("partOf", self.writer.reference(self.minter.asset("run", run_id), "run"))
        self.settings({}, metrics, where)


def _latest(metrics: list[Metric]) -> list[Metric]:
    """The last value of each metric, as MLflow picks it: the highest step, then the latest time."""
    latest: dict[str, Metric] = {}
    for metric in metrics:
        known = latest.get(metric.key)
        if known is None or (metric.step, metric.timestamp) >= (known.step, known.timestamp):
            latest[metric.key] = metric
    return [latest[key] for key in sorted(latest)]


@lru_cache(maxsize=4096)
def _source(text: str) -> dict[str, Any]:
    """A dataset source's JSON as a mapping ({} when it is not one)."""
    try:
        value = json.loads(text) if text else {}
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def map_registry(registry: Registry, minter: Minter) -> RecordWriter:
    """The registry's records, and what was left out or not mapped, counted in the writer."""
    writer = RecordWriter(minter)
    _Mapper(registry, writer).write()
    writer.warnings.update(registry.skipped)
    return writer
