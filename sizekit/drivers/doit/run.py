"""`sizekit run`: doit without a dodo.py, on sizekit's own task generator."""
import os

from doit import loader
from doit.cmd_base import ModuleTaskLoader
from doit.doit_cmd import DoitMain

from .runlock import doit_command
from .tasks import matrix_tasks


def run_doit(matrix_path, doit_args, shard=None, matrix=None):
    """Run doit (any of its commands and options) on the matrix, or on shard (K, N) of it.
    matrix: the file already read (a Matrix). Returns doit's exit status."""
    loader.initial_workdir = os.getcwd()
    if doit_args and doit_args[0] == "--":
        doit_args = doit_args[1:]
    namespace = matrix_tasks(matrix_path, command=doit_command(doit_args), shard=shard, matrix=matrix)
    return DoitMain(ModuleTaskLoader(namespace)).run(doit_args)
