"""ReID training toolkit: dataset parsers, sampler, augmentations, losses (against hand-computed values),
models (MGN shapes), evaluation (CMC/mAP by hand), training, resume and ONNX export."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest
import yaml

if os.environ.get("CI"):  # .ci/run installs torch: there a missing torch fails these tests, never skips them
    import torch
else:
    torch = pytest.importorskip("torch")

from tracker.reid.train.config import ReidTrainConfig, load_reid_config, reid_config_from_dict
from tracker.reid.train.datasets import (
    ImageDataset,
    Sample,
    load_cuhk01,
    load_cuhk03,
    load_dataset,
    load_dukemtmc,
    load_market1501,
    load_mot_sequence,
    load_msmt17,
    parse_cuhk01_name,
    parse_cuhk03_name,
    parse_duke_name,
    parse_market_name,
    parse_msmt17_name,
    relabel,
)
from tracker.reid.train.engine import compute_loss, load_checkpoint, train
from tracker.reid.train.evaluate import cosine_distance, evaluate_rank, re_ranking
from tracker.reid.train.export import ExportMismatchError, export_checkpoint, export_onnx
from tracker.reid.train.losses import (
    attribute_loss,
    batch_hard_triplet_loss,
    contrastive_loss,
    cross_entropy_label_smooth,
    pairwise_contrastive_loss,
)
from tracker.reid.train.models import MGN, BoTBaseline, LightReid, MGNMobileNetV2, ReidOutput, build_model
from tracker.reid.train.sampler import RandomIdentitySampler
from tracker.reid.train.transforms import (
    PadCrop,
    RandomErasing,
    RandomHorizontalFlip,
    build_train_transform,
)


def _img(path: Path, color: tuple[int, int, int] = (10, 20, 30), size: tuple[int, int] = (16, 8)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.zeros((*size, 3), np.uint8)
    img[:] = color
    assert cv2.imwrite(str(path), img)


# ----------------------------------------------------------------------------- name parsers


def test_name_parsers() -> None:
    assert parse_market_name("0002_c1s1_000451_03.jpg") == (2, 0)
    assert parse_market_name("-1_c3s2_000101_01.jpg") == (-1, 2)
    assert parse_duke_name("0005_c2_f0046985.jpg") == (5, 1)
    assert parse_msmt17_name("0000/0000_000_01_0303morning_0015_0.jpg") == 0
    assert parse_msmt17_name("0001_012_15_0303noon_0020_1.jpg") == 14
    assert parse_cuhk03_name("0001_04.jpg") == (1, 0)
    assert parse_cuhk03_name("0001_05.jpg") == (1, 1)
    assert parse_cuhk01_name("0971002.jpg") == (971, 0)
    assert parse_cuhk01_name("0001003.jpg") == (1, 1)
    for parse, bad in [
        (parse_market_name, "0002_c1_f000451.jpg"),
        (parse_duke_name, "0002_c1s1_000451_03.jpg"),
        (parse_msmt17_name, "abc.jpg"),
        (parse_cuhk03_name, "0001_12.jpg"),
        (parse_cuhk01_name, "0001005.jpg"),
    ]:
        with pytest.raises(ValueError, match=bad.split(".")[0]):
            parse(bad)


def test_market_and_duke_loaders(tmp_path: Path) -> None:
    m = tmp_path / "market"
    for name in ["0001_c1s1_000001_01.jpg", "0001_c2s1_000002_01.jpg", "-1_c1s1_000003_01.jpg"]:
        _img(m / "bounding_box_train" / name)
    _img(m / "bounding_box_train" / "0000_c1s1_000004_01.jpg")  # distractor: skipped in train
    _img(m / "query" / "0003_c1s1_000005_01.jpg")
    _img(m / "bounding_box_test" / "0003_c4s1_000006_01.jpg")
    _img(m / "bounding_box_test" / "-1_c4s1_000007_01.jpg")
    s = load_market1501(m)
    assert [(x.pid, x.camid) for x in s.train] == [(1, 0), (1, 1)]
    assert [(x.pid, x.camid) for x in s.query] == [(3, 0)]
    assert [(x.pid, x.camid) for x in s.gallery] == [(3, 3)]
    assert s.num_train_pids == 1
    assert load_dataset("market1501", m).train == s.train  # the folder itself as root

    d = tmp_path / "duke"
    _img(d / "bounding_box_train" / "0005_c2_f0046985.jpg")
    _img(d / "query" / "0007_c1_f0000001.jpg")
    _img(d / "bounding_box_test" / "0007_c8_f0000002.jpg")
    s = load_dukemtmc(d)
    assert (s.train[0].pid, s.train[0].camid) == (5, 1)
    assert (s.gallery[0].pid, s.gallery[0].camid) == (7, 7)

    _img(d / "bounding_box_train" / "bad_name.jpg")
    with pytest.raises(ValueError, match="bad_name"):
        load_dukemtmc(d)
    with pytest.raises(ValueError, match="bounding_box_train"):
        load_market1501(tmp_path / "nothing")


def test_msmt17_loader(tmp_path: Path) -> None:
    r = tmp_path / "msmt"
    _img(r / "train" / "0000" / "0000_000_01_0303morning_0015_0.jpg")
    _img(r / "train" / "0000" / "0000_001_05_0303morning_0016_0.jpg")
    _img(r / "test" / "0000" / "0000_000_02_0303noon_0001_0.jpg")
    _img(r / "test" / "0000" / "0000_003_07_0303noon_0002_0.jpg")
    (r / "list_train.txt").write_text("0000/0000_000_01_0303morning_0015_0.jpg 0\n")
    (r / "list_val.txt").write_text("0000/0000_001_05_0303morning_0016_0.jpg 0\n")
    (r / "list_query.txt").write_text("0000/0000_000_02_0303noon_0001_0.jpg 0\n")
    (r / "list_gallery.txt").write_text("0000/0000_003_07_0303noon_0002_0.jpg 0\n")
    s = load_msmt17(r)
    assert [(x.pid, x.camid) for x in s.train] == [(0, 0), (0, 4)]
    assert Path(s.train[0].path).is_file() and Path(s.gallery[0].path).is_file()
    assert (s.query[0].camid, s.gallery[0].camid) == (1, 6)
    (r / "list_query.txt").write_text("0000/0000_000_02_0303noon_0001_0.jpg\n")
    with pytest.raises(ValueError, match=r"list_query\.txt:1"):
        load_msmt17(r)


def test_cuhk03_and_cuhk01_loaders(tmp_path: Path) -> None:
    c3 = tmp_path / "CUHK03"
    for kk in ("00", "04", "05", "09"):
        _img(c3 / "labeled" / "train" / f"0001_{kk}.jpg")
    s = load_cuhk03(c3)
    assert [x.camid for x in s.train] == [0, 0, 1, 1] and {x.pid for x in s.train} == {1}
    with pytest.raises(ValueError, match="detected"):
        load_cuhk03(c3, "detected")

    c1 = tmp_path / "CUHK01"
    for pid in (1, 2, 3):
        for n in (1, 2, 3, 4):
            _img(c1 / "campus" / f"{pid:04d}{n:03d}.jpg")
    s = load_cuhk01(c1, train_ids=(1, 1), test_ids=(2, 3))
    assert len(s.train) == 4 and {x.pid for x in s.train} == {1}
    assert [(x.pid, x.camid) for x in s.query] == [(2, 0), (2, 0), (3, 0), (3, 0)]
    assert [(x.pid, x.camid) for x in s.gallery] == [(2, 1), (2, 1), (3, 1), (3, 1)]
    assert load_dataset("cuhk01", tmp_path, train_ids=(1, 1), test_ids=(2, 3)).train == s.train
    _img(c1 / "campus" / "0004009.jpg")
    with pytest.raises(ValueError, match="0004009"):
        load_cuhk01(c1)


def test_mot_sequence_crops(tmp_path: Path) -> None:
    seq = tmp_path / "SEQ-01"
    (seq / "gt").mkdir(parents=True)
    (seq / "seqinfo.ini").write_text(
        "[Sequence]\nname=SEQ-01\nimDir=img1\nframeRate=30\nseqLength=4\nimWidth=64\nimHeight=48\nimExt=.jpg\n"
    )
    for f in range(1, 5):
        _img(seq / "img1" / f"{f:06d}.jpg", size=(48, 64))
    rows = []
    for f in range(1, 5):
        rows.append(f"{f},1,2,2,10,30,1,1,1.0")  # kept (on sampled frames)
        rows.append(f"{f},2,20,2,10,30,1,1,0.2")  # low visibility
        rows.append(f"{f},3,40,2,10,8,1,1,1.0")  # too short
        rows.append(f"{f},4,40,20,10,30,0,1,1.0")  # consider 0
        rows.append(f"{f},5,30,10,10,30,1,3,1.0")  # a car
    (seq / "gt" / "gt.txt").write_text("\n".join(rows) + "\n")
    s = load_mot_sequence(seq, camid=2, min_visibility=0.5, min_height=20, every=2, pid_offset=100)
    assert [(x.pid, x.camid) for x in s.train] == [(101, 2), (101, 2)]
    assert s.train[0].box == (2.0, 2.0, 12.0, 32.0)
    assert "000001" in s.train[0].path and "000003" in s.train[1].path
    ds = ImageDataset(s.train, (16, 8))
    x, pid, camid, attrs = ds[0]
    assert x.shape == (3, 16, 8) and pid == 101 and camid == 2 and attrs.numel() == 0


def test_relabel() -> None:
    samples = [Sample("a", 7, 0), Sample("b", 3, 0), Sample("c", 7, 1)]
    out, mapping = relabel(samples, offset=10)
    assert mapping == {3: 10, 7: 11}
    assert [s.pid for s in out] == [11, 10, 11]


# ----------------------------------------------------------------------------- sampler, transforms


def test_identity_sampler_balanced_and_seeded() -> None:
    pids = [i // 5 for i in range(30)] + [6, 6]  # ids 0..5 with 5 images, id 6 with 2 (padded)
    s = RandomIdentitySampler(pids, p=3, k=4, seed=1)
    batches = list(s)
    assert len(batches) == len(s) and len(batches) >= 2
    for b in batches:
        assert len(b) == 12
        ids = [pids[i] for i in b]
        assert len(set(ids)) == 3 and all(ids.count(x) == 4 for x in set(ids))
    assert list(RandomIdentitySampler(pids, 3, 4, seed=1)) == batches
    s.set_epoch(1)
    assert list(s) != batches
    with pytest.raises(ValueError, match="identities"):
        RandomIdentitySampler([0, 0, 1], p=3, k=2)


def test_transforms() -> None:
    x = torch.arange(2 * 4 * 3, dtype=torch.float32).view(2, 4, 3)
    assert torch.equal(RandomHorizontalFlip(1.0)(x), x.flip(-1))
    assert torch.equal(RandomHorizontalFlip(0.0)(x), x)
    y = PadCrop(2, np.random.default_rng(0))(x)
    assert y.shape == x.shape
    z = RandomErasing(1.0, rng=np.random.default_rng(0))(torch.ones(3, 32, 16))
    assert z.shape == (3, 32, 16) and 0 < int((z == 0).sum()) < 3 * 32 * 16
    a = build_train_transform(seed=5)
    b = build_train_transform(seed=5)
    img = torch.randn(3, 32, 16)
    assert all(torch.equal(a(img), b(img)) for _ in range(5))


# ----------------------------------------------------------------------------- losses


def test_id_loss_label_smoothing_by_hand() -> None:
    logits = torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    targets = torch.tensor([0, 2])
    eps = 0.3
    # q = (1 - eps) onehot + eps / 3; loss_i = log Z_i - sum_c q_c z_c
    z1 = math.log(math.e + 2)
    l1 = z1 - (0.8 * 1.0)
    z2 = math.log(math.e**2 + 2)
    l2 = z2 - (0.1 * 2.0)
    got = cross_entropy_label_smooth(logits, targets, eps)
    assert float(got) == pytest.approx((l1 + l2) / 2, rel=1e-6)
    assert float(cross_entropy_label_smooth(logits, targets, 0.0)) == pytest.approx(
        float(torch.nn.functional.cross_entropy(logits, targets)), rel=1e-6
    )


def test_batch_hard_triplet_by_hand() -> None:
    f = torch.tensor([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [5.0, 0.0]])
    pids = torch.tensor([0, 0, 1, 1])
    # (d_p, d_n) per anchor: (1, 3), (1, 2), (2, 2), (2, 4)
    assert float(batch_hard_triplet_loss(f, pids, 0.3)) == pytest.approx(0.3 / 4, abs=1e-6)
    soft = (2 * math.log1p(math.exp(-2)) + math.log1p(math.exp(-1)) + math.log(2)) / 4
    assert float(batch_hard_triplet_loss(f, pids, None)) == pytest.approx(soft, rel=1e-6)


def test_contrastive_by_hand() -> None:
    x1 = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    x2 = torch.tensor([[3.0, 4.0], [0.0, 0.5]])
    same = torch.tensor([True, False])
    # same pair: d^2 = 25; different pair: max(0, 1 - 0.5)^2 = 0.25; mean / 2
    assert float(contrastive_loss(x1, x2, same, 1.0)) == pytest.approx((25 + 0.25) / 4, rel=1e-6)
    f = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 0.5]])
    # pairs (0,1) same d=5 -> 25; (0,2) diff d=.5 -> .25; (1,2) diff d>1 -> 0
    assert float(pairwise_contrastive_loss(f, torch.tensor([0, 0, 1]), 1.0)) == pytest.approx(
        0.5 * (25 + 0.25) / 3, rel=1e-6
    )


def test_attribute_loss_by_hand() -> None:
    logits = torch.tensor([[0.0, 2.0], [1.0, -1.0]])
    targets = torch.tensor([[1.0, 0.0], [0.0, -1.0]])  # -1: unknown
    a0 = (math.log(2) + math.log1p(math.e)) / 2
    a1 = math.log1p(math.exp(2))
    assert float(attribute_loss(logits, targets)) == pytest.approx((a0 + a1) / 2, rel=1e-6)


def test_attribute_heads_in_training_loss() -> None:
    torch.manual_seed(0)
    model = LightReid(num_classes=3, embedding_dim=8, width_mult=0.25, num_attributes=2).train()
    out = model(torch.randn(4, 3, 32, 16))
    assert isinstance(out, ReidOutput) and out.attributes is not None and out.attributes.shape == (4, 2)
    cfg = ReidTrainConfig().loss
    pids = torch.tensor([0, 0, 1, 1])
    attrs = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    total, parts = compute_loss(out, pids, attrs, cfg)
    assert set(parts) == {"id", "triplet", "attribute"}
    assert float(total.detach()) == pytest.approx(
        parts["id"] + parts["triplet"] + parts["attribute"], rel=1e-5
    )
    total.backward()
    assert model.attributes is not None and model.attributes.heads[1].weight.grad is not None


# ----------------------------------------------------------------------------- models


def test_mgn_branch_shapes() -> None:
    model = MGN(num_classes=5, feat_dim=256, width=4).eval()  # narrow trunk, paper's layout
    x = torch.randn(2, 3, 384, 128)
    with torch.no_grad():
        g, p2, p3 = model.branch_maps(x)
        assert g.shape == (2, 128, 12, 4)  # global: conv5 stride 2
        assert p2.shape == (2, 128, 24, 8) and p3.shape == (2, 128, 24, 8)  # parts: stride 1
        pooled = model.pooled(x)
        assert len(pooled) == 8 and all(p.shape == (2, 128, 1, 1) for p in pooled)
        emb = model(x)
    assert emb.shape == (2, 8 * 256)
    # separate branch weights: the three conv4_x copies are distinct parameters
    assert model.p1[0][0].conv1.weight.data_ptr() != model.p2[0][0].conv1.weight.data_ptr()
    model.train()
    out = model(x)
    assert isinstance(out, ReidOutput)
    assert len(out.logits) == 8 and all(lg.shape == (2, 5) for lg in out.logits)
    assert len(out.features) == 3 and all(f.shape == (2, 256) for f in out.features)


def test_mgn_on_the_mobilenetv2_trunk(tmp_path: Path) -> None:
    """MGN's branches on MobileNetV2: shapes per part stride, distinct branch weights, a light model's
    weights carried into the trunk and all three branches (global branch = the light backbone), and
    one training step of the whole model through the ID + triplet losses."""
    from tracker.reid.train.models import MGN_SPLIT, MGNMobileNetV2
    from tracker.reid.train.recover import light_to_mgn

    x = torch.randn(2, 3, 64, 32)
    for stride, part_hw in ((2, (2, 1)), (1, (4, 2))):
        model = build_model("mgn_mobilenetv2", 5, embedding_dim=8, width_mult=0.25, last_stride=stride).eval()
        assert isinstance(model, MGNMobileNetV2) and len(model.backbone.features) == MGN_SPLIT
        with torch.no_grad():
            g, p2, p3 = model.branch_maps(x)
            assert g.shape == (2, 1280, 2, 1) and p2.shape == p3.shape == (2, 1280, *part_hw)
            assert model(x).shape == (2, 8 * 8)
    assert model.p1[0].conv[0].weight.data_ptr() != model.p2[0].conv[0].weight.data_ptr()
    # stripes as slices equal adaptive max pooling for any height, and so the model exports (the
    # exporter's adaptive_max_pool2d needs the stripe count to divide the map height)
    from tracker.reid.train.models import _stripes

    for h in (2, 5, 8, 16, 24):
        m = torch.randn(2, 3, h, 4)
        for n in (2, 3):
            assert torch.equal(
                torch.cat(_stripes(m, n), dim=2), torch.nn.functional.adaptive_max_pool2d(m, (n, 1))
            )
    from tracker.reid.preprocess import PreprocessSpec

    assert export_onnx(model, tmp_path / "mgn.onnx", (64, 32), PreprocessSpec(input_size=(64, 32))) <= 1e-4
    # 256x128: 8-row maps, 3 stripes of rows 0-2, 2-5, 5-7 (a ceiling by negative floor division
    # exported as truncation and cut the first two short)
    big = build_model("mgn_mobilenetv2", 5, embedding_dim=8, width_mult=0.25, last_stride=2).eval()
    for mod in big.modules():  # non-trivial BatchNorm statistics, so that every stripe matters
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
    assert export_onnx(big, tmp_path / "big.onnx", (256, 128), PreprocessSpec(input_size=(256, 128))) <= 1e-4

    light = LightReid(3, embedding_dim=16, width_mult=0.25).eval()
    mgn = build_model("mgn_mobilenetv2", 3, embedding_dim=8, width_mult=0.25, last_stride=2).eval()
    assert isinstance(mgn, MGNMobileNetV2)
    light_to_mgn(light, mgn)
    with torch.no_grad():
        want = light.backbone(x)
        for branch in (mgn.p1, mgn.p2, mgn.p3):
            torch.testing.assert_close(branch(mgn.backbone(x)), want)
    mgn.train()
    out = mgn(torch.randn(8, 3, 64, 32))
    assert isinstance(out, ReidOutput) and len(out.logits) == 8 and out.embedding is not None
    pids = torch.tensor([0, 0, 1, 1, 2, 2, 0, 1])
    loss, parts = compute_loss(out, pids, None, load_reid_config("light").loss)
    loss.backward()
    assert {"id", "triplet"} <= set(parts) and mgn.p3[0].conv[0].weight.grad is not None


def test_bot_and_light_shapes() -> None:
    bot = BoTBaseline(num_classes=4, last_stride=1, width=4).eval()
    with torch.no_grad():
        assert bot.backbone(torch.randn(1, 3, 64, 32)).shape == (1, 128, 4, 2)  # stride 16
        assert bot(torch.randn(2, 3, 64, 32)).shape == (2, 128)
    light = LightReid(num_classes=4, embedding_dim=16, width_mult=0.25).eval()
    with torch.no_grad():
        assert light(torch.randn(3, 3, 64, 32)).shape == (3, 16)


# ----------------------------------------------------------------------------- evaluation


def test_cmc_map_by_hand_with_same_camera_exclusion() -> None:
    dist = np.array([[0.1, 0.4, 0.2, 0.3], [0.5, 0.6, 0.1, 0.2]])
    q_pids, q_cams = [1, 2], [0, 0]
    g_pids = [1, 1, 2, 3]
    # g0 is query 0's person seen by the same camera: excluded. Query 0's order becomes g2, g3, g1:
    # first match at rank 3, AP = 1/3. Query 1: g2 first, AP = 1.
    r = evaluate_rank(dist, q_pids, g_pids, q_cams, [0, 1, 1, 1], max_rank=4)
    np.testing.assert_allclose(r.cmc, [0.5, 0.5, 1.0, 1.0])
    assert r.mAP == pytest.approx((1 / 3 + 1) / 2)
    assert r.num_queries == 2
    # with g0 on another camera it counts: query 0 hits at ranks 1 and 4, AP = (1/1 + 2/4) / 2
    r = evaluate_rank(dist, q_pids, g_pids, q_cams, [1, 1, 1, 1], max_rank=4)
    np.testing.assert_allclose(r.cmc, [1.0, 1.0, 1.0, 1.0])
    assert r.mAP == pytest.approx((0.75 + 1) / 2)
    # a query whose only match is excluded is skipped
    with pytest.raises(ValueError, match="no query"):
        evaluate_rank(dist[:1, :1], [1], [1], [0], [0])
    # the same through the samples' own ids: the first case's figures
    from tracker.reid.train.evaluate import evaluate_samples

    def sample(pid: int, cam: int) -> Sample:
        return Sample(f"p{pid}c{cam}.jpg", pid, cam)

    r = evaluate_samples(
        dist, [sample(1, 0), sample(2, 0)], [sample(1, 0), sample(1, 1), sample(2, 1), sample(3, 1)]
    )
    np.testing.assert_allclose(r.cmc[:4], [0.5, 0.5, 1.0, 1.0])
    assert r.mAP == pytest.approx((1 / 3 + 1) / 2)


def test_re_ranking_runs_and_keeps_easy_matches() -> None:
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(5, 8))
    q = centers + 0.05 * rng.normal(size=(5, 8))
    g = np.concatenate([centers + 0.05 * rng.normal(size=(5, 8)) for _ in range(3)])
    g_pids = np.tile(np.arange(5), 3)
    d = re_ranking(cosine_distance(q, g), cosine_distance(q, q), cosine_distance(g, g), k1=4, k2=2)
    assert d.shape == (5, 15) and np.isfinite(d).all()
    r = evaluate_rank(d, np.arange(5), g_pids, np.zeros(5), np.ones(15))
    assert r.rank(1) == 1.0 and r.mAP == pytest.approx(1.0)


# ----------------------------------------------------------------------------- config


def test_config_unknown_keys_and_preset() -> None:
    cfg = load_reid_config("light")
    assert cfg.model.arch == "mobilenetv2" and cfg.model.embedding_dim == 512
    assert reid_config_from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="lrr"):
        reid_config_from_dict({"optim": {"lrr": 1.0}})
    with pytest.raises(ValueError, match="input_size"):
        reid_config_from_dict({"model": {"input_size": [1, 2, 3]}})


@pytest.mark.parametrize(
    ("section", "key", "value", "rule"),
    [
        ("optim", "gamma", -3, r"in \(0, 1\]"),
        ("loss", "id_weight", -1, ">= 0"),
        ("augment", "flip_p", 2, r"in \[0, 1\]"),
        ("optim", "max_batches_per_epoch", 0, ">= 1, or null"),
        ("optim", "warmup_epochs", -3, ">= 0"),
        ("optim", "milestones", [-5, 1000], "increasing order"),
        ("loss", "triplet_margin", -1, "> 0, or null"),
        ("model", "embedding_dim", 0, ">= 1"),
        ("data", "num_workers", -1, ">= 0"),
        ("optim", "weight_decay", -1, ">= 0"),
        ("data", "cuhk01_train_ids", [485, 1], "first <= last"),
    ],
)
def test_config_values_out_of_range_name_the_file_and_key(
    tmp_path: Path, section: str, key: str, value: object, rule: str
) -> None:
    """Each of these trained a nonsense model without a word (a negative learning-rate factor, a
    negative loss) or failed deep in torch with no file or key named."""
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"base": "light", section: {key: value}}))
    with pytest.raises(ValueError, match=rf"bad\.yaml\.{section}\.{key}: must be .*{rule}"):
        load_reid_config(path)


def test_every_shipped_reid_preset_loads_and_its_recipe_chain_holds() -> None:
    # each configs/reid/*.yaml is a documented recipe: it must parse and validate, and a run that
    # starts from another run's checkpoint must name a preset whose model it can load
    from tracker.reid.train.config import PRESET_DIR

    names = sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))
    assert {"light", "mgn_mobilenetv2_heads", "mgn_mobilenetv2_dg_ft", "mgn_mobilenetv2_dg_ft2"} <= set(names)
    cfgs = {n: load_reid_config(n) for n in names}
    for name, cfg in cfgs.items():
        assert cfg.name == name
        init = cfg.model.init_checkpoint
        if init and init.startswith("out/reid/") and init.endswith("/last.pt"):
            source = init.split("/")[2]
            if source in cfgs:  # a run of a shipped preset (the default --out folder): same arch
                assert cfgs[source].model.arch == cfg.model.arch, (name, source)
    heads, ft, ft2 = (cfgs[f"mgn_mobilenetv2_{n}"] for n in ("heads", "dg_ft", "dg_ft2"))
    assert heads.model.freeze_blocks == 14 and ft.model.freeze_blocks == 7  # trunk frozen, then trained
    assert ft.model.init_checkpoint == "out/reid/mgn_mobilenetv2_heads/last.pt"  # phase 1's --out
    assert ft2.model.init_checkpoint == "out/reid/mgn_mobilenetv2_dg_ft/last.pt"  # phase 2's


def test_freeze_blocks_freezes_the_shared_trunk_of_mgn_mobilenetv2() -> None:
    # phase 1 of the MGN recipe (mgn_mobilenetv2_heads.yaml) trains the branches and heads only
    from tracker.reid.train.engine import _make_model

    base = load_reid_config("mgn_mobilenetv2_heads")
    cfg = dataclasses.replace(base, model=dataclasses.replace(base.model, init_checkpoint=None))
    model = _make_model(cfg, 5, 0, pretrained=False)
    assert isinstance(model, MGNMobileNetV2)
    trunk = list(model.backbone.features.parameters())
    assert trunk and not any(p.requires_grad for p in trunk)
    for part in (model.p1, model.p2, model.p3, model.reductions, model.classifiers):
        assert all(p.requires_grad for p in part.parameters())
    bot = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, arch="bot_r50", width=8))
    with pytest.raises(
        ValueError, match="freeze_blocks: only for mobilenetv2 and mgn_mobilenetv2, not 'bot_r50'"
    ):
        _make_model(bot, 5, 0, pretrained=False)


def test_config_base_merges_over_its_chain(tmp_path: Path) -> None:
    light = load_reid_config("light")
    (tmp_path / "a.yaml").write_text("base: light\noptim: {epochs: 5}\nmodel: {input_size: [64, 32]}\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\noptim: {lr: 1.0e-4}\ndata: {datasets: [cuhk01]}\n")
    b = load_reid_config(tmp_path / "b.yaml")
    assert b.name == "b" and b.optim.epochs == 5 and b.optim.lr == 1.0e-4  # both levels apply
    assert b.model.input_size == (64, 32) and b.data.datasets == ("cuhk01",)  # lists replace
    assert b.optim.milestones == light.optim.milestones and b.model.arch == light.model.arch  # the rest kept
    (tmp_path / "c.yaml").write_text("base: d.yaml\n")
    (tmp_path / "d.yaml").write_text("base: c.yaml\n")
    with pytest.raises(ValueError, match="base cycle"):
        load_reid_config(tmp_path / "c.yaml")
    (tmp_path / "e.yaml").write_text("base: light\noptim: {epochz: 3}\n")
    with pytest.raises(ValueError, match="epochz"):
        load_reid_config(tmp_path / "e.yaml")
    (tmp_path / "f.yaml").write_text("base: [light]\n")
    with pytest.raises(ValueError, match="base"):
        load_reid_config(tmp_path / "f.yaml")
    (tmp_path / "g.yaml").write_text("base: nosuch\n")
    with pytest.raises(ValueError, match="unknown reid preset"):
        load_reid_config(tmp_path / "g.yaml")


def test_default_embedder_stages_chain() -> None:
    """The presets that made the shipped model: each stage starts from the previous one's output."""
    s1, s2, s3 = (load_reid_config(n) for n in ("light_cuhk", "light_cuhk_256", "light_cuhk01_ft"))
    assert s1.model.init_checkpoint is None and s1.model.input_size == (128, 64)
    assert s2.model.init_checkpoint == "out/reid/light_cuhk/last.pt" and s2.model.input_size == (256, 128)
    assert s3.model.init_checkpoint == "out/reid/light_cuhk_256/last.pt" and s3.data.datasets == ("cuhk01",)
    # the shipped (domain-generalising) model continues from stage 3, recovered from its export
    s4, s5 = (load_reid_config(n) for n in ("light_dg_distill", "light_dg_cuhk01_ft"))
    assert s4.model.init_checkpoint == "out/reid/recovered/last.pt" and s4.data.datasets == (
        "cuhk01",
        "cuhk03",
    )
    assert s5.model.init_checkpoint == "out/reid/light_dg_distill/last.pt" and s5.data.datasets == ("cuhk01",)
    for cfg in (s4, s5):
        assert (
            cfg.loss.distill_teacher == "../shared/models/osnet_x0_25_msmt17.onnx"
            and cfg.loss.distill_weight > 0
        )
        assert cfg.augment.color_jitter > 0 and cfg.augment.gray_p > 0
    mgn = load_reid_config("mgn_mobilenetv2_dg")
    assert mgn.model.arch == "mgn_mobilenetv2" and mgn.model.init_checkpoint == "out/reid/mgn_init/last.pt"
    for cfg in (s1, s2, s3, s4, s5, mgn):  # CUHK01 persons 486-971 are the test split, never trained on
        assert cfg.data.cuhk01_train_ids == (1, 485) and cfg.data.cuhk01_test_ids == (486, 971)


