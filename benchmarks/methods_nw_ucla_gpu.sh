#!/bin/bash
# The NW-UCLA tables of the new methods on one GPU: every variant × seeds on the test view
# (benchmarks/method_nw_ucla.py, JOBS runs at a time per table, the tables side by side).
# Each setting the papers leave open keeps its config default here; a table whose method has
# such settings (ViewCLR: τ, the distance unit) is provisional until they are chosen on the
# validation split. Writes OUT_DIR/<topic>.{json,md} and OUT_DIR/<topic>-runs.tgz (scores,
# metrics, configs). From the repository root, with data/nw-ucla prepared:
#     bash benchmarks/methods_nw_ucla_gpu.sh OUT_DIR JOBS aimclr viewclr actclr isc
# A quick dry run anywhere: EXTRA=",train.epochs=1" EXTRA_PIPELINE=",stages.aimclr.train.epochs=1,
# stages.actclr.train.epochs=1" (ActCLR's two-stage configs) SEEDS=0 PYTHON=.venv/bin/python.
set -u
out=${1:?usage: methods_nw_ucla_gpu.sh OUT_DIR JOBS METHOD...}
jobs=${2:?}
shift 2
extra=${EXTRA:-}
staged=${EXTRA_PIPELINE:-}
runs=${RUNS:-/tmp/methods-nw-ucla}
export PYTHONPATH="src:benchmarks${PYTHONPATH:+:$PYTHONPATH}" TQDM_DISABLE=1
mkdir -p "$out"
read -ra seeds <<< "${SEEDS:-0 1 2}"

table() {  # table TOPIC ARGS...: one method's table, then its runs' small files
    local topic=$1
    shift
    "${PYTHON:-python3}" benchmarks/method_nw_ucla.py --topic "$topic" --runs "$runs/$topic" \
        --out "$out" --jobs "$jobs" --seeds "${seeds[@]}" "$@" >"$out/$topic.log" 2>&1
    (cd "$runs/$topic" && find . \( -name recipe.json -o -name metrics.csv -o -name config.yaml \
        \) -print0 | tar czf "$out/$topic-runs.tgz" --null -T -)
    echo "$topic: done ($(grep -c '^|' "$out/$topic.md" 2>/dev/null || echo 0) table lines)"
}

aimclr() {  # on the NW-UCLA recipe's encoder (2s-AGCN 1/4), beside SkeletonCLR's recipe
    local a=config=configs/aimclr/nw-ucla-agcn.yaml
    table aimclr-nw-ucla \
        --variant "SkeletonCLR · joint=agcn-warmup,config=configs/skeletonclr/nw-ucla-agcn.yaml$extra" \
        --variant "AimCLR · joint=aimclr-agcn,$a$extra" \
        --variant "AimCLR · motion=aimclr-agcn-motion,$a,method.stream=motion$extra" \
        --variant "AimCLR · bone=aimclr-agcn-bone,$a,method.stream=bone$extra" \
        --ensemble "AimCLR · 3-stream ensemble=AimCLR · joint+AimCLR · motion+AimCLR · bone" \
        --ablation "AimCLR · joint w/o extreme view=aimclr-agcn-noextreme,$a,method.extreme=false$extra" \
        --ablation "AimCLR · joint w/o drop=aimclr-agcn-nodrop,$a,method.drop=false$extra" \
        --ablation "AimCLR · joint w/o D³M=aimclr-agcn-nod3m,$a,method.d3m=false$extra" \
        --ablation "AimCLR · joint w/o mining=aimclr-agcn-nomining,$a,method.mining=false$extra"
}

