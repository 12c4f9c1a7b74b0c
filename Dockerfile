# syntax=docker/dockerfile:1
# The ledger's image: one image, every role (`ledger serve|relay|intake|consume|witness|checkpoint|kafka init`),
# configured by environment only (ledger/config.py, docs/production.md). Build with
# scripts/build-image.sh, which first makes the wheelhouse this file installs from:
#
#   pip wheel -w .cache/wheelhouse .   # the project and every pinned dependency, as wheels (git-ignored)
#   podman build -t ledger .           # or: docker build -t ledger .
#
# No network is needed inside the build (closed networks build offline) and no compiler: every
# dependency is a wheel. BASE is pinned to Debian bookworm's Python 3.11; a build without a
# registry passes another root filesystem of the same Debian (see scripts/build-image.sh).
ARG BASE=python:3.11-slim-bookworm

# --- build: a virtual environment with the ledger and its pinned dependencies -----------------
FROM ${BASE} AS build
COPY .cache/wheelhouse /wheels
RUN python3 -m venv /opt/ledger \
    && /opt/ledger/bin/pip install --no-cache-dir --no-index --find-links /wheels groningen-ledger \
    && /opt/ledger/bin/pip uninstall -y pip \
    && find /opt/ledger -name '__pycache__' -prune -exec rm -rf {} + \
    && /opt/ledger/bin/python -m compileall -q /opt/ledger/lib \
    && rm -rf /wheels

# --- runtime: the base, the environment and an unprivileged user; nothing else -----------------
FROM ${BASE} AS runtime
RUN groupadd --gid 10001 ledger \
    && useradd --no-create-home --uid 10001 --gid 10001 --home-dir /var/lib/ledger --shell /usr/sbin/nologin ledger \
    && mkdir -p /var/lib/ledger \
    && chown 10001:10001 /var/lib/ledger
COPY --from=build /opt/ledger /opt/ledger
ENV PATH=/opt/ledger/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LEDGER_HOME=/var/lib/ledger \
    LEDGER_OPS_HOST=0.0.0.0
WORKDIR /var/lib/ledger
USER 10001:10001
# serve: API 8000; every role: operators' metrics on LEDGER_OPS_PORT (9464 in deploy/); witness: 7380
EXPOSE 8000 9464 7380
ENTRYPOINT ["ledger"]
CMD ["--help"]
