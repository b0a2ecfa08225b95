"""Benchmark input for the Croissant loader: one metadata file whose record sets hold ``n`` fields.

The file has the shape of the Hugging Face Hub's Croissant export: the Croissant 1.1
context, a dataset with a Hub URL, a repository file object and one Parquet file set per
configuration, and record sets of 50 fields each, every field read from a column of its
file set. Deterministic: the same ``n`` writes the same bytes. The entities counted are
the fields (each becomes one ``field`` node).
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

FIELDS_PER_SET = 50
TYPES = ("sc:Text", "sc:Integer", "sc:Float", "sc:Boolean", "sc:Date", "sc:ImageObject")
CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "sc": "https://schema.org/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "extract": "cr:extract",
    "field": "cr:field",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "source": "cr:source",
}


def _record_set(s: int, count: int) -> dict[str, Any]:
    name = f"config_{s}"
    return {
        "@type": "cr:RecordSet",
        "@id": name,
        "name": name,
        "description": f"The records of configuration {s}.",
        "field": [
            {
                "@type": "cr:Field",
                "@id": f"{name}/column_{f}",
                "name": f"{name}/column_{f}",
                "description": f"Column {f} of the Parquet files of {name}.",
                "dataType": TYPES[(s + f) % len(TYPES)],
                "source": {"fileSet": {"@id": f"parquet-{name}"}, "extract": {"column": f"column_{f}"}},
            }
            for f in range(count)
        ],
    }


def make_input(n: int, folder: pathlib.Path) -> tuple[str, int]:
    sets = [min(FIELDS_PER_SET, n - start) for start in range(0, n, FIELDS_PER_SET)]
    repo = "https://huggingface.co/datasets/bench-org/wide-table"
    document = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "name": "wide-table",
        "description": "A generated dataset with many columns.",
        "conformsTo": "http://mlcommons.org/croissant/1.1",
        "citeAs": "@misc{wide-table}",
        "license": "cc-by-4.0",
        "url": repo,
        "version": "1.0.0",
        "keywords": ["benchmark", "tabular"],
        "rai:personalSensitiveInformation": "Customer postcodes.",
        "distribution": [
            {
                "@type": "cr:FileObject",
                "@id": "repo",
                "name": "repo",
                "contentUrl": repo + "/tree/refs%2Fconvert%2Fparquet",
                "encodingFormat": "git+https",
                "sha256": "0" * 64,
            },
            *(
                {
                    "@type": "cr:FileSet",
                    "@id": f"parquet-config_{s}",
                    "name": f"parquet-config_{s}",
                    "containedIn": {"@id": "repo"},
                    "encodingFormat": "application/x-parquet",
                    "includes": f"config_{s}/*/*.parquet",
                }
                for s in range(len(sets))
            ),
        ],
        "recordSet": [_record_set(s, count) for s, count in enumerate(sets)],
    }
    path = folder / "croissant.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return str(path), n
