"""The pre-commit hooks and the GitHub Action, run as teams run them, on projects built in tmp.

pre-commit is the real one from PyPI (it installs lockgen from a snapshot of this tree, as it would
from our repository at a ``rev:``). The Action's ``action.yml`` runs step by step under bash with the
variables a GitHub run provides (tests/support/github.py), against a GitHub API served on 127.0.0.1
and an ``origin`` repository on disk. The inputs come from README's snippets, so the snippets users
copy are the ones tested.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.ci import (
    PLACEHOLDER_ACTION,
    PLACEHOLDER_REPO,
    ROOT,
    commit_all,
    environment_text,
    lockgen_snapshot,
    make_channel,
    make_project,
    readme_snippet,
)
from tests.support.cli import run_lockgen
from tests.support.github import run_action, serve_github
from tests.support.projects import git

TOKEN = "ghs_lockgenTestToken0123456789abcdefXYZ"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.network  # pre-commit and the Action pip-install lockgen's dependencies


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return lockgen_snapshot(tmp_path_factory.mktemp("lockgen-repo"))


@pytest.fixture(scope="module")
def runner_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """RUNNER_TEMP, kept across the module's runs so the Action's virtualenv is made once."""
    return tmp_path_factory.mktemp("runner-temp")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _tool_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    env.update(extra)
    return env


# --- schema checks ------------------------------------------------------------------------------------


def _jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_action_and_workflow_snippets_are_valid(tmp_path: Path) -> None:
    """action.yml against GitHub's action schema, README's workflows against the workflow schema,
    the hooks manifest and README's pre-commit config through pre-commit's own validators."""
    done = _jsonschema("vendor.github-actions", ROOT / "action.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    workflows = []
    for name in ("locks.yml", "lock-refresh.yml"):
        path = tmp_path / name
        path.write_text(readme_snippet(f"# .github/workflows/{name}"))
        workflows.append(path)
    done = _jsonschema("vendor.github-workflows", *workflows)
    assert done.returncode == 0, done.stdout + done.stderr
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(readme_snippet("# .pre-commit-config.yaml"))
    for what, path in (("validate-manifest", ROOT / ".pre-commit-hooks.yaml"), ("validate-config", config)):
        done = subprocess.run([str(BIN / "pre-commit"), what, str(path)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_broken_action_yml_fails_the_schema_check(tmp_path: Path) -> None:
    """The schema check can fail: a step without `shell:` is not a valid composite action."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    del action["runs"]["steps"][0]["shell"]
    broken = tmp_path / "action.yml"
    broken.write_text(yaml.safe_dump(action))
    assert _jsonschema("vendor.github-actions", broken).returncode != 0


# --- the Action -------------------------------------------------------------------------------------


class Repo:
    """origin (bare) and a workspace checked out as actions/checkout does (shallow, one branch)."""

    def __init__(self, root: Path, versions: tuple[str, ...], specs: tuple[str, ...]) -> None:
        self.root = root
        self.channel = make_channel(root / "channel" / "testchan", versions)
        self.cache = root / "cache"
        self.dev = make_project(root / "dev", self.channel, self.cache, specs)
        self.origin = root / "origin.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(self.dev), str(self.origin)], check=True)
        git(self.dev, "remote", "add", "origin", str(self.origin))

    def checkout(self, branch: str) -> Path:
        workspace = self.root / f"ws-{branch.replace('/', '-')}"
        shutil.rmtree(workspace, ignore_errors=True)
        subprocess.run(
            ["git", "clone", "-q", "--depth", "1", "--branch", branch, self.origin.as_uri(), str(workspace)],
            check=True,
        )
        return workspace

    def push_branch(self, branch: str, specs: tuple[str, ...], relock: bool = True) -> None:
        git(self.dev, "checkout", "-q", "-B", branch)
        (self.dev / "environment.yml").write_text(environment_text(self.channel, specs))
        if relock:
            done = run_lockgen("lock", "--cache-dir", self.cache, "--quiet", cwd=self.dev)
            assert done.returncode == 0, done.stderr
        commit_all(self.dev, f"specs: {specs}")
        git(self.dev, "push", "-q", "--force", "origin", branch)


def _github_env(api: str, event: str, workspace: Path, **extra: str) -> dict[str, str]:
    event_file = workspace.parent / f"event-{event}.json"
    event_file.write_text(json.dumps({"pull_request": {"number": 7}} if event == "pull_request" else {}))
    env = _tool_env(
        GITHUB_EVENT_NAME=event,
        GITHUB_EVENT_PATH=str(event_file),
        GITHUB_REPOSITORY="acme/proj",
        GITHUB_API_URL=api,
        GITHUB_WORKSPACE=str(workspace),
        LOCKGEN_CACHE_DIR=str(workspace.parent / "cache"),
    )
    env.update(extra)
    return env


