# The service's container image: what ECS Fargate runs (runbook 2.1, 2.2).
#
#   docker build -t aws-fastapi-service:dev .        # or: make image IMAGE=aws-fastapi-service:dev
#   docker run --rm --read-only --tmpfs /tmp -p 127.0.0.1:8000:8000 aws-fastapi-service:dev
#
# Two stages: `builder` installs the service and its locked runtime dependencies (uv.lock, no dev
# group, no opsctl, no localcloud) into a virtual environment; `runtime` is the same pinned base
# plus that environment, run as a numeric non-root user that can write nothing but /tmp.
# Why this base, and how to refresh its digest: docs/adr/0006-base-image.md.

# The official image, pinned to the multi-platform index digest that `python:3.11-slim-bookworm`
# and `python:3.11.17-slim-bookworm` both named in October 2026. The tag documents intent; the
# digest decides the bytes. It stands on a FROM line of its own, not in an ARG default, because
# FROM lines are all that Dependabot's docker updater reads
# (https://github.com/dependabot/dependabot-core/issues/2057): it proposes tag and digest together.
# Both stages below start from this one. Machines without a registry replace it with a stand-in
# through a named build context, `--build-context base=docker-image://<stand-in>` (BuildKit and
# buildah both let a named context override the stage of that name; `make image BASE_IMAGE=...`,
# `make image-smoke`); every image built that way carries the stand-in's label and is never pushed.
FROM python:3.11.17-slim-bookworm@sha256:0a310eeecf4e1f5a0743f9a6520c90c88d089c903ca5fd283f501e3a805f5f89 AS base

# ---------------------------------------------------------------------------------------------
FROM base AS builder

# PIP_CERT / UV_SYSTEM_CERTS: trust the OS certificate store (Debian's ca-certificates, shipped in
# the base) instead of the bundles inside pip and uv, so a build behind a TLS-inspecting proxy
# works once that proxy's CA is in the store the build sees. Builder stage only: nothing here ships.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    UV_SYSTEM_CERTS=1 \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/opt/app \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

# uv, pinned to the version the Makefile uses and to PyPI's hashes of its files
# (image/uv-requirements.txt; `make image-uv-pins` regenerates it), in a venv of its own.
COPY image/uv-requirements.txt /tmp/uv-requirements.txt
RUN python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-deps --require-hashes -r /tmp/uv-requirements.txt

WORKDIR /src

# Layer 1, rebuilt only when the lock or the manifests change: the locked runtime dependencies of
# the service alone. `--frozen` installs exactly what uv.lock says and never re-resolves.
COPY uv.lock pyproject.toml ./
COPY service/pyproject.toml service/pyproject.toml
RUN /opt/uv/bin/uv sync --frozen --no-dev --package aws-fastapi-service --no-install-workspace

# Layer 2: the service itself, as a regular (non-editable) install, so /src is not needed at run
# time. uv's own bookkeeping files in the venv go: one of them (.lock) is world-writable.
COPY service/ service/
RUN /opt/uv/bin/uv sync --frozen --no-dev --package aws-fastapi-service --no-editable \
    && rm -f /opt/app/.lock /opt/app/.gitignore /opt/app/CACHEDIR.TAG

# ---------------------------------------------------------------------------------------------
FROM base AS runtime

# The base's own pip, setuptools and wheel are not used at run time (the service runs from its
# venv, which has none of them); removing them removes their CVEs from the image's scan results.
# The guard keeps a base without pip (e.g. the stand-in) building. The user is numeric and owns
# nothing: the code under /opt/app stays root-owned and read-only to the process.
RUN if python3 -c "import pip" 2>/dev/null; then \
        python3 -m pip uninstall --yes --disable-pip-version-check pip setuptools wheel; \
    fi \
    && groupadd --gid 10001 app \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app

COPY --from=builder /opt/app /opt/app
COPY image/healthcheck.py /opt/healthcheck.py

# Build metadata: OCI labels for registries and scanners, and the same values as environment
# variables the service reports on GET /health (the image contract:
# docs/architecture.md#contracts). `make image` passes the service's version, the git commit
# and the git remote.
ARG VERSION=0.0.0+unknown
ARG REVISION=unknown
ARG SOURCE=unknown
# The service refuses APP_VERSION/APP_COMMIT outside 1-64 characters at start, so a task would
# crash-loop: fail the build instead. Reading the arguments in a RUN also makes podman/buildah
# notice a changed value; without it buildah reuses cached LABEL/ENV steps that still hold the
# old one (https://github.com/containers/buildah/issues/5501).
RUN for value in "${VERSION}" "${REVISION}"; do \
        if [ "${#value}" -lt 1 ] || [ "${#value}" -gt 64 ]; then \
            echo "VERSION and REVISION must be 1-64 characters, got '${value}'" >&2; exit 1; \
        fi; \
    done; \
    echo "building ${VERSION} (${REVISION}) from ${SOURCE}"
LABEL org.opencontainers.image.title="aws-fastapi-service" \
      org.opencontainers.image.description="FastAPI service: GET /health, POST /process" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}"

# HOST=0.0.0.0: listen on the task's interface (the ALB reaches the task's IP, awsvpc mode).
# PYTHONDONTWRITEBYTECODE: never try to write .pyc files; the builder compiled them already.
# HOME/TMPDIR: the only writable place is /tmp (ECS readonlyRootFilesystem).
ENV PATH=/opt/app/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    HOST=0.0.0.0 \
    PORT=8000 \
    APP_VERSION=${VERSION} \
    APP_COMMIT=${REVISION}

WORKDIR /opt/app
USER 10001:10001
EXPOSE 8000

# ECS sends SIGTERM on stop, then SIGKILL after stopTimeout (30 s by default); uvicorn finishes
# in-flight requests on SIGTERM and exits 0. Exec form keeps app-serve as PID 1, so it gets it.
STOPSIGNAL SIGTERM

# For `docker run` and compose. ECS ignores it unless the task definition sets healthCheck, and
# the ALB probes /health itself (runbook 8.2). The slim base has no curl: the probe is Python.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/opt/app/bin/python", "-I", "/opt/healthcheck.py"]

ENTRYPOINT ["app-serve"]
