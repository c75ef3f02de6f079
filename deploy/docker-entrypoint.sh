#!/bin/sh
# The container's entrypoint: its arguments are a distansmote command (`docker run IMAGE check`,
# `... report --format csv`, `... db upgrade`); without any it serves (the Dockerfile's CMD).
# `serve` applies the migrations first, so a plain `docker run` of a new version upgrades the schema.
set -eu
if [ "$#" -eq 0 ]; then
    set -- serve --host 0.0.0.0 --port 8080
fi
if [ "$1" = "serve" ]; then
    distansmote db upgrade
fi
exec distansmote "$@"
