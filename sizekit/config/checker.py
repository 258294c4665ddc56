"""The validator's toolkit: collect every problem with its file, line and key path."""
import difflib
import string

from ..utils.names import is_plain_name
from ..utils.units import parse_size
from .yamlsafe import format_path



def suggest(word, choices, cutoff=0.6):
    """' (did you mean "x"?)' for a near miss, else ''."""
    close = difflib.get_close_matches(str(word), [c for c in choices if isinstance(c, str)], n=1, cutoff=cutoff)
    return f' (did you mean "{close[0]}"?)' if close else ""


class Checker:
    def __init__(self, located):
        self.loc = located
        self._found = []

    def err(self, path, message):
        line = self.loc.line_of(path)
        self._found.append((line, len(self._found),
                            f"{self.loc.filename}:{line}: {format_path(path) or '(top level)'}: {message}"))

    @property
    def problems(self):
        return [text for _, _, text in sorted(self._found)]

    def mapping(self, value, path, allowed, required=()):
        """Check value is a mapping with known keys. Returns it (or {} when it is not a mapping)."""
        if not isinstance(value, dict):
            self.err(path, f"expected a mapping, got {typename(value)}")
            return {}
        for key in value:
            if key not in allowed:
                self.err(path + (key,), f"unknown key{suggest(key, allowed)}; allowed: {', '.join(allowed)}")
        for key in required:
            if key not in value:
                self.err(path, f"missing required key \"{key}\"")
        return value

    def string(self, value, path):
        if isinstance(value, str) and value:
            return True
        self.err(path, f"expected a non-empty string, got {typename(value)}")
        return False

    def str_list(self, value, path, allow_scalar=False):
        if allow_scalar and isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            self.err(path, f"expected a list of strings, got {typename(value)}")
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, str) and item:
                out.append(item)
            else:
                self.err(path + (i,), f"expected a string, got {typename(item)}")
        return out

    def str_map(self, value, path):
        if not isinstance(value, dict):
            self.err(path, f"expected a mapping of names to strings, got {typename(value)}")
            return {}
        out = {}
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                self.err(path + (k,), f"expected a string, got {typename(v)}")
            else:
                out[k] = str(v)
        return out

    def size(self, value, path):
        """A size (8MiB, 7.5MB, 8388608) in bytes, or None when it is not one (reported)."""
        try:
            return parse_size(value)
        except ValueError as exc:
            self.err(path, f"{exc}")
            return None

    def boolean(self, value, path):
        if isinstance(value, bool):
            return True
        self.err(path, f"expected true or false, got {typename(value)}")
        return False

    def name(self, value, path, what):
        if not isinstance(value, str) or not value:
            self.err(path, f"{what} name must be a non-empty string, got {typename(value)}")
            return False
        if not is_plain_name(value):
            self.err(path, f"{what} name {value!r} may only use letters, digits, '.', '_', '+' and '-' "
                           f"(no '/', '..', spaces or shell characters); rename it")
            return False
        return True

    def placeholders(self, text, path, allowed):
        """Check the {name} placeholders in a command word or env value: the allowed names only."""
        names = ["{" + name + "}" for name in allowed]
        known = ", ".join(names[:-1]) + " or " + names[-1]
        try:
            fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text)
                      if name is not None]
        except ValueError as exc:
            self.err(path, f"cannot read the placeholders in {text!r} ({exc}); write {{{{ or }}}} for a literal brace")
            return
        for name, spec, conv in fields:
            if name not in allowed:
                self.err(path, f"unknown placeholder {{{name}}}{suggest(name, allowed)}; "
                               f"use {known} (write {{{{ or }}}} for a literal brace)")
            elif spec or conv:
                self.err(path, f"placeholder {{{name}}} takes no format or conversion; write {{{name}}}")


def typename(value):
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (bool)"
    if isinstance(value, (dict, list)):
        return type(value).__name__
    return f"{value!r} ({type(value).__name__})"
