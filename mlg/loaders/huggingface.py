"""Hugging Face model cards: the YAML front matter of a model repository's ``README.md``.

The card is read offline, from its text: nothing is asked of the Hub. ``huggingface_hub``
interprets the metadata (``ModelCardData`` turns ``model-index`` into ``EvalResult``\\s and
refuses an invalid one), so mlg reads a card the way the Hub's own library does. The
YAML itself is parsed first by mlg's strict loader, because ``ModelCard(text)`` would use
``yaml.safe_load``, which expands aliases (a few hundred bytes of "billion laughs" fill
the memory); a second parse by the library would also double the slowest step.

What a card becomes::

    model  <- name, license, tags, pipeline_tag (task), library_name and language (annotations)
      -fineTunedFrom / derivedFrom-> base_model (by base_model_relation)
      -trainedOn-> datasets, named hf://datasets/<id> (the same node Croissant gives the dataset)
    evaluation (one per model-index result) -evaluates-> model, -evaluatedOn-> dataset,
      task, split, one metric per metrics[] entry
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pyoxigraph import NamedNode

from mlg.errors import InputError
from mlg.loaders import Format, Request, require
from mlg.loaders.documents import decode, parse_yaml
from mlg.loaders.mapping import RecordWriter, submission
from mlg.submission import Submission

NAME = "huggingface"
EXTENSIONS = (".md",)

# Top-level keys of the model card metadata specification (huggingface.co/docs/hub/model-cards).
CARD_KEYS = {
    "license",
    "license_name",
    "license_link",
    "tags",
    "base_model",
    "base_model_relation",
    "datasets",
    "model-index",
    "library_name",
    "pipeline_tag",
    "language",
    "metrics",
    "model_name",
    "thumbnail",
    "widget",
    "inference",
    "co2_eq_emissions",
    "new_version",
}
# Keys only a model card has, and keys only a dataset card has: a dataset card is not a model.
MODEL_ONLY_KEYS = {
    "base_model",
    "base_model_relation",
    "model-index",
    "library_name",
    "pipeline_tag",
    "model_name",
}
DATASET_CARD_KEYS = {
    "dataset_info",
    "configs",
    "task_categories",
    "task_ids",
    "size_categories",
    "pretty_name",
    "annotations_creators",
    "language_creators",
    "source_datasets",
    "multilinguality",
    "paperswithcode_id",
    "train-eval-index",
}
# Card keys kept as annotations on purpose (the ontology has no term for them); any other
# key that is not mapped is kept as an annotation too, and counted as not mapped.
ANNOTATED_KEYS = {"library_name", "language", "metrics", "license_name", "license_link", "new_version"}
MAPPED_KEYS = {
    "license",
    "tags",
    "pipeline_tag",
    "base_model",
    "base_model_relation",
    "datasets",
    "model-index",
    "model_name",
    "model_id",
}
# base_model_relation -> edge. The Hub infers a missing relation from the repository's files
# (adapter_config.json, GGUF weights...), which a card alone does not have: absent is a fine-tune.
RELATIONS = {
    "finetune": "fineTunedFrom",
    "adapter": "derivedFrom",
    "quantized": "derivedFrom",
    "merge": "derivedFrom",
}

_FRONT_MATTER = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*---[ \t]*\r?\n")
_TOP_KEY = re.compile(rb"^([A-Za-z_][\w-]*)[ \t]*:", re.MULTILINE)
_CACHE_FOLDER = re.compile(r"^models--(.+?)--(.+)$")
_HUB_DATASET_URL = re.compile(r"^https?://(?:www\.)?huggingface\.co/datasets/", re.IGNORECASE)


def _sniff(path: Path, head: bytes) -> bool:
    """A .md whose first lines are YAML front matter with model card keys (not a dataset card's)."""
    start = _FRONT_MATTER.match(head)
    if path.suffix.lower() not in EXTENSIONS or not start:
        return False
    block = head[start.end() :]
    end = re.search(rb"^---[ \t]*$", block, re.MULTILINE)
    keys = {key.decode() for key in _TOP_KEY.findall(block[: end.start()] if end else block)}
    if keys & DATASET_CARD_KEYS and not keys & MODEL_ONLY_KEYS:
        return False
    return bool(keys & CARD_KEYS)


def hub_dataset_iri(request: Request, dataset_id: str) -> NamedNode:
    """A Hub dataset is ``hf://datasets/<id>``, whoever names it (a card, a Croissant file)."""
    dataset_id = _HUB_DATASET_URL.sub("", dataset_id.strip()).strip("/")
    return request.minter.dataset_from_uri(f"hf://datasets/{dataset_id}")


def model_id(request: Request, card_data: Any, metadata: dict[str, Any]) -> str:
    """The model's identity, the first of:

    1. the repository id of a Hub cache folder (``models--org--name/snapshots/<rev>/README.md``);
    2. the name huggingface_hub reads from ``model-index`` (else the ``model_name`` key);
    3. a ``model_id`` key;
    4. the folder holding a ``README.md``;
    5. the file's name without ``.md``.
    """
    path = Path(request.location).resolve()
    for folder in path.parents:
        match = _CACHE_FOLDER.match(folder.name)
        if match:
            return f"{match.group(1)}/{match.group(2)}"
    for candidate in (card_data.model_name, metadata.get("model_id")):
        if isinstance(candidate, str | int) and not isinstance(candidate, bool) and str(candidate).strip():
            return str(candidate).strip()
    if path.name.lower() == "readme.md" and path.parent.name:
        return path.parent.name
    return path.stem


class _Card:
    """One card being written; ``where`` names the failing place for a person."""

    def __init__(self, request: Request, metadata: dict[str, Any], card_data: Any) -> None:
        self.request = request
        self.metadata = metadata
        self.card_data = card_data
        self.writer = RecordWriter(request.minter)
        self.model_id = model_id(request, card_data, metadata)
        self.model = request.minter.asset("model", self.model_id)

    def where(self, place: str) -> str:
        return f"{self.request.location}: {place}"

    def strings(self, key: str) -> list[tuple[str, str]]:
        """A key holding one text or a list of texts, as (value, place) pairs."""
        value = self.metadata.get(key)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        pairs = []
        for index, item in enumerate(items):
            place = f"{key}[{index}]" if isinstance(value, list) else key
            if isinstance(item, dict | list) or item is None or not str(item).strip():
                raise InputError("expected a text or a list of texts", where=self.where(place))
            pairs.append((str(item).strip(), place))
        return pairs

    def write(self) -> None:
        writer, metadata = self.writer, self.metadata
        writer.node(self.model, "model")
        writer.attribute("name", self.card_data.model_name or self.model_id, self.where("model-index"))
        writer.attribute("sourceRegistry", NAME, self.where("model"))
        writer.attribute("sourceId", self.model_id, self.where("model"))
        if "/" in self.model_id:
            writer.attribute(
                "sourceUrl", f"https://huggingface.co/{quote(self.model_id)}", self.where("model")
            )
        license_ = metadata.get("license")
        if license_ == "other" and metadata.get("license_name"):
            license_ = metadata["license_name"]
        writer.attribute("license", license_, self.where("license"))
        writer.attribute("tag", [tag for tag, _ in self.strings("tags")], self.where("tags"))
        writer.attribute("task", metadata.get("pipeline_tag"), self.where("pipeline_tag"))
        self.base_models()
        for dataset, place in self.strings("datasets"):
            writer.edge("trainedOn", writer.reference(self.dataset(dataset, place), "dataset"))
        for key, value in metadata.items():
            if key in ANNOTATED_KEYS:
                for item in value if isinstance(value, list) else [value]:
                    writer.annotation(key, item)
            elif key not in MAPPED_KEYS:
                writer.annotation(key, value, warning="card field with no graph term")
        self.evaluations()

    def dataset(self, dataset_id: str, place: str) -> NamedNode:
        try:
            return hub_dataset_iri(self.request, dataset_id)
        except InputError as error:
            raise InputError(error.message, where=self.where(place)) from None

    def base_models(self) -> None:
        relation = self.metadata.get("base_model_relation")
        if relation is not None and not isinstance(relation, str):
            raise InputError(
                "expected one of " + ", ".join(RELATIONS), where=self.where("base_model_relation")
            )
        edge = RELATIONS.get(relation or "finetune")
        if edge is None:
            edge = "derivedFrom"
            self.writer.annotation("base_model_relation", relation, warning="unknown base_model_relation")
        elif relation is not None:
            self.writer.annotation("base_model_relation", relation)
        for base, _ in self.strings("base_model"):
            target = self.request.minter.asset("model", base)
            if target != self.model:
                self.writer.edge(edge, self.writer.reference(target, "model"))

    def evaluations(self) -> None:
        """One evaluation per model-index result, as huggingface_hub reads it.

        The library flattens results into one ``EvalResult`` per metric and names a result by
        ``EvalResult.unique_identifier`` (task, dataset, config, split, revision): results
        with the same identifier are one evaluation.
        """
        evaluated = zip(
            _metric_places(self.metadata.get("model-index")), self.card_data.eval_results or [], strict=True
        )
        seen: dict[tuple[Any, ...], NamedNode] = {}
        metrics: dict[NamedNode, set[str]] = {}
        for place, result in evaluated:
            key = result.unique_identifier
            iri = seen.get(key) or self.evaluation(result, place.rsplit(".metrics", 1)[0])
            seen[key] = iri
            self.writer.node(iri, "evaluation")
            metric = str(result.metric_type)
            if metric in metrics.setdefault(iri, set()):  # the same metric, another configuration
                metric = f"{metric} ({result.metric_name or result.metric_config or place})"
            metrics[iri].add(metric)
            try:
                self.writer.metric(metric, result.metric_value, self.where(f"{place}.value"))
            except InputError:
                self.writer.annotation(
                    f"metric[{metric}]", result.metric_value, warning="non-numeric metric value"
                )
            if result.metric_name:
                self.writer.annotation(f"metric_name[{metric}]", result.metric_name)
            for field in ("metric_config", "metric_args", "verified"):
                value = getattr(result, field)
                if value is not None:
                    self.writer.annotation(
                        f"{field}[{metric}]", value, warning="model-index field with no graph term"
                    )

    def evaluation(self, result: Any, place: str) -> NamedNode:
        parts = [self.model_id, str(result.task_type), str(result.dataset_type)]
        for label in ("config", "split", "revision"):
            value = getattr(result, f"dataset_{label}")
            if value is not None:
                parts.append(f"{label}={value}")
        identifier = "/".join(parts)
        iri = self.request.minter.asset("evaluation", identifier)
        writer = self.writer
        writer.node(iri, "evaluation")
        task = result.task_name or result.task_type
        split = f" ({result.dataset_split})" if result.dataset_split else ""
        writer.attribute("name", f"{task} on {result.dataset_name}{split}", self.where(place))
        writer.attribute("sourceRegistry", NAME, self.where(place))
        writer.attribute("sourceId", identifier, self.where(place))
        writer.attribute("sourceUrl", result.source_url, self.where(f"{place}.source.url"))
        writer.attribute("task", result.task_type, self.where(f"{place}.task.type"))
        writer.attribute("split", result.dataset_split, self.where(f"{place}.dataset.split"))
        writer.edge("evaluates", self.model)
        dataset = self.dataset(_text(result.dataset_type, self.where(f"{place}.dataset.type")), place)
        writer.edge("evaluatedOn", writer.reference(dataset, "dataset"))
        for field in ("dataset_config", "dataset_revision", "dataset_args", "source_name"):
            value = getattr(result, field)
            if value is not None:
                writer.annotation(field, value, warning="model-index field with no graph term")
        return iri


def _text(value: Any, where: str) -> str:
    if isinstance(value, dict | list) or value is None or not str(value).strip():
        raise InputError("expected a text", where=where)
    return str(value).strip()


def _metric_places(model_index: Any) -> Iterator[str]:
    """The place of every metric, in the order huggingface_hub makes its EvalResults."""
    for i, entry in enumerate(model_index or []):
        for j, result in enumerate(entry["results"]):
            for k, _ in enumerate(result["metrics"]):
                yield f"model-index[{i}].results[{j}].metrics[{k}]"


def _check_model_index(model_index: Any, where: str) -> None:
    """What huggingface_hub requires of a model-index, said with the place that lacks it.

    The library raises ``ValueError`` for a missing key or a wrong type (unless told to
    ignore metadata errors, which loses the results): mlg refuses the card the same way.
    """
    if not model_index:
        return  # the library ignores an empty model-index

    def fail(message: str, place: str) -> InputError:
        return InputError(
            f"{message}; huggingface_hub refuses this model-index (each result needs task.type, "
            "dataset.type, dataset.name and metrics with type and value)",
            where=f"{where}: {place}",
        )

    if not isinstance(model_index, list):
        raise fail("expected a list of models", "model-index")
    for i, entry in enumerate(model_index):
        place = f"model-index[{i}]"
        if not isinstance(entry, dict):
            raise fail("expected a mapping with name and results", place)
        for key in ("name", "results"):
            if key not in entry:
                raise fail(f"no '{key}'", place)
        if not isinstance(entry["results"], list):
            raise fail("expected a list", f"{place}.results")
        for j, result in enumerate(entry["results"]):
            at = f"{place}.results[{j}]"
            if not isinstance(result, dict):
                raise fail("expected a mapping", at)
            for key, required in (("task", ("type",)), ("dataset", ("type", "name"))):
                if key not in result:
                    raise fail(f"no '{key}'", at)
                if not isinstance(result[key], dict):
                    raise fail("expected a mapping", f"{at}.{key}")
                for sub in required:
                    if sub not in result[key]:
                        raise fail(f"no '{sub}'", f"{at}.{key}")
            if "metrics" not in result:
                raise fail("no 'metrics'", at)
            if not isinstance(result["metrics"], list):
                raise fail("expected a list", f"{at}.metrics")
            for k, metric in enumerate(result["metrics"]):
                if not isinstance(metric, dict):
                    raise fail("expected a mapping with type and value", f"{at}.metrics[{k}]")
                for key in ("type", "value"):
                    if key not in metric:
                        raise fail(f"no '{key}'", f"{at}.metrics[{k}]")
            source = result.get("source")
            if source is not None and not isinstance(source, dict):
                raise fail("expected a mapping with name and url", f"{at}.source")
            if source and source.get("name") is not None and source.get("url") is None:
                raise fail("a source with a name needs a url", f"{at}.source")


def read_metadata(request: Request) -> dict[str, Any]:
    """The card's front matter as a mapping, found the way huggingface_hub finds it."""
    repocard = require("huggingface_hub.repocard", NAME)
    text = decode(request.location, request.data)
    match = repocard.REGEX_YAML_BLOCK.search(text)
    if not match:
        raise InputError(
            "no YAML front matter (a block between '---' lines at the top): not a Hugging Face model card",
            where=request.location,
        )
    # Pad with the lines before the block, so YAML errors give the file's line numbers.
    before = len(re.findall(r"\r\n|\r|\n", match.group(1)))
    metadata = parse_yaml(request.location, "\n" * before + match.group(2))
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise InputError("the front matter must be a mapping of card keys to values", where=request.location)
    for key in metadata:
        if not isinstance(key, str):
            raise InputError(f"card keys are texts, not {key!r}", where=request.location)
    if set(metadata) & DATASET_CARD_KEYS and not set(metadata) & MODEL_ONLY_KEYS:
        found = ", ".join(sorted(set(metadata) & DATASET_CARD_KEYS))
        raise InputError(f"a dataset card ({found}), not a model card", where=request.location)
    return metadata


def _load(request: Request) -> Submission:
    hub = require("huggingface_hub", NAME)
    metadata = read_metadata(request)
    _check_model_index(metadata.get("model-index"), request.location)
    arguments = {key: value for key, value in metadata.items() if key != "ignore_metadata_errors"}
    try:
        card_data = hub.ModelCardData(**arguments, ignore_metadata_errors=False)
    except (ValueError, TypeError, KeyError) as error:
        raise InputError(f"huggingface_hub refuses this card: {error}", where=request.location) from None
    card = _Card(request, metadata, card_data)
    card.write()
    return submission(request, NAME, card.writer)


FORMATS = [
    Format(
        NAME,
        EXTENSIONS,
        "Hugging Face model card: a README.md with YAML front matter (base models, datasets, model-index)",
        _sniff,
        _load,
    )
]
