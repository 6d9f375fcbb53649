"""Pictures of skeleton sequences: a strip of frames or an animated GIF of the moving skeleton."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.animation import FuncAnimation, PillowWriter  # noqa: E402

from skelssl.skeleton import Layout  # noqa: E402

VIEWS = {"front": (0, 1), "side": (2, 1), "top": (0, 2)}
PERSON_COLOURS = ("tab:blue", "tab:red", "tab:green", "tab:orange")


def _limits(points: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    present = points[np.abs(points).sum(axis=-1) > 0]
    if len(present) == 0:
        return (-1.0, 1.0), (-1.0, 1.0)
    low, high = present.min(axis=0), present.max(axis=0)
    centre, half = (low + high) / 2, max(float((high - low).max()) / 2, 1e-3) * 1.1
    return (centre[0] - half, centre[0] + half), (centre[1] - half, centre[1] + half)


def _draw(ax: plt.Axes, frame: np.ndarray, layout: Layout,
          values: np.ndarray | None = None) -> None:
    """Draw one frame (M, V, 2) of projected joints; absent persons are skipped. ``values``
    (V,) in [0, 1] colour person 0's joints (white to deep red, larger when higher)."""
    for m, person in enumerate(frame):
        if not np.abs(person).sum():
            continue
        colour = PERSON_COLOURS[m % len(PERSON_COLOURS)]
        for child, parent in layout.edges:
            ax.plot(*person[[child, parent]].T, color=colour, lw=1.5,
                    alpha=0.5 if values is not None else 1.0)
        if values is not None and m == 0:
            ax.scatter(person[:, 0], person[:, 1], s=8 + 70 * values, c=values, cmap="Reds",
                       vmin=0.0, vmax=1.0, edgecolors="black", linewidths=0.3, zorder=3)
        else:
            ax.scatter(person[:, 0], person[:, 1], s=6, color=colour)


def project(joints: np.ndarray, view: str = "front") -> np.ndarray:
    """(M, T, V, C) → (M, T, V, 2) for a view; ``front`` mirrors x as a camera sees it."""
    if view not in VIEWS:
        raise ValueError(f"view {view!r}: expected one of {sorted(VIEWS)}")
    a, b = VIEWS[view]
    if joints.shape[-1] == 2:
        a, b = 0, 1
    out = joints[..., [a, b]].astype(np.float64)
    if view == "front":
        out[..., 0] *= -1
    return out


def save_sequence_picture(joints: np.ndarray, layout: Layout, out: str | Path, title: str = "",
                          frames: int = 8, view: str = "front", fps: int = 15,
                          joint_values: np.ndarray | None = None) -> Path:
    """Save (M, T, V, C) joints as a strip of ``frames`` frames (.png/.pdf/.svg) or a .gif;
    ``joint_values`` (T, V) in [0, 1] colour the first person's joints frame by frame."""
    out = Path(out)
    points = project(joints[..., :layout.coordinates(joints.shape[-1])], view)
    xlim, ylim = _limits(points.reshape(-1, 2))
    total = points.shape[1]
    if out.suffix.lower() == ".gif":
        fig, ax = plt.subplots(figsize=(4, 4))

        def update(t: int) -> None:
            ax.clear()
            _draw(ax, points[:, t], layout, None if joint_values is None else joint_values[t])
            ax.set(xlim=xlim, ylim=ylim, aspect="equal", xticks=[], yticks=[],
                   title=f"{title}\nframe {t + 1}/{total}")

        animation = FuncAnimation(fig, update, frames=total)
        animation.save(out, writer=PillowWriter(fps=fps))
    else:
        chosen = np.unique(np.linspace(0, total - 1, min(frames, total)).round().astype(int))
        fig, axes = plt.subplots(1, len(chosen), figsize=(2.2 * len(chosen), 2.8), squeeze=False)
        for ax, t in zip(axes[0], chosen, strict=True):
            _draw(ax, points[:, t], layout, None if joint_values is None else joint_values[t])
            ax.set(xlim=xlim, ylim=ylim, aspect="equal", xticks=[], yticks=[],
                   title=f"frame {t + 1}")
        fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
