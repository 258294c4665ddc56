"""sizekit's SCons tool: every cell of a size matrix as SCons targets.

In an SConstruct::

    import sizekit.scons
    env = Environment(tools=["default", sizekit.scons.tool])
    env.SizeMatrix("matrix.yaml")          # returns the nodes; aliases: sizes, size-report, <crate>

`tool` is a regular SCons tool (generate, exists). The same tool loads by name, as
tools=["sizematrix"] (named after the builder it adds), from toolpath=[sizekit.scons.TOOLPATH]
or from a copy of that folder's sizematrix.py under site_scons/site_tools/. docs/SCONS.md has
the aliases and options.
"""
import os

from .drivers.scons import tool as _tool

TOOLPATH = os.path.join(os.path.dirname(os.path.abspath(_tool.__file__)), "site_tools")


def generate(env):
    """Add env.SizeMatrix and the --clean-cargo option."""
    _tool.generate(env)


def exists(env):
    return _tool.exists(env)


class _Tool:
    """The tool as an object: Environment(tools=[tool]) calls it; it has generate and exists."""

    name = "sizematrix"

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
