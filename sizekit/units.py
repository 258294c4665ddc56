"""Byte sizes: parse "1MiB" style budgets and print human sizes."""
import re

_UNITS = {
    "": 1, "b": 1,
    "kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3,
    "kib": 1024, "mib": 1024 ** 2, "gib": 1024 ** 3,
    "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_size(value):
    """Return the byte count for 1234, "1234", "800KiB", "1.5MB". Raises ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size such as 1MiB, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a size cannot be negative, got {value}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a size such as 1MiB, got {value!r} ({type(value).__name__})")
    m = _SIZE_RE.match(value)
    if not m:
        raise ValueError(f"expected a size such as 1MiB or 800KB, got {value!r}")
    number, unit = m.groups()
    factor = _UNITS.get(unit.lower())
    if factor is None:
        raise ValueError(f"unknown unit {unit!r} in {value!r}; use B, KB, MB, GB, KiB, MiB or GiB")
    return int(float(number) * factor)


def human(nbytes):
    """Render a byte count the way `ls -lh` readers expect: 243K, 6.4M."""
    if nbytes is None:
        return "-"
    n = float(nbytes)
    for unit in ("B", "K", "M", "G"):
        if abs(n) < 1024 or unit == "G":
            if unit == "B":
                return f"{int(n)}B"
            return f"{n:.1f}{unit}" if abs(n) < 10 else f"{n:.0f}{unit}"
        n /= 1024
    raise AssertionError("unreachable")


def pct_change(value, base):
    """Percent change of value against base, or None when it is undefined."""
    if value is None or not base:
        return None
    return round((value - base) * 100.0 / base, 1)
