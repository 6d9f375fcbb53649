"""``skelssl prepare`` and ``skelssl inspect``: raw data in, a prepared dataset out, and a look
at it."""

from __future__ import annotations

from pathlib import Path

import typer

PREPARE_HELP = """Turn raw skeleton data into a prepared dataset (memory-mapped arrays + meta.json).

FORMAT is one of:

\b
  ntu60       NTU RGB+D 60 .skeleton files (--raw FOLDER); splits xsub, xview
  ntu120      NTU RGB+D 120 .skeleton files (--raw FOLDER); splits xsub, xset
  nw-ucla     NW-UCLA all_sqe JSON files (--raw FOLDER); split view3
  pku-mmd     PKU-MMD .txt files (--raw FOLDER), labels (--labels FOLDER)
              and split lists (--split xsub=FILE): a clip per action,
              or --untrimmed sequences with per-frame labels
  asf-amc     Acclaim mocap, e.g. CMU (--raw FOLDER of .asf/.amc) with a class
              list (--labels motion,class[,fold] CSV); splits foldK
  npy         (N,C,T,V,M) .npy (--raw) with --labels .npy/.pkl
              [--test-raw --test-labels]
  ctrgcn-npz  CTR-GCN .npz with x_train/y_train/x_test/y_test (--raw FILE)
  pyskl       pyskl/MMAction2 keypoint annotations .pkl (--raw FILE), e.g.
              2-D COCO keypoints from a pose estimator (read without code)
  custom      bring-your-own .npz, see docs/data.md (--raw FILE)
  relayout    a prepared dataset (--raw DIR) in another --layout, joints
              matched by name (--joint-map FILE for others): for transfer
  synthetic   procedural actions, generated (no --raw)

Damaged files are all listed and preparation stops, unless --skip-damaged.
Folders of files are read on all cores; each sequence waits on disk beside
--out (not in memory) until the padded arrays are written, so NTU-120 needs
about 0.4 GB of memory and its raw coordinates' size once more in free disk.

\b
Examples:
  skelssl prepare nw-ucla --raw path/to/all_sqe --out data/nw-ucla
  skelssl prepare pku-mmd --raw PKU/Skeleton --labels PKU/Label \\
      --split xsub=PKU/Split/cross-subject.txt \\
      --split xview=PKU/Split/cross-view.txt --out data/pku-mmd-1
"""


