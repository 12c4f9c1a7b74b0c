"""deploy/local-cluster.sh (issue 15 item 4): the compose file's roles as processes, from the same
deploy/topology/ files. The cluster itself runs in tests/soak/; these are its cheap checks."""

from __future__ import annotations

import subprocess

from tests.deploy.manifests import REPO, compose

SCRIPT = REPO / "deploy" / "local-cluster.sh"


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", **env},
    )


def test_the_roles_are_the_compose_files_ledger_services():
    services = {
        name
        for name, service in compose()["services"].items()
        if str(service.get("image", "")).startswith("${LEDGER_IMAGE") and name != "kafka-init"
    }
    done = _run("roles")
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split()) == sorted(services)


def test_help_and_usage_errors():
    helped = _run("--help")
    assert helped.returncode == 0
    for command in ("up", "down", "status", "kill ROLE", "start ROLE", "kill-broker N", "LEDGER_CLUSTER_PORT_BASE"):
        assert command in helped.stderr, command
    assert _run("frobnicate").returncode == 2
    bad = _run("status", LEDGER_CLUSTER_PORT_BASE="40000")
    assert bad.returncode == 2 and "LEDGER_CLUSTER_PORT_BASE=40000" in bad.stderr
    unknown = _run("kill", "nobody")
    assert unknown.returncode == 1 and "unknown role 'nobody'" in unknown.stderr


def test_the_script_parses():
    assert subprocess.run(["bash", "-n", str(SCRIPT)], check=False).returncode == 0
