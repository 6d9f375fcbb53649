"""ISC's linear protocol: trained on random crop-resizes, tested on centre crops."""

from __future__ import annotations

from skelssl.eval.protocol import load_run


def test_the_isc_linear_protocol_trains_on_crops_and_tests_on_centre_crops(tiny_run,
                                                                          monkeypatch):
    from skelssl.eval import linear
    from skelssl.eval.protocol import linear_probe

    fast = linear.LinearPreset(lr=0.5, batch_size=8, epochs=2, milestones=(1,), gamma=0.1,
                               crops=True)
    monkeypatch.setitem(linear.LINEAR_PRESETS, "fast-crops", fast)
    run = load_run(tiny_run)
    first = linear_probe(run, "joint", "fast-crops", seed=0, progress=False)
    again = linear_probe(run, "joint", "fast-crops", seed=0, progress=False)
    assert first["features"] == "crops, recomputed every batch"
    assert 0 <= first["top1"] <= 100 and first["curve"] == again["curve"]  # seeded crops
    assert linear.get_preset("isc").crops and linear.get_preset("isc").epochs == 80
