"""Safe YAML loading that remembers the line of every key, for error messages.

Hostile YAML is refused with one line before it can cost time, memory or a RecursionError:
lists and mappings nested over MAX_DEPTH levels, over MAX_NODES values (counted again at
every alias use, so an alias bomb stops early), over MAX_ALIASES alias uses, or a value over
MAX_SCALAR characters. The depth, count and length limits are checked while composing, before
PyYAML's recursive composer goes deeper, and again while walking the node graph. Merge keys
(`<<: *defaults`) work: the mapping's own keys win, then earlier merged mappings.
"""
import yaml

from ..utils import limits
from ..utils.errors import MatrixError

MAX_DEPTH = limits.MATRIX_DEPTH.value       # a matrix nests about 7 levels deep
MAX_NODES = limits.MATRIX_VALUES.value      # a matrix has a few hundred values
MAX_ALIASES = limits.MATRIX_ALIASES.value
MAX_SCALAR = limits.MATRIX_SCALAR.value

MAP_TAG, SEQ_TAG, MERGE_TAG = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:merge")
PLAIN_TAGS = (MAP_TAG, SEQ_TAG)

TOO_DEEP = f"lists and mappings nest more than {MAX_DEPTH} levels deep; a matrix needs fewer than 10, so flatten it"
TOO_MANY = f"more than {MAX_NODES:,} values; a matrix has a few hundred, so check that this is the right file"
EXPANDS = (f"aliases expand this file to more than {MAX_NODES:,} values (an alias bomb?); use fewer aliases, "
           f"or share settings between variants with from:")
CYCLE = "an alias refers to a list or mapping that contains it; remove that alias"


class Located:
    """Loaded YAML data plus a map from key path (a tuple) to its 1-based line."""

    def __init__(self, data, lines, filename):
        self.data = data
        self.lines = lines
        self.filename = filename

    def line_of(self, path):
        """Line of the nearest known ancestor of path (the file's first line at worst)."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


class Refused(Exception):
    """The YAML is over a limit; mark is where."""

    def __init__(self, mark, reason, line=None):
        super().__init__(reason)
        self.line = line or mark.line + 1
        self.reason = reason


class GuardedLoader(yaml.SafeLoader):
    """SafeLoader whose composer stops at the limits, before its recursion or memory use grows."""

    def __init__(self, text):
        super().__init__(text)
        self.depth = self.nodes = self.aliases = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise Refused(event.start_mark, TOO_MANY)
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise Refused(event.start_mark, f"more than {MAX_ALIASES} alias uses (*{event.anchor}); write the "
                                                f"values out, or share settings between variants with from:")
        elif isinstance(event, yaml.ScalarEvent) and len(event.value) > MAX_SCALAR:
            raise Refused(event.start_mark, f"a value of {len(event.value):,} characters is over the "
                                            f"{MAX_SCALAR:,}-character limit; shorten it")
        if self.depth >= MAX_DEPTH:
            raise Refused(event.start_mark, TOO_DEEP)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _line(node):
    return node.start_mark.line + 1


class Walker:
    """Turns the composed node graph into plain data, recording lines and problems, within the limits."""

    def __init__(self, loader, filename):
        self.loader = loader
        self.filename = filename
        self.lines = {}
        self.problems = []
        self.count = 0
        self.open = set()  # ids of the collections being walked: an alias to one of them is a cycle

    def problem(self, node, path, text):
        self.problems.append(f"{self.filename}:{_line(node)}: {_fmt(path) or '(top level)'}: {text}")

    def tally(self, node, path, n=1):
        """Count n more values; past MAX_NODES, refuse at the line of the top-level key being expanded."""
        self.count += n
        if self.count > MAX_NODES:
            raise Refused(node.start_mark, EXPANDS, self.lines.get(path[:1]))

    def walk(self, node, path):
        self.tally(node, path)
        self.lines.setdefault(path, _line(node))
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if node.tag not in PLAIN_TAGS:
            self.problem(node, path, f"unsupported YAML tag {node.tag!r}; matrix files are plain YAML, remove the tag")
            return None
        if id(node) in self.open:
            raise Refused(node.start_mark, CYCLE)
        if len(path) >= MAX_DEPTH:
            raise Refused(node.start_mark, TOO_DEEP)
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.walk(item, path + (i,)) for i, item in enumerate(node.value)]
            out = {}
            for key, key_node, value_node in self.pairs(node, path):
                if key_node is None:
                    out[key] = self.walk(value_node, path + (key,))
                elif key in out:
                    self.problem(key_node, path + (key,), f"duplicate key (first at line "
                                                          f"{self.lines[path + (key,)]}); remove one")
                else:
                    self.lines[path + (key,)] = _line(key_node)
                    out[key] = self.walk(value_node, path + (key,))
            return out
        finally:
            self.open.discard(id(node))

    def pairs(self, node, path):
        """(key, key node, value node) of a mapping: merged keys first (key node None), then its own."""
        merged: dict
        own, merged = [], {}
        for key_node, value_node in node.value:
            if key_node.tag != MERGE_TAG:
                key = self.key(key_node, path)
                if key is not None:
                    own.append((key, key_node, value_node))
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode) or source.tag != MAP_TAG:
                    self.problem(source, path, "a merge key (<<) takes an alias of a mapping, or a list of them")
                    continue
                if id(source) in self.open:
                    raise Refused(source.start_mark, CYCLE)
                self.tally(source, path, len(source.value) + 1)
                self.open.add(id(source))
                for key, _, value in self.pairs(source, path):
                    merged.setdefault(key, value)
                self.open.discard(id(source))
        names = {key for key, _, _ in own}
        return [(k, None, v) for k, v in merged.items() if k not in names] + own

    def key(self, node, path):
        problems = len(self.problems)
        key = self.scalar(node, path) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(key, (str, int, float, bool)):
            if len(self.problems) == problems:
                self.problem(node, path, "keys must be plain strings")
            return None
        return str(key)

    def scalar(self, node, path):
        try:
            value = self.loader.construct_object(node, deep=True)
            if isinstance(value, int) and not -(1 << 63) <= value < 1 << 63:
                raise ValueError("over 64 bits")  # str() of one could raise, e.g. in a message
            return value
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:
            kind = node.tag.rsplit(":", 1)[-1]
            text = node.value if len(node.value) <= 40 else node.value[:40] + "..."
            self.problem(node, path, f"cannot read {text!r} as a YAML {kind} ({exc}); quote it if it is text")
            return None


def _fmt(path):
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


format_path = _fmt


def load_located(text, filename):
    """Parse YAML text with the safe loader, within the limits. Raises MatrixError (one line) on bad YAML."""
    loader = None
    try:
        loader = GuardedLoader(text)
        node = loader.get_single_node()
        if node is None:
            return Located(None, {(): 1}, filename)
        walker = Walker(loader, filename)
        data = walker.walk(node, ())
    except Refused as exc:
        raise MatrixError([f"{filename}:{exc.line}: {exc.reason}"]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise MatrixError([f"{filename}:{line}: unprintable character U+{exc.character:04X} is not allowed "
                           f"in YAML; remove it"]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or "syntax error"
        raise MatrixError([f"{filename}:{line}: YAML syntax error: {what}; fix the YAML syntax"]) from None
    except yaml.YAMLError as exc:
        raise MatrixError([f"{filename}:1: YAML error: {' '.join(str(exc).split())}"]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if walker.problems:
        raise MatrixError(walker.problems)
    return Located(data, walker.lines, filename)
