"""The Pareto front of a study, read back from its storage, and what explore writes from it: the
table, a matrix.yaml fragment with one row per front point, and a [profile.NAME] block."""
import json
import re

from ..utils.errors import UsageError
from ..utils.units import human, parse_size
from . import space


def points(study):
    """Every measured point once: dicts with the trial's attributes, ok or not."""
    import optuna
    seen, out = set(), []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,
                                                     optuna.trial.TrialState.FAIL)):
        attrs = t.user_attrs
        key = attrs.get("point_key")
        if not key or key in seen or "repeat_of" in attrs or "bytes" not in attrs:
            continue
        seen.add(key)
        out.append({**attrs, "number": t.number, "ok": t.state == optuna.trial.TrialState.COMPLETE})
    # A point that shared its cargo build with an earlier point is shown with that build's time.
    first = build_times(out)
    for p in out:
        if not p.get("new_build") and p.get("build_key") in first:
            p["build_seconds"] = first[p["build_key"]]
    return out


def build_times(attrs):
    """{build key: cargo seconds} of the trials (their attribute dicts) that made each build."""
    return {a["build_key"]: a["build_seconds"] for a in attrs
            if a.get("new_build") and "build_key" in a and "build_seconds" in a}


def dominates(a, b, higher_speed, with_speed):
    """a is at least as good as b on every objective and better on one."""
    pairs = [(a["bytes"], b["bytes"]), (a["build_seconds"], b["build_seconds"])]
    if with_speed:
        pairs.append((-a["speed"], -b["speed"]) if higher_speed else (a["speed"], b["speed"]))
    return all(x <= y for x, y in pairs) and any(x < y for x, y in pairs)


def pareto(candidates, higher_speed, with_speed):
    ok = [p for p in candidates if p["ok"]]
    front = [p for p in ok if not any(dominates(q, p, higher_speed, with_speed) for q in ok)]
    return sorted(front, key=lambda p: (p["bytes"], p["build_seconds"]))


def pick(front, rule, higher_speed, with_speed):
    """The front point a rule picks: smallest, fastest, quickest-build, fastest-under SIZE,
    smallest-over SPEED. Raises UsageError naming the rule when nothing qualifies."""
    if not front:
        raise UsageError("the study has no point that built and passed its smoke check yet")
    words = rule.split()
    speed_key = (lambda p: -p["speed"]) if higher_speed else (lambda p: p["speed"])
    if rule == "smallest":
        return min(front, key=lambda p: (p["bytes"], speed_key(p)))
    if rule == "quickest-build":
        return min(front, key=lambda p: (p["build_seconds"], p["bytes"]))
    if (rule == "fastest" or words[:1] in (["fastest-under"], ["smallest-over"])) and not with_speed:
        raise UsageError(f"--pick {rule!r} needs a speed: give the crate a bench: command")
    if rule == "fastest":
        return min(front, key=lambda p: (speed_key(p), p["bytes"]))
    if len(words) == 2 and words[0] == "fastest-under":
        limit = parse_size(words[1])
        fits = [p for p in front if p["bytes"] <= limit]
        if not fits:
            raise UsageError(f"--pick {rule!r}: no point of the front is {human(limit)} or smaller "
                             f"(the smallest is {human(min(p['bytes'] for p in front))})")
        return min(fits, key=lambda p: (speed_key(p), p["bytes"]))
    if len(words) == 2 and words[0] == "smallest-over":
        limit = float(words[1])
        fits = [p for p in front if (p["speed"] >= limit if higher_speed else p["speed"] <= limit)]
        if not fits:
            raise UsageError(f"--pick {rule!r}: no point of the front reaches {limit:g}")
        return min(fits, key=lambda p: p["bytes"])
    raise UsageError(f"unknown --pick {rule!r}; use smallest, fastest, quickest-build, "
                     f"'fastest-under 300K' or 'smallest-over SPEED'")


def table(front, failed, baseline, speed_label):
    """The front as markdown: bytes, % against release, build time, speed, settings."""
    head = ["#", "bytes", "size", "vs release", "build (s)"] + ([speed_label] if speed_label else []) + ["settings"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for p in front:
        change = f"{(p['bytes'] - baseline) / baseline * 100:+.1f}%" if baseline else "-"
        size = f"{p['bytes']:,}" + (" (UPX est.)" if p.get("point", {}).get("upx") and not p.get("upx_real") else "")
        row = [str(p["number"]), size, human(p["bytes"]), change, f"{p['build_seconds']:.1f}"]
        if speed_label:
            row.append(f"{p['speed']:.4g}")
        row.append(space.words(p["point"]))
        lines.append("| " + " | ".join(row) + " |")
    if failed:
        lines.append("")
        lines.append(f"Not candidates ({len(failed)}; never picked):")
        for p in failed:
            lines.append(f"- trial {p['number']} ({space.words(p['point'])}): {p.get('detail')}")
    return "\n".join(lines) + "\n"


def fragment(front, crate, target):
    """matrix.yaml rows, one per front point, to paste under variants:."""
    import yaml
    rows = []
    for p in front:
        row = space.row(p["point"], crate, target, name=f"explore-{p['number']}", with_upx=True)
        rows.append(row)
    return ("# sizekit explore's front: paste under variants: in matrix.yaml\n"
            + yaml.safe_dump(rows, sort_keys=False))


def as_json(front, failed, baseline):
    keep = ("number", "bytes", "unpacked_bytes", "upx_real", "upx_estimate", "build_seconds", "speed",
            "unpacked_speed", "speed_runs",
            "point", "artifact", "worker", "detail")
    return json.dumps({"baseline_bytes": baseline,
                       "front": [{k: p.get(k) for k in keep} for p in front],
                       "failed": [{k: p.get(k) for k in keep} for p in failed]}, indent=1)


PROFILE_RE_TEMPLATE = r"(?ms)^\[profile\.{name}\]\s*$.*?(?=^\[|\Z)"


def write_profile(cargo_toml_text, block, name):
    """Cargo.toml's text with [profile.NAME] replaced by block (or added at the end); nothing else changes."""
    pattern = re.compile(PROFILE_RE_TEMPLATE.format(name=re.escape(name)))
    if pattern.search(cargo_toml_text):
        return pattern.sub(lambda _: block + "\n", cargo_toml_text, count=1)
    sep = "" if cargo_toml_text.endswith("\n\n") else ("\n" if cargo_toml_text.endswith("\n") else "\n\n")
    return cargo_toml_text + sep + block
