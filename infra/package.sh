#!/usr/bin/env bash
# Builds the zip that Azure Functions runs: host.json, package.json (its "main" names
# dist/src/functions/*.js), the compiled app and the production dependencies, nothing else
# (no tests, no local host, no dev tools). Usage: infra/package.sh [out.zip]  (default: app.zip)
# Run it after `npm ci && npm run build`.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "${1:-app.zip}")"
[ -d "$root/dist/src/functions" ] || { echo "no dist/src/functions: run npm run build first" >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

cp "$root/package.json" "$root/package-lock.json" "$root/host.json" "$stage/"
# npm ci checks the lock against every workspace's manifest, so the manifest comes along; the
# workspace itself (the integration test agent) is removed again below.
mkdir -p "$stage/__integrations__"
cp "$root/__integrations__/package.json" "$stage/__integrations__/"
(cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
rm -rf "$stage/__integrations__" "$stage/node_modules/webhook-dispatcher-integrations"

mkdir -p "$stage/dist"
cp -R "$root/dist/src" "$stage/dist/src"
find "$stage/dist" -type d -name __tests__ -prune -exec rm -rf {} +

mkdir -p "$(dirname "$out")" && rm -f "$out"
(cd "$stage" && zip -qr "$out" host.json package.json dist node_modules)
echo "$out"