def _snippet_inputs(first_line: str) -> dict[str, str]:
    """The `with:` of the step of README's workflow that uses the Action."""
    workflow = yaml.safe_load(readme_snippet(first_line))
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    ours = [s for s in steps if str(s.get("uses", "")).startswith(PLACEHOLDER_ACTION + "@")]
    assert len(ours) == 1, steps
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in ours[0].get("with", {}).items()}


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """main locks app 1.0 (`app <1.1`); the channel also has app 1.1 and extra 1.0."""
    return Repo(tmp_path, ("1.0", "1.1"), ("app <1.1",))


def test_action_on_a_pull_request_checks_and_keeps_one_comment(
    repo: Repo, snapshot: tuple[Path, str], runner_temp: Path
) -> None:
    inputs = _snippet_inputs("# .github/workflows/locks.yml")
    assert inputs == {"comment": "true"}
    repo.push_branch("feature", ("app >=1.1",))
    with serve_github() as github:
        workspace = repo.checkout("feature")
        env = _github_env(github.url, "pull_request", workspace, GITHUB_BASE_REF="main")
        first = run_action(snapshot[0], inputs, workspace=workspace, runner_temp=runner_temp, env=env, token=TOKEN)
        assert first.code == 0, first.log
        assert first.outputs["stale"] == "false"
        assert first.outputs["changed"] == "true"
        assert "the locks are up to date" in first.summary
        assert "1.1" in first.summary  # the markdown diff: app 1.0 → 1.1
        assert len(github.comments) == 1
        (comment,) = github.comments.values()
        assert comment["body"].startswith("<!-- lockgen-action: lock diff (.) -->")
        assert "| **`app`** | upgraded | 1.0 | 1.1 |" in comment["body"]
        assert first.outputs["comment-url"] == comment["html_url"]

        # the next push edits that comment instead of adding one
        repo.push_branch("feature", ("app >=1.1", "extra"))
        workspace = repo.checkout("feature")
        env = _github_env(github.url, "pull_request", workspace, GITHUB_BASE_REF="main")
        second = run_action(snapshot[0], inputs, workspace=workspace, runner_temp=runner_temp, env=env, token=TOKEN)
        assert second.code == 0, second.log
        assert len(github.comments) == 1
        assert [m for m, *_ in github.requests if m != "GET"] == ["POST", "PATCH"]
        assert "extra" in github.comments[comment["id"]]["body"]

        # a push that undoes every lock change says so in the same comment
        repo.push_branch("feature", ("app <1.1",))
        workspace = repo.checkout("feature")
        env = _github_env(github.url, "pull_request", workspace, GITHUB_BASE_REF="main")
        third = run_action(snapshot[0], inputs, workspace=workspace, runner_temp=runner_temp, env=env, token=TOKEN)
        assert third.code == 0, third.log
        assert third.outputs["changed"] == "false"
        assert len(github.comments) == 1
        assert "no lock changes" in github.comments[comment["id"]]["body"]
    assert all(auth == f"Bearer {TOKEN}" for *_, auth in github.requests)
    assert TOKEN not in first.log + second.log + third.log + first.summary + second.summary


def test_action_fails_on_a_stale_lock_and_says_why(repo: Repo, snapshot: tuple[Path, str], runner_temp: Path) -> None:
    repo.push_branch("stale", ("app <1.1", "libcore"), relock=False)  # environment.yml edited, locks not re-made
    with serve_github() as github:
        workspace = repo.checkout("stale")
        env = _github_env(github.url, "pull_request", workspace, GITHUB_BASE_REF="main")
        run = run_action(snapshot[0], {"comment": "true"}, workspace=workspace, runner_temp=runner_temp, env=env)
    assert run.code == 6, run.log
    assert run.outputs["stale"] == "true"
    assert "stale locks" in run.summary
    assert "libcore" in run.summary  # check's reason names the added spec
    assert "locks are not up to date" in run.log


def test_action_with_a_read_only_token_still_checks(repo: Repo, snapshot: tuple[Path, str], runner_temp: Path) -> None:
    """A fork's pull request: the token cannot comment; the check and the summary still work."""
    repo.push_branch("fork", ("app >=1.1",))
    with serve_github() as github:
        github.refuse_writes = True
        workspace = repo.checkout("fork")
        env = _github_env(github.url, "pull_request", workspace, GITHUB_BASE_REF="main")
        run = run_action(snapshot[0], {"comment": "true"}, workspace=workspace, runner_temp=runner_temp, env=env)
    assert run.code == 0, run.log
    assert "::warning::the lock diff was not posted" in run.log
    assert "1.1" in run.summary
    assert not github.comments


