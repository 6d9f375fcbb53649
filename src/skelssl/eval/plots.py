"""Pictures of an evaluation: confusion matrices of a probe's predictions and t-SNE maps of
frozen features, coloured by class."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from skelssl.data.dataset import PreparedDataset
from skelssl.errors import EvalError
from skelssl.eval.metrics import confusion_matrix
from skelssl.eval.protocol import LoadedRun, cached_features, split_labels


def save_confusion_matrix(matrix: np.ndarray, class_names: list[str], path: str | Path,
                          title: str = "") -> Path:
    """A heat map of the row-normalised matrix (share of each true class per prediction), with
    the counts written in the cells when there are at most 20 classes."""
    plt = _pyplot()
    classes = len(class_names)
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    size = min(4 + 0.35 * classes, 24)
    figure, axis = plt.subplots(figsize=(size + 1.5, size))
    image = axis.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04, label="share of the true class")
    ticks = np.arange(classes)
    font = 8 if classes <= 20 else max(3, 8 - classes // 20)
    axis.set_xticks(ticks, class_names, rotation=90, fontsize=font)
    axis.set_yticks(ticks, class_names, fontsize=font)
    axis.set(xlabel="predicted class", ylabel="true class", title=title)
    if classes <= 20:
        for row, column in zip(*np.nonzero(matrix), strict=True):
            axis.text(column, row, str(matrix[row, column]), ha="center", va="center",
                      fontsize=7, color="white" if shares[row, column] > 0.5 else "black")
    return _save(figure, path)


def tsne_embedding(features: torch.Tensor, perplexity: float = 30.0, seed: int = 0
                   ) -> np.ndarray:
    """2-D t-SNE (scikit-learn, PCA initialisation) of L2-normalised features, so that its
    neighbourhoods are the cosine neighbourhoods the kNN protocol uses."""
    from sklearn.manifold import TSNE

    points = torch.nn.functional.normalize(features.float(), dim=1).cpu().numpy()
    if len(points) < 5:
        raise EvalError(f"t-SNE needs at least 5 samples, got {len(points)}")
    perplexity = min(perplexity, (len(points) - 1) / 3)
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed
                ).fit_transform(points)


def balanced_subset(labels: np.ndarray, limit: int, seed: int = 0) -> np.ndarray:
    """Sorted positions of at most ``limit`` samples, as even across classes as the class
    sizes allow (all of them when there are no more than ``limit``)."""
    if len(labels) <= limit:
        return np.arange(len(labels))
    generator = np.random.default_rng(seed)
    pools = [generator.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    chosen: list[int] = []
    depth = 0
    while len(chosen) < limit:
        layer = [int(pool[depth]) for pool in pools if depth < len(pool)]
        chosen.extend(layer[: limit - len(chosen)])
        depth += 1
    return np.sort(np.array(chosen))


def save_embedding(points: np.ndarray, labels: np.ndarray, class_names: list[str],
                   path: str | Path, title: str = "") -> Path:
    """A scatter of 2-D points, one colour per class, with a legend of class names."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(8.5, 6.5))
    present = np.unique(labels)
    for c in present:
        chosen = labels == c
        colour = _class_colour(plt, c, len(class_names))
        axis.scatter(points[chosen, 0], points[chosen, 1], s=8, color=colour,
                     label=class_names[c], alpha=0.8, linewidths=0)
    axis.set(xticks=[], yticks=[], title=title)
    if len(present) <= 30:
        axis.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7, markerscale=2,
                    frameon=False)
    return _save(figure, path)


