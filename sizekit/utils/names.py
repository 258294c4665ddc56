"""What a name in a matrix or a results.json may be: report files and folders are named after them."""
import re

# Crate, toolchain and variant names, and artifact names: no '/', spaces or shell characters.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
# Report files are named after crates; this one is the all-crates table (report/publish.py).
RESERVED_CRATES = ("crates",)


def is_plain_name(name):
    """Whether name can name a file or folder as it is: NAME_RE's characters, and no '..'."""
    return bool(NAME_RE.match(name)) and ".." not in name


def crate_name_problem(name):
    """Why a crate name cannot name its report file, or None."""
    if not is_plain_name(name):
        return (f"crate name {name[:40]!r} cannot name a report file (letters, digits and . _ + - only); "
                f"rename the crate in the matrix")
    if name in RESERVED_CRATES:
        return f"crate name {name!r} is the all-crates table's ({name}.md); rename the crate in the matrix"
    return None
