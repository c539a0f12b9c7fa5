"""What the lockgen GitHub Action runs (``action.yml`` at the repository root calls this file).

Standard library only: it runs before lockgen is installed (``install``) and then drives the
installed ``lockgen`` command in a subprocess, the way a workflow step would by hand.

    python run.py install    make a virtualenv in $RUNNER_TEMP, pip-install lockgen from the action's
                             own folder (this repository at the ref the workflow names), put it on PATH
    python run.py check      lockgen check; on a pull request also lockgen diff (markdown) into the job
                             summary and, with INPUT_COMMENT=true, one pull-request comment kept up to date
    python run.py refresh    lockgen lock (--update-all, or --update for each INPUT_UPDATE name); when the
                             locks changed, commit them on a branch, push it and open (or update) one pull
                             request whose body is the markdown diff

Inputs come as INPUT_* environment variables (action.yml maps every input there, never into the
script text), GitHub's context as the variables a run provides (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH,
GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_BASE_REF, GITHUB_REF_NAME, GITHUB_STEP_SUMMARY,
GITHUB_OUTPUT, GITHUB_PATH, RUNNER_TEMP). The token (GITHUB_TOKEN) is sent only to GITHUB_API_URL
and never printed.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

EXIT_STALE = 6
"""lockgen's exit code for "a lock is not up to date" (check) and "something changed" (diff)."""
COMMENT_MARKER = "<!-- lockgen-action: lock diff"
"""The hidden first line of the comment this action owns; the working directory follows it, so two
projects in one repository keep one comment each."""
PR_EVENTS = ("pull_request", "pull_request_target")
DEFAULT_BRANCH = "lockgen/refresh"
MAX_COMMENT = 65_000
"""GitHub refuses a comment or pull-request body over 65,536 characters."""


class ActionError(Exception):
    """An expected failure: printed as a workflow error annotation, exit 1 (or the code given)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Inputs:
    """The action's inputs, read once from INPUT_* variables."""

    files: tuple[str, ...]
    platforms: tuple[str, ...]
    comment: bool
    base: str
    update: tuple[str, ...]
    lock_args: tuple[str, ...]
    branch: str
    working_directory: str
    allow_include: tuple[str, ...] = ()
    """Folders ``check`` may read ``-r`` files from outside the project: the workflow's choice."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        def words(name: str) -> tuple[str, ...]:
            return tuple(shlex.split(env.get(name, "")))

        comment = env.get("INPUT_COMMENT", "false").strip().lower()
        if comment not in ("true", "false", ""):
            raise ActionError(f"input comment: expected true or false, got {comment!r}")
        return cls(
            files=words("INPUT_ENVIRONMENT_FILES"),
            platforms=words("INPUT_PLATFORMS"),
            comment=comment == "true",
            base=env.get("INPUT_BASE", "").strip(),
            update=words("INPUT_UPDATE"),
            lock_args=words("INPUT_LOCK_ARGS"),
            branch=env.get("INPUT_BRANCH", "").strip() or DEFAULT_BRANCH,
            working_directory=env.get("INPUT_WORKING_DIRECTORY", "").strip() or ".",
            allow_include=words("INPUT_ALLOW_INCLUDE"),
        )

    def file_args(self) -> list[str]:
        return [arg for file in self.files for arg in ("-f", file)]

    def platform_args(self) -> list[str]:
        return [arg for platform in self.platforms for arg in ("-p", platform)]

    def allow_include_args(self) -> list[str]:
        return [arg for folder in self.allow_include for arg in ("--allow-include", folder)]


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def _lockgen(*args: str) -> Run:
    done = subprocess.run(["lockgen", *args], capture_output=True, text=True, check=False)
    return Run(done.returncode, done.stdout, done.stderr)


def _git(*args: str, check: bool = True) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise ActionError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip() if done.returncode == 0 else ""


def _append(variable: str, text: str, env: Mapping[str, str]) -> None:
    """Append to the file a GitHub variable names (summary, outputs, path); ignored when unset."""
    target = env.get(variable)
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(text)


def _output(name: str, value: str, env: Mapping[str, str]) -> None:
    _append("GITHUB_OUTPUT", f"{name}={value}\n", env)


def _command_value(text: str) -> str:
    """``text`` as the value of a workflow command (GitHub's escaping of %, CR and LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _echo(stdout: str, stderr: str) -> None:
    """Pass lockgen's output on to the log with workflow commands off: a line of it that starts with
    ``::`` (text a pull request controls, such as a spec, can be quoted there) stays text."""
    token = secrets.token_hex(16)
    print(f"::stop-commands::{token}", flush=True)
    sys.stdout.write(stdout)
    sys.stdout.flush()
    sys.stderr.write(stderr)
    sys.stderr.flush()
    print(f"::{token}::", flush=True)


def _fence(text: str) -> str:
    """``text`` in a code block no line of it can close."""
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}\n{text.rstrip()}\n{ticks}\n"


