"""The reader of mlflow-export-import's JSON files: one run, model, version, experiment or logged model.

`mlflow-export-import <https://github.com/mlflow/mlflow-export-import>`_ writes each
object as ``{"system": {...}, "mlflow": {...}}``; the key under ``mlflow`` says which
(:data:`EXPORT_KINDS`). Every value is checked as it is read, so a bad file is refused
in one line naming the file and the JSON path.
"""

from __future__ import annotations

from typing import Any

from mlg.errors import InputError
from mlg.loaders.documents import parse_json
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


class _Json:
    """Typed access to an export file, every failure naming the file and the JSON path.

    An object is read by a table of its fields (:data:`VERSION_FIELDS`...): JSON key ->
    (dataclass field, how to read it). A field of no table is kept for the mapping to
    annotate; the tool's own derived ``_fields`` are only counted.
    """

    def __init__(self, location: str, registry: Registry) -> None:
        self.location = location
        self.registry = registry

    def fail(self, message: str, path: str) -> InputError:
        return InputError(message, where=f"{self.location}: {path}")

    def fields(
        self, body: Any, path: str, table: dict[str, tuple[str, str]], *required: str
    ) -> dict[str, Any]:
        body = self.mapping(body, path)
        values: dict[str, Any] = {"where": f"{self.location}: {path}", "extra": {}}
        for key, (name, kind) in table.items():
            value = getattr(self, kind)(body.get(key), f"{path}.{key}")
            if value is not None and value != [] and value != {}:
                values.setdefault(name, value)  # of two spellings (run_id, run_uuid), the first
        for key in required:
            if values.get(table[key][0]) is None:
                raise self.fail("missing", f"{path}.{key}")
        for key, value in body.items():
            if key.startswith("_"):
                self.registry.skipped["export-import derived field, not kept"] += 1
            elif key not in table and not _default(key, value):
                values["extra"][key] = value
        return values

    def ignore(self, value: Any, path: str) -> None:
        """A field read elsewhere."""

    def mapping(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"expected an object, got {_type(value)}", path)
        return value

    def items(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(f"expected a list, got {_type(value)}", path)
        return value

    def text(self, value: Any, path: str) -> str | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(f"expected text, got {_type(value)}", path)
        return str(value)

    def texts(self, value: Any, path: str) -> list[str]:
        return [str(self.text(v, f"{path}[{i}]")) for i, v in enumerate(self.items(value, path))]

    def millis(self, value: Any, path: str) -> int | None:
        """Epoch milliseconds, as MLflow writes them (a number, or its digits as text)."""
        if value is None or value == "":
            return None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"expected milliseconds since 1970, got {_type(value)}", path)
        if not 0 <= value < 253402300800000:  # up to the year 9999
            raise self.fail(f"{value} milliseconds since 1970 is not a date", path)
        return int(value)

    def integer(self, value: Any, path: str) -> int | None:
        """A metric's step: any whole number."""
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise self.fail(f"expected a whole number, got {_type(value)}", path)

    def number(self, value: Any, path: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(f"expected a number, got {_type(value)}", path)
        return value  # text such as "NaN" is read by the mapping, which names the place if it is not a number

    def pairs(self, value: Any, path: str, key: str = "key", item: str = "value") -> dict[str, str]:
        """Tags or params: ``{"k": "v"}``, or MLflow's ``[{"key": "k", "value": "v"}]``."""
        if value is None:
            return {}
        if not isinstance(value, list):
            return {str(k): self.scalar(v, f"{path}.{k}") for k, v in self.mapping(value, path).items()}
        pairs = {}
        for index, entry in enumerate(value):
            at = f"{path}[{index}]"
            name = self.text(self.mapping(entry, at).get(key), f"{at}.{key}")
            if name is None:
                raise self.fail("missing", f"{at}.{key}")
            pairs[name] = self.scalar(entry.get(item), f"{at}.{item}")
        return pairs

    def aliases(self, value: Any, path: str) -> dict[str, str]:
        """A registered model's aliases: ``[{"alias": "champion", "version": "3"}]`` or a mapping."""
        return self.pairs(value, path, "alias", "version")

    def scalar(self, value: Any, path: str) -> str:
        if isinstance(value, dict | list):
            raise self.fail(f"expected text, got {_type(value)}", path)
        return "" if value is None else str(value)

    def metrics(self, value: Any, path: str) -> list[Metric]:
        """A run's ``{"auc": [{"value":, "step":, "timestamp":}]}``, or a list of metrics."""
        if not isinstance(value, dict):
            return [self.metric(m, f"{path}[{i}]") for i, m in enumerate(self.items(value, path))]
        found = []
        for key, history in value.items():
            if not isinstance(history, list):
                found.append(self.metric({"key": key, "value": history}, f"{path}.{key}"))
                continue
            for index, point in enumerate(history):
                at = f"{path}.{key}[{index}]"
                found.append(self.metric({"key": key, **self.mapping(point, at)}, at))
        return found

    def metric(self, body: Any, path: str) -> Metric:
        values = self.fields(body, path, METRIC_FIELDS, "key", "value")
        if values.pop("extra"):
            self.registry.skipped["metric field, not kept"] += 1
        values["where"] = f"{values['where']}.value"
        return Metric(**values)

    def dataset_inputs(self, value: Any, path: str) -> list[DatasetInput]:
        found = []
        for index, item in enumerate(self.items(value, path)):
            at = f"{path}[{index}]"
            values = self.fields(
                self.mapping(item, at).get("dataset"), f"{at}.dataset", DATASET_FIELDS, "name", "digest"
            )
            if values.pop("extra"):
                self.registry.skipped["dataset field, not kept"] += 1
            values.update(
                where=f"{self.location}: {at}",
                context=self.pairs(item.get("tags"), f"{at}.tags").get(CONTEXT_TAG),
            )
            found.append(DatasetInput(**values))
        return found

    def model_ids(self, value: Any, path: str) -> list[str]:
        return [
            self.fields(item, f"{path}[{i}]", {"model_id": ("id", "text")}, "model_id")["id"]
            for i, item in enumerate(self.items(value, path))
        ]

    def run(self, body: dict[str, Any]) -> Run:
        run = Run(**self.fields(body.get("info"), "mlflow.info", RUN_INFO_FIELDS, "run_id"))
        rest = self.fields(body, "mlflow", RUN_FIELDS)
        run.params = rest.get("params", {})
        run.metrics = rest.get("metrics", [])
        run.tags = rest.get("tags", {})
        run.extra.update(rest["extra"])
        inputs, at = body.get("inputs"), "mlflow.inputs"
        if isinstance(inputs, dict):  # newer exports: {dataset_inputs, model_inputs}
            run.model_inputs = self.model_ids(inputs.get("model_inputs"), f"{at}.model_inputs")
            inputs, at = inputs.get("dataset_inputs"), f"{at}.dataset_inputs"
        run.inputs = self.dataset_inputs(inputs, at)
        outputs = self.mapping(body.get("outputs") or {}, "mlflow.outputs")
        run.model_outputs = self.model_ids(outputs.get("model_outputs"), "mlflow.outputs.model_outputs")
        for dataset in run.inputs:
            dataset.run_id, dataset.experiment_id = run.id, run.experiment_id
        for metric in run.metrics:
            metric.run_id = metric.run_id or run.id
        return run

    def version(self, body: Any, path: str, model: str | None = None) -> ModelVersion:
        values = self.fields(body, path, VERSION_FIELDS, "version", *(() if model else ("name",)))
        values.setdefault("model", model)
        matched = LOGGED_MODEL_SOURCE.match(str(values["extra"].get("source", "")))
        if matched:  # models:/m-... names the logged model it registers, nothing more
            values.setdefault("model_id", matched.group(1))
            del values["extra"]["source"]
        return ModelVersion(**values)

    def registered_model(self, body: Any, path: str) -> RegisteredModel:
        values = self.fields(body, path, MODEL_FIELDS, "name")
        for key in ("versions", "latest_versions"):
            for index, item in enumerate(values.pop(key, [])):
                self.registry.versions.append(self.version(item, f"{path}.{key}[{index}]", values["name"]))
        return RegisteredModel(**values)

    def logged_model(self, body: Any, path: str) -> LoggedModel:
        values = self.fields(body, path, LOGGED_MODEL_FIELDS, "model_id")
        inputs = values.pop("inputs", [])
        for dataset in inputs:
            dataset.run_id, dataset.experiment_id = values.get("source_run_id"), values.get("experiment_id")
        self.registry.extra_inputs += inputs
        model = LoggedModel(**values)
        model.name = model.name or model.id
        return model


_TIMES = {"creation_timestamp": ("created", "millis"), "last_updated_timestamp": ("modified", "millis")}
METRIC_FIELDS = {
    "key": ("key", "text"), "value": ("value", "number"), "step": ("step", "integer"),
    "timestamp": ("timestamp", "millis"), "dataset_name": ("dataset_name", "text"),
    "dataset_digest": ("dataset_digest", "text"), "model_id": ("model_id", "text"),
    "run_id": ("run_id", "text"),
}  # fmt: skip
DATASET_FIELDS = {
    "name": ("name", "text"), "digest": ("digest", "text"), "source_type": ("source_type", "text"),
    "source": ("source", "text"), "schema": ("schema", "text"), "profile": ("profile", "text"),
}  # fmt: skip
RUN_INFO_FIELDS = {
    "run_id": ("id", "text"), "run_uuid": ("id", "text"), "experiment_id": ("experiment_id", "text"),
    "run_name": ("name", "text"), "user_id": ("user", "text"), "status": ("status", "text"),
    "start_time": ("start", "millis"), "end_time": ("end", "millis"),
}  # fmt: skip
RUN_FIELDS = {
    "info": ("info", "ignore"), "inputs": ("inputs", "ignore"), "outputs": ("outputs", "ignore"),
    "params": ("params", "pairs"), "metrics": ("metrics", "metrics"), "tags": ("tags", "pairs"),
}  # fmt: skip
VERSION_FIELDS = {
    "name": ("model", "text"), "version": ("version", "text"), "run_id": ("run_id", "text"),
    "model_id": ("model_id", "text"), "description": ("description", "text"), "user_id": ("user", "text"),
    "current_stage": ("stage", "text"), "status": ("status", "text"), "tags": ("tags", "pairs"),
    "aliases": ("aliases", "texts"), **_TIMES,
}  # fmt: skip
MODEL_FIELDS = {
    "name": ("name", "text"), "description": ("description", "text"), "tags": ("tags", "pairs"),
    "aliases": ("aliases", "aliases"), "versions": ("versions", "items"),
    "latest_versions": ("latest_versions", "items"), **_TIMES,
}  # fmt: skip
EXPERIMENT_FIELDS = {
    "experiment_id": ("id", "text"), "name": ("name", "text"), "tags": ("tags", "pairs"),
    "creation_time": ("created", "millis"), "last_update_time": ("modified", "millis"),
}  # fmt: skip
LOGGED_MODEL_FIELDS = {
    "model_id": ("id", "text"), "name": ("name", "text"), "experiment_id": ("experiment_id", "text"),
    "source_run_id": ("source_run_id", "text"), "params": ("params", "pairs"), "tags": ("tags", "pairs"),
    "metrics": ("metrics", "metrics"), "dataset_inputs": ("inputs", "dataset_inputs"), **_TIMES,
}  # fmt: skip
# Values that say nothing (MLflow's defaults, or what another field says): left out uncounted.
DEFAULTS = {("lifecycle_stage", "active"), ("status", "READY"), ("workspace", "default")}
# Which export file it is: the key under "mlflow".
EXPORT_KINDS = ("info", "registered_model", "model_version", "experiment", "model_id")


def read_export(location: str, data: bytes) -> Registry:
    """An mlflow-export-import file (run, model, version, experiment or logged model) as a Registry."""
    registry = Registry()
    reader = _Json(location, registry)
    document = reader.mapping(parse_json(location, data), "top level")
    body = reader.mapping(document.get("mlflow"), "mlflow")
    tracking = reader.mapping(document.get("system") or {}, "system").get("mlflow_tracking_uri")
    if isinstance(tracking, str) and tracking.startswith(("http://", "https://")):
        registry.ui_url = tracking.rstrip("/")
    kind = next((key for key in EXPORT_KINDS if key in body), None)
    if kind == "info":
        registry.runs.append(reader.run(body))
    elif kind == "registered_model":
        registry.models.append(reader.registered_model(body[kind], f"mlflow.{kind}"))
    elif kind == "model_version":
        registry.versions.append(reader.version(body[kind], f"mlflow.{kind}"))
    elif kind == "experiment":
        registry.experiments.append(
            Experiment(**reader.fields(body[kind], f"mlflow.{kind}", EXPERIMENT_FIELDS, "experiment_id"))
        )
    elif kind == "model_id":
        registry.logged_models.append(reader.logged_model(body, "mlflow"))
    else:
        message = (
            "not an mlflow-export-import run, model, version, experiment or logged model: expected one of"
        )
        raise reader.fail(f"{message} {', '.join(EXPORT_KINDS)}", "mlflow")
    return registry


def _default(key: str, value: Any) -> bool:
    return value in (None, "", [], {}) or (isinstance(value, str) and (key, value) in DEFAULTS)


def _type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return names.get(type(value), type(value).__name__)
