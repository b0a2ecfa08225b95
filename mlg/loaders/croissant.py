"""Croissant (MLCommons): a dataset's metadata as schema.org JSON-LD, versions 1.0 and 1.1.

The file is RDF already, so it is read as RDF (pyoxigraph's JSON-LD parser; a remote
``@context`` is refused, never fetched) and then mapped, term by term, onto the ontology.
The Croissant triples themselves are kept in the submission next to the mapped ones, so
nothing the file says is lost: relative ``@id``\\s are placed under the dataset's IRI
(``<dataset>/croissant/<id>``), blank nodes are skolemised, and the top-level Dataset
node *is* the mapped dataset.

What a file becomes::

    dataset  <- name, description, license, keywords (tags), datePublished/dateModified,
                version, url (sourceUrl), sameAs, creator/citeAs/isLiveDataset/rai:* (annotations),
                classification pii when rai:personalSensitiveInformation says there is some
      -derivedFrom-> each distribution with an absolute contentUrl, and prov:wasDerivedFrom
    field (one per recordSet field) -partOf-> dataset, dataType, -derivedFrom-> its source file
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, parse

from mlg.errors import InputError
from mlg.identity import looks_like_uri, split_dataset_uri
from mlg.loaders import Format, Request
from mlg.loaders.documents import parse_json
from mlg.loaders.mapping import RecordWriter, submission
from mlg.submission import Record, Submission

NAME = "croissant"
EXTENSIONS = (".json", ".jsonld")

SC = "https://schema.org/"
CR = "http://mlcommons.org/croissant/"
RAI = "http://mlcommons.org/croissant/RAI/"
DCT_CONFORMS_TO = "http://purl.org/dc/terms/conformsTo"
PROV_DERIVED_FROM = "http://www.w3.org/ns/prov#wasDerivedFrom"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# Relative @ids resolve against this base first, then move under the dataset's IRI.
PLACEHOLDER = "https://croissant.invalid/"

# Properties of the Dataset node that the mapping reads; any other is counted as not mapped.
MAPPED = {
    RDF_TYPE,
    SC + "name",
    SC + "description",
    SC + "license",
    SC + "keywords",
    SC + "creator",
    SC + "datePublished",
    SC + "dateModified",
    SC + "version",
    SC + "url",
    SC + "sameAs",
    SC + "distribution",
    CR + "recordSet",
    CR + "citeAs",
    CR + "isLiveDataset",
    DCT_CONFORMS_TO,
    PROV_DERIVED_FROM,
}
ANNOTATED = {SC + "creator": "creator", CR + "citeAs": "citeAs", CR + "isLiveDataset": "isLiveDataset"}
# Values of rai:personalSensitiveInformation that say there is none.
NO_PII = {"", "none", "no", "n/a", "na", "not applicable", "false"}

_HUB_DATASET_URL = re.compile(
    r"^https?://(?:www\.)?huggingface\.co/datasets/([^/?#]+)(?:/([^/?#]+))?", re.IGNORECASE
)
_HUB_PAGES = {"tree", "blob", "resolve", "viewer", "discussions", "raw", "commits", "blame"}
_HEX = {"sha256": re.compile(r"^[0-9a-fA-F]{64}$"), "md5": re.compile(r"^[0-9a-fA-F]{32}$")}


def _sniff(path: Path, head: bytes) -> bool:
    """A .json/.jsonld JSON-LD file whose context (or conformsTo) names Croissant's vocabulary."""
    return path.suffix.lower() in EXTENSIONS and b'"@context"' in head and b"mlcommons.org/croissant" in head


def hub_dataset_id(url: str) -> str | None:
    """``ylecun/mnist`` for ``https://huggingface.co/datasets/ylecun/mnist`` (and its pages)."""
    match = _HUB_DATASET_URL.match(url.strip())
    if not match:
        return None
    owner, name = match.groups()
    return owner if not name or name in _HUB_PAGES else f"{owner}/{name}"


def dataset_iri(request: Request, url: str) -> NamedNode:
    """A Hub dataset is ``hf://datasets/<id>`` (as a model card names it); other URLs are
    named the OpenLineage way."""
    hub = hub_dataset_id(url)
    return request.minter.dataset_from_uri(f"hf://datasets/{hub}" if hub else url.strip())


