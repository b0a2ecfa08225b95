"""Benchmark input for the Hugging Face loader: one model card with ``n`` evaluation results.

A card is small in practice (a few results), so ``n`` cards would not be one input: the
large input is one card whose ``model-index`` holds ``n`` results, each on its own Hub
dataset and split, with two metrics, written in the layout ``ModelCard.save`` gives
(YAML front matter, then the Markdown body). Deterministic: the same ``n`` writes the
same bytes. The entities counted are the results (each becomes one evaluation).
"""

from __future__ import annotations

import pathlib

TASKS = ("text-classification", "token-classification", "question-answering", "summarization")
SPLITS = ("test", "validation")


def _result(i: int) -> str:
    task = TASKS[i % len(TASKS)]
    return (
        "  - task:\n"
        f"      type: {task}\n"
        f"      name: {task.replace('-', ' ').title()}\n"
        "    dataset:\n"
        f"      name: Benchmark corpus {i}\n"
        f"      type: bench-org/corpus-{i}\n"
        "      config: default\n"
        f"      split: {SPLITS[i % 2]}\n"
        "    metrics:\n"
        "    - type: accuracy\n"
        f"      value: {0.5 + (i % 500) / 1000:.3f}\n"
        "      name: Accuracy\n"
        "    - type: f1\n"
        f"      value: {0.4 + (i % 600) / 1000:.3f}\n"
    )


def make_input(n: int, folder: pathlib.Path) -> tuple[str, int]:
    path = folder / "bench-encoder" / "README.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    front = (
        "---\n"
        "base_model: bench-org/base-encoder\n"
        "datasets:\n- bench-org/training-corpus\n"
        "language:\n- en\n- fr\n"
        "library_name: transformers\n"
        "license: apache-2.0\n"
        "pipeline_tag: text-classification\n"
        "tags:\n- benchmark\n- generated\n"
        "model-index:\n"
        "- name: bench-encoder\n"
        "  results:\n"
    )
    body = "---\n\n# bench-encoder\n\nA generated card with many evaluation results.\n"
    path.write_text(front + "".join(_result(i) for i in range(n)) + body, encoding="utf-8")
    return str(path), n
