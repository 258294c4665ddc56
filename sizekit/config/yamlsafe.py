"""Safe YAML loading that remembers the line of every key, for error messages."""
import yaml

from ..utils.errors import MatrixError


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


def _scalar(loader, node):
    return loader.construct_object(node, deep=True)


PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _walk(loader, node, path, lines, problems, filename):
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in PLAIN_TAGS:
        problems.append(f"{filename}:{node.start_mark.line + 1}: {_fmt(path) or '(top level)'}: "
                        f"unsupported YAML tag {node.tag!r}; matrix files are plain YAML, remove the tag")
        return None
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            key = _scalar(loader, key_node)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                problems.append(f"{filename}:{key_node.start_mark.line + 1}: "
                                f"{_fmt(path) or '(top level)'}: keys must be plain strings")
                continue
            key = str(key)
            if key in out:
                problems.append(f"{filename}:{key_node.start_mark.line + 1}: "
                                f"{_fmt(path + (key,))}: duplicate key (first at line "
                                f"{lines[path + (key,)]}); remove one")
                continue
            lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _walk(loader, value_node, path + (key,), lines, problems, filename)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(loader, item, path + (i,), lines, problems, filename)
                for i, item in enumerate(node.value)]
    return _scalar(loader, node)


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
    """Parse YAML text with the safe loader. Raises MatrixError on syntax errors."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(None, {(): 1}, filename)
        problems = []
        lines = {}
        data = _walk(loader, node, (), lines, problems, filename)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or "syntax error"
        raise MatrixError([f"{filename}:{line}: YAML syntax error: {what}; fix the YAML syntax"]) from None
    except yaml.YAMLError as exc:
        raise MatrixError([f"{filename}:1: YAML error: {exc}"]) from None
    finally:
        loader.dispose()
    if problems:
        raise MatrixError(problems)
    return Located(data, lines, filename)
