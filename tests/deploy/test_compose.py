"""deploy/compose/ (issue 15 item 2): valid against the compose specification's schema, the
topology it must have, start order and health checks, secrets only as files made by a script."""

from __future__ import annotations

import os
import re
import subprocess

import jsonschema
import pytest

from consumers.acls import PRINCIPALS
from tests.deploy import schemas
from tests.deploy.manifests import COMPOSE, REPO, TOPOLOGY, compose, env_file, ledger_env_names, service_env

LEDGER_ROLES = {"serve", "relay", "intake", "consume", "witness"}
OPS_PORT = "9464"


def ledger_services(spec):
    """name -> (role, service) for every service running the ledger image."""
    out = {}
    for name, service in spec["services"].items():
        if str(service.get("image", "")).startswith("${LEDGER_IMAGE"):
            command = service.get("command") or []
            out[name] = (command[0] if command else "", service)
    return out


def test_valid_against_the_compose_spec_schema():
    schema = schemas.compose_schema()
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose()), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:20])


def test_three_kraft_nodes_secured_as_deploy_kafka_sh():
    spec = compose()
    nodes = sorted(name for name in spec["services"] if name.startswith("kafka-") and name != "kafka-init")
    assert nodes == ["kafka-1", "kafka-2", "kafka-3"]
    for name in nodes:
        service = spec["services"][name]
        assert service["environment"]["KAFKA_NODE_ID"] == name.removeprefix("kafka-")
        assert service["command"] == ["/bin/sh", "/opt/ledger-deploy/kafka-node.sh"]
        assert {"kafka_admin", "kafka_cluster_id"} <= set(service["secrets"])
        assert "healthcheck" in service
    node = (REPO / "deploy" / "compose" / "kafka-node.sh").read_text(encoding="utf-8")
    kafka_sh = (REPO / "deploy" / "kafka.sh").read_text(encoding="utf-8")
    # The security settings of deploy/kafka.sh's brokers, the same here.
    for line in (
        "sasl.enabled.mechanisms=SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
        "sasl.mechanism.controller.protocol=PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found=false",
        "min.insync.replicas=2",
        "auto.create.topics.enable=false",
        "unclean.leader.election.enable=false",
    ):
        assert line in node, line
        assert line in kafka_sh, line
    assert "super.users=User:admin" in node
    assert "controller.quorum.voters=$voters" in node and "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093" in node
    assert '--add-scram "SCRAM-SHA-512=[name=admin,password=$password]"' in node
    done = subprocess.run(["sh", "-n", str(REPO / "deploy" / "compose" / "kafka-node.sh")], check=False)
    assert done.returncode == 0


def test_the_roles_of_the_topology():
    services = ledger_services(compose())
    by_role: dict[str, list[str]] = {}
    for name, (role, _) in services.items():
        by_role.setdefault(role, []).append(name)
    assert len(by_role["serve"]) == 2
    assert len(by_role["consume"]) == 2
    assert len(by_role["witness"]) == 2
    assert len(by_role["relay"]) == 1 and len(by_role["intake"]) == 1
    assert by_role["kafka"] == ["kafka-init"]
    # Two consume instances in one group (the default: no --group), each its own static member.
    consumers = [services[name][1]["command"] for name in by_role["consume"]]
    assert all("--group" not in c for c in consumers)
    ids = [c[c.index("--instance-id") + 1] for c in consumers]
    assert len(set(ids)) == 2, ids
    for name in by_role["consume"]:
        env = service_env(services[name][1])
        assert env["LEDGER_KAFKA_USER"] == "projector"
        assert env["LEDGER_KAFKA_PASSWORD_FILE"] == "/run/secrets/kafka_projector"
    for role in ("relay", "intake", "serve"):
        for name in by_role[role]:
            assert service_env(services[name][1])["LEDGER_KAFKA_USER"] == "ledger", name
    # The witnesses: IMG's and NCG's keys, the ledger's vkey, state on a volume.
    keys = sorted(services[n][1]["command"][services[n][1]["command"].index("--key") + 1] for n in by_role["witness"])
    assert keys == ["/run/secrets/img_witness_key", "/run/secrets/ncg_witness_key"]
    relay_env = services["relay"][1]["environment"]
    assert relay_env["LEDGER_WITNESSES"] == "http://witness-img:7380,http://witness-ncg:7380"
    assert relay_env["LEDGER_SIGNING_KEY"].startswith("/run/secrets/")


