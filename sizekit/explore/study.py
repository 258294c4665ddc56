"""The search: an optuna study asks for points, sizekit builds and measures them, and tells it.

The study lives in optuna's storage (a journal file under the output folder by default, or any
RDB or journal URL that several machines share), so `explore` resumes after a stop and N workers
can work on one study. Each trial records its point, its worker and its measurements as user
attributes, so every figure the front shows is read back from the storage.
"""
import fcntl
import os
import sys
import time
import warnings

from ..utils.errors import UsageError
from . import front, space, trials

STALE_DUPLICATES = 25   # suggestions in a row that were all measured already: the space is spent


def _optuna():
    try:
        import optuna
    except ImportError:
        raise UsageError("sizekit explore needs optuna; fix: pip install optuna (scripts/install does)") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # TPE's multivariate mode and the constant liar are marked experimental; they are what a
    # small categorical space with several workers needs, so the warning says nothing useful.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def storage_for(url, default_path):
    """optuna storage from --storage: an RDB URL (sqlite:///..., postgresql://...), or a journal
    file path (journal:PATH or a plain path); default: a journal file in the output folder."""
    optuna = _optuna()
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    target = url or default_path
    if "://" in target:
        return optuna.storages.RDBStorage(target)
    path = target[len("journal:"):] if target.startswith("journal:") else target
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return JournalStorage(JournalFileBackend(path))


def sampler_for(name, seed, n_startup):
    optuna = _optuna()
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, n_startup))
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup, multivariate=True,
                                      constant_liar=True)


def directions(crate):
    """Smaller files, quicker builds, and a faster bench (higher metric or less time)."""
    out = ["minimize", "minimize"]
    if crate.bench:
        out.append("maximize" if crate.bench["better"] == "higher" else "minimize")
    return out


def open_study(name, storage, crate, sampler, seed, n_startup):
    optuna = _optuna()
    study = optuna.create_study(study_name=name, storage=storage, directions=directions(crate),
                                sampler=sampler_for(sampler, seed, n_startup), load_if_exists=True)
    if len(study.directions) != len(directions(crate)):
        raise UsageError(f"study {name!r} was made with {len(study.directions)} objectives and the crate's bench "
                         f"now gives {len(directions(crate))}; fix: pass another --study name")
    return study


class WorkerLock:
    """One process per worker folder: a second `explore --worker W` waits for none, it stops."""

    def __init__(self, folder):
        os.makedirs(folder, exist_ok=True)
        self.file = open(os.path.join(folder, "worker.lock"), "a+")
        try:
            fcntl.flock(self.file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"{folder} is in use by another explore worker; fix: give this one "
                             f"another --worker name") from None


def recover(study, worker):
    """Trials of this worker left RUNNING by a process that died (kill -9): fail them and ask for
    their points again first (their cells survived, so they cost no build)."""
    optuna = _optuna()
    again = 0
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if t.user_attrs.get("worker") == worker:
            study.tell(t.number, state=optuna.trial.TrialState.FAIL)
            study.enqueue_trial(t.params if t.params else {}, skip_if_exists=False)
            again += 1
    return again


def finished_points(study):
    """point key -> (state, values, user attrs) of every finished trial."""
    optuna = _optuna()
    done = {}
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,
                                                     optuna.trial.TrialState.FAIL)):
        key = t.user_attrs.get("point_key")
        if key and (key not in done or t.state == optuna.trial.TrialState.COMPLETE):
            done[key] = (t.state, t.values, dict(t.user_attrs))
    return done


def search(matrix, crate, target, spec, study, worker, output, max_builds=None, max_seconds=None, out=sys.stderr):
    """Ask, build, measure, tell, until a budget runs out. Returns (builds, trials) this run made."""
    optuna = _optuna()
    dists = space.distributions(spec.space)
    start, builds, made, repeats = time.monotonic(), 0, 0, 0
    while True:
        if max_builds is not None and builds >= max_builds:
            out.write(f"explore: build budget spent ({builds} builds)\n")
            break
        if max_seconds is not None and time.monotonic() - start >= max_seconds:
            out.write(f"explore: time budget spent ({time.monotonic() - start:.0f} s)\n")
            break
        trial = study.ask(dists)
        point = space.decode(trial.params)
        key = space.point_key(point)
        trial.set_user_attr("worker", worker)
        trial.set_user_attr("point_key", key)
        trial.set_user_attr("point", point)
        done = finished_points(study).get(key)
        if done is not None:
            # A repeated suggestion: tell the sampler what that point gave, at no cost.
            state, values, attrs = done
            trial.set_user_attr("repeat_of", attrs.get("trial"))
            if state == optuna.trial.TrialState.COMPLETE:
                study.tell(trial, values)
            else:
                trial.set_user_attr("detail", attrs.get("detail", "failed before"))
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            repeats += 1
            if repeats >= STALE_DUPLICATES:
                out.write(f"explore: the last {repeats} suggestions were all measured already; stopping\n")
                break
            continue
        repeats = 0
        trial.set_user_attr("trial", trial.number)
        t0 = time.monotonic()
        m = trials.measure_point(matrix, crate, target, point, output)
        if not m.new_build:
            # The build was made for an earlier point (this one differs in strip or UPX only):
            # its time is that build's, which the study holds.
            made_by = front.build_times(t.user_attrs for t in study.get_trials(deepcopy=False))
            m.build_seconds = made_by.get(space.build_key(point), m.build_seconds)
        builds += m.new_build
        made += 1
        for name, value in (("detail", m.detail), ("bytes", m.bytes), ("unpacked_bytes", m.unpacked_bytes),
                            ("build_seconds", m.build_seconds), ("speed", m.speed),
                            ("speed_runs", list(m.speed_runs)), ("baseline_bytes", m.baseline_bytes),
                            ("new_build", m.new_build), ("artifact", m.artifact),
                            ("build_key", space.build_key(point))):
            trial.set_user_attr(name, value)
        shown = f"trial {trial.number} ({space.words(point)}): "
        if m.ok:
            values = [m.bytes, m.build_seconds] + ([m.speed] if crate.bench else [])
            study.tell(trial, values)
            speed = f", bench {m.speed:g}" if crate.bench else ""
            out.write(f"explore: {shown}{m.bytes:,} bytes, build {m.build_seconds:.1f} s{speed} "
                      f"[{time.monotonic() - t0:.0f} s{', new build' if m.new_build else ''}]\n")
        else:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            out.write(f"explore: {shown}not a candidate: {m.detail}\n")
        out.flush()
    return builds, made

