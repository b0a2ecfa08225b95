"""Placeholder: filled in by the mlflow loader work."""

from mlg.loaders import Format

FORMATS: list[Format] = []
