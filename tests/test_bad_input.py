"""Bad input gets a clear error and loses nothing.

Every test runs the real `mlg` command (in-process, against an on-disk store that
already holds the demo) on one kind of bad input, and checks three things:

a. the exit code: 2 for input that is missing, unreadable, malformed, of unknown
   format or hostile, and for bad usage; 1 for a SHACL violation;
b. the error: ONE line on stderr, ``mlg: error: <file><place>: <what>``, naming the
   file and, where the format allows, the line or the field; no traceback, neither
   in the output nor logged;
c. the store: every quad is compared before and after; a failed command changes
   nothing (the one exception, a rejection after an earlier file of the same
   command was admitted, is checked quad by quad).

Hostile inputs (YAML alias bombs and python tags, deep nesting, entity expansion,
remote JSON-LD contexts, oversized files) are refused quickly, without running
anything and without touching the network.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import BASE, ContextServer, disk_snapshot, yaml_alias_bomb

from mlg.cli import cli

Run = Callable[..., Result]

MANIFEST = "mlg-manifest: 1\n"
TURTLE_PREFIXES = (
    "@prefix mlg: <https://w3id.org/mlg#> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
)
# An RDF/XML "billion laughs": each entity is ten of the one before.
RDFXML_BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:mlg="https://w3id.org/mlg#">
  <rdf:Description rdf:about="https://mlg.example.org/model/lol">
    <mlg:name>&lol9;</mlg:name>
  </rdf:Description>
</rdf:RDF>
"""
YAML_BOMB = MANIFEST + yaml_alias_bomb()


# ---------------------------------------------------------------- helpers


@pytest.fixture
def before(demo_loaded: Path) -> list[str]:
    """Every quad of the demo store, before the bad command runs."""
    return disk_snapshot(demo_loaded)


@pytest.fixture
def run(mlg: Run, caplog: pytest.LogCaptureFixture) -> Run:
    """`mlg ARGS...`, failing the test if a traceback is printed or logged anywhere."""

    def _run(*args: str) -> Result:
        caplog.clear()
        result = mlg(*args)
        assert "Traceback" not in result.output, result.output
        logged = [record for record in caplog.records if record.exc_info]
        assert not logged, f"a traceback was logged (a user sees it on stderr):\n{caplog.text}"
        return result

    return _run


def put(directory: Path, name: str, content: str | bytes) -> Path:
    """Write an input file byte for byte."""
    path = directory / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def one_error_line(result: Result) -> str:
    """The error line: exactly one ``mlg: error:`` line, and it ends stderr."""
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("mlg: error:")]
    assert len(errors) == 1, result.stderr
    assert lines[-1] == errors[0], result.stderr
    return errors[0]


def assert_refused(result: Result, named: str, place: str = "", *fragments: str) -> str:
    """Exit 2 and nothing but ``mlg: error: <named><place>...`` on stderr; ``place`` is a regex."""
    assert result.exit_code == 2, result.output
    assert result.stdout == "", result.stdout
    assert len(result.stderr.splitlines()) == 1, result.stderr
    line = one_error_line(result)
    assert re.match(re.escape(f"mlg: error: {named}") + place, line), line
    for fragment in fragments:
        assert fragment in line, line
    return line


