# The bot as a container: build it where Docker runs and can pull python:3.11-slim (see docs/operations.md).
#   docker build -t distansmote .
#   docker run --env-file distansmote.env -p 8080:8080 distansmote
# Start-up applies the database migrations, then serves; settings are DISTANSMOTE_* variables (.env.example).

FROM python:3.11-slim-bookworm AS build
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

FROM python:3.11-slim-bookworm
ENV PATH=/opt/distansmote/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/distansmote --create-home distansmote
COPY --from=build /opt/distansmote /opt/distansmote
USER 10001:10001
WORKDIR /var/lib/distansmote
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["/bin/sh", "-c", "distansmote db upgrade && exec distansmote serve --host 0.0.0.0 --port 8080"]
