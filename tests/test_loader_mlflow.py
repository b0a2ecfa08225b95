"""The MLflow loaders: a live tracking store (SQLite or a server) and mlflow-export-import files.

The store is made by MLflow itself, once per module: an experiment, runs with params,
metrics, tags and dataset inputs (training and evaluation), an MLflow 3 logged model
with metrics measured on a dataset, and a registered model with two versions and
aliases. It is loaded through the real ``mlg`` command and the graph is checked with
SPARQL. The export files are mlflow-export-import's own samples
(``/work/shared/samples/mlflow-export-import``, skipped when absent).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import shutil
import socket
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import BASE, SHARED, disk_snapshot
from pyoxigraph import NamedNode

from mlg.cli import cli
from mlg.errors import MissingDependencyError
from mlg.identity import Minter
from mlg.loaders import detect, read_submission
from mlg.loaders.mlflow import _sniff_export
from mlg.store import OxigraphStore, open_store

mlflow = pytest.importorskip("mlflow")
pd = pytest.importorskip("pandas")

SAMPLES = SHARED / "samples" / "mlflow-export-import"
MINTER = Minter(BASE)
TRAINING_DATA = "s3://fraud-data/training/transactions.parquet"
HOLDOUT_DATA = "s3://fraud-data/eval/holdout.parquet"
Run = Callable[..., Result]


@dataclass
class Tracking:
    """The MLflow store the module's tests read, and what MLflow said while making it."""

    path: Path
    runs: dict[str, str]
    """run name -> run id"""
    logged_model: str
    training_digest: str
    holdout_digest: str

    @property
    def location(self) -> str:
        return f"mlflow+sqlite:///{self.path}"


def make_store(folder: Path) -> Tracking:
    """A tracking store written by MLflow's own API, as a training script would."""
    from mlflow.entities import LoggedModelOutput
    from mlflow.tracking import MlflowClient

    path = folder / "mlflow.db"
    uri = f"sqlite:///{path}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        client = MlflowClient(uri, registry_uri=uri)
        experiment = client.create_experiment(
            "fraud-detection",
            artifact_location=(folder / "artifacts").as_uri(),
            tags={"team": "fraud-ml", "mlflow.note.content": "Card fraud models"},
        )
        frame = pd.DataFrame({"amount": [12.5, 80.0, 3.2, 41.0], "label": [0, 1, 0, 1]})
        training = mlflow.data.from_pandas(frame, source=TRAINING_DATA, name="transactions", targets="label")
        holdout = mlflow.data.from_pandas(
            frame.iloc[:2], source=HOLDOUT_DATA, name="holdout", targets="label"
        )
        runs = {}
        with mlflow.start_run(
            experiment_id=experiment, run_name="train-1", tags={"mlflow.user": "alice@example.com"}
        ) as run:
            mlflow.log_params({"max_depth": 5, "learning_rate": 0.1})
            mlflow.log_metric("auc", 0.90, step=0)
            mlflow.log_metric("auc", 0.93, step=1)
            mlflow.set_tags({"team": "fraud-ml", "mlflow.note.content": "baseline on October data"})
            mlflow.log_input(training, context="training")
            mlflow.log_input(holdout, context="evaluation")
            model = mlflow.initialize_logged_model(
                name="fraud-model", model_type="classifier", params={"C": "1.0"}
            )
            mlflow.log_outputs([LoggedModelOutput(model.model_id, step=1)])
            mlflow.log_metric("precision", 0.81, dataset=holdout, model_id=model.model_id)
            mlflow.log_metric("recall", 0.77, dataset=holdout, model_id=model.model_id)
            mlflow.finalize_logged_model(model.model_id, "READY")
            runs["train-1"] = run.info.run_id
        with mlflow.start_run(experiment_id=experiment, run_name="train-2") as run:
            mlflow.log_param("max_depth", 7)
            mlflow.log_metric("auc", 0.95)
            mlflow.log_input(training, context="training")
            runs["train-2"] = run.info.run_id
        with mlflow.start_run(experiment_id=experiment, run_name="sweep") as run:
            mlflow.log_param("max_depth", 9)
            runs["sweep"] = run.info.run_id
            mlflow.end_run(status="KILLED")
        client.create_registered_model(
            "fraud-detector", tags={"domain": "payments"}, description="Card fraud"
        )
        client.create_model_version(
            "fraud-detector", f"models:/{model.model_id}", run_id=runs["train-1"], model_id=model.model_id
        )
        client.create_model_version(
            "fraud-detector", "s3://fraud-models/v2", run_id=runs["train-2"], tags={"validated": "yes"},
            description="deeper trees",
        )  # fmt: skip
        client.set_registered_model_alias("fraud-detector", "champion", "1")
        client.set_registered_model_alias("fraud-detector", "production", "1")
        client.set_registered_model_alias("fraud-detector", "challenger", "2")
    finally:
        mlflow.set_tracking_uri(previous)
    return Tracking(path, runs, model.model_id, training.digest, holdout.digest)


