"""The Hugging Face loader: model cards become a model, its base models, its training data and
one evaluation per model-index result.

Cards are written by huggingface_hub itself (``ModelCard.from_template`` with
``ModelCardData`` and ``EvalResult``), offline, and loaded through the real ``mlg``
command; the library's public sample cards (``/work/shared/samples/huggingface``,
skipped when absent) are loaded too, and what mlg reads is compared with what
``ModelCard.load`` reads from the same file.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import BASE, SHARED, disk_snapshot, yaml_alias_bomb
from pyoxigraph import NamedNode

from mlg.cli import cli
from mlg.errors import MissingDependencyError
from mlg.identity import Minter
from mlg.loaders import Request, read_submission
from mlg.loaders.huggingface import FORMATS
from mlg.store import OxigraphStore, open_store

hub = pytest.importorskip("huggingface_hub")

SAMPLES = SHARED / "samples" / "huggingface"
MINTER = Minter(BASE)
Run = Callable[..., Result]
sniff = FORMATS[0].sniff


def model(identifier: str) -> NamedNode:
    return MINTER.asset("model", identifier)


def hf_dataset(identifier: str) -> NamedNode:
    return MINTER.dataset_from_uri(f"hf://datasets/{identifier}")


def values(store: OxigraphStore, node: NamedNode, predicate: str) -> set[str]:
    return {row["o"].value for row in store.query(f"SELECT ?o WHERE {{ {node} {predicate} ?o }}")}


def metrics(store: OxigraphStore, evaluation: str) -> dict[str, float]:
    rows = store.query(
        f"SELECT ?n ?v WHERE {{ <{evaluation}> mlg:hasMetric [ mlg:metricName ?n ; mlg:metricValue ?v ] }}"
    )
    return {row["n"].value: float(row["v"].value) for row in rows}


def evaluations(store: OxigraphStore, of: NamedNode) -> list[str]:
    rows = store.query(f"SELECT ?e WHERE {{ ?e a mlg:Evaluation ; mlg:evaluates {of} }} ORDER BY ?e")
    return [row["e"].value for row in rows]


def write_card(path: Path, **card_data: object) -> Path:
    """A card as huggingface_hub writes it: its default template filled from ModelCardData."""
    card = hub.ModelCard.from_template(hub.ModelCardData(**card_data), model_summary="Written by a test.")
    path.parent.mkdir(parents=True, exist_ok=True)
    card.save(path)
    return path


def fine_tuned_card(path: Path, **changes: object) -> Path:
    data: dict[str, object] = {
        "language": ["en", "fr"],
        "license": "apache-2.0",
        "library_name": "transformers",
        "tags": ["text-classification", "sentiment"],
        "pipeline_tag": "text-classification",
        "base_model": "acme/base-encoder",
        "datasets": ["acme/reviews", "ylecun/mnist"],
        "model_name": "sentiment-bert",
        "co2_eq_emissions": {"emissions": 12.5},
        "eval_results": [
            hub.EvalResult(
                task_type="text-classification",
                dataset_type="acme/reviews",
                dataset_name="Reviews",
                dataset_split="test",
                metric_type="accuracy",
                metric_value=0.93,
            ),
            hub.EvalResult(
                task_type="text-classification",
                dataset_type="acme/reviews",
                dataset_name="Reviews",
                dataset_split="test",
                metric_type="f1",
                metric_value=0.91,
                metric_name="Macro F1",
            ),
            hub.EvalResult(
                task_type="text-classification",
                task_name="Sentiment",
                dataset_type="imdb",
                dataset_name="IMDB",
                dataset_config="plain_text",
                dataset_split="test",
                metric_type="accuracy",
                metric_value=0.88,
                source_name="Leaderboard",
                source_url="https://example.org/leaderboard",
            ),
        ],
    }
    data.update(changes)
    return write_card(path, **data)


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three cards written by huggingface_hub: a base model in the Hub's cache layout, a
    fine-tune of it with evaluations, and an adapter of it."""
    folder = tmp_path_factory.mktemp("cards")
    return {
        "base": write_card(
            folder / "hub/models--acme--base-encoder/snapshots/0123abcd/README.md",
            license="mit",
            library_name="transformers",
            pipeline_tag="fill-mask",
        ),
        "fine-tuned": fine_tuned_card(folder / "sentiment-bert/README.md"),
        "adapter": write_card(
            folder / "adapters/lora-adapter.md",
            base_model=["acme/base-encoder"],
            base_model_relation="adapter",
            library_name="peft",
            tags=["lora", "modèle-français"],
        ),
    }


