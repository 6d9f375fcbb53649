"""The official SkeletonCLR model's training step at a skeleton shape its code has no graph for.

Run with a Python that has the official harness's dependencies (torch, numpy, pyyaml), never
with skelssl's: it imports the official code (LinguoLi/CrosSCLR, ``$CROSSCLR_SRC``, a copy of
../shared/bench/official-skeletonclr/crossclr-src) at run time and changes nothing on disk.
Their ``Graph`` knows NTU's 25 and OpenPose's 18 joints; for another layout this script adds
its edges (given as JSON) to ``Graph.get_edge`` in memory, then times their model exactly as
the harness's ``pure`` mode does: their SkeletonCLR (their ST-GCN, weights_init, SGD, MoCo
queue, CrossEntropyLoss) on one batch already in memory — query forward, momentum update, key
forward, enqueue, loss, backward, SGD step. benchmarks/throughput.py ``--shape nw-ucla`` calls
it, and ``--profile`` adds the per-operator time of their step for its "where the time goes"
table (``operator_profile``, shared with skelssl's side). By hand:

    CROSSCLR_SRC=/tmp/crossclr-src /tmp/official-venv/bin/python benchmarks/official_pure_step.py \\
        --layout '{"edges": [[0, 1], ...], "center": 1, "joints": 20}' --batch 64 --persons 1
"""

import argparse
import json
import os
import sys
import time

import yaml

HARNESS_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                              "bench", "official-skeletonclr", "skeletonclr_joint_xview.yaml")


def add_layout(graph_class, layout: dict) -> None:
    """Teach their Graph a layout named 'custom' (0-based edges, centre joint)."""
    original = graph_class.get_edge

    def get_edge(self, name):
        if name != "custom":
            return original(self, name)
        self.num_node = layout["joints"]
        self.edge = [(i, i) for i in range(self.num_node)] + [tuple(e) for e in layout["edges"]]
        self.center = layout["center"]

    graph_class.get_edge = get_edge


def operator_profile(step, steps: int, least_share: float = 1e-3) -> list[dict]:
    """Self CPU time by operator over ``steps`` calls of ``step``, largest first: operator, ms
    per step and share of the total; operators under ``least_share`` are summed into one last
    row, so that the rows still add up to the whole step."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events) or 1.0
    rows = [(e.key, e.self_cpu_time_total) for e in events]
    kept = [(name, time) for name, time in rows if time / total >= least_share]
    rest = rows[len(kept):]
    if rest:
        kept.append((f"{len(rest)} other operators, each under {100 * least_share:g} %",
                     sum(time for _, time in rest)))
    return [{"operator": name, "ms_per_step": time / 1e3 / steps, "share": time / total}
            for name, time in kept]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", required=True, help="JSON: joints, edges (0-based), center")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--persons", type=int, default=1)
    parser.add_argument("--queue", type=int, default=32768)
    parser.add_argument("--momentum", type=float, default=0.999)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--config", default=HARNESS_CONFIG)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--profile", type=int, default=0, metavar="STEPS",
                        help="also profile this many steps by operator")
    args = parser.parse_args()
    layout = json.loads(args.layout)
    src = os.environ.get("CROSSCLR_SRC")
    if not src or not os.path.isfile(os.path.join(src, "main.py")):
        sys.exit("set CROSSCLR_SRC to a copy of ../shared/bench/official-skeletonclr/crossclr-src")
    sys.path[:0] = [src, os.path.join(src, "torchlight")]
    os.chdir(src)
    import torch
    from net.utils.graph import Graph
    from processor.pretrain import weights_init
    from processor.processor import init_seed
    from torchlight import import_class

    add_layout(Graph, layout)
    init_seed(0)
    with open(args.config) as file:
        cfg = yaml.safe_load(file)
    model_args = {**cfg["model_args"], "queue_size": args.queue, "momentum": args.momentum,
                  "graph_args": {"layout": "custom", "strategy": "spatial"}}
    model = import_class(cfg["model"])(**model_args)
    model.apply(weights_init)
    device = torch.device(args.device)
    model.to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=float(cfg["base_lr"]), momentum=0.9,
                          nesterov=bool(cfg["nesterov"]), weight_decay=float(cfg["weight_decay"]))
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)
    shape = (args.batch, 3, args.frames, layout["joints"], args.persons)
    x1, x2 = (torch.randn(shape, generator=generator).to(device) for _ in range(2))

    def step() -> None:
        output, target = model(x1, x2)
        model.update_ptr(output.size(0))
        loss = loss_fn(output, target)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(args.steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    operators = operator_profile(step, args.profile) if args.profile else []
    print(json.dumps({"pure_samples_per_s": args.batch * args.steps / seconds,
                      "step_s_mean": seconds / args.steps, "steps": args.steps,
                      "shape": list(shape), "queue": args.queue,
                      "torch_threads": torch.get_num_threads(), "operators": operators}))


if __name__ == "__main__":
    main()
