"""The schemas the deployment files are validated against, fetched at test time from package
registries into `<repo>/.cache/deploy-schemas` (git-ignored) and pinned here.

- CloudNativePG's CRDs: the Go module github.com/cloudnative-pg/cloudnative-pg (its
  config/crd/bases/*.yaml), by `go mod download -json` into Go's module cache;
- Strimzi's CRDs: the Maven artifact io.strimzi:api, classifier `tests` (crds/v1/*.yaml: the CRDs
  its build generates from the API model, v1 versions only), by `mvn dependency:copy`;
- the compose specification's JSON schema: the Go module github.com/compose-spec/compose-go/v2
  (schema/compose-spec.json, the schema `docker compose` itself validates with).

A schema that cannot be had fails the test that needs it, loudly and with the tool's output
(`SchemaUnavailable`); nothing is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "deploy-schemas"

CNPG_MODULE = "github.com/cloudnative-pg/cloudnative-pg"
CNPG_VERSION = "v1.28.1"
COMPOSE_GO_MODULE = "github.com/compose-spec/compose-go/v2"
COMPOSE_GO_VERSION = "v2.10.0"
STRIMZI_ARTIFACT = "io.strimzi:api"
STRIMZI_VERSION = "0.51.0"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
KUBERNETES_VERSION = "1.33.0"  # the Kubernetes whose core schemas kubernetes-validate checks against
TIMEOUT = 600


class SchemaUnavailable(AssertionError):
    """A schema could not be fetched: the test fails (never skips), naming what and why."""


def _tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/local/go/bin/{name}" if name == "go" else None)
    if not path or not Path(path).exists():
        raise SchemaUnavailable(f"`{name}` is not installed (scripts/install.sh --test installs it)")
    return path


def _run(cmd: list[str], **kwargs: Any) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False, **kwargs)
    except subprocess.TimeoutExpired:
        raise SchemaUnavailable(f"{' '.join(cmd)}: no answer within {TIMEOUT}s") from None
    if done.returncode != 0:
        raise SchemaUnavailable(
            f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return done.stdout


@cache
def go_module(module: str, version: str) -> Path:
    """The extracted source of a Go module version (Go's module cache; sums checked by the sumdb)."""
    with tempfile.TemporaryDirectory() as empty:  # outside any module: no go.mod consulted
        out = _run(
            [_tool("go"), "mod", "download", "-json", f"{module}@{version}"],
            cwd=empty,
            env={**os.environ, "GOFLAGS": "-mod=mod"},
        )
    info = json.loads(out)
    if info.get("Error") or not info.get("Dir"):
        raise SchemaUnavailable(f"go mod download {module}@{version}: {info.get('Error') or 'no Dir'}")
    return Path(info["Dir"])


def _crd_schemas(docs: list[Any], source: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> that version's openAPIV3Schema, for every CRD document."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in docs:
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
        for version in doc["spec"]["versions"]:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if schema:
                out[(f"{group}/{version['name']}", kind)] = schema
    if not out:
        raise SchemaUnavailable(f"{source}: no CRD with an openAPIV3Schema")
    return out


@cache
def cnpg_crds() -> dict[tuple[str, str], dict[str, Any]]:
    bases = go_module(CNPG_MODULE, CNPG_VERSION) / "config" / "crd" / "bases"
    files = sorted(bases.glob("postgresql.cnpg.io_*.yaml"))
    if not files:
        raise SchemaUnavailable(f"{bases}: no CRD files")
    docs = [doc for f in files for doc in yaml.safe_load_all(f.read_text(encoding="utf-8"))]
    return _crd_schemas(docs, f"{CNPG_MODULE}@{CNPG_VERSION}")


def strimzi_jar() -> Path:
    target = CACHE / "strimzi" / f"api-{STRIMZI_VERSION}-tests.jar"
    if target.exists() and zipfile.is_zipfile(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [
            _tool("mvn"),
            "-B",
            "-q",
            "-Dstyle.color=never",
            f"{DEPENDENCY_PLUGIN}:copy",
            f"-Dartifact={STRIMZI_ARTIFACT}:{STRIMZI_VERSION}:jar:tests",
            f"-DoutputDirectory={target.parent}",
        ],
        cwd=tempfile.gettempdir(),
    )
    if not target.exists():
        raise SchemaUnavailable(f"mvn dependency:copy left no {target.name} in {target.parent}")
    return target


@cache
def strimzi_crds() -> dict[tuple[str, str], dict[str, Any]]:
    jar = strimzi_jar()
    with zipfile.ZipFile(jar) as z:
        names = sorted(n for n in z.namelist() if n.startswith("crds/v1/") and n.endswith(".yaml"))
        if not names:
            raise SchemaUnavailable(f"{jar}: no crds/v1/*.yaml")
        docs = [doc for n in names for doc in yaml.safe_load_all(z.read(n).decode("utf-8"))]
    return _crd_schemas(docs, f"{STRIMZI_ARTIFACT}:{STRIMZI_VERSION}:tests")


@cache
def compose_schema() -> dict[str, Any]:
    path = go_module(COMPOSE_GO_MODULE, COMPOSE_GO_VERSION) / "schema" / "compose-spec.json"
    if not path.exists():
        raise SchemaUnavailable(f"{path} is missing")
    return json.loads(path.read_text(encoding="utf-8"))
