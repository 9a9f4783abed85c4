"""pyproject.toml and environment.yml declare the same dependencies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONDA_NAMES = {"pyyaml": "pyyaml"}


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_pyproject_and_environment_agree() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pip_deps = {_name(d) for d in pyproject["project"]["dependencies"]}
    pip_deps |= {_name(d) for d in pyproject["project"]["optional-dependencies"]["test"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert pip_deps == conda, (
        f"only in pyproject: {pip_deps - conda}; only in environment.yml: {conda - pip_deps}"
    )
    assert "conda-forge" in env["channels"]


def test_every_dependency_has_a_reason_in_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8").lower()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    missing = [d for d in map(_name, pyproject["project"]["dependencies"]) if d not in readme]
    assert not missing, f"README does not say why these are needed: {missing}"
