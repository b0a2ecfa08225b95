"""The Croissant loader: a dataset's JSON-LD metadata becomes a dataset, its files and its fields.

Inputs are the Croissant project's own example files (``/work/shared/samples/croissant``,
skipped when absent: Titanic in Croissant 1.0, MNIST as the Hugging Face Hub publishes it
in 1.1, DICES with responsible-AI fields) and variants of them; everything goes through
the real ``mlg`` command or the real gate and is checked with SPARQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from click.testing import CliRunner, Result
from conftest import BASE, SHARED, ContextServer, disk_snapshot
from pyoxigraph import NamedNode

from mlg.cli import cli
from mlg.identity import Minter
from mlg.loaders import read_submission
from mlg.loaders.croissant import FORMATS
from mlg.store import OxigraphStore, open_store

SAMPLES = SHARED / "samples" / "croissant"
MINTER = Minter(BASE)
Run = Callable[..., Result]
sniff = FORMATS[0].sniff
MNIST = MINTER.dataset_from_uri("hf://datasets/ylecun/mnist")
TITANIC = MINTER.dataset_from_uri("https://www.openml.org/d/40945")
DICES = MINTER.dataset_from_uri("https://github.com/google-research-datasets/dices-dataset/")


def sample(name: str) -> Path:
    path = SAMPLES / f"{name}-metadata.json"
    if not path.is_file():
        pytest.skip(f"the shared Croissant sample {path.name} is absent")
    return path


def document(name: str) -> dict[str, Any]:
    return json.loads(sample(name).read_text(encoding="utf-8"))


def put(folder: Path, name: str, content: dict[str, Any] | str) -> Path:
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=1), encoding="utf-8")
    return path


def values(store: OxigraphStore, node: NamedNode | str, predicate: str) -> set[str]:
    subject = node if isinstance(node, NamedNode) else NamedNode(node)
    return {row["o"].value for row in store.query(f"SELECT ?o WHERE {{ {subject} {predicate} ?o }}")}


def field(dataset: NamedNode, record_set: str, name: str) -> NamedNode:
    """A field's IRI as every loader mints it: its path ``recordset/field`` under the dataset."""
    return MINTER.field(dataset, f"{record_set}/{name}")


def fields_of(store: OxigraphStore, dataset: NamedNode) -> set[str]:
    """The paths (``recordset/field``) of a dataset's fields."""
    rows = store.query(f"SELECT ?f WHERE {{ ?f a mlg:Field ; mlg:partOf {dataset} }}")
    return {unquote(row["f"].value[len(dataset.value) + len("/fields/") :]) for row in rows}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, OxigraphStore]:
    """The three example files loaded by one `mlg load`, and the store it made (read-only)."""
    files = [str(sample(name)) for name in ("titanic", "mnist", "dices-350")]
    path = tmp_path_factory.mktemp("croissant") / "store"
    result = CliRunner().invoke(cli, ["--store", str(path), "load", *files], catch_exceptions=False)
    return result, open_store(path, read_only=True)


# ---------------------------------------------------------------- the Croissant project's examples


def test_samples_are_detected_and_admitted(samples: tuple[Result, OxigraphStore]) -> None:
    result, _ = samples
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["admitted", "croissant"]] * 3, result.stdout
    assert re.search(r": 20 assets, .*: distribution without an absolute contentUrl 3", lines[0])


def test_titanic_dataset_and_fields(samples: tuple[Result, OxigraphStore]) -> None:
    _, store = samples
    assert values(store, TITANIC, "mlg:name") == {"Titanic"}
    assert values(store, TITANIC, "mlg:license") == {"afl-3.0"}
    assert values(store, TITANIC, "mlg:version") == {"1.0.0"}
    assert values(store, TITANIC, "mlg:sourceUrl") == {"https://www.openml.org/d/40945"}
    assert values(store, TITANIC, "mlg:namespace") == {"https://www.openml.org"}
    assert "conformsTo=http://mlcommons.org/croissant/1.0" in values(store, TITANIC, "mlg:annotation")
    fields = fields_of(store, TITANIC)
    assert len(fields) == 19
    assert {
        "genders/label",
        "embarkation_ports/key",
        "passengers/survived",
        "passengers/home_destination",
    } <= fields
    survived = field(TITANIC, "passengers", "survived")
    assert values(store, survived, "mlg:name") == {"passengers/survived"}
    assert values(store, survived, "mlg:dataType") == {"sc:Integer"}
    assert values(store, survived, "mlg:description") == {"Survival status of passenger (0: Lost, 1: Saved)"}
    # Two data types: the first is the field's type, the other (a Wikidata class) is kept aside.
    url = field(TITANIC, "genders", "url")
    assert values(store, url, "mlg:dataType") == {"sc:URL"}
    assert "dataType=https://www.wikidata.org/wiki/Q48277" in values(store, url, "mlg:annotation")
    assert "references=genders/label" in values(
        store, field(TITANIC, "passengers", "gender"), "mlg:annotation"
    )
    # Its files are named relative to nowhere ("data/titanic.csv"): kept, not made into datasets.
    assert values(store, TITANIC, "mlg:derivedFrom") == set()
    assert "distribution=passengers.csv: data/titanic.csv" in values(store, TITANIC, "mlg:annotation")