@pytest.fixture(scope="module")
def loaded(cards: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, OxigraphStore]:
    """The three cards loaded by one `mlg load`, and the store it made (read-only)."""
    path = tmp_path_factory.mktemp("hf-store") / "store"
    files = [str(cards[name]) for name in ("base", "fine-tuned", "adapter")]
    result = CliRunner().invoke(cli, ["--store", str(path), "load", *files], catch_exceptions=False)
    return result, open_store(path, read_only=True)


# ---------------------------------------------------------------- cards huggingface_hub writes


def test_cards_are_detected_and_admitted(
    loaded: tuple[Result, OxigraphStore], cards: dict[str, Path]
) -> None:
    result, _ = loaded
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["admitted", "huggingface"]] * 3, result.stdout
    assert "card field with no graph term 1" in lines[1], lines[1]


def test_fine_tuned_model(loaded: tuple[Result, OxigraphStore]) -> None:
    _, store = loaded
    node = model("sentiment-bert")
    assert values(store, node, "rdf:type") >= {"https://w3id.org/mlg#Model"}
    assert values(store, node, "mlg:name") == {"sentiment-bert"}
    assert values(store, node, "mlg:license") == {"apache-2.0"}
    assert values(store, node, "mlg:tag") == {"text-classification", "sentiment"}
    assert values(store, node, "mlg:task") == {"text-classification"}
    assert values(store, node, "mlg:sourceRegistry") == {"huggingface"}
    assert values(store, node, "mlg:sourceId") == {"sentiment-bert"}
    assert values(store, node, "mlg:annotation") >= {
        "library_name=transformers",
        "language=en",
        "language=fr",
        'co2_eq_emissions={"emissions": 12.5}',
    }
    assert values(store, node, "mlg:fineTunedFrom") == {model("acme/base-encoder").value}
    assert values(store, node, "mlg:trainedOn") == {
        hf_dataset("acme/reviews").value,
        hf_dataset("ylecun/mnist").value,
    }


def test_one_evaluation_per_result(loaded: tuple[Result, OxigraphStore]) -> None:
    _, store = loaded
    found = evaluations(store, model("sentiment-bert"))
    assert len(found) == 2, found
    reviews, imdb = sorted(found, key=lambda iri: "imdb" in iri)
    assert metrics(store, reviews) == {"accuracy": 0.93, "f1": 0.91}
    assert metrics(store, imdb) == {"accuracy": 0.88}
    assert values(store, NamedNode(reviews), "mlg:name") == {"text-classification on Reviews (test)"}
    assert values(store, NamedNode(reviews), "mlg:split") == {"test"}
    assert values(store, NamedNode(reviews), "mlg:task") == {"text-classification"}
    assert values(store, NamedNode(reviews), "mlg:evaluatedOn") == {hf_dataset("acme/reviews").value}
    assert "metric_name[f1]=Macro F1" in values(store, NamedNode(reviews), "mlg:annotation")
    assert values(store, NamedNode(imdb), "mlg:name") == {"Sentiment on IMDB (test)"}
    assert values(store, NamedNode(imdb), "mlg:evaluatedOn") == {hf_dataset("imdb").value}
    assert values(store, NamedNode(imdb), "mlg:sourceUrl") == {"https://example.org/leaderboard"}
    assert values(store, NamedNode(imdb), "mlg:annotation") >= {
        "dataset_config=plain_text",
        "source_name=Leaderboard",
    }


