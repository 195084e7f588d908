#!/bin/sh
# The compiled tier's cross-CPU acceptance matrix (issue 11), run on
# purpose, not by scripts/test.sh: the bench programs checkpointed at nine
# pause points under --tier=interp and --tier=compiled (checkpoints
# compared), each restored with --tier=compiled under every
# --cpu-features level the host has, under qemu-x86_64 -cpu qemu64,
# Nehalem and Haswell, and on arm64 under qemu-aarch64; then the feature
# lint over the spec suite and the bench code for every mask. Takes tens
# of minutes: every restore under qemu runs a whole program emulated.
#
# usage: FERRY_QEMU_MATRIX=1 scripts/qemu-matrix.sh [go test flags]
set -eu
if [ "${FERRY_QEMU_MATRIX:-}" != 1 ]; then
	echo "qemu-matrix.sh: set FERRY_QEMU_MATRIX=1 to run the full matrix (tens of minutes)" >&2
	exit 2
fi
for tool in qemu-x86_64 qemu-aarch64; do
	command -v "$tool" >/dev/null || { echo "qemu-matrix.sh: $tool not found (scripts/deps.sh installs qemu-user)" >&2; exit 2; }
done
cd "$(dirname "$0")/.."
go test -count=1 -timeout 3h -v -run 'TestCompiledCheckpointMatchesInterpreterAcrossCPUs' "$@" ./cmd/ferry
go test -count=1 -timeout 30m -v -run 'TestFeatureLintSpecSuiteAndBench' "$@" ./internal/jit
