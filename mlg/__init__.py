"""Model Lifecycle Graph: one RDF graph of an organisation's ML assets and their lineage."""

__version__ = "0.1.0"
