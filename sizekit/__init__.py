"""sizekit: make Rust binaries small, declaratively, and keep them small."""
__version__ = "0.1.0"
