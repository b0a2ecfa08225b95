"""Placeholder: filled in by the backstage loader work."""

from mlg.loaders import Format

FORMATS: list[Format] = []
