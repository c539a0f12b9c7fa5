"""Reading pip: lines (options, -r/-c files, skipped forms, errors) and requirements files."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgen.errors import InputError
from lockgen.lockfiles.requirements import Pin, PreviousLock, logical_lines, parse_compiled, read_previous
from lockgen.project import project_roots
from lockgen.pypi.requirements import parse_pip_entries
from lockgen.spec.model import Location, PipEntry


def entries(tmp_path: Path, *texts: str) -> list[PipEntry]:
    env = str(tmp_path / "environment.yml")
    return [PipEntry(text, None, Location(env, 20 + i)) for i, text in enumerate(texts)]


def test_options_and_requirements(tmp_path: Path) -> None:
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "x-1.0-py3-none-any.whl").write_bytes(b"")
    pip = parse_pip_entries(
        entries(
            tmp_path,
            "--index-url https://user:pw@pypi.example/simple",
            "--extra-index-url=https://extra.example/simple",
            "-f wheels",
            "--pre",
            "transformers[torch]>=4.30",
            'colorama ; sys_platform == "win32"',
            "pkg @ https://files.example/pkg-1.0-py3-none-any.whl#sha256=" + "a" * 64,
        )
    )
    assert pip.index_url == "https://user:pw@pypi.example/simple"
    assert pip.extra_index_urls == ("https://extra.example/simple",)
    assert pip.find_links == (str((tmp_path / "wheels").resolve()),)
    assert pip.pre
    assert pip.requirements[0] == "transformers[torch]>=4.30"
    assert [n for n, _ in pip.names] == ["transformers", "colorama", "pkg"]
    assert pip.names[1][1] == Location(str(tmp_path / "environment.yml"), 25)
    payload = pip.hash_payload()
    assert payload["index-url"] == "https://pypi.example/simple"  # no credentials in the hash input
    assert payload["find-links"] == ["wheels: x-1.0-py3-none-any.whl"]  # as written: the same on every machine


def test_requirement_and_constraint_files_relative_to_the_env_file(tmp_path: Path) -> None:
    (tmp_path / "req").mkdir()
    (tmp_path / "req" / "base.txt").write_text("# base\nrequests>=2 \\\n  # continued\nrich  # inline\n-r more.txt\n")
    (tmp_path / "req" / "more.txt").write_text("tqdm\n")
    (tmp_path / "pins.txt").write_text("urllib3<3\n")
    pip = parse_pip_entries(entries(tmp_path, "-r req/base.txt", "-c pins.txt", "--requirement=req/more.txt"))
    assert pip.requirements == ("requests>=2", "rich", "tqdm", "tqdm")
    assert pip.constraints == ("urllib3<3",)
    assert pip.names[1] == ("rich", Location(str(tmp_path / "req" / "base.txt"), 4))


def test_vcs_urls_and_local_projects_are_direct_requirements(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "me"\nversion = "1"\n')
    (tmp_path / "vendored" / "pkg").mkdir(parents=True)
    (tmp_path / "vendored" / "pkg" / "setup.py").write_text("")
    pip = parse_pip_entries(
        entries(tmp_path, "-e .", "./vendored/pkg", "git+https://github.com/x/y.git", "z @ git+https://h/z@v1")
    )
    assert pip.requirements == () and pip.warnings == ()
    assert [d.uv_line for d in pip.direct] == [
        f"-e {tmp_path}",
        str(tmp_path / "vendored" / "pkg"),
        "git+https://github.com/x/y.git",
        "z @ git+https://h/z@v1",
    ]
    assert pip.direct[0].editable and not pip.direct[1].editable
    assert pip.names == (("z", Location(str(tmp_path / "environment.yml"), 23)),)
    before = pip.hash_payload()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "me"\nversion = "1"\ndependencies = ["x"]\n')
    after = parse_pip_entries(entries(tmp_path, "-e .", "./vendored/pkg", "git+https://github.com/x/y.git"))
    assert after.hash_payload()["direct"][0] != before["direct"][0]  # type: ignore[index]


def test_local_paths_that_are_not_projects_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError) as info:
        parse_pip_entries(entries(tmp_path, "-e ./missing", "./empty", "pkg @ file:///tmp/nowhere/p.whl"))
    messages = [str(p) for p in info.value.problems]
    assert len(messages) == 3
    assert messages[0].startswith(f"{tmp_path / 'environment.yml'}:20: `-e ./missing`")
    assert "has no pyproject.toml, setup.cfg or setup.py" in messages[1]


def test_all_problems_at_once_with_locations(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        parse_pip_entries(entries(tmp_path, "--trusted-host x", "-r missing.txt", "--index-url", "not a requirement!!"))
    lines = [str(p) for p in info.value.problems]
    env = str(tmp_path / "environment.yml")
    assert lines[0].startswith(f"{env}:20: pip option --trusted-host is not supported in a locked pip section: ")
    assert lines[1].startswith(f"{env}:21: cannot read missing.txt")
    assert lines[2] == f"{env}:22: pip option --index-url needs a value"
    assert lines[3].startswith(f"{env}:23: invalid pip requirement 'not a requirement!!'")


def test_include_cycle_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("-r b.txt\n")
    (tmp_path / "b.txt").write_text("-r a.txt\n")
    with pytest.raises(InputError, match="included again"):
        parse_pip_entries(entries(tmp_path, "-r a.txt"))


def test_the_project_tree_is_looked_up_at_the_first_include(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where ``-r``/``-c`` files may live (the environment file's folder, its git work tree: paths
    resolved, parents searched) is worked out at the first such line: ``check`` and a no-op ``lock``
    read pip lines without one several times, 0.1 ms a lookup before (docs/performance.md, "Round 8:
    check"). An include outside the tree is still refused, one inside still read."""
    from lockgen.pypi import requirements
    from lockgen.pypi.requirements import outside_includes

    looked: list[Path] = []

    def counted(env_file: Path) -> tuple[Path, ...]:
        looked.append(env_file)
        return project_roots(env_file)

    monkeypatch.setattr(requirements, "project_roots", counted)
    project = tmp_path / "project"
    project.mkdir()
    assert parse_pip_entries(entries(project, "rich>=13", "--pre")).requirements == ("rich>=13",)
    assert outside_includes(entries(project, "rich>=13")) == []
    assert looked == []
    (project / "extra.txt").write_text("tqdm\n")
    (tmp_path / "secret.txt").write_text("evil\n")
    assert parse_pip_entries(entries(project, "rich>=13", "-r extra.txt")).requirements == ("rich>=13", "tqdm")
    assert len(looked) == 1
    [(where, written, _)] = outside_includes(entries(project, "rich>=13", "-r ../secret.txt"))
    assert (where.line, written) == (21, "-r ../secret.txt")
    with pytest.raises(InputError, match="outside the project"):
        parse_pip_entries(entries(project, "-r ../secret.txt"))


