"""The Backstage loader: catalog-info.yaml files become services, deployments, data, systems and teams.

Inputs are Backstage's own example catalog (``/work/shared/samples/backstage``, skipped
when absent) and catalogs written here in Backstage's descriptor format; everything
goes through the real ``mlg`` command or the real gate, and is checked with SPARQL.
"""

from __future__ import annotations

import re
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import BASE, SHARED, disk_snapshot, yaml_alias_bomb
from pyoxigraph import NamedNode

from mlg.cli import cli
from mlg.errors import InputError
from mlg.identity import Minter
from mlg.loaders import detect, read_submission
from mlg.loaders.backstage import FIELDS, _sniff, parse_ref
from mlg.store import OxigraphStore, open_store

SAMPLES = SHARED / "samples" / "backstage"
HEADER = "apiVersion: backstage.io/v1alpha1\n"
MINTER = Minter(BASE)
Run = Callable[..., Result]


def iri(kind: str, identifier: str) -> NamedNode:
    return MINTER.asset(kind, identifier)


def ask(store: OxigraphStore, pattern: str) -> bool:
    return bool(store.query(f"ASK {{ {pattern} }}"))


def values(store: OxigraphStore, node: NamedNode, predicate: str) -> set[str]:
    return {row["o"].value for row in store.query(f"SELECT ?o WHERE {{ {node} {predicate} ?o }}")}


def load(store: OxigraphStore, gate, path: Path, minter: Minter) -> str:
    outcome = gate.admit(read_submission(path, minter=minter, max_bytes=10_000_000))
    assert outcome.report.conforms, [f.line() for f in outcome.report.findings]
    return outcome.status


