"""Subcommands (filled in by their modules)."""

REGISTER = []
