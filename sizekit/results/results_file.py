"""results.json (format version 1): the file every report, diff, check and merge reads.

Writes are atomic (a temp file, then a rename), so the file is never half-written. Reads trust
nothing: the file is size-capped and read without blocking (sizekit.utils.safeio), and every
field the reports, diff and check use is checked for its type, so a foreign or tampered file
is one line naming the file and the field, never a traceback later.
"""
import json
import math
import re

from ..utils import limits
from ..utils.errors import ResultsError
from ..utils.jsontypes import TYPE_NAMES
from ..utils.names import crate_name_problem
from ..utils.fsutil import atomic_write_text
from ..utils.safeio import FileProblem, read_text

VERSION = 1
MAX_RESULTS_BYTES = limits.RESULTS_BYTES.value   # a real results.json is KBs to a few MB
# Values (counted as commas and opening brackets, an upper bound) that json may build: about
# 90 MB at worst. The example matrix writes 135 per cell, so this allows some 7,000 cells.
MAX_RESULTS_VALUES = limits.RESULTS_VALUES.value
MAX_CELLS = limits.CELLS.value
MAX_NAME = limits.NAME_CHARS.value
MAX_TEXT = limits.TEXT_CHARS.value
MAX_SIZE = limits.SIZE_MAX.value

NULL = type(None)


class BYTES:
    """A byte count: a whole number from 0 to 2**48."""


STR, SIZE, OBJ = (str,), (BYTES,), (dict,)
NAMES = {**TYPE_NAMES, BYTES: "a byte count"}



def _fields(table):
    """(key, required, types) per field of {name: types}, a * marking a required one: parsed
    once here, since every cell is checked against them."""
    return tuple((name.lstrip("*"), name.startswith("*"), types) for name, types in table.items())


# The fields the reports, diff and check read, with their allowed types; a * marks a required one.
CELL = {"*crate": STR, "*target": STR, "*variant": STR, "*status": STR, "label": STR + (NULL,),
        "reason": STR + (NULL,), "log": STR + (NULL,), "tail": STR + (NULL,), "*final_bytes": SIZE + (NULL,),
        "upx_estimate_bytes": SIZE + (NULL,), "upx_estimate_other_bytes": SIZE + (NULL,),
        "upx_refusal": STR + (NULL,), "upx_estimate_error": STR + (NULL,), "crates_error": STR + (NULL,),
        "smoke": OBJ + (NULL,), "build": OBJ + (NULL,), "stages": (list,),
        "crates": OBJ + (NULL,), "shared_libraries": (list, NULL)}
# A shared library a cell's file needs at run time and the image ships once (prefer-dynamic's std).
SHARED = {"*name": STR, "path": STR + (NULL,), "*bytes": SIZE}
STAGE = {"*step": STR, "path": STR + (NULL,), "bytes": SIZE + (NULL,), "sections": OBJ + (NULL,)}
SMOKE = {"ok": (bool, NULL), "*detail": STR}
BUILD = {"key": STR + (NULL,), "cache": OBJ + (NULL,)}
CACHE = {"used": (bool,), "hits": SIZE + (NULL,), "misses": SIZE + (NULL,), "location": STR + (NULL,),
         "reason": STR + (NULL,), "languages": OBJ + (NULL,)}
LANGUAGE = {"hits": SIZE + (NULL,), "misses": SIZE + (NULL,)}
REFERENCE = {"*crate": STR, "*target": STR, "*name": STR, "*status": STR, "reason": STR + (NULL,),
             "stripped_bytes": SIZE + (NULL,)}
TOP = {"matrix": STR + (NULL,), "baseline": STR + (NULL,), "variants": (list,), "references": (list,),
       "matrix_digest": STR + (NULL,), "sizekit_version": STR + (NULL,), "shard": OBJ + (NULL,),
       "tools": OBJ + (NULL,), "fleets": (list,)}
