#!/bin/sh
# Rebuilds the WASI programs (bench/programs) and their expected output.
# The .wasm and .stdout files are committed, so running the benchmarks does
# not need clang; rerun this after editing a program.
#
#   *.c        -> *.wasm  Debian's clang 14 + wasi-libc: clang --target=wasm32-wasi -O2
#   gojson/    -> gojson.wasm  GOOS=wasip1 GOARCH=wasm go build (the go on PATH)
#   *.stdout   the output of a NATIVE build of the same source (gcc, go run)
#              with the arguments of programTable in ../programs.go, so the
#              expected output does not come from any WebAssembly runtime.
set -eu
cd "$(dirname "$0")"
CC=${CC:-clang}
HOSTCC=${HOSTCC:-gcc}
GO=${GO:-go}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for src in hello datapipe; do
	"$CC" --target=wasm32-wasi -O2 -Wall -Wextra -o "$src.wasm" "$src.c"
	chmod -x "$src.wasm"
	echo "built $src.wasm ($(wc -c <"$src.wasm") bytes)"
done
GOOS=wasip1 GOARCH=wasm "$GO" build -trimpath -ldflags="-s -w" -o gojson.wasm ./gojson
chmod -x gojson.wasm
echo "built gojson.wasm ($(wc -c <gojson.wasm) bytes, $("$GO" version))"

"$HOSTCC" -O2 -Wall -o "$tmp/datapipe" datapipe.c
"$tmp/datapipe" 64 >datapipe.stdout
"$GO" build -o "$tmp/gojson" ./gojson
"$tmp/gojson" 400 >gojson.stdout
echo "recorded datapipe.stdout gojson.stdout (native builds)"
