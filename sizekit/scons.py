"""sizekit's SCons tool: every cell of a size matrix as SCons targets.

In an SConstruct::

    import sizekit.scons
    env = Environment(tools=["default", sizekit.scons.tool])
    env.SizeMatrix("matrix.yaml")          # returns the nodes; aliases: sizes, size-report, <crate>

`tool` is a regular SCons tool (generate, exists). The same tool loads by name, as
tools=["sizekit"], from toolpath=[sizekit.scons.TOOLPATH] or from a copy of the shim in that
folder under site_scons/site_tools/. docs/SCONS.md has the aliases and options.
"""
import os
import sys

# The sizekit package itself: a tool module SCons loads by name ("sizekit") is filed in
# sys.modules under that name and hides the package; generate() gives the name back.
PACKAGE = sys.modules[__package__]

from .drivers.scons import tool as _tool  # noqa: E402

TOOLPATH = os.path.join(os.path.dirname(os.path.abspath(_tool.__file__)), "site_tools")


def generate(env):
    """Add env.SizeMatrix and the --clean-cargo option."""
    if sys.modules.get(PACKAGE.__name__) is not PACKAGE:
        sys.modules[PACKAGE.__name__] = PACKAGE
    _tool.generate(env)


def exists(env):
    return _tool.exists(env)


class _Tool:
    """The tool as an object: Environment(tools=[tool]) calls it; it has generate and exists."""

    name = "sizekit"

    def __call__(self, env, *args, **kw):
        generate(env)

    @staticmethod
    def generate(env):
        generate(env)

    @staticmethod
    def exists(env):
        return exists(env)

    def __repr__(self):
        return "<sizekit SCons tool>"


tool = _Tool()