viewclr() {
    local c=configs/viewclr
    local items=(ab:"(α, β) random, γ fixed" ag:"(α, γ) random, β fixed" bg:"(β, γ) random, α fixed"
                 distance:"distance only" frame:"a camera per frame" resnet18:"ResNet-18 1/4"
                 resnet18-w32:"ResNet-18 1/2" resnet34:"ResNet-34 1/4" resnet50:"ResNet-50 1/4")
    local ablations=()
    for item in "${items[@]}"; do
        ablations+=(--ablation "ViewCLR · ${item#*:}=viewclr-${item%%:*},config=$c/nw-ucla-${item%%:*}.yaml$extra")
    done
    table viewclr-nw-ucla --variant "ViewCLR · joint=viewclr,config=$c/nw-ucla.yaml$extra" \
        "${ablations[@]}"
}

actclr() {  # on the recipe's encoder; stage 1 is AimCLR as configs/aimclr/nw-ucla-agcn.yaml
    local a=config=configs/actclr/nw-ucla-agcn.yaml m=stages.actclr.method
    local released="$m.init_heads=true,$m.teacher_cutoff=0.95,$m.teacher_topk=32,$m.square_student=true"
    released+=",$m.mixed_key=true,$m.actionlet_smoothing=parts,$m.actionlet_scaling=binary"
    released+=",$m.offline_pooling=mix,stages.actclr.train.optimizer=sgd,stages.actclr.train.lr=0.4"
    local s=stages.aimclr.method.stream=
    table actclr-nw-ucla --variant "ActCLR · joint=actclr-agcn,$a$staged" \
        --variant "ActCLR · motion=actclr-agcn-motion,$a,${s}motion,$m.stream=motion$staged" \
        --variant "ActCLR · bone=actclr-agcn-bone,$a,${s}bone,$m.stream=bone$staged" \
        --ensemble "ActCLR · 3-stream ensemble=ActCLR · joint+ActCLR · motion+ActCLR · bone" \
        --ablation "ActCLR · joint w/o MATS=actclr-agcn-nomats,$a,$m.mats=false$staged" \
        --ablation "ActCLR · joint w/o SAFP=actclr-agcn-nosafp,$a,$m.offline_pooling=global$staged" \
        --ablation "ActCLR · joint, SAFP online=actclr-agcn-onlinesafp,$a,$m.online_pooling=safp$staged" \
        --ablation "ActCLR · joint, dense actionlet=actclr-agcn-dense,$a,$m.actionlet_features=dense$staged" \
        --ablation "ActCLR · joint, released code=actclr-agcn-sgd,$a,$released$staged"
}

isc() {  # ISC at the paper's scale (configs/isc/nw-ucla.yaml): Table 6, Table 5, the main row
    local q=config=configs/isc/nw-ucla.yaml r=method.representations
    table isc-nw-ucla-full --isc-protocols \
        --variant "ISC · inter SEQ–STG=isc-seq-stg,$q$extra" \
        --ensemble "ISC · inter SEQ–STG, sequence + graph fused=ISC · inter SEQ–STG" \
        --ablation "ISC · intra (each alone)=isc-intra,$q,$r=[sequence,graph,image],method.intra=true,method.inter=false$extra" \
        --ablation "ISC · inter SEQ–IMG=isc-seq-img,$q,$r=[sequence,image]$extra" \
        --ablation "ISC · inter IMG–STG=isc-img-stg,$q,$r=[image,graph]$extra" \
        --ablation "ISC · inter SEQ–STG–IMG=isc-triple,$q,$r=[sequence,graph,image]$extra" \
        --ablation "ISC · inter SEQ–STG, no augmentation=isc-noaug,$q,method.crop_resize=false,method.pose=false,method.jitter=false$extra" \
        --ablation "ISC · inter SEQ–STG, pose only=isc-pose,$q,method.crop_resize=false,method.jitter=false$extra" \
        --ablation "ISC · inter SEQ–STG, jitter only=isc-jitter,$q,method.crop_resize=false,method.pose=false$extra" \
        --ablation "ISC · inter SEQ–STG, crop-resize only=isc-crop,$q,method.pose=false,method.jitter=false$extra"
}

for method in "$@"; do
    "$method" &
done
wait
