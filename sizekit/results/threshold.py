"""`--threshold` and `--max-growth`: a size change in bytes (500, 4KiB) or in percent (1.5%)."""
import re
from dataclasses import dataclass

from typing import Optional

from ..utils.errors import UsageError
from ..utils.units import parse_size, signed_bytes

_PCT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


@dataclass(frozen=True)
class Threshold:
    nbytes: int = 0
    pct: Optional[float] = None    # set for a percent threshold; then nbytes is unused

    def bytes_of(self, whole):
        """The threshold in bytes against a whole of `whole` bytes (a cell's size before the change)."""
        if self.pct is None:
            return self.nbytes
        return self.pct * (whole or 0) / 100.0

    def reached(self, delta, whole):
        """True when a change of delta bytes (of a whole of `whole` bytes before) is at least the threshold."""
        if not delta:
            return False
        if self.pct is not None and not whole:
            return True            # something out of nothing: any percent
        return abs(delta) >= self.bytes_of(whole)

    def grew_past(self, delta, whole):
        """--max-growth: True when delta is a growth beyond the threshold."""
        if delta is None or delta <= 0:
            return False
        if self.pct is None:
            return delta > self.nbytes
        return not whole or delta * 100.0 > self.pct * whole

    def text(self):
        if self.pct is not None:
            return f"{self.pct:g}%"
        return signed_bytes(self.nbytes).lstrip("+") if self.nbytes else "0 B"

    def to_json(self):
        return {"pct": self.pct} if self.pct is not None else {"bytes": self.nbytes}


def parse_threshold(text, option="--threshold"):
    """"1.5%" -> percent, "4KiB" or "500" -> bytes. Raises UsageError (exit 2)."""
    if text is None:
        return Threshold()
    m = _PCT.match(str(text))
    if m:
        return Threshold(pct=float(m.group(1)))
    try:
        return Threshold(nbytes=parse_size(str(text).strip()))
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}; or a percent such as 1.5%") from None
