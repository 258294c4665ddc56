"""The doit driver, as a project's dodo.py imports it (a stable public name).

    from sizekit.tasks import matrix_tasks
    globals().update(matrix_tasks("matrix.yaml"))
"""
from .drivers.doit.tasks import matrix_tasks

__all__ = ["matrix_tasks"]
