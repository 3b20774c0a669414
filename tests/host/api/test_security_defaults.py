"""Security defaults: the token check, the token kept out of logs, loopback unless a token is
set, and no CORS.

The token comparison must be constant-time: a response's timing must say nothing about how
much of a guess was right. Timing is too noisy to test on a shared machine, so this checks
the behaviour (every wrong token is refused, whatever its length) and, statically, that the
one comparison in host/ is host.security.token_matches, which uses hmac.compare_digest.
"""

import ast
import os
import random
import signal
import stat
import string
import subprocess

import httpx
import pytest
from fastapi.testclient import TestClient

from host.security import is_loopback, token_matches
from host.service import create_app
from host.settings import Settings
from tests.support.paths import REPO
from tests.support.service_proc import AUTH, LUMENRIG, TOKEN, ServiceProcess, free_port, wait_for

HOST = REPO / "host"
LETTERS = string.ascii_letters + string.digits + "-_"


# ---- the token comparison -------------------------------------------------------------------

def _wrong_tokens():
    """Wrong guesses of every length from 1 to 8 past the token's: random ones, every proper
    prefix, the token with one more character, and the token with one character changed."""
    rng = random.Random(11)
    guesses = ["".join(rng.choice(LETTERS) for _ in range(n)) for n in range(1, len(TOKEN) + 9)]
    guesses += [TOKEN[:n] for n in range(1, len(TOKEN))]
    guesses += [TOKEN + "x", TOKEN.upper(), " " + TOKEN[1:]]
    guesses += [TOKEN[:i] + ("A" if TOKEN[i] != "A" else "B") + TOKEN[i + 1:]
                for i in range(len(TOKEN))]
    return [g for g in guesses if g != TOKEN]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("security")
    settings = Settings(db_url="sqlite:///%s" % (folder / "s.sqlite"), token=TOKEN,
                        data_dir=folder)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_every_wrong_token_of_every_length_is_refused(client):
    guesses = _wrong_tokens()
    assert {len(g) for g in guesses} >= set(range(1, len(TOKEN) + 9))
    for guess in guesses:
        response = client.post("/api/runs/1/abort", headers={"Authorization": "Bearer " + guess})
        assert response.status_code == 401, guess
        assert len(guess) < 8 or guess not in response.text  # a refusal never echoes it
    right = client.post("/api/runs/1/abort", headers=AUTH)
    assert right.status_code == 404  # past the token check: there is no run 1


def test_token_matches_takes_any_text_and_refuses_all_but_the_token():
    assert token_matches(TOKEN, TOKEN)
    for guess in [None, "", "é" * len(TOKEN), "\x00" * len(TOKEN), *_wrong_tokens()]:
        assert not token_matches(guess, TOKEN), guess


def _host_modules():
    for path in sorted(HOST.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        yield path, tree, parents


def _mentions_token(node):
    return any((isinstance(n, ast.Name) and "token" in n.id.lower())
               or (isinstance(n, ast.Attribute) and "token" in n.attr.lower())
               for n in ast.walk(node))


def test_the_configured_token_is_read_only_to_be_compared_by_token_matches():
    uses = []
    for path, tree, parents in _host_modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "token" and isinstance(
                    node.ctx, ast.Load):
                call = parents.get(node)
                uses.append((path.relative_to(HOST.parent), ast.unparse(call)))
                assert isinstance(call, ast.Call) and ast.unparse(call.func) == "token_matches", (
                    f"{path}:{node.lineno}: the token is used outside token_matches")
    assert uses, "no use of the configured token found: the check looks at the wrong code"


def test_no_token_is_compared_with_an_equality_operator():
    equality = (ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.In, ast.NotIn)
    for path, tree, _ in _host_modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and _mentions_token(node):
                constants_only = all(isinstance(c, ast.Constant) and c.value is None
                                     for c in node.comparators)
                assert constants_only or not any(isinstance(op, equality) for op in node.ops), (
                    f"{path}:{node.lineno}: {ast.unparse(node)}")


def test_token_matches_compares_with_hmac_compare_digest():
    tree = ast.parse((HOST / "security.py").read_text())
    function = next(n for n in ast.walk(tree)
                    if isinstance(n, ast.FunctionDef) and n.name == "token_matches")
    calls = [ast.unparse(n.func) for n in ast.walk(function) if isinstance(n, ast.Call)]
    assert "hmac.compare_digest" in calls
    assert not [n for n in ast.walk(function) if isinstance(n, ast.Compare)
                and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in n.ops)]


# ---- a running service: logs and CORS ----------------------------------------------------

