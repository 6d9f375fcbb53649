"""Action segmentation: metrics by hand, dense frame features by definition, and the CLI end
to end on untrimmed sequences assembled from synthetic actions."""

import json

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from skelssl.cli import app
from skelssl.data.prepare import write_prepared
from skelssl.data.sequence import RawDataset, Sequence
from skelssl.data.synthetic import make_sample
from skelssl.eval.segmentation import frame_features, runs, segmentation_scores, window_starts
from skelssl.skeleton import NTU25
from skelssl.transforms.preprocess import Preprocess


def test_scores_equal_the_hand_computation():
    truth = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 0])
    predicted = np.array([0, 0, 1, 1, 1, 2, 2, 0, 0, 0])
    scores = segmentation_scores(truth, predicted, 3)
    # hits 3, 2, 2 of true counts 4, 2, 4; predicted counts 5, 3, 2
    assert scores["acc"] == pytest.approx(70.0)
    assert scores["macc"] == pytest.approx(100 * (3 / 4 + 2 / 2 + 2 / 4) / 3)
    iou = [3 / (4 + 5 - 3), 2 / (2 + 3 - 2), 2 / (4 + 2 - 2)]
    assert scores["miou"] == pytest.approx(100 * sum(iou) / 3)
    assert scores["fwiou"] == pytest.approx(100 * (0.4 * iou[0] + 0.2 * iou[1] + 0.4 * iou[2]))
    # a class in neither the truth nor the predictions does not count
    assert segmentation_scores(truth, predicted, 5) == scores
    assert runs(truth) == [[0, 0, 3], [1, 3, 5], [2, 5, 9], [0, 9, 10]]


def test_windows_cover_every_frame_and_the_last_ends_at_the_end():
    assert window_starts(23, 10, 5).tolist() == [0, 5, 10, 13]
    assert window_starts(20, 10, 5).tolist() == [0, 5, 10]
    assert window_starts(7, 10, 5).tolist() == [0]


class FirstFrame(nn.Module):
    """A stand-in encoder whose feature is the first frame's x of joint 0."""

    def forward(self, x, lengths):
        return x[:, :1, 0, 0, 0]


def test_a_frame_feature_is_the_mean_over_the_windows_that_cover_it():
    joints = np.zeros((3, 30, 25, 1), np.float32)
    joints[0, :, :, 0] = np.arange(30)[:, None] + 1.0  # x = frame number + 1 (never zero)
    preprocess = Preprocess(NTU25, persons=1, center="none", frames=0)
    got = frame_features(FirstFrame(), joints, 23, 10, 5, preprocess, torch.device("cpu"),
                         batch_size=3)[:, 0] - 1
    # windows start at 0, 5, 10, 13 and span 10 frames
    expected = [0] * 5 + [2.5] * 5 + [7.5] * 3 + [28 / 3] * 2 + [11.5] * 5 + [13] * 3
    torch.testing.assert_close(got, torch.tensor(expected))


@pytest.fixture
def untrimmed(tmp_path):
    """Four sequences of three synthetic actions (classes 1-3) between still frames (0)."""
    sequences = []
    for s in range(4):
        parts, labels = [], []
        for c in (s % 3, (s + 1) % 3, (s + 2) % 3):
            clip = make_sample(c * 10 + s, seed=5, per_class=10).joints
            still = np.repeat(clip[:, :1], 12, axis=1)
            parts += [still, clip]
            labels += [0] * 12 + [c + 1] * clip.shape[1]
        sequences.append(Sequence(f"seq{s}", np.concatenate(parts, axis=1), 0, {"subject": s},
                                  frame_labels=np.array(labels)))
        sequences[-1].label = int(np.bincount(labels).argmax())
    raw = RawDataset(NTU25, ["background", "wave", "clap", "punch"], sequences,
                     {"default": {"train": [0, 1], "test": [2, 3]}})
    return write_prepared(raw, tmp_path / "untrimmed")


def frames_of(segments):
    return np.concatenate([np.full(end - start, c) for c, start, end in segments])


def test_segment_cli_scores_the_untrimmed_test_sequences(tiny_run, untrimmed, fast_preset,
                                                         prepared_synthetic):
    result = CliRunner().invoke(app, ["eval", "segment", str(tiny_run), "--data",
                                      str(untrimmed), "--benchmark", "default", "--window",
                                      "20", "--stride", "10", "--preset", fast_preset])
    assert result.exit_code == 0, result.output
    path = tiny_run / "results" / f"segment-{fast_preset}-trained-joint.json"
    saved = json.loads(path.read_text())
    assert set(saved["sequences"]) == {"seq2", "seq3"}
    truth, predicted = (np.concatenate([frames_of(saved["sequences"][name][key])
                                        for name in ("seq2", "seq3")])
                        for key in ("truth", "predicted"))
    scores = segmentation_scores(truth, predicted, 4)
    assert {k: saved[k] for k in scores} == pytest.approx(scores)
    truth = saved["sequences"]["seq2"]["truth"]
    assert truth[0] == [0, 0, 12] and truth[1][0] == 3  # still frames, then punch (s % 3 + 1)
    assert saved["test_frames"] == sum(end - start for _, start, end in truth) + sum(
        end - start for _, start, end in saved["sequences"]["seq3"]["truth"])
    assert path.with_suffix(".png").is_file()
    result = CliRunner().invoke(app, ["eval", "segment", str(tiny_run), "--data",
                                      str(prepared_synthetic)])
    assert result.exit_code != 0 and "no per-frame labels" in str(result.exception or "") + \
        result.output
