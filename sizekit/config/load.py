"""Read a matrix file from disk and hand its text to the validator."""
import os

from ..utils.errors import MatrixError
from ..utils.host import host_triple
from .matrix import parse_matrix


def load_matrix(path, host=None):
    """Read, validate and resolve a matrix file. Raises MatrixError listing every problem."""
    if host is None:
        host = host_triple()
    path = os.path.abspath(path)
    shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
    if os.path.isdir(path):
        raise MatrixError([f"{shown}: is a directory; pass the matrix file, e.g. {os.path.join(shown, 'matrix.yaml')}"])
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise MatrixError([f"{shown}: matrix file not found; create it or pass matrix=PATH"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MatrixError([f"{shown}: cannot read: {exc}"]) from None
    return parse_matrix(text, shown, root=os.path.dirname(path), host=host, abspath=path)
