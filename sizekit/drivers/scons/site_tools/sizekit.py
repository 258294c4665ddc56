"""The SCons tool "sizekit": tools=["sizekit"] with toolpath=[sizekit.scons.TOOLPATH], or copy
this file to site_scons/site_tools/sizekit.py.

SCons files a tool module in sys.modules under the tool's name ("sizekit") and puts the tool's
folder first on sys.path while it runs, so both would find this file instead of the sizekit
package. The shim steps aside for the import; sizekit.scons.generate keeps the name afterwards.
"""
import os
import sys

if __name__ == "sizekit":
    _here = os.path.dirname(os.path.abspath(__file__))
    _path = list(sys.path)
    sys.modules.pop(__name__, None)
    sys.path[:] = [p for p in _path if os.path.abspath(p or os.curdir) != _here]
    try:
        from sizekit.scons import exists, generate  # noqa: F401
    finally:
        sys.path[:] = _path
else:
    from sizekit.scons import exists, generate  # noqa: F401

__all__ = ["exists", "generate"]