TOOLS = {"native_backend": STR + (NULL,), "demangler": STR + (NULL,)}
# A fleet's figures (sizekit.results.fleet): null with the reason when a member did not build here.
FLEET = {"*name": STR, "*cells": (list,), "budget": SIZE + (NULL,), "*total_bytes": SIZE + (NULL,),
         "code_bytes": SIZE + (NULL,), "duplicated_bytes": SIZE + (NULL,), "saving_bound": SIZE + (NULL,),
         "reason": STR + (NULL,), "alternatives": (list,), "members": (list,)}
FLEET_MEMBER = {"*cell": STR, "*duplicated_bytes": SIZE}
# One alternative of a fleet, built for real (results.fleet.measure_alternatives).
ALTERNATIVE = {"*name": STR, "*cells": (list,), "*total_bytes": SIZE + (NULL,), "smoke": STR + (NULL,),
               "reason": STR + (NULL,)}
CELL, STAGE, SMOKE, BUILD, CACHE, LANGUAGE, REFERENCE, TOP, TOOLS, FLEET, SHARED, ALTERNATIVE, FLEET_MEMBER = map(
    _fields, (CELL, STAGE, SMOKE, BUILD, CACHE, LANGUAGE, REFERENCE, TOP, TOOLS, FLEET, SHARED, ALTERNATIVE,
              FLEET_MEMBER))
SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


class ContentsError(ResultsError):
    """A field of results.json has the wrong type or is missing: the file is foreign or was edited."""


def results_text(results):
    """results.json's text: the top level indented, one cell per line (json's C encoder writes
    those; with an indent json falls back to its Python encoder, 10x slower on 7,000 cells)."""
    cells = results.get("cells")
    rest = json.dumps({k: v for k, v in results.items() if k != "cells"}, indent=1)
    if not isinstance(cells, list):
        return json.dumps(results, indent=1) + "\n"
    lines = ",\n".join("  " + json.dumps(c) for c in cells)
    cells_text = f' "cells": [\n{lines}\n ]' if cells else ' "cells": []'
    return (rest[:-2] + ",\n" if rest != "{}" else "{\n") + cells_text + "\n}\n"


def write_results(path, results):
    atomic_write_text(path, results_text(results))


def _is(value, types):
    kind = type(value)   # json makes exact types: no subclass to allow for
    if kind is int:
        return BYTES in types and 0 <= value <= MAX_SIZE
    return kind in types


def _wrong(path, where, value, types):
    want = " or ".join(NAMES[t] for t in types)
    got = NAMES[type(value)] if isinstance(value, (str, list, dict)) else json.dumps(value)[:30]
    return ContentsError(f"{path}: {where}: expected {want}, got {got}; not a results.json as sizekit writes it")


_MISSING = object()


def _check(path, obj, fields, where, index=None):
    """obj against a field table; where (with [index]) names it, worked out only for a message."""
    if type(obj) is not dict:
        raise _wrong(path, _at(where, index), obj, OBJ)
    get = obj.get
    for key, required, types in fields:
        value = get(key, _MISSING)
        kind = type(value)   # _is, inline: this runs for every field of every cell
        if kind in types or (kind is int and BYTES in types and 0 <= value <= MAX_SIZE):
            continue
        if value is _MISSING:
            if required:
                field = f"{_at(where, index)}.{key}" if where else key
                raise ContentsError(f"{path}: {field} is missing; not a results.json as sizekit writes it")
        else:
            raise _wrong(path, f"{_at(where, index)}.{key}" if where else key, value, types)


def _at(where, index):
    return where if index is None else f"{where}[{index}]"


def _check_list(path, items, fields, where):
    for i, item in enumerate(items):
        _check(path, item, fields, where, i)


def _check_sizes(path, sizes, where):
    """A {name: bytes} map: the sections of a stage, the crates of a cell."""
    for name, n in (sizes or {}).items():
        if type(n) is not int or not 0 <= n <= MAX_SIZE:
            raise _wrong(path, f"{where}[{name!r}]", n, SIZE)


