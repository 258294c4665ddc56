"""Fit markdown blocks under GitHub's comment limit (65,536 characters), with a note on what was cut.

Blocks go in whole while they fit. The first one that does not is cut at a line (an open
<details> is closed, so the rest of the page still renders), and a note names how many
blocks were left out. The result is always shorter than the limit, whatever the input."""
GITHUB_LIMIT = 65536
NOTE = ("\n\n> **Truncated:** {n} more block(s) of details did not fit in a comment "
        "({limit:,} characters); run `sizekit diff --format json` for everything.\n")


def fit_blocks(blocks, limit=None):
    limit = limit or GITHUB_LIMIT
    room = limit - 1 - len(NOTE.format(n=10 ** 6, limit=limit))
    out, used = [], 0
    for k, block in enumerate(blocks):
        add = len(block) + 2
        if used + add <= room:
            out.append(block)
            used += add
            continue
        part = _cut(block, room - used - 2)
        if part:
            out.append(part)
        text = "\n\n".join(out)
        return text[:room] + NOTE.format(n=len(blocks) - k, limit=limit)
    return "\n\n".join(out) + "\n"


def _cut(block, room):
    """The lines of block that fit in room characters, closing an open <details>."""
    closing = "\n\n</details>" if block.lstrip().startswith("<details>") else ""
    room -= len(closing)
    lines, used = [], 0
    for line in block.split("\n"):
        if used + len(line) + 1 > room:
            break
        lines.append(line)
        used += len(line) + 1
    if not lines or (closing and len(lines) < 3):
        return ""
    return "\n".join(lines) + closing
