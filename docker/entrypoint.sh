#!/bin/sh
# Entry point of the fashion-mnist image: runs the command it is given (JupyterLab by default,
# or papermill, fashion, bash ...) after making sure HOME is writable: with `docker run --user
# UID:GID` (to write a bind-mounted folder as yourself) the uid may have no home in the image.
set -e
if [ ! -w "${HOME:-/}" ]; then
    HOME="/tmp/home-$(id -u)"
    export HOME
    mkdir -p "$HOME"
fi
exec "$@"
