# The bot as a container: build it where Docker runs and can pull python:3.11-slim (see docs/operations.md).
#   docker build --build-arg VERSION=$(git describe --always) --build-arg REVISION=$(git rev-parse HEAD) -t distansmote .
#   docker run --env-file distansmote.env -p 8080:8080 distansmote
#   docker run --env-file distansmote.env distansmote check      (or report, db upgrade, any distansmote command)
# Without arguments it applies the database migrations, then serves; settings are DISTANSMOTE_* variables
# (.env.example). Both stages start from the same base, pinned by digest: a rebuild gets the same system
# files until the digest is moved on purpose (docs/operations.md, "Container").

FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY requirements-runtime.lock ./
RUN python -m venv /opt/distansmote \
    && /opt/distansmote/bin/pip install --require-hashes --only-binary=:all: -r requirements-runtime.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY cards ./cards
COPY manifest ./manifest
RUN /opt/distansmote/bin/pip install --no-deps .

FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b
ARG VERSION=unknown
ARG REVISION=unknown
LABEL org.opencontainers.image.title="distansmote" \
      org.opencontainers.image.description="Chat bot that runs the region's distance-meeting routine on Cisco Meeting Server from Webex and Teams" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.documentation="docs/operations.md" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim-bookworm" \
      org.opencontainers.image.base.digest="sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b"
ENV PATH=/opt/distansmote/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/distansmote --create-home distansmote
COPY --from=build /opt/distansmote /opt/distansmote
COPY --chmod=0755 deploy/docker-entrypoint.sh /usr/local/bin/distansmote-entrypoint
USER 10001:10001
WORKDIR /var/lib/distansmote
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["/usr/local/bin/distansmote-entrypoint"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
