"""sizekit: declarative size matrices for Rust binaries."""
import os
import sys

from setuptools import setup, find_packages
from setuptools.command.build_ext import build_ext


class OptionalNativeBuild(build_ext):
    """Build the C module; without a working C compiler, install its pure-Python port only.

    sizekit then warns on every run until SIZEKIT_BACKEND=python says the slow path is meant.
    SIZEKIT_REQUIRE_C=1 makes a failed C build fail the install (CI and scripts/install set it).
    """

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # distutils raises several unrelated types for a missing compiler
            if os.environ.get("SIZEKIT_REQUIRE_C") == "1":
                raise
            print(f"sizekit: WARNING: the C module {ext.name} did not build ({exc}); installing without "
                  f"it. sizekit will use its pure-Python backend (set SIZEKIT_BACKEND=python).",
                  file=sys.stderr)

setup(
    name="sizekit",
    version="0.1.0",
    description="Build, shrink, measure and report Rust binary sizes from a matrix.yaml",
    packages=find_packages(include=["sizekit", "sizekit.*"]),
    package_data={"sizekit": ["py.typed"]},   # the package's type hints are for its users too (PEP 561)
    python_requires=">=3.9",
    setup_requires=["cffi>=1.15"],
    install_requires=["doit>=0.36", "cffi>=1.15", "pyelftools>=0.29", "pyyaml>=6", "zstandard>=0.20", "numpy>=1.22",
                      "matplotlib>=3.5"],
    extras_require={
        # rustc-demangle via pyderust makes `sizekit bloat` fast; without it c++filt is used.
        "demangle": ["pyderust>=1.0"],
        # The SCons driver (sizekit.scons) needs SCons itself.
        "scons": ["scons>=4"],
        # `sizekit explore` asks optuna's samplers for points and keeps its study in optuna's storage.
        "explore": ["optuna>=3.6"],
        "test": ["pytest", "hypothesis", "xxhash", "matplotlib", "pyderust>=1.0", "scons>=4", "mypy>=1.8", "optuna>=3.6"],
    },
    cffi_modules=["sizekit/elf/_build.py:ffibuilder"],
    entry_points={
        "console_scripts": ["sizekit=sizekit.cli.main:main"],
        # A doit state backend that commits per task, so kill -9 loses nothing finished.
        "doit.BACKEND": ["sizekit=sizekit.drivers.doit.statedb:DurableSqliteDB"],
    },
    cmdclass={"build_ext": OptionalNativeBuild},
    zip_safe=False,
)