@pytest.fixture(scope="module")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> Tracking:
    return make_store(tmp_path_factory.mktemp("mlflow"))


@pytest.fixture(scope="module")
def loaded(tracking: Tracking, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """The tracking store loaded once by `mlg load mlflow+sqlite:///...` into an on-disk store."""
    store = tmp_path_factory.mktemp("mlg") / "store"
    result = CliRunner().invoke(
        cli, ["--store", str(store), "load", tracking.location], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return store, result


@pytest.fixture(scope="module")
def graph(loaded: tuple[Path, Result]) -> OxigraphStore:
    return open_store(loaded[0], read_only=True)


def ask(store: OxigraphStore, pattern: str) -> bool:
    return bool(store.query(f"ASK {{ {pattern} }}"))


def values(store: OxigraphStore, node: NamedNode, path: str) -> set[str]:
    return {row["o"].value for row in store.query(f"SELECT ?o WHERE {{ {node} {path} ?o }}")}


def setting(store: OxigraphStore, node: NamedNode, kind: str, name: str) -> set[str]:
    """The values of a node's metric (``kind`` metric) or parameter (``kind`` parameter) of a name."""
    edge, key, value = {"metric": ("hasMetric", "metricName", "metricValue")}.get(
        kind, ("hasParameter", "parameterName", "parameterValue")
    )
    query = f"SELECT ?o WHERE {{ {node} mlg:{edge} [ mlg:{key} {json.dumps(name)} ; mlg:{value} ?o ] }}"
    return {row["o"].value for row in store.query(query)}


def run_iri(tracking: Tracking, name: str) -> NamedNode:
    return MINTER.asset("run", tracking.runs[name])


def version_iri(model: str, version: str) -> NamedNode:
    return MINTER.version(MINTER.asset("model", model), version)


# ---------------------------------------------------------------- a live store, through `mlg load`


def test_the_store_is_admitted_with_nothing_dropped_silently(loaded: tuple[Path, Result]) -> None:
    line = loaded[1].stdout.strip()
    assert line.startswith("admitted mlflow mlflow+sqlite:///"), line
    assert "violation" not in line
    # What the ontology has no term for is counted in the summary (and kept as annotations).
    assert re.search(r"MLflow system tag \d+", line) and "dataset schema or profile 4" in line, line


def test_a_version_is_produced_by_its_run_and_trained_on_its_dataset_version(
    graph: OxigraphStore, tracking: Tracking
) -> None:
    v1, train = version_iri("fraud-detector", "1"), run_iri(tracking, "train-1")
    dataset = MINTER.dataset_from_uri(TRAINING_DATA)
    assert values(graph, v1, "mlg:producedBy") == {train.value}
    assert values(graph, v1, "mlg:trainedOn") == {f"{dataset.value}/versions/{tracking.training_digest}"}
    snapshot = MINTER.version(dataset, tracking.training_digest)
    assert values(graph, snapshot, "mlg:versionOf") == {dataset.value}
    assert values(graph, snapshot, "mlg:contentDigest") == {tracking.training_digest}
    assert values(graph, dataset, "mlg:namespace") == {"s3://fraud-data"}
    assert values(graph, dataset, "mlg:qualifiedName") == {"training/transactions.parquet"}
    assert values(graph, dataset, "mlg:name") == {"transactions"}
    # The run used both its inputs; the version is not trained on the evaluation data.
    holdout = MINTER.version(MINTER.dataset_from_uri(HOLDOUT_DATA), tracking.holdout_digest)
    assert values(graph, train, "mlg:used") == {snapshot.value, holdout.value}
    assert ask(graph, f"{train} a mlg:TrainingRun")
    # The whole chain, as lineage walks it.
    assert ask(graph, f"{version_iri('fraud-detector', '2')} mlg:producedBy/mlg:used/mlg:versionOf {dataset}")


def test_mlflow3_metrics_on_a_dataset_are_an_evaluation_of_the_version(
    graph: OxigraphStore, tracking: Tracking
) -> None:
    rows = list(
        graph.query(f"""
        SELECT ?evaluation ?name ?metric ?value ?data WHERE {{
          ?evaluation a mlg:Evaluation ; mlg:evaluates {version_iri("fraud-detector", "1")} ;
                      mlg:name ?name ; mlg:evaluatedOn ?data ; mlg:partOf {run_iri(tracking, "train-1")} ;
                      mlg:hasMetric [ mlg:metricName ?metric ; mlg:metricValue ?value ] .
        }} ORDER BY ?metric""")
    )
    assert [(r["metric"].value, float(r["value"].value)) for r in rows] == [
        ("precision", 0.81),
        ("recall", 0.77),
    ]
    assert {r["name"].value for r in rows} == {"fraud-detector v1 on holdout"}
    holdout = MINTER.version(MINTER.dataset_from_uri(HOLDOUT_DATA), tracking.holdout_digest)
    assert {r["data"].value for r in rows} == {holdout.value}
    # One evaluation: the evaluation input it covers makes no second one.
    assert len(list(graph.query("SELECT ?e WHERE { ?e a mlg:Evaluation }"))) == 1


def test_aliases_stages_tags_and_the_logged_model_folded_into_its_version(
    graph: OxigraphStore, tracking: Tracking
) -> None:
    v1, v2 = version_iri("fraud-detector", "1"), version_iri("fraud-detector", "2")
    assert values(graph, v1, "mlg:alias") == {"champion", "production"}
    assert values(graph, v2, "mlg:alias") == {"challenger"}
    assert values(graph, v2, "mlg:tag") == {"validated=yes"}
    assert values(graph, v2, "mlg:description") == {"deeper trees"}
    assert values(graph, v1, "mlg:versionOf") == {MINTER.asset("model", "fraud-detector").value}
    assert values(graph, MINTER.asset("model", "fraud-detector"), "mlg:tag") == {"domain=payments"}
    # The logged model is the version's artefact, not a node of its own.
    assert values(graph, v1, "mlg:hasParameter/mlg:parameterValue") >= {"1.0"}
    assert f"model_id={tracking.logged_model}" in values(graph, v1, "mlg:annotation")
    assert not ask(graph, f"?x mlg:version {json.dumps(tracking.logged_model)}")
    assert values(graph, v1, "mlg:ownedBy") == {MINTER.asset("person", "alice@example.com").value}


def test_runs_parameters_metrics_state_owner_and_experiment(graph: OxigraphStore, tracking: Tracking) -> None:
    train = run_iri(tracking, "train-1")
    query = (
        f"SELECT ?n ?v WHERE {{ {train} mlg:hasParameter [ mlg:parameterName ?n ; mlg:parameterValue ?v ] }}"
    )
    settings = {(row["n"].value, row["v"].value) for row in graph.query(query)}
    assert settings == {("max_depth", "5"), ("learning_rate", "0.1")}
    assert setting(graph, train, "metric", "auc") == {"0.93"}
    assert values(graph, train, "mlg:runState") == {"completed"}
    assert values(graph, run_iri(tracking, "sweep"), "mlg:runState") == {"aborted"}
    assert ask(graph, f"{run_iri(tracking, 'sweep')} a mlg:Run") and not ask(
        graph, f"{run_iri(tracking, 'sweep')} a mlg:TrainingRun"
    )
    assert values(graph, train, "mlg:name") == {"train-1"}
    assert values(graph, train, "mlg:description") == {"baseline on October data"}
    assert values(graph, train, "mlg:tag") == {"team=fraud-ml"}
    alice = MINTER.asset("person", "alice@example.com")
    assert values(graph, train, "mlg:ownedBy") == {alice.value}
    assert values(graph, alice, "mlg:email") == {"alice@example.com"}
    experiment = MINTER.asset("experiment", "1")
    assert values(graph, train, "mlg:partOf") == {experiment.value}
    assert values(graph, experiment, "mlg:name") == {"fraud-detection"}
    assert values(graph, experiment, "mlg:description") == {"Card fraud models"}


def test_reloading_the_same_store_changes_nothing(loaded: tuple[Path, Result], tracking: Tracking) -> None:
    store, _ = loaded
    before = disk_snapshot(store)
    result = CliRunner().invoke(
        cli, ["--store", str(store), "load", tracking.location], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"unchanged mlflow {tracking.location}"), result.stdout
    assert disk_snapshot(store) == before


def test_a_changed_store_replaces_its_graph(
    mlg: Run, tracking: Tracking, tmp_path: Path, store_path: Path
) -> None:
    copy = tmp_path / "copy.db"
    shutil.copy(tracking.path, copy)
    location = f"mlflow+sqlite:///{copy}"
    assert mlg("load", location, "--source", "mlflow/fraud").exit_code == 0
    uri = f"sqlite:///{copy}"
    client = mlflow.tracking.MlflowClient(uri, registry_uri=uri)
    client.set_registered_model_alias("fraud-detector", "champion", "2")
    client.delete_run(tracking.runs["sweep"])
    result = mlg("load", location, "--source", "mlflow/fraud")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"replaced mlflow {location}"), result.stdout
    store = open_store(store_path, read_only=True)
    assert values(store, version_iri("fraud-detector", "1"), "mlg:alias") == {"production"}
    assert values(store, version_iri("fraud-detector", "2"), "mlg:alias") == {"challenger", "champion"}
    assert not ask(store, f"{run_iri(tracking, 'sweep')} ?p ?o")


def test_reading_leaves_the_tracking_store_as_it_was(tracking: Tracking, minter: Minter) -> None:
    before = hashlib.sha256(tracking.path.read_bytes()).hexdigest()
    read_submission(tracking.location, minter=minter, max_bytes=1000)
    assert hashlib.sha256(tracking.path.read_bytes()).hexdigest() == before


# ---------------------------------------------------------------- the same store behind MLflow's server


@pytest.fixture(scope="module")
def server(tracking: Tracking, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """MLflow's own tracking server (its Flask app) over the module's store, on loopback."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log(self, *args: object) -> None:
            pass

    uri = f"sqlite:///{tracking.path}"
    environment = {"_MLFLOW_SERVER_FILE_STORE": uri, "_MLFLOW_SERVER_REGISTRY_STORE": uri}
    environment["_MLFLOW_SERVER_ARTIFACT_ROOT"] = str(tmp_path_factory.mktemp("artifacts"))
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        logging.getLogger("mlflow").setLevel(logging.ERROR)
        from mlflow.server import app

        http = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
        thread = threading.Thread(target=http.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"mlflow+http://127.0.0.1:{http.server_port}"
        finally:
            http.shutdown()


def test_a_tracking_server_gives_the_same_graph_as_its_store(
    server: str, tracking: Tracking, minter: Minter
) -> None:
    """The REST API gives versions, aliases and users as text where SQLAlchemy gives numbers and
    None: the graph is the same, with links to the server's pages."""

    def triples(location: str) -> set[str]:
        records = read_submission(location, minter=minter, max_bytes=1000).records()
        return {str(t) for record in records for t in record}

    over_http, from_file = triples(server), triples(tracking.location)
    assert {t for t in over_http if "#sourceUrl" not in t} == from_file
    page = f"http://127.0.0.1:{server.rsplit(':', 1)[1]}/#/"
    links = {t.split(" ")[2] for t in over_http - from_file}
    assert f'"{page}models/fraud-detector/versions/1"^^<http://www.w3.org/2001/XMLSchema#anyURI>' in links
    assert (
        f'"{page}experiments/1/runs/{tracking.runs["train-1"]}"^^<http://www.w3.org/2001/XMLSchema#anyURI>'
        in links
    )


# ---------------------------------------------------------------- mlflow-export-import's samples


def sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"the shared mlflow-export-import sample {name} is absent")
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, OxigraphStore]:
    """Every sample, detected and loaded by one `mlg load FOLDER`."""
    if not SAMPLES.is_dir():
        pytest.skip("the shared mlflow-export-import samples are absent")
    path = tmp_path_factory.mktemp("export") / "store"
    result = CliRunner().invoke(cli, ["--store", str(path), "load", str(SAMPLES)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result, open_store(path, read_only=True)


def test_every_sample_is_detected_and_admitted(exported: tuple[Result, OxigraphStore]) -> None:
    lines = exported[0].stdout.splitlines()
    assert [line.split(" ")[:3] for line in lines] == [
        ["admitted", "mlflow-export", str(SAMPLES / name) + ":"]
        for name in ("model.json", "run-5397ae67.json", "run.json", "version.json")
    ]
    assert all("violation" not in line for line in lines)
    assert "export-import tag, not kept (restates the run) 22" in lines[1]


def test_model_sample_versions_stages_and_aliases(exported: tuple[Result, OxigraphStore]) -> None:
    store = exported[1]
    stages = {}
    for number, alias in (("1", "good-to-go"), ("2", "about-ready"), ("3", "just-in-case")):
        version = version_iri("sklearn_wine", number)
        assert values(store, version, "mlg:alias") == {alias}
        assert values(store, version, "mlg:versionOf") == {MINTER.asset("model", "sklearn_wine").value}
        stages[number] = values(store, version, "mlg:stage")
    assert stages == {"1": {"production"}, "2": {"staging"}, "3": set()}
    assert values(store, version_iri("sklearn_wine", "1"), "mlg:producedBy") == {
        MINTER.asset("run", "d583ca20513841749b26907cb2d3952b").value
    }
    assert values(store, MINTER.asset("model", "sklearn_wine"), "mlg:description") == {
        "Skearn Wine Quality model"
    }


def test_version_and_run_samples_meet_in_one_lineage(exported: tuple[Result, OxigraphStore]) -> None:
    store = exported[1]
    version = version_iri("andre_catalog.ml_models2.sklearn_wine_best", "15")
    run = MINTER.asset("run", "6222162b4c7f47c2820a7e5b520f65a9")
    table = MINTER.dataset(
        "databricks://e2-demo-field-eng.cloud.databricks.com", "andre_catalog.ml_data.winequality_white_2"
    )
    assert values(store, version, "mlg:alias") == {"white_2"}
    assert values(store, version, "mlg:producedBy") == {run.value}
    assert values(store, run, "mlg:used") == {MINTER.version(table, "062ac4fa").value}
    assert ask(store, f"{version} mlg:upstream+ {table}")
    assert setting(store, run, "parameter", "max_depth") == {"1"}
    assert setting(store, run, "metric", "rmse") == {"0.8248773953029855"}
    owner = MINTER.asset("person", "andre.mesarovic@databricks.com")
    assert values(store, run, "mlg:ownedBy") == {owner.value}
    assert values(store, run, "mlg:runState") == {"completed"}
    assert ask(store, f"{run} a mlg:TrainingRun")


def test_the_same_run_reads_the_same_from_an_export_and_from_a_store(
    tracking: Tracking, minter: Minter, tmp_path: Path
) -> None:
    """One mapping: the run as mlflow-export-import writes it gives the store's triples."""
    from mlflow.tracking import MlflowClient

    run = MlflowClient(f"sqlite:///{tracking.path}").get_run(tracking.runs["train-2"]).to_dictionary()
    history = {
        key: [{"value": value, "step": 0, "timestamp": 0}] for key, value in run["data"]["metrics"].items()
    }
    body = {
        "info": run["info"],
        "params": run["data"]["params"],
        "metrics": history,
        "tags": run["data"]["tags"],
    }
    body |= {"inputs": run["inputs"], "outputs": run["outputs"]}  # as export_run.py writes them
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"system": {"script": "export_run.py"}, "mlflow": body}))

    def triples(location: str) -> set[str]:
        found = read_submission(location, minter=minter, max_bytes=10**6).records()
        subject = str(run_iri(tracking, "train-2"))[:-1]
        return {str(t) for record in found for t in record if str(t.subject).startswith(subject)}

    assert triples(str(path)) == triples(tracking.location)