def test_kafka_init_makes_topics_users_and_acls_first():
    spec = compose()
    init = spec["services"]["kafka-init"]
    assert init["command"][:3] == ["kafka", "init", "--credentials"]
    folder = init["command"][3]
    targets = {s["target"] for s in init["secrets"] if isinstance(s, dict)}
    assert targets == {f"{folder}/{p}" for p in PRINCIPALS}
    assert init["environment"]["LEDGER_KAFKA_USER"] == "admin"
    assert init["restart"] == "no"
    assert {n: d["condition"] for n, d in init["depends_on"].items()} == {
        "kafka-1": "service_healthy",
        "kafka-2": "service_healthy",
        "kafka-3": "service_healthy",
    }
    for name, (role, service) in ledger_services(spec).items():
        if role in ("serve", "relay", "intake", "consume"):
            depends = service["depends_on"]
            assert depends["kafka-init"]["condition"] == "service_completed_successfully", name
            assert depends["postgres"]["condition"] == "service_healthy", name
    relay = spec["services"]["relay"]["depends_on"]
    assert relay["witness-img"]["condition"] == relay["witness-ncg"]["condition"] == "service_healthy"


def test_every_long_running_service_has_a_health_check():
    spec = compose()
    for name, service in spec["services"].items():
        if name == "kafka-init":
            continue
        assert "healthcheck" in service, name
    for name, (role, service) in ledger_services(spec).items():
        test = " ".join(service.get("healthcheck", {}).get("test", []))
        if role == "serve":
            assert "/readyz" in test, name
        elif role in ("relay", "intake", "consume"):
            assert f":{OPS_PORT}/metrics" in test, name


def test_prometheus_scrapes_every_role_on_its_ops_port():
    import yaml

    spec = compose()
    config = yaml.safe_load((REPO / "deploy" / "compose" / "prometheus.yml").read_text(encoding="utf-8"))
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    expected = {f"{name}:{OPS_PORT}" for name, (role, _) in ledger_services(spec).items() if role in LEDGER_ROLES}
    assert targets == expected
    for name, (role, service) in ledger_services(spec).items():
        if role in LEDGER_ROLES:
            assert service["environment"]["LEDGER_OPS_PORT"] == OPS_PORT, name
            assert service["environment"]["LEDGER_OPS_HOST"] == "0.0.0.0", name
    assert all(job.get("metrics_path", "/metrics") == "/metrics" for job in config["scrape_configs"])


def test_env_names_exist_in_the_ledgers_settings():
    known = ledger_env_names()
    used = set()
    for _, (_, service) in ledger_services(compose()).items():
        used |= {k for k in service_env(service) if k.startswith("LEDGER_")}
    for path in TOPOLOGY.glob("*.env"):
        used |= set(env_file(path))
    assert used, "no LEDGER_ setting found"
    assert used <= known, sorted(used - known)
    store_env = [s for _, (_, s) in ledger_services(compose()).items() if s.get("env_file")]
    assert all(s["env_file"][-1] == "secrets/store.env" for s in store_env)


def test_the_roles_read_the_topology_shared_with_local_cluster():
    """Every long-running role that talks to Kafka takes deploy/topology/common.env and its role's file
    (the files deploy/local-cluster.sh sources), in that order, before the store's URL."""
    for name, (role, service) in ledger_services(compose()).items():
        if role in ("relay", "intake", "consume", "serve"):
            assert service["env_file"] == ["../topology/common.env", f"../topology/{role}.env", "secrets/store.env"]
            assert "LEDGER_KAFKA_USER" not in service["environment"], name  # one place: the role's file
    assert service_env(compose()["services"]["relay"])["LEDGER_CHECKPOINT_EVERY"] == "10000"


def test_no_literal_secret_in_the_compose_files():
    spec = compose()
    for name, secret in spec["secrets"].items():
        assert secret["file"].startswith("./secrets/"), name
    for name, service in spec["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD(?!_FILE)|SECRET|TOKEN", key):
                pytest.fail(f"{name}: {key} is set literally; use a *_FILE and a compose secret")
            if key.endswith("_FILE") or key in ("LEDGER_SIGNING_KEY", "LEDGER_TRUST", "LEDGER_ISSUER_JWKS"):
                assert str(value).startswith("/run/secrets/"), (name, key, value)
    text = COMPOSE.read_text(encoding="utf-8")
    assert not re.search(r"postgresql://[^@\s]*:[^@\s]*@", text), "a store URL with a password"
    # The secrets' folder is ignored by git.
    done = subprocess.run(["git", "check-ignore", "-q", "deploy/compose/secrets/kafka_admin"], cwd=REPO, check=False)
    assert done.returncode == 0, "deploy/compose/secrets/ is not git-ignored"


