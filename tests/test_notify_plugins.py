"""Mail and JSON webhook targets load their one apprise plugin (monitor/deliver/notify.py),
not apprise's whole registry, and the message still arrives; another scheme still goes
through the registry."""

from __future__ import annotations

import pytest

from helpers.config import hook_url
from helpers.interpreter import last_json, run_python
from helpers.servers import MailServer
from monitor.demo.server import Receiver

# aiosmtpd says so of the implicit-TLS server (the TLS is outside its view)
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

# sends one message to each URL given, in a fresh interpreter; prints each target's
# result and the apprise plugin modules imported
SEND = """
import json, sys
from monitor.deliver.notify import send
from monitor.deliver.render import Message
results = send(sys.argv[1:], Message("Budget vote", "The budget passed.", "text"), timeout=10)
plugins = sorted({m.split(".")[2] for m in sys.modules if m.startswith("apprise.plugins.")})
print(json.dumps({"ok": [r.is_ok for r in results], "plugins": plugins}))
"""


def _send(*urls: str) -> dict[str, list[object]]:
    found: dict[str, list[object]] = last_json(run_python(SEND, *urls, timeout=120))
    return found


def test_mail_and_webhook_load_their_plugin_alone(mail: MailServer, hook: Receiver) -> None:
    found = _send(mail.url(), hook_url(hook))
    assert found["ok"] == [True, True]
    assert mail.subjects() == ["Budget vote"]
    assert len(hook.received) == 1
    assert set(found["plugins"]) <= {"base", "email", "custom_json"}


def test_another_scheme_goes_through_apprises_registry(hook: Receiver) -> None:
    url = hook_url(hook).replace("json://", "form://", 1)
    found = _send(url)
    assert found["ok"] == [True]
    assert len(hook.received) == 1
    assert "telegram" in found["plugins"]  # the registry imported every plugin
