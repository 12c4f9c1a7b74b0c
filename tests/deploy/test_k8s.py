"""deploy/k8s/ (issue 15 item 3): core kinds valid for Kubernetes (kubernetes-validate, strict),
Strimzi and CloudNativePG resources valid against their operators' CRD schemas (fetched from the
registries, tests/deploy/schemas.py), and the manifests consistent with the code: topics as
consumers.topics, KafkaUser ACLs as consumers.acls.contract_grants, settings as ledger/config.py."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from consumers.acls import PRINCIPALS, contract_grants
from consumers.topics import DEFAULT_EVENT_PARTITIONS, TopicNames, checkpoint_spec, topic_specs
from ledger.commands.kafka import INTAKE_GROUP, PROJECTION_GROUP
from tests.deploy import schemas
from tests.deploy.manifests import k8s_documents, ledger_env_names

STRIMZI_GROUP = "kafka.strimzi.io/"
CNPG_GROUP = "postgresql.cnpg.io/"
DOCS = k8s_documents()
ROLES = ("serve", "relay", "intake", "consume")


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in DOCS if doc["kind"] == kind]


def doc_id(item: tuple[str, dict[str, Any]]) -> str:
    name, doc = item
    return f"{name}:{doc['kind']}/{doc['metadata']['name']}"


def is_custom(doc: dict[str, Any]) -> bool:
    return doc["apiVersion"].startswith((STRIMZI_GROUP, CNPG_GROUP))


def strict(schema: Any) -> Any:
    """The CRD schema as the API server's strict field validation applies it: an object with
    declared properties and no x-kubernetes-preserve-unknown-fields rejects unknown fields (a
    typo is an error, not silently pruned)."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if (
                node.get("type") == "object"
                and "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def crd_errors(doc: dict[str, Any], crds: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    key = (doc["apiVersion"], doc["kind"])
    assert key in crds, f"no CRD for {key} (have {sorted(crds)})"
    validator = jsonschema.Draft4Validator(strict(crds[key]))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("item", [d for d in DOCS if not is_custom(d[1])], ids=doc_id)
def test_core_kinds_are_valid_kubernetes(item):
    _, doc = item
    try:
        kubernetes_validate.validate(doc, schemas.KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{doc_id(item)}: {exc.message} at {list(exc.path)}")


@pytest.mark.parametrize("item", [d for d in DOCS if d[1]["apiVersion"].startswith(STRIMZI_GROUP)], ids=doc_id)
def test_strimzi_resources_match_the_strimzi_crds(item):
    errors = crd_errors(item[1], schemas.strimzi_crds())
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("item", [d for d in DOCS if d[1]["apiVersion"].startswith(CNPG_GROUP)], ids=doc_id)
def test_cloudnativepg_resources_match_the_cloudnativepg_crds(item):
    errors = crd_errors(item[1], schemas.cnpg_crds())
    assert not errors, "\n".join(errors)


def test_the_schemas_reject_a_broken_resource():
    """The CRD check is not vacuous: a typo and a wrong type are found."""
    topic = copy.deepcopy(of_kind("KafkaTopic")[0])
    topic["spec"]["partitons"] = 3
    topic["spec"]["replicas"] = "three"
    errors = crd_errors(topic, schemas.strimzi_crds())
    assert any("partitons" in e for e in errors) and any("three" in e for e in errors), errors
    cluster = copy.deepcopy(of_kind("Cluster")[0])
    cluster["spec"]["instances"] = "3"
    assert crd_errors(cluster, schemas.cnpg_crds())
    deployment = copy.deepcopy(of_kind("Deployment")[0])
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, schemas.KUBERNETES_VERSION, strict=True)


def test_every_kind_is_one_the_tests_validate():
    kinds = {(doc["apiVersion"], doc["kind"]) for _, doc in DOCS}
    expected_custom = {
        ("kafka.strimzi.io/v1", "Kafka"),
        ("kafka.strimzi.io/v1", "KafkaNodePool"),
        ("kafka.strimzi.io/v1", "KafkaTopic"),
        ("kafka.strimzi.io/v1", "KafkaUser"),
        ("postgresql.cnpg.io/v1", "Cluster"),
    }
    assert {k for k in kinds if k[0].startswith((STRIMZI_GROUP, CNPG_GROUP))} == expected_custom
    core = {k[1] for k in kinds if not k[0].startswith((STRIMZI_GROUP, CNPG_GROUP))}
    assert {"Deployment", "Service", "Secret", "PodDisruptionBudget", "HorizontalPodAutoscaler"} <= core


