"""Placeholder: filled in by the datahub loader work."""

from mlg.loaders import Format

FORMATS: list[Format] = []
