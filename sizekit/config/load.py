"""Read a matrix file from disk and hand its text to the validator."""
import os

from ..utils import limits
from ..utils.errors import MatrixError
from ..utils.host import host_triple
from ..utils.safeio import FileProblem, read_text
from .matrix import parse_matrix

# A real matrix is a few KB; the YAML limits (depth, values, aliases) are in yamlsafe.
MAX_MATRIX_BYTES = limits.MATRIX_BYTES.value


def load_matrix(path, host=None):
    """Read, validate and resolve a matrix file. Raises MatrixError listing every problem."""
    if host is None:
        host = host_triple()
    path = os.path.abspath(path)
    shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
    try:
        text = read_text(path, MAX_MATRIX_BYTES, "a matrix file")
    except FileProblem as exc:
        raise MatrixError([exc.message(
            shown, missing="matrix file not found; create it or pass matrix=PATH",
            directory=f"is a directory; pass the matrix file, e.g. {os.path.join(shown, 'matrix.yaml')}")]) from None
    return parse_matrix(text, shown, root=os.path.dirname(path), host=host, abspath=path)
