"""`sizekit explore MATRIX --crate NAME`: search the settings, then write the front.

Writes under <output>/explore/<study>/: front.md (the table), front.json, explore.html (the
chart), matrix-fragment.yaml (one row per front point) and profile.toml (the picked point's
[profile.NAME]); `--write-profile` puts that block into the crate's Cargo.toml, and nothing else.
"""
import json
import os
import sys

from ..config.checker import Checker
from ..config.explore import Explore, check_dimension, parse_builds, parse_duration
from ..config.load import load_matrix
from ..config.yamlsafe import load_located
from ..utils.errors import UsageError
from ..utils.fsutil import atomic_write_text
from ..utils.safeio import read_text


def _space_option(texts, base):
    """--space DIM=V1,V2 ... on top of the matrix's space; values are YAML ([] for a list)."""
    space = dict(base)
    for text in texts:
        name, sep, values = text.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--space {text!r}: expected DIM=V1,V2 (e.g. --space opt-level=s,z)")
        located = load_located(f"[{values}]", "--space")
        c = Checker(located)
        checked = check_dimension(c, name.strip(), located.data, ("--space", name.strip()))
        if c.problems or checked is None:
            raise UsageError("\n".join(p.replace("--space:1: ", "") for p in c.problems))
        space[name.strip()] = checked
    return space


def _settings(args, matrix):
    spec = matrix.explore or Explore()
    crate_name = args.crate or spec.crate
    if not crate_name:
        raise UsageError(f"name the crate to explore: --crate NAME (one of: {', '.join(matrix.crates)}), "
                         f"or explore: {{crate: NAME}} in {os.path.relpath(matrix.path)}")
    if crate_name not in matrix.crates:
        raise UsageError(f"--crate {crate_name!r} is not a crate of {os.path.relpath(matrix.path)}; "
                         f"use one of: {', '.join(matrix.crates)}")
    crate = matrix.crates[crate_name]
    target = args.target or spec.target or (crate.targets or [matrix.host])[0]
    if crate.targets and target not in crate.targets:
        raise UsageError(f"--target {target!r} is not one of {crate_name}'s targets: {', '.join(crate.targets)}")
    spec.space = _space_option(args.space, spec.space)
    if args.sampler:
        spec.sampler = args.sampler
    if args.seed is not None:
        spec.seed = args.seed
    if args.max_builds is not None:
        spec.max_builds = parse_builds(args.max_builds, lambda m: _usage(f"--max-builds: {m}"))
    if args.time is not None:
        spec.max_seconds = parse_duration(args.time, lambda m: _usage(f"--time: {m}"))
    return crate, target, spec


def _usage(message):
    raise UsageError(message)