# ----------------------------------------------------------------------------- training, export


def _tiny_config(epochs: int) -> ReidTrainConfig:
    return reid_config_from_dict(
        {
            "name": "tiny",
            "seed": 0,
            "model": {"arch": "mobilenetv2", "input_size": [32, 16], "embedding_dim": 16, "width_mult": 0.25},
            "data": {"p": 4, "k": 4},
            "augment": {"flip_p": 0.5, "pad": 2, "erase_p": 0.0},
            # ID loss only here (the triplet term on a random-init net is too noisy to fall within two
            # tiny epochs; it is checked by hand above and in test_attribute_heads_in_training_loss)
            "loss": {"triplet_weight": 0.0},
            "optim": {
                "lr": 1e-2,
                "weight_decay": 0.0,
                "epochs": epochs,
                "warmup_epochs": 0,
                "milestones": [],
            },
        }
    )


@pytest.fixture(scope="module")
def tiny_samples(tmp_path_factory: pytest.TempPathFactory) -> list[Sample]:
    root = tmp_path_factory.mktemp("tinyreid")
    rng = np.random.default_rng(0)
    samples = []
    for pid in range(6):
        color = rng.integers(0, 256, 3)
        for j in range(6):
            img = np.clip(color + rng.normal(0, 20, (32, 16, 3)), 0, 255).astype(np.uint8)
            img[: 8 + pid * 3] = 255 - img[: 8 + pid * 3]
            p = root / f"{pid}_{j}.png"
            cv2.imwrite(str(p), img)
            samples.append(Sample(str(p), pid, j % 2))
    return samples


