"""GitHub as an Actions job sees it, on this machine: a REST API served on 127.0.0.1 (comments and
pull requests, kept in memory) and a runner for composite actions that runs ``action.yml``'s steps
with bash the way a workflow does (inputs and defaults, ``${{ }}`` in ``env:``/``if:``, GITHUB_PATH,
GITHUB_OUTPUT, the job summary, stopping at the first failing step)."""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml


@dataclass
class FakeGitHub:
    """What the API was asked and what it holds (one repository)."""

    url: str = ""
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    """(method, path, Authorization header) for every request."""
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    refuse_writes: bool = False
    """Answer 403 to every POST/PATCH, as GitHub does for a fork's read-only token."""
    next_id: int = 100


class _Handler(http.server.BaseHTTPRequestHandler):
    state: FakeGitHub

    def log_message(self, format: str, *args: object) -> None:
        return None

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        state = self.state
        state.requests.append((method, self.path, self.headers.get("Authorization", "")))
        split = urlsplit(self.path)
        query = parse_qs(split.query)
        body: dict[str, Any] = {}
        if method in ("POST", "PATCH"):
            if state.refuse_writes:
                self._send(403, {"message": "Resource not accessible by integration"})
                return
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
        path = re.sub(r"^/repos/[^/]+/[^/]+", "", split.path)
        page = int(query.get("page", ["1"])[0])
        if method == "GET" and (m := re.fullmatch(r"/issues/(\d+)/comments", path)):
            items = [c for c in state.comments.values() if c["issue"] == int(m[1])]
            self._send(200, items if page == 1 else [])
        elif method == "POST" and (m := re.fullmatch(r"/issues/(\d+)/comments", path)):
            state.next_id += 1
            comment = {"id": state.next_id, "issue": int(m[1]), "body": body["body"]}
            comment["html_url"] = f"https://github.test/comment/{state.next_id}"
            state.comments[state.next_id] = comment
            self._send(201, comment)
        elif method == "PATCH" and (m := re.fullmatch(r"/issues/comments/(\d+)", path)):
            comment = state.comments[int(m[1])]
            comment["body"] = body["body"]
            self._send(200, comment)
        elif method == "GET" and path == "/pulls":
            head = query.get("head", [""])[0].split(":")[-1]
            items = [p for p in state.pulls.values() if p["head"] == head and p["state"] == "open"]
            self._send(200, items if page == 1 else [])
        elif method == "POST" and path == "/pulls":
            state.next_id += 1
            pull = {"number": state.next_id, "state": "open", **body}
            pull["html_url"] = f"https://github.test/pull/{state.next_id}"
            state.pulls[state.next_id] = pull
            self._send(201, pull)
        elif method == "PATCH" and (m := re.fullmatch(r"/pulls/(\d+)", path)):
            pull = state.pulls[int(m[1])]
            pull.update(body)
            self._send(200, pull)
        else:
            self._send(404, {"message": "Not Found"})

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PATCH(self) -> None:
        self._route("PATCH")


@contextmanager
def serve_github() -> Iterator[FakeGitHub]:
    state = FakeGitHub()
    handler = type("Handler", (_Handler,), {"state": state})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# --- a composite-action runner -----------------------------------------------------------------------

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class ActionRun:
    code: int
    outputs: dict[str, str]
    """The action's outputs (``outputs:`` of action.yml, evaluated)."""
    log: str
    """Every step's stdout and stderr, in order."""
    summary: str


def _value(expression: str, inputs: Mapping[str, str], context: Mapping[str, str], steps: Mapping[str, Any]) -> str:
    """The few expression forms action.yml uses: inputs.X, github.X, steps.ID.outputs.X, a || b."""
    for alternative in expression.split("||"):
        name = alternative.strip()
        if name.startswith("inputs."):
            value = inputs.get(name.removeprefix("inputs."), "")
        elif name.startswith("github."):
            value = context.get(name.removeprefix("github."), "")
        elif m := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", name):
            value = steps.get(m[1], {}).get(m[2], "")
        else:
            raise AssertionError(f"the test runner does not know the expression {name!r}")
        if value:
            return value
    return ""


def _substitute(text: str, inputs: Mapping[str, str], context: Mapping[str, str], steps: Mapping[str, Any]) -> str:
    return _EXPR.sub(lambda m: _value(m[1], inputs, context, steps), text)


def _condition(condition: str, inputs: Mapping[str, str]) -> bool:
    """``inputs.X == 'v'`` / ``!=`` clauses joined by ``&&`` (what action.yml's ``if:`` use)."""
    result = True
    for clause in condition.split("&&"):
        m = re.fullmatch(r"\s*inputs\.([\w-]+)\s*(==|!=)\s*'([^']*)'\s*", clause)
        assert m, f"the test runner does not know the condition {clause!r}"
        equal = inputs.get(m[1], "") == m[3]
        result = result and (equal if m[2] == "==" else not equal)
    return result


def _parse_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            if "=" in line:
                key, _, value = line.partition("=")
                values[key] = value
    return values


def run_action(
    action_dir: Path,
    given: Mapping[str, str],
    *,
    workspace: Path,
    runner_temp: Path,
    env: Mapping[str, str],
    token: str = "",
) -> ActionRun:
    """Run ``action_dir/action.yml`` with the inputs ``given`` (a workflow's ``with:``) in ``workspace``."""
    action = yaml.safe_load((action_dir / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    declared = action.get("inputs", {})
    unknown = set(given) - set(declared)
    assert not unknown, f"inputs the action does not declare: {sorted(unknown)}"
    context = {"token": token, "action_path": str(action_dir)}
    inputs = {name: _substitute(str(spec.get("default", "")), {}, context, {}) for name, spec in declared.items()}
    inputs.update({k: str(v) for k, v in given.items()})
    summary = runner_temp / "step-summary.md"
    path_file = runner_temp / "path.txt"
    summary.write_text("")
    path_file.write_text("")
    steps: dict[str, dict[str, str]] = {}
    log = []
    code = 0
    for number, step in enumerate(action["runs"]["steps"]):
        if "if" in step and not _condition(step["if"], inputs):
            continue
        output_file = runner_temp / f"output-{number}.txt"
        output_file.write_text("")
        extra_path = [line for line in path_file.read_text().splitlines() if line]
        step_env = {
            **env,
            "GITHUB_ACTION_PATH": str(action_dir),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_PATH": str(path_file),
            "RUNNER_TEMP": str(runner_temp),
            "PATH": os.pathsep.join([*reversed(extra_path), env.get("PATH", os.defpath)]),
        }
        step_env.update({k: _substitute(str(v), inputs, context, steps) for k, v in step.get("env", {}).items()})
        assert step["shell"] == "bash"
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=workspace,
            env=step_env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        log.append(done.stdout + done.stderr)
        if "id" in step:
            steps[step["id"]] = _parse_file(output_file)
        if done.returncode != 0:
            code = done.returncode
            break
    outputs = {
        name: _substitute(str(spec["value"]), inputs, context, steps) for name, spec in action["outputs"].items()
    }
    return ActionRun(code, outputs, "".join(log), summary.read_text())