def _check_cell(path, cell, where):
    _check(path, cell, CELL, where)
    for i, stage in enumerate(cell.get("stages", [])):
        _check(path, stage, STAGE, f"{where}.stages", i)
        if stage.get("sections"):
            _check_sizes(path, stage["sections"], f"{where}.stages[{i}].sections")
    _check_sizes(path, cell.get("crates"), f"{where}.crates")
    if cell.get("shared_libraries"):
        _check_list(path, cell["shared_libraries"], SHARED, f"{where}.shared_libraries")
    if cell.get("smoke"):
        _check(path, cell["smoke"], SMOKE, f"{where}.smoke")
    if cell.get("build"):
        _check(path, cell["build"], BUILD, f"{where}.build")
        if cell["build"].get("cache"):
            _check(path, cell["build"]["cache"], CACHE, f"{where}.build.cache")
            for lang, counts in (cell["build"]["cache"].get("languages") or {}).items():
                _check(path, counts, LANGUAGE, f"{where}.build.cache.languages.{lang}")


def json_values(text):
    """How many JSON values a text (str or bytes) holds at most, counted before it is parsed: every
    value but the first follows a comma or opens a list or object."""
    comma, bracket, brace = (b",", b"[", b"{") if isinstance(text, (bytes, bytearray)) else (",", "[", "{")
    return text.count(comma) + text.count(bracket) + text.count(brace)


def _parse(path):
    try:
        text = read_text(path, MAX_RESULTS_BYTES, "a results.json")
    except FileProblem as exc:
        raise ResultsError(exc.message(path, missing="not found; run doit first to build the matrix",
                                       directory="is a directory; pass the results.json file")) from None
    if json_values(text) > MAX_RESULTS_VALUES:
        raise ResultsError(f"{path}: holds more than {MAX_RESULTS_VALUES:,} values, the limit for a "
                           f"results.json (about 7,000 cells); check that this is the right file")
    try:
        data = json.loads(text)
    except RecursionError:
        raise ResultsError(f"{path}: not valid JSON (lists and objects nest too deeply)") from None
    except ValueError as exc:
        raise ResultsError(f"{path}: not valid JSON ({' '.join(str(exc).split())})") from None
    if SURROGATE.search(text):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ResultsError(f"{path}: a string holds a lone UTF-16 surrogate (\\ud800 to \\udfff); "
                               f"not a results.json as sizekit writes it") from None
        except RecursionError:
            raise ResultsError(f"{path}: not valid JSON (lists and objects nest too deeply)") from None
    return data


def load_results(path):
    """Read and check a results.json. Raises ResultsError naming the file."""
    return check_results(_parse(path), path)


def check_results(data, path):
    """Check parsed results (from a results.json or a snapshot) field by field; returns them.
    Raises ResultsError, or ContentsError for a field of the wrong type, naming path."""
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("cells"), list):
        raise ResultsError(f"{path}: not a sizekit results.json of version {VERSION}")
    if len(data["cells"]) > MAX_CELLS:
        raise ResultsError(f"{path}: holds {len(data['cells']):,} cells, over the limit of {MAX_CELLS:,} for a "
                           f"results.json; check that this is the right file")
    for i, cell in enumerate(data["cells"]):
        if not isinstance(cell, dict) or not all(k in cell for k in ("crate", "target", "variant", "status")):
            raise ResultsError(f"{path}: cells[{i}] lacks crate/target/variant/status")
    _check(path, data, TOP, "")
    if data.get("tools"):
        _check(path, data["tools"], TOOLS, "tools")
    for i, cell in enumerate(data["cells"]):
        _check_cell(path, cell, f"cells[{i}]")   # an f-string per cell: cheap next to its fields
    _check_list(path, data.get("references", []), REFERENCE, "references")
    for i, ref in enumerate(data.get("references", [])):
        if ref["status"] == "ok" and not _is(ref.get("stripped_bytes"), SIZE):
            raise _wrong(path, f"references[{i}].stripped_bytes", ref.get("stripped_bytes"), SIZE)
    for i, name in enumerate(data.get("variants", [])):
        if not _is(name, STR):
            raise _wrong(path, f"variants[{i}]", name, STR)
    _check_list(path, data.get("fleets", []), FLEET, "fleets")
    for i, fleet in enumerate(data.get("fleets", [])):
        _check_list(path, fleet.get("alternatives", []), ALTERNATIVE, f"fleets[{i}].alternatives")
        _check_list(path, fleet.get("members", []), FLEET_MEMBER, f"fleets[{i}].members")
        for where, names in [(f"fleets[{i}].cells", fleet["cells"])] + [
                (f"fleets[{i}].alternatives[{j}].cells", alt["cells"]) for j, alt in enumerate(fleet.get("alternatives", []))]:
            for k, name in enumerate(names):
                if not _is(name, STR):
                    raise _wrong(path, f"{where}[{k}]", name, STR)
    _check_values(path, data)
    check_names(path, data)
    data.setdefault("baseline", None)
    return data