def test_base_model_named_by_its_cache_folder_is_the_node_others_point_at(
    loaded: tuple[Result, OxigraphStore],
) -> None:
    _, store = loaded
    base = model("acme/base-encoder")
    assert values(store, base, "mlg:name") == {"acme/base-encoder"}
    assert values(store, base, "mlg:sourceUrl") == {"https://huggingface.co/acme/base-encoder"}
    assert values(store, base, "mlg:task") == {"fill-mask"}
    # The adapter (named by its file, having no model name) points at the same node, by derivedFrom.
    adapter = model("lora-adapter")
    assert values(store, adapter, "mlg:derivedFrom") == {base.value}
    assert values(store, adapter, "mlg:fineTunedFrom") == set()
    assert values(store, adapter, "mlg:tag") == {"lora", "modèle-français"}
    downstream = store.query(f"SELECT ?m WHERE {{ ?m mlg:upstream {base} }} ORDER BY ?m")
    assert [row["m"] for row in downstream] == [model("lora-adapter"), model("sentiment-bert")]


def test_reading_a_card_asks_nothing_of_the_network(cards: dict[str, Path]) -> None:
    attempts: list[str] = []

    def hook(event: str, args: tuple[object, ...]) -> None:
        if watching and event in ("socket.connect", "socket.getaddrinfo", "urllib.Request"):
            attempts.append(f"{event} {args[1:2]}")

    watching = True
    sys.addaudithook(hook)  # audit hooks cannot be removed: it stops watching instead
    try:
        submission = read_submission(cards["fine-tuned"], minter=MINTER, max_bytes=1_000_000)
        assert len(list(submission.records())) > 5
    finally:
        watching = False
    assert attempts == []


def test_reload_is_unchanged_and_a_changed_card_replaces_its_graph(mlg: Run, tmp_path: Path) -> None:
    card = fine_tuned_card(tmp_path / "sentiment-bert/README.md")
    assert mlg("load", str(card), "--source", "hub/sentiment-bert").exit_code == 0
    again = mlg("load", str(card), "--source", "hub/sentiment-bert")
    assert again.stdout.startswith("unchanged huggingface"), again.stdout

    fine_tuned_card(card, eval_results=None, datasets=["acme/reviews-v2"], model_name=None)
    replaced = mlg("load", str(card), "--source", "hub/sentiment-bert")
    assert replaced.stdout.startswith("replaced huggingface"), replaced.stdout
    store = open_store(tmp_path / "store", read_only=True)
    # No model name any more: the card's folder names the model, the same node as before.
    node = model("sentiment-bert")
    assert values(store, node, "mlg:trainedOn") == {hf_dataset("acme/reviews-v2").value}
    assert evaluations(store, node) == []
    assert not store.query("ASK { ?e a mlg:Evaluation }")


# ---------------------------------------------------------------- public samples


def sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"the shared sample {name} is absent")
    return path


@pytest.fixture
def admit(store: OxigraphStore, gate, minter: Minter) -> Callable[[Path], None]:
    def _admit(path: Path) -> None:
        outcome = gate.admit(read_submission(path, minter=minter, max_bytes=1_000_000))
        assert outcome.status == "admitted", outcome.status
        assert outcome.report.counts()["Violation"] == 0, [f.line() for f in outcome.report.findings]

    return _admit