def _normal(iri: str) -> str:
    """schema.org has two spellings; Croissant uses https."""
    return SC + iri[len("http://schema.org/") :] if iri.startswith("http://schema.org/") else iri


class _Graph:
    """The parsed triples, indexed by subject then predicate (in one schema.org spelling)."""

    def __init__(self, quads: Iterable[Any]) -> None:
        self.triples: list[tuple[Any, NamedNode, Any]] = []
        self.properties: dict[Any, dict[str, list[Any]]] = {}
        self.objects: set[Any] = set()
        spelled: dict[NamedNode, str] = {}
        for quad in quads:
            subject, predicate, value = quad.subject, quad.predicate, quad.object
            self.triples.append((subject, predicate, value))
            key = spelled.get(predicate) or spelled.setdefault(predicate, _normal(predicate.value))
            self.properties.setdefault(subject, {}).setdefault(key, []).append(value)
            if not isinstance(value, Literal):
                self.objects.add(value)

    def values(self, node: Any, predicate: str) -> list[Any]:
        return self.properties.get(node, {}).get(predicate, [])

    def items(self, node: Any) -> Iterator[tuple[str, Any]]:
        """Every (predicate, value) of a node."""
        for predicate, values in self.properties.get(node, {}).items():
            for value in values:
                yield predicate, value

    def text(self, node: Any, predicate: str) -> str | None:
        """The first non-empty literal or IRI value (a blank node has no text of its own)."""
        for value in self.values(node, predicate):
            text = "" if isinstance(value, BlankNode) else value.value.strip()
            if text:
                return text
        return None

    def types(self, node: Any) -> set[str]:
        return {_normal(value.value) for value in self.values(node, RDF_TYPE)}

    def is_croissant(self) -> bool:
        for properties in self.properties.values():
            for predicate, values in properties.items():
                if predicate.startswith(CR):
                    return True
                if predicate == DCT_CONFORMS_TO and any("mlcommons.org/croissant" in v.value for v in values):
                    return True
        return False


def _tail(node: Any) -> str:
    """What a person calls a node without a name: its @id."""
    value = node.value
    return value[len(PLACEHOLDER) :] if value.startswith(PLACEHOLDER) else value


def _compact(iri: str) -> str:
    for prefix, namespace in (("sc", SC), ("cr", CR)):
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


