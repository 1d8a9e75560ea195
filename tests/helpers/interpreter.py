"""Code run in a fresh interpreter, for what it imports: the test process itself has
imported nearly everything by then."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from helpers.paths import REPO

# runs the command line given as JSON in-process, then prints its exit code and which
# of the modules given as JSON it imported
CLI_AND_MODULES = """
import json, sys
from monitor.cli import cli
argv, modules = json.loads(sys.argv[1]), json.loads(sys.argv[2])
try:
    cli(argv)
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "heavy": [m for m in modules if m in sys.modules]}))
"""


def run_python(code: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -c CODE ARGS`` from the repository, which must succeed."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
    )


def last_json(done: subprocess.CompletedProcess[str]) -> Any:
    """What the code printed last, as JSON (the lines before are the command's own)."""
    return json.loads(done.stdout.splitlines()[-1])


def cli_imports(argv: list[str], modules: tuple[str, ...]) -> tuple[dict[str, Any], list[str]]:
    """({"code": exit code, "heavy": the ``modules`` it imported}, the lines it printed)
    for ``newsmon ARGV`` run in a fresh interpreter."""
    done = run_python(CLI_AND_MODULES, json.dumps(argv), json.dumps(list(modules)))
    found: dict[str, Any] = last_json(done)
    return found, done.stdout.splitlines()