# ---------------------------------------------------------------- Backstage's own examples


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, OxigraphStore]:
    """The example folder loaded by `mlg load FOLDER`, and the store it made (read-only)."""
    if not SAMPLES.is_dir():
        pytest.skip("the shared Backstage samples are absent")
    path = tmp_path_factory.mktemp("backstage") / "store"
    result = CliRunner().invoke(cli, ["--store", str(path), "load", str(SAMPLES)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result, open_store(path, read_only=True)


def test_every_sample_file_is_detected_and_admitted(samples: tuple[Result, OxigraphStore]) -> None:
    result, _ = samples
    lines = result.stdout.splitlines()
    files = sorted(p.name for p in SAMPLES.glob("*.yaml"))
    assert len(lines) == len(files) == 10
    for line, name in zip(lines, files, strict=True):
        assert line.startswith(f"admitted backstage {SAMPLES / name}: "), line
    api = next(line for line in lines if "local-ai-model-server-api.yaml" in line)
    assert "model-serving API without mlg.io/model-version (kept as a service) 1" in api


def test_sample_edges_resolve_across_files(samples: tuple[Result, OxigraphStore]) -> None:
    _, store = samples
    lookup, team = iri("service", "artist-lookup"), iri("team", "team-a")
    artists_db = iri("dataset", "backstage:default/artists-db")
    portal = iri("system", "artist-engagement-portal")
    artists, audio = iri("system", "domain:artists"), iri("system", "domain:audio")
    assert ask(
        store,
        f"{lookup} a mlg:Service ; mlg:dependsOn {artists_db} ; mlg:ownedBy {team} ; mlg:partOf {portal}",
    )
    assert ask(store, f'{artists_db} a mlg:Dataset ; mlg:name "artists-db" ; mlg:partOf {portal}')
    assert values(store, lookup, "mlg:stage") == values(store, lookup, "mlg:status") == {"experimental"}
    assert values(store, lookup, "mlg:tag") == {"java", "data"}
    assert values(store, lookup, "mlg:sourceId") == {"component:default/artist-lookup"}
    assert "backstage.io/source-template=template:default/springboot-template" in values(
        store, lookup, "mlg:annotation"
    )
    assert ask(store, f"{portal} a mlg:System ; mlg:partOf {artists}")
    assert ask(store, f'{artists} a mlg:System ; mlg:name "Artists" ; mlg:partOf {audio}')
    assert ask(store, f"{audio} mlg:ownedBy {iri('team', 'acme-corp')}")
    assert not ask(store, f"{portal} mlg:upstream {artists}")  # partOf groups; it is not lineage


def test_sample_people_and_teams(samples: tuple[Result, OxigraphStore]) -> None:
    _, store = samples
    team = iri("team", "team-a")
    assert ask(store, f'{team} a mlg:Team ; mlg:name "team-a" ; mlg:email "team-a@example.com"')
    assert values(store, team, "mlg:annotation") >= {"spec.type=team"}
    assert ask(store, f"{team} mlg:memberOf {iri('team', 'backstage')}")  # spec.parent
    members = {
        row["p"].value for row in store.query(f"SELECT ?p WHERE {{ ?p a mlg:Person ; mlg:memberOf {team} }}")
    }
    assert members == {
        iri("person", name).value
        for name in ("breanna.davison", "janelle.dawe", "nigel.manning", "guest", "development/guest")
    }
    assert values(store, iri("person", "janelle.dawe"), "mlg:name") == {"Janelle Dawe"}
    assert values(store, iri("person", "breanna.davison"), "mlg:name") == {"breanna.davison"}
    assert values(store, iri("person", "development/guest"), "mlg:sourceId") == {"user:development/guest"}


def test_sample_apis_sit_between_consumer_and_provider(samples: tuple[Result, OxigraphStore]) -> None:
    _, store = samples
    search, archive = iri("service", "wayback-search"), iri("service", "wayback-archive")
    archive_api = iri("service", "api:wayback-archive")
    assert ask(store, f"{search} mlg:consumes {archive_api} . {archive_api} mlg:dependsOn {archive}")
    assert ask(store, f"{iri('service', 'api:wayback-search')} mlg:dependsOn {search}")
    assert ask(store, f"{search} mlg:upstream+ {archive}")
    assert not ask(store, f"{archive} mlg:upstream+ {search}")
    server = iri("service", "api:local-inference-server")
    assert ask(
        store, f'{server} a mlg:Service ; mlg:name "Local Inference Server" ; mlg:stage "experimental"'
    )
    assert not ask(store, "?d a mlg:Deployment")


# ---------------------------------------------------------------- catalogs written here

SERVING = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: Fraud-ML, namespace: Default}
spec:
  type: team
  profile: {displayName: Fraud ML, email: fraud-ml@example.com}
  children: []
  members: [alice]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec:
  profile: {displayName: Alice Moreau, email: alice@example.com}
  memberOf: []
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: fraud-scoring
  title: Fraud scoring endpoint
  annotations:
    mlg.io/model-version: model-version:fraud-detector@3
spec:
  type: ai-model-server
  lifecycle: production
  owner: GROUP:fraud-ml
  definition: "openapi: 3.0.0"
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout-api
  namespace: payments
  annotations:
    backstage.io/source-location: url:https://github.com/acme/checkout/tree/main/
spec:
  type: service
  lifecycle: production
  owner: group:default/fraud-ml
  system: checkout
  consumesApis: [api:default/fraud-scoring]
  dependsOn: [Resource:orders-db]
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: orders-db
  namespace: payments
  annotations:
    mlg.io/dataset: postgres://db.internal:5432/shop.public.orders
spec: {type: database, owner: user:default/alice}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: Checkout, namespace: PAYMENTS}
spec: {owner: group:default/fraud-ml}
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: more}
spec: {targets: [./more.yaml]}
"""

# What the fraud team declares about its model, in an mlg manifest.
MODEL = """\
mlg-manifest: 1
assets:
  - {kind: dataset, id: labels, uri: "s3://fraud/labels", owner: "team:fraud-ml"}
  - {kind: model, id: fraud-detector, owner: "team:fraud-ml"}
  - kind: model-version
    id: fraud-detector@3
    versionOf: fraud-detector
    version: "3"
    trainedOn: [labels]
    owner: "team:fraud-ml"
