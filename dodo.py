"""Build the size matrix with doit: `doit`, or `doit matrix=path/to/matrix.yaml`."""
from sizekit.tasks import matrix_tasks

globals().update(matrix_tasks("matrix.yaml"))
