#!/bin/sh
# Entry point of the fashion-mnist image (under tini): runs the command it is given (JupyterLab by
# default, or papermill, fashion, bash ...) after
# - making sure HOME is writable: with `docker run --user UID:GID` (to write a bind-mounted folder
#   as yourself) the uid may have no home in the image;
# - reading the JupyterLab token from a mounted file (JUPYTER_TOKEN_FILE, default
#   /run/secrets/jupyter_token), so it stays out of shell history and `docker inspect`;
# - making sure $FASHION_HOME/outputs exists (a bind-mounted empty folder has none), so batch
#   commands can write there as they are.
set -e
if [ ! -w "${HOME:-/}" ]; then
    HOME="/tmp/home-$(id -u)"
    export HOME
    mkdir -p "$HOME"
fi
token_file="${JUPYTER_TOKEN_FILE:-/run/secrets/jupyter_token}"
if [ -e "$token_file" ]; then
    if [ ! -r "$token_file" ]; then
        echo "fashion-entrypoint: can't read the token file $token_file as uid $(id -u); make it readable by that uid (chmod 644 on the host; keep its folder private)" >&2
        exit 2
    fi
    JUPYTER_TOKEN="$(tr -d ' \r\n' < "$token_file")"
    if [ -z "$JUPYTER_TOKEN" ]; then
        echo "fashion-entrypoint: the token file $token_file is empty; expected a token" >&2
        exit 2
    fi
    export JUPYTER_TOKEN
elif [ -n "${JUPYTER_TOKEN_FILE:-}" ]; then
    echo "fashion-entrypoint: JUPYTER_TOKEN_FILE=$JUPYTER_TOKEN_FILE does not exist; mount the token file there" >&2
    exit 2
fi
if [ -n "${FASHION_HOME:-}" ] && [ -w "$FASHION_HOME" ]; then
    mkdir -p "$FASHION_HOME/outputs"
fi
exec "$@"
