import multiprocessing

import numpy as np
import pytest
import torch

from skelssl.data.dataset import PreparedDataset
from skelssl.data.loader import BatchReader, EpochLoader, batch_loader, epoch_batches
from skelssl.errors import ConfigError


def test_batch_order_is_a_function_of_seed_and_epoch():
    index = np.arange(100, 150)
    a = epoch_batches(index, 8, seed=0, epoch=3)
    assert [b.tolist() for b in a] == [b.tolist() for b in epoch_batches(index, 8, 0, 3)]
    assert [b.tolist() for b in a] != [b.tolist() for b in epoch_batches(index, 8, 0, 4)]
    assert len(a) == 6 and all(len(b) == 8 for b in a)  # 50 // 8, last partial batch dropped
    assert len(set(np.concatenate(a))) == 48 and set(np.concatenate(a)) <= set(index)
    kept = epoch_batches(index, 8, 0, 3, shuffle=False, drop_last=False)
    assert np.concatenate(kept).tolist() == index.tolist()


def test_processes_split_each_global_batch():
    index = np.arange(40)
    whole = epoch_batches(index, 8, 1, 2)
    parts = [epoch_batches(index, 8, 1, 2, rank=r, world_size=2) for r in range(2)]
    for b, batch in enumerate(whole):
        assert np.concatenate([parts[0][b], parts[1][b]]).tolist() == batch.tolist()
    with pytest.raises(ConfigError, match="not divisible by 3"):
        epoch_batches(index, 8, 0, 0, world_size=3)
    with pytest.raises(ConfigError, match="no full batch"):
        epoch_batches(index[:5], 8, 0, 0)


def test_reader_returns_the_samples_cut_at_the_longest(small_synthetic):
    data = PreparedDataset.from_raw(small_synthetic)
    index = np.array([5, 2, 9])
    x, lengths, labels = BatchReader(data, [index])[0]
    longest = int(data.lengths[index].max())
    assert x.shape == (3, *data.joints.shape[1:2], longest, *data.joints.shape[3:])
    assert torch.equal(x, torch.from_numpy(data.joints[index][:, :, :longest]))
    assert lengths.tolist() == data.lengths[index].tolist()
    assert labels.tolist() == data.labels[index].tolist()
    loaded = list(batch_loader(data, [index, index[:1]]))
    assert len(loaded) == 2 and torch.equal(loaded[0][0], x)


def test_epoch_loader_reads_each_epoch_with_the_same_processes(small_synthetic):
    data = PreparedDataset.from_raw(small_synthetic)
    index = np.arange(len(data.labels))
    loader = EpochLoader(data, workers=2)
    pids = []
    for epoch in range(3):
        batches = epoch_batches(index, 4, seed=0, epoch=epoch)
        read = list(loader.epoch(batches))
        assert len(read) == len(batches)
        for (x, _, labels), batch in zip(read, batches, strict=True):
            assert labels.tolist() == data.labels[batch].tolist()
            assert torch.equal(x, BatchReader(data, [batch])[0][0])
        pids.append(sorted(p.pid for p in multiprocessing.active_children()))
    assert len(pids[0]) >= 2 and pids[0] == pids[1] == pids[2]  # started once, kept
