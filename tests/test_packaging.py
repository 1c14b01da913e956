"""facerec as an installed package: ``pip install .`` gives ``import facerec`` and a ``facerec`` command
from any folder, and the Space's requirements.txt asks for what pyproject.toml declares."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def requirement_names(lines: list[str]) -> dict[str, str]:
    """``{normalised name: the whole requirement}`` of requirement lines (comments and -r lines skipped)."""
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name = re.split(r"[\[<>=!~ ;]", line, maxsplit=1)[0]
        found[re.sub(r"[-_.]+", "-", name).lower()] = line.replace(" ", "")
    return found


def test_requirements_txt_installs_what_pyproject_declares():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = requirement_names(project["dependencies"] + project["optional-dependencies"]["app"]
                                 + project["optional-dependencies"]["dlib"])
    pinned = requirement_names((ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines())
    assert pinned == declared


def test_pip_install_gives_the_package_and_the_command_anywhere(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(ROOT / "facerec", source / "facerec", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    # The dependencies (TensorFlow and the rest) come from this interpreter's site-packages; the
    # venv gets facerec itself, built from the copy as `pip install .` builds it.
    environment_folder = tmp_path / "venv"
    venv.create(environment_folder, system_site_packages=True, with_pip=True)
    python = environment_folder / "bin" / "python"
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(source)],
                             capture_output=True, text=True, env=environment, timeout=600)
    assert install.returncode == 0, install.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    command = subprocess.run([str(environment_folder / "bin" / "facerec"), "--help"], cwd=elsewhere,
                             capture_output=True, text=True, env=environment, timeout=120)
    assert command.returncode == 0, command.stderr[-3000:]
    assert "usage: facerec" in command.stdout and "train" in command.stdout

    imported = subprocess.run([str(python), "-c", "import facerec; print(facerec.__version__); print(facerec.__file__)"],
                              cwd=elsewhere, capture_output=True, text=True, env=environment, timeout=120)
    assert imported.returncode == 0, imported.stderr[-3000:]
    version, location = imported.stdout.split()
    assert version == subprocess.run([sys.executable, "-c", "import facerec; print(facerec.__version__)"], cwd=ROOT,
                                     capture_output=True, text=True).stdout.strip()
    assert Path(location).is_relative_to(environment_folder)
