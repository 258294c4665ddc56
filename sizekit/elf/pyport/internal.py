"""What the modules of the Python port share (csrc/internal.h): the 64-bit mask, the bounds
check every reader uses, the ELF magic and the architectures UPX packs."""

M64 = (1 << 64) - 1
ELF_MAGIC = b"\x7fELF"

EST_ARCH_X86_64, EST_ARCH_ARMV7, EST_ARCH_AARCH64, EST_ARCH_I386 = 0, 1, 2, 3


def in_file(off, n, length):
    """Whether [off, off + n) lies inside a buffer of `length` bytes."""
    return off <= length and n <= length - off
