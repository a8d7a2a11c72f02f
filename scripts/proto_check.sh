#!/usr/bin/env bash
# Fails when the committed stubs differ from what proto/ generates, when buf lint finds anything,
# or when proto/ breaks a published contract compared with the main branch (buf breaking).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
buf="$root/node_modules/.bin/buf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$root/scripts/gen_proto.sh" "$tmp" >/dev/null
if ! diff -r "$tmp/cad3d" "$root/kit/src/cad3d" -x __pycache__ >"$tmp/drift.txt"; then
  cat "$tmp/drift.txt" | head -40
  echo "generated gRPC code is out of date: run 'make proto' and commit the result" >&2
  exit 1
fi
echo "stubs: no drift"

(cd "$root/proto" && "$buf" lint)
echo "buf lint: clean"

against=${PROTO_BASE:-main}
if git -C "$root" rev-parse --verify --quiet "$against" >/dev/null &&
   git -C "$root" cat-file -e "$against:proto/buf.yaml" 2>/dev/null; then
  (cd "$root/proto" && "$buf" breaking --against "$root/.git#ref=$against,subdir=proto")
  echo "buf breaking against $against: no breaking change"
else
  echo "buf breaking: no published contracts on $against yet; nothing to compare"
fi
