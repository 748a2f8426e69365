#!/bin/sh
# The image's install steps, in one place so that the Dockerfile and the packaging tests run the same ones:
# build pricing-edge's wheel from a source tree, install it with its dependencies into a fresh virtualenv,
# and check that the installed command starts.
#
#   packaging/build-venv.sh SOURCE_DIR VENV_DIR        (PYTHON: the interpreter to use, default python3)
set -eu
source_dir=$1
venv=$2
python=${PYTHON:-python3}
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT

"$python" -m pip wheel --no-deps --wheel-dir "$wheels" "$source_dir"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install "$wheels"/pricing_edge-*.whl
"$venv/bin/pricing-edge" --help > /dev/null
