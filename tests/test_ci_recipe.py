"""docs/ci/github-actions.yml: N shard jobs and a merge job in an unprivileged workflow, and the PR
comment in a second workflow that never runs the pull request's code (docs/SECURITY.md); every
sizekit command in it parses with the real command line."""
import os
import re
import shlex

import yaml

from conftest import ROOT
from sizekit.cli.main import build_parser
from sizekit.cli.matrix import _run_options
from sizekit.plan.shard import parse_shard

RECIPE = os.path.join(ROOT, "docs", "ci", "github-actions.yml")


def load_all():
    with open(RECIPE) as f:
        return list(yaml.safe_load_all(f))


def load():
    """The unprivileged workflow: shards and the main branch's merge."""
    return load_all()[0]


def privileged():
    return load_all()[1]


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
    seen = set()
    for workflow in load_all():
        for job in workflow["jobs"].values():
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


def test_the_pull_request_workflow_holds_no_write_token():
    flow = load()
    assert flow["permissions"] == {"contents": "read"}
    assert "pull_request_target" not in flow[True] and "gh pr comment" not in str(flow)


def test_the_commenting_job_runs_only_trusted_code_and_gives_the_token_to_one_step():
    flow = privileged()
    assert list(flow[True]) == ["workflow_run"]
    job = flow["jobs"]["comment"]
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    # The default branch, never the pull request's head (a fork's code with a write token).
    assert checkout["with"]["ref"] == "${{ github.event.repository.default_branch }}"
    assert "head" not in str(checkout)
    with_token = [s for s in job["steps"] if "GH_TOKEN" in (s.get("env") or {})]
    assert len(with_token) == 1 and "sizekit" not in with_token[0]["run"]
    # sizekit reads the artifacts in steps that hold no token.
    assert all("GH_TOKEN" not in (s.get("env") or {}) for s in job["steps"] if "sizekit" in s.get("run", ""))
    # The PR number comes from GitHub's API, not from a file the fork wrote.
    assert "workflow_run.head_sha" in str(with_token[0]["env"])
