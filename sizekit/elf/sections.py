"""Measure an artifact: bytes, content hash and ELF sections (pyelftools)."""
import os

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from . import engine
from .hashing import content_hash_hex
from ..utils import limits
from ..utils.errors import ElfError


def sections(path):
    """{name: size} of the ELF's sections plus alloc/non-alloc totals, or None for a non-ELF
    (or a FIFO, device or folder, or over limits.ELF_SECTIONS sections: pyelftools is slow)."""
    try:
        with os.fdopen(engine.open_elf(path, None), "rb") as f:
            elf = ELFFile(f)
            if elf.num_sections() > limits.ELF_SECTIONS.value:
                return None
            table: dict
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
    except (ElfError, ELFError, OSError, ValueError, KeyError):
        return None


def file_facts(path):
    """Bytes, content hash and section table of a file, as stored in stage records."""
    facts = {"bytes": os.path.getsize(path), "hash": content_hash_hex(path)}
    sec = sections(path)
    if sec is not None:
        facts.update(sec)
    return facts
