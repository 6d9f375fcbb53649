#!/bin/bash
# The NW-UCLA recipe search for SkeletonCLR on one GPU, in one go (about 8 minutes on an H200):
#   1. validation search: every candidate × 3 seeds on train-val → val, JOBS runs at a time;
#   2. the pick, by the rule fixed beforehand: the candidate of the adoptable pool (the paper's
#      encoder and method; schedule, dropout, warm-up and shear vary) with the highest mean of
#      val 1-NN and val linear over the seeds (recipe_nw_ucla.py --best);
#   3. test: the pick and the config's recipe × 3 seeds on train → test view.
# The test split is touched only in step 3, after the choice. Writes OUT_DIR/val.tgz and
# OUT_DIR/test-<candidate>.tgz (runs without checkpoints); report with recipe_nw_ucla.py on
# the extracted runs. From the repository root, with data/nw-ucla prepared:
#     bash benchmarks/recipe_search_gpu.sh OUT_DIR [JOBS]
# A quick dry run anywhere: EXTRA=",train.epochs=1" (appended to every candidate) SEEDS=0.
set -u
out=${1:?usage: recipe_search_gpu.sh OUT_DIR [JOBS]}
jobs=${2:-16}
extra=${EXTRA:-}
runs=${RUNS:-/tmp/recipe-search}
read -ra seeds <<< "${SEEDS:-0 1 2}"
recipe=("${PYTHON:-python3}" benchmarks/recipe_nw_ucla.py --no-floors --seeds "${seeds[@]}")
export PYTHONPATH="src:benchmarks${PYTHONPATH:+:$PYTHONPATH}" TQDM_DISABLE=1
mkdir -p "$out"

pool=("d0-150,encoder.dropout=0,train.epochs=150,train.milestones=[125]"
      "d0-100,encoder.dropout=0,train.epochs=100,train.milestones=[85]"
      "baseline" "dropout0,encoder.dropout=0"
      "d0-warmup,encoder.dropout=0,train.warmup_epochs=10"
      "d0-shear1,encoder.dropout=0,method.shear_beta=1.0")
informative=("agcn,config=configs/skeletonclr/nw-ucla-agcn.yaml"
             "d0-wide,encoder.dropout=0,encoder.hidden_channels=64")
flags() { for spec in "$@"; do printf -- '--candidate\n%s\n' "$spec$extra"; done; }
mapfile -t all < <(flags "${pool[@]:0:2}" "${informative[@]}" "${pool[@]:2}")
mapfile -t adoptable < <(flags "${pool[@]}")

keep() {  # the small files of each run: scores, metrics, config, provenance
    (cd "$1" && find . \( -name recipe.json -o -name metrics.csv -o -name config.yaml \
        -o -name run.json -o -name pipeline.yaml \) -print0 | tar czf "$2" --null -T -)
}

start=$(date +%s)
"${recipe[@]}" --jobs "$jobs" --runs "$runs/val" "${all[@]}" 2>"$out/val.log" \
    || { tail -20 "$out/val.log"; keep "$runs/val" "$out/val.tgz"; exit 1; }
keep "$runs/val" "$out/val.tgz"
echo "validation search: $(( $(date +%s) - start )) s"
best=$("${recipe[@]}" --best --runs "$runs/val" "${adoptable[@]}" 2>>"$out/val.log" | tail -1)
echo "pick: $best"

test_specs=("$best")
[ "${best%%,*}" = baseline ] || test_specs+=("baseline$extra")
mapfile -t tests < <(for spec in "${test_specs[@]}"; do printf -- '--candidate\n%s\n' "$spec"; done)
"${recipe[@]}" --split test --jobs "$jobs" --runs "$runs/test" "${tests[@]}" 2>"$out/test.log" \
    || { tail -20 "$out/test.log"; exit 1; }
for spec in "${test_specs[@]}"; do
    name=${spec%%,*}
    tar czf "$out/test-$name.tgz" --exclude=last.pt --exclude=previous.pt --exclude=features \
        -C "$runs/test" $(cd "$runs/test" && ls -d "$name"-seed*)
done
echo "done: $(( $(date +%s) - start )) s"
