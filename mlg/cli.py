"""The `mlg` command. Each command parses its options, calls the library, and prints.

Errors are :class:`~mlg.errors.MlgError`: one line on stderr and the error's exit
code (0 ok, 1 validation failed, 2 bad usage or input, 3 store failure); a
traceback only with ``--debug``.
"""

from __future__ import annotations

import gc
import io
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from pyoxigraph import NamedNode, QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat, serialize

from mlg import __version__, render, resources
from mlg.admission import Gate, Outcome, install_ontology, recover
from mlg.config import SETTINGS, Config, default_demo_store
from mlg.errors import InputError, MlgError, QueryError, UsageError
from mlg.identity import Minter
from mlg.lineage import impact as impact_of
from mlg.lineage import resolve, trace
from mlg.lineage import search as search_assets
from mlg.loaders import format_names, formats, read_submission, uri_scheme
from mlg.sparql import is_update
from mlg.store import OxigraphStore, open_store
from mlg.submission import Submission
from mlg.vocab import KINDS, MLG

RESULT_FORMATS = {
    "json": QueryResultsFormat.JSON,
    "csv": QueryResultsFormat.CSV,
    "tsv": QueryResultsFormat.TSV,
    "xml": QueryResultsFormat.XML,
}
GRAPH_FORMATS = {
    "turtle": RdfFormat.TURTLE,
    "ntriples": RdfFormat.N_TRIPLES,
    "jsonld": RdfFormat.JSON_LD,
    "rdfxml": RdfFormat.RDF_XML,
}
DATASET_FORMATS = {"nquads": RdfFormat.N_QUADS, "trig": RdfFormat.TRIG, "jsonld": RdfFormat.JSON_LD}


@dataclass
class App:
    """What every command shares: settings, and how to open the store."""

    config: Config
    debug: bool
    overrides: dict[str, Any] = field(default_factory=dict)
    """The group's flags, for commands that add their own settings on top."""

    @property
    def minter(self) -> Minter:
        return Minter(self.config.base_iri)

    def gate(self, store: OxigraphStore) -> Gate:
        return Gate(
            store, self.minter, atomic_limit=self.config.atomic_limit, chunk_assets=self.config.chunk_assets
        )

    def writable(self, path: Path | None = None) -> OxigraphStore:
        store = open_store(path or self.config.store)
        for graph in recover(store):
            click.echo(f"mlg: dropped {graph.value}, left half-written by an interrupted load", err=True)
        install_ontology(store)
        return store

    def readable(self) -> OxigraphStore:
        return open_store(self.config.store, read_only=True)


class MlgGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MlgError as error:
            if getattr(ctx.obj, "debug", False):
                raise
            click.echo(f"mlg: error: {error}", err=True)
            ctx.exit(error.exit_code)


@click.group("mlg", cls=MlgGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--store", type=click.Path(path_type=Path), help=SETTINGS[0].help + " [env: MLG_STORE]")
@click.option("--base-iri", help=SETTINGS[1].help + " [env: MLG_BASE_IRI]")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="TOML file of settings (store = ..., port = ...); the environment and flags override it. "
    "[env: MLG_CONFIG]",
)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(__version__, prog_name="mlg")
@click.pass_context
def cli(
    ctx: click.Context, store: Path | None, base_iri: str | None, config_file: Path | None, debug: bool
) -> None:
    """Model Lifecycle Graph: the lineage of your ML assets as one RDF graph.

    \b
    Start with:  mlg demo
    Then:        mlg load catalog.yaml && mlg lineage model:fraud-detector
    """
    overrides = {"store": store, "base_iri": base_iri, "config_file": config_file}
    ctx.obj = App(Config.from_env(**overrides), debug, overrides)