"""


def test_model_serving_api_becomes_a_deployment_its_consumer_consumes(store, gate, minter, write) -> None:
    submission = read_submission(write("catalog-info.yaml", SERVING), minter=minter, max_bytes=10_000_000)
    assert submission.format == "backstage"
    assert submission.warnings["unsupported kind"] == 1
    assert submission.warnings["spec.definition (not kept)"] == 1
    assert not any(kind.startswith("model-serving") for kind in submission.warnings)
    outcome = gate.admit(submission)
    assert outcome.status == "admitted" and outcome.report.conforms, outcome.report.findings

    deployment, version = (
        iri("deployment", "fraud-scoring"),
        minter.reference("model-version:fraud-detector@3"),
    )
    checkout, team = iri("service", "payments/checkout-api"), iri("team", "fraud-ml")
    orders = minter.dataset_from_uri("postgres://db.internal:5432/shop.public.orders")
    assert ask(
        store, f'{deployment} a mlg:Deployment ; mlg:deploys {version} ; mlg:name "Fraud scoring endpoint"'
    )
    assert ask(store, f'{deployment} mlg:stage "production" ; mlg:status "active" ; mlg:ownedBy {team}')
    assert ask(store, f"{deployment} owl:sameAs {iri('service', 'api:fraud-scoring')}")
    assert ask(store, f"{checkout} a mlg:Service ; mlg:consumes {deployment} ; mlg:dependsOn {orders}")
    assert ask(store, f"{checkout} mlg:ownedBy {team} ; mlg:partOf {iri('system', 'payments/checkout')}")
    assert values(store, checkout, "mlg:sourceUrl") == {"https://github.com/acme/checkout/tree/main/"}
    assert values(store, orders, "mlg:namespace") == {"postgres://db.internal:5432"}
    assert values(store, orders, "mlg:qualifiedName") == {"shop.public.orders"}
    assert ask(store, f"{orders} owl:sameAs {iri('dataset', 'backstage:payments/orders-db')}")
    assert ask(store, f"{orders} mlg:ownedBy {iri('person', 'alice')}")
    assert ask(store, f'{team} mlg:name "Fraud ML" . {iri("person", "alice")} mlg:memberOf {team}')
    assert not ask(store, "?s a mlg:Team ; mlg:name ?n . FILTER (?s != " + str(team) + ")")

    # The fraud team's manifest names the same team and model version: one lineage from service to data.
    assert load(store, gate, write("model.yaml", MODEL), minter) == "admitted"
    labels = minter.dataset_from_uri("s3://fraud/labels")
    assert ask(store, f"{checkout} mlg:consumes/mlg:deploys/mlg:trainedOn {labels}")
    assert ask(store, f"{labels} mlg:ownedBy {team} . {team} mlg:email 'fraud-ml@example.com'")


def test_consumer_in_another_file_reaches_the_deployment_by_same_as(store, gate, minter, write) -> None:
    api = textwrap.dedent(SERVING.split("---\n")[2])
    consumer = HEADER + (
        "kind: Component\nmetadata: {name: checkout-web}\n"
        "spec: {type: website, lifecycle: production, owner: fraud-ml, consumesApis: [fraud-scoring]}\n"
    )
    assert load(store, gate, write("web.yaml", consumer), minter) == "admitted"
    assert load(store, gate, write("api.yaml", api), minter) == "admitted"
    web, version = iri("service", "checkout-web"), minter.reference("model-version:fraud-detector@3")
    assert ask(store, f"{web} mlg:consumes {iri('service', 'api:fraud-scoring')}")
    assert ask(store, f"{web} (mlg:upstream|owl:sameAs|^owl:sameAs)+ {version}")


def test_model_serving_type_without_annotation_stays_a_service(minter, write) -> None:
    catalog = HEADER + "kind: API\nmetadata: {name: scorer}\nspec: {type: model-serving, owner: ml}\n"
    submission = read_submission(write("api.yaml", catalog), minter=minter, max_bytes=10_000)
    assert submission.warnings["model-serving API without mlg.io/model-version (kept as a service)"] == 1
    types = {
        t.object.value
        for record in submission.records()
        for t in record
        if t.predicate.value.endswith("#type")
    }
    assert types == {"https://w3id.org/mlg#Service", "https://w3id.org/mlg#Team"}


def test_reload_is_unchanged_and_a_changed_file_replaces_the_graph(store, gate, minter, write) -> None:
    component = HEADER + (
        "kind: Component\nmetadata: {name: svc}\n"
        "spec: {type: service, lifecycle: production, owner: ml, dependsOn: ['resource:db']}\n"
    )
    path = write("svc.yaml", component)
    assert load(store, gate, path, minter) == "admitted"
    assert load(store, gate, path, minter) == "unchanged"
    svc, db = iri("service", "svc"), iri("dataset", "backstage:default/db")
    assert ask(store, f"{svc} mlg:dependsOn {db}")
    path.write_text(component.replace("dependsOn: ['resource:db']", "dependsOn: ['resource:other-db']"))
    assert load(store, gate, path, minter) == "replaced"
    assert not ask(store, f"{svc} mlg:dependsOn {db}")
    assert ask(store, f"{svc} mlg:dependsOn {iri('dataset', 'backstage:default/other-db')}")


# ---------------------------------------------------------------- references, as Backstage reads them


@pytest.mark.parametrize(
    ("ref", "field", "namespace", "expected"),
    [
        ("team-a", "owner", "default", "group:default/team-a"),
        ("user:jdoe", "owner", "default", "user:default/jdoe"),
        ("Group:Other/Team-B", "owner", "default", "group:other/team-b"),
        ("team-c", "owner", "payments", "group:payments/team-c"),
        ("checkout", "system", "Payments", "system:payments/checkout"),
        ("artists", "domain", "default", "domain:default/artists"),
        ("RESOURCE:ledger/db", "dependsOn", "default", "resource:ledger/db"),
        ("artist-api", "consumesApis", "default", "api:default/artist-api"),
        ("jdoe", "members", "default", "user:default/jdoe"),
        ({"kind": "Component", "name": "web"}, "dependsOn", "shop", "component:shop/web"),
    ],
)
def test_references_resolve_as_backstage_does(ref: object, field: str, namespace: str, expected: str) -> None:
    assert str(parse_ref(ref, FIELDS[field], namespace.lower(), "here")) == expected


@pytest.mark.parametrize(
    ("ref", "field", "message"),
    [
        ("artists-db", "dependsOn", "needs a kind"),
        ("gadget:x", "dependsOn", "unknown entity kind 'gadget'"),
        ("component:web", "owner", "this field names a group or user"),
        ("group:", "owner", "not of the form"),
        (":x", "owner", "not of the form"),
        (3, "owner", "got int"),
    ],
)
def test_bad_references(ref: object, field: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        parse_ref(ref, FIELDS[field], "default", "here")


# ---------------------------------------------------------------- bad and hostile input

COMPONENT = HEADER + "kind: Component\nmetadata:\n  name: web\nspec:\n  type: website\n  owner: team-a\n"
ALIAS_BOMB = HEADER + "kind: Component\nmetadata:\n  name: bomb\n  labels:\n" + yaml_alias_bomb(indent="    ")
BAD = [
    pytest.param(
        COMPONENT + "  lifecycle: production\n   owner: x\n", r":9:9: ", "malformed YAML", id="bad-indent"
    ),
    pytest.param(
        COMPONENT.replace("spec:", "spec: [").replace("team-a\n", "team-a"),
        r":\d+:\d+: ",
        "malformed YAML",
        id="unclosed",
    ),
    pytest.param(ALIAS_BOMB, r":7:12: ", "aliases", id="alias-bomb"),
    pytest.param(
        COMPONENT + "  x: !!python/object/apply:os.system ['touch {marker}']\n",
        r":8:\d+: ",
        "python/object",
        id="python-tag",
    ),
    pytest.param(COMPONENT + "  owner: team-b\n", r":8:\d+: ", "duplicate key 'owner'", id="duplicate-key"),
    pytest.param(COMPONENT + "  x: " + "[" * 5000 + "]" * 5000 + "\n", r": ", "nested too deeply", id="deep"),
    pytest.param(
        COMPONENT + "  dependsOn: ['gadget:x']\n",
        r": document 1, spec\.dependsOn\[0\]: ",
        "unknown entity kind 'gadget'",
        id="unknown-kind-ref",
    ),
    pytest.param(
        COMPONENT + "  dependsOn: [artists-db]\n",
        r": document 1, spec\.dependsOn\[0\]: ",
        "needs a kind",
        id="dependsOn-without-kind",
    ),
    pytest.param(
        COMPONENT + "  dependsOn: 3\n",
        r": document 1, spec\.dependsOn: ",
        "expected a list of entity references, got int",
        id="dependsOn-3",
    ),
    pytest.param(
        COMPONENT.replace("owner: team-a", "owner: [team-a]"),
        r": document 1, spec\.owner: ",
        "expected one entity reference",
        id="owner-list",
    ),
    pytest.param(
        COMPONENT + "---\n" + HEADER + "kind: User\nmetadata: {namespace: x}\nspec: {memberOf: []}\n",
        r": document 2, metadata\.name: ",
        "metadata.name is required",
        id="missing-name",
    ),
    pytest.param(
        COMPONENT.replace("name: web", "name: 42"),
        r": document 1, metadata\.name: ",
        "metadata.name is required",
        id="name-not-text",
    ),
    pytest.param(
        COMPONENT + "---\n" + COMPONENT.replace("web", "WEB"),
        r": document 2: ",
        "component:default/web is already declared by document 1",
        id="declared-twice",
    ),
    pytest.param(
        COMPONENT.replace("metadata:\n", "metadata:\n  tags: java\n"),
        r": document 1, metadata\.tags: ",
        "list of text",
        id="tags-not-a-list",
    ),
    pytest.param(
        COMPONENT.replace("metadata:\n", "metadata:\n  annotations: {a: 1}\n"),
        r": document 1, metadata\.annotations\.a: ",
        "text",
        id="annotation-not-text",
    ),
    pytest.param(
        "- " + HEADER + "  kind: Component\n",
        r": document 1: ",
        "an entity is a mapping",
        id="entity-is-a-list",
    ),
    pytest.param(
        COMPONENT.replace("kind: Component\n", ""),
        r": document 1, kind: ",
        "'kind' is required",
        id="no-kind",
    ),
    pytest.param(
        HEADER + "kind: API\nmetadata:\n  name: s\n  annotations: {mlg.io/model-version: fraud-detector}\n",
        r": document 1, metadata\.annotations\.mlg\.io/model-version: ",
        "is not model-version:NAME@VERSION",
        id="model-version-without-version",
    ),
    pytest.param(
        HEADER + "kind: Resource\nmetadata:\n  name: r\n  annotations: {mlg.io/dataset: ledger}\n",
        r": document 1, metadata\.annotations\.mlg\.io/dataset: ",
        "no scheme",
        id="dataset-uri-without-scheme",
    ),
]


@pytest.fixture
def before(mlg: Run, store_path: Path, write: Callable[[str, str], Path]) -> list[str]:
    """A store already holding one catalog, before the bad command runs."""
    result = mlg("load", str(write("good.yaml", COMPONENT)))
    assert result.exit_code == 0, result.output
    return disk_snapshot(store_path)


@pytest.mark.parametrize(("content", "place", "fragment"), BAD)
def test_bad_input_is_refused_in_one_line_and_changes_nothing(
    mlg: Run, store_path: Path, before: list[str], tmp_path: Path, content: str, place: str, fragment: str
) -> None:
    marker = tmp_path / "owned"
    path = tmp_path / "catalog-info.yaml"
    path.write_text(content.replace("{marker}", str(marker)))
    started = time.perf_counter()
    result = mlg("load", "--format", "backstage", str(path))
    assert time.perf_counter() - started < 5
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert re.match(re.escape(f"mlg: error: {path}") + place, lines[0]), lines[0]
    assert fragment in lines[0], lines[0]
    assert not marker.exists()
    assert disk_snapshot(store_path) == before


# ---------------------------------------------------------------- detection


def test_backstage_files_are_detected_without_format(write: Callable[[str, str], Path]) -> None:
    for text in (COMPONENT, "# catalog\n---\n" + COMPONENT, "\ufeff" + COMPONENT):
        path = write("catalog-info.yml", text)
        assert detect(path, path.read_bytes()).name == "backstage"
    if SAMPLES.is_dir():
        for path in SAMPLES.glob("*.yaml"):
            assert detect(path, path.read_bytes()).name == "backstage", path


def test_other_files_are_not_claimed(write: Callable[[str, str], Path]) -> None:
    others = [p for p in (SHARED / "samples").rglob("*") if p.is_file() and p.parent.name != "backstage"]
    others += list((Path(__file__).parents[1] / "mlg" / "demo").glob("*"))
    assert others
    for path in others:
        assert not _sniff(path, path.read_bytes()[:4096]), path
    lookalikes = {
        "manifest.yaml": "mlg-manifest: 1\n" + COMPONENT,
        "deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
        "catalog-info.json": '{"apiVersion": "backstage.io/v1alpha1", "kind": "Component"}',
        "notes.txt": COMPONENT,
        "nested.yaml": "spec:\n  apiVersion: backstage.io/v1alpha1\n  kind: Component\n",
    }
    for name, text in lookalikes.items():
        path = write(name, text)
        assert not _sniff(path, path.read_bytes()), name
