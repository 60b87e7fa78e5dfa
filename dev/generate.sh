#!/usr/bin/env bash
# Regenerates Sources/PortoWire/Generated/rpc.pb.swift from dev/protos/rpc.proto with Debian's protoc
# and the protoc-gen-swift of the swift-protobuf version that Package.swift pins.
# Usage: dev/generate.sh [OUTPUT_DIR]   (default: Sources/PortoWire/Generated)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-Sources/PortoWire/Generated}"
command -v protoc >/dev/null || { echo "generate.sh: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
# A debug build shares the SwiftProtobuf objects that the package build already made.
swift build --product protoc-gen-swift >/dev/null
plugin="$(swift build --show-bin-path)/protoc-gen-swift"
mkdir -p "$out"
protoc --plugin=protoc-gen-swift="$plugin" \
  --proto_path=dev/protos \
  --swift_opt=Visibility=Public \
  --swift_out="$out" \
  dev/protos/rpc.proto
