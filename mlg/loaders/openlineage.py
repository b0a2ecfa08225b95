"""Placeholder: filled in by the openlineage loader work."""

from mlg.loaders import Format

FORMATS: list[Format] = []
