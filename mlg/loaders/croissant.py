"""Placeholder: filled in by the croissant loader work."""

from mlg.loaders import Format

FORMATS: list[Format] = []