# ---------------------------------------------------------------- bad and hostile inputs


@pytest.fixture
def before(mlg: Run, store_path: Path) -> list[str]:
    """A store holding one admitted export, before the bad command runs."""
    result = mlg("load", str(sample("version.json")))
    assert result.exit_code == 0, result.output
    return disk_snapshot(store_path)


def refused(result: Result, *fragments: str) -> str:
    """Exit 2 and nothing but one ``mlg: error:`` line on stderr."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlg: error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_missing_sqlite_store_is_refused_and_not_created(
    mlg: Run, store_path: Path, before: list[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "mlflow.db"
    line = refused(
        mlg("load", f"mlflow+sqlite:///{missing}"), f"mlflow+sqlite:///{missing}: ", "no such file"
    )
    assert str(missing) in line
    assert not missing.exists() and not missing.parent.exists()
    assert disk_snapshot(store_path) == before


def test_an_unreachable_tracking_server_is_refused_quickly(
    mlg: Run, store_path: Path, before: list[str]
) -> None:
    location = f"mlflow+http://127.0.0.1:{closed_port()}"
    refused(mlg("load", location), f"{location}: cannot reach the MLflow server at 127.0.0.1")
    assert disk_snapshot(store_path) == before


def not_mlflow(path: Path, tracking: Tracking) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL)")


def old_schema(path: Path, tracking: Tracking) -> None:
    """The store as MLflow 2.x left it, as far as its schema revision says."""
    shutil.copy(tracking.path, path)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE alembic_version SET version_num = '0584bdc529eb'")


@pytest.mark.parametrize(
    ("make", "fragments"),
    [
        pytest.param(not_mlflow, ("is not an MLflow tracking store",), id="sqlite-not-mlflow"),
        pytest.param(
            lambda path, _: path.write_bytes(b"\x00\x9fgarbage" * 64),
            ("is not an SQLite database",),
            id="garbage",
        ),
        pytest.param(
            lambda path, _: path.write_bytes(b""), ("is not an MLflow tracking store",), id="empty-file"
        ),
        pytest.param(
            old_schema, ("schema is at revision 0584bdc529eb", "mlflow db upgrade"), id="older-schema"
        ),
    ],
)
def test_a_sqlite_file_that_is_not_a_readable_mlflow_store_is_refused_untouched(
    mlg: Run, store_path: Path, before: list[str], tmp_path: Path, tracking: Tracking, make, fragments
) -> None:
    path = tmp_path / "mlflow.db"
    make(path, tracking)
    content = path.read_bytes()
    refused(mlg("load", f"mlflow+sqlite:///{path}"), *fragments)
    assert path.read_bytes() == content, "mlg changed the file it was asked to read"
    assert disk_snapshot(store_path) == before


def version_json(**changes: object) -> str:
    document = json.loads(sample("version.json").read_text())
    document["mlflow"]["model_version"].update(changes)
    return json.dumps(document, indent=2)


def bad(identifier: str, name: str, content: object, *fragments: str, args: tuple[str, ...] = ()) -> object:
    return pytest.param(name, content, args, fragments, id=identifier)


RMSE = '"value": 0.8248773953029855'
NESTED = '{"system": {"script": "export_run.py"}, "mlflow": {"info": ' + "[" * 50_000
BAD_EXPORTS = [
    bad("garbage-bytes", "run.json", b"\x00\xff\xfe garbage \x80" * 40, "cannot tell the format"),
    bad(
        "garbage-forced",
        "run.json",
        b'{"mlflow": {"info": \xff}}',
        "not UTF-8",
        args=("--format", "mlflow-export"),
    ),
    bad(
        "version-a-list",
        "version.json",
        lambda: version_json(version=["15"]),
        "version: expected text, got a list",
    ),
    bad(
        "aliases-text",
        "version.json",
        lambda: version_json(aliases="white_2"),
        "aliases: expected a list, got text",
    ),
    bad(
        "timestamp-text",
        "version.json",
        lambda: version_json(creation_timestamp="yesterday"),
        "mlflow.model_version.creation_timestamp: expected milliseconds since 1970, got text",
    ),
    bad(
        "timestamp-huge",
        "version.json",
        lambda: version_json(creation_timestamp=10**20),
        "creation_timestamp: 100000000000000000000 milliseconds since 1970 is not a date",
    ),
    bad(
        "version-missing",
        "version.json",
        lambda: version_json(version=None),
        "mlflow.model_version.version: missing",
    ),
    bad("truncated", "run.json", lambda: sample("run.json").read_text()[:3000], "malformed JSON"),
    bad(
        "metric-text",
        "run.json",
        lambda: sample("run.json").read_text().replace(RMSE, '"value": "low"'),
        "mlflow.metrics.rmse[0].value",
        "'low' is not a number",
    ),
    bad("deeply-nested", "run.json", NESTED, "nested too deeply"),
    bad(
        "unknown-kind",
        "run.json",
        '{"system": {"script": "export_run.py"}, "mlflow": {"runs": []}}',
        "mlflow: not an mlflow-export-import run",
    ),
]


@pytest.mark.parametrize(("name", "content", "args", "fragments"), BAD_EXPORTS)
def test_bad_export_files_are_refused_in_one_line(
    mlg: Run, store_path: Path, before: list[str], tmp_path: Path, name: str, content, args, fragments
) -> None:
    content = content() if callable(content) else content
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    refused(mlg("load", *args, str(path)), str(path), *fragments)
    assert disk_snapshot(store_path) == before


def test_without_mlflow_the_export_files_still_load_and_a_store_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tracking: Tracking, minter: Minter
) -> None:
    for name in [name for name in sys.modules if name == "mlflow" or name.startswith("mlflow.")]:
        monkeypatch.setitem(sys.modules, name, None)
    submission = read_submission(sample("run.json"), minter=minter, max_bytes=10**6)
    assert list(submission.records())
    with pytest.raises(MissingDependencyError, match=r"pip install 'model-lifecycle-graph\[mlflow\]'"):
        read_submission(tracking.location, minter=minter, max_bytes=1000)


# ---------------------------------------------------------------- sniffing


@pytest.mark.parametrize("name", ["model.json", "run.json", "version.json", "run-5397ae67.json"])
def test_export_files_are_detected(name: str) -> None:
    path = sample(name)
    assert detect(path, path.read_bytes()).name == "mlflow-export"


def test_other_formats_are_not_claimed(tmp_path: Path) -> None:
    others = [
        p for p in (SHARED / "samples").glob("*/*") if p.parent.name != "mlflow-export-import" and p.is_file()
    ]
    others += sorted((Path(__file__).parents[1] / "mlg" / "demo").glob("*"))
    summary = tmp_path / "experiments.json"  # a bulk export's summary: no run, model or version in it
    summary.write_text('{"system": {"script": "export_experiments.py"}, "mlflow": {"experiments": []}}')
    for path in [*others, summary]:
        assert not _sniff_export(path, path.read_bytes()[:4096]), path
    assert others, "no other format's files to check"
