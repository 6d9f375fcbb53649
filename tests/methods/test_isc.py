"""ISC: each representation's own key encoder and queue, every pair and the triple, the
augmentation switches."""

from __future__ import annotations

import pytest
import torch

from conftest import tiny_config
from skelssl.config import load_config
from skelssl.errors import ConfigError
from skelssl.methods import Batch, build_method
from skelssl.methods.isc import ISCConfig
from skelssl.models.agcn import AGCNConfig
from skelssl.models.gru import BiGRUConfig
from skelssl.models.hcn import HCNConfig
from skelssl.skeleton import UCLA20

ENCODERS = {"sequence": BiGRUConfig(hidden_size=8, layers=1, dropout=0.0, pooling="last"),
            "graph": AGCNConfig(base_channels=4, feature_dim=16),
            "image": HCNConfig(channels=4, window=16, grid=2, dropout=0.0)}
N, T = 6, 20


def tiny_isc(**options):
    torch.manual_seed(0)
    config = ISCConfig(queue_size=12, projection_dim=8, momentum=0.9, frames=16, **options)
    return build_method(config, ENCODERS, layout=UCLA20, channels=3, persons=1)


def batch() -> Batch:
    x = torch.randn(N, 3, T, UCLA20.num_joints, 1, generator=torch.Generator().manual_seed(0))
    return Batch(x, torch.tensor([T, T, 15, 12, T, 8]))


@pytest.mark.parametrize("representations", [
    ["sequence", "graph"], ["sequence", "image"], ["image", "graph"],
    ["sequence", "graph", "image"]])
@pytest.mark.parametrize("intra, inter", [(False, True), (True, False), (True, True)])
def test_every_pair_and_the_triple_trains(representations, intra, inter):
    method = tiny_isc(representations=representations, intra=intra, inter=inter)
    optimizer = torch.optim.SGD(method.parameters(), lr=0.01)
    for step in range(2):
        out = method.training_step(batch(), step, torch.Generator().manual_seed(step))
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
        assert torch.isfinite(out["loss"])
    pairs = len(representations) * (len(representations) - 1) // 2
    terms = [key for key in out if key.startswith("loss_")]
    assert len(terms) == len(representations) * intra + pairs * inter
    assert set(method.encoders()) == set(representations)


def test_each_representation_has_its_own_key_encoder_and_queue():
    method = tiny_isc(representations=["sequence", "graph", "image"])
    names = ["sequence", "graph", "image"]
    parameters = [{id(p) for p in method.encoders_k[n].parameters()} for n in names]
    assert all(not (a & b) for i, a in enumerate(parameters) for b in parameters[i + 1:])
    queries = [{id(p) for p in method.encoders_q[n].parameters()} for n in names]
    assert all(not (a & b) for a in parameters for b in queries)
    g = torch.Generator().manual_seed(5)
    method.training_step(batch(), 0, g)
    g = torch.Generator().manual_seed(5)
    method.augment(batch().x, batch().lengths, g)  # the query view's draws
    view_k, lengths_k = method.augment(batch().x, batch().lengths, g)
    for name in names:
        with torch.no_grad():
            keys = torch.nn.functional.normalize(method.heads_k[name](
                method.encoders_k[name](view_k, lengths_k)), dim=1)
        torch.testing.assert_close(method.queue(name).keys[:N], keys)


def test_the_augmentation_switches():
    x, lengths = batch()[:2]
    g = torch.Generator
    none = tiny_isc(crop_resize=False, pose=False, jitter=False)
    view, view_lengths = none.augment(x, lengths, g().manual_seed(0))
    assert (view_lengths == 16).all() and view.shape[2] == 16
    cropped, _ = tiny_isc(pose=False, jitter=False).augment(x, lengths, g().manual_seed(0))
    assert not torch.allclose(cropped, view)
    floored, _ = tiny_isc(pose=False, jitter=False, min_crop_frames=int(lengths.max())
                          ).augment(x, lengths, g().manual_seed(0))
    torch.testing.assert_close(floored, view)  # a floor over every length: the whole sequence
    jittered, _ = tiny_isc(crop_resize=False, pose=False).augment(x, lengths, g().manual_seed(0))
    changed = (jittered != view).any(dim=(1, 2, 4)).sum(dim=1)
    assert (changed == 12).all()  # ISC's 15 of 25 joints: 12 of UCLA's 20
    posed, _ = tiny_isc(crop_resize=False, jitter=False).augment(x, lengths, g().manual_seed(0))
    assert ((posed != view).any(dim=(1, 2, 4)).sum(dim=1) == UCLA20.num_joints).all()


@pytest.mark.parametrize("method, message", [
    ({"representations": ["sequence", "sequence"]}, "expected distinct names"),
    ({"intra": False, "inter": False}, "nothing to learn"),
    ({"representations": ["graph"]}, "method.inter needs at least two representations"),
    ({"representations": ["skeleton"]}, "method.representations"),
])
def test_bad_settings_name_the_key(prepared_synthetic, method, message):
    values = tiny_config(prepared_synthetic)
    del values["encoder"]
    values["encoders"] = {"sequence": {"name": "bigru"}, "graph": {"name": "agcn"},
                          "image": {"name": "hcn"}}
    values["method"] = {"name": "isc", **method}
    with pytest.raises(ConfigError, match=message):
        load_config(values)
