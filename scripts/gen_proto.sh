#!/usr/bin/env bash
# Generates the Python stubs (messages, gRPC services and their type stubs) for proto/ into OUT_DIR
# (default kit/src). One script so `make proto` and `make proto-check` cannot drift apart.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/kit/src}
py=${PYTHON:-$root/.venv/bin/python}
include=$("$py" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')
mkdir -p "$out"
rm -rf "$out/cad3d"
cd "$root/proto"
mapfile -t protos < <(find cad3d -name '*.proto' | sort)
"$py" -m grpc_tools.protoc -I . -I "$include" \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-mypy_grpc="$(dirname "$py")/protoc-gen-mypy_grpc" --mypy_grpc_out="$out" \
  "${protos[@]}"
# Regular packages (not namespace packages) so mypy and wheels see them.
find "$out/cad3d" -type d -exec sh -c 'for d; do [ -f "$d/__init__.py" ] || : > "$d/__init__.py"; done' sh {} +
