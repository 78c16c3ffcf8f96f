"""Our HOTA arithmetic equals trackeval 1.3.0's, to the last bit, on random sequences (trackeval is a
test oracle from the dev extra; the package itself does not need it)."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from tracker.eval import _hota_impl

trackeval_metrics = pytest.importorskip("trackeval.metrics", reason="trackeval (dev extra) is the oracle")


def _random_sequence(rng: np.random.Generator) -> dict[str, object]:
    frames, n_gt, n_tr = int(rng.integers(1, 30)), int(rng.integers(1, 8)), int(rng.integers(1, 9))
    gts, trs, sims = [], [], []
    for _ in range(frames):
        g = rng.choice(n_gt, int(rng.integers(0, n_gt + 1)), replace=False)
        t = rng.choice(n_tr, int(rng.integers(0, n_tr + 1)), replace=False)
        s = rng.uniform(0, 1, (len(g), len(t))) * (rng.uniform(0, 1, (len(g), len(t))) > 0.5)
        gts.append(g)
        trs.append(t)
        sims.append(s)
    all_g = np.unique(np.concatenate(gts)).astype(np.int64)
    all_t = np.unique(np.concatenate(trs)).astype(np.int64)
    gts = [np.searchsorted(all_g, g).astype(np.int64) for g in gts]
    trs = [np.searchsorted(all_t, t).astype(np.int64) for t in trs]
    return {
        "num_timesteps": frames,
        "num_gt_ids": len(all_g),
        "num_tracker_ids": len(all_t),
        "num_gt_dets": sum(map(len, gts)),
        "num_tracker_dets": sum(map(len, trs)),
        "gt_ids": gts,
        "tracker_ids": trs,
        "similarity_scores": sims,
    }


def test_hota_equals_trackeval_on_random_sequences() -> None:
    rng = np.random.default_rng(0)
    with contextlib.redirect_stdout(io.StringIO()):
        oracle = trackeval_metrics.HOTA()
    theirs, ours = {}, {}
    for k in range(150):
        data = _random_sequence(rng)
        a, b = oracle.eval_sequence(data), _hota_impl.eval_sequence(data)
        assert set(a) == set(b)
        for key in a:
            np.testing.assert_array_equal(np.asarray(b[key], float), np.asarray(a[key], float), err_msg=key)
        theirs[str(k)], ours[str(k)] = a, b
    ca, cb = oracle.combine_sequences(theirs), _hota_impl.combine_sequences(ours)
    for key in ca:
        np.testing.assert_allclose(np.asarray(cb[key], float), np.asarray(ca[key], float), rtol=0, atol=1e-15)
