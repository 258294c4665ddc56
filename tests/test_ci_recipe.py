"""docs/ci/github-actions.yml: N shard jobs, a merge job and a PR comment; every sizekit command
in it parses with the real command line."""
import os
import re
import shlex

import yaml

from conftest import ROOT
from sizekit.cli.main import _run_options, build_parser
from sizekit.plan.shard import parse_shard

RECIPE = os.path.join(ROOT, "docs", "ci", "github-actions.yml")


def load():
    with open(RECIPE) as f:
        return yaml.safe_load(f)


def commands(job, shard="1"):
    """Every `sizekit ...` command line of a job's run: steps, with the shard expression filled in."""
    out = []
    for step in job["steps"]:
        for line in step.get("run", "").replace("\\\n", " ").splitlines():
            line = line.strip().split("||")[0].split(">")[0].strip()
            line = re.sub(r"\$\{\{\s*matrix\.shard\s*\}\}", shard, line)
            if line.startswith("sizekit "):
                out.append(shlex.split(line)[1:])
    return out


def test_shard_jobs_cover_every_shard_once():
    jobs = load()["jobs"]
    shards = jobs["shard"]["strategy"]["matrix"]["shard"]
    runs = [argv for k in shards for argv in commands(jobs["shard"], str(k))]
    parsed = [parse_shard(_run_options(build_parser().parse_args(argv).doit_args, None, False)[1]) for argv in runs]
    assert sorted(parsed) == [(k, len(shards)) for k in range(1, len(shards) + 1)]
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in jobs["shard"]["steps"])


def test_every_sizekit_command_parses():
    jobs = load()["jobs"]
    seen = set()
    for job in jobs.values():
        for argv in commands(job):
            args = build_parser().parse_args(argv)   # argparse exits 2 on an unknown flag
            seen.add(args.command)
    assert seen == {"run", "merge", "check", "diff"}


def test_merge_job_waits_for_the_shards_and_comments_the_diff():
    jobs = load()["jobs"]
    assert jobs["merge"]["needs"] == "shard"
    text = open(RECIPE).read()
    assert "sizekit diff base/results.json merged/results.json --format markdown > comment.md" in text
    assert "gh pr comment" in text
