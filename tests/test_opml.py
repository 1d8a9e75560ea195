"""OPML import and export: real files, nested folders, duplicates, hostile files, and an
export that imports back to the same feeds."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers.config import ALLOW_LOCAL, hook_url, write_config
from monitor.cli import cli
from monitor.demo.server import Receiver, Site
from monitor.errors import OpmlError
from monitor.sources.opml import MAX_DEPTH, read_opml

# A reader's export, as such files come: folders in folders, title and text, a feed
# listed twice, one the config already polls, a folder without feeds, a bad URL.
NESTED = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>My   subscriptions</title></head>
  <body>
    <outline text="News" title="News">
      <outline text="World">
        <outline type="rss" text="Alpha Wire" title="Alpha Wire" xmlUrl="{base}/alpha.xml"/>
        <outline type="rss" text="Новости дня" xmlUrl="{base}/novosti-dnya.xml"/>
      </outline>
      <outline type="rss" text="World again" xmlUrl="{base}/feeds/world.xml"/>
    </outline>
    <outline text="Empty folder"/>
    <outline type="rss" text="Alpha copy" xmlUrl="{base}/alpha.xml#again"/>
    <outline type="rss" text="Script" xmlUrl="javascript:alert(1)"/>
    <outline type="rss" title="No text, a title" xmlUrl="https://example.org/feed?x=1&amp;y=2"/>
  </body>
</opml>
"""


def invoke(config: Path, *args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["--config", str(config), *args], input=stdin, catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def outlines(data: bytes) -> set[tuple[str, str]]:
    root = ET.fromstring(data)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "newsmon feeds" and root.findtext("head/dateCreated")
    found = root.findall("body/outline")
    assert all(o.get("type") == "rss" and o.get("title") for o in found)
    return {(o.get("text") or "", o.get("xmlUrl") or "") for o in found}


def test_import_follows_folders_skips_duplicates_and_exports_back(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "newsmon.toml", db_url, site, {"chat": [hook_url(hook)]})
    opml = tmp_path / "subscriptions.opml"
    opml.write_text(NESTED.replace("{base}", site.base), encoding="utf-8")

    code, out, _ = invoke(config, "feeds", "import", str(opml), "--dry-run", "--format", "json")
    assert code == 0 and len(json.loads(out)["added"]) == 3
    code, out, _ = invoke(config, "feeds", "list", "--format", "json")
    assert json.loads(out) == []  # a dry run adds nothing

    code, out, err = invoke(config, "feeds", "import", str(opml))
    assert code == 0
    assert out.splitlines()[-1] == f"{opml}: added 3 feed(s), skipped 3"
    assert f"added alpha-wire: {site.base}/alpha.xml" in out
    assert f"added novosti-dnya: {site.base}/novosti-dnya.xml" in out
    assert "added no-text-a-title: https://example.org/feed?x=1&y=2" in out
    assert f"line 10: {site.base}/feeds/world.xml is already the feed 'world'" in err
    assert f"line 13: {site.base}/alpha.xml#again is a duplicate of line 7" in err
    assert "line 14: 'javascript:alert(1)' is not an http(s) URL" in err
    code, out, _ = invoke(config, "feeds", "import", str(opml), "--format", "json")
    report = json.loads(out)
    assert report["added"] == [] and len(report["skipped"]) == 6  # all there already

    exported = tmp_path / "export.opml"
    code, _, err = invoke(config, "feeds", "export", "-o", str(exported))
    assert code == 0 and "wrote 6 feed(s)" in err
    code, out, _ = invoke(config, "feeds", "export")
    assert outlines(out.encode()) == outlines(exported.read_bytes())
    assert outlines(exported.read_bytes()) == {
        ("world", f"{site.base}/feeds/world.xml"),
        ("nachrichten", f"{site.base}/feeds/nachrichten.xml"),
        ("novosti", f"{site.base}/feeds/novosti.xml"),
        ("alpha-wire", f"{site.base}/alpha.xml"),
        ("novosti-dnya", f"{site.base}/novosti-dnya.xml"),
        ("no-text-a-title", "https://example.org/feed?x=1&y=2"),
    }

    # into a newsmon with no feeds of its own: the same names and URLs
    other = tmp_path / "other.toml"
    other.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "other.db"}"\n'
        f"[http]\nallow_networks = {ALLOW_LOCAL}\n"
    )
    code, out, _ = invoke(other, "feeds", "import", "-", "--format", "json", stdin=out.encode())
    assert code == 0 and json.loads(out)["skipped"] == []
    code, again, _ = invoke(other, "feeds", "export")
    assert outlines(again.encode()) == outlines(exported.read_bytes())


