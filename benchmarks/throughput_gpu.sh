#!/bin/bash
# The GPU throughput pages in one go: SkeletonCLR beside the official code at NTU-60 shape
# (16384 synthetic samples each) and NW-UCLA shape, then every method's NW-UCLA config.
# Needs the official harness at ../shared/bench/official-skeletonclr (with tensorboardX and h5py
# for PYTHON) and data/nw-ucla prepared. Writes OUT_DIR/throughput{,-nw-ucla,-methods}-gpu.*
# and OUT_DIR/log.txt; each part has a time limit, so one that fails leaves the others:
#     bash benchmarks/throughput_gpu.sh OUT_DIR [PYTHON]
set -u
out=${1:?usage: throughput_gpu.sh OUT_DIR [PYTHON]}
py=${2:-python3}
log=$out/log.txt
mkdir -p "$out"
export PYTHONPATH="src:benchmarks${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TQDM_DISABLE=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >"$log" 2>&1
part() {  # part SECONDS NAME COMMAND...
    local limit=$1 name=$2 started=$SECONDS
    shift 2
    echo "== $name" >>"$log"
    timeout "$limit" "$@" >>"$log" 2>&1
    echo "== $name: rc $? in $((SECONDS - started)) s" >>"$log"
}
part 300 ntu60 "$py" benchmarks/throughput.py --device cuda --official "$py" --per-class 1024 \
    --official-samples 16384 --out "$out"
part 300 methods "$py" benchmarks/throughput_methods.py --device cuda --repeats 1 \
    --topic throughput-methods-gpu --out "$out" \
    --note 'On a GPU every config trains with `train.amp: true` (its default: bf16 autocast).' \
    configs/{skeletonclr,crossclr,aimclr,actclr,viewclr}/nw-ucla.yaml \
    configs/crrl/nw-ucla-cml.yaml configs/crrl/nw-ucla.yaml configs/isc/nw-ucla.yaml
part 120 nw-ucla "$py" benchmarks/throughput.py --shape nw-ucla --device cuda --official "$py" \
    --out "$out"
grep "^== " "$log"