def _read_confirmed(path):
    """{point key: {bytes, speed, why}} of the points real UPX packed; {} when absent or unreadable
    (then they are packed again)."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    ok = isinstance(data, dict) and all(isinstance(v, dict) for v in data.values())
    return data if ok else {}


def cmd_explore(args):
    from ..explore import chart, front, space, study as studies, trials
    matrix = load_matrix(args.matrix)
    crate, target, spec = _settings(args, matrix)
    name = args.study or f"{crate.name}-{target}"
    folder = os.path.join(matrix.output, "explore", name)
    worker = args.worker or "1"
    output = trials.worker_output(matrix, name, worker)
    storage = studies.storage_for(args.storage, os.path.join(folder, "study.journal"))
    budget = spec.max_builds or 16
    study = studies.open_study(name, storage, crate, spec.sampler, spec.seed, n_startup=max(2, budget // 3))
    if not args.report_only:
        lock = studies.WorkerLock(output)
        again = studies.recover(study, worker)
        if again:
            print(f"explore: {again} trial(s) of worker {worker} were cut off; measuring their points again",
                  file=sys.stderr)
        max_builds = spec.max_builds if (spec.max_builds or spec.max_seconds) else budget
        builds, made = studies.search(matrix, crate, target, spec, study, worker, output,
                                      max_builds=max_builds, max_seconds=spec.max_seconds)
        print(f"explore: this run made {made} trial(s) with {builds} new build(s)", file=sys.stderr)
        del lock
    measured = front.points(study)
    with_speed = bool(crate.bench)
    higher = with_speed and crate.bench["better"] == "higher"
    # Real UPX runs once per point: its bytes, speed or refusal are kept beside the study.
    confirmed_path = os.path.join(folder, "upx-confirmed.json")
    confirmed = _read_confirmed(confirmed_path)
    while True:
        # Real UPX can move a point off the front and bring another, never packed yet, onto it.
        the_front = front.pareto([p for p in measured if p["ok"]], higher, with_speed)
        pending = [p for p in the_front if p["point"].get("upx") and not p.get("upx_real")]
        if not pending or args.no_upx_confirm:
            break
        for p in pending:
            if p["point_key"] not in confirmed:
                real, speed, why = trials.confirm_upx(matrix, crate, target, p["point"], output)
                confirmed[p["point_key"]] = {"bytes": real, "speed": speed, "why": why}
                os.makedirs(folder, exist_ok=True)
                atomic_write_text(confirmed_path, json.dumps(confirmed, indent=1, sort_keys=True))
            real, speed, why = (confirmed[p["point_key"]].get(k) for k in ("bytes", "speed", "why"))
            if real is None:
                p["ok"], p["detail"] = False, f"real UPX: {why}"
            else:
                p["upx_estimate"], p["bytes"], p["upx_real"] = p["bytes"], real, True
                if speed is not None:
                    p["unpacked_speed"], p["speed"] = p["speed"], speed
    failed = [p for p in measured if not p["ok"]]    # the front's points are among them
    baseline = max((p.get("baseline_bytes") or 0 for p in measured), default=0)
    speed_label = (crate.bench["metric"] and "bench (median)" or "bench seconds (median)") if with_speed else None
    os.makedirs(folder, exist_ok=True)
    table = front.table(the_front, failed, baseline, speed_label)
    atomic_write_text(os.path.join(folder, "front.md"), f"# {crate.name} on {target}: the front\n\n" + table)
    atomic_write_text(os.path.join(folder, "front.json"), front.as_json(the_front, failed, baseline))
    atomic_write_text(os.path.join(folder, "matrix-fragment.yaml"), front.fragment(the_front, crate.name, target))
    y_label = speed_label or "build seconds"
    y_of = (lambda p: p["speed"]) if with_speed else (lambda p: p["build_seconds"])
    atomic_write_text(os.path.join(folder, "explore.html"),
                      chart.page(measured, the_front, f"sizekit explore: {crate.name} on {target}", y_label, y_of, baseline))
    print(table, end="")
    if not the_front:
        print(f"explore: no point of study {name!r} has built and passed its smoke check yet"
              + ("" if measured else "; run without --report-only to search"), file=sys.stderr)
        return 1
    chosen = front.pick(the_front, args.pick, higher, with_speed)
    block = space.profile_toml(chosen["point"], args.profile_name)
    atomic_write_text(os.path.join(folder, "profile.toml"), block)
    print(f"\npicked ({args.pick}): trial {chosen['number']}, {chosen['bytes']:,} bytes\n\n{block}", end="")
    if args.write_profile:
        manifest = os.path.join(crate.path, "Cargo.toml")
        text = read_text(manifest, 1 << 20, "a Cargo.toml")
        atomic_write_text(manifest, front.write_profile(text, block, args.profile_name))
        print(f"explore: wrote [profile.{args.profile_name}] into {os.path.relpath(manifest)}", file=sys.stderr)
    print(f"explore: {os.path.relpath(folder)}/ has front.md, front.json, explore.html, matrix-fragment.yaml, "
          f"profile.toml", file=sys.stderr)
    return 0


def register_explore(sub):
    r = sub.add_parser("explore", help="search the settings for the smallest binary that still runs")
    r.add_argument("matrix", help="the matrix file")
    r.add_argument("--crate", help="the crate to explore (default: explore.crate in the matrix)")
    r.add_argument("--target", help="the target (default: explore.target, else the crate's first)")
    r.add_argument("--space", action="append", default=[], metavar="DIM=V1,V2",
                   help="a dimension and its values, on top of the matrix's explore.space (repeatable)")
    r.add_argument("--max-builds", type=int, help="stop after this many new cargo builds (default 16)")
    r.add_argument("--time", help="stop starting trials after this long (90s, 30m, 2h)")
    r.add_argument("--sampler", choices=("tpe", "nsga2", "random"), help="optuna's sampler (default tpe)")
    r.add_argument("--seed", type=int, help="the sampler's seed (default 1)")
    r.add_argument("--storage", help="optuna storage shared by workers: sqlite:///f.db, postgresql://..., "
                                     "or a journal file (default <output>/explore/<study>/study.journal)")
    r.add_argument("--study", help="the study's name (default <crate>-<target>)")
    r.add_argument("--worker", help="this worker's name; each concurrent worker needs its own (default 1)")
    r.add_argument("--report-only", action="store_true", help="build nothing; write the front of what is measured")
    r.add_argument("--no-upx-confirm", action="store_true", help="keep UPX estimates on the front (no real UPX run)")
    r.add_argument("--pick", default="smallest",
                   help="the front point for profile.toml: smallest, fastest, quickest-build, "
                        "'fastest-under 300K', 'smallest-over SPEED'")
    r.add_argument("--profile-name", default="sizekit", help="the [profile.NAME] to write (default sizekit)")
    r.add_argument("--write-profile", action="store_true",
                   help="write the picked [profile.NAME] block into the crate's Cargo.toml (only that block)")
    r.set_defaults(func=cmd_explore)
