"""sizekit: declarative size matrices for Rust binaries."""
from setuptools import setup, find_packages

setup(
    name="sizekit",
    version="0.1.0",
    description="Build, shrink, measure and report Rust binary sizes from a matrix.yaml",
    packages=find_packages(include=["sizekit", "sizekit.*"]),
    python_requires=">=3.9",
    setup_requires=["cffi>=1.15"],
    install_requires=["doit>=0.36", "cffi>=1.15", "pyelftools>=0.29", "pyyaml>=6", "zstandard>=0.20",
                      "matplotlib>=3.5"],
    extras_require={
        # rustc-demangle via pyderust makes `sizekit bloat` fast; without it c++filt is used.
        "demangle": ["pyderust>=1.0"],
        "test": ["pytest", "hypothesis", "xxhash", "matplotlib", "pyderust>=1.0"],
    },
    cffi_modules=["sizekit/elf/_build.py:ffibuilder"],
    entry_points={
        "console_scripts": ["sizekit=sizekit.cli.main:main"],
        # A doit state backend that commits per task, so kill -9 loses nothing finished.
        "doit.BACKEND": ["sizekit=sizekit.drivers.doit.statedb:DurableSqliteDB"],
    },
    zip_safe=False,
)
