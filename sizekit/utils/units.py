"""Byte sizes and the figures derived from them: parse "1MiB" budgets; print sizes, percents, deltas.

Every report, diff and check formats through these, so one figure reads the same everywhere.
"""
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


def percent(part, whole):
    """part as a percent of whole, to one decimal, or None when it is undefined."""
    if part is None or not whole:
        return None
    return round(part * 100.0 / whole, 1)


def pct_text(pct):
    """A signed change: +500.7%, -15.6%; a zero change reads 0% and an undefined one -."""
    if pct is None:
        return "-"
    return f"{pct:+.1f}%" if pct else "0%"


def share_text(pct):
    """An unsigned share such as 59.0%, or - when undefined."""
    return "-" if pct is None else f"{pct:.1f}%"


def count(nbytes):
    """1,065,432; - for no value."""
    return "-" if nbytes is None else f"{nbytes:,}"


def size_text(nbytes):
    """Exact and human at once: 1,065,432 (1.0M); - for no value."""
    return "-" if nbytes is None else f"{nbytes:,} ({human(nbytes)})"


def signed_bytes(delta):
    """A byte delta: +1,234 B, with the human size when it is over a KiB: -12,432 B (-12K)."""
    if delta is None:
        return "-"
    if delta == 0:
        return "0 B"
    text = f"{delta:+,} B"
    if abs(delta) >= 1024:
        text += f" ({'+' if delta > 0 else '-'}{human(abs(delta))})"
    return text


def ratio(value, base):
    """value / base, or None when either is missing or base is zero."""
    if value is None or not base:
        return None
    return value / base