def test_scheduled_refresh_opens_then_updates_one_pull_request(
    refresh_repo: Repo, snapshot: tuple[Path, str], runner_temp: Path
) -> None:
    repo = refresh_repo
    inputs = _snippet_inputs("# .github/workflows/lock-refresh.yml")
    assert inputs == {"mode": "refresh"}
    with serve_github() as github:
        # nothing new in the channel: no branch, no pull request
        workspace = repo.checkout("main")
        env = _github_env(github.url, "schedule", workspace, GITHUB_REF_NAME="main")
        idle = run_action(snapshot[0], inputs, workspace=workspace, runner_temp=runner_temp, env=env, token=TOKEN)
        assert idle.code == 0, idle.log
        assert idle.outputs["changed"] == "false"
        assert not github.pulls

        # app 1.1 is published: one pull request, its body the diff, the branch on origin
        make_channel(repo.channel.root, ("1.0", "1.1"))
        workspace = repo.checkout("main")
        env = _github_env(github.url, "schedule", workspace, GITHUB_REF_NAME="main")
        opened = run_action(snapshot[0], inputs, workspace=workspace, runner_temp=runner_temp, env=env, token=TOKEN)
        assert opened.code == 0, opened.log
        (pull,) = github.pulls.values()
        assert (pull["head"], pull["base"]) == ("lockgen/refresh", "main")
        assert "1.0" in pull["body"] and "1.1" in pull["body"]
        assert opened.outputs["pull-request"] == pull["html_url"]
        pushed = git(repo.origin, "show", "lockgen/refresh:locks/linux-64.txt")
        assert "app-1.1-h0_0" in pushed

        # app 1.2: the same pull request is updated, no second one
        make_channel(repo.channel.root, ("1.0", "1.1", "1.2"))
        workspace = repo.checkout("main")
        env = _github_env(github.url, "schedule", workspace, GITHUB_REF_NAME="main")
        again = run_action(snapshot[0], inputs, workspace=workspace, runner_temp=runner_temp, env=env, token=TOKEN)
        assert again.code == 0, again.log
        assert len(github.pulls) == 1
        assert "1.2" in next(iter(github.pulls.values()))["body"]
        assert "app-1.2-h0_0" in git(repo.origin, "show", "lockgen/refresh:locks/linux-64.txt")


# --- pre-commit ---------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    channel = make_channel(tmp_path / "channel" / "testchan")
    return make_project(tmp_path / "proj", channel, tmp_path / "cache")


@pytest.fixture
def refresh_repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path, ("1.0",), ("app",))


def _pre_commit(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = _tool_env(PRE_COMMIT_HOME=str(home), LOCKGEN_CACHE_DIR=str(project.parent / "cache"))
    return subprocess.run(
        [str(BIN / "pre-commit"), *args], cwd=project, env=env, capture_output=True, text=True, check=False, timeout=900
    )


def _try_repo(project: Path, home: Path, snapshot: tuple[Path, str], hook: str) -> subprocess.CompletedProcess[str]:
    repo, commit = snapshot
    return _pre_commit(project, home, "try-repo", str(repo), hook, "--ref", commit, "--all-files")


def _add_spec(project: Path, spec: str) -> None:
    path = project / "environment.yml"
    path.write_text(path.read_text() + f"  - {spec}\n")
    git(project, "add", "environment.yml")


def test_pre_commit_try_repo_check_and_lock(project: Path, snapshot: tuple[Path, str], pre_commit_home: Path) -> None:
    fresh = _try_repo(project, pre_commit_home, snapshot, "lockgen-check")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "Passed" in fresh.stdout

    _add_spec(project, "libcore >=2")
    stale = _try_repo(project, pre_commit_home, snapshot, "lockgen-check")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "Failed" in stale.stdout and "libcore" in stale.stdout

    relock = _try_repo(project, pre_commit_home, snapshot, "lockgen-lock")
    assert relock.returncode == 1, relock.stdout + relock.stderr
    assert "files were modified by this hook" in relock.stdout
    assert git(project, "status", "--porcelain", "locks").strip()  # the locks were rewritten
    again = _try_repo(project, pre_commit_home, snapshot, "lockgen-check")
    assert again.returncode == 0, again.stdout + again.stderr


def test_pre_commit_readme_config(project: Path, snapshot: tuple[Path, str], pre_commit_home: Path) -> None:
    """README's .pre-commit-config.yaml, with only the repository and rev pointed at our snapshot."""
    repo, commit = snapshot
    config = yaml.safe_load(readme_snippet("# .pre-commit-config.yaml"))
    (entry,) = config["repos"]
    assert entry["repo"] == PLACEHOLDER_REPO
    entry.update(repo=str(repo), rev=commit)
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    commit_all(project, "pre-commit")
    fresh = _pre_commit(project, pre_commit_home, "run", "--all-files")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    _add_spec(project, "libcore >=2")
    stale = _pre_commit(project, pre_commit_home, "run")  # staged files only, as on `git commit`
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "lockgen check" in stale.stdout and "libcore" in stale.stdout


def test_hooks_skip_unrelated_files(project: Path, snapshot: tuple[Path, str], pre_commit_home: Path) -> None:
    """A commit that touches neither an environment file, pyproject.toml nor locks/ does not run the hook."""
    repo, commit = snapshot
    (project / "notes.md").write_text("hello\n")
    git(project, "add", "notes.md")
    (project / "environment.yml").write_text((project / "environment.yml").read_text() + "  - libcore\n")
    done = _pre_commit(project, pre_commit_home, "try-repo", str(repo), "lockgen-check", "--ref", commit)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no files to check" in done.stdout.lower() or "Skipped" in done.stdout