def test_secrets_script_makes_every_file_the_compose_file_names(tmp_path):
    out = tmp_path / "secrets"
    env = {**os.environ, "LEDGER_COMPOSE_SECRETS": str(out), "LEDGER_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        ["bash", str(REPO / "deploy" / "compose" / "secrets.sh")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    spec = compose()
    for name, secret in spec["secrets"].items():
        path = out / secret["file"].removeprefix("./secrets/")
        assert path.is_file() and path.read_text(encoding="utf-8").strip(), name
    for service in spec["services"].values():
        for name in (f for f in service.get("env_file", []) if f.startswith("secrets/")):
            path = out / name.removeprefix("secrets/")
            assert path.read_text(encoding="utf-8").startswith("LEDGER_STORE=postgresql://ledger:")
    admin = (out / "kafka_admin").read_text(encoding="utf-8")
    assert admin not in done.stderr + done.stdout  # passwords are never printed
    assert (out.stat().st_mode & 0o777) == 0o700
    # Idempotent: a second run keeps every password.
    subprocess.run(["bash", str(REPO / "deploy" / "compose" / "secrets.sh")], env=env, check=True, capture_output=True)
    assert (out / "kafka_admin").read_text(encoding="utf-8") == admin
    assert len((out / "kafka_cluster_id").read_text(encoding="utf-8").strip()) == 22


def test_kafka_node_script_formats_a_node_with_kafkas_own_tool(tmp_path):
    """kafka-node.sh run outside a container (paths moved into tmp_path): Kafka's StorageTool
    (the broker jars of deploy/kafka.sh fetch) accepts its properties and formats the node with
    the admin's SCRAM credential; the server start is replaced by a stub."""
    libs = REPO / ".cache" / "kafka-libs"
    if not any(libs.glob("kafka_2.13-*.jar")):
        subprocess.run(["bash", str(REPO / "deploy" / "kafka.sh"), "fetch"], check=True, capture_output=True)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "kafka_admin").write_text("not-a-real-password\n", encoding="utf-8")
    (tmp_path / "secrets" / "kafka_cluster_id").write_text("MkU3OEVBNTcwNTJENDM2Qg\n", encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kafka-storage.sh").write_text(
        f'#!/bin/sh\nexec java -Xmx256m -cp "{libs}/*" kafka.tools.StorageTool "$@"\n', encoding="utf-8"
    )
    (bin_dir / "kafka-server-start.sh").write_text('#!/bin/sh\necho "start $1"\n', encoding="utf-8")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    script = (REPO / "deploy" / "compose" / "kafka-node.sh").read_text(encoding="utf-8")
    for old, new in (
        ("/run/secrets", tmp_path / "secrets"),
        ("/var/lib/kafka/data", tmp_path / "data"),
        ("/tmp/ledger-kafka", tmp_path / "conf"),
        ("/opt/kafka/bin", bin_dir),
    ):
        script = script.replace(old, str(new))
    (tmp_path / "node.sh").write_text(script, encoding="utf-8")
    done = subprocess.run(
        ["sh", str(tmp_path / "node.sh")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KAFKA_NODE_ID": "2"},
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "UserScramCredentialRecord(name='admin'" in done.stdout
    assert f"start {tmp_path / 'conf' / 'server.properties'}" in done.stdout
    meta = (tmp_path / "data" / "meta.properties").read_text(encoding="utf-8")
    assert "node.id=2" in meta and "cluster.id=MkU3OEVBNTcwNTJENDM2Qg" in meta
    assert (tmp_path / "conf" / "server.properties").stat().st_mode & 0o077 == 0
    # A second start keeps the data (no second format).
    again = subprocess.run(
        ["sh", str(tmp_path / "node.sh")], capture_output=True, text=True, env={**os.environ, "KAFKA_NODE_ID": "2"}
    )
    assert again.returncode == 0 and "Formatting" not in again.stdout
