#!/usr/bin/env bash
# Multi-core scaling figures on a lent machine with no Rust toolchain.
#
# Run from the repository root (the working tree: brisk-lab reads
# interp/examples/ at run time), with release binaries built elsewhere by
# `cargo build --release -p brisk-bench -p brisk-interp` in target/release/:
#
#   target/release/brisk-lab   the experiments (and their child processes)
#   target/release/brisk       the interpreter that parallel_scaling times
#
# Runs `brisk-lab --only contention` and `--only parallel_scaling` (quick
# suite, thread and worker counts up to the cores) and writes their tables,
# plots, results.json and logs to ${OUT:-target/device-out}/scaling.
# BIN=DIR takes the binaries from DIR instead (stripped copies, say);
# MACHINE=TEXT labels the results (without git on the device, brisk-lab
# records no commit: put it in the label).
set -euo pipefail

bin="${BIN:-target/release}"
out="${OUT:-target/device-out}/scaling"
mkdir -p "$out"
for b in brisk-lab brisk; do
    if [[ ! -x "$bin/$b" ]]; then
        echo "device-scaling: no $bin/$b (cargo build --release -p brisk-bench -p brisk-interp)" >&2
        exit 1
    fi
done
if [[ ! -f interp/examples/parallel-map.brisk ]]; then
    echo "device-scaling: run me from the repository root" >&2
    exit 1
fi
lab=(--brisk "$bin/brisk" --out "$out" --machine "${MACHINE:-lent machine, benches/device-scaling.sh}")

# step NAME SECONDS COMMAND...: runs COMMAND with a time limit, its output
# also in $out/NAME.log, and says how long it took; a failure is reported
# and the next step runs.
failed=0
step() {
    local name=$1 limit=$2 t0=$SECONDS
    shift 2
    echo "== $name: $*"
    if ! timeout "$limit" "$@" 2>&1 | tee "$out/$name.log"; then
        echo "== $name: FAILED or timed out (limit $limit s)"
        failed=1
    fi
    echo "== $name: $((SECONDS - t0)) s"
}

step machine 30 bash -c 'nproc; lscpu | head -20; cat /proc/loadavg'
step contention 90 "$bin/brisk-lab" --only contention "${lab[@]}"
step parallel_scaling 240 "$bin/brisk-lab" --only parallel_scaling "${lab[@]}"
ls -l "$out"
cat "$out"/contention.md "$out"/parallel_scaling.md || true
echo "== device-scaling: done in $SECONDS s"
exit "$failed"
