"""The Kafka principals and ACLs of the trust contract (§1), and how `ledger kafka init` sets them.

Under KRaft's `StandardAuthorizer` with `allow.everyone.if.no.acl.found=false`, a principal may
do only what an ACL allows. The table below is the contract's, as data:

- `ledger` reads the inbound topics (its intake group), writes `ledger.events`,
  `ledger.rejections` and `ledger.checkpoints`;
- `img` / `ncg` / `portal` write only their own inbound topic; `img` and `ncg` may read
  `ledger.events` (in consumer groups whose names start with `img-` / `ncg-`);
- `projector` reads `ledger.events` in its consumer groups.

The topic decides the organisation in the intake only because of these ACLs. Group names are
prefixed patterns, so `--group ledger-projections-blue` is covered as well.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from consumers.topics import TopicNames

PRINCIPALS = ("ledger", "img", "ncg", "portal", "projector")
ORG_PRINCIPAL = {"IMG": "img", "NCG": "ncg", "PORTAL": "portal"}
SCRAM_ITERATIONS = 8192


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW ACL: `principal` may `operation` on a topic or group named (or prefixed) `name`."""

    principal: str
    resource: str  # "topic" | "group"
    name: str
    operation: str  # "READ" | "WRITE" | "DESCRIBE"
    prefixed: bool = False

    def __str__(self) -> str:
        pattern = "prefixed" if self.prefixed else "literal"
        return f"User:{self.principal} {self.operation} {self.resource} {self.name} ({pattern})"


def contract_grants(names: TopicNames, intake_group: str, projection_group: str) -> list[Grant]:
    """Every ACL of trust §1 for the topics `names` and the ledger's default group names."""
    grants: list[Grant] = []
    for topic in names.inbound:
        grants.append(Grant("ledger", "topic", topic, "READ"))
    grants.append(Grant("ledger", "group", intake_group, "READ", prefixed=True))
    for topic in (names.events, names.rejections, names.checkpoints):
        grants.append(Grant("ledger", "topic", topic, "WRITE"))
        grants.append(Grant("ledger", "topic", topic, "DESCRIBE"))
    for topic, org in names.inbound.items():
        principal = ORG_PRINCIPAL[org]
        grants.append(Grant(principal, "topic", topic, "WRITE"))
        grants.append(Grant(principal, "topic", topic, "DESCRIBE"))
    for principal in ("img", "ncg"):
        grants.append(Grant(principal, "topic", names.events, "READ"))
        grants.append(Grant(principal, "group", f"{names.prefix}{principal}-", "READ", prefixed=True))
    grants.append(Grant("projector", "topic", names.events, "READ"))
    grants.append(Grant("projector", "group", projection_group, "READ", prefixed=True))
    return sorted(set(grants))


def credentials(folder: Path, principals: Iterable[str] = PRINCIPALS) -> tuple[dict[str, str], list[str]]:
    """Each principal's password from `folder/<name>` (one line); missing ones are made (random,
    mode 0600). Returns (name -> password, the names whose password was made now)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    passwords: dict[str, str] = {}
    made: list[str] = []
    for name in principals:
        path = folder / name
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(24) + "\n", encoding="ascii")
            made.append(name)
        password = path.read_text(encoding="utf-8").strip()
        if not password:
            raise ValueError(f"{path} is empty: write the principal's password into it, or remove it to have one made")
        passwords[name] = password
    return passwords, made


def upsert_users(admin: Any, passwords: Mapping[str, str]) -> None:
    """Create or update the SCRAM-SHA-512 credential of each principal (kafka-python's admin client)."""
    from kafka.admin import ScramMechanism, UserScramCredentialUpsertion

    upserts = [
        UserScramCredentialUpsertion(name, ScramMechanism.SCRAM_SHA_512, password, iterations=SCRAM_ITERATIONS)
        for name, password in sorted(passwords.items())
    ]
    failed = {user: error for user, error in admin.alter_user_scram_credentials(upserts).items() if error}
    if failed:
        raise RuntimeError(f"could not set the SCRAM credentials of {', '.join(sorted(failed))}: {failed}")


def _acl(grant: Grant) -> Any:
    from kafka.admin import ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern, ResourceType

    return ACL(
        principal=f"User:{grant.principal}",
        host="*",
        operation=ACLOperation[grant.operation],
        permission_type=ACLPermissionType.ALLOW,
        resource_pattern=ResourcePattern(
            ResourceType.TOPIC if grant.resource == "topic" else ResourceType.GROUP,
            grant.name,
            ACLResourcePatternType.PREFIXED if grant.prefixed else ACLResourcePatternType.LITERAL,
        ),
    )


def apply_grants(admin: Any, grants: Iterable[Grant]) -> int:
    """Create the ACLs (creating one that exists changes nothing); return how many were asked for."""
    wanted = list(grants)
    result = admin.create_acls([_acl(g) for g in wanted])
    if result["failed"]:
        raise RuntimeError(f"could not create {len(result['failed'])} ACLs: {result['failed'][:3]}")
    return len(wanted)


def authorizer_enabled(admin: Any) -> bool:
    """Whether the cluster has an authorizer (without one, ACL requests fail with SecurityDisabled)."""
    from kafka.admin import (
        ACLFilter,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePatternFilter,
        ResourceType,
    )
    from kafka.errors import SecurityDisabledError

    probe = ACLFilter(
        principal=None,
        host="*",
        operation=ACLOperation.ANY,
        permission_type=ACLPermissionType.ANY,
        resource_pattern=ResourcePatternFilter(ResourceType.TOPIC, None, ACLResourcePatternType.ANY),
    )
    try:
        admin.describe_acls(probe)
    except SecurityDisabledError:
        return False
    return True