class _Dataset:
    """One Croissant Dataset being mapped; ``where`` names a place a person can find."""

    def __init__(self, request: Request, graph: _Graph, root: Any) -> None:
        self.request = request
        self.graph = graph
        self.root = root
        self.writer = RecordWriter(request.minter)
        self.url = graph.text(root, SC + "url")
        self.name = graph.text(root, SC + "name")
        self.own_root = isinstance(root, BlankNode) or root.value.startswith(PLACEHOLDER)
        self.source_id, self.location, self.iri = self.identity()
        self.files: dict[Any, NamedNode] = {}
        self.fields: dict[Any, NamedNode] = {}

    def where(self, place: str) -> str:
        return f"{self.request.location}: {place}"

    def identity(self) -> tuple[str, str | None, NamedNode]:
        """(source id, location, IRI) of the dataset: named by its url (a Hub dataset URL is
        ``hf://datasets/<id>``), else by its absolute @id, else by its name."""
        for place, uri in (("url", self.url), ("@id", None if self.own_root else self.root.value)):
            if uri and looks_like_uri(uri):
                hub = hub_dataset_id(uri)
                location = f"hf://datasets/{hub}" if hub else uri
                try:
                    return uri, location, self.request.minter.dataset_from_uri(location)
                except InputError as error:
                    raise InputError(error.message, where=self.where(place)) from None
        if self.name:
            return self.name, None, self.request.minter.asset("dataset", self.name)
        raise InputError("the Dataset has no url, @id or name to name it by", where=self.where("Dataset"))

    # -- the Croissant triples ----------------------------------------------------

    def original_records(self) -> list[Record]:
        """The file's own triples, relative @ids under the dataset, blank nodes skolemised
        with labels in order of appearance (the parser's labels are random)."""
        base = f"{self.iri.value}/croissant/"
        genid = self.request.minter.skolem(self.source_id, "").value
        terms: dict[Any, Any] = {self.root: self.iri} if self.own_root else {}
        blanks = itertools.count()

        def term(node: Any) -> Any:
            if isinstance(node, BlankNode):
                found = NamedNode(f"{genid}b{next(blanks)}")
            elif node.value.startswith(PLACEHOLDER):
                found = NamedNode(base + node.value[len(PLACEHOLDER) :])
            else:
                found = node
            terms[node] = found
            return found

        by_subject: dict[Any, Record] = {}
        for subject, predicate, value in self.graph.triples:
            subject = terms.get(subject) or term(subject)
            if not isinstance(value, Literal):  # most values are literals: not hashed, not renamed
                value = terms.get(value) or term(value)
            by_subject.setdefault(subject, []).append(Triple(subject, predicate, value))
        return list(by_subject.values())

    # -- the mapping ----------------------------------------------------------------

    def write(self) -> None:
        graph, root = self.graph, self.root
        # Files before file sets: a file set is read from the file that contains it.
        distributions = sorted(
            graph.values(root, SC + "distribution"), key=lambda node: CR + "FileSet" in graph.types(node)
        )
        notes = [note for node in distributions if (note := self.distribution(node))]
        self.dataset(notes)
        for record_set in graph.values(root, CR + "recordSet"):
            self.name_fields(record_set)
        for record_set in graph.values(root, CR + "recordSet"):
            for field in graph.values(record_set, CR + "field"):
                self.field(field, self.iri)

    def dataset(self, notes: list[str]) -> None:
        graph, root, writer = self.graph, self.root, self.writer
        writer.node(self.iri, "dataset")
        writer.attribute("name", self.name or self.source_id, self.where("name"))
        writer.attribute("description", graph.text(root, SC + "description"), self.where("description"))
        license_ = graph.values(root, SC + "license")
        writer.attribute("license", self.describe(license_[0]) if license_ else None, self.where("license"))
        writer.attribute(
            "tag", [v.value for v in graph.values(root, SC + "keywords")], self.where("keywords")
        )
        writer.attribute("version", graph.text(root, SC + "version"), self.where("version"))
        writer.attribute("sourceRegistry", NAME, self.where("Dataset"))
        writer.attribute("sourceId", self.source_id, self.where("Dataset"))
        if self.url and looks_like_uri(self.url):
            writer.attribute("sourceUrl", self.url, self.where("url"))
        if self.location:
            self.namespace(self.location)
        if not self.own_root and self.root != self.iri:
            writer.same_as(self.root)
        for key, attribute in (("datePublished", "created"), ("dateModified", "modified")):
            value = graph.text(root, SC + key)
            try:
                writer.attribute(attribute, value, self.where(key))
            except InputError:
                writer.annotation(key, value, warning="date that is not ISO 8601")
        for predicate, key in ANNOTATED.items():
            for value in graph.values(root, predicate):
                writer.annotation(key, self.describe(value))
        for value in graph.values(root, DCT_CONFORMS_TO):
            writer.annotation("conformsTo", value.value)
        for value in graph.values(root, SC + "sameAs"):
            if looks_like_uri(value.value):
                writer.same_as(writer.reference(self.hub_or_uri(value.value, "sameAs"), "dataset"))
            else:
                writer.annotation("sameAs", value.value, warning="sameAs that is not a URL")
        for value in graph.values(root, PROV_DERIVED_FROM):
            url = value.value if not isinstance(value, BlankNode) else graph.text(value, SC + "url")
            if url and looks_like_uri(url) and not url.startswith(PLACEHOLDER):
                writer.edge(
                    "derivedFrom", writer.reference(self.hub_or_uri(url, "wasDerivedFrom"), "dataset")
                )
            else:
                writer.annotation("wasDerivedFrom", self.describe(value), warning="source without a URL")
        for target in dict.fromkeys(self.files.values()):
            if target != self.iri:
                writer.edge("derivedFrom", target)
        for note in notes:
            writer.annotation("distribution", note, warning="distribution without an absolute contentUrl")
        self.responsible_ai()
        for predicate, value in graph.items(root):
            if predicate not in MAPPED and not predicate.startswith(RAI):
                writer.annotation(
                    _compact(predicate), self.describe(value), warning="Croissant term not mapped"
                )

    def responsible_ai(self) -> None:
        """Croissant's RAI terms are kept verbatim; personal or sensitive data is labelled pii."""
        pii = False
        for predicate, value in self.graph.items(self.root):
            if predicate.startswith(RAI):
                text = self.describe(value)
                self.writer.annotation(f"rai:{predicate[len(RAI) :]}", text)
                if predicate == RAI + "personalSensitiveInformation":
                    pii = pii or text.strip().strip(".").lower() not in NO_PII
        if pii:
            self.writer.attribute("classification", "pii", self.where("rai:personalSensitiveInformation"))

    def distribution(self, node: Any) -> str | None:
        """A file with an absolute URL becomes the dataset it is read from; returns a note otherwise."""
        graph = self.graph
        name = graph.text(node, SC + "name") or _tail(node)
        url = graph.text(node, SC + "contentUrl")
        if not url or not looks_like_uri(url):
            # containedIn is cr: in Croissant 1.1, schema.org's (by @vocab) in 1.0 files
            for container in graph.values(node, CR + "containedIn") + graph.values(node, SC + "containedIn"):
                if container in self.files:
                    self.files[node] = self.files[container]
                    return None
            includes = ", ".join(v.value for v in graph.values(node, CR + "includes"))
            return f"{name}: {url or includes or 'no contentUrl'}"
        try:
            target = self.request.minter.dataset_from_uri(url)
        except InputError as error:
            return f"{name}: {url} ({error.message})"
        self.files[node] = target
        if target == self.iri:
            return None
        writer = self.writer
        writer.node(target, "dataset")
        writer.attribute(
            "name", f"{name} ({self.name or self.source_id})", self.where(f"distribution {name}")
        )
        writer.attribute(
            "description", graph.text(node, SC + "description"), self.where(f"distribution {name}")
        )
        writer.attribute("sourceRegistry", NAME, self.where(f"distribution {name}"))
        writer.attribute("sourceId", url, self.where(f"distribution {name}"))
        writer.attribute("sourceUrl", url, self.where(f"distribution {name}"))
        self.namespace(url)
        for algorithm in ("sha256", "md5"):
            digest = graph.text(node, SC + algorithm) or graph.text(node, CR + algorithm)
            if digest and _HEX[algorithm].match(digest):
                writer.attribute("contentDigest", f"{algorithm}:{digest.lower()}", self.where(name))
                break
            if digest:
                writer.annotation(algorithm, digest, warning="checksum that is not one")
        for key in ("encodingFormat", "contentSize"):
            value = graph.text(node, SC + key)
            if value:
                writer.annotation(key, value)
        return None

    def namespace(self, url: str) -> None:
        try:
            namespace, name = split_dataset_uri(url)
        except InputError:
            return
        self.writer.attribute("namespace", namespace, self.where("url"))
        self.writer.attribute("qualifiedName", name, self.where("url"))

    def hub_or_uri(self, url: str, place: str) -> NamedNode:
        try:
            return dataset_iri(self.request, url)
        except InputError as error:
            raise InputError(error.message, where=self.where(place)) from None

    def name_fields(self, record_set: Any) -> None:
        """Every field's IRI first, so a field can be derived from one named later."""
        graph = self.graph
        set_name = graph.text(record_set, SC + "name") or _tail(record_set)
        # (field, its parent's path in the dataset, the name its own name may start with)
        pending = [(field, set_name, set_name) for field in graph.values(record_set, CR + "field")]
        while pending:
            field, parent, prefix = pending.pop()
            name = graph.text(field, SC + "name") or _tail(field)
            short = name[len(prefix) + 1 :] if name.startswith(prefix + "/") else name
            path = f"{parent}/{short}"
            self.fields[field] = self.request.minter.field(self.iri, path)
            pending += [(sub, path, name) for sub in graph.values(field, CR + "subField")]

    def field(self, field: Any, parent: NamedNode) -> None:
        graph, writer = self.graph, self.writer
        iri = self.fields[field]
        name = graph.text(field, SC + "name") or _tail(field)
        where = self.where(f"field {name}")
        writer.node(iri, "field")
        writer.attribute("name", name, where)
        writer.attribute("description", graph.text(field, SC + "description"), where)
        writer.attribute("sourceRegistry", NAME, where)
        writer.attribute("sourceId", _tail(field), where)
        writer.edge("partOf", parent)
        types = [value.value for value in graph.values(field, CR + "dataType")]
        primary = next(
            (t for t in types if t.startswith((SC, CR)) and t.rsplit("/", 1)[-1][:1].isupper()), None
        )
        writer.attribute("dataType", _compact(primary) if primary else None, where)
        for other in types:
            if other != primary:
                writer.annotation("dataType", _compact(other))
        for source in graph.values(field, CR + "source"):
            for key in ("fileObject", "fileSet", "field"):
                for target in graph.values(source, CR + key):
                    upstream = self.fields.get(target) if key == "field" else self.files.get(target)
                    if upstream is not None and upstream not in (iri, self.iri):
                        writer.edge("derivedFrom", upstream)
        for reference in graph.values(field, CR + "references"):
            for target in graph.values(reference, CR + "field") or [reference]:
                writer.annotation("references", graph.text(target, SC + "name") or _tail(target))
        for sub in graph.values(field, CR + "subField"):
            self.field(sub, iri)

    def describe(self, value: Any) -> str:
        """A value as text: a literal's text, a node's name (and url or email), else its IRI."""
        if isinstance(value, Literal):
            return value.value
        name = self.graph.text(value, SC + "name")
        extra = self.graph.text(value, SC + "url") or self.graph.text(value, SC + "email")
        if name:
            return f"{name} ({extra})" if extra else name
        if extra or isinstance(value, NamedNode):
            return extra or _tail(value)
        parts = [f"{_compact(p)}={v.value}" for p, v in self.graph.items(value) if isinstance(v, Literal)]
        return "; ".join(parts)