def test_a_long_import_is_stored_in_batches(db_url: str, tmp_path: Path) -> None:
    items = "\n".join(
        f'<outline text="Feed {i}" xmlUrl="https://example.org/{i}.xml"/>' for i in range(450)
    )
    opml = tmp_path / "big.opml"
    opml.write_text(f'<opml version="2.0"><body>{items}</body></opml>')
    config = tmp_path / "n.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n')
    code, out, _ = invoke(config, "feeds", "import", str(opml))
    assert code == 0 and out.endswith("added 450 feed(s), skipped 0\n")
    code, out, _ = invoke(config, "feeds", "list", "--format", "json")
    assert len(json.loads(out)) == 450 and {f["origin"] for f in json.loads(out)} == {"cli"}


LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE opml [\n <!ENTITY a "aaaaaaaaaa">\n'
    ' <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n<opml><body>&b;</body></opml>'
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (LAUGHS.encode(), "refused: the file declares the entity 'a' with a 10-byte value"),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<opml><body><outline text='&x;'/></body></opml>",
            "refused: the file declares the external entity 'x'",
        ),
        (
            b'<opml version="2.0">\n<body>\n<outline text="a" xmlUrl="https://e.org/a">\n'
            b"</body>\n</opml>",
            "subs.opml:4:3: not well-formed XML: mismatched tag",
        ),
        (b"", "subs.opml:1:1: not well-formed XML: no element found"),
        (
            b'<?xml version="1.0"?>\n<rss version="2.0"><channel/></rss>',
            "subs.opml:2: the root element is <rss>, not <opml>",
        ),
        (
            b"<opml><body>" + b'<outline text="f">' * (MAX_DEPTH + 1),
            f"outlines nested deeper than {MAX_DEPTH} levels",
        ),
        (b"\xff\xfe<\x00o\x00\x00\xd8", "not valid UTF-16"),
    ],
    ids=["billion-laughs", "external-entity", "mismatched", "empty", "a-feed", "deep", "utf-16"],
)
def test_hostile_or_broken_opml_is_refused_with_its_location(data: bytes, message: str) -> None:
    with pytest.raises(OpmlError) as info:
        read_opml(data, "subs.opml")
    assert message in str(info.value)


def test_cli_reports_a_broken_file_without_traceback(tmp_path: Path) -> None:
    config = tmp_path / "n.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "n.db"}"\n')
    broken = tmp_path / "broken.opml"
    broken.write_bytes(b"<opml>\n<body>\n<outline text='x' xmlUrl=https://e.org/>\n</body></opml>")
    code, _, err = invoke(config, "feeds", "import", str(broken))
    assert code == 1 and f"error: opml: {broken}:3:" in err and "hint:" in err
    code, _, err = invoke(config, "feeds", "import", str(tmp_path / "missing.opml"))
    assert code == 1 and "cannot read" in err


def test_utf16_opml_with_its_declaration() -> None:
    text = (
        '<?xml version="1.0" encoding="UTF-16"?>\n<opml version="2.0"><head><title>Ленты</title>'
        '</head><body><outline text="Лента" xmlUrl="https://e.org/r.xml"/></body></opml>'
    )
    found = read_opml(text.encode("utf-16"), "subs.opml")
    assert found.title == "Ленты"
    assert [(f.url, f.text, f.line) for f in found.feeds] == [("https://e.org/r.xml", "Лента", 2)]