@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("security-service")
    proc = ServiceProcess(["sim:G1?accel=100&seed=8"], "sqlite:///%s" % (folder / "s.sqlite"),
                          folder).start()
    yield proc
    proc.stop()


def test_the_token_never_appears_in_the_service_log(service):
    url = service.url
    sweep = {"start_v": 8, "stop_v": 10, "step_v": 0.5, "dwell_s": 0.5}
    started = httpx.post(url + "/api/runs", headers=AUTH, timeout=30,
                         json={"kind": "jvl", "rig": "rig1", "params": sweep})
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    wait_for(lambda: httpx.get(f"{url}/api/runs/{run_id}", timeout=60).json()["state"] == "completed",
             60, "the run to complete")
    attempts = [
        ("POST", "/api/runs", {"Authorization": "Bearer " + TOKEN[:-1]}, {"kind": "jvl"}),
        ("POST", f"/api/runs/{run_id}/abort", {"Authorization": "Basic " + TOKEN}, None),
        ("POST", "/api/runs", AUTH, {"kind": "lifetime", "params": {"voltage_v": TOKEN}}),
        ("PUT", "/api/rigs/rig1/calibration", AUTH, {"note": TOKEN}),
        ("GET", f"/api/runs/{run_id}/samples?token={TOKEN}", AUTH, None),
        ("POST", f"/api/runs/{run_id}/abort", AUTH, None),
        ("GET", f"/api/runs/{TOKEN}", AUTH, None),
    ]
    for method, path, headers, body in attempts:
        response = httpx.request(method, url + path, headers=headers, json=body, timeout=30)
        assert response.status_code < 500, (path, response.text[:300])
    log = service.log_path.read_text(errors="replace")  # the service's stdout and stderr
    assert "Application startup complete" in log
    windows = {TOKEN[i:i + 10] for i in range(len(TOKEN) - 9)}
    assert not [w for w in windows if w in log], "a piece of the token is in the log"


def test_a_cross_origin_preflight_gets_no_cors_grant(service):
    preflight = httpx.options(service.url + "/api/runs", timeout=10, headers={
        "Origin": "http://attacker.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status_code >= 400
    assert not [h for h in preflight.headers if h.lower().startswith("access-control-")]
    simple = httpx.get(service.url + "/api/runs", timeout=60,
                       headers={"Origin": "http://attacker.example"})
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers


# ---- binding ---------------------------------------------------------------------------------

@pytest.mark.parametrize("address, loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("0.0.0.0", False), ("::", False), ("0", False), ("127.1", False),
    ("192.0.2.10", False), ("lab-pc.example.org", False), ("", False),
])
def test_only_loopback_addresses_count_as_loopback(address, loopback):
    assert is_loopback(address) is loopback


def _serve(args, folder, env_token=None, timeout_s=60):
    env = {k: v for k, v in os.environ.items() if k != "LUMENRIG_TOKEN"}
    if env_token is not None:
        env["LUMENRIG_TOKEN"] = env_token
    return subprocess.run([str(LUMENRIG), "serve", "--data-dir", str(folder),
                           "--db", "sqlite:///%s" % (folder / "b.sqlite"), *args],
                          env=env, capture_output=True, text=True, timeout=timeout_s)


@pytest.mark.parametrize("address", ["::", "192.0.2.10", "0"])
def test_serve_refuses_a_non_loopback_bind_without_lumenrig_token(tmp_path, address):
    (tmp_path / "token").write_text("a-stored-token-that-is-long-enough\n")  # not enough
    result = _serve(["--host", address, "--port", str(free_port())], tmp_path)
    assert result.returncode == 2
    assert f"refusing to bind {address} (not loopback) without LUMENRIG_TOKEN" in result.stderr
    assert not (tmp_path / "b.sqlite").exists()  # refused before anything was opened


def test_a_generated_token_is_printed_once_kept_private_and_never_again(tmp_path):
    port = free_port()
    outputs = []
    for _ in range(2):
        log_path = tmp_path / ("serve-%d.log" % len(outputs))
        env = {k: v for k, v in os.environ.items() if k != "LUMENRIG_TOKEN"}
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [str(LUMENRIG), "serve", "--data-dir", str(tmp_path), "--port", str(port),
                 "--db", "sqlite:///%s" % (tmp_path / "g.sqlite")],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/api/health",
                                       timeout=60).json()["status"] == "ok", 60, "the service")
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        outputs.append(log_path.read_text())
    token_file = tmp_path / "token"
    token = token_file.read_text().strip()
    assert len(token) >= 32
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert outputs[0].count(token) == 1 and "control token (shown once" in outputs[0]
    assert token not in outputs[1]