def _refuse_remote_context(document: dict[str, Any], location: str) -> None:
    """Say which context would have been fetched; the parser refuses any nested one too."""
    context = document.get("@context")
    for item in context if isinstance(context, list) else [context]:
        if isinstance(item, dict) and isinstance(item.get("@import"), str):
            item = item["@import"]
        if isinstance(item, str):
            raise InputError(
                f"the remote @context {item!r} is not fetched (it could reach any server): inline it",
                where=location,
            )


def read_graph(request: Request) -> _Graph:
    # Duplicate keys: the last wins, as in JSON-LD processors (they read JSON with json.load).
    document = parse_json(request.location, request.data, unique_keys=False)
    if not isinstance(document, dict):
        raise InputError(
            "not Croissant: expected one JSON object, a schema.org Dataset", where=request.location
        )
    _refuse_remote_context(document, request.location)
    try:
        quads = list(parse(request.data, RdfFormat.JSON_LD, base_iri=PLACEHOLDER))
    except (SyntaxError, ValueError) as error:
        if "LoadDocumentCallback" in str(error):
            raise InputError(
                "a remote @context is not fetched (it could reach any server); inline the context",
                where=request.location,
            ) from None
        raise InputError(f"not valid JSON-LD: {error}", where=request.location) from None
    graph = _Graph(quads)
    if not graph.is_croissant():
        raise InputError(
            f"not Croissant: no term of its vocabulary ({CR}) and no dct:conformsTo a Croissant version",
            where=request.location,
        )
    return graph


def _load(request: Request) -> Submission:
    graph = read_graph(request)
    roots = [
        node
        for node, _ in graph.properties.items()
        if SC + "Dataset" in graph.types(node) and node not in graph.objects
    ]
    if len(roots) != 1:
        found = "none" if not roots else f"{len(roots)}"
        raise InputError(
            f"a Croissant file describes one schema.org Dataset at its top; found {found}",
            where=request.location,
        )
    dataset = _Dataset(request, graph, roots[0])
    dataset.write()
    return submission(request, NAME, dataset.writer, dataset.original_records())


FORMATS = [
    Format(
        NAME,
        EXTENSIONS,
        "Croissant (MLCommons) dataset metadata, JSON-LD: dataset, files, fields, responsible-AI notes",
        _sniff,
        _load,
    )
]
