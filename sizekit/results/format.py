"""results.json (format version 1): the file every report, diff, check and merge reads.

Writes are atomic (a temp file, then a rename), so the file is never half-written.
"""
import json
import os

from ..utils.errors import ResultsError
from ..utils.fsutil import atomic_write_text

VERSION = 1


def write_results(path, results):
    atomic_write_text(path, json.dumps(results, indent=1) + "\n")


def load_results(path):
    """Read and check a results.json. Raises ResultsError naming the file."""
    if os.path.isdir(path):
        raise ResultsError(f"{path}: is a directory; pass the results.json file")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise ResultsError(f"{path}: not found; run doit first to build the matrix") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read: {exc}") from None
    except ValueError as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("cells"), list):
        raise ResultsError(f"{path}: not a sizekit results.json of version {VERSION}")
    for i, cell in enumerate(data["cells"]):
        if not isinstance(cell, dict) or not all(k in cell for k in ("crate", "target", "variant", "status")):
            raise ResultsError(f"{path}: cells[{i}] lacks crate/target/variant/status")
    return data
