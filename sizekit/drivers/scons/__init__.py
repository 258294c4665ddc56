"""The SCons driver: a size matrix as SCons nodes, each calling one stage function.

    tool.py       generate/exists, the SizeMatrix method, --clean-cargo
    nodes.py      plan -> SCons targets, sources, aliases and clean lists
    actions.py    the one SCons action every node runs (a stage function), and what -n prints
    deciders.py   what SCons cannot see: cargo's dep-info sources by content, retrying failed stages

Users load it through sizekit.scons (see docs/SCONS.md). Only this package and sizekit/scons.py
import SCons.
"""
