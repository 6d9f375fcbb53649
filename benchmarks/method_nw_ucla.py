"""A method's NW-UCLA table: each variant × seeds on the test view, into the leaderboard.

Each ``--variant "LABEL=NAME[,config=PATH][,KEY=VALUE...]"`` is a leaderboard line (e.g.
``AimCLR · joint``) and a candidate of benchmarks/recipe_nw_ucla.py (trained and scored the same
way: pretraining on the training views, linear = ``--preset`` and 1-NN on the test view, final
epoch; runs resume and keep their scores in ``recipe.json``), run on ``--seeds``; each
``--ablation`` (same form) runs on ``--ablation-seeds`` (one seed is enough for ablations and
experiment-list items, and the table says so). Each ``--ensemble "LABEL=A+B+C"`` fuses the
linear probes of the variants labelled A, B, C (one stream each) seed by seed with ``skelssl
eval ensemble``'s weights, e.g. AimCLR's 3-stream ensemble. ``--share-stage
"actclr:aimclr=aimclr"`` makes a pipeline's first stage the finished run of another variant of
the same seed. A variant whose runs have several encoders (ISC's representations) gives one
line per encoder, ``LABEL · sequence``, ``LABEL · graph``. ``--isc-protocols`` adds ISC's
linear preset and centre-crop 1-NN as columns of the page (kept in each run's recipe.json, so
runs scored before gain them without training). All runs train ``--jobs`` at a time. Writes
docs/results/<topic>.{json,md}; its rows carry ``"board": true`` and the leaderboard collects
them. ``--scored-only`` trains nothing: the same command writes an interim page of the runs
scored so far (a table that takes several sessions), naming the runs still to come. Each
``--carry "LABEL=PAGE.json"`` shows line LABEL of an earlier page (its linear and 1-NN rows,
with their own command, commit and machine, marked as carried) for comparison, e.g. the
SkeletonCLR line that AimCLR's page measured; nothing is trained for it. From the repository
root:

    AIMCLR=config=configs/aimclr/nw-ucla-agcn.yaml
    python benchmarks/method_nw_ucla.py --topic aimclr-nw-ucla --jobs 2 \\
        --variant "AimCLR · joint=aimclr,$AIMCLR" \\
        --variant "AimCLR · motion=aimclr-motion,$AIMCLR,method.stream=motion" \\
        --variant "AimCLR · bone=aimclr-bone,$AIMCLR,method.stream=bone" \\
        --ensemble "AimCLR · 3-stream ensemble=AimCLR · joint+AimCLR · motion+AimCLR · bone" \\
        --ablation "AimCLR · joint w/o D³M=aimclr-nod3m,$AIMCLR,method.d3m=false"
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from recipe_nw_ucla import (
    Candidate,
    is_scored,
    isc_keys,
    parse_candidate,
    run_path,
    share_stages,
    stream_lines,
    train_pairs,
)
from results import cell, page_arguments, provenance, summary, write_results

from skelssl.eval.ensemble import ensemble_eval
from skelssl.eval.protocol import load_run


def parse_variant(spec: str) -> tuple[str, Candidate]:
    label, _, candidate = spec.partition("=")
    if not candidate:
        raise SystemExit(f"--variant {spec!r}: expected LABEL=NAME[,config=PATH][,KEY=VALUE]")
    return label, parse_candidate(candidate, Path("configs/skeletonclr/nw-ucla.yaml"))


def board_fields(label: str, candidate: Candidate, seeds: list[int]) -> dict:
    """What every leaderboard row of this page says about its line and its seeds."""
    return {"dataset": "nw-ucla", "split": "view3", "metric": "top1", "epoch": "final",
            "board": True, "variant": label, "method": label.split(" ·")[0].lower(),
            "config": str(candidate.config), "overrides": list(candidate.overrides),
            "seeds": seeds}


def board_rows(label: str, candidate: Candidate, rows: list[dict], preset: str,
               stream: str | None = None) -> list[dict]:
    """Leaderboard rows (linear, 1-NN) of one variant's per-seed scores; ``stream``: the
    encoder they score, when the runs have several (ISC's representations)."""
    common = {**board_fields(label, candidate, [row["seed"] for row in rows]),
              "pretrain_s_per_seed": round(statistics.mean(r["pretrain_s"] for r in rows), 1),
              "trained_on": sorted({row.get("trained_on", "?") for row in rows})}
    if stream is not None:
        common["stream"] = stream
    return [{**common, "protocol": "linear", "preset": preset,
             **summary([row["test_linear"] for row in rows])},
            {**common, "protocol": "knn", "k": 1, **summary([row["test_1nn"] for row in rows])}]


def isc_rows(label: str, candidate: Candidate, rows: list[dict]) -> list[dict]:
    """ISC's protocols of one line (on the page, not on the board: its linear column is the
    dataset's probe): the ``isc`` linear preset and 1-NN on centre crops."""
    common = {**board_fields(label, candidate, [row["seed"] for row in rows]), "board": False}
    linear, nearest = isc_keys("test")
    return [{**common, "protocol": "linear", "preset": "isc",
             **summary([row[linear] for row in rows])},
            {**common, "protocol": "knn", "k": 1, "crop": "centre",
             **summary([row[nearest] for row in rows])}]


def lines_of(label: str, candidate: Candidate, measured: list[dict]
             ) -> list[tuple[str, str | None, list[dict]]]:
    """(label, stream, rows) of each line a variant gives (:func:`stream_lines`)."""
    return stream_lines(label, [row for row in measured if row["candidate"] == candidate.name])


def ensemble_rows(label: str, members: list[Candidate], seeds: list[int], runs: Path,
                  preset: str) -> list[dict]:
    """The leaderboard row (linear) of the fused probes of ``members``' runs, seed by seed."""
    fused, streams = [], ""
    for seed in seeds:
        result = ensemble_eval([load_run(run_path(runs, member.name, seed))
                                for member in members], preset, progress=False)
        streams = "+".join(result["streams"])
        fused.append(result["ensembles"][streams])
    return [{**board_fields(label, members[0], seeds), "stream": streams,
             "members": [member.name for member in members],
             "protocol": "linear", "preset": preset, **summary(fused)}]


def interim_sentence(waiting: list[tuple[Candidate, int]]) -> str:
    """The interim page's first words: which runs are not on it yet."""
    if not waiting:
        return ""
    seeds: dict[str, list[int]] = {}
    for candidate, seed in waiting:
        seeds.setdefault(candidate.name, []).append(seed)
    names = "; ".join(f"{name} (seed{'s' if len(s) > 1 else ''} {', '.join(map(str, s))})"
                      for name, s in seeds.items())
    return f"Interim: the runs scored so far; still to come: {names}. "


def parse_ensemble(spec: str, variants: dict[str, Candidate]) -> tuple[str, list[Candidate]]:
    label, _, joined = spec.partition("=")
    members = joined.split("+") if joined else []
    unknown = [member for member in members if member not in variants]
    if not members or unknown:
        raise SystemExit(f"--ensemble {spec!r}: expected LABEL=VARIANT+VARIANT[+...] with "
                         f"labels of --variant (unknown: {', '.join(unknown) or 'none given'})")
    return label, [variants[member] for member in members]


def carried_rows(spec: str, preset: str) -> tuple[str, list[dict]]:
    """The linear (``preset``) and 1-NN rows of line LABEL of an earlier page
    (``LABEL=PAGE.json``), each marked with the page it was measured for."""
    label, _, page = spec.partition("=")
    path = Path(page)
    if not label or not path.is_file():
        raise SystemExit(f"--carry {spec!r}: expected LABEL=PAGE.json of an existing page")
    rows = [row for row in json.loads(path.read_text())
            if row.get("variant") == label and row.get("board") and "members" not in row]
    linear = [row for row in rows if row["protocol"] == "linear" and row.get("preset") == preset]
    nearest = [row for row in rows if row["protocol"] == "knn" and row.get("k") == 1]
    if len(linear) != 1 or len(nearest) != 1:
        raise SystemExit(f"--carry {spec!r}: {path} has no single line {label!r} with a "
                         f"{preset} linear row and a 1-NN row")
    return label, [{**row, "carried_from": row.get("carried_from", path.stem)}
                   for row in (linear[0], nearest[0])]


def settings(config: Path | str, overrides: list[str] | tuple[str, ...]) -> str:
    """A line's config and overrides, as the table's config column shows them."""
    return " ".join([f"`{config}`", *overrides])


def table_line(label: str, settings_text: str, cells: list[str], seeds: int, minutes: str
               ) -> str:
    """One line of the page's table: variant, config, the score cells, seeds, minutes."""
    return f"| {label} | {settings_text} | {' | '.join(cells)} | {seeds} | {minutes} |"


def carried_line(label: str, rows: list[dict], isc_blanks: list[str]) -> str:
    """The table line of a carried line: its settings, the page and commit it comes from."""
    linear, nearest = rows
    page = linear["carried_from"]
    source = f"from [{page}]({page}.md) at `{linear['commit']}`"
    return table_line(label, f"{settings(linear['config'], linear['overrides'])}, {source}",
                      [cell(linear), cell(nearest), *isc_blanks], len(linear["values"]),
                      f"{linear['pretrain_s_per_seed'] / 60:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    page_arguments(parser, None)
    parser.add_argument("--variant", action="append", default=[],
                        metavar="LABEL=NAME[,config=PATH][,KEY=VALUE]")
    parser.add_argument("--ablation", action="append", default=[],
                        metavar="LABEL=NAME[,config=PATH][,KEY=VALUE]")
    parser.add_argument("--ensemble", action="append", default=[],
                        metavar="LABEL=VARIANT+VARIANT[+...]")
    parser.add_argument("--share-stage", action="append", default=[],
                        metavar="NAME:STAGE=OTHER",
                        help="stage STAGE of candidate NAME's pipeline is candidate OTHER's "
                             "finished run of the same seed (ActCLR's aimclr stage = AimCLR's)")
    parser.add_argument("--carry", action="append", default=[], metavar="LABEL=PAGE.json",
                        help="line LABEL of an earlier page, shown for comparison (not "
                             "trained; its own command and commit)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--ablation-seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--preset", default="crrl-std", help="the dataset's linear probe")
    parser.add_argument("--runs", type=Path, default=None, help="default: runs/<topic>")
    parser.add_argument("--jobs", type=int, default=1, help="runs trained at a time")
    parser.add_argument("--isc-protocols", action="store_true",
                        help="also ISC's linear preset (crop-resizes) and centre-crop 1-NN, "
                             "as columns of the page")
    parser.add_argument("--scored-only", action="store_true",
                        help="train nothing: an interim page of the runs scored so far")
    args = parser.parse_args()
    variants = [parse_variant(spec) for spec in args.variant + args.ablation]
    carried = [carried_rows(spec, args.preset) for spec in args.carry]
    if not variants:
        raise SystemExit("give at least one --variant or --ablation")
    ensembles = [parse_ensemble(spec, dict(variants[:len(args.variant)]))
                 for spec in args.ensemble]
    runs = args.runs or Path("runs") / args.topic
    started = time.perf_counter()
    common = provenance()
    seeds = {label: args.seeds for label, _ in variants[:len(args.variant)]}
    seeds.update({label: args.ablation_seeds for label, _ in variants[len(args.variant):]})
    pairs = [(candidate, seed) for label, candidate in variants for seed in seeds[label]]
    waiting = ([(candidate, seed) for candidate, seed in pairs
                if not is_scored(runs, candidate.name, seed)] if args.scored_only else [])
    if not args.scored_only:
        share_stages(args.share_stage, runs, {candidate.name: seeds[label]
                                              for label, candidate in variants})
    measured = train_pairs([pair for pair in pairs if pair not in waiting], runs, args.preset,
                           "test", args.jobs, isc=args.isc_protocols)
    isc_blanks = ["–", "–"] if args.isc_protocols else []
    rows = [row for _, pair in carried for row in pair]
    table = [carried_line(label, pair, isc_blanks) for label, pair in carried]
    for variant, candidate in variants:
        for label, stream, mine in lines_of(variant, candidate, measured):
            new = board_rows(label, candidate, mine, args.preset, stream)
            extra = isc_rows(label, candidate, mine) if args.isc_protocols else []
            rows += [{**common, **row} for row in new + extra]
            table.append(table_line(
                label, settings(candidate.config, candidate.overrides),
                [cell(row) for row in new + extra], len(mine),
                f"{new[0]['pretrain_s_per_seed'] / 60:.0f}"))
    for label, members in ensembles:
        fused = [seed for seed in args.seeds
                 if all(is_scored(runs, member.name, seed) for member in members)]
        if not fused:
            continue
        new = ensemble_rows(label, members, fused, runs, args.preset)
        rows += [{**common, **row} for row in new]
        table.append(table_line(label, f"ensemble of {' + '.join(m.name for m in members)}",
                                [cell(new[0]), "–", *isc_blanks], len(fused), "–"))
    wall = round(time.perf_counter() - started, 1)
    rows = [row if "carried_from" in row else {**row, "wall_time_s": wall} for row in rows]
    markdown = [
        f"# {args.topic}",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {wall} s. {interim_sentence(waiting)}{args.note}",
        "",
        "NW-UCLA, pretrained on views 1+2, tested on view 3; linear = the "
        f"`{args.preset}` probe, 1-NN = cosine nearest neighbour, top-1 %, final epoch, "
        "mean ± std (per seed; the seeds column says how many). The floors of each "
        "preprocessing are on the leaderboard (leaderboard-nw-ucla.md)."
        + (" ISC's protocols: linear (isc) = the `isc` preset (trained on random "
           "crop-resizes, tested on centre crops), 1-NN (centre) = on centre-crop features."
           if args.isc_protocols else ""),
        "",
        "| variant | config | linear | 1-NN |"
        + (" linear (isc) | 1-NN (centre) |" if args.isc_protocols else "")
        + " seeds | pretrain min/seed |",
        "|---|---|---|---|" + "---|---|" * args.isc_protocols + "---|---|",
        *table,
    ]
    write_results(args.out, args.topic, rows, markdown)


if __name__ == "__main__":
    main()
