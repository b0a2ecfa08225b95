"""Placeholder: filled in by the huggingface loader work."""

from mlg.loaders import Format

FORMATS: list[Format] = []