class _Progress:
    """A progress bar on stderr for long loads, only when a person is watching."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if total < 5000 or not sys.stderr.isatty():
                return
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _expand(locations: tuple[str, ...]) -> list[str]:
    """Inputs to read: URIs as they are; directories give their files of known extensions, sorted."""
    extensions = {ext for f in formats() for ext in f.extensions}
    files: list[str] = []
    for location in locations:
        path = Path(location)
        if uri_scheme(location):
            files.append(location)
        elif path.is_dir():
            files += sorted(
                str(p)
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in extensions
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and (p.suffix.lower() not in _AMBIGUOUS_SUFFIXES or _claimed(p))
            )
        else:
            files.append(location)
    return files


# In a folder, most Markdown is documentation and most .db files are other tools' databases.
_AMBIGUOUS_SUFFIXES = (".md", ".db")


def _claimed(path: Path) -> bool:
    """A file of an ambiguous suffix found in a folder is an input only if a loader claims it."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    return any(f.sniff(path, head) for f in formats())


def _read_all(app: App, paths: tuple[str, ...], format_: str | None, source: str | None) -> list[Submission]:
    """Read every input before writing anything: one unreadable file stops the whole command."""
    files = _expand(paths)
    if source and len(files) > 1:
        raise UsageError("--source names one submission; give one file with it")
    if not files:
        known = ", ".join(sorted({ext for f in formats() for ext in f.extensions}))
        raise InputError(f"no input files ({known}) found", where=", ".join(map(str, paths)))
    return [
        read_submission(
            path, minter=app.minter, max_bytes=app.config.max_input_bytes, format=format_, source=source
        )
        for path in files
    ]


def _admit_all(
    app: App, store: OxigraphStore, submissions: list[Submission], quiet: bool = False
) -> list[Outcome]:
    gate = app.gate(store)
    outcomes = []
    for submission in submissions:
        progress = _Progress(f"admitting {submission.location}")
        try:
            outcome = gate.admit(submission, progress)
        finally:
            progress.close()
        outcomes.append(outcome)
        if not quiet or not outcome.ok:
            click.echo(render.outcome_line(outcome), err=not outcome.ok)
        if not outcome.ok:
            for finding in outcome.report.findings:
                click.echo(f"  {finding.line()}", err=True)
            left = len(submissions) - len(outcomes)
            raise _Rejected(outcome, left)
    return outcomes


class _Rejected(MlgError):
    exit_code = 1

    def __init__(self, outcome: Outcome, left: int) -> None:
        counts = outcome.report.counts()
        rest = f"; {left} later input(s) not loaded" if left else ""
        super().__init__(
            f"{counts['Violation']} violation(s): nothing of this submission was written{rest}",
            where=outcome.submission.location,
        )


