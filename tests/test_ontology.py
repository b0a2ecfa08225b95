"""The ontology and shapes: well-formed, documented, aligned only through our own terms."""

from __future__ import annotations

import pyoxigraph
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SH

from mlg import resources
from mlg.loaders.mapping import EDGES, TEXT_ATTRIBUTES, TIME_ATTRIBUTES
from mlg.vocab import KINDS, MLG, PROV, UPSTREAM, ontology

MLG_NS = rdflib.Namespace(MLG)
STANDARD = ("http://www.w3.org/ns/prov#", "http://www.w3.org/ns/dcat#", "http://www.w3.org/ns/mls#")


def graph() -> rdflib.Graph:
    return rdflib.Graph().parse(resources.ontology_path(), format="turtle")


def test_ontology_parses_with_rdflib_and_pyoxigraph_alike():
    triples = list(pyoxigraph.parse(path=str(resources.ontology_path())))
    assert len(graph()) == len(triples) > 250


def test_every_term_has_a_label_and_a_comment():
    g = graph()
    terms = {s for s in g.subjects() if isinstance(s, rdflib.URIRef) and str(s).startswith(MLG)}
    assert len(terms) > 50
    for term in terms:
        assert g.value(term, RDFS.label), f"{term} has no rdfs:label"
        assert g.value(term, RDFS.comment), f"{term} has no rdfs:comment"


def test_alignment_adds_no_axiom_to_other_vocabularies_and_no_domain_or_range():
    g = graph()
    for s, p, _ in g:
        if isinstance(s, rdflib.URIRef) and str(s) != "https://w3id.org/mlg":
            assert str(s).startswith(MLG), f"axiom on a foreign term: {s} {p}"
        assert p not in (RDFS.domain, RDFS.range), f"{s} declares {p}"


def test_aligned_to_prov_dcat_and_ml_schema():
    g = graph()
    supers = {str(o) for o in g.objects(None, RDFS.subClassOf)} | {
        str(o) for o in g.objects(None, RDFS.subPropertyOf)
    }
    for namespace in STANDARD:
        assert any(s.startswith(namespace) for s in supers), namespace
    for required in (
        "Entity",
        "Activity",
        "Agent",
        "Plan",
        "wasDerivedFrom",
        "used",
        "wasGeneratedBy",
        "wasAttributedTo",
    ):
        assert PROV + required in supers, required
    for required in (
        "http://www.w3.org/ns/dcat#Dataset",
        "http://www.w3.org/ns/dcat#isVersionOf",
        "http://www.w3.org/ns/dcat#previousVersion",
        "http://www.w3.org/ns/mls#Run",
        "http://www.w3.org/ns/mls#Model",
        "http://www.w3.org/ns/mls#ModelEvaluation",
        "http://www.w3.org/ns/mls#Feature",
        "http://www.w3.org/ns/mls#Dataset",
    ):
        assert required in supers, required


def test_every_kind_and_every_loader_term_is_declared():
    g = graph()
    for local in KINDS.values():
        assert (MLG_NS[local], RDF.type, OWL.Class) in g, local
    for name in (*EDGES, *TEXT_ATTRIBUTES, *TIME_ATTRIBUTES, "hasMetric", "metricName", "metricValue"):
        assert (MLG_NS[name], RDF.type, None) in g, name


def test_lineage_edges_all_specialise_upstream():
    lineage = {term.value.removeprefix(MLG) for term in ontology().lineage_properties}
    assert lineage == {
        "derivedFrom",
        "fineTunedFrom",
        "trainedOn",
        "usesFeature",
        "producedBy",
        "used",
        "evaluates",
        "evaluatedOn",
        "deploys",
        "dependsOn",
        "consumes",
        "versionOf",
    }
    assert UPSTREAM not in ontology().lineage_properties


def test_every_kind_is_the_target_of_a_shape():
    shapes = rdflib.Graph().parse(resources.shapes_path(), format="turtle")
    targets = {str(o) for o in shapes.objects(None, SH.targetClass)}
    onto = ontology()
    for local in KINDS.values():
        cls = pyoxigraph.NamedNode(MLG + local)
        covered = {cls.value} | {c.value for c in onto.superclasses.get(cls, ())}
        assert covered & targets, f"no shape targets mlg:{local}"


def test_every_shape_constraint_says_what_is_wrong_in_words():
    shapes = rdflib.Graph().parse(resources.shapes_path(), format="turtle")
    for prop in shapes.subjects(SH.path, None):
        assert shapes.value(prop, SH.message), (
            f"property shape on {shapes.value(prop, SH.path)} has no sh:message"
        )
