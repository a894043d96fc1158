#!/usr/bin/env bash
# brisk-lab experiments on a lent machine with no Rust toolchain (by
# default the multi-core scaling ones).
#
# Run from the repository root (the working tree: brisk-lab reads
# interp/examples/ at run time), with release binaries built elsewhere by
# `cargo build --release -p brisk-bench -p brisk-interp` in target/release/:
#
#   target/release/brisk-lab   the experiments (and their child processes)
#   target/release/brisk       the interpreter that parallel_scaling times
#
# With no arguments, runs `brisk-lab --only contention` and
# `--only parallel_scaling` (quick suite, thread and worker counts up to the
# cores); with arguments, runs those experiments instead, one `--only` each
# (`bash benches/device-scaling.sh per_op`). Writes their tables, plots,
# results.json and logs to ${OUT:-target/device-out}/scaling.
# BIN=DIR takes the binaries from DIR instead (stripped copies, say);
# MACHINE=LABEL labels the results instead of the label brisk-lab makes
# from the CPU model and the cores, such as amd-epyc-16core (without git on
# the device, brisk-lab records no commit: put it in the label);
# SUITE=full runs the long suite.
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
lab=(--brisk "$bin/brisk" --out "$out")
if [[ -n ${MACHINE:-} ]]; then
    lab+=(--machine "$MACHINE")
fi
case "${SUITE:-quick}" in
    quick) ;;
    full) lab+=(--full) ;;
    *) echo "device-scaling: SUITE is quick or full, not ${SUITE}" >&2; exit 1 ;;
esac
experiments=("$@")
if [[ ${#experiments[@]} -eq 0 ]]; then
    experiments=(contention parallel_scaling)
fi

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
for experiment in "${experiments[@]}"; do
    step "$experiment" 300 "$bin/brisk-lab" --only "$experiment" "${lab[@]}"
done
ls -l "$out"
for experiment in "${experiments[@]}"; do
    cat "$out/$experiment.md" || true
done
echo "== device-scaling: done in $SECONDS s"
exit "$failed"
