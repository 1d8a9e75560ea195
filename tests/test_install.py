"""The service install as the README has an operator do it: the wheel into a virtualenv,
`newsmon init`, the commands it prints, the unit it writes, and a first start of the
daemon with systemd's notify socket, in a scratch prefix."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers.config import ALLOW_LOCAL
from helpers.paths import REPO
from helpers.systemd import Notifications
from monitor.cli import cli
from monitor.config import install
from monitor.config.settings import load
from monitor.demo.server import Site

IS_ROOT = os.geteuid() == 0
USER = ["--user", "root", "--group", "root"] if IS_ROOT else []


def _init(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["init", *USER, *args])
    return result.exit_code, result.stdout, result.stderr


def _next_steps(output: str) -> list[str]:
    return [line[2:] for line in output.split("then run\n", 1)[1].splitlines()]


# ------------------------------------------------------------------ init, in-process


def test_init_writes_each_file_once_and_only_overwrites_when_forced(tmp_path: Path) -> None:
    prefix = tmp_path / "root"
    code, out, err = _init("--prefix", str(prefix))
    assert code == 0, err
    layout = install.Layout.under(prefix)
    config, unit = layout.config.read_text(), layout.unit.read_text()
    assert f'url = "sqlite:///{layout.state_dir}/newsmon.db"' in config
    settings = load(layout.config, with_secrets=True)  # starts without any secret
    assert settings.channel == {} and len(settings.feed) >= 10
    assert layout.state_dir.is_dir() and layout.link.resolve() == install.executable().resolve()
    assert layout.env.stat().st_mode & 0o777 == 0o640
    assert layout.config.stat().st_mode & 0o777 == 0o640
    assert not re.search(r"(?<![\w.])(/etc/newsmon|/var/lib/newsmon|/opt/newsmon)", unit)
    assert f"ExecStart={install.executable()} --config {layout.config} run\n" in unit
    assert f"EnvironmentFile=-{layout.env}\n" in unit
    assert f"ReadWritePaths={layout.state_dir}\n" in unit and "StateDirectory=" not in unit
    doc = re.search(r"^Documentation=file://(\S+)$", unit, re.M)
    assert doc is not None and Path(doc.group(1)).is_file()
    for path in (layout.config, layout.env, layout.unit):
        assert str(path) in out
    # a second init changes nothing, and says what is in the way
    layout.config.write_text(config + "# edited\n")
    code, _, err = _init("--prefix", str(prefix))
    assert code == 1 and "already there" in err and "--force" in err
    for path in (layout.config, layout.env, layout.unit):
        assert str(path) in err
    assert layout.config.read_text().endswith("# edited\n")
    code, _, err = _init("--prefix", str(prefix), "--force")
    assert code == 0, err
    assert layout.config.read_text() == config


def test_init_puts_each_folder_where_it_is_told(tmp_path: Path) -> None:
    chosen = {name: tmp_path / name for name in ("conf", "state", "units", "bin")}
    code, out, err = _init(
        "--prefix",
        str(tmp_path / "unused"),
        *("--config-dir", str(chosen["conf"]), "--state-dir", str(chosen["state"])),
        *("--unit-dir", str(chosen["units"]), "--bin-dir", str(chosen["bin"])),
    )
    assert code == 0, err
    assert not (tmp_path / "unused").exists()
    assert (chosen["conf"] / "newsmon.toml").is_file() and (chosen["bin"] / "newsmon").exists()
    assert f"systemctl enable --now {chosen['units'] / 'newsmon.service'}" in out
    result = CliRunner().invoke(cli, ["--config", "x.toml", "init"])
    assert result.exit_code == 2 and "--config-dir" in result.output


def test_the_unit_init_writes_for_the_usual_places_is_the_shipped_one() -> None:
    shipped = (REPO / "systemd" / "newsmon.service").read_text()
    layout = install.Layout.under(Path("/"))
    account = install.Account("newsmon", "newsmon", is_owning=True)
    exe, doc = Path(install.UNIT_EXE), Path(install.UNIT_README)
    assert install.render_unit(shipped, layout, account, exe, doc) == shipped
    assert "EnvironmentFile=-/etc/newsmon/env\n" in shipped
    assert "#LoadCredential=" in shipped and "RestartPreventExitStatus=78\n" in shipped


def test_the_readme_runs_the_cli_on_the_server_as_init_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The README's service steps hold the commands `sudo newsmon init` prints on a
    server with sudo, once it has linked /usr/local/bin/newsmon."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Running as a service", 1)[1].split("\n## ", 1)[0]
    steps = section.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("  #", 1)[0].rstrip() for line in steps.splitlines()]
    exe = Path(install.UNIT_EXE)
    monkeypatch.setattr(install, "executable", lambda: exe)
    known = {"sudo": "/usr/bin/sudo", "newsmon": "/usr/local/bin/newsmon"}
    monkeypatch.setattr(install.shutil, "which", known.get)
    monkeypatch.setattr(install.Path, "resolve", lambda p: exe if p.name == "newsmon" else p)
    account = install.Account("newsmon", "newsmon", is_owning=True)
    printed = install.next_steps(install.Layout.under(Path("/")), account)
    assert printed[0] == "sudo -u newsmon newsmon config check"
    assert "sudo /opt/newsmon/bin/newsmon init" in commands
    position = [commands.index(line) for line in printed]  # each one, in this order
    assert position == sorted(position) and position[0] > commands.index(
        "sudo /opt/newsmon/bin/newsmon init"
    )


# ------------------------------------------------------------------ the whole procedure


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built as a release would be (pip's build isolation, from the index)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (found,) = out.glob("newsmon-*.whl")
    return found


def test_the_wheel_ships_what_init_and_the_unit_need(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    data = next(
        n.split("/", 1)[0] for n in names if n.endswith(".data/data/share/doc/newsmon/README.md")
    )
    assert {
        "monitor/_data/newsmon.toml",
        "monitor/_data/newsmon.service",
        "monitor/_migrations/env.py",
        f"{data}/data/share/doc/newsmon/README.md",
    } <= names


def _venv(root: Path, wheel: Path) -> Path:
    """A virtualenv with the wheel installed. Its dependencies are this test run's own
    (a .pth line, which does not bring this checkout's editable install along): the
    same versions the suite runs with, without downloading them again."""
    venv = root / "opt" / "newsmon"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "zz-newsmon-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return venv


def _sh(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A printed command, run as printed, in a plain login-like environment."""
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd), "LANG": "C.UTF-8"}
    return subprocess.run(
        ["sh", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="systemd is Linux only")
def test_install_from_the_wheel_init_check_and_first_start(
    tmp_path: Path, wheel: Path, site: Site
) -> None:
    root = tmp_path / "root"
    venv = _venv(root, wheel)
    newsmon = venv / "bin" / "newsmon"
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import monitor; print(monitor.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.startswith(str(venv))  # the wheel's code, not this checkout's
    init = subprocess.run(
        [str(newsmon), "init", "--prefix", str(root), *USER],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert init.returncode == 0, init.stderr
    layout = install.Layout.under(root)
    steps = _next_steps(init.stdout)
    check_line = next(s for s in steps if s.endswith(" config check"))
    status_line = next(s for s in steps if s.endswith(" status"))
    assert f"{newsmon} --config {layout.config}" in check_line
    unit = layout.unit.read_text()
    if shutil.which("systemd-analyze"):
        verify = subprocess.run(
            ["systemd-analyze", "verify", str(layout.unit)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert verify.returncode == 0 and verify.stdout + verify.stderr == "", verify.stderr
    else:
        print("systemd-analyze is not installed: the written unit was not verified")
    checked = _sh(check_line, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(f"config OK: {layout.config} (from --config): ")
    # the example's public feeds, served from here instead (tests reach no other host)
    config = layout.config.read_text()
    config = re.sub(r'(?m)^url = "https?://[^"]+"', f'url = "{site.base}/feeds/world.xml"', config)
    layout.config.write_text(
        config.replace("allow_networks = []", f"allow_networks = {ALLOW_LOCAL}")
    )
    exec_start = re.search(r"^ExecStart=(.+)$", unit, re.M)
    workdir = re.search(r"^WorkingDirectory=(.+)$", unit, re.M)
    assert exec_start is not None and workdir is not None
    notes = Notifications(tmp_path / "notify.sock")  # where systemd would listen
    env = {
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
        "NOTIFY_SOCKET": str(notes.path),
    }
    log = tmp_path / "daemon.log"
    with log.open("w") as stderr:
        daemon = subprocess.Popen(
            shlex.split(exec_start.group(1)), cwd=workdir.group(1), env=env, stderr=stderr
        )
    try:
        ready = notes.wait_for("READY=1", timeout=90)
        feeds = len(re.findall(r"(?m)^\[\[feed\]\]", config))
        watchlists = len(re.findall(r"(?m)^\[watchlist\.[^.\]]+\]", config))
        assert f"STATUS=polling {feeds} feeds for {watchlists} watchlists" in ready
        status = _sh(status_line, tmp_path)
        assert status.returncode in (0, 2), status.stderr  # 2: not every feed polled yet
        assert f"  config     {layout.config} (from --config)" in status.stdout
        daemon.send_signal(signal.SIGTERM)
        notes.wait_for("STOPPING=1", timeout=90)
        assert daemon.wait(timeout=90) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        notes.sock.close()
    text = log.read_text()
    assert f"msg=started config={layout.config} feeds={feeds}" in text, text
    assert (layout.state_dir / "newsmon.db").is_file()


@pytest.mark.skipif(not IS_ROOT or not shutil.which("runuser"), reason="needs root and runuser")
def test_the_service_user_reads_the_config_and_writes_the_state_folder() -> None:
    """As root, for an unprivileged user (nobody): it may read the config and write its
    state folder; another user (daemon) may do neither."""
    with tempfile.TemporaryDirectory() as scratch:  # pytest's tmp_path is private to root
        root = Path(scratch)
        root.chmod(0o755)
        result = CliRunner().invoke(
            cli, ["init", "--prefix", str(root), "--user", "nobody", "--group", "nogroup"]
        )
        assert result.exit_code == 0, result.output
        layout = install.Layout.under(root)

        def can(user: str, test: str) -> bool:
            return subprocess.run(["runuser", "-u", user, "--", "sh", "-c", test]).returncode == 0

        assert can("nobody", f"test -r {layout.config} && test -r {layout.env}")
        assert can("nobody", f"touch {layout.state_dir}/probe")
        assert not can("daemon", f"test -r {layout.config}")
        assert not can("daemon", f"test -r {layout.env}")
        assert not can("daemon", f"touch {layout.state_dir}/probe2")
