#!/usr/bin/env bash
# Runs every test of Ferry: the runtime module (unit tests, the official
# WebAssembly spec suite through `ferry wast`, fuzz seeds), the separate
# bench module (differential tests against wazero) and the containerd shim's
# module (a real containerd daemon in a private mount namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export PATH=$PATH:/usr/local/go/bin
echo "== vet"
go vet ./...
echo "== runtime module"
go test -count=1 ./...
echo "== race detector (the packages that run goroutines: pauses, cancellation, concurrent lowering and memory checks)"
go test -race -count=1 . ./internal/validate ./internal/snapshot ./internal/interp ./internal/store ./internal/wasi ./wasi
echo "== bench module (peers, differential tests)"
(cd bench && go vet ./... && go test -count=1 ./...)
echo "== containerd shim module (real containerd daemons; needs root)"
(cd shim && go vet ./... && go test -count=1 ./...)
echo "== ferryd module (the node agent: mutual-TLS API, migrations between daemons over loopback)"
(cd ferryd && go vet ./... && go test -count=1 ./...)
