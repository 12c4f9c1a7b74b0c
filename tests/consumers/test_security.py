"""Kafka security settings without a broker: the endpoint's client settings, the contract's ACL
table, the principals' password files, and the ledger's Kafka settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumers.acls import PRINCIPALS, Grant, contract_grants, credentials
from consumers.clients import KafkaEndpoint
from consumers.topics import TopicNames
from ledger.bootstrap import ConfigError, Settings


def test_the_password_never_shows_in_repr_or_str() -> None:
    endpoint = KafkaEndpoint("127.0.0.1:1", "SASL_PLAINTEXT", "ledger", "s3cret-value")
    assert "s3cret-value" not in repr(endpoint)
    assert "s3cret-value" not in str(endpoint)
    assert str(endpoint) == "ledger@127.0.0.1:1"


def test_client_settings_for_scram_in_both_clients_names() -> None:
    endpoint = KafkaEndpoint("a:1,b:2", "SASL_SSL", "img", "pw", cafile="/ca.pem")
    assert endpoint.client_config() == {
        "bootstrap_servers": ["a:1", "b:2"],
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "img",
        "sasl_plain_password": "pw",
        "ssl_cafile": "/ca.pem",
    }
    assert endpoint.librdkafka_config() == {
        "bootstrap.servers": "a:1,b:2",
        "security.protocol": "sasl_ssl",
        "sasl.mechanisms": "SCRAM-SHA-512",
        "sasl.username": "img",
        "sasl.password": "pw",
        "ssl.ca.location": "/ca.pem",
    }
    assert KafkaEndpoint("a:1").client_config() == {"bootstrap_servers": ["a:1"], "security_protocol": "PLAINTEXT"}


def test_sasl_without_credentials_or_an_unknown_protocol_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a user name and a password"):
        KafkaEndpoint("a:1", "SASL_PLAINTEXT", "img", None)
    with pytest.raises(ValueError, match="one of PLAINTEXT, SASL_PLAINTEXT, SASL_SSL"):
        KafkaEndpoint("a:1", "SSL")


def test_the_grants_are_the_contracts() -> None:
    names = TopicNames("t.")
    grants = contract_grants(names, "t.ledger-intake", "t.ledger-projections")
    by = {(g.principal, g.resource, g.name, g.operation) for g in grants}
    # Each publisher writes only its own inbound topic.
    for principal in ("img", "ncg", "portal"):
        writes = {n for p, r, n, op in by if p == principal and op == "WRITE"}
        assert writes == {f"t.ledger.inbound.{principal}"}
    # Only the ledger writes the events, rejections and checkpoints; nobody else writes them.
    for topic in (names.events, names.rejections, names.checkpoints):
        assert {p for p, r, n, op in by if n == topic and op == "WRITE"} == {"ledger"}
    # Readers of the events: img, ncg, projector (not portal); readers of inbound topics: the ledger.
    assert {p for p, r, n, op in by if n == names.events and op == "READ"} == {"img", "ncg", "projector"}
    for topic in names.inbound:
        assert {p for p, r, n, op in by if n == topic and op == "READ"} == {"ledger"}
    assert Grant("projector", "group", "t.ledger-projections", "READ", prefixed=True) in grants
    assert Grant("ledger", "group", "t.ledger-intake", "READ", prefixed=True) in grants
    assert {g.principal for g in grants} == set(PRINCIPALS)
    assert len(grants) == len(set(grants))


def test_missing_password_files_are_made_private_and_kept(tmp_path: Path) -> None:
    (tmp_path / "img").write_text("given-password\n")
    passwords, made = credentials(tmp_path)
    assert passwords["img"] == "given-password"
    assert sorted(made) == sorted(set(PRINCIPALS) - {"img"})
    for name in made:
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
        assert len(passwords[name]) >= 24
    again, made_again = credentials(tmp_path)
    assert again == passwords and made_again == []
    (tmp_path / "ncg").write_text("\n")
    with pytest.raises(ValueError, match="ncg is empty"):
        credentials(tmp_path)


def test_kafka_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "LEDGER_KAFKA_USER",
        "LEDGER_KAFKA_PASSWORD",
        "LEDGER_KAFKA_PASSWORD_FILE",
        "LEDGER_KAFKA_SECURITY_PROTOCOL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LEDGER_HOME", str(tmp_path))
    monkeypatch.setenv("LEDGER_KAFKA", "127.0.0.1:9")
    assert Settings.from_env().kafka_endpoint() == KafkaEndpoint("127.0.0.1:9")
    monkeypatch.setenv("LEDGER_KAFKA_USER", "ledger")
    with pytest.raises(ConfigError, match="needs LEDGER_KAFKA_USER and LEDGER_KAFKA_PASSWORD_FILE"):
        Settings.from_env()
    secret = tmp_path / "password"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("LEDGER_KAFKA_PASSWORD_FILE", str(secret))
    endpoint = Settings.from_env().kafka_endpoint()
    assert (endpoint.protocol, endpoint.username, endpoint.password) == ("SASL_PLAINTEXT", "ledger", "from-a-file")
    assert "from-a-file" not in repr(Settings.from_env())
    monkeypatch.setenv("LEDGER_KAFKA_PASSWORD_FILE", str(tmp_path / "absent"))
    with pytest.raises(ConfigError, match="LEDGER_KAFKA_PASSWORD_FILE .*absent: cannot be read") as raised:
        Settings.from_env()
    assert "from-a-file" not in str(raised.value)
    monkeypatch.setenv("LEDGER_KAFKA_PASSWORD_FILE", str(secret))
    monkeypatch.setenv("LEDGER_KAFKA_SECURITY_PROTOCOL", "ssl")
    with pytest.raises(ConfigError, match="LEDGER_KAFKA_SECURITY_PROTOCOL 'ssl': one of"):
        Settings.from_env()