def run_tsne(run: LoadedRun, stream: str, split: str = "test", max_points: int = 2000,
             perplexity: float = 30.0, seed: int = 0, out: str | Path | None = None) -> Path:
    """t-SNE map of one frozen encoder's features on the run's ``train`` or ``test`` split (at
    most ``max_points`` samples, balanced over classes), written as a PNG; by default to
    ``results/tsne-<weights>-<stream>-<split>.png`` in the run directory."""
    splits = {"train": run.config.data.train_split, "test": run.config.data.test_split}
    if split not in splits:
        raise EvalError(f"split {split!r}: expected 'train' or 'test'")
    labels = split_labels(run, splits[split]).numpy()
    chosen = balanced_subset(labels, max_points, seed)
    features = cached_features(run, stream, splits[split])[torch.from_numpy(chosen)]
    points = tsne_embedding(features, perplexity, seed)
    epoch = "" if run.encoder_epoch is None else f", epoch {run.encoder_epoch}"
    title = (f"{run.config.method.name} · {stream} · {run.weights}{epoch} · {split} split "
             f"({len(chosen)} samples)")
    return save_embedding(points, labels[chosen], run.data.class_names,
                          out or run.run_dir / "results" / f"tsne-{run.weights}-{stream}-"
                                                           f"{split}.png", title)


def result_confusion(result_path: str | Path, data_path: str | None = None,
                     out: str | Path | None = None) -> Path:
    """The confusion matrix of a linear or kNN results file, drawn next to it (``.png``).

    The labels and class names come from the prepared dataset the result names (``dataset``,
    ``benchmark``, ``test_split``), or from ``data_path`` when that path does not resolve here.
    """
    result_path = Path(result_path)
    try:
        result = json.loads(result_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise EvalError(f"{result_path}: not a results file of `skelssl eval` (not JSON)") \
            from None
    if not isinstance(result, dict) or "predictions" not in result:
        raise EvalError(f"{result_path}: no 'predictions'; expected a linear, kNN or ensemble "
                        "result of `skelssl eval`")
    data = PreparedDataset.open(data_path or result["dataset"])
    labels = data.labels[data.indices(result["benchmark"], result["test_split"])]
    predictions, title = result["predictions"], None
    if isinstance(predictions, dict):  # an ensemble: the fusion of every stream
        fusion = max(predictions, key=lambda name: name.count("+"))
        predictions = predictions[fusion]
        title = (f"ensemble {result['preset']} · {fusion} · top-1 "
                 f"{result['ensembles'][fusion]:.1f}")
    matrix = confusion_matrix(torch.from_numpy(labels.astype(np.int64)),
                              torch.tensor(predictions), data.num_classes)
    return save_confusion_matrix(matrix, data.class_names, out or result_path.with_suffix(".png"),
                                 title or result_title(result))


def result_title(result: dict) -> str:
    """``linear crrl-std · joint · trained · top-1 75.2`` for a results dict."""
    detail = result.get("preset") or f"k={result.get('k')}"
    return (f"{result['protocol']} {detail} · {result['stream']} · {result['weights']} · "
            f"top-1 {result['top1']:.1f}")


def save_segments(segments: dict[str, list[list[int]]], class_names: list[str],
                  path: str | Path, title: str = "") -> Path:
    """True and predicted segments of one sequence as two colour bars over its frames
    (``segments``: ``truth`` and ``predicted`` lists of [class, start, end])."""
    plt = _pyplot()
    frames = max(end for _, _, end in segments["truth"])
    figure, axis = plt.subplots(figsize=(min(4 + frames / 150, 16), 2.4))
    shown: set[int] = set()
    for row, key in enumerate(("predicted", "truth")):
        for c, start, end in segments[key]:
            axis.barh(row, end - start, left=start, height=0.8,
                      color=_class_colour(plt, c, len(class_names)),
                      label=class_names[c] if c not in shown else None)
            shown.add(c)
    axis.set_yticks([0, 1], ["predicted", "truth"])
    axis.set(xlabel="frame", xlim=(0, frames), title=title)
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.45), ncol=min(6, len(shown)),
                fontsize=7, frameon=False)
    return _save(figure, path)


def _class_colour(plt, c: int, classes: int):
    """Distinct colours: tab10 up to 10 classes; tab20 up to 20, its dark shades first (so
    that neighbouring class ids do not get two shades of one hue); a continuous map beyond."""
    if classes <= 10:
        return plt.get_cmap("tab10")(c)
    if classes <= 20:
        return plt.get_cmap("tab20")((2 * c) % 20 + (c >= 10))
    return plt.get_cmap("turbo")(c / (classes - 1))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=110, bbox_inches="tight")
    _pyplot().close(figure)
    return path
