"""The dashboard's first pages and API (``llmbench dashboard``): the config's targets and the keys
it names, against the app (httpx through Starlette's test client) and a real uvicorn on a
loopback port. What a person relies on:

- a key's value never comes back (``set``, at most its last four characters), in no response,
  page or server log; the ``.env`` is written atomically, mode 0600, other lines kept;
- a bad value, or a variable the config does not name, is refused with the reason (not the value);
- a change comes only by PUT/DELETE from the dashboard's own origin; a GET changes nothing; a
  page on another name (DNS rebinding) is refused; off loopback a token is needed, and then
  every request carries it;
- every string of the config is escaped; every answer has a Content-Security-Policy with no
  external source.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
with warnings.catch_warnings():  # Starlette's own note that it prefers another httpx package
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

from pytest_llmbench.dashboard.guard import CSP, BindingRefused, check_binding  # noqa: E402
from pytest_llmbench.dashboard.project import Project  # noqa: E402
from pytest_llmbench.dashboard.site import dashboard_app  # noqa: E402

CANARY = "sk-canary-5e1f0c9d2b7a4e36-DO-NOT-LEAK"
OTHER = "sk-other-0123456789abcdef-WXYZ"
INERT = "<img src=x onerror=alert(1)>"
BASE = "http://127.0.0.1:8501"


def _project(tmp_path: Path, model: str = "gpt-x") -> Project:
    document = {
        "providers": {
            "hosted": {"api_base": "http://127.0.0.1:9/v1", "api_key_env": "HOSTED_KEY",
                       "models": [{"id": model, "context_window": 8192}]},
            "second": {"api_base": "http://127.0.0.1:9/v1", "api_key_env": "SECOND_KEY",
                       "models": [{"id": "m2"}]},
            "embedded": {"managed": "simulator", "models": [{"id": "sim-a"}]},
        }
    }  # fmt: skip
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    (tmp_path / ".env").write_text(f"# keys\nHOSTED_KEY={CANARY}\nUNRELATED=1\n")
    return Project(config)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    for name in ("HOSTED_KEY", "SECOND_KEY"):
        monkeypatch.delenv(name, raising=False)
    return _project(tmp_path)


def _client(project: Project, token: str | None = None) -> Any:
    return TestClient(dashboard_app(project, token), base_url=BASE)


def test_keys_are_listed_set_or_not_with_at_most_their_last_four_characters(project):
    answer = _client(project).get("/api/keys")
    assert answer.status_code == 200
    assert CANARY not in answer.text and CANARY[:-4] not in answer.text
    keys = {k["name"]: k for k in answer.json()}
    assert sorted(keys) == ["HOSTED_KEY", "SECOND_KEY"]  # the ones the config names, only
    assert keys["HOSTED_KEY"]["set"] and keys["HOSTED_KEY"]["hint"] == "…" + CANARY[-4:]
    assert not keys["SECOND_KEY"]["set"] and keys["SECOND_KEY"]["hint"] is None
    assert answer.headers["content-security-policy"] == CSP and "http" not in CSP
    assert answer.headers["cache-control"] == "no-store"


def test_a_key_is_set_and_deleted_atomically_with_mode_0600_and_never_sent_back(project):
    from dotenv import dotenv_values

    client = _client(project)
    answer = client.put("/api/keys/SECOND_KEY", json={"value": OTHER})
    assert answer.status_code == 200, answer.text
    assert OTHER not in answer.text and answer.json()["hint"] == "…WXYZ"
    env = project.folder / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert dotenv_values(env) == {"HOSTED_KEY": CANARY, "UNRELATED": "1", "SECOND_KEY": OTHER}
    assert env.read_text().startswith("# keys\n")  # the other lines as they were
    assert not list(project.folder.glob(".env.*"))  # no temporary file left behind
    assert client.delete("/api/keys/SECOND_KEY").json()["set"] is False
    assert "SECOND_KEY" not in dotenv_values(env)
    assert dotenv_values(env)["HOSTED_KEY"] == CANARY


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECOND_KEY", "sk-line\nbreak-abcdef", "SECOND_KEY: the value holds a line break"),
        ("SECOND_KEY", "", "SECOND_KEY: an empty value"),
        ("PATH", "/tmp", "PATH: the config names no such key variable"),
        ("HOSTED_KEY", "sk-ünicode-0123456789", "holds a character that is not ASCII"),
    ],
)
def test_a_bad_key_write_is_refused_naming_the_variable_not_the_value(
    project, name, value, message
):
    before = (project.folder / ".env").read_text()
    answer = _client(project).put(f"/api/keys/{name}", json={"value": value})
    assert answer.status_code == 422 and message in answer.json()["detail"], answer.text
    if value:
        assert value not in answer.text
    assert (project.folder / ".env").read_text() == before


def test_changes_come_only_from_the_dashboards_own_origin_and_never_by_get(project):
    client = _client(project)
    before = (project.folder / ".env").read_text()
    evil = client.put("/api/keys/SECOND_KEY", json={"value": OTHER},
                      headers={"Origin": "https://evil.example"})  # fmt: skip
    assert evil.status_code == 403, evil.text
    cross = client.delete("/api/keys/HOSTED_KEY", headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    assert client.get("/api/keys/SECOND_KEY").status_code in (404, 405)
    assert (project.folder / ".env").read_text() == before
    own = client.put("/api/keys/SECOND_KEY", json={"value": OTHER}, headers={"Origin": BASE})
    assert own.status_code == 200, own.text


def test_a_page_on_another_name_is_refused(project):
    client = TestClient(dashboard_app(project), base_url="http://rebound.example:8501")
    answer = client.get("/api/keys")
    assert answer.status_code == 421 and CANARY not in answer.text


def test_with_a_token_every_request_carries_it(project):
    token = "t0ken-for-tests"
    client = TestClient(dashboard_app(project, token), base_url="http://10.1.2.3:8501")
    assert client.get("/api/keys").status_code == 401
    bearer = client.get("/api/keys", headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 200
    assert client.get("/api/keys", headers={"Authorization": "Bearer wrong"}).status_code == 401
    first = client.get(f"/?token={token}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/"
    assert "httponly" in first.headers["set-cookie"].lower()
    assert client.get("/api/keys").status_code == 200  # the cookie now
    assert token not in client.get("/").text


def test_binding_off_loopback_needs_a_token():
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_binding(host, None)
    with pytest.raises(BindingRefused, match="needs a token"):
        check_binding("0.0.0.0", None)
    check_binding("0.0.0.0", "a-token")


def test_the_page_and_its_files_come_from_the_dashboard_only(tmp_path, monkeypatch):
    monkeypatch.delenv("HOSTED_KEY", raising=False)
    project = _project(tmp_path, model=INERT)
    client = _client(project)
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/static/app.js">' in page.text
    assert 'src="http' not in page.text and 'href="http' not in page.text  # nothing from elsewhere
    assert CANARY not in page.text
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/../site.py").status_code == 404
    assert client.get("/static/site.py").status_code == 404
    targets = client.get("/api/targets").json()
    assert targets["error"] is None
    assert [m["id"] for m in targets["providers"][0]["models"]] == [INERT]  # JSON, as data


def test_an_invalid_config_shows_the_plugins_message(tmp_path, monkeypatch):
    project = _project(tmp_path)
    text = project.config_path.read_text().replace("context_window: 8192", "context_window: -1")
    project.config_path.write_text(text)
    targets = _client(project).get("/api/targets").json()
    assert "context_window" in targets["error"] and str(project.config_path) in targets["error"]
    keys = [k["name"] for k in _client(project).get("/api/keys").json()]
    assert keys == ["HOSTED_KEY", "SECOND_KEY"]  # the keys page still works


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_command_serves_on_loopback_and_refuses_another_host_without_a_token(project, tmp_path):
    refused = subprocess.run(
        [sys.executable, "-m", "pytest_llmbench.cli", "dashboard", "--config",
         str(project.config_path), "--host", "0.0.0.0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2 and "needs a token" in refused.stderr
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "pytest_llmbench.cli", "dashboard", "--config",
             str(project.config_path), "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                keys = httpx.get(base + "/api/keys", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, log.read_text()
                time.sleep(0.1)
        assert keys.status_code == 200 and CANARY not in keys.text
        put = httpx.put(base + "/api/keys/SECOND_KEY", json={"value": OTHER}, timeout=5)
        assert put.status_code == 200 and OTHER not in put.text
        assert "/static/app.js" in httpx.get(base + "/", timeout=5).text
    finally:
        server.terminate()
        server.wait(timeout=10)
    text = log.read_text()
    assert "dashboard of" in text and CANARY not in text and OTHER not in text
