"""The demo gathers three outlets' reports of one event into one story: one alert for
its watchlists, and the demo says so and prints how to look at the story."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.demo.run import run_demo

OUTLETS = {"The Meridian Post", "The Harbour Courier", "Northgate Gazette"}


def test_the_demo_makes_one_story_of_three_outlets_reports(tmp_path: Path) -> None:
    done = run_demo(tmp_path / "demo", lambda _feeds, _hook: None)
    assert done.is_ok
    [story] = done.stories  # the only story that several sources reported
    assert {m.source for m in story.members} == OUTLETS
    # (the Meridian Post's report also comes through demo-nachrichten, syndicated)
    carried = {f for m in story.members for f in m.feeds}
    assert {"demo-world-wire", "demo-courier", "demo-gazette"} <= carried
    made = done.story_alerts(story)
    new = [a for a in made if a.kind == "new"]
    assert len(new) == 1 and set(new[0].watchlists) == {"nato", "ukraine"}
    assert [a.kind for a in made if a.kind != "new"] == ["growth"]  # 3 sources, once
    # the webhook got the story's one alert and its growth update, no more
    shown = [re.findall(r"alerts show (\d+)", json.loads(b)["message"]) for b in done.received]
    assert sorted(int(i) for ids in shown for i in ids if int(i) in {a.id for a in made}) == [
        a.id for a in made
    ]
    # the German report of the same meeting stays its own story (languages apart)
    assert not any("Nato-Gipfel" in m.title for m in story.members)


def test_the_demo_says_so_and_the_hint_runs_as_printed(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    said = re.search(
        r"^story (\d+): 3 reports from 3 sources in 1 language: 1 alert, 1 growth update$",
        result.stdout,
        re.M,
    )
    assert said, result.stdout
    hint = next(
        line.strip()
        for line in result.stdout.splitlines()
        if line.strip().endswith(f"stories show {said[1]}")
    )
    shown = subprocess.run(
        shlex.split(hint), capture_output=True, text=True, timeout=120, check=False
    )
    assert shown.returncode == 0, shown.stderr
    assert f"Story {said[1]}:" in shown.stdout and "3 reports from 3 sources" in shown.stdout
    assert all(name in shown.stdout for name in OUTLETS)