def _value_problem(value):
    """Why one value of the document is not what sizekit writes, or None (containers: their keys)."""
    kind = type(value)
    if kind is str:
        if len(value) > MAX_TEXT:
            return f"a string of {len(value):,} characters, over the limit of {MAX_TEXT:,}"
    elif kind is int:
        if not -(1 << 63) <= value < 1 << 63:
            return f"a number of {len(str(abs(value))):,} digits, outside 64 bits"
    elif kind is float:
        if not math.isfinite(value):
            return f"{json.dumps(value)} is not a number sizekit writes"
    elif kind is dict:
        long = next((k for k in value if len(k) > MAX_NAME), None)
        if long is not None:
            return f"a key of {len(long):,} characters, over the limit of {MAX_NAME}"
    return None


def _check_values(path, data):
    """Every value of the document, whatever its key: strings of bounded length, numbers that
    fit 64 bits and are finite. One pass without recursion, each test inline (this runs once per
    value: a call each would double it); _value_problem words a value that fails, and the key
    path is worked out only then."""
    stack, low, high, text, name = [data], -(1 << 63), 1 << 63, MAX_TEXT, MAX_NAME
    pop, extend = stack.pop, stack.extend
    while stack:
        value = pop()
        kind = type(value)
        if kind is str:
            if len(value) <= text:
                continue
        elif kind is dict:
            if not value or max(map(len, value)) <= name:
                extend(value.values())
                continue
        elif kind is list:
            extend(value)
            continue
        elif kind is int:
            if low <= value < high:
                continue
        elif kind is float:
            if math.isfinite(value):
                continue
        else:
            continue
        problem = _value_problem(value) or "not a value sizekit writes"
        raise ContentsError(f"{path}: {_where(data, value) or 'top level'}: {problem}; {FOREIGN}")


def _where(data, target):
    """The key path of the object target inside data (by identity)."""
    stack = [("", data)]
    while stack:
        where, value = stack.pop()
        if value is target:
            return where
        if isinstance(value, dict):
            stack.extend((f"{where}.{k}" if where else k, v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(value))
    return ""


FOREIGN = "not a results.json as sizekit writes it"


def _name_problem(name, kind):
    if len(name) > MAX_NAME:
        return f"a {kind} name of {len(name):,} characters, over the limit of {MAX_NAME}"
    return crate_name_problem(name) if kind == "crate" else None


def check_names(path, data):
    """Names that become file names or table keys: bounded, safe, and each cell once."""
    seen: dict = {}
    for i, cell in enumerate(data["cells"]):
        for kind in ("crate", "target", "variant"):
            problem = _name_problem(cell[kind], kind)
            if problem:
                raise ContentsError(f"{path}: cells[{i}].{kind}: {problem}")
        for j, stage in enumerate(cell.get("stages") or []):
            problem = _name_problem(stage["step"], "step")
            if problem:
                raise ContentsError(f"{path}: cells[{i}].stages[{j}].step: {problem}")
        key = (cell["crate"], cell["target"], cell["variant"])
        if key in seen:
            raise ContentsError(f"{path}: cells[{seen[key]}] and cells[{i}] are both {'/'.join(key)}; "
                                f"a cell appears once, so this file was edited or joined by hand")
        seen[key] = i
    for i, ref in enumerate(data.get("references") or []):
        problem = _name_problem(ref["crate"], "crate")
        if problem:
            raise ContentsError(f"{path}: references[{i}].crate: {problem}")
