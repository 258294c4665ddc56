"""Measure an artifact: bytes, content hash and ELF sections (pyelftools)."""
import os

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from .hashing import content_hash_hex


def sections(path):
    """{name: size} of the ELF's sections plus alloc/non-alloc totals, or None for a non-ELF."""
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            table, alloc, nonalloc = {}, 0, 0
            for sec in elf.iter_sections():
                if not sec.name:
                    continue
                size = sec["sh_size"]
                table[sec.name] = table.get(sec.name, 0) + size
                if sec["sh_flags"] & SH_FLAGS.SHF_ALLOC:
                    alloc += size
                elif sec["sh_type"] != "SHT_NOBITS":
                    nonalloc += size
            return {"sections": table, "vm_bytes": alloc, "nonalloc_bytes": nonalloc}
    except (ELFError, OSError, ValueError, KeyError):
        return None


def file_facts(path):
    """Bytes, content hash and section table of a file, as stored in stage records."""
    facts = {"bytes": os.path.getsize(path), "hash": content_hash_hex(path)}
    sec = sections(path)
    if sec is not None:
        facts.update(sec)
    return facts
