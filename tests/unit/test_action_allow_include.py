"""The Action's ``allow-include`` input: the workflow, not the pull request, says where ``check`` may read
pip ``-r`` files outside the project (``[tool.lockgen] allow-includes`` counts for ``lock`` only)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _run_py() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lockgen_action_run", ROOT / "action" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_the_input_reaches_check_as_allow_include_options() -> None:
    run = _run_py()
    inputs = run.Inputs.from_env({"INPUT_ALLOW_INCLUDE": "../shared '/opt/team reqs'"})
    assert inputs.allow_include_args() == ["--allow-include", "../shared", "--allow-include", "/opt/team reqs"]
    assert run.Inputs.from_env({}).allow_include_args() == []


def test_action_yml_maps_the_input_into_the_check_step_only() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["inputs"]["allow-include"]["default"] == ""
    steps = {step.get("id"): step for step in action["runs"]["steps"]}
    assert steps["check"]["env"]["INPUT_ALLOW_INCLUDE"] == "${{ inputs.allow-include }}"
    assert "INPUT_ALLOW_INCLUDE" not in steps["refresh"]["env"]  # lock honours pyproject.toml's own
