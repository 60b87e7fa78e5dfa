#!/usr/bin/env bash
# Fails when the committed generated code is not what the generator produces from dev/protos.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
dev/generate.sh "$tmp"
if ! diff -u Sources/PortoWire/Generated/rpc.pb.swift "$tmp/rpc.pb.swift"; then
  echo "check-generated-code: Sources/PortoWire/Generated/rpc.pb.swift is stale; run dev/generate.sh" >&2
  exit 1
fi
echo "check-generated-code: generated code is up to date"
