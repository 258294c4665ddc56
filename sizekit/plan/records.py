"""The records a plan's nodes leave in the output's state folder, one dataclass each, with a version.

The class that writes a record reads it back: `Record.write(path)` stores `to_json()` (with its
kind and version, rewritten only when it changes, so an identical outcome leaves everything
downstream up to date) and `Record.read(path)` checks every field against the class's own
type hints. A record that is missing reads as None; one that is not what this version of
sizekit writes raises RecordError, one line naming the file, the field and the fix. Up-to-date
checks treat that as "out of date" (the node runs again and rewrites it); the report refuses it.

Where each record lives is Layout's business (sizekit.plan.layout); what it holds is here.
"""
import dataclasses
import typing
from dataclasses import dataclass, field
from typing import ClassVar, Optional

from ..utils.errors import UsageError
from ..utils.fsutil import read_json, write_json_if_changed
from ..utils.jsontypes import TYPE_NAMES


class RecordError(UsageError):
    """A record in the state folder is not one this sizekit wrote (exit 2)."""


def _accepts(hint, value):
    """Whether value (from JSON) fits a field's type hint: str, int, float, bool, dict, list, Optional."""
    if hint is typing.Any:
        return True
    origin = typing.get_origin(hint)
    if origin is typing.Union:
        return any(_accepts(h, value) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    base = origin or hint
    if base is float:
        return type(value) in (int, float)
    if base is int:
        return type(value) is int
    return type(value) is base


def _json_type_name(hint):
    return TYPE_NAMES.get(typing.get_origin(hint) or hint, str(hint))


def _json_type(value):
    return TYPE_NAMES.get(type(value), type(value).__name__)


@dataclass
class Record:
    KIND: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1

    def to_json(self):
        return {"record": self.KIND, "version": self.VERSION, **dataclasses.asdict(self)}

    def present(self):
        """The fields as a dict, without optional ones that are None (as results.json shows them)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) is not None or (f.default is dataclasses.MISSING
                                                         and f.default_factory is dataclasses.MISSING)}

    def write(self, path):
        write_json_if_changed(path, self.to_json())
        return self

    @classmethod
    def from_json(cls, data, path):
        fix = "run the build again to rewrite it, or `sizekit clean` the output"
        if not isinstance(data, dict) or data.get("record") != cls.KIND or data.get("version") != cls.VERSION:
            got = data.get("version") if isinstance(data, dict) and data.get("record") == cls.KIND else None
            why = f"version {got}" if got is not None else "another kind of file"
            raise RecordError(f"{path}: not a {cls.KIND} record of version {cls.VERSION} ({why}); {fix}")
        hints = typing.get_type_hints(cls)
        values = {}
        for f in dataclasses.fields(cls):
            if f.name not in data:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    raise RecordError(f"{path}: {cls.KIND} record lacks {f.name}; {fix}")
                continue
            if not _accepts(hints[f.name], data[f.name]):
                raise RecordError(f"{path}: {cls.KIND} record's {f.name} is {_json_type(data[f.name])}, not "
                                  f"{' or '.join(map(_json_type_name, typing.get_args(hints[f.name]) or [hints[f.name]]))}; {fix}")
            values[f.name] = data[f.name]
        unknown = set(data) - set(values) - {"record", "version"} - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise RecordError(f"{path}: {cls.KIND} record has unknown field {sorted(unknown)[0]}; {fix}")
        return cls(**values)

    @classmethod
    def read(cls, path):
        """The record at path, None when there is none, or RecordError when it is not this kind."""
        data = read_json(path)
        return None if data is None else cls.from_json(data, path)

    @classmethod
    def read_or_none(cls, path):
        """The record at path, or None when it is missing or not this kind (up-to-date checks: run again)."""
        try:
            return cls.read(path)
        except RecordError:
            return None


STATUSES = ("ok", "failed", "unavailable")


@dataclass
class StageRecord(Record):
    """What a build or post step produced: its artifact's bytes, hash and sections, or why not."""
    KIND: ClassVar[str] = "stage"
    status: str
    step: str
    reason: Optional[str] = None
    path: Optional[str] = None            # the artifact, relative to the matrix folder
    log: Optional[str] = None
    tail: Optional[str] = None
    bytes: Optional[int] = None
    hash: Optional[str] = None
    sections: Optional[dict] = None
    vm_bytes: Optional[int] = None
    nonalloc_bytes: Optional[int] = None

    @classmethod
    def from_json(cls, data, path):
        record = super().from_json(data, path)
        if record.status not in STATUSES:
            raise RecordError(f"{path}: stage record's status is {record.status!r}, not one of "
                              f"{', '.join(STATUSES)}; run the build again to rewrite it")
        if record.status == "ok" and record.path is None:
            raise RecordError(f"{path}: stage record is ok but names no artifact; run the build again")
        return record

    @property
    def ok(self):
        return self.status == "ok"


@dataclass
class CellRecord(Record):
    """One cell measured (stages/measure.py): its outcome, stages, bytes, crates and UPX estimate;
    results.json's cell is this plus the build, smoke and change figures collect adds. Its version
    is part of every measurement's signature: raise it and every driver measures every cell again."""
    KIND: ClassVar[str] = "cell"
    VERSION: ClassVar[int] = 3
    crate: str
    target: str
    variant: str
    label: Optional[str]
    status: str
    reason: Optional[str]
    log: Optional[str]
    tail: Optional[str]
    stages: list
    final_bytes: Optional[int]
    upx_estimate_bytes: Optional[int]
    crates: Optional[dict] = None
    crates_error: Optional[str] = None
    upx_estimate_level: Optional[str] = None
    upx_estimate_other_bytes: Optional[int] = None
    upx_refusal: Optional[str] = None
    upx_estimate_error: Optional[str] = None


@dataclass
class BuildMeta(Record):
    """How a cargo build ran: its command, time, compile-cache figures and the sources it read."""
    KIND: ClassVar[str] = "build"
    key: str
    name: str
    toolchain: Optional[str]              # None: the cargo on PATH
    variants: list = field(default_factory=list)
    rustc: Optional[str] = None
    seconds: Optional[float] = None
    command: Optional[list] = None
    log: Optional[str] = None
    cache: Optional[dict] = None
    artifact: Optional[str] = None
    deps: Optional[dict] = None           # source path -> [mtime_ns, size] when the build read it
    shared: Optional[dict] = None         # shared libraries shipped beside it (prefer-dynamic): name -> bytes


@dataclass
class SmokeRecord(Record):
    """Whether the cell's final artifact ran and answered (ok None: not run, and why)."""
    KIND: ClassVar[str] = "smoke"
    ok: Optional[bool]
    detail: str
    log: Optional[str] = None


@dataclass
class ReferenceRecord(Record):
    """The C reference build of a crate for a target: its bytes plain and stripped, or why not."""
    KIND: ClassVar[str] = "reference"
    name: str
    status: str
    reason: Optional[str] = None
    path: Optional[str] = None
    bytes: Optional[int] = None
    stripped_bytes: Optional[int] = None
    log: Optional[str] = None
    tail: Optional[str] = None
