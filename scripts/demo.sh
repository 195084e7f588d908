#!/usr/bin/env bash
# Sets Ferry up on a fresh Debian machine and shows its main job on a real
# program: a C program (wasi-libc) is checkpointed in the middle of its run,
# the checkpoint is inspected, and the program is restored — natively and, when
# qemu-user is there, by the arm64 build of ferry — finishing exactly as an
# uninterrupted run does.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export PATH=$PATH:/usr/local/go/bin
go build -o bin/ferry ./cmd/ferry
demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
prog=wasi/testdata/ckptprog.wasm
# The per-user key that signs checkpoints (ferry keygen) is made in the
# demo's directory, not in ~/.config/ferry.
export FERRY_CONFIG_DIR="$demo/config"

fresh() { rm -rf "$demo/$1"; mkdir -p "$demo/$1"; printf 'alpha\nbravo\ncharlie\n' > "$demo/$1/in.txt"; }
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

fresh plain
say ferry run --dir work::. $prog in.txt out.txt
bin/ferry run --dir "$demo/plain::." $prog in.txt out.txt | tee "$demo/plain.out" | tail -3

fresh ck
say ferry run --dir work::. --checkpoint-to app.ckpt --checkpoint-on pause:5000 $prog in.txt out.txt
bin/ferry run --dir "$demo/ck::." --checkpoint-to "$demo/app.ckpt" --checkpoint-on pause:5000 \
  $prog in.txt out.txt > "$demo/ck.out"
say ferry inspect app.ckpt
bin/ferry inspect "$demo/app.ckpt"
cp -rp "$demo/ck" "$demo/ck-arm"
say ferry restore --dir work::. app.ckpt
bin/ferry restore --dir "$demo/ck::." "$demo/app.ckpt" >> "$demo/ck.out"
tail -3 "$demo/ck.out"
cmp "$demo/plain.out" "$demo/ck.out" && cmp "$demo/plain/out.txt" "$demo/ck/out.txt" &&
  echo "=> stdout and out.txt identical to the uninterrupted run"

if command -v qemu-aarch64 >/dev/null; then
  GOARCH=arm64 CGO_ENABLED=0 go build -o bin/ferry-arm64 ./cmd/ferry
  say qemu-aarch64 ferry-arm64 restore --dir work::. app.ckpt '   # the same checkpoint, on arm64'
  qemu-aarch64 bin/ferry-arm64 restore --dir "$demo/ck-arm::." "$demo/app.ckpt" > "$demo/arm.out"
  tail -3 "$demo/arm.out"
  cmp "$demo/ck-arm/out.txt" "$demo/plain/out.txt" && echo "=> out.txt identical after an amd64 -> arm64 move"
fi

say ferry run --invoke fib examples/fib.wasm 27
bin/ferry run --invoke fib examples/fib.wasm 27
spec=../shared/spec-testsuite
if [ -d "$spec" ]; then
  say ferry wast $spec/fac.wast $spec/simd_lane.wast
  bin/ferry wast "$spec/fac.wast" "$spec/simd_lane.wast"
fi
