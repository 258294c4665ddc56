"""A toolpath folder: sizekit.py here is the SCons tool "sizekit" (see sizekit.scons.TOOLPATH)."""
