"""The SCons tool "sizematrix", named after the builder it adds (env.SizeMatrix): tools=["sizematrix"]
with toolpath=[sizekit.scons.TOOLPATH], or this file copied to site_scons/site_tools/sizematrix.py.
Its name is not the package's, so the import below finds the sizekit package whatever SCons does."""
from sizekit.scons import exists, generate  # noqa: F401

__all__ = ["exists", "generate"]