def test_sample_non_ascii_card(store: OxigraphStore, admit: Callable[[Path], None]) -> None:
    admit(sample("nyaya-embed-v1.md"))
    node = model("nyaya-embed-v1")
    assert values(store, node, "mlg:license") == {"mit"}
    assert values(store, node, "mlg:task") == {"sentence-similarity"}
    assert values(store, node, "mlg:fineTunedFrom") == {model("intfloat/multilingual-e5-base").value}
    assert values(store, node, "mlg:trainedOn") == {hf_dataset("NyayaLabs98/nyaya-statute-db").value}
    annotations = values(store, node, "mlg:annotation")
    assert {"language=en", "language=hi", "base_model_relation=finetune"} <= annotations
    [evaluation] = evaluations(store, node)
    assert metrics(store, evaluation) == {"recall_at_1": 49.2, "recall_at_8": 88.1}
    assert values(store, NamedNode(evaluation), "mlg:evaluatedOn") == {
        hf_dataset("NyayaLabs98/nyaya-eval-v1").value
    }


def test_sample_model_index_reads_as_huggingface_hub_reads_it(
    store: OxigraphStore, admit: Callable[[Path], None]
) -> None:
    path = sample("sample_simple_model_index.md")
    admit(path)
    card = hub.ModelCard.load(path)
    expected = {result.unique_identifier for result in card.data.eval_results}
    found = evaluations(store, model(card.data.model_name))
    assert len(found) == len(expected) == 2
    assert sorted(v for e in found for v in metrics(store, e).values()) == sorted(
        float(result.metric_value) for result in card.data.eval_results
    )
    with_revision = [e for e in found if "revision" in e]
    assert values(store, NamedNode(with_revision[0]), "mlg:split") == {"test"}
    assert "dataset_revision=5503434ddd753f426f4b38109466949a1217c2bb" in values(
        store, NamedNode(with_revision[0]), "mlg:annotation"
    )


def test_sample_invalid_model_index_is_refused_as_huggingface_hub_refuses_it(mlg: Run) -> None:
    path = sample("sample_invalid_model_index.md")
    with pytest.raises(ValueError, match="Invalid `model_index`"):
        hub.ModelCard.load(path)  # the library's default: refuse, not silently drop the results
    result = mlg("load", str(path))
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"mlg: error: {path}: model-index[0].results[0]: no 'dataset'; huggingface_hub refuses this "
        "model-index (each result needs task.type, dataset.type, dataset.name and metrics with type and "
        "value)"
    )


# ---------------------------------------------------------------- bad and hostile cards

YAML_BOMB = "---\nlicense: mit\n" + yaml_alias_bomb(levels=8) + "---\n# Bomb\n"
RESULT = "model-index:\n- name: m\n  results:\n"


@pytest.fixture
def before(mlg: Run, cards: dict[str, Path], store_path: Path) -> list[str]:
    """A store holding one card, before the bad command runs."""
    assert mlg("load", str(cards["base"])).exit_code == 0
    return disk_snapshot(store_path)


