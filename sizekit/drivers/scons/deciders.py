"""Signatures SCons cannot take from files: cargo's sources by content, and a stage's last outcome.

Every sizekit node is decided by content (Decider('content')). Stage records hold content hashes
and no timestamps, so a relink to identical bytes leaves everything downstream up to date. Two
inputs are not files SCons can see, and each becomes a Value node (a *marker*) whose signature
sizekit sets itself:

* cargo's sources. The build meta lists every file cargo's dep-info names. After a build the
  driver keeps each one's content hash (under the state folder). On the next run the marker's
  signature is the digest of those hashes while every file still has that content (a touched
  file is hashed once, then its new mtime is remembered), and CHANGED otherwise. So a touch runs
  no cargo, an edit runs cargo for the builds that read the file, and a build without dep-info
  always asks cargo.
* the last outcome. A stage whose last run failed (or whose record is unreadable) gets RERUN,
  which differs from any signature stored after a run, so it is retried, as under doit.

SCons stores the signatures it read before the node ran. On a cold build there is no dep-info
before cargo runs, so the action *settles* each marker when its stage returns: it sets the
marker's signature to what the next run will compute when nothing changes.
"""
import contextlib
import hashlib
import json
import os

from ...plan.records import BuildMeta
from ...stages.build import source_stamp
from ...utils.fsutil import read_json, write_json_if_changed
from ..nodes import OK as NODE_OK, content_hash

OK = "ok"
FAILED = "failed"
UNAVAILABLE = "unavailable"
RERUN = "rerun: the last run failed or left no readable record"
CHANGED = "changed: a source cargo read has other contents now, or there is no dep-info to tell"


def marker(env, text, now, settle):
    """A Value node named text, with signature now; settle() gives its signature after the run."""
    node = env.Value(text)
    node.get_ninfo().csig = now
    node.attributes.sizekit_settle = settle
    return node


def settle(nodes):
    """After a node's stage ran: give each of its markers the signature the next run expects."""
    for node in nodes:
        after = getattr(node.attributes, "sizekit_settle", None)
        if after is not None:
            node.get_ninfo().csig = after()


# --- cargo's sources ---

def _digest(entries):
    pairs = sorted((path, entry[1]) for path, entry in entries.items())
    return "sources " + hashlib.sha256(json.dumps(pairs).encode()).hexdigest()[:20]


def sources_file(layout, key):
    """Where the driver keeps the content hashes of a build's sources (scheduler state)."""
    return layout.state("scons", "sources", f"{key}.json")


def record_sources(layout, key):
    """After a build: hash every source its dep-info lists. Returns the marker's signature."""
    path = sources_file(layout, key)
    meta = BuildMeta.read_or_none(layout.build_meta(key))
    deps = meta.deps if meta is not None else None
    if not isinstance(deps, dict) or not deps:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return CHANGED
    entries = {}
    for source, stamp in deps.items():
        # A file that moved after cargo's build was stamped gets no hash: the next run rebuilds.
        now = source_stamp(source)
        entries[source] = [stamp, content_hash(source) if now is not None and now == stamp else None]
    write_json_if_changed(path, {"deps": entries})
    return _digest(entries)


def sources_now(layout, key):
    """(signature, changed paths) of the sources the last build of key read, as they are now."""
    path = sources_file(layout, key)
    record = read_json(path)
    entries = record.get("deps") if isinstance(record, dict) else None
    if not isinstance(entries, dict) or not entries:
        return CHANGED, []
    changed, moved = [], False
    for source, entry in entries.items():
        if not (isinstance(entry, list) and len(entry) == 2):
            return CHANGED, [source]
        stamp, digest = entry
        now = source_stamp(source)
        if now == stamp and digest is not None:
            continue
        if now is None or digest is None or content_hash(source) != digest:
            changed.append(source)
        else:
            entry[0] = now
            moved = True
    if changed:
        return CHANGED, changed
    if moved:
        write_json_if_changed(path, record)  # a touched file is hashed once, not on every run
    return _digest(entries), []


def build_now(layout, node):
    """(signature, changed paths) of a build node's marker before the run."""
    if node.outcome() != NODE_OK:
        return RERUN, []
    return sources_now(layout, node.cargo_sources)


def build_settled(layout, node):
    if node.outcome() != NODE_OK:
        return FAILED
    return record_sources(layout, node.cargo_sources)


# --- the last outcome of other nodes ---

def outcome_now(ok):
    return OK if ok() else RERUN


def outcome_settled(ok):
    return OK if ok() else FAILED
