#!/bin/sh
# Whole-process `ferry restore` of a 1 GiB checkpoint to its first (and
# only) response, per --verify-memory mode: median of N runs of
#   /usr/bin/time -f %e sh -c "echo x | ferry restore --verify-memory=MODE CKPT"
# Usage: measure.sh FERRY CKPT [N]   (N defaults to 7)
# Make CKPT with (stdin must stay open until the checkpoint is written):
#   clang --target=wasm32-wasi -O2 -mbulk-memory -o bigreply.wasm bigreply.c
#   ferry run [--no-sign] --checkpoint-to CKPT --checkpoint-on stdin bigreply.wasm < <(sleep 120)
set -e
ferry=$1 ckpt=$2 n=${3:-7}
for mode in concurrent first-touch off; do
	times=""
	i=0
	while [ $i -lt "$n" ]; do
		t=$( { /usr/bin/time -f %e sh -c "echo x | $ferry restore --verify-memory=$mode $ckpt >/dev/null" ; } 2>&1 )
		times="$times $t"
		i=$((i + 1))
	done
	median=$(echo $times | tr ' ' '\n' | sort -n | sed -n "$(( (n + 1) / 2 ))p")
	echo "$mode: median $median s of:$times"
done