format_option = click.option(
    "--format",
    "format_",
    type=click.Choice(format_names()),
    help="Input format; detected from the file when omitted.",
)


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH|URI...")
@format_option
@click.option(
    "--source",
    help="Stable name of this submission; loading the same source again replaces it. "
    "Default: the manifest's `source:`, else the path as given.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@click.pass_obj
def load(app: App, paths: tuple[str, ...], format_: str | None, source: str | None, quiet: bool) -> None:
    """Validate and admit files (or folders of them) into the store.

    Each file is one submission: validated by the SHACL shapes, then written whole into
    its own named graph, or rejected whole (exit 1) with the violations. Inputs are
    loaded in order; the first rejection stops the command.

    \b
    Examples:
      mlg load catalog/fraud.yaml
      mlg load exports/ --format turtle
    """
    submissions = _read_all(app, paths, format_, source)
    _admit_all(app, app.writable(), submissions, quiet)


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH|URI...")
@format_option
@click.option(
    "--report",
    "report_format",
    type=click.Choice(sorted(render.REPORTS)),
    default="text",
    show_default=True,
    help="How to write the validation report.",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report to a file.")
@click.pass_obj
def validate(
    app: App, paths: tuple[str, ...], format_: str | None, report_format: str, output: Path | None
) -> None:
    """Check files against the shapes without writing anything (for CI).

    Edges to assets already in the store are checked against it; with no store, against
    an empty graph. Exit 0 when every file conforms (warnings allowed), 1 on a violation.

    \b
    Example:
      mlg validate catalog/ --report junit -o mlg-report.xml
    """
    submissions = _read_all(app, paths, format_, None)
    if app.config.store.is_dir():
        store = app.readable()
    else:
        click.echo(f"mlg: no store at {app.config.store}; validating against an empty graph", err=True)
        store = open_store(None)
    gate = app.gate(store)
    outcomes = [gate.validate(submission) for submission in submissions]
    text = render.REPORTS[report_format](outcomes)
    if output:
        _write_file(output, (text + "\n").encode("utf-8"))
        click.echo(render.report_text(outcomes) if report_format != "text" else text)
    else:
        click.echo(text)
    if not all(o.report.conforms for o in outcomes):
        sys.exit(1)


@cli.command()
@click.argument("sparql", required=False)
@click.option(
    "-f",
    "--file",
    "query_file",
    type=click.File("r", encoding="utf-8"),
    help="Read the query from a file ('-' for stdin).",
)
@click.option(
    "--format",
    "format_",
    default="table",
    show_default=True,
    type=click.Choice(["table", *RESULT_FORMATS, *GRAPH_FORMATS]),
    help="table/json/csv/tsv/xml for SELECT and ASK; turtle/ntriples/jsonld/rdfxml for CONSTRUCT.",
)
@click.pass_obj
def query(app: App, sparql: str | None, query_file: Any, format_: str) -> None:
    """Run a SPARQL query over the whole graph (all submissions).

    The prefixes mlg, rdf, rdfs, owl, xsd, prov, dcat, dcterms, mls and schema are predefined.

    \b
    Example:
      mlg query 'SELECT ?model WHERE { ?model a mlg:ModelVersion }'
    """
    if (sparql is None) == (query_file is None):
        raise UsageError("give the query as an argument or with --file, not both or neither")
    text = sparql if sparql is not None else query_file.read()
    if is_update(text):
        raise UsageError("mlg query runs queries only, not updates; change the graph with mlg load")
    click.echo(_evaluate(app.readable().query(text), format_), nl=False)


def _evaluate(result: Any, format_: str) -> str:
    """The whole answer as text; evaluation is lazy, so its errors surface here, before any output."""
    output = io.BytesIO()
    try:
        if isinstance(result, QueryBoolean):
            return "true\n" if bool(result) else "false\n"
        if isinstance(result, QuerySolutions):
            if format_ == "table":
                variables = [v.value for v in result.variables]
                rows = [[render.compact(row[v]) for v in variables] for row in result]
                return render.table(variables, rows) + "\n"
            if format_ not in RESULT_FORMATS:
                raise UsageError(
                    f"--format {format_} is for CONSTRUCT and DESCRIBE; a SELECT gives table, "
                    + ", ".join(RESULT_FORMATS)
                )
            result.serialize(output, RESULT_FORMATS[format_])
        else:
            rdf_format = GRAPH_FORMATS.get(format_, RdfFormat.TURTLE if format_ == "table" else None)
            if rdf_format is None:
                raise UsageError(
                    f"--format {format_} is for SELECT and ASK; a graph gives " + ", ".join(GRAPH_FORMATS)
                )
            serialize(result, output, rdf_format, prefixes={"mlg": MLG})
    except (OSError, RuntimeError, SyntaxError, ValueError) as error:
        raise QueryError(f"query evaluation failed: {error}") from None
    return output.getvalue().decode("utf-8")


def _asset_argument(func: Any) -> Any:
    return click.argument("asset", metavar="ASSET")(func)


@cli.command()
@_asset_argument
@click.option(
    "--upstream/--downstream",
    default=True,
    help="What ASSET is built from (default), or what is built from it.",
)
@click.option("--depth", type=click.IntRange(min=0), help="Stop after this many hops (default: no limit).")
@click.option(
    "--format", "format_", type=click.Choice(["tree", "json", "dot"]), default="tree", show_default=True
)
@click.pass_obj
def lineage(app: App, asset: str, upstream: bool, depth: int | None, format_: str) -> None:
    """Show the lineage of ASSET: an IRI, a kind:id (model:fraud-detector) or an exact name.

    \b
    Examples:
      mlg lineage service:checkout-api
      mlg lineage dataset:s3://payments-raw/transactions --downstream --depth 2
      mlg lineage model-version:fraud-detector@3 --format dot | dot -Tsvg > lineage.svg
    """
    store = app.readable()
    result = trace(store, resolve(store, app.minter, asset), "upstream" if upstream else "downstream", depth)
    if format_ == "json":
        click.echo(_json(result.as_dict()))
    else:
        click.echo(render.tree(result) if format_ == "tree" else render.dot(result))


@cli.command()
@_asset_argument
@click.option("--depth", type=click.IntRange(min=0), help="Stop after this many hops (default: no limit).")
@click.option("--format", "format_", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def impact(app: App, asset: str, depth: int | None, format_: str) -> None:
    """What breaks if ASSET changes: affected assets by kind, and their owners to notify.

    \b
    Example:
      mlg impact dataset:s3://payments-raw/transactions-v1
    """
    store = app.readable()
    result = impact_of(store, resolve(store, app.minter, asset), depth)
    click.echo(_json(result.as_dict()) if format_ == "json" else render.impact_text(result))


@cli.command()
@click.argument("text", required=False, metavar="[QUERY]")
@click.option("--kind", help="Only assets of this kind (model, dataset, model-version...).")
@click.option("--owner", help="Only assets owned by this team or person (id, team:id, person:id or IRI).")
@click.option("--tag", help="Only assets with this tag.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Hits a page.")
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True, help="Hits to skip.")
@click.option("--format", "format_", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def search(
    app: App,
    text: str | None,
    kind: str | None,
    owner: str | None,
    tag: str | None,
    limit: int,
    offset: int,
    format_: str,
) -> None:
    """Find assets whose name contains QUERY (ignoring case), by kind, owner and tag.

    \b
    Examples:
      mlg search fraud --kind model-version
      mlg search --owner payments-data --tag pii --format json
    """
    store = app.readable()
    result = search_assets(
        store, app.minter, text, kind=kind, owner=owner, tag=tag, limit=limit, offset=offset
    )
    click.echo(_json(result.as_dict()) if format_ == "json" else render.search_text(result))


@cli.command()
@click.option(
    "--format",
    "format_",
    default="nquads",
    show_default=True,
    type=click.Choice(sorted({*DATASET_FORMATS, *GRAPH_FORMATS})),
    help="nquads, trig and jsonld keep the named graphs; the others need --graph.",
)
@click.option("--graph", help="Export one named graph (a submission) only.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to a file instead of stdout.")
@click.pass_obj
def export(app: App, format_: str, graph: str | None, output: Path | None) -> None:
    """Write the store (or one submission's graph) as RDF.

    \b
    Examples:
      mlg export -o backup.nq
      mlg export --format turtle --graph https://mlg.example.org/graph/fraud-team%2Fcatalog
    """
    if graph is None and format_ not in DATASET_FORMATS:
        raise UsageError(f"--format {format_} holds one graph: add --graph, or use nquads, trig or jsonld")
    rdf_format = (
        DATASET_FORMATS.get(format_)
        if graph is None
        else (GRAPH_FORMATS.get(format_) or DATASET_FORMATS[format_])
    )
    store = app.readable()
    target = None
    if graph is not None:
        try:
            target = NamedNode(graph)
        except ValueError:
            raise UsageError(f"{graph!r} is not an IRI") from None
        if not store.has_graph(target):
            raise UsageError(f"there is no graph {graph} (see `mlg stats` for the submissions)")
    if output:
        buffer = io.BytesIO()
        store.dump(buffer, rdf_format, target)  # type: ignore[arg-type]
        _write_file(output, buffer.getvalue())
    else:
        store.dump(_binary_stdout(), rdf_format, target)  # type: ignore[arg-type]


@cli.command()
@click.option("--format", "format_", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def stats(app: App, format_: str) -> None:
    """Count what the store holds: triples, submissions, assets by kind, edges by kind."""
    store = app.readable()
    classes = {MLG + local: kind for kind, local in KINDS.items()}
    kinds = {
        classes[row["type"].value]: int(row["count"].value)
        for row in store.query(resources.query("stats_kinds"))
        if row["type"].value in classes
    }
    edges = {
        row["edge"].value.removeprefix(MLG): int(row["count"].value)
        for row in store.query(resources.query("stats_edges"))
    }
    submissions = [
        {name: row[name].value for name in ("graph", "source", "format", "loaded", "triples")}
        for row in store.query(resources.query("submissions"))
    ]
    if format_ == "json":
        click.echo(_json({"triples": len(store), "submissions": submissions, "kinds": kinds, "edges": edges}))
        return
    click.echo(f"{store.location}: {len(store):,} triples in {len(submissions)} submissions")
    click.echo("\n" + render.table(["kind", "count"], sorted(kinds.items(), key=lambda kv: -kv[1])))
    click.echo("\n" + render.table(["edge", "count"], edges.items()))
    click.echo(
        "\n"
        + render.table(
            ["source", "format", "triples", "loaded"],
            ([s["source"], s["format"], s["triples"], s["loaded"]] for s in submissions),
        )
    )


@cli.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.pass_obj
def backup(app: App, dest: Path) -> None:
    """Copy the store to DEST, a new (or empty) directory; works while `mlg serve` runs.

    The copy is a store itself: restore it with `mlg restore DEST`, or open it with
    `mlg --store DEST ...`.

    \b
    Example:
      mlg backup /backups/mlg-$(date +%F)
    """
    from mlg.backup import backup as make_backup

    quads = make_backup(app.config.store, dest)
    click.echo(f"mlg: backed up {quads:,} quads of {app.config.store} to {dest}", err=True)


@cli.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.pass_obj
def restore(app: App, src: Path) -> None:
    """Replace the store with the backup at SRC (made by `mlg backup`).

    SRC is checked first (an mlg store); the store must not be held by a server. The
    directories are swapped by rename, so a crash leaves the old store or the new one.

    \b
    Example:
      mlg restore /backups/mlg-2026-01-31
    """
    from mlg.backup import restore as restore_backup

    quads = restore_backup(src, app.config.store)
    click.echo(f"mlg: restored {app.config.store} from {src} ({quads:,} quads)", err=True)


DEMO_SERVICE = "service:checkout-api"
DEMO_DEPRECATED = "dataset:s3://payments-raw/transactions-v1"


def _server_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--host", help=_setting_help("host")),
            click.option("--port", type=click.IntRange(min=0, max=65535), help=_setting_help("port")),
            click.option("--workers", type=click.IntRange(min=1), help=_setting_help("workers")),
            click.option("--threads", type=click.IntRange(min=1), help=_setting_help("threads")),
        ]
    ):
        func = option(func)
    return func


def _setting_help(name: str) -> str:
    setting = next(s for s in SETTINGS if s.name == name)
    return f"{setting.help} [env: {setting.env}]"


def _serve(config: Config) -> None:
    from mlg.server.wsgi import serve as run_server  # gunicorn and Flask load only for serving

    run_server(config)


@cli.command()
@click.option("--store", "serve_store", type=click.Path(path_type=Path), help=_setting_help("store"))
@_server_options
@click.option("--config", "config_file", type=click.Path(path_type=Path), help=_setting_help("config_file"))
@click.pass_obj
def serve(
    app: App,
    serve_store: Path | None,
    host: str | None,
    port: int | None,
    workers: int | None,
    threads: int | None,
    config_file: Path | None,
) -> None:
    """Serve the store over HTTP: SPARQL 1.1 Protocol at /sparql, Graph Store Protocol at /store.

    Queries are open (or need MLG_READ_TOKEN); updates and graph writes need a bearer token
    from MLG_UPDATE_TOKEN, and without one the server is read-only. Runs under gunicorn:
    --workers processes answer requests (--threads at a time each) over read-only views
    of the store, and one more process holds the store and runs the writes.

    \b
    Examples:
      mlg serve --port 8000
      MLG_UPDATE_TOKEN=s3cret mlg serve --store /srv/mlg --host 0.0.0.0
      curl -H 'Accept: text/csv' --data-urlencode 'query=SELECT * { ?s a mlg:Model }' localhost:8000/sparql
    """
    overrides = {**app.overrides, "config_file": config_file or app.overrides.get("config_file")}
    overrides.update(
        store=serve_store or app.overrides.get("store"),
        host=host,
        port=port,
        workers=workers,
        threads=threads,
    )
    _serve(Config.from_env(**overrides))


@cli.command()
@click.option(
    "--store",
    "demo_store",
    type=click.Path(path_type=Path),
    help="Load into this store (default: a fresh one at $XDG_DATA_HOME/mlg/demo-store).",
)
@click.option("--no-serve", is_flag=True, help="Load and print only; do not start the server (for scripts).")
@_server_options
@click.pass_obj
def demo(
    app: App,
    demo_store: Path | None,
    no_serve: bool,
    host: str | None,
    port: int | None,
    workers: int | None,
    threads: int | None,
) -> None:
    """Load the demo exports of three teams, show what the graph answers, then serve it.

    Shows the upstream lineage of a production service down to its raw datasets, the
    same datasets found by a query that knows only PROV-O, and the impact of a
    deprecated dataset with the owners to notify; then serves the demo store at
    http://127.0.0.1:8000/sparql until Ctrl-C (--no-serve to stop after printing).
    """
    if demo_store is None:
        demo_store = default_demo_store()
        if demo_store.exists():
            open_store(demo_store).close()  # a running demo holds it: say so rather than delete it
            shutil.rmtree(demo_store, ignore_errors=True)
    store = app.writable(demo_store)
    files = sorted(p for p in resources.demo_dir().iterdir() if p.suffix in (".yaml", ".ttl"))
    submissions = [
        read_submission(p, minter=app.minter, max_bytes=app.config.max_input_bytes, source=f"demo/{p.name}")
        for p in files
    ]
    click.echo(f"Loading the demo into {demo_store}", err=True)
    _admit_all(app, store, submissions)
    service = resolve(store, app.minter, DEMO_SERVICE)
    click.echo(f"\n1. What is the production service {DEMO_SERVICE} built from?\n")
    click.echo(render.tree(trace(store, service, "upstream")))
    click.echo("\n2. The same raw datasets, for a client that knows only PROV-O and DCAT:\n")
    rows = store.query(resources.query("prov_raw_datasets"), {"service": service})
    click.echo(render.table(["dataset", "name"], ([r["dataset"].value, r["name"].value] for r in rows)))
    click.echo(f"\n3. What breaks if the deprecated dataset {DEMO_DEPRECATED} changes?\n")
    click.echo(render.impact_text(impact_of(store, resolve(store, app.minter, DEMO_DEPRECATED))))
    click.echo(f"\nExplore further with: mlg --store {demo_store} lineage {DEMO_SERVICE} --format dot")
    if no_serve:
        return
    # Serve from a fresh process: RocksDB's thread pools do not survive the fork of
    # gunicorn's worker in a process that has opened a store (its exit would hang).
    command = [sys.executable, "-m", "mlg", *(["--debug"] if app.debug else [])]
    for flag, name in (("--config", "config_file"), ("--base-iri", "base_iri")):
        if app.overrides.get(name) is not None:
            command += [flag, str(app.overrides[name])]
    command += ["serve", "--store", str(demo_store)]
    for flag, value in (("--host", host), ("--port", port), ("--workers", workers), ("--threads", threads)):
        if value is not None:
            command += [flag, str(value)]
    store.close()  # release the store's lock now, not only when exec closes its files
    del store, rows
    gc.collect()
    click.echo("")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)


def _write_file(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as error:
        raise UsageError(f"cannot write: {error.strerror or error}", where=str(path)) from None


def _binary_stdout() -> Any:
    sys.stdout.flush()
    return sys.stdout.buffer


def _json(data: Any) -> str:
    return render.json_text(data)


def main() -> None:
    cli(prog_name="mlg")
