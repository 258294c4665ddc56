"""A toolpath folder: sizematrix.py here is the SCons tool "sizematrix" (see sizekit.scons.TOOLPATH)."""
