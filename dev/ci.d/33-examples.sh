#!/usr/bin/env bash
# examples/: the Prometheus config passes `promtool check config` (with the repository's rules in
# place of /etc/prometheus/rules), and the systemd unit passes `systemd-analyze verify` (with a
# stub in place of the installed binary) and scores "OK" or better in `systemd-analyze security`.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

sed "s#/etc/prometheus/rules/#$PWD/rules/#" examples/prometheus.yml > "$tmp/prometheus.yml"
promtool check config "$tmp/prometheus.yml"

command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing (Debian package systemd)" >&2; exit 1; }
printf '#!/bin/sh\nexit 0\n' > "$tmp/porto-exporter"
chmod +x "$tmp/porto-exporter"
sed "s#/usr/local/bin/porto-exporter#$tmp/porto-exporter#" examples/porto-exporter.service > "$tmp/porto-exporter.service"
systemd-analyze verify "$tmp/porto-exporter.service"
exposure="$(systemd-analyze security --offline=yes "$tmp/porto-exporter.service" 2>&1 | grep 'Overall exposure level')"
echo "$exposure"
case "$exposure" in
  *" OK"* | *" SAFE"*) ;;
  *) echo "systemd unit sandboxing weaker than OK" >&2; exit 1 ;;
esac
echo "examples: clean"