def test_two_epochs_reduce_loss_and_resume(tiny_samples: list[Sample], tmp_path: Path) -> None:
    full = train(_tiny_config(2), None, tmp_path / "full", samples=tiny_samples, progress=False)
    assert [e["epoch"] for e in full.epochs] == [1, 2]
    assert full.epochs[1]["loss"] < full.epochs[0]["loss"]
    log = [json.loads(line) for line in (tmp_path / "full" / "log.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in log] == [1, 2] and {"id_loss", "id_acc", "lr", "time_s"} <= set(log[0])

    # stop after epoch 1, resume to 2: continues from the saved epoch and matches the full run
    part = tmp_path / "part"
    train(_tiny_config(1), None, part, samples=tiny_samples, progress=False)
    res = train(_tiny_config(2), None, part, samples=tiny_samples, progress=False, resume=True)
    assert [e["epoch"] for e in res.epochs] == [2]
    assert res.epochs[0]["loss"] == pytest.approx(full.epochs[1]["loss"], rel=1e-4)
    _, meta = load_checkpoint(res.checkpoint)
    assert meta["epoch"] == 2 and meta["num_classes"] == 6
    assert len((part / "log.jsonl").read_text().splitlines()) == 2


def test_init_checkpoint_fine_tunes_on_other_identities(tiny_samples: list[Sample], tmp_path: Path) -> None:
    """Start a run on 4 identities from a 6-identity checkpoint: every shared weight is loaded, the
    classifier (another size) is built afresh, and nothing matching raises."""
    import dataclasses

    from tracker.reid.train.engine import _make_model, init_from_checkpoint

    first = train(_tiny_config(1), None, tmp_path / "a", samples=tiny_samples, progress=False)
    cfg = _tiny_config(1)
    cfg = dataclasses.replace(
        cfg, model=dataclasses.replace(cfg.model, init_checkpoint=str(first.checkpoint))
    )
    model = _make_model(cfg, 4, 0, pretrained=True)
    state, _ = load_checkpoint(first.checkpoint)
    own = model.state_dict()
    for k, v in state["model"].items():
        if k.startswith("classifier"):
            assert own[k].shape != v.shape
        else:
            assert torch.equal(own[k], v), k
    subset = [smp for smp in tiny_samples if smp.pid < 4]
    res = train(cfg, None, tmp_path / "b", samples=subset, progress=False)
    assert res.num_classes == 4 and np.isfinite(res.epochs[0]["loss"])
    other = build_model("bot_r50", 3, width=8)
    with pytest.raises(ValueError, match="no weight matches"):
        init_from_checkpoint(other, first.checkpoint)


def test_export_round_trip(tiny_samples: list[Sample], tmp_path: Path) -> None:
    from tracker.reid import OnnxEmbedder
    from tracker.reid.preprocess import PreprocessSpec

    res = train(_tiny_config(1), None, tmp_path / "run", samples=tiny_samples, progress=False)
    onnx_path = tmp_path / "m.onnx"
    diff = export_checkpoint(res.checkpoint, onnx_path)
    assert diff <= 1e-4
    emb = OnnxEmbedder(onnx_path)
    assert emb.spec_source == "metadata" and emb.spec.input_size == (32, 16) and emb.dim == 16
    img = cv2.imread(tiny_samples[0].path)
    out = emb.embed(img, np.array([[0, 0, 16, 32], [2, 2, 10, 30]], np.float32))
    assert out.shape == (2, 16)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)

    # flip averaging: a crop and its mirror image get the same embedding; extra metadata is kept
    flip_path = tmp_path / "flip.onnx"
    notice = {"license": "CUHK data: non-commercial research only"}
    assert export_checkpoint(res.checkpoint, flip_path, flip_average=True, metadata=notice) <= 1e-4
    sess = ort.InferenceSession(str(flip_path), providers=["CPUExecutionProvider"])
    assert sess.get_modelmeta().custom_metadata_map["license"] == notice["license"]
    with pytest.raises(ValueError, match=r"tracker\.preprocess"):
        export_checkpoint(res.checkpoint, tmp_path / "x.onnx", metadata={"tracker.preprocess": "{}"})
    femb = OnnxEmbedder(flip_path)
    crop = np.ascontiguousarray(img[:, :16])
    a, b = (
        femb.embed(crop, np.array([[0, 0, 16, 32]], np.float32)),
        femb.embed(np.ascontiguousarray(crop[:, ::-1]), np.array([[0, 0, 16, 32]], np.float32)),
    )
    np.testing.assert_allclose(a, b, atol=1e-5)

    model = LightReid(3, embedding_dim=8, width_mult=0.25)
    with pytest.raises(ExportMismatchError):
        export_onnx(model, tmp_path / "x.onnx", (32, 16), PreprocessSpec(input_size=(32, 16)), atol=-1.0)


def test_export_refuses_a_target_that_would_lose_the_checkpoint(
    tiny_samples: list[Sample], tmp_path: Path
) -> None:
    """`reid export --out` naming the checkpoint overwrote it with ONNX (`--resume` then failed), and
    any suffix was written; a bad opset gave torch's traceback. All refused before anything is read."""
    res = train(_tiny_config(1), None, tmp_path / "run", samples=tiny_samples, progress=False)
    ckpt = Path(res.checkpoint)
    before = ckpt.read_bytes()
    with pytest.raises(ValueError, match=r"\.onnx file"):
        export_checkpoint(ckpt, ckpt)
    with pytest.raises(ValueError, match=r"\.onnx file"):
        export_checkpoint(ckpt, tmp_path / "m.pt")
    as_onnx = tmp_path / "state.onnx"  # a checkpoint saved under an .onnx name
    as_onnx.write_bytes(before)
    with pytest.raises(ValueError, match="is the checkpoint being exported"):
        export_checkpoint(as_onnx, tmp_path / "." / "state.onnx")
    for bad in (8, 21, 0):
        with pytest.raises(ValueError, match="--opset"):
            export_checkpoint(ckpt, tmp_path / "m.onnx", opset=bad)
    assert ckpt.read_bytes() == before and as_onnx.read_bytes() == before
    assert not (tmp_path / "m.onnx").exists() and not (tmp_path / "m.pt").exists()
    assert export_checkpoint(ckpt, tmp_path / "upper.ONNX", opset=9) <= 1e-4
    from tracker.reid.train.evaluate import extract_features

    # an upper-case suffix is still an ONNX model to `reid eval` (it was unpickled as a checkpoint)
    assert extract_features(tmp_path / "upper.ONNX", tiny_samples[:2]).shape == (2, 16)


def test_a_new_run_refuses_a_folder_holding_a_checkpoint(tiny_samples: list[Sample], tmp_path: Path) -> None:
    """Training again into a used folder without resume replaced its last.pt and appended a second
    run to its log; now it is refused and both files stay as they were. Resume still continues."""
    out = tmp_path / "run"
    train(_tiny_config(1), None, out, samples=tiny_samples, progress=False)
    ckpt, log = (out / "last.pt").read_bytes(), (out / "log.jsonl").read_text()
    with pytest.raises(ValueError, match=r"already holds a training run.*--resume"):
        train(_tiny_config(1), None, out, samples=tiny_samples, progress=False)
    assert (out / "last.pt").read_bytes() == ckpt and (out / "log.jsonl").read_text() == log
    res = train(_tiny_config(2), None, out, resume=True, samples=tiny_samples, progress=False)
    assert [e["epoch"] for e in res.epochs] == [2]


def test_resume_refuses_another_recipe(tiny_samples: list[Sample], tmp_path: Path) -> None:
    """`--resume` with another config trained on silently, and the exported model then named the
    second config. Only the epochs (and the unused starting weights) may change."""
    out = tmp_path / "run"
    cfg = _tiny_config(1)
    train(cfg, None, out, samples=tiny_samples, progress=False)
    other = dataclasses.replace(cfg, optim=dataclasses.replace(cfg.optim, lr=cfg.optim.lr * 10, epochs=2))
    with pytest.raises(ValueError, match=r"--resume needs the same recipe.*these differ: optim\.lr$"):
        train(other, None, out, resume=True, samples=tiny_samples, progress=False)
    more = dataclasses.replace(cfg, name="renamed", optim=dataclasses.replace(cfg.optim, epochs=2))
    res = train(more, None, out, resume=True, samples=tiny_samples, progress=False)
    assert [e["epoch"] for e in res.epochs] == [2]


def test_eval_checkpoint_on_tiny_split(tiny_samples: list[Sample], tmp_path: Path) -> None:
    from tracker.reid.train.evaluate import extract_features

    res = train(_tiny_config(1), None, tmp_path / "run", samples=tiny_samples, progress=False)
    onnx_path = tmp_path / "m.onnx"
    export_checkpoint(res.checkpoint, onnx_path)
    f_ckpt = extract_features(res.checkpoint, tiny_samples[:4])
    f_onnx = extract_features(onnx_path, tiny_samples[:4])
    norm = np.linalg.norm(f_ckpt, axis=1, keepdims=True)
    np.testing.assert_allclose(f_ckpt / norm, f_onnx, atol=1e-3)


@pytest.mark.data
def test_cuhk01_protocol_counts(data_root: Path) -> None:
    from tracker.reid.train.evaluate import load_protocol

    root = data_root / "reid"
    if not (root / "CUHK01").is_dir():
        pytest.skip("no CUHK01 in shared data")
    query, gallery = load_protocol("cuhk01-test", root)
    assert len(query) == len(gallery) == 972
    assert {s.camid for s in query} == {0} and {s.camid for s in gallery} == {1}
    cfg = dataclasses.replace(ReidTrainConfig())
    assert cfg.data.cuhk01_train_ids == (1, 485)


@pytest.mark.data
def test_mot_thirds_protocol_on_pets09(data_root: Path) -> None:
    """The cross-domain protocol of the ReID issue: 19 queries and 306 gallery crops on PETS09-S2L1."""
    from tracker.reid.train.evaluate import load_protocol

    query, gallery = load_protocol("mot-thirds", data_root / "MOT15" / "train" / "PETS09-S2L1")
    assert (len(query), len(gallery)) == (19, 306)
    assert len({s.pid for s in query}) == 19
    assert {s.camid for s in query} == {0} and {s.camid for s in gallery} == {1}
    assert all(s.box is not None and s.box[3] - s.box[1] >= 20 for s in query + gallery)


def test_export_cli_meta_must_be_key_value(tmp_path: Path) -> None:
    import argparse

    from tracker.reid.train.cli import export_main

    args = argparse.Namespace(
        checkpoint=str(tmp_path / "none.pt"), out=str(tmp_path / "m.onnx"), meta=["foo"]
    )
    with pytest.raises(ValueError, match="KEY=VALUE"):
        export_main(args)
    assert not (tmp_path / "m.onnx").exists()


# ----------------------------------------------------------------------------- signals (issue 12)


def _stoppable_config(epochs: int) -> ReidTrainConfig:
    """The tiny config with 9 batches per epoch (p=2 x k=2 over 6 identities of 6 images) and no
    random augmentation, so that a run stopped mid-epoch and resumed must equal an uninterrupted one."""
    cfg = _tiny_config(epochs)
    return dataclasses.replace(
        cfg,
        data=dataclasses.replace(cfg.data, p=2, k=2),
        augment=dataclasses.replace(cfg.augment, flip_p=0.0, pad=0, erase_p=0.0),
    )


def test_stop_finishes_the_batch_and_resume_continues_mid_epoch(
    tiny_samples: list[Sample], tmp_path: Path
) -> None:
    import signal

    from tracker.signals import GracefulStop

    full = train(_stoppable_config(2), None, tmp_path / "full", samples=tiny_samples, progress=False)
    assert [e["batches"] for e in full.epochs] == [9, 9] and full.exit_status == 0 and full.stopped is None

    part = tmp_path / "part"
    stop = GracefulStop()
    stop.request(signal.SIGTERM)  # as if SIGTERM came during the first batch
    res = train(_stoppable_config(2), None, part, samples=tiny_samples, progress=False, stop=stop)
    assert (res.stopped, res.exit_status) == ("SIGTERM", 143)
    assert len(res.epochs) == 1 and res.epochs[0]["stopped"] == "SIGTERM"
    assert res.epochs[0]["at_batch"] == 1 and res.epochs[0]["batches"] == 1
    _, meta = load_checkpoint(part / "last.pt")
    assert (meta["epoch"], meta["batch"]) == (0, 1)
    assert json.loads((part / "log.jsonl").read_text().splitlines()[-1])["stopped"] == "SIGTERM"

    rest = train(_stoppable_config(2), None, part, samples=tiny_samples, progress=False, resume=True)
    assert rest.exit_status == 0 and [(e["epoch"], e["batches"]) for e in rest.epochs] == [(1, 8), (2, 9)]
    assert rest.epochs[0]["resumed_at_batch"] == 1
    state, meta = load_checkpoint(part / "last.pt")
    assert (meta["epoch"], meta["batch"]) == (2, 0)
    full_state, _ = load_checkpoint(full.checkpoint)
    for k, v in full_state["model"].items():  # same batches, same order, same optimiser state
        torch.testing.assert_close(state["model"][k], v, rtol=1e-5, atol=1e-6, msg=k)
    assert rest.epochs[1]["loss"] == pytest.approx(full.epochs[1]["loss"], rel=1e-4)

    for sig, status in ((signal.SIGINT, 130), (signal.SIGHUP, 129)):
        stop = GracefulStop()
        stop.request(sig)
        r = train(
            _stoppable_config(1), None, tmp_path / sig.name, samples=tiny_samples, progress=False, stop=stop
        )
        assert (r.stopped, r.exit_status) == (sig.name, status)


def test_second_signal_stops_at_once_and_keeps_the_last_checkpoint(
    tiny_samples: list[Sample], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two real SIGTERMs in the 3rd batch of epoch 2: the batch is dropped, last.pt stays the one of
    epoch 1 (whole, no temporary file left) and the status is 143; the handlers are restored."""
    import signal

    from tracker.reid.train import engine

    calls = []
    original = engine._train_batch

    def batch_then_signals(*args: object) -> None:
        calls.append(1)
        if len(calls) == 9 + 3:
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
        original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_train_batch", batch_then_signals)
    before = signal.getsignal(signal.SIGTERM)
    res = train(_stoppable_config(3), None, tmp_path, samples=tiny_samples, progress=False)
    assert (res.stopped, res.exit_status) == ("SIGTERM", 143)
    assert signal.getsignal(signal.SIGTERM) is before
    assert [e["epoch"] for e in res.epochs] == [1]
    _, meta = load_checkpoint(tmp_path / "last.pt")
    assert (meta["epoch"], meta["batch"]) == (1, 0)
    assert not list(tmp_path.glob("*.part"))  # the checkpoint was written whole, then renamed


def _market_from(samples: list[Sample], root: Path) -> Path:
    """The tiny samples as a Market-1501 folder (for the command line)."""
    for split in ("bounding_box_train", "query", "bounding_box_test"):
        (root / split).mkdir(parents=True)
    for j, s in enumerate(samples):
        img = cv2.imread(s.path)
        name = f"{s.pid + 1:04d}_c{s.camid + 1}s1_{j:06d}_01.jpg"
        cv2.imwrite(str(root / "bounding_box_train" / name), img)
    cv2.imwrite(str(root / "query" / "0099_c1s1_000001_01.jpg"), img)
    cv2.imwrite(str(root / "bounding_box_test" / "0099_c2s1_000002_01.jpg"), img)
    return root


_TRAIN_WITH_BATCH_LOG = (
    "import logging, sys\n"
    "logging.basicConfig(level=logging.WARNING, format='%(levelname)s %(name)s: %(message)s')\n"
    "logging.getLogger('tracker.reid.train.engine').setLevel(logging.DEBUG)\n"
    "from tracker.__main__ import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def test_sigterm_to_reid_train_process_group(tiny_samples: list[Sample], tmp_path: Path) -> None:
    """The command line, a real SIGTERM to the whole process group (as Ctrl-C or systemd send it) after
    the first batch, with a DataLoader worker: exit status 143, 'stopped' logged, a loadable last.pt
    that --resume continues from."""
    import signal
    import subprocess
    import sys

    from tracker.__main__ import main

    data = _market_from(tiny_samples, tmp_path / "market")
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(
        "name: tiny\nseed: 0\n"
        "model: {arch: mobilenetv2, input_size: [32, 16], embedding_dim: 16, width_mult: 0.25}\n"
        "data: {datasets: [market1501], p: 2, k: 2, num_workers: 1}\n"
        "augment: {flip_p: 0.5, pad: 2, erase_p: 0.0}\n"
        "loss: {triplet_weight: 0.0}\n"
        "optim: {lr: 0.01, weight_decay: 0.0, epochs: 200, warmup_epochs: 0, milestones: []}\n"
    )
    out = tmp_path / "run"
    args = ["reid", "train", "--config", str(cfg), "--data", str(data), "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(
        [sys.executable, "-u", "-c", _TRAIN_WITH_BATCH_LOG, *args],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if "batch 1/" in line:
                os.killpg(proc.pid, signal.SIGTERM)
                break
        else:
            pytest.fail("training ended before its first batch:\n" + "".join(seen))
        _, rest = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    err = "".join(seen) + rest
    assert proc.returncode == 143, err
    assert "stopped by SIGTERM" in err and "Traceback" not in err
    _, meta = load_checkpoint(out / "last.pt")
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert log[-1]["stopped"] == "SIGTERM" and log[-1]["at_batch"] == meta["batch"] >= 1
    assert meta["epoch"] == log[-1]["epoch"] - 1 < 200

    # --resume continues with the next batch of that epoch and finishes it
    assert main([*args, "--resume", "--epochs", str(meta["epoch"] + 1)]) == 0
    _, after = load_checkpoint(out / "last.pt")
    assert (after["epoch"], after["batch"]) == (meta["epoch"] + 1, 0)
    last = json.loads((out / "log.jsonl").read_text().splitlines()[-1])
    assert last["resumed_at_batch"] == meta["batch"] and "stopped" not in last


# ----------------------------------------------------------------------------- domain generalisation


def test_colour_transforms_keep_pixels_valid_and_seeded() -> None:
    from tracker.reid.train.transforms import IMAGENET_MEAN, IMAGENET_STD, ColorJitter, RandomGrayscale

    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    px = torch.rand(3, 16, 8, generator=torch.Generator().manual_seed(0))
    x = (px - mean) / std
    torch.testing.assert_close(ColorJitter(0.0)(x), x, atol=1e-6, rtol=0)  # factor 1: unchanged
    for _ in range(20):
        y = ColorJitter(0.5, rng=np.random.default_rng(1))(x) * std + mean
        assert float(y.min()) >= -1e-6 and float(y.max()) <= 1 + 1e-6
    g = RandomGrayscale(1.0)(x) * std + mean
    torch.testing.assert_close(g[0], g[1]) and torch.testing.assert_close(g[1], g[2])
    torch.testing.assert_close(g[0], 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2], atol=1e-6, rtol=0)
    assert torch.equal(RandomGrayscale(0.0)(x), x)
    with pytest.raises(ValueError, match="strength"):
        ColorJitter(1.0)
    with pytest.raises(ValueError, match="p must be in"):
        RandomGrayscale(1.5)

    # with the colour steps off, the random streams are exactly the baseline's three
    seq = np.random.SeedSequence(7)
    r = [np.random.default_rng(s) for s in seq.spawn(3)]
    base = [RandomHorizontalFlip(0.5, r[0]), PadCrop(4, r[1]), RandomErasing(0.5, rng=r[2])]
    off = build_train_transform(0.5, 4, 0.5, seed=7)
    on_a = build_train_transform(0.5, 4, 0.5, seed=7, color_jitter=0.3, gray_p=0.5)
    on_b = build_train_transform(0.5, 4, 0.5, seed=7, color_jitter=0.3, gray_p=0.5)
    for _ in range(6):
        want = x
        for t in base:
            want = t(want)
        assert torch.equal(off(x), want)
        assert torch.equal(on_a(x), on_b(x))
    assert len(on_a.transforms) == 5 and len(off.transforms) == 3


def _assert_same_draws(
    make: Callable[[np.random.Generator], Callable[[torch.Tensor], torch.Tensor]], x: torch.Tensor
) -> None:
    """Two transforms made by ``make`` from equally seeded generators give the same images, call for
    call, and do not all give ``x`` back (p < 1: some calls change it, some may not)."""
    a, b = make(np.random.default_rng(3)), make(np.random.default_rng(3))
    outs = [a(x) for _ in range(8)]
    assert all(torch.equal(o, b(x)) for o in outs)
    assert any(not torch.equal(o, x) for o in outs)


def test_random_downscale_blurs_like_a_small_view_keeps_the_size_and_is_seeded() -> None:
    from tracker.reid.train.config import reid_config_from_dict
    from tracker.reid.train.transforms import Compose, RandomDownscale

    # a one-pixel checkerboard: any shrink averages it away, so the result is the grey mean
    board = torch.zeros(3, 32, 16)
    board[:, ::2, ::2] = 1.0
    board[:, 1::2, 1::2] = 1.0
    always = RandomDownscale(1.0, 0.5, rng=np.random.default_rng(0))
    for _ in range(5):
        y = always(board)
        assert y.shape == board.shape
        assert float(y.std()) < 0.5 * float(board.std())  # the fine pattern is gone, the mean kept
        assert float(y.mean()) == pytest.approx(float(board.mean()), abs=0.05)
    # an image already smooth (a horizontal ramp) survives the round trip closely
    ramp = torch.linspace(0, 1, 16).expand(3, 32, 16).contiguous()
    torch.testing.assert_close(
        RandomDownscale(1.0, 0.5, rng=np.random.default_rng(1))(ramp), ramp, atol=0.05, rtol=0
    )
    assert torch.equal(RandomDownscale(0.0, 0.5)(board), board)
    assert torch.equal(RandomDownscale(1.0, 1.0)(board), board)  # scale 1: nothing to do
    _assert_same_draws(lambda rng: RandomDownscale(0.5, 0.25, rng=rng), board)
    with pytest.raises(ValueError, match="min_scale"):
        RandomDownscale(0.5, 0.0)
    with pytest.raises(ValueError, match="p must be in"):
        RandomDownscale(1.5, 0.5)
    # in the pipeline it comes first and draws from its own stream: the other steps are unchanged
    off = build_train_transform(0.5, 4, 0.5, seed=7)
    on = build_train_transform(0.5, 4, 0.5, seed=7, downscale_p=0.5)
    assert len(on.transforms) == 4 and isinstance(on.transforms[0], RandomDownscale)
    for _ in range(4):
        assert torch.equal(Compose(on.transforms[1:])(board), off(board))
    with pytest.raises(ValueError, match=r"augment\.downscale_min"):
        reid_config_from_dict({"augment": {"downscale_p": 0.5, "downscale_min": 0.0}})


def test_random_truncate_keeps_one_side_of_the_width_stretched_back_and_is_seeded() -> None:
    from tracker.reid.train.config import reid_config_from_dict
    from tracker.reid.train.transforms import Compose, RandomTruncate

    # columns numbered 0..15: a truncated image shows only the columns of one side, stretched
    cols = torch.arange(16, dtype=torch.float32).expand(3, 32, 16).contiguous()
    always = RandomTruncate(1.0, 0.5, rng=np.random.default_rng(0))
    sides = set()
    for _ in range(40):
        y = always(cols)
        assert y.shape == cols.shape
        lo, hi = float(y.min()), float(y.max())
        kept = hi - lo + 1  # the columns left, at most 16, at least 8
        assert 7.5 <= kept <= 16.0
        if kept < 15.5:  # a visible cut: one side is gone, the other edge is where it was
            assert lo == 0.0 or hi == 15.0
            sides.add("left" if lo == 0.0 else "right")
        assert torch.all(y[:, :, 1:] >= y[:, :, :-1])  # order kept: stretched, not shuffled
        assert torch.equal(y[0], y[1]) and torch.equal(y[:, 0], y[:, 31])  # per column only
    assert sides == {"left", "right"}
    assert torch.equal(RandomTruncate(0.0, 0.5)(cols), cols)
    assert torch.equal(RandomTruncate(1.0, 1.0)(cols), cols)  # keep all: nothing to do
    _assert_same_draws(lambda rng: RandomTruncate(0.5, 0.5, rng=rng), cols)
    with pytest.raises(ValueError, match="min_keep"):
        RandomTruncate(0.5, 0.0)
    with pytest.raises(ValueError, match="p must be in"):
        RandomTruncate(-0.1, 0.5)
    # in the pipeline it comes first and draws from its own stream: the other steps are unchanged
    off = build_train_transform(0.5, 4, 0.5, seed=7, downscale_p=0.5)
    on = build_train_transform(0.5, 4, 0.5, seed=7, downscale_p=0.5, truncate_p=0.5)
    assert len(on.transforms) == len(off.transforms) + 1 and isinstance(on.transforms[0], RandomTruncate)
    for _ in range(4):
        assert torch.equal(Compose(on.transforms[1:])(cols), off(cols))
    with pytest.raises(ValueError, match=r"augment\.truncate_min"):
        reid_config_from_dict({"augment": {"truncate_p": 0.5, "truncate_min": 1.5}})
    with pytest.raises(ValueError, match=r"augment\.truncate_p"):
        reid_config_from_dict({"augment": {"truncate_p": 2.0}})


def test_augmix_keeps_the_image_mixes_chains_and_is_seeded() -> None:
    from tracker.reid.train.config import reid_config_from_dict
    from tracker.reid.train.transforms import AugMix, Compose, _equalize

    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 32, 16, generator=g).clamp(-2.0, 2.0)
    # p = 0: the image itself; p = 1: a new image of the same size, in the valid pixel range
    assert torch.equal(AugMix(0.0)(x), x)
    a = AugMix(1.0, rng=np.random.default_rng(4))
    px = a.px
    outs = [a(x) for _ in range(6)]
    for y in outs:
        assert y.shape == x.shape and torch.isfinite(y).all()
        y01 = px.to01(y)
        assert float(y01.min()) >= -1e-5 and float(y01.max()) <= 1 + 1e-5
    assert any(not torch.allclose(y, x, atol=1e-3) for y in outs)
    # a blend with the original: on average still close to it (more than a random other image)
    other = torch.randn(3, 32, 16, generator=g).clamp(-2.0, 2.0)
    err = sum(float((y - px.back(px.to01(x))).abs().mean()) for y in outs) / len(outs)
    assert err < float((other - x).abs().mean())
    # seeded: the same generator seed gives the same images
    b, c = AugMix(1.0, rng=np.random.default_rng(9)), AugMix(1.0, rng=np.random.default_rng(9))
    for _ in range(4):
        assert torch.equal(b(x), c(x))
    # equalisation spreads a narrow histogram over the whole range, keeping the order of the pixels
    narrow = torch.linspace(0.4, 0.5, 3 * 8 * 4).reshape(3, 8, 4)
    eq = _equalize(narrow)
    assert float(eq.min()) == 0.0 and float(eq.max()) == 1.0
    assert bool((eq.flatten(1).diff(dim=1) >= 0).all())
    with pytest.raises(ValueError, match="p must be in"):
        AugMix(1.5)
    with pytest.raises(ValueError, match="severity"):
        AugMix(0.5, severity=0)
    # in the pipeline it comes last of the colour steps and draws from its own stream
    off = build_train_transform(0.5, 4, 0.5, seed=7, color_jitter=0.3)
    on = build_train_transform(0.5, 4, 0.5, seed=7, color_jitter=0.3, augmix_p=1.0)
    assert len(on.transforms) == len(off.transforms) + 1 and isinstance(on.transforms[1], AugMix)
    without_augmix = Compose([on.transforms[0], *on.transforms[2:]])
    for _ in range(4):
        assert torch.equal(without_augmix(x), off(x))
    with pytest.raises(ValueError, match=r"augment\.augmix_p"):
        reid_config_from_dict({"augment": {"augmix_p": 2.0}})


def test_similarity_distillation_loss_by_hand() -> None:
    from tracker.reid.train.distill import similarity_distillation_loss

    g = torch.Generator().manual_seed(0)
    t = torch.randn(6, 5, generator=g)
    q, _ = torch.linalg.qr(torch.randn(5, 5, generator=g))
    # the same structure in another basis, at another scale, in more dimensions: nothing to learn
    same = torch.cat([3.0 * t @ q, torch.zeros(6, 2)], dim=1)
    assert float(similarity_distillation_loss(same, t)) == pytest.approx(0.0, abs=1e-6)

    def ref(a: np.ndarray, b: np.ndarray) -> float:  # numpy, step by step
        def sim(e: np.ndarray) -> np.ndarray:
            u = e / np.linalg.norm(e, axis=1, keepdims=True)
            c = u - u.mean(axis=0)
            c /= np.linalg.norm(c, axis=1, keepdims=True)
            return c @ c.T

        d = sim(a) - sim(b)
        return float((d[~np.eye(len(a), dtype=bool)] ** 2).mean())

    s = torch.randn(6, 3, generator=g, requires_grad=True)
    loss = similarity_distillation_loss(s, t)
    assert float(loss.detach()) == pytest.approx(
        ref(s.detach().numpy().astype(np.float64), t.numpy()), rel=1e-5
    )
    assert float(loss.detach()) > 0.05
    loss.backward()
    assert s.grad is not None and float(s.grad.abs().sum()) > 0
    with pytest.raises(ValueError, match="batch sizes"):
        similarity_distillation_loss(s[:2], t)


def _tiny_export(tiny_samples: list[Sample], out: Path) -> Path:
    res = train(_tiny_config(1), None, out / "run", samples=tiny_samples, progress=False)
    onnx_path = out / "tiny.onnx"
    export_checkpoint(res.checkpoint, onnx_path)
    return onnx_path


def test_teacher_sees_the_training_pixels(tiny_samples: list[Sample], tmp_path: Path) -> None:
    from tracker.reid import OnnxEmbedder
    from tracker.reid.preprocess import PreprocessSpec
    from tracker.reid.train.distill import Teacher

    onnx_path = _tiny_export(tiny_samples, tmp_path)
    teacher = Teacher(onnx_path, PreprocessSpec(input_size=(32, 16)))
    ds = ImageDataset(tiny_samples[:3], (32, 16))
    images = torch.stack([ds[i][0] for i in range(3)])
    px = teacher.pixels(images)
    originals = np.stack([cv2.imread(s.path) for s in tiny_samples[:3]])
    assert px.dtype == np.uint8 and px.shape == (3, 32, 16, 3)
    assert int(np.abs(px.astype(int) - originals).max()) <= 1  # BGR again, rounding only
    emb = OnnxEmbedder(onnx_path)
    want = np.concatenate([emb.embed(o, np.array([[0, 0, 16, 32]], np.float32)) for o in originals])
    np.testing.assert_allclose(teacher.embed(images).numpy(), want, atol=1e-3)


def test_recover_a_folded_export_and_train_from_it(tiny_samples: list[Sample], tmp_path: Path) -> None:
    """An export (BatchNorm folded) back to a trainable model: eval output equals ONNX Runtime's before
    and after calibration, the running statistics are the measured ones, and in train mode the batch
    statistics of the calibration images reproduce the eval output."""
    from tracker.reid.train.engine import _make_model
    from tracker.reid.train.recover import calibrate, load_folded

    onnx_path = _tiny_export(tiny_samples, tmp_path)
    cfg = _tiny_config(1)
    model = _make_model(cfg, 1, 0, pretrained=False)
    assert isinstance(model, LightReid)
    load_folded(model, onnx_path)
    ds = ImageDataset(tiny_samples, (32, 16))
    images = torch.stack([ds[i][0] for i in range(len(ds))])
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    ref = sess.run(None, {sess.get_inputs()[0].name: images.numpy()})[0]
    model.eval()
    with torch.no_grad():
        np.testing.assert_allclose(model(images).numpy(), ref, atol=1e-4)
        first_conv = model.backbone.features[0][0]
        z = first_conv(images)
        calibrate(model, images)
        np.testing.assert_allclose(model(images).numpy(), ref, atol=1e-4)
        bn = model.backbone.features[0][1]
        torch.testing.assert_close(bn.running_mean, z.mean(dim=(0, 2, 3)), atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(bn.running_var, z.var(dim=(0, 2, 3), unbiased=False), atol=1e-5, rtol=1e-4)
        f_eval = model.reduce(model.backbone(images).mean(dim=(2, 3)))
        model.train()
        f_train = model.reduce(model.backbone(images).mean(dim=(2, 3)))
    torch.testing.assert_close(f_train, f_eval, atol=2e-3, rtol=1e-3)
    with pytest.raises(ValueError, match=r"tiny\.onnx: .*weight \(8, 3, 3, 3\) != \(16, 3, 3, 3\)"):
        load_folded(
            _make_model(
                dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, width_mult=0.5)), 1, 0, False
            ),
            onnx_path,
        )


def test_train_with_colour_augmentation_and_distillation(tiny_samples: list[Sample], tmp_path: Path) -> None:
    onnx_path = _tiny_export(tiny_samples, tmp_path)
    cfg = _tiny_config(1)
    cfg = dataclasses.replace(
        cfg,
        augment=dataclasses.replace(cfg.augment, color_jitter=0.3, gray_p=0.5),
        loss=dataclasses.replace(cfg.loss, distill_teacher=str(onnx_path), distill_weight=5.0),
    )
    res = train(cfg, None, tmp_path / "kd", samples=tiny_samples, progress=False)
    entry = res.epochs[0]
    assert math.isfinite(entry["distill_loss"]) and entry["distill_loss"] >= 0
    assert entry["loss"] == pytest.approx(entry["id_loss"] + 5.0 * entry["distill_loss"], rel=1e-3)
    for bad, what in (
        ({"loss": {"distill_weight": 1.0}}, "go together"),
        ({"loss": {"distill_teacher": "t.onnx"}}, "go together"),
        ({"augment": {"color_jitter": 1.0}}, "color_jitter"),
        ({"augment": {"gray_p": 2.0}}, "gray_p"),
    ):
        with pytest.raises(ValueError, match=what):
            reid_config_from_dict(bad)


def test_checkpoint_soup_is_the_weighted_mean_and_evaluates(
    tiny_samples: list[Sample], tmp_path: Path
) -> None:
    """The weighted mean of two runs' weights (BatchNorm statistics included), the classifier of other
    identities taken from the first; the result loads, exports and embeds like any checkpoint."""
    import dataclasses

    from tracker.reid.train.soup import average_checkpoints

    a = train(_tiny_config(1), None, tmp_path / "a", samples=tiny_samples, progress=False).checkpoint
    cfg = dataclasses.replace(_tiny_config(1), seed=7)
    b = train(
        cfg, None, tmp_path / "b", samples=[s for s in tiny_samples if s.pid < 4], progress=False
    ).checkpoint
    (sa, meta_a), (sb, _) = load_checkpoint(a), load_checkpoint(b)
    averaged, kept = average_checkpoints([(a, 3.0), (b, 1.0)], tmp_path / "soup.pt")
    soup, meta = load_checkpoint(tmp_path / "soup.pt")
    assert meta == meta_a and averaged + kept == len(sa["model"]) and kept >= 2
    for name, t in soup["model"].items():
        ta, tb = sa["model"][name], sb["model"][name]
        if name.startswith("classifier") or not t.is_floating_point():
            assert torch.equal(t, ta), name  # another size, or a counter: the first one's
        else:
            expected = (0.75 * ta.double() + 0.25 * tb.double()).to(t.dtype)
            assert torch.equal(t, expected), name
    assert any("running_mean" in n for n in soup["model"])
    average_checkpoints([(a, 1.0), (b, 0.0)], tmp_path / "same.pt")
    same, _ = load_checkpoint(tmp_path / "same.pt")
    assert all(torch.equal(same["model"][n], sa["model"][n]) for n in sa["model"])
    assert export_checkpoint(tmp_path / "soup.pt", tmp_path / "soup.onnx") <= 1e-4
    for bad, match in (([], "no checkpoint"), ([(a, -1.0)], "weight must be >= 0"), ([(a, 0.0)], "sum to 0")):
        with pytest.raises(ValueError, match=match):
            average_checkpoints(bad, tmp_path / "x.pt")
    # a body tensor of another shape (another embedding size) is two models, not one: refused
    wide = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, embedding_dim=8))
    c = train(wide, None, tmp_path / "c", samples=tiny_samples, progress=False).checkpoint
    with pytest.raises(ValueError, match=r"c/last\.pt: tensor '.*' is \("):
        average_checkpoints([(a, 1.0), (c, 1.0)], tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()


def test_ibn_normalises_half_the_channels_per_image_and_loads_batchnorm_weights() -> None:
    """IBN-a: the first half of the channels is normalised per image (an image's own contrast and
    colour offset vanish there), the second half per batch as before; a plain BatchNorm's tensors load
    into it unchanged, and ``use_ibn`` swaps the early blocks' first BatchNorm keeping its weights."""
    from tracker.reid.train.models import IBN, use_ibn

    torch.manual_seed(0)
    bn = torch.nn.BatchNorm2d(8)
    bn.weight.data.uniform_(0.5, 1.5)
    bn.bias.data.uniform_(-0.5, 0.5)
    ibn = IBN(8)
    ibn.load_state_dict(bn.state_dict())
    ibn.train()
    x = torch.randn(4, 8, 6, 5)
    y = ibn(x)
    # the same image brighter and with more contrast: the instance half does not move
    y2 = ibn(torch.cat([x[:1] * 3.0 + 2.0, x[1:]]))
    torch.testing.assert_close(y2[:1, :4], y[:1, :4], atol=1e-4, rtol=1e-4)
    assert not torch.allclose(y2[:1, 4:], y[:1, 4:], atol=1e-2)
    bn.train()
    torch.testing.assert_close(y[:, 4:], bn(x)[:, 4:])  # the batch half is the BatchNorm's
    model = LightReid(3, embedding_dim=8, width_mult=0.25)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    use_ibn(model.backbone, 6)
    after = model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    kinds = [type(b.conv[1]).__name__ for b in list(model.backbone.features)[1:9]]
    assert kinds == ["IBN"] * 6 + ["BatchNorm2d"] * 2
    with pytest.raises(ValueError, match="ibn_blocks"):
        use_ibn(model.backbone, 18)


def test_gem_pools_between_average_and_max_and_ibn_gem_export_to_onnx(tmp_path: Path) -> None:
    from tracker.reid.preprocess import PreprocessSpec
    from tracker.reid.train.models import GeM

    x = torch.rand(2, 3, 4, 4) + 0.01
    gem = GeM(p=1.0)
    torch.testing.assert_close(gem(x), x.mean(dim=(2, 3)))
    gem.p.data.fill_(50.0)
    assert torch.all(gem(x) <= x.amax(dim=(2, 3)) + 1e-5) and torch.all(gem(x) > x.mean(dim=(2, 3)))
    model = build_model("mobilenetv2", 3, embedding_dim=8, width_mult=0.25, ibn_blocks=4, pooling="gem")
    model.eval()
    diff = export_onnx(model, tmp_path / "m.onnx", (32, 16), PreprocessSpec(input_size=(32, 16)))
    assert diff <= 1e-4
    with pytest.raises(ValueError, match="light model"):
        build_model("mgn_mobilenetv2", 3, ibn_blocks=2)
    with pytest.raises(ValueError, match="pooling"):
        reid_config_from_dict({"model": {"pooling": "max"}})
    with pytest.raises(ValueError, match="ibn_blocks"):
        reid_config_from_dict({"model": {"arch": "bot_r50", "ibn_blocks": 3}})