@pytest.mark.parametrize(
    ("content", "args", "place", "message"),
    [
        pytest.param(
            "---\nlicense: [mit\ntags: x\n---\n", (), ":3:5", "malformed YAML", id="front-matter-not-yaml"
        ),
        pytest.param(YAML_BOMB, (), ":4:", "aliases", id="alias-bomb"),
        pytest.param(
            "---\nlicense: !!python/object/apply:os.system ['touch {marker}']\n---\n",
            (),
            ":2:",
            "python/object",
            id="python-tag",
        ),
        pytest.param("---\n- license\n- mit\n---\n", ("--format", "huggingface"), "", "mapping", id="list"),
        pytest.param(
            "---\nlicense: mit\n" + RESULT + "  - task: {type: t}\n    dataset: {type: d, name: D}\n"
            "    metrics: {type: acc, value: 1}\n---\n",
            (),
            ": model-index\\[0\\].results\\[0\\].metrics",
            "expected a list",
            id="metrics-not-a-list",
        ),
        pytest.param(
            "---\nlicense: mit\n"
            + RESULT
            + "  - task: text-classification\n    dataset: {type: d, name: D}\n"
            "    metrics: [{type: acc, value: 1}]\n---\n",
            (),
            ": model-index\\[0\\].results\\[0\\].task",
            "expected a mapping",
            id="task-not-a-mapping",
        ),
        pytest.param(
            "---\nlicense: mit\nmodel-index: {name: m, results: []}\n---\n",
            (),
            ": model-index",
            "expected a list of models",
            id="model-index-a-mapping",
        ),
        pytest.param(
            "---\nlicense: mit\ndatasets: [{id: reviews}]\n---\n",
            (),
            ": datasets\\[0\\]",
            "expected a text",
            id="dataset-not-a-text",
        ),
        pytest.param(
            "---\nlicense: mit\npretty_name: Reviews\ntask_categories: [text-classification]\n---\n",
            ("--format", "huggingface"),
            "",
            "a dataset card (pretty_name, task_categories), not a model card",
            id="dataset-card-forced",
        ),
        pytest.param(
            "# Just a README\n", ("--format", "huggingface"), "", "no YAML front matter", id="forced"
        ),
        pytest.param("# Just a README\n", (), "", "cannot tell the format", id="no-front-matter"),
    ],
)
def test_bad_card_is_refused_and_the_store_unchanged(
    mlg: Run,
    store_path: Path,
    before: list[str],
    tmp_path: Path,
    content: str,
    args: tuple[str, ...],
    place: str,
    message: str,
) -> None:
    marker = tmp_path / "owned"
    path = tmp_path / "card" / "README.md"
    path.parent.mkdir()
    path.write_text(content.replace("{marker}", str(marker)), encoding="utf-8")
    started = time.perf_counter()
    result = mlg("load", str(path), *args)
    assert time.perf_counter() - started < 5
    assert not marker.exists(), "a YAML tag ran a command"
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert re.match(re.escape(f"mlg: error: {path}") + place, line), line
    assert message in line, line
    assert disk_snapshot(store_path) == before


# ---------------------------------------------------------------- sniffing


def test_sniff_claims_cards_only(cards: dict[str, Path], tmp_path: Path) -> None:
    for path in cards.values():
        assert sniff(path, path.read_bytes()[:4096]), path
    card = b"---\nlicense: mit\nbase_model: a/b\n---\n# Model\n"
    assert sniff(Path("README.md"), card)
    assert sniff(Path("notes.md"), b"\xef\xbb\xbf---\r\ntags:\r\n- x\r\n---\r\n")
    assert not sniff(Path("README.txt"), card)  # not markdown
    assert not sniff(Path("README.md"), b"# Title\n\n---\nlicense: mit\n---\n")  # front matter not at the top
    blog_post = b"---\ntitle: Blog post\nauthor: me\n---\n"  # a static site's front matter
    assert not sniff(Path("README.md"), blog_post)
    dataset_card = b"---\nlicense: mit\npretty_name: Reviews\ntask_categories:\n- text-classification\n---\n"
    assert not sniff(Path("README.md"), dataset_card)
    assert not sniff(Path("catalog.yaml"), b"mlg-manifest: 1\nassets: []\n")
    croissant = SHARED / "samples" / "croissant" / "mnist-metadata.json"
    if croissant.is_file():
        assert not sniff(croissant, croissant.read_bytes()[:4096])


def test_loading_without_the_library_says_how_to_install_it(
    cards: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # what an absent package looks like to import
    path = cards["base"]
    with pytest.raises(MissingDependencyError, match=r"pip install 'model-lifecycle-graph\[huggingface\]'"):
        FORMATS[0].load(Request(str(path), path.read_bytes(), MINTER, None))


def test_the_module_imports_without_the_library() -> None:
    code = (
        "import sys; sys.modules['huggingface_hub'] = None\n"
        "import mlg.loaders.huggingface as hf\n"
        "assert hf.FORMATS[0].sniff(hf.Path('README.md'), b'---\\nlicense: mit\\n---\\n')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