def assert_usage_error(result: Result, *fragments: str) -> None:
    """A usage error click reports itself (exit 2, its own `Error:` line)."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Usage: "), result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(error) == 1, result.stderr
    for fragment in fragments:
        assert fragment in error[0], error[0]


def assert_rejected(result: Result, path: Path, *finding_paths: str) -> None:
    """Exit 1: the findings, then one line saying nothing of the file was written."""
    assert result.exit_code == 1, result.output
    assert result.stdout == "", result.stdout
    line = one_error_line(result)
    assert line == f"mlg: error: {path}: 1 violation(s): nothing of this submission was written", line
    assert result.stderr.startswith("rejected "), result.stderr
    violations = [v for v in result.stderr.splitlines() if v.startswith("  Violation: ")]
    assert len(violations) == 1, result.stderr
    for finding_path in finding_paths:
        assert finding_path in violations[0], violations[0]


# ---------------------------------------------------------------- unreadable, malformed, wrong


# (file name, content, place regex after the file name, fragments the message must hold)
MALFORMED = [
    pytest.param(
        "notes.txt", "just some notes\n", ": ", ("cannot tell the format", "--format"), id="unknown-extension"
    ),
    pytest.param(
        "rows.json",
        '{"table": "orders", "rows": [1, 2, 3]}\n',
        ": ",
        ("cannot tell the format",),
        id="json-neither-manifest-nor-jsonld",
    ),
    pytest.param(
        "catalog.yaml",
        "assets:\n  - kind: model\n    id: m\n",
        ": ",
        ("cannot tell the format",),
        id="manifest-without-marker",
    ),
    pytest.param(
        "catalog.yaml",
        "# mlg-manifest: 1\nassets:\n  - kind: model\n    id: m\n",
        ": ",
        ("not a manifest", "'mlg-manifest: 1'"),
        id="manifest-marker-commented-out",
    ),
    pytest.param(
        "catalog.yaml",
        "mlg-manifest: 2\nassets: []\n",
        ": ",
        ("unsupported manifest version 2", "reads 1"),
        id="manifest-version-2",
    ),
    pytest.param(
        "catalog.yaml",
        "mlg-manifest: '1'\nassets: []\n",
        ": ",
        ("unsupported manifest version '1'",),
        id="manifest-version-as-text",
    ),
    pytest.param(
        "catalog.yaml",
        "mlg-manifest: true\nassets: []\n",
        ": ",
        ("unsupported manifest version True",),
        id="manifest-version-true",
    ),
    pytest.param(
        "bad.ttl",
        TURTLE_PREFIXES + '<model/a> a mlg:Model ;\n    mlg:name "a"\n<model/b> a mlg:Model .\n',
        ": ",
        ("not valid turtle", "line 5"),
        id="turtle-missing-dot",
    ),
    pytest.param(
        "bad.ttl",
        b'<https://a.example/s> <https://a.example/p> "caf\xe9" .\n',
        ": ",
        ("not valid turtle", "UTF-8", "line 1"),
        id="turtle-not-utf8",
    ),
    pytest.param(
        "bad.nt",
        "<https://a.example/s> <https://a.example/p> <https://a.example/o> .\n"
        '<https://a.example/s> <https://a.example/p> "unterminated .\n',
        ": ",
        ("not valid ntriples", "line 2"),
        id="ntriples-unterminated-literal",
    ),
    pytest.param(
        "bad.jsonld",
        '{"@id": "https://a.example/s", "https://a.example/p": "x"',
        ": ",
        ("not valid jsonld", "line 1"),
        id="jsonld-truncated",
    ),
    pytest.param(
        "bad.rdf",
        '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '<rdf:Description rdf:about="https://a.example/s">\n</rdf:RDF>\n',
        r":4:3: ",
        ("not valid rdfxml", "mismatched tag"),
        id="rdfxml-unclosed-element",
    ),
    pytest.param(
        "catalog.json",
        '{\n  "mlg-manifest": 1,\n  "assets": [{"kind": "model", "id": "m"',
        r":3:41: ",
        ("malformed JSON",),
        id="json-truncated",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - kind: model\n    id: m\n   name: badly indented\n",
        r":5:4: ",
        ("malformed YAML",),
        id="yaml-bad-indentation",
    ),
    pytest.param(
        "catalog.yaml",
        "{mlg-manifest: 1, assets: [}\n",
        r":1:\d+: ",
        ("malformed YAML",),
        id="yaml-flow-syntax-error",
    ),
    pytest.param(
        "catalog.yaml",
        b"mlg-manifest: 1\nassets:\n  - kind: model\n    id: m\n    name: Caf\xe9 model\n",
        ": ",
        ("not UTF-8", "byte 63"),
        id="yaml-not-utf8",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "asets: []\n",
        ": top level: ",
        ("unknown field 'asets'", "did you mean 'assets'?"),
        id="unknown-top-level-field",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets: {kind: model, id: m}\n",
        ": assets: ",
        ("'assets' must be a list",),
        id="assets-not-a-list",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - {kind: dataset, id: d, uri: 's3://b/k'}\n"
        "  - {kind: model-version, id: m@1, versionOf: 'model:m', version: '1', trainedon: [d]}\n",
        r": assets\[1\]: ",
        ("unknown field 'trainedon'", "did you mean 'trainedOn'?"),
        id="unknown-asset-field",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - {kind: modle, id: m}\n",
        r": assets\[0\]\.kind: ",
        ("unknown kind 'modle'", "model-version"),
        id="unknown-kind",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - {kind: model, id: m}\n  - {kind: dataset, id: m}\n",
        r": assets\[1\]\.id: ",
        ("id 'm' is used twice",),
        id="duplicate-id",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - {kind: model-version, id: m@1, versionOf: fraud, version: '1'}\n",
        r": assets\[0\]\.versionOf: ",
        ("'fraud' is not an id in this file", "model:fraud"),
        id="versionOf-unknown-id",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - {kind: model, id: m}\n"
        "  - {kind: model-version, id: m@1, versionOf: m, version: '1', trainedOn: [transactions]}\n",
        r": assets\[1\]\.trainedOn\[0\]: ",
        ("'transactions' is not an id in this file", "kind:id"),
        id="trainedOn-unknown-id",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - {kind: model, id: m, created: not-a-date}\n",
        r": assets\[0\]\.created: ",
        ("'not-a-date' is not an ISO 8601 date-time",),
        id="created-not-a-date",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST
        + "assets:\n  - {kind: evaluation, id: e, evaluates: 'model-version:m@1', metrics: {auc: high}}\n",
        r": assets\[0\]\.metrics\.auc: ",
        ("'high' is not a number",),
        id="metric-not-a-number",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - kind: model\n    id: m\n    created: 2026-02-30\n",
        r"(:4:\d+|: assets\[0\]\.created): ",
        (),
        id="created-impossible-date",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - {kind: model, id: m, created: 99999999999999999}\n",
        r": assets\[0\]\.created: ",
        (),
        id="created-epoch-out-of-range",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - {kind: dataset, id: d, uri: 's3://[payments/raw'}\n",
        r": assets\[0\]",
        (),
        id="dataset-uri-unparseable",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - {kind: dataset, id: d, uri: payments}\n",
        r": assets\[0\]",
        ("no scheme",),
        id="dataset-uri-without-scheme",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - {kind: model, id: m, sameAs: 5}\n",
        r": assets\[0\]\.sameAs",
        (),
        id="sameAs-not-a-list",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - kind: model-version\n    id: m@1\n    versionOf: 'model:fraud-detector'\n"
        "    version: '1'\n    trainedOn: ['dataset:s3://payments-raw/transactions']\n"
        "    trainedOn: ['dataset:s3://payments-raw/transactions-v1']\n",
        r"(:\d+:\d+|: assets\[0\])",
        ("trainedOn",),
        id="duplicate-yaml-key",
    ),
]


@pytest.mark.parametrize("command", ["load", "validate"])
@pytest.mark.parametrize(("name", "content", "place", "fragments"), MALFORMED)
def test_malformed_input_is_refused_with_its_file_and_place(
    run: Run,
    store_path: Path,
    before: list[str],
    tmp_path: Path,
    command: str,
    name: str,
    content: str | bytes,
    place: str,
    fragments: tuple[str, ...],
) -> None:
    path = put(tmp_path, name, content)
    result = run(command, str(path))
    assert_refused(result, str(path), place, *fragments)
    assert disk_snapshot(store_path) == before


@pytest.mark.parametrize("command", ["load", "validate"])
def test_missing_file(run: Run, store_path: Path, before: list[str], tmp_path: Path, command: str) -> None:
    path = tmp_path / "no-such-catalog.yaml"
    assert_refused(run(command, str(path)), str(path), ": ", "no such file")
    assert disk_snapshot(store_path) == before


def _directory_without_inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    put(folder, "README.txt", "nothing to load here\n")
    put(folder, ".hidden.yaml", MANIFEST)  # hidden files are skipped
    return folder


def test_directory_without_inputs(run: Run, store_path: Path, before: list[str], tmp_path: Path) -> None:
    result = run("load", str(_directory_without_inputs(tmp_path)))
    assert_refused(result, "", "", "no input files")
    assert disk_snapshot(store_path) == before


def test_directory_without_inputs_is_named(run: Run, before: list[str], tmp_path: Path) -> None:
    folder = _directory_without_inputs(tmp_path)
    assert_refused(run("load", str(folder)), str(folder), ": ", "no input files")


def test_manifest_forced_without_marker(
    run: Run, store_path: Path, before: list[str], tmp_path: Path
) -> None:
    path = put(tmp_path, "catalog.yaml", "assets:\n  - kind: model\n    id: m\n")
    result = run("load", "--format", "manifest", str(path))
    assert_refused(result, str(path), ": ", "not a manifest", "'mlg-manifest: 1'")
    assert disk_snapshot(store_path) == before


@pytest.mark.parametrize("command", ["load", "validate"])
def test_unknown_format_name_is_a_usage_error(
    run: Run, store_path: Path, before: list[str], tmp_path: Path, command: str
) -> None:
    path = put(tmp_path, "catalog.yaml", MANIFEST)
    result = run(command, "--format", "yamlish", str(path))
    assert_usage_error(result, "Invalid value for '--format'", "'yamlish'", "manifest", "turtle")
    assert disk_snapshot(store_path) == before


# ---------------------------------------------------------------- SHACL violations

# (file name, content, the path the one violation is about)
VIOLATIONS = [
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - {kind: model, id: m, name: M}\n"
        "  - {kind: model-version, id: m@1, versionOf: m, version: '1', trainedOn: [m]}\n",
        "mlg:trainedOn",
        id="model-version-trainedOn-a-model",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - kind: model-version\n    id: fraud-detector@9\n"
        "    versionOf: 'model:fraud-detector'\n    version: '9'\n"
        "    trainedOn: ['model:txn-encoder']\n",
        "mlg:trainedOn",
        id="model-version-trainedOn-a-model-in-the-store",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - {kind: dataset, id: d, uri: 's3://bucket/table'}\n"
        "  - {kind: deployment, id: scoring, deploys: d}\n",
        "mlg:deploys",
        id="deployment-deploys-a-dataset",
    ),
    pytest.param(
        "catalog.yaml",
        MANIFEST + "assets:\n  - kind: model-version\n    id: m@1\n    version: '1'\n"
        "    trainedOn: ['dataset:s3://payments-raw/transactions']\n",
        "mlg:versionOf",
        id="model-version-without-versionOf",
    ),
    pytest.param(
        "orphan.ttl",
        TURTLE_PREFIXES + '<model/zz> a mlg:Model ; mlg:name "zz" .\n'
        '<model/zz/versions/1> a mlg:ModelVersion ; mlg:name "zz 1" ; mlg:version "1" ;\n'
        "    mlg:versionOf <model/zz> ; mlg:trainedOn <https://elsewhere.example/thing> .\n",
        "mlg:trainedOn",
        id="turtle-edge-to-unknown-untyped-iri",
    ),
    pytest.param(
        "dates.ttl",
        TURTLE_PREFIXES + '<model/q> a mlg:Model ; mlg:name "q" ; mlg:created "not-a-date"^^xsd:dateTime .\n',
        "mlg:created",
        id="turtle-ill-typed-dateTime",
    ),
]


@pytest.mark.parametrize(("name", "content", "finding_path"), VIOLATIONS)
def test_violation_rejects_the_whole_file(
    run: Run,
    store_path: Path,
    before: list[str],
    tmp_path: Path,
    name: str,
    content: str,
    finding_path: str,
) -> None:
    path = put(tmp_path, name, content)
    result = run("load", str(path))
    assert_rejected(result, path, finding_path)
    assert disk_snapshot(store_path) == before


@pytest.mark.parametrize(("name", "content", "finding_path"), VIOLATIONS)
def test_validate_reports_the_violation(
    run: Run,
    store_path: Path,
    before: list[str],
    tmp_path: Path,
    name: str,
    content: str,
    finding_path: str,
) -> None:
    path = put(tmp_path, name, content)
    result = run("validate", str(path))
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("rejected "), result.stdout
    assert str(path) in result.stdout.splitlines()[0]
    assert any(
        line.startswith("  Violation: ") and finding_path in line for line in result.stdout.splitlines()
    ), result.stdout
    assert disk_snapshot(store_path) == before


def _good_and_bad(tmp_path: Path) -> tuple[Path, Path]:
    good = put(
        tmp_path,
        "good.yaml",
        MANIFEST + "source: test/good\nteams: [{id: ml, name: ML team}]\n"
        "assets:\n  - {kind: model, id: good-model, name: Good model, owner: ml}\n",
    )
    bad = put(
        tmp_path,
        "bad.yaml",
        MANIFEST + "source: test/bad\nassets:\n"
        "  - {kind: model-version, id: orphan@1, version: '1', trainedOn: ['dataset:s3://b/k']}\n",
    )
    return good, bad


@pytest.mark.parametrize("report", ["junit", "json"])
def test_validate_writes_a_report_and_nothing_else(
    run: Run, store_path: Path, before: list[str], tmp_path: Path, report: str
) -> None:
    good, bad = _good_and_bad(tmp_path)
    output = tmp_path / f"report.{report}"
    result = run("validate", str(good), str(bad), "--report", report, "-o", str(output))
    assert result.exit_code == 1, result.output
    assert "Violation: " in result.stdout  # the text report still goes to the terminal
    if report == "junit":
        suite = ET.parse(output).getroot()
        assert suite.tag == "testsuite"
        assert [case.get("name") for case in suite.iter("testcase")] == [str(good), str(bad)]
        failures = list(suite.iter("failure"))
        assert len(failures) == 1
        assert "mlg:versionOf" in (failures[0].text or "")
        assert failures[0] in list(suite.iter("testcase"))[1]
    else:
        outcomes = json.loads(output.read_text(encoding="utf-8"))
        assert [(o["location"], o["status"], o["conforms"]) for o in outcomes] == [
            (str(good), "valid", True),
            (str(bad), "rejected", False),
        ]
        assert outcomes[1]["counts"]["Violation"] == 1
        assert [f["path"] for f in outcomes[1]["findings"] if f["severity"] == "Violation"] == [
            "mlg:versionOf"
        ]
    assert disk_snapshot(store_path) == before


# ---------------------------------------------------------------- several files in one command


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param(
            "broken.yaml", MANIFEST + "assets:\n  - kind: model\n   id: x\n", "malformed YAML", id="yaml"
        ),
        pytest.param("broken.ttl", TURTLE_PREFIXES + "<model/x> a .\n", "not valid turtle", id="turtle"),
        pytest.param("notes.txt", "hello\n", "cannot tell the format", id="unknown-format"),
        pytest.param("gone.yaml", None, "no such file", id="missing"),
    ],
)
def test_one_unreadable_file_stops_the_whole_load(
    run: Run,
    store_path: Path,
    before: list[str],
    tmp_path: Path,
    name: str,
    content: str | None,
    message: str,
) -> None:
    good, _ = _good_and_bad(tmp_path)
    bad = tmp_path / "gone.yaml" if content is None else put(tmp_path, name, content)
    result = run("load", str(good), str(bad))
    assert_refused(result, str(bad), r"(:\d+:\d+)?: ", message)
    assert disk_snapshot(store_path) == before, "inputs must all be read before anything is written"


def test_one_unreadable_file_in_a_folder_stops_the_whole_load(
    run: Run, store_path: Path, before: list[str], tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    put(folder, "a-good.yaml", MANIFEST + "assets:\n  - {kind: model, id: fine, name: Fine}\n")
    bad = put(folder, "b-broken.nt", "<https://a.example/s> <https://a.example/p> .\n")
    result = run("load", str(folder))
    assert_refused(result, str(bad), ": ", "not valid ntriples")
    assert disk_snapshot(store_path) == before


def _graph_quads(snapshot: list[str], graph: str) -> set[str]:
    """The quads of one named graph, without the load time (which differs between loads)."""
    return {q for q in snapshot if q.endswith(f" <{graph}>") and "#generatedAtTime>" not in q}


def test_rejection_after_an_admitted_file(
    run: Run, store_path: Path, before: list[str], tmp_path: Path
) -> None:
    good, bad = _good_and_bad(tmp_path)
    result = run("load", str(good), str(bad))
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith(f"admitted manifest {good}: 2 assets"), result.stdout
    assert one_error_line(result) == (
        f"mlg: error: {bad}: 1 violation(s): nothing of this submission was written"
    )

    # The store holds what it held, plus the first submission's graph, and nothing of the second.
    after = disk_snapshot(store_path)
    good_graph = f"{BASE}graph/test%2Fgood"
    assert set(before) <= set(after)
    added = set(after) - set(before)
    assert all(q.endswith(f" <{good_graph}>") for q in added), sorted(added)
    assert not [q for q in after if "test%2Fbad" in q or "orphan" in q]

    # ... and that graph is exactly what loading the first file alone writes.
    alone = tmp_path / "alone-store"
    loaded = CliRunner().invoke(cli, ["--store", str(alone), "load", str(good)], catch_exceptions=False)
    assert loaded.exit_code == 0, loaded.output
    assert _graph_quads(after, good_graph) == _graph_quads(disk_snapshot(alone), good_graph)
    assert len(added) == len(_graph_quads(after, good_graph)) + 1  # + its generatedAtTime


def test_rejection_stops_later_files(run: Run, store_path: Path, before: list[str], tmp_path: Path) -> None:
    good, bad = _good_and_bad(tmp_path)
    result = run("load", str(bad), str(good))
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert one_error_line(result) == (
        f"mlg: error: {bad}: 1 violation(s): nothing of this submission was written; "
        "1 later input(s) not loaded"
    )
    assert disk_snapshot(store_path) == before


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize("command", ["load", "validate"])
def test_yaml_alias_bomb_is_refused_quickly(
    run: Run, store_path: Path, before: list[str], tmp_path: Path, command: str
) -> None:
    path = put(tmp_path, "bomb.yaml", YAML_BOMB)
    started = time.perf_counter()
    result = run(command, str(path))
    assert time.perf_counter() - started < 5
    assert_refused(result, str(path), r":3:\d+: ", "aliases")
    assert disk_snapshot(store_path) == before


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/new:os.system ['touch {marker}']",
        "!!python/object/apply:subprocess.call [[touch, '{marker}']]",
    ],
    ids=["apply-os.system", "new-os.system", "apply-subprocess.call"],
)
def test_yaml_python_tag_is_refused_and_not_run(
    run: Run, store_path: Path, before: list[str], tmp_path: Path, tag: str
) -> None:
    marker = tmp_path / "owned"
    path = put(
        tmp_path,
        "catalog.yaml",
        MANIFEST + "assets:\n  - kind: model\n    id: " + tag.format(marker=marker) + "\n",
    )
    result = run("load", str(path))
    assert not marker.exists(), "the YAML tag ran a command"
    assert_refused(result, str(path), r":4:\d+: ", "python/object")
    assert disk_snapshot(store_path) == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param(
            "deep.json",
            '{"mlg-manifest": 1, "assets": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "nested too deeply",
            id="json",
        ),
        pytest.param(
            "deep.json",
            '{"mlg-manifest": 1, "assets": ' + "[" * 100_000,
            "nested too deeply",
            id="json-unclosed",
        ),
        pytest.param(
            "deep.yaml",
            MANIFEST + "assets: " + "[" * 5_000 + "]" * 5_000 + "\n",
            "nested too deeply",
            id="yaml",
        ),
        pytest.param(
            "deep.jsonld",
            '{"@id": "https://a.example/s", "https://a.example/p": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "not valid jsonld",
            id="jsonld",
        ),
    ],
)
def test_deep_nesting_is_refused(
    run: Run, store_path: Path, before: list[str], tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = put(tmp_path, name, content)
    assert_refused(run("load", str(path)), str(path), ": ", message)
    assert disk_snapshot(store_path) == before


@pytest.mark.parametrize("command", ["load", "validate"])
def test_file_over_the_size_limit(
    run: Run,
    store_path: Path,
    before: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    path = put(tmp_path, "catalog.yaml", MANIFEST + "assets: []\n" + "# padding\n" * 100)
    monkeypatch.setenv("MLG_MAX_INPUT_BYTES", "500")
    result = run(command, str(path))
    size = f"{path.stat().st_size:,} bytes"
    assert_refused(result, str(path), ": ", size, "over the 500-byte limit", "MLG_MAX_INPUT_BYTES")
    assert disk_snapshot(store_path) == before


def test_size_limit_holds_for_a_pipe(
    run: Run, before: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "export"
    os.mkfifo(fifo)
    data = (MANIFEST + "assets: []\n" + "# padding\n" * 200).encode()

    def feed() -> None:  # writes once mlg opens the pipe; gives up after a few seconds if it never does
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader yet
                time.sleep(0.01)
                continue
            try:
                os.write(fd, data)
            except OSError:
                pass
            finally:
                os.close(fd)
            return

    threading.Thread(target=feed, daemon=True).start()
    monkeypatch.setenv("MLG_MAX_INPUT_BYTES", "1000")
    result = run("load", "--format", "manifest", str(fifo))
    assert_refused(result, str(fifo), ": ", "1,000-byte limit")


@pytest.mark.parametrize("command", ["load", "validate"])
def test_rdfxml_entity_expansion_is_refused(
    run: Run, store_path: Path, before: list[str], tmp_path: Path, command: str
) -> None:
    path = put(tmp_path, "lol.rdf", RDFXML_BOMB)
    started = time.perf_counter()
    result = run(command, str(path))
    assert time.perf_counter() - started < 5
    assert_refused(result, str(path), ": ", "DOCTYPE")
    assert disk_snapshot(store_path) == before


@pytest.mark.parametrize(
    ("name", "context"),
    [
        pytest.param("remote.jsonld", '"{url}"', id="string"),
        pytest.param("remote.jsonld", '["{url}", {{"mlg": "https://w3id.org/mlg#"}}]', id="in-a-list"),
        pytest.param("remote.jsonld", '{{"@import": "{url}"}}', id="import"),
        pytest.param("remote.json", '"{url}"', id="json-suffix"),
    ],
)
def test_jsonld_remote_context_is_refused_offline(
    run: Run,
    store_path: Path,
    before: list[str],
    tmp_path: Path,
    context_server: ContextServer,
    name: str,
    context: str,
) -> None:
    document = (
        '{"@context": '
        + context.format(url=context_server.url)
        + ', "@id": "https://mlg.example.org/model/r", '
        '"@type": "https://w3id.org/mlg#Model", "name": "r"}'
    )
    path = put(tmp_path, name, document)
    result = run("load", str(path))
    assert context_server.requests == [], "mlg fetched a remote JSON-LD context"
    assert_refused(result, str(path), ": ", "remote context")
    assert disk_snapshot(store_path) == before


# ---------------------------------------------------------------- lineage, impact, query


@pytest.mark.parametrize("command", ["lineage", "impact"])
@pytest.mark.parametrize(
    "asset", ["model:no-such-model", "https://mlg.example.org/model/no-such-model", "No such model"]
)
def test_unknown_asset(run: Run, store_path: Path, before: list[str], command: str, asset: str) -> None:
    line = assert_refused(run(command, asset), "")
    assert asset in line, line
    assert ("not in the store" if ":" in asset else "no asset is named") in line, line
    assert disk_snapshot(store_path) == before


def test_malformed_sparql(run: Run, store_path: Path, before: list[str]) -> None:
    result = run("query", "SELECT ?s WHERE { ?s ?p }")
    assert_refused(result, "SPARQL syntax error: ", "", "1:26", "expected")
    assert disk_snapshot(store_path) == before


UPDATES = [
    "DELETE WHERE { ?s ?p ?o }",
    "INSERT DATA { <https://a.example/s> <https://a.example/p> 1 }",
    "CLEAR ALL",
]


@pytest.mark.parametrize("update", UPDATES)
def test_query_refuses_an_update(run: Run, store_path: Path, before: list[str], update: str) -> None:
    result = run("query", update)
    assert_refused(result, "")
    assert disk_snapshot(store_path) == before


@pytest.mark.parametrize("update", UPDATES)
def test_query_says_updates_are_not_allowed(run: Run, before: list[str], update: str) -> None:
    line = assert_refused(run("query", update), "")
    assert "update" in line.lower(), line


def test_query_failing_while_evaluated(run: Run, store_path: Path, before: list[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run("query", f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}")
    assert_refused(result, "")
    assert disk_snapshot(store_path) == before


# ---------------------------------------------------------------- bad usage


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("load", "{good}", "{bad}", "--source", "one"),
            "--source names one submission",
            id="source-two-files",
        ),
        pytest.param(("query",), "give the query as an argument or with --file", id="query-without-query"),
        pytest.param(
            ("query", "--format", "turtle", "SELECT * WHERE { ?s ?p ?o }"),
            "--format turtle is for CONSTRUCT",
            id="query-format-mismatch",
        ),
        pytest.param(("export", "--format", "turtle"), "add --graph", id="export-one-graph-format"),
        pytest.param(
            ("export", "--graph", "not an iri"), "'not an iri' is not an IRI", id="export-bad-graph"
        ),
        pytest.param(
            ("lineage", "https://bad iri"), "'https://bad iri' is not a valid IRI", id="lineage-bad-iri"
        ),
        pytest.param(
            ("validate", "{good}", "--report", "junit", "-o", "{missing}/report.xml"),
            "report.xml",
            id="validate-report-into-missing-folder",
        ),
        pytest.param(
            ("export", "-o", "{missing}/backup.nq"),
            "backup.nq",
            id="export-into-missing-folder",
        ),
    ],
)
def test_bad_usage(
    run: Run, store_path: Path, before: list[str], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    good, bad = _good_and_bad(tmp_path)
    places = {"{good}": str(good), "{bad}": str(bad), "{missing}": str(tmp_path / "missing")}

    def fill(arg: str) -> str:
        for placeholder, value in places.items():
            arg = arg.replace(placeholder, value)
        return arg

    result = run(*map(fill, args))
    assert_refused(result, "", "", message)
    assert disk_snapshot(store_path) == before


def test_bad_setting(
    run: Run, store_path: Path, before: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, _ = _good_and_bad(tmp_path)
    monkeypatch.setenv("MLG_MAX_INPUT_BYTES", "lots")
    assert_refused(run("load", str(good)), "MLG_MAX_INPUT_BYTES='lots' is not a whole number")
    assert disk_snapshot(store_path) == before


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        pytest.param(("load",), ("Missing argument 'PATH|URI...'",), id="load-without-paths"),
        pytest.param(
            ("lineage", "model:fraud-detector", "--depth", "-1"), ("--depth", "-1"), id="negative-depth"
        ),
        pytest.param(("validate", "x.yaml", "--report", "html"), ("--report", "'html'"), id="unknown-report"),
    ],
)
def test_click_usage_errors(
    run: Run, store_path: Path, before: list[str], args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    assert_usage_error(run(*args), *fragments)
    assert disk_snapshot(store_path) == before