def prepare(
    fmt: str = typer.Argument(..., metavar="FORMAT", help="Raw format (see above)."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory to create."),
    raw: Path | None = typer.Option(None, help="Raw folder or file."),
    labels: Path | None = typer.Option(
        None, help="npy: labels of --raw (.npy or .pkl); pku-mmd: the label folder; "
                    "asf-amc: the class list."),
    test_raw: Path | None = typer.Option(None, help="npy: test-part data .npy."),
    test_labels: Path | None = typer.Option(None, help="npy: test-part labels."),
    layout: str | None = typer.Option(
        None, help="Layout name (ntu25, ucla20, cmu31, coco17, body25, openpose18) or YAML "
                    "file."),
    benchmark: str = typer.Option("default", help="npy/ctrgcn-npz: name of the split."),
    body_selection: str = typer.Option(
        "most-active", help="NTU: keep the 2 most active bodies, or the 'first' two."),
    exclude: Path | None = typer.Option(None, help="NTU: file of sample names to leave out."),
    split: list[str] = typer.Option(
        [], metavar="NAME=FILE", help="pku-mmd: a benchmark and its official split list, "
                                      "repeatable: --split xsub=Split/cross-subject.txt"),
    untrimmed: bool = typer.Option(
        False, help="pku-mmd: whole sequences with per-frame labels (for segmentation)."),
    class_names: Path | None = typer.Option(
        None, help="pku-mmd: action names, 'id,name' lines (Actions.xlsx saved as CSV)."),
    joint_map: Path | None = typer.Option(
        None, help="relayout: 'layout_joint,data_joint' lines for joints whose names differ."),
    project: bool = typer.Option(
        False, help="relayout: project 3-D camera coordinates to 2-D keypoints (pinhole)."),
    scores: bool = typer.Option(
        False, help="pyskl, custom: keep each keypoint's confidence ('keypoint_score') as a last "
                    "channel (x, y, score) for the encoder; geometric augmentations leave it "
                    "as it is."),
    joint_order: str | None = typer.Option(
        None, help="The order the file's joints come in, onto --layout: names "
                   "(hip_center,spine,...) or a 1-based permutation (the k-th joint is layout "
                   "joint p_k)."),
    rule: list[str] = typer.Option(
        [], metavar="NAME:KEY=V1,V2", help="A benchmark from per-sample metadata, repeatable: "
                                           "--rule xview:camera=2,3 trains on cameras 2, 3."),
    workers: int | None = typer.Option(None, help="Processes for reading (default: all)."),
    seed: int = typer.Option(0, help="synthetic: random seed."),
    per_class: int = typer.Option(100, help="synthetic: samples per class."),
    dims: int = typer.Option(3, min=2, max=3,
                             help="synthetic: 3-D joints, or 2 for projected 2-D keypoints."),
    skip_damaged: bool = typer.Option(False, help="Leave damaged files out (recorded)."),
    overwrite: bool = typer.Option(False, help="Replace a different dataset at --out."),
    allow_pickle: bool = typer.Option(
        False, help="custom: read a 'sequences' object array by unpickling it. Unpickling runs "
                    "code stored in the file: only for files you trust."),
) -> None:
    import json

    from skelssl.data.prepare import PrepareOptions
    from skelssl.data.prepare import prepare as run_prepare

    if workers is not None and workers < 1:
        raise typer.BadParameter(f"{workers}: expected at least 1 process", param_hint="--workers")
    split_files = {}
    for item in split:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise typer.BadParameter(f"{item!r}: expected NAME=FILE", param_hint="--split")
        split_files[name] = Path(file)
    opts = PrepareOptions(raw=raw, labels=labels, test_raw=test_raw, test_labels=test_labels,
                          layout=layout, benchmark=benchmark, body_selection=body_selection,
                          exclude=exclude, workers=workers, split_files=split_files,
                          untrimmed=untrimmed, class_names=class_names, joint_map=joint_map,
                          joint_order=joint_order, rules=list(rule), project=project,
                          scores=scores,
                          seed=seed,
                          per_class=per_class, dims=dims,
                          skip_damaged=skip_damaged, overwrite=overwrite,
                          allow_pickle=allow_pickle)
    path, written = run_prepare(fmt, out, opts)
    if not written:
        typer.echo(f"{path} already holds this dataset (pass --overwrite to rebuild)")
        return
    meta = json.loads((path / "meta.json").read_text())
    for skipped in meta.get("skipped", []):
        typer.echo(f"skipped (damaged): {skipped['file']}: {skipped['reason']}", err=True)
    for note in meta.get("notes", []):
        typer.echo(f"note: {note}", err=True)
    count, skipped_count = meta["shape"]["N"], len(meta.get("skipped", []))
    typer.echo(f"prepared {fmt} dataset in {path}: {count} sequences"
               + (f", {skipped_count} damaged left out (listed above and in meta.json)"
                  if skipped_count else "")
               + f"; look at it with `skelssl inspect {path}`")


def inspect(
    dataset: Path = typer.Argument(..., help="Prepared dataset directory."),
    sample: str | None = typer.Option(None, help="Sample index or name to draw."),
    save: Path | None = typer.Option(
        None, help="Picture of the sample: .png/.svg/.pdf = strip of frames, .gif = animation."),
    frames: int = typer.Option(8, help="Frames in the strip."),
    view: str = typer.Option("front", help="Projection: front, side or top."),
    verify: bool = typer.Option(False, help="Check the arrays against their sha256 checksums."),
) -> None:
    """Summarise a prepared dataset and optionally save a picture of one sample."""
    from skelssl.data.dataset import PreparedDataset
    from skelssl.data.summary import summarize
    from skelssl.viz import VIEWS

    if view not in VIEWS:
        raise typer.BadParameter(f"{view!r}: expected one of {', '.join(VIEWS)}",
                                 param_hint="--view")
    data = PreparedDataset.open(dataset, verify=verify)
    typer.echo(summarize(data))
    if verify:
        typer.echo("checksum  ok")
    if save is None:
        if sample is not None:
            raise typer.BadParameter("--sample needs --save FILE.png|.gif", param_hint="--sample")
        return
    from skelssl.viz import save_sequence_picture

    index = sample_index(data.names, sample or "0")
    length = int(data.lengths[index])
    joints = data.joints[index][:, :length].transpose(3, 1, 2, 0)  # (M, T, V, C)
    title = f"{data.names[index]}: {data.class_names[data.labels[index]]}"
    save_sequence_picture(joints, data.layout, save, title=title, frames=frames, view=view)
    typer.echo(f"saved {save}")


def sample_index(names: list[str], sample: str) -> int:
    if sample.isdigit():
        index = int(sample)
        if index >= len(names):
            raise typer.BadParameter(f"index {index} ≥ {len(names)} samples",
                                     param_hint="--sample")
        return index
    if sample not in names:
        raise typer.BadParameter(f"no sample named {sample!r}", param_hint="--sample")
    return names.index(sample)
