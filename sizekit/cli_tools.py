"""Subcommands over single files and result sets: sections, estimate, bloat, diff, check."""

REGISTER = []