def test_mnist_is_the_hugging_face_dataset(samples: tuple[Result, OxigraphStore]) -> None:
    _, store = samples
    assert values(store, MNIST, "mlg:name") == {"mnist"}
    assert values(store, MNIST, "mlg:license") == {"mit"}
    assert values(store, MNIST, "mlg:namespace") == {"hf://datasets"}
    assert values(store, MNIST, "mlg:qualifiedName") == {"ylecun/mnist"}
    repo = MINTER.dataset_from_uri("https://huggingface.co/datasets/ylecun/mnist/")
    assert values(store, MNIST, "mlg:derivedFrom") == {repo.value}
    assert values(store, repo, "mlg:name") == {"repo (mnist)"}
    assert values(store, repo, "mlg:sourceUrl") == {"https://huggingface.co/datasets/ylecun/mnist/"}
    assert values(store, repo, "mlg:contentDigest") == set()  # its "sha256" is a URL, not a digest
    assert fields_of(store, MNIST) == {
        "mnist_splits/split_name",
        "default/split",
        "default/image",
        "default/label",
    }
    image = field(MNIST, "default", "image")
    assert values(store, image, "mlg:dataType") == {"sc:ImageObject"}
    # The field is read from a file set inside the repository: its lineage reaches the repository.
    assert values(store, image, "mlg:derivedFrom") == {repo.value}


def test_dices_responsible_ai_fields(samples: tuple[Result, OxigraphStore]) -> None:
    _, store = samples
    annotations = values(store, DICES, "mlg:annotation")
    assert "rai:dataAnnotationPlatform=Crowdworker annotators with task specific UI" in annotations
    assert {a.split("=", 1)[0] for a in annotations} >= {
        "rai:dataCollection",
        "rai:dataBiases",
        "rai:annotatorDemographics",
        "creator",
        "citeAs",
    }
    assert "creator=Lora Aroyo (https://github.com/google-research-datasets/dices-dataset/)" in annotations
    assert values(store, DICES, "mlg:classification") == set()  # it declares no personal information
    assert values(store, DICES, "mlg:license") == {"cc-by-sa-4.0"}


def test_the_croissant_triples_are_kept(samples: tuple[Result, OxigraphStore]) -> None:
    _, store = samples
    # The top-level Dataset is the mapped node; relative @ids are placed under it.
    assert values(store, MNIST, "<https://schema.org/name>") == {"mnist"}
    image = NamedNode(f"{MNIST.value}/croissant/default/image")
    assert values(store, image, "<http://mlcommons.org/croissant/dataType>") == {
        "https://schema.org/ImageObject"
    }
    # Blank nodes (a field's source) are skolemised under the dataset's identity.
    sources = values(store, image, "<http://mlcommons.org/croissant/source>")
    assert len(sources) == 1
    assert next(iter(sources)).startswith(BASE + ".well-known/genid/")
    columns = store.query(
        "SELECT ?c WHERE { ?f <http://mlcommons.org/croissant/source>/<http://mlcommons.org/croissant/extract>"
        "/<http://mlcommons.org/croissant/column> ?c }"
    )
    assert {row["c"].value for row in columns} >= {"image", "label", "survived"}


def test_reading_twice_gives_the_same_triples(minter: Minter) -> None:
    path = sample("mnist")

    def triples() -> set[str]:
        submission = read_submission(path, minter=minter, max_bytes=1_000_000)
        return {str(triple) for record in submission.records() for triple in record}

    assert triples() == triples()  # the parser's blank node labels are random; ours are not


def test_personal_information_is_labelled_pii(
    store: OxigraphStore, gate: Any, minter: Minter, tmp_path: Path
) -> None:
    said = document("dices-350")
    said["rai:personalSensitiveInformation"] = "Raters' age group, gender and ethnicity."
    none = document("titanic")
    none["rai:personalSensitiveInformation"] = "None."
    for name, content in (("dices.json", said), ("titanic.json", none)):
        outcome = gate.admit(
            read_submission(put(tmp_path, name, content), minter=minter, max_bytes=1_000_000)
        )
        assert outcome.status == "admitted", [f.line() for f in outcome.report.findings]
    assert values(store, DICES, "mlg:classification") == {"pii"}
    assert values(store, TITANIC, "mlg:classification") == set()
    assert "rai:personalSensitiveInformation=None." in values(store, TITANIC, "mlg:annotation")


