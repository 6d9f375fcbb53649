"""CrosSCLR: the knowledge-mining loss by hand, the switch epoch (also across a resume), 2- and
3-stream training across the switch, and the multi-stream ensemble."""

import json
import math

import pytest
import torch
import torch.nn.functional as F

from conftest import tiny_config, tiny_stgcn
from skelssl.config import load_config
from skelssl.engine.checkpoint import load_checkpoint
from skelssl.engine.trainer import pretrain
from skelssl.errors import ConfigError, EvalError
from skelssl.eval.ensemble import ensemble_eval, fuse_logits
from skelssl.eval.protocol import load_run
from skelssl.losses import infonce_of_logits, knowledge_mining_loss
from skelssl.methods import Batch
from skelssl.methods.crossclr import CrosSCLR, CrosSCLRConfig
from skelssl.skeleton import NTU25


def test_knowledge_mining_loss_by_hand_with_context():
    l_pos = torch.tensor([[0.5]])
    l_neg = torch.tensor([[0.1, 0.4, -0.2]])
    guide = torch.tensor([[0.3, -0.1, 0.9]])  # the partner's top-1 is queue entry 2
    logits = [0.5, 0.1, 0.4, -0.2, 0.1 * 0.3, 0.4 * -0.1, -0.2 * 0.9]  # τ = 1
    log_z = math.log(sum(math.exp(v) for v in logits))
    positives = [0, 3, 6]  # the key, entry 2 in the l_neg block and in the context block
    expected = -sum(logits[i] - log_z for i in positives) / 3
    loss = knowledge_mining_loss(l_pos, l_neg, guide, temperature=1.0, topk=1, context=True)
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_knowledge_mining_loss_by_hand_without_context_and_with_temperature():
    l_pos, l_neg = torch.tensor([[0.2]]), torch.tensor([[0.6, -0.3, 0.1]])
    guide = torch.tensor([[0.0, 0.8, 0.5]])  # top-2: entries 1 and 2
    logits = [v / 0.5 for v in (0.2, 0.6, -0.3, 0.1)]
    log_z = math.log(sum(math.exp(v) for v in logits))
    expected = -sum(logits[i] - log_z for i in (0, 2, 3)) / 3
    loss = knowledge_mining_loss(l_pos, l_neg, guide, temperature=0.5, topk=2, context=False)
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_topk_zero_without_context_is_infonce():
    torch.manual_seed(0)
    logits = torch.randn(6, 9)
    target = torch.zeros(6, dtype=torch.long)
    expected = F.cross_entropy(logits / 0.07, target)
    mined = knowledge_mining_loss(logits[:, :1], logits[:, 1:], torch.randn(6, 8), 0.07, topk=0,
                                  context=False)
    torch.testing.assert_close(mined, expected)
    torch.testing.assert_close(infonce_of_logits(logits, 0.07), expected)


def tiny_crossclr(streams=("joint", "motion", "bone"), **options):
    torch.manual_seed(0)
    config = CrosSCLRConfig(streams=list(streams), queue_size=16, projection_dim=8,
                            momentum=0.9, **options)
    return CrosSCLR.from_config(config, layout=NTU25, encoders=tiny_stgcn())


def test_each_stream_has_its_own_encoders_heads_and_queue():
    method = tiny_crossclr()
    assert list(method.encoders()) == ["joint", "motion", "bone"]
    joint, motion = method.branches["joint"], method.branches["motion"]
    assert joint.encoder_q is not motion.encoder_q and joint.head_q is not motion.head_q
    assert joint.queue is not motion.queue


def test_the_loss_switches_to_mining_at_the_configured_epoch():
    method = tiny_crossclr(streams=("joint", "motion"), mining_epoch=2)
    x = torch.randn(4, 3, 12, 25, 2)
    before = method.training_step(Batch(x, torch.full((4,), 12)), epoch=1)
    after = method.training_step(Batch(x, torch.full((4,), 12)), epoch=2)
    assert before["mining"].item() == 0 and after["mining"].item() == 1
    assert not method.mining_active(1) and method.mining_active(2)
    assert not tiny_crossclr(mining="none", mining_epoch=0).mining_active(5)


def test_cross_mining_is_guided_by_the_partners_and_single_by_the_stream_itself():
    torch.manual_seed(1)
    logits = {name: torch.randn(5, 9) for name in ("joint", "motion", "bone")}
    cross = tiny_crossclr(topk=1, context=True)
    expected = torch.stack([
        knowledge_mining_loss(logits["joint"][:, :1], logits["joint"][:, 1:],
                              logits[partner][:, 1:], 0.07, 1, True)
        for partner in ("motion", "bone")]).mean()
    torch.testing.assert_close(cross.stream_loss("joint", logits, mining=True), expected)
    single = tiny_crossclr(mining="single", topk=1)
    own = knowledge_mining_loss(logits["bone"][:, :1], logits["bone"][:, 1:],
                                logits["bone"][:, 1:], 0.07, 1, False)
    torch.testing.assert_close(single.stream_loss("bone", logits, mining=True), own)
    torch.testing.assert_close(cross.stream_loss("bone", logits, mining=False),
                               infonce_of_logits(logits["bone"], 0.07))


