"""Placeholder: filled in by the feast loader work."""

from mlg.loaders import Format

FORMATS: list[Format] = []
