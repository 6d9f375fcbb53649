import numpy as np
import pytest

from skelssl.data.synthetic import CLASS_NAMES, make_sample, make_synthetic


def test_deterministic_per_seed_and_index():
    a, b = make_sample(17, seed=5, per_class=3), make_sample(17, seed=5, per_class=3)
    np.testing.assert_array_equal(a.joints, b.joints)
    assert not np.array_equal(a.joints[0, :5], make_sample(17, seed=6, per_class=3).joints[0, :5])


def test_classes_are_balanced_and_splits_partition_the_data(small_synthetic):
    labels = np.array([s.label for s in small_synthetic.sequences])
    assert len(CLASS_NAMES) >= 10
    assert np.bincount(labels).tolist() == [6] * len(CLASS_NAMES)
    for parts in small_synthetic.splits.values():
        assert sorted(parts["train"] + parts["test"]) == list(range(len(labels)))
        assert set(labels[parts["test"]]) == set(range(len(CLASS_NAMES)))


def test_sequences_vary_and_interactions_have_two_people(small_synthetic):
    seqs = small_synthetic.sequences
    assert len({s.num_frames for s in seqs}) > 20
    assert all(np.isfinite(s.joints).all() for s in seqs)
    for s in seqs:
        second_present = np.abs(s.joints[1]).sum() > 0
        assert second_present == (CLASS_NAMES[s.label] in
                                  ("handshake", "walk towards each other", "walk apart"))
    heights = [np.ptp(s.joints[0, :, :, 1], axis=1).max() for s in seqs]
    assert min(heights) > 1.2 and max(heights) < 2.2  # metres, people of varied size


def features(seq, motion: bool) -> np.ndarray:
    x = seq.joints - seq.joints[:1, :, 20:21]  # centred on person 1's spine, per frame
    x[1] *= np.abs(seq.joints[1]).sum() > 0
    mean = x.mean(axis=1).ravel()
    if not motion:
        return mean
    quarter = max(x.shape[1] // 4, 1)
    change = (x[:, -quarter:].mean(axis=1) - x[:, :quarter].mean(axis=1)).ravel()
    speed = np.diff(x, axis=1)
    return np.concatenate([mean, change, 10 * speed.std(axis=1).ravel(),
                           10 * np.abs(speed).mean(axis=1).ravel()])


def ridge_accuracy(x_train, y_train, x_test, y_test, alpha=0.1):
    mu, sd = x_train.mean(0), x_train.std(0) + 1e-6
    a, b = (x_train - mu) / sd, (x_test - mu) / sd
    w = np.linalg.solve(a.T @ a + alpha * len(a) * np.eye(a.shape[1]),
                        a.T @ np.eye(len(CLASS_NAMES))[y_train])
    return float(((b @ w).argmax(1) == y_test).mean())


@pytest.mark.slow
def test_not_solvable_from_the_mean_pose():
    data = make_synthetic(per_class=40, seed=11)
    labels = np.array([s.label for s in data.sequences])
    train, test = data.splits["xsub"]["train"], data.splits["xsub"]["test"]
    accuracy = {}
    for motion in (False, True):
        x = np.stack([features(s, motion) for s in data.sequences])
        accuracy[motion] = ridge_accuracy(x[train], labels[train], x[test], labels[test])
    assert accuracy[False] < 0.7, accuracy  # a still pose leaves much unexplained
    assert accuracy[True] > accuracy[False] + 0.15, accuracy  # motion resolves it