def _config(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_topics_equal_the_ledgers_topic_specs():
    expected = {
        spec.name: (spec.partitions, spec.replication, spec.configs) for spec in [*topic_specs(3), checkpoint_spec(3)]
    }
    found = {}
    for topic in of_kind("KafkaTopic"):
        name = topic["spec"].get("topicName", topic["metadata"]["name"])
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "ledger"
        config = {k: _config(v) for k, v in topic["spec"]["config"].items()}
        found[name] = (topic["spec"]["partitions"], topic["spec"]["replicas"], config)
    assert found == expected
    assert found["ledger.events"][0] == 12 and found["ledger.rejections"][0] == 3
    assert found["ledger.checkpoints"][0] == 1
    assert all(found[t][0] == 6 for t in TopicNames().inbound)


def test_kafka_users_have_exactly_the_contracts_acls():
    names = TopicNames()
    expected = {
        (g.principal, g.resource, g.name, g.operation, g.prefixed)
        for g in contract_grants(names, names.prefix + INTAKE_GROUP, names.prefix + PROJECTION_GROUP)
    }
    found = set()
    users = of_kind("KafkaUser")
    assert sorted(u["metadata"]["name"] for u in users) == sorted(PRINCIPALS)
    for user in users:
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        assert user["spec"]["authorization"]["type"] == "simple"
        for acl in user["spec"]["authorization"]["acls"]:
            assert acl.get("type", "allow") == "allow" and acl.get("host", "*") == "*"
            resource = acl["resource"]
            for op in acl["operations"]:
                found.add(
                    (
                        user["metadata"]["name"],
                        resource["type"],
                        resource["name"],
                        op.upper(),
                        resource.get("patternType", "literal") == "prefix",
                    )
                )
    assert found == expected


def test_kafka_is_kraft_scram_tls_with_acls():
    (kafka,) = of_kind("Kafka")
    (pool,) = of_kind("KafkaNodePool")
    assert pool["spec"]["replicas"] == 3 and set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    listeners = kafka["spec"]["kafka"]["listeners"]
    assert listeners and all(li["tls"] and li["authentication"]["type"] == "scram-sha-512" for li in listeners)
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    assert kafka["spec"]["kafka"]["config"]["allow.everyone.if.no.acl.found"] is False


def _deployment(name: str) -> dict[str, Any]:
    (found,) = [d for d in of_kind("Deployment") if d["metadata"]["name"] == name]
    return found


def test_deployments_have_probes_resources_and_run_unprivileged():
    deployments = of_kind("Deployment")
    names = {d["metadata"]["name"] for d in deployments}
    assert names == {"serve", "relay", "intake", "consume", "witness-img", "witness-ncg"}
    for d in deployments:
        pod = d["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for c in pod["containers"]:
            assert c["readinessProbe"] and c["livenessProbe"], d["metadata"]["name"]
            assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
            assert c["args"][0] in ("serve", "relay", "intake", "consume", "witness")
            assert not c.get("command"), "the image's entry point (ledger) runs every role"
            env = {e["name"]: e for e in c.get("env", [])}
            assert env["LEDGER_OPS_PORT"]["value"] == "9464"
            assert {"name": "ops", "containerPort": 9464} in c["ports"]
    serve = _deployment("serve")["spec"]["template"]["spec"]["containers"][0]
    assert serve["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert serve["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert _deployment("serve")["spec"]["replicas"] == 2
    for role in ("relay", "intake", "consume"):
        c = _deployment(role)["spec"]["template"]["spec"]["containers"][0]
        assert c["readinessProbe"]["httpGet"] == {"path": "/metrics", "port": "ops"}


def test_roles_use_their_principals_and_the_operators_secrets():
    for role, user in (("serve", "ledger"), ("relay", "ledger"), ("intake", "ledger"), ("consume", "projector")):
        pod = _deployment(role)["spec"]["template"]["spec"]
        env = {e["name"]: e for e in pod["containers"][0]["env"]}
        assert env["LEDGER_KAFKA_USER"]["value"] == user
        assert env["LEDGER_KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
        assert env["LEDGER_STORE"]["valueFrom"]["secretKeyRef"] == {"name": "ledger-db-app", "key": "uri"}
        secrets = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        assert {user, "ledger-cluster-ca-cert"} <= secrets  # the User Operator's and the cluster CA's
    relay = {e["name"]: e for e in _deployment("relay")["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert relay["LEDGER_WITNESSES"]["value"] == "http://witness-img:7380,http://witness-ncg:7380"


def test_disruption_budgets_and_the_consume_autoscaler():
    pdbs = {p["metadata"]["name"]: p for p in of_kind("PodDisruptionBudget")}
    for role in ROLES:
        assert role in pdbs, role
        labels = _deployment(role)["spec"]["template"]["metadata"]["labels"]
        assert pdbs[role]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (hpa,) = of_kind("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "consume"}
    (events,) = [t for t in of_kind("KafkaTopic") if t["spec"]["topicName"] == "ledger.events"]
    partitions = events["spec"]["partitions"]
    assert partitions == DEFAULT_EVENT_PARTITIONS
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] <= partitions


def test_secrets_hold_placeholders_only():
    for secret in of_kind("Secret"):
        values = {**secret.get("stringData", {}), **secret.get("data", {})}
        assert values and not secret.get("data"), secret["metadata"]["name"]
        for key, value in values.items():
            assert value.startswith("REPLACE-ME"), (secret["metadata"]["name"], key)


def test_env_names_exist_in_the_ledgers_settings():
    known = ledger_env_names()
    used = set()
    for d in of_kind("Deployment"):
        for c in d["spec"]["template"]["spec"]["containers"]:
            used |= {e["name"] for e in c.get("env", []) if e["name"].startswith("LEDGER_")}
    assert used <= known, sorted(used - known)
    assert {"LEDGER_KAFKA", "LEDGER_KAFKA_USER", "LEDGER_KAFKA_PASSWORD_FILE", "LEDGER_KAFKA_CA_FILE"} <= used
