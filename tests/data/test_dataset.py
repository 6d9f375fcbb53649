import numpy as np
import pytest
import torch

from skelssl.data.dataset import PreparedDataset, label_fraction_indices
from skelssl.errors import DatasetError


def test_subset_items_and_errors(small_synthetic):
    data = PreparedDataset.from_raw(small_synthetic)
    train = data.subset("xsub", "train")
    x, length, label, index = train[0]
    assert x.shape == (3, data.joints.shape[2], 25, 2) and x.dtype == torch.float32
    assert index == train.index[0] and label == data.labels[index]
    assert length == data.lengths[index]
    with pytest.raises(DatasetError, match="benchmark 'xset' not in this dataset"):
        data.subset("xset", "train")
    with pytest.raises(DatasetError, match=r"split 'dev'.*'train', 'train-val', 'val'"):
        data.subset("xsub", "dev")


def test_the_validation_split_holds_out_whole_training_subjects(small_synthetic):
    data = PreparedDataset.from_raw(small_synthetic)
    train = data.indices("xsub", "train")
    fit, val, held = data.validation("xsub")
    subjects = np.asarray(data.meta["samples"]["subject"])
    assert len(held) == round(0.2 * len(np.unique(subjects[train])))
    assert set(subjects[val]) == set(held) and not set(subjects[fit]) & set(held)
    assert sorted(np.concatenate([fit, val]).tolist()) == sorted(train.tolist())
    assert not set(val) & set(data.indices("xsub", "test"))
    np.testing.assert_array_equal(data.indices("xsub", "val"), val)
    np.testing.assert_array_equal(data.indices("xsub", "train-val"), fit)
    assert data.validation("xsub")[2] == held  # fixed, not drawn anew
    assert len(data.subset("xsub", "val")) == len(val)


def test_without_subjects_the_validation_split_is_a_fifth_of_the_samples(small_synthetic):
    data = PreparedDataset.from_raw(small_synthetic)
    del data.meta["samples"]["subject"]
    train = data.indices("xsub", "train")
    fit, val, _ = data.validation("xsub")
    assert len(val) == round(0.2 * len(train)) and len(fit) + len(val) == len(train)
    assert not set(fit) & set(val)


def test_label_fraction_is_class_balanced_and_seeded():
    labels = np.repeat(np.arange(4), [100, 50, 10, 1])
    chosen = label_fraction_indices(labels, 0.1, seed=0)
    assert np.bincount(labels[chosen]).tolist() == [10, 5, 1, 1]
    np.testing.assert_array_equal(chosen, label_fraction_indices(labels, 0.1, seed=0))
    assert not np.array_equal(chosen, label_fraction_indices(labels, 0.1, seed=1))
    with pytest.raises(ValueError, match="label fraction"):
        label_fraction_indices(labels, 0.0)


def test_missing_dataset_has_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="not a prepared dataset"):
        PreparedDataset.open(tmp_path)
