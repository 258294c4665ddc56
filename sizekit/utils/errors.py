"""Error classes. Each fatal class carries its own process exit status."""


class SizekitError(Exception):
    """Base class for errors sizekit reports to the user without a traceback."""

    exit_code = 1


class UsageError(SizekitError):
    """Bad command-line arguments or bad input files (exit 2)."""

    exit_code = 2


class MatrixError(UsageError):
    """matrix.yaml is invalid. Holds every problem found, each already formatted."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class ElfError(UsageError):
    """A file is not a readable ELF object (bad magic, truncated, lying headers)."""

    def __init__(self, path, reason):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class ResultsError(UsageError):
    """results.json is missing, malformed or of an unknown version."""