def _clip(body: str, limit: int = MAX_COMMENT) -> str:
    if len(body) <= limit:
        return body
    note = "\n\n_(cut to fit GitHub's size limit; run `lockgen diff` locally for the rest)_\n"
    return body[: limit - len(note)] + note


# --- the GitHub REST API -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GitHub:
    api: str
    repository: str
    token: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GitHub:
        repository = env.get("GITHUB_REPOSITORY", "")
        if "/" not in repository:
            raise ActionError("GITHUB_REPOSITORY is not set: run this inside a GitHub Actions job")
        token = env.get("GITHUB_TOKEN", "")
        if not token:
            raise ActionError("no token: give the action `token:` (the default is the job's github.token)")
        return cls(env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"), repository, token)

    def call(self, method: str, path: str, body: Mapping[str, object] | None = None) -> object:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 (the API URL is GitHub's, from the runner)
            f"{self.api}/repos/{self.repository}{path}",
            data=data,
            method=method,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token}",
                "X-GitHub-Api-Version": "2022-11-28",
                "Content-Type": "application/json",
                "User-Agent": "lockgen-action",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raise ActionError(f"GitHub API {method} {path}: HTTP {exc.code} {exc.reason}") from None
        except OSError as exc:
            raise ActionError(f"GitHub API {method} {path}: {exc}") from None
        return json.loads(payload) if payload else None

    def pages(self, path: str) -> list[dict[str, object]]:
        """Every item of a listing (100 a page, up to 30 pages)."""
        items: list[dict[str, object]] = []
        sep = "&" if "?" in path else "?"
        for page in range(1, 31):
            batch = self.call("GET", f"{path}{sep}per_page=100&page={page}")
            if not isinstance(batch, list):
                break
            items += [item for item in batch if isinstance(item, dict)]
            if len(batch) < 100:
                break
        return items


def _pull_request_number(env: Mapping[str, str]) -> int:
    event_path = env.get("GITHUB_EVENT_PATH", "")
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
        number = event["pull_request"]["number"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ActionError(f"no pull request number in the event file {event_path!r}") from None
    if not isinstance(number, int):
        raise ActionError("the event's pull_request.number is not a number")
    return number


def upsert_comment(github: GitHub, number: int, marker: str, body: str, *, create: bool = True) -> str:
    """Edit the comment that starts with ``marker`` (this action's own), or add one when ``create``;
    its URL ("" when there was none to edit)."""
    text = _clip(f"{marker}\n{body}")
    for comment in github.pages(f"/issues/{number}/comments"):
        if str(comment.get("body", "")).startswith(marker):
            updated = github.call("PATCH", f"/issues/comments/{comment['id']}", {"body": text})
            return str(updated.get("html_url", "")) if isinstance(updated, dict) else ""
    if not create:
        return ""
    created = github.call("POST", f"/issues/{number}/comments", {"body": text})
    return str(created.get("html_url", "")) if isinstance(created, dict) else ""


# --- the three steps ----------------------------------------------------------------------------------


def install(env: Mapping[str, str]) -> int:
    """A virtualenv with lockgen from this repository (the action's folder), on PATH for later steps."""
    action_path = Path(env.get("GITHUB_ACTION_PATH") or Path(__file__).resolve().parent.parent)
    if not (action_path / "pyproject.toml").is_file():
        raise ActionError(f"{action_path} holds no pyproject.toml: the action must run from lockgen's repository")
    venv = Path(env.get("RUNNER_TEMP") or Path.home()) / "lockgen-action-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    python = scripts / ("python.exe" if os.name == "nt" else "python")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(action_path)], check=True)
    _append("GITHUB_PATH", f"{scripts}\n", env)
    version = subprocess.run([str(scripts / "lockgen"), "--version"], capture_output=True, text=True, check=True)
    print(version.stdout.strip())
    return 0


def _base_revision(inputs: Inputs, env: Mapping[str, str]) -> str:
    """The revision to diff against, fetched from origin when the checkout lacks it."""
    if inputs.base:
        base = inputs.base
    elif env.get("GITHUB_BASE_REF"):
        base = f"origin/{env['GITHUB_BASE_REF']}"
    else:
        return "HEAD"
    if not _git("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}", check=False):
        branch = base.removeprefix("origin/")
        _git("fetch", "--no-tags", "--quiet", "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
    return base


def check(env: Mapping[str, str]) -> int:
    """lockgen check, then on a pull request the markdown diff (summary, and one comment when asked)."""
    inputs = Inputs.from_env(env)
    checked = _lockgen("check", *inputs.file_args(), *inputs.platform_args(), *inputs.allow_include_args())
    stale = checked.code == EXIT_STALE
    if checked.code not in (0, EXIT_STALE):
        _append("GITHUB_STEP_SUMMARY", "### lockgen check failed\n\n" + _fence(checked.stderr), env)
        raise ActionError(f"lockgen check failed (exit {checked.code}):\n{checked.stderr.strip()}", checked.code)
    summary = "### lockgen check: the locks are up to date\n\n" if not stale else "### lockgen check: stale locks\n\n"
    summary += _fence((checked.stdout + checked.stderr).strip() or "(no output)")
    _append("GITHUB_STEP_SUMMARY", summary, env)
    _output("stale", "true" if stale else "false", env)
    _echo(checked.stdout, checked.stderr)

    if env.get("GITHUB_EVENT_NAME") in PR_EVENTS:
        base = _base_revision(inputs, env)
        diffed = _lockgen("diff", base, *inputs.file_args(), "--format", "markdown")
        if diffed.code not in (0, EXIT_STALE):
            raise ActionError(f"lockgen diff {base} failed (exit {diffed.code}):\n{diffed.stderr.strip()}", diffed.code)
        changed = diffed.code == EXIT_STALE
        _output("changed", "true" if changed else "false", env)
        _append("GITHUB_STEP_SUMMARY", "\n" + diffed.stdout, env)
        if inputs.comment:
            marker = f"{COMMENT_MARKER} ({inputs.working_directory}) -->"
            # no change: an earlier comment of ours is edited to say so, no new one is added
            body = diffed.stdout if changed else f"no lock changes against `{base}` any more.\n"
            try:
                url = upsert_comment(GitHub.from_env(env), _pull_request_number(env), marker, body, create=changed)
            except ActionError as exc:  # a fork's read-only token: the summary still has the diff
                print(f"::warning::the lock diff was not posted as a comment: {_command_value(str(exc))}")
            else:
                if url:
                    _output("comment-url", url, env)
                    print(f"lock diff comment: {url}")
    if stale:
        print("::error::locks are not up to date: run `lockgen lock` and commit locks/")
        return EXIT_STALE
    return 0


def refresh(env: Mapping[str, str]) -> int:
    """Re-lock; when the locks moved, push a branch and open or update one pull request."""
    inputs = Inputs.from_env(env)
    updates = [arg for name in inputs.update for arg in ("--update", name)] or ["--update-all"]
    locked = _lockgen("lock", *inputs.file_args(), *inputs.platform_args(), *updates, *inputs.lock_args)
    _echo(locked.stdout, locked.stderr)
    if locked.code != 0:
        raise ActionError(f"lockgen lock failed (exit {locked.code})", locked.code)
    if not _git("status", "--porcelain", "--untracked-files=all"):
        print("the locks are already current: nothing to propose")
        _output("changed", "false", env)
        return 0
    diffed = _lockgen("diff", "HEAD", *inputs.file_args(), "--format", "markdown")
    if diffed.code not in (0, EXIT_STALE):
        raise ActionError(f"lockgen diff HEAD failed (exit {diffed.code}):\n{diffed.stderr.strip()}", diffed.code)
    base = env.get("GITHUB_REF_NAME") or _git("rev-parse", "--abbrev-ref", "HEAD")
    title = "Refresh conda locks" + (f": {', '.join(inputs.update)}" if inputs.update else "")
    _git("checkout", "--quiet", "-B", inputs.branch)
    _git("add", "--all")
    _git(
        "-c",
        "user.name=github-actions[bot]",
        "-c",
        "user.email=41898282+github-actions[bot]@users.noreply.github.com",
        "commit",
        "--quiet",
        "-m",
        title,
    )
    _git("push", "--quiet", "--force", "origin", f"HEAD:refs/heads/{inputs.branch}")
    github = GitHub.from_env(env)
    owner = github.repository.split("/")[0]
    body = _clip(diffed.stdout + "\n_Opened by the lockgen action's scheduled refresh._\n")
    open_prs = github.pages(f"/pulls?state=open&head={owner}:{inputs.branch}")
    if open_prs:
        pull = github.call("PATCH", f"/pulls/{open_prs[0]['number']}", {"title": title, "body": body})
    else:
        pull = github.call("POST", "/pulls", {"title": title, "head": inputs.branch, "base": base, "body": body})
    url = str(pull.get("html_url", "")) if isinstance(pull, dict) else ""
    _output("changed", "true", env)
    _output("pull-request", url, env)
    _append("GITHUB_STEP_SUMMARY", diffed.stdout, env)
    print(f"pull request: {url}")
    return 0


STEPS = {"install": install, "check": check, "refresh": refresh}


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] not in STEPS:
        print(f"usage: run.py {{{','.join(STEPS)}}}", file=sys.stderr)
        return 2
    environment = os.environ if env is None else env
    try:
        if args[0] != "install":
            os.chdir(Inputs.from_env(environment).working_directory)
        return STEPS[args[0]](environment)
    except ActionError as exc:
        print(f"::error::{_command_value(str(exc).splitlines()[0])}")
        _echo("", str(exc) + "\n")
        return exc.code


if __name__ == "__main__":
    sys.exit(main())