def test_logical_lines() -> None:
    text = "a==1 \\\n    --hash=sha256:x\n# comment\n\nb==2  # note\nurl#frag==1\n"
    assert logical_lines(text) == [(1, "a==1      --hash=sha256:x"), (5, "b==2"), (6, "url#frag==1")]


def test_parse_compiled_uv_output() -> None:
    text = (
        "accelerate==1.2.1 \\\n    --hash=sha256:bb \\\n    --hash=sha256:aa\n"
        "torch==2.1.0+conda \\\n    --hash=sha256:cc\n"
        "pkg @ https://files.example/pkg-1.0-py3-none-any.whl \\\n    --hash=sha256:dd\n"
    )
    assert parse_compiled(text) == (
        Pin("accelerate", "1.2.1", None, ("sha256:aa", "sha256:bb")),
        Pin("torch", "2.1.0+conda", None, ("sha256:cc",)),
        Pin("pkg", "1.0", "https://files.example/pkg-1.0-py3-none-any.whl", ("sha256:dd",)),
    )


def test_previous_pins_apply_per_platform(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(
        "# Generated by lockgen from environment.yml\n# input-hash: sha256:abc\n--index-url https://x/simple\n"
        'wandb==0.21.4 ; sys_platform == "darwin" \\\n    --hash=sha256:aa\n'
        'wandb==0.29.0 ; sys_platform == "linux" or sys_platform == "win32" \\\n    --hash=sha256:bb\n'
        "tqdm==4.70.0 \\\n    --hash=sha256:cc\n"
    )
    previous = read_previous(path)
    assert previous is not None and previous.input_hash == "sha256:abc"
    assert previous.preferences({"sys_platform": "darwin", "platform_machine": "x86_64"}) == (
        "tqdm==4.70.0",
        "wandb==0.21.4",
    )
    assert previous.preferences({"sys_platform": "win32", "platform_machine": "AMD64"}) == (
        "tqdm==4.70.0",
        "wandb==0.29.0",
    )
    path.write_text("requests==1.0\n")
    assert read_previous(path) is None  # not written by lockgen
    assert read_previous(tmp_path / "absent.txt") is None
    assert PreviousLock(None, ()).preferences({}) == ()


def test_per_requirement_hash_options_are_read_for_pinned_requirements(tmp_path: Path) -> None:
    """pip's `name==X --hash=sha256:...` (also from a pip-compile file given with -r, continuation
    lines and all): the requirement goes to uv without the option, the hashes are kept to check."""
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    (tmp_path / "compiled.txt").write_text(
        f'tqdm==4.66.0 ; python_version >= "3.8" \\\n    --hash={a} \\\n    --hash {b}\n    # via -r in.txt\n'
    )
    pip = parse_pip_entries(entries(tmp_path, f"colorama==0.4.6 --hash={a}", "-r compiled.txt"))
    assert pip.requirements == ("colorama==0.4.6", 'tqdm==4.66.0 ; python_version >= "3.8"')
    given = {g.name: (g.hashes, g.where.line) for g in pip.given_hashes}
    assert given == {"colorama": (frozenset({a}), 20), "tqdm": (frozenset({a, b}), 1)}
    assert pip.hash_payload()["given-hashes"] == [["colorama", [a]], ["tqdm", [a, b]]]


def test_hash_options_that_cannot_be_checked_are_refused_by_name(tmp_path: Path) -> None:
    good = "sha256:" + "a" * 64
    with pytest.raises(InputError) as caught:
        parse_pip_entries(
            entries(
                tmp_path,
                f"colorama>=0.4 --hash={good}",
                "tqdm==4.66.0 --hash=md5:0123",
                "rich==13.0 --config-settings=x=y",
                f"git+https://host/org/pkg.git --hash={good}",
            )
        )
    messages = [(p.line, p.message) for p in caught.value.problems]
    assert messages[0][0] == 20 and "must be pinned with ==" in messages[0][1]
    assert messages[1][0] == 21 and "lockgen checks sha256 hashes only" in messages[1][1]
    assert messages[2][0] == 22 and "pip option --config-settings on a requirement line" in messages[2][1]
    assert messages[3][0] == 23 and "only a pinned requirement (name==version) takes --hash" in messages[3][1]


def test_trusted_host_is_refused_with_the_reason_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        parse_pip_entries(entries(tmp_path, "--trusted-host pypi.internal"))
    (problem,) = info.value.problems
    assert (problem.file, problem.line) == (str(tmp_path / "environment.yml"), 20)
    assert "plain http or without checking its TLS certificate" in problem.message  # why
    assert "serve the index over https and drop the option" in problem.message  # the fix
    assert "set SSL_CERT_FILE to its bundle" in problem.message  # a private CA's certificate
    assert 'docs/reliability.md, "Proxies, .netrc and certificates"' in problem.message


def test_another_option_is_refused_naming_the_options_lockgen_understands(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        parse_pip_entries(entries(tmp_path, "--no-binary :all:"))
    (problem,) = info.value.problems
    assert problem.message.startswith("pip option --no-binary is not supported in a locked pip section (lockgen")
    assert "--prefer-binary" in problem.message and problem.message.endswith("remove the line")


def test_prefer_binary_is_read_and_changes_the_input_hash_only_when_written(tmp_path: Path) -> None:
    plain = parse_pip_entries(entries(tmp_path, "numpy"))
    prefer = parse_pip_entries(entries(tmp_path, "--prefer-binary", "numpy"))
    assert (plain.prefer_binary, prefer.prefer_binary) == (False, True)
    assert "prefer-binary" not in plain.hash_payload()  # every existing lock keeps its input hash
    assert prefer.hash_payload() == {**plain.hash_payload(), "prefer-binary": True}