def test_bad_stream_sets_are_refused():
    with pytest.raises(ConfigError, match="needs at least two streams"):
        tiny_crossclr(streams=("joint",))
    with pytest.raises(ConfigError, match="method.streams"):
        tiny_crossclr(streams=("joint", "joint"))
    with pytest.raises(ConfigError, match=r"method\.streams\[1\]: 'jiont' is not one of .*"
                                          r"did you mean 'joint'"):
        load_config(tiny_config("data/x", method={"name": "crossclr",
                                                  "streams": ["joint", "jiont"]}))
    with pytest.raises(ConfigError, match="method.topk = 17"):
        tiny_crossclr(topk=17)  # the queue holds 16
    assert list(tiny_crossclr(streams=("joint",), mining="single").encoders()) == ["joint"]


def crossclr_config(data_path, streams, **train):
    return load_config(tiny_config(
        data_path,
        method={"name": "crossclr", "streams": list(streams), "queue_size": 16,
                "projection_dim": 8, "momentum": 0.9, "mining_epoch": 1, "topk": 1},
        train={"epochs": 2, "batch_size": 8, **train}))


@pytest.mark.parametrize("streams", [("joint", "motion"), ("joint", "motion", "bone")])
@pytest.mark.slow
def test_pretrain_across_the_switch_then_evaluate_the_ensemble(tmp_path, prepared_synthetic,
                                                               fast_preset, streams):
    config = crossclr_config(prepared_synthetic, streams)
    history = pretrain(config, tmp_path / "run", progress=False)
    assert [row["mining"] for row in history] == [0.0, 1.0]
    assert all(math.isfinite(row[f"loss_{s}"]) for row in history for s in streams)
    run = load_run(tmp_path / "run")
    result = ensemble_eval([run], fast_preset, seed=0, progress=False)
    assert set(result["streams"]) == set(streams)
    assert "+".join(streams) in result["ensembles"]
    assert all(0 <= v <= 100 for v in result["ensembles"].values())
    assert result["weights"]["joint"] == 0.6 and result["weights"]["motion"] == 0.4


@pytest.mark.slow
def test_resume_after_the_switch_is_exact_and_keeps_mining(tmp_path, prepared_synthetic):
    config = crossclr_config(prepared_synthetic, ("joint", "bone"), epochs=3)
    whole = pretrain(config, tmp_path / "whole", progress=False)
    pretrain(config, tmp_path / "parts", until_epoch=2, progress=False)
    resumed = pretrain(config, tmp_path / "parts", resume=True, progress=False)
    assert [row["mining"] for row in resumed] == [0.0, 1.0, 1.0]
    assert [row["loss"] for row in resumed] == [row["loss"] for row in whole]
    a, b = (load_checkpoint(tmp_path / d / "last.pt")["method"] for d in ("whole", "parts"))
    assert all(torch.equal(a[key], b[key]) for key in a)


def test_ensemble_fuses_weighted_logits_and_needs_a_weight_per_stream():
    logits = {"joint": torch.tensor([[1.0, 0.0]]), "motion": torch.tensor([[0.0, 2.0]])}
    fused = fuse_logits(logits, {"joint": 0.6, "motion": 0.4})
    torch.testing.assert_close(fused, torch.tensor([[0.6, 0.8]]))
    with pytest.raises(EvalError, match="no ensemble weight for stream 'motion'"):
        fuse_logits(logits, {"joint": 1.0})


@pytest.mark.slow
def test_ensemble_of_single_stream_runs_refuses_a_repeated_stream(tmp_path, prepared_synthetic,
                                                                  fast_preset):
    config = load_config(tiny_config(prepared_synthetic, train={"epochs": 1}))
    pretrain(config, tmp_path / "a", progress=False)
    pretrain(config, tmp_path / "b", progress=False)
    with pytest.raises(EvalError, match="stream 'joint' is in both"):
        ensemble_eval([load_run(tmp_path / "a"), load_run(tmp_path / "b")], fast_preset,
                      progress=False)


@pytest.mark.slow
def test_ensemble_command_fuses_independent_single_stream_runs(tmp_path, prepared_synthetic,
                                                              fast_preset):
    from typer.testing import CliRunner

    from skelssl.cli import app

    for stream in ("joint", "bone"):
        config = tiny_config(prepared_synthetic, train={"epochs": 1},
                             method={"name": "skeletonclr", "stream": stream, "queue_size": 32,
                                     "projection_dim": 8})
        pretrain(load_config(config), tmp_path / stream, progress=False)
    out = tmp_path / "ensemble.json"
    result = CliRunner().invoke(app, ["eval", "ensemble", str(tmp_path / "joint"),
                                      str(tmp_path / "bone"), "--preset", fast_preset,
                                      "--weight", "bone=0.5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "ensemble 0.6·joint + 0.5·bone: top-1" in result.output
    stored = json.loads(out.read_text())
    assert stored["weights"] == {"joint": 0.6, "bone": 0.5}
    assert set(stored["ensembles"]) == {"joint+bone"} and "probes" not in stored
    for stream in ("joint", "bone"):  # each stream's own probe is written to its run
        probe = json.loads((tmp_path / stream / "results" /
                            f"linear-fast-trained-{stream}.json").read_text())
        assert probe["top1"] == stored["streams"][stream]
    assert out.with_suffix(".png").is_file()  # the confusion matrix of the fused streams
    bad = CliRunner().invoke(app, ["eval", "ensemble", str(tmp_path / "joint"),
                                   "--weight", "bone"])
    assert bad.exit_code != 0 and "expected STREAM=NUMBER" in bad.output