def test_croissant_1_1_provenance_and_dataset_terms(
    store: OxigraphStore, gate: Any, minter: Minter, tmp_path: Path
) -> None:
    content = document("mnist")
    content["@context"]["prov"] = "http://www.w3.org/ns/prov#"
    content["prov:wasDerivedFrom"] = [
        {"@id": "https://huggingface.co/datasets/lecun/original-mnist"},
        {
            "@type": "sc:Dataset",
            "name": "NIST SD-3",
            "url": "https://www.nist.gov/srd/nist-special-database-3",
        },
    ]
    content["sameAs"] = "https://www.kaggle.com/datasets/hojjatk/mnist-dataset"
    content["keywords"] = ["images", "digits"]
    content["datePublished"] = "1998-11-01"
    content["dateModified"] = "sometime in 2024"
    content["isLiveDataset"] = False
    content["distribution"][0]["sha256"] = "AB" * 32
    outcome = gate.admit(
        read_submission(put(tmp_path, "mnist.json", content), minter=minter, max_bytes=10**6)
    )
    assert outcome.status == "admitted", [f.line() for f in outcome.report.findings]
    assert values(store, MNIST, "mlg:derivedFrom") >= {
        MINTER.dataset_from_uri("hf://datasets/lecun/original-mnist").value,
        MINTER.dataset_from_uri("https://www.nist.gov/srd/nist-special-database-3").value,
    }
    assert values(store, MNIST, "owl:sameAs") == {
        MINTER.dataset_from_uri("https://www.kaggle.com/datasets/hojjatk/mnist-dataset").value
    }
    assert values(store, MNIST, "mlg:tag") == {"images", "digits"}
    assert values(store, MNIST, "mlg:created") == {"1998-11-01T00:00:00"}
    assert values(store, MNIST, "mlg:modified") == set()
    assert {"dateModified=sometime in 2024", "isLiveDataset=false"} <= values(store, MNIST, "mlg:annotation")
    assert outcome.submission.warnings == {"date that is not ISO 8601": 1}
    repo = MINTER.dataset_from_uri("https://huggingface.co/datasets/ylecun/mnist/")
    assert values(store, repo, "mlg:contentDigest") == {"sha256:" + "ab" * 32}


def test_a_model_card_and_the_croissant_file_meet_on_one_dataset(mlg: Run, tmp_path: Path) -> None:
    hub = pytest.importorskip("huggingface_hub")
    card = hub.ModelCard.from_template(
        hub.ModelCardData(license="mit", datasets=["ylecun/mnist"], pipeline_tag="image-classification")
    )
    card.save(tmp_path / "digits-cnn" / "README.md")
    result = mlg("load", str(tmp_path / "digits-cnn" / "README.md"), str(sample("mnist")))
    assert result.exit_code == 0, result.output
    store = open_store(tmp_path / "store", read_only=True)
    rows = store.query(
        "SELECT DISTINCT ?model ?name WHERE { ?model mlg:trainedOn ?d . ?d mlg:name ?name ; a mlg:Dataset }"
    )
    assert [(row["model"], row["name"].value) for row in rows] == [
        (MINTER.asset("model", "digits-cnn"), "mnist")
    ]


def test_reload_is_unchanged_and_a_changed_file_replaces_its_graph(mlg: Run, tmp_path: Path) -> None:
    content = document("mnist")
    path = put(tmp_path, "mnist.json", content)
    assert mlg("load", str(path)).exit_code == 0
    assert mlg("load", str(path)).stdout.startswith("unchanged croissant")
    content["recordSet"][1]["field"][2]["name"] = "default/digit"
    content["recordSet"][1]["field"][2]["@id"] = "default/digit"
    put(tmp_path, "mnist.json", content)
    assert mlg("load", str(path)).stdout.startswith("replaced croissant")
    store = open_store(tmp_path / "store", read_only=True)
    assert fields_of(store, MNIST) == {
        "mnist_splits/split_name",
        "default/split",
        "default/image",
        "default/digit",
    }
    assert not store.query(f"ASK {{ ?s ?p <{MNIST.value}/croissant/default/label> }}")


# ---------------------------------------------------------------- bad and hostile files


@pytest.fixture
def before(mlg: Run, store_path: Path) -> list[str]:
    """A store holding one Croissant file, before the bad command runs."""
    assert mlg("load", str(sample("dices-350"))).exit_code == 0
    return disk_snapshot(store_path)


def refused(result: Result, path: Path, place: str, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert re.match(re.escape(f"mlg: error: {path}") + place, line), line
    assert message in line, line


@pytest.mark.parametrize(
    ("nested",),
    [pytest.param(False, id="top-level-context"), pytest.param(True, id="context-inside-a-field")],
)
def test_remote_context_is_not_fetched(
    mlg: Run, store_path: Path, before: list[str], tmp_path: Path, context_server: ContextServer, nested: bool
) -> None:
    content = document("mnist")
    if nested:
        content["recordSet"][0]["field"][0]["@context"] = context_server.url
    else:
        content["@context"] = [context_server.url, {"ml": "http://mlcommons.org/croissant/"}]
    path = put(tmp_path, "remote.json", content)
    result = mlg("load", str(path))
    assert context_server.requests == [], "mlg fetched a remote JSON-LD context"
    refused(result, path, ": ", "is not fetched")
    assert disk_snapshot(store_path) == before


CONTEXT = (
    '{"@context": {"@vocab": "https://schema.org/", "dct": "http://purl.org/dc/terms/"}, '
    '"dct:conformsTo": "http://mlcommons.org/croissant/1.1", '
)


@pytest.mark.parametrize(
    ("content", "args", "place", "message"),
    [
        pytest.param(
            CONTEXT + '"@type": "Dataset", "name": "x",', (), ":1:", "malformed JSON", id="truncated"
        ),
        pytest.param(
            CONTEXT + '"@type": "Dataset", "description": ' + "[" * 100_000 + "]" * 100_000 + "}",
            (),
            ": ",
            "nested too deeply",
            id="deeply-nested",
        ),
        pytest.param(
            CONTEXT + '"@type": "Dataset", "description": ' + "[" * 900 + "]" * 900 + "}",
            (),
            ": ",
            "no url, @id or name",
            id="nested-but-parsable",
        ),
        pytest.param(
            '{"@context": {"@vocab": "https://schema.org/"}, "@type": "Dataset", "name": "plain"}',
            ("--format", "croissant"),
            ": ",
            "not Croissant: no term of its vocabulary",
            id="jsonld-not-croissant-forced",
        ),
        pytest.param(CONTEXT + '"@type": "Person", "name": "x"}', (), ": ", "found none", id="no-dataset"),
        pytest.param(
            '{"@context": {"@vocab": "https://schema.org/", "cr": "http://mlcommons.org/croissant/"}, '
            '"@graph": [{"@type": "Dataset", "name": "a", "cr:citeAs": "a"}, '
            '{"@type": "Dataset", "name": "b"}]}',
            (),
            ": ",
            "found 2",
            id="two-datasets",
        ),
        pytest.param("[1, 2, 3]", ("--format", "croissant"), ": ", "expected one JSON object", id="array"),
        pytest.param(
            CONTEXT + '"@type": "Dataset", "name": "x", "@id": {"bad": 1}}',
            (),
            ": ",
            "not valid JSON-LD",
            id="not-jsonld",
        ),
    ],
)
def test_bad_file_is_refused_and_the_store_unchanged(
    mlg: Run,
    store_path: Path,
    before: list[str],
    tmp_path: Path,
    content: str,
    args: tuple[str, ...],
    place: str,
    message: str,
) -> None:
    path = put(tmp_path, "metadata.json", content)
    refused(mlg("load", str(path), *args), path, place, message)
    assert disk_snapshot(store_path) == before


# ---------------------------------------------------------------- sniffing


def test_sniff_claims_croissant_only(tmp_path: Path) -> None:
    for name in ("titanic", "mnist", "dices-350"):
        path = sample(name)
        assert sniff(path, path.read_bytes()[:4096]), path
        assert read_submission(path, minter=MINTER, max_bytes=10**6).format == "croissant"
    assert sniff(Path("metadata.jsonld"), CONTEXT.encode())
    assert not sniff(Path("metadata.yaml"), CONTEXT.encode())
    plain = put(tmp_path, "plain.json", '{"@context": {"@vocab": "https://schema.org/"}, "name": "x"}')
    assert not sniff(plain, plain.read_bytes())
    assert read_submission(plain, minter=MINTER, max_bytes=10**6).format == "jsonld"
    assert not sniff(Path("catalog.json"), b'{"mlg-manifest": 1, "assets": []}')
    card = b'---\nlicense: mit\ndatasets: [ylecun/mnist]\n---\nSee http://mlcommons.org/croissant/ "@context"'
    assert not sniff(Path("README.md"), card)
