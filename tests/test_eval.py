"""Scoring: motmetrics compatibility, MOTChallenge preprocessing, CLEAR/identity metrics and HOTA.

Reference values come from the libraries themselves:

* motmetrics 1.4.0 publishes the CLEAR/identity scores of its bundled TUD-Campus and TUD-Stadtmitte
  files in ``motmetrics/tests/test_metrics.py::test_motchallenge_files`` (the same numbers are in its
  README, "MOTChallenge compatibility", where they agree with the MOTChallenge matlab devkit);
* HOTA is checked against trackeval's own end-to-end evaluator (``trackeval.Evaluator`` with the
  ``MotChallenge2DBox`` dataset reading files) run in the test on the same files;
* the MOT17 preprocessing (distractor classes) is checked against motmetrics' port of the devkit,
  ``motmetrics.utils.CLEAR_MOT_M`` (which calls ``preprocess.preprocessResult``), and against
  trackeval's ``MotChallenge2DBox`` preprocessing.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tracker.eval import (
    OVERALL,
    ScoreTable,
    box_iou,
    evaluate,
    hota_sequence,
    import_motmetrics,
    preprocess_frame,
)
from tracker.io import (
    GtFrame,
    MotGroundTruth,
    MotResults,
    ResultFrame,
    read_ground_truth,
    read_results,
)

MM = import_motmetrics()
MM_DATA = Path(os.path.dirname(MM.__file__)) / "data"
REPO = Path(__file__).resolve().parents[1]

# motmetrics 1.4.0, motmetrics/tests/test_metrics.py::test_motchallenge_files: columns are
# mm.metrics.motchallenge_metrics[:15] = idf1, idp, idr, recall, precision, num_unique_objects,
# mostly_tracked, partially_tracked, mostly_lost, num_false_positives, num_misses, num_switches,
# num_fragmentations, mota, motp (motmetrics' motp = mean 1 - IoU).
# fmt: off
MM_PUBLISHED = {
    "TUD-Campus": [0.557659, 0.729730, 0.451253, 0.582173, 0.941441, 8, 1, 6, 1, 13, 150, 7, 7, 0.526462, 0.277201],
    "TUD-Stadtmitte": [0.644619, 0.819760, 0.531142, 0.608997, 0.939920, 10, 5, 4, 1, 45, 452, 7, 6, 0.564014,
                       0.345904],
    OVERALL: [0.624296, 0.799176, 0.512211, 0.602640, 0.940268, 18, 6, 10, 2, 58, 602, 14, 13, 0.555116, 0.330177],
}
OUR_FIELDS = ["idf1", "idp", "idr", "recall", "precision", "num_unique_objects", "mostly_tracked",
              "partially_tracked", "mostly_lost", "num_false_positives", "num_misses", "num_switches",
              "num_fragmentations", "mota"]
# fmt: on


def _gt(
    ids: list[int],
    boxes: list[list[float]],
    classes: list[int] | None = None,
    consider: list[int] | None = None,
) -> GtFrame:
    n = len(ids)
    return GtFrame(
        np.array(ids, np.int64),
        np.array(boxes, np.float32).reshape(n, 4),
        np.array([1] * n if consider is None else consider, bool),
        np.array([1] * n if classes is None else classes, np.int64),
        np.ones(n, np.float32),
    )


def _res(ids: list[int], boxes: list[list[float]]) -> ResultFrame:
    n = len(ids)
    return ResultFrame(
        np.array(ids, np.int64), np.array(boxes, np.float32).reshape(n, 4), np.ones(n, np.float32)
    )


def _tud_pairs() -> dict[str, tuple[MotGroundTruth, MotResults]]:
    return {
        name: (read_ground_truth(MM_DATA / name / "gt.txt"), read_results(MM_DATA / name / "test.txt"))
        for name in ("TUD-Campus", "TUD-Stadtmitte")
    }


# ---------------------------------------------------------------------------------------------------
# NumPy 2 / pandas 3 shims


def test_motmetrics_shim_installed_and_runs() -> None:
    assert hasattr(np, "asfarray")
    a = np.asfarray([1, 2])  # noqa: NPY201
    assert a.dtype == np.float64
    assert np.asfarray([1, 2], dtype=np.float32).dtype == np.float32  # noqa: NPY201
    assert np.asfarray([1, 2], dtype=int).dtype == np.float64  # noqa: NPY201  (as NumPy 1 did)
    # iou_matrix is the motmetrics function that calls np.asfarray
    d = MM.distances.iou_matrix([[0, 0, 10, 10]], [[0, 0, 10, 5], [50, 50, 1, 1]], max_iou=0.5)
    np.testing.assert_allclose(d, [[0.5, np.nan]])
    acc = MM.MOTAccumulator(auto_id=True)
    acc.update([1, 2], [1], [[0.1], [np.nan]])
    acc.update([1, 2], [1, 2], [[0.1, np.nan], [np.nan, 0.2]])
    summary = MM.metrics.create().compute(acc, metrics=["mota", "num_misses"], name="x")
    assert summary.loc["x", "num_misses"] == 1
    assert summary.loc["x", "mota"] == pytest.approx(0.75)
    assert import_motmetrics() is MM  # idempotent


def test_merge_event_dataframes_works_on_pandas_3() -> None:
    # DataFrame.append (removed in pandas 2) replaced; expectations of motmetrics' test_merge_dataframes
    acc = MM.MOTAccumulator()
    acc.update([], [1, 2], [], frameid=0)
    acc.update([1, 2], [], [], frameid=1)
    acc.update([1, 2], [1, 2], [[1, 0.5], [0.3, 1]], frameid=2)
    acc.update([1, 2], [1, 2], [[0.2, np.nan], [np.nan, 0.1]], frameid=3)
    merged, maps = MM.MOTAccumulator.merge_event_dataframes([acc.events, acc], return_mappings=True)
    assert len(merged) == 2 * len(acc.events)
    assert merged.index.get_level_values(0).unique().tolist() == list(range(8))
    assert maps[1]["frame_offset"] == 4
    assert maps[0]["oid_map"] == {1.0: "0", 2.0: "1"} and maps[1]["hid_map"] == {1.0: "2", 2.0: "3"}
    second = merged.loc[6]
    assert second["Type"].tolist()[-2:] == ["MATCH", "MATCH"]
    assert second["OId"].tolist()[-2:] == ["2", "3"] and second["HId"].tolist()[-2:] == ["3", "2"]


# ---------------------------------------------------------------------------------------------------
# Published motmetrics numbers (MOT15 files, no classes)


def test_reproduces_motmetrics_published_tud_scores() -> None:
    table = evaluate(_tud_pairs())
    assert list(table.sequences) == ["TUD-Campus", "TUD-Stadtmitte"]
    for name, expected in MM_PUBLISHED.items():
        row = table.sequences.get(name, table.overall)
        assert row.name == name
        ours = [getattr(row, f) for f in OUR_FIELDS] + [1.0 - row.motp]
        np.testing.assert_allclose(ours, expected, atol=1e-3, err_msg=name)
    # our MOTP is the devkit's: mean IoU (README: "MOTP 72.3" for TUD-Campus)
    assert table.sequences["TUD-Campus"].motp == pytest.approx(0.723, abs=1e-3)
    assert table.sequences["TUD-Campus"].num_frames == 71
    assert table.overall.num_frames == 71 + 179
    assert table.overall.num_ignored == 0


# ---------------------------------------------------------------------------------------------------
# MOT17 preprocessing on hand-built frames


def test_distractor_is_not_fp_car_is_fp_and_consider0_is_not_fn() -> None:
    gt = _gt(
        ids=[1, 2, 3, 4],
        boxes=[[0, 0, 10, 20], [100, 0, 110, 20], [200, 0, 240, 20], [300, 0, 310, 20]],
        classes=[1, 7, 3, 1],  # pedestrian, static person, car, pedestrian
        consider=[1, 0, 0, 0],  # the last pedestrian is marked "do not consider"
    )
    res = _res([11, 12, 13], [[0, 0, 10, 20], [100, 0, 110, 19], [200, 0, 240, 20]])
    f = preprocess_frame(1, gt, res)
    np.testing.assert_array_equal(f.gt_ids, [1])
    np.testing.assert_array_equal(f.tracker_ids, [11, 13])  # the box on the static person is dropped
    assert f.num_ignored == 1 and f.iou.shape == (1, 2)

    row = evaluate({"s": (MotGroundTruth({1: gt}, True), MotResults({1: res}))}).sequences["s"]
    assert row.num_false_positives == 1  # the box on the car
    assert row.num_misses == 0  # consider=0 pedestrian is not a target
    assert row.num_objects == 1 and row.num_predictions == 2 and row.num_ignored == 1
    assert row.mota == pytest.approx(0.0)  # 1 - (0 FN + 1 FP + 0 IDSW) / 1


def test_preprocessing_follows_devkit_details() -> None:
    gt = _gt(ids=[1, 2], boxes=[[0, 0, 10, 20], [100, 0, 110, 20]], classes=[8, 1], consider=[0, 0])
    # two boxes on one distractor: one-to-one matching drops only one; IoU 0.45 with a distractor is
    # no match; a box on a consider=0 pedestrian is not dropped (the devkit only drops distractors)
    res = _res([1, 2, 3, 4], [[0, 0, 10, 20], [0, 0, 10, 19], [0, 0, 9, 10], [100, 0, 110, 20]])
    assert box_iou(gt.boxes[:1], res.boxes[2:3])[0, 0] == pytest.approx(0.45)
    f = preprocess_frame(1, gt, res)
    np.testing.assert_array_equal(f.tracker_ids, [2, 3, 4])
    assert len(f.gt_ids) == 0
    # MOT15 ground truth (no classes: every row class 1): nothing is dropped
    gt15 = _gt(ids=[1], boxes=[[0, 0, 10, 20]], consider=[1])
    f15 = preprocess_frame(1, gt15, _res([5, 6], [[0, 0, 10, 20], [50, 50, 60, 60]]))
    assert f15.num_ignored == 0 and len(f15.tracker_ids) == 2


def test_box_iou() -> None:
    iou = box_iou([[0, 0, 10, 10], [0, 0, 0, 10]], [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    np.testing.assert_allclose(iou, [[1, 1 / 3, 0], [0, 0, 0]])
    assert box_iou(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)


def _old_box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The scorer's own IoU before it used tracker.geometry (areas clipped at 0, 0 where no union)."""
    iw = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    ih = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    out = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=(inter > 0) & (union > 0))
    return out


@pytest.mark.parametrize("n", [7, 90])  # 90 x 90 pairs take geometry's sweep path
def test_box_iou_is_geometry_iou_and_equals_the_old_scorer_iou(n: int) -> None:
    """One IoU in the package (issue 11 item 4): the scorer's box_iou is tracker.geometry.iou_matrix,
    and on result-file boxes (float32 from 2-decimal text, some with w <= 0 or h <= 0) it gives the
    values the scorer's own formula gave."""
    from tracker.geometry import SPARSE_IOU_MIN_PAIRS, iou_matrix

    rng = np.random.default_rng(n)
    xy = rng.uniform(0, 200, (2, n, 2)).round(2)
    wh = rng.uniform(-5, 60, (2, n, 2)).round(2)  # about 8 % of the sides are <= 0
    wh[:, :3] = [[0, 10], [-3, 4], [5, 0]]
    a, b = (np.concatenate([xy[i], xy[i] + wh[i]], 1).astype(np.float32).astype(np.float64) for i in (0, 1))
    assert (n * n >= SPARSE_IOU_MIN_PAIRS) == (n == 90)
    got = box_iou(a, b)
    np.testing.assert_array_equal(got, iou_matrix(a, b))
    np.testing.assert_allclose(got, _old_box_iou(a, b), rtol=1e-12, atol=0)


# ---------------------------------------------------------------------------------------------------
# HOTA


def _sequence(frames: dict[int, tuple[GtFrame, ResultFrame]]) -> tuple[MotGroundTruth, MotResults]:
    return (
        MotGroundTruth({t: g for t, (g, _) in frames.items()}, True),
        MotResults({t: r for t, (_, r) in frames.items()}),
    )


def test_perfect_tracker_scores_one() -> None:
    gt = read_ground_truth(MM_DATA / "TUD-Campus" / "gt.txt")
    perfect = MotResults(
        {t: ResultFrame(f.ids, f.boxes, np.ones(len(f.ids), np.float32)) for t, f in gt.frames.items()}
    )
    row = evaluate({"tud": (gt, perfect)}).sequences["tud"]
    for key in ("hota", "deta", "assa", "mota", "idf1", "recall", "precision", "motp"):
        assert getattr(row, key) == pytest.approx(1.0), key
    assert row.num_switches == 0 and row.num_false_positives == 0 and row.num_misses == 0


def test_hota_id_swap_halfway() -> None:
    # One person in 4 frames, boxes exact (IoU 1). The tracker calls it 7 in frames 1-2, 8 in 3-4.
    # Every detection is a TP at every alpha -> DetA = 1. Each TP's association score is
    # |TPA| / (|TPA| + |FNA| + |FPA|) = 2 / (2 + 2 + 0) = 0.5 -> AssA = 0.5, HOTA = sqrt(0.5).
    # CLEAR: 1 switch over 4 objects -> MOTA 0.75. Identity: best id covers 2 of 4 -> IDF1 0.5.
    box = [[10, 10, 50, 110]]
    frames = {t: (_gt([1], box), _res([7 if t <= 2 else 8], box)) for t in range(1, 5)}
    row = evaluate({"swap": _sequence(frames)}).sequences["swap"]
    assert row.deta == pytest.approx(1.0)
    assert row.assa == pytest.approx(0.5)
    assert row.hota == pytest.approx(math.sqrt(0.5))
    assert row.mota == pytest.approx(0.75) and row.num_switches == 1
    assert row.idf1 == pytest.approx(0.5)


def test_hota_averages_over_localisation_thresholds() -> None:
    # IoU 0.62 in every frame, one id: a TP for alpha = 0.05..0.60 (12 of 19 thresholds) and a
    # FP + FN above -> HOTA(alpha) = 1 for 12 thresholds and 0 for 7 -> HOTA = 12/19.
    frames = {t: (_gt([1], [[0, 0, 10, 10]]), _res([3], [[0, 0, 10, 6.2]])) for t in range(1, 4)}
    row = evaluate({"loc": _sequence(frames)}).sequences["loc"]
    assert row.hota == pytest.approx(12 / 19)
    assert row.deta == pytest.approx(12 / 19) and row.assa == pytest.approx(12 / 19)
    assert row.mota == pytest.approx(1.0)  # CLEAR matches at IoU >= 0.5


def test_hota_ids_are_relabelled() -> None:
    sim = [np.array([[0.9, 0.1]]), np.array([[0.2, 0.8]])]
    a = hota_sequence([np.array([0]), np.array([0])], [np.array([0, 1]), np.array([0, 1])], sim)
    b = hota_sequence([np.array([-40]), np.array([-40])], [np.array([10**9, 3]), np.array([10**9, 3])], sim)
    assert (a.hota, a.deta, a.assa) == (b.hota, b.deta, b.assa)
    with pytest.raises(ValueError, match="unique"):
        hota_sequence([np.array([1, 1])], [np.array([2])], [np.zeros((2, 1))])


def _trackeval_reference(tmp: Path, benchmark: str, seqs: dict[str, tuple[str, str, int]]) -> dict[str, dict]:
    """Run trackeval's own file-based evaluator (HOTA) on ``name -> (gt text, tracker text, seqLength)``."""
    import trackeval

    gt_root, trk_root = tmp / "gt", tmp / "trackers"
    for name, (gt_text, trk_text, length) in seqs.items():
        seq = gt_root / f"{benchmark}-train" / name
        (seq / "gt").mkdir(parents=True)
        (seq / "gt" / "gt.txt").write_text(gt_text)
        (seq / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nseqLength={length}\n")
        data = trk_root / f"{benchmark}-train" / "T" / "data"
        data.mkdir(parents=True, exist_ok=True)
        (data / f"{name}.txt").write_text(trk_text)
    (gt_root / "seqmaps").mkdir()
    (gt_root / "seqmaps" / f"{benchmark}-train.txt").write_text("name\n" + "\n".join(seqs) + "\n")
    eval_cfg = trackeval.Evaluator.get_default_eval_config()
    eval_cfg.update(
        PRINT_CONFIG=False,
        USE_PARALLEL=False,
        PRINT_RESULTS=False,
        OUTPUT_SUMMARY=False,
        OUTPUT_DETAILED=False,
        PLOT_CURVES=False,
        TIME_PROGRESS=False,
    )
    data_cfg = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
    data_cfg.update(
        GT_FOLDER=str(gt_root),
        TRACKERS_FOLDER=str(trk_root),
        BENCHMARK=benchmark,
        SPLIT_TO_EVAL="train",
        TRACKERS_TO_EVAL=["T"],
        PRINT_CONFIG=False,
    )
    with contextlib.redirect_stdout(io.StringIO()):
        res, _ = trackeval.Evaluator(eval_cfg).evaluate(
            [trackeval.datasets.MotChallenge2DBox(data_cfg)], [trackeval.metrics.HOTA()]
        )
    out = res["MotChallenge2DBox"]["T"]
    return {
        k: {m: float(np.mean(v["pedestrian"]["HOTA"][m])) for m in ("HOTA", "DetA", "AssA")}
        for k, v in out.items()
    }


def _assert_hota_matches(table: ScoreTable, ref: dict[str, dict]) -> None:
    for name, row in [*table.sequences.items(), ("COMBINED_SEQ", table.overall)]:
        got = (row.hota, row.deta, row.assa)
        want = (ref[name]["HOTA"], ref[name]["DetA"], ref[name]["AssA"])
        # float32 boxes vs trackeval's float64: differences of order 1e-6
        np.testing.assert_allclose(got, want, atol=2e-5, err_msg=name)


def test_hota_matches_trackeval_end_to_end_on_tud(tmp_path: Path) -> None:
    table = evaluate(_tud_pairs())
    ref = _trackeval_reference(
        tmp_path,
        "MOT15",
        {
            name: ((MM_DATA / name / "gt.txt").read_text(), (MM_DATA / name / "test.txt").read_text(), n)
            for name, n in (("TUD-Campus", 71), ("TUD-Stadtmitte", 179))
        },
    )
    _assert_hota_matches(table, ref)
    # trackeval's printed summary for these files: HOTA 39.14 / DetA 41.805 / AssA 36.912 (TUD-Campus)
    campus = table.sequences["TUD-Campus"]
    assert (campus.hota, campus.deta, campus.assa) == pytest.approx((0.39140, 0.41805, 0.36912), abs=1e-5)


# ---------------------------------------------------------------------------------------------------
# MOT17 preprocessing cross-checked against the devkit ports (motmetrics CLEAR_MOT_M, trackeval)


def _synthetic_mot17(seed: int, n_frames: int = 30) -> tuple[str, str]:
    """A MOT17-style gt (pedestrians, distractors, cars, consider flags) and a noisy tracker output
    that also reports boxes on the non-pedestrians, with id switches and false positives."""
    rng = np.random.default_rng(seed)
    # id, class, consider
    objects = [
        (1, 1, 1),
        (2, 1, 1),
        (3, 1, 1),
        (4, 1, 1),
        (5, 7, 0),
        (6, 3, 0),
        (7, 12, 0),
        (8, 8, 0),
        (9, 2, 0),
        (10, 1, 0),
        (11, 1, 1),
    ]
    gt_rows, trk_rows = [], []
    for oid, cls, consider in objects:
        start, stop = sorted(rng.integers(1, n_frames + 1, 2))
        xy = rng.uniform([0, 0], [300, 200])
        v = rng.normal(0, 4, 2)
        wh = rng.uniform([25, 50], [60, 120])
        for t in range(start, stop + 1):
            x, y = xy + v * (t - start)
            gt_rows.append(f"{t},{oid},{x:.2f},{y:.2f},{wh[0]:.2f},{wh[1]:.2f},{consider},{cls},1")
            if rng.random() < 0.85:
                tid = oid + 100 if (oid in (1, 2) and t > n_frames // 2) else oid
                jx, jy, jw, jh = rng.normal(0, [3, 3, 3, 6])
                trk_rows.append((t, tid, x + jx, y + jy, wh[0] + jw, wh[1] + jh))
    for k in range(12):
        t = int(rng.integers(1, n_frames + 1))
        trk_rows.append((t, 500 + k, *rng.uniform([0, 0, 20, 40], [300, 200, 60, 100])))
    trk_text = "".join(
        f"{t},{i},{x:.2f},{y:.2f},{w:.2f},{h:.2f},1,-1,-1,-1\n" for t, i, x, y, w, h in trk_rows
    )
    return "\n".join(gt_rows) + "\n", trk_text


def _crosscheck_mot17(tmp_path: Path, seqs: dict[str, tuple[str, str, int]]) -> ScoreTable:
    pairs, lengths = {}, {}
    for name, (gt_text, trk_text, length) in seqs.items():
        (tmp_path / "ours").mkdir(exist_ok=True)
        gt_file = tmp_path / "ours" / f"{name}-gt.txt"
        trk_file = tmp_path / "ours" / f"{name}.txt"
        gt_file.write_text(gt_text)
        trk_file.write_text(trk_text)
        pairs[name] = (read_ground_truth(gt_file), read_results(trk_file))
        lengths[name] = length
    table = evaluate(pairs, lengths)
    assert table.overall.num_ignored > 0  # the preprocessing had something to do

    # motmetrics' devkit port: CLEAR_MOT_M = preprocessResult + consider/class filter
    for name, (_, _, length) in seqs.items():
        ini = tmp_path / "ours" / f"{name}.ini"
        ini.write_text(f"[Sequence]\nname={name}\nseqLength={length}\n")
        mm_gt = MM.io.loadtxt(str(tmp_path / "ours" / f"{name}-gt.txt"))
        mm_res = MM.io.loadtxt(str(tmp_path / "ours" / f"{name}.txt"))
        acc, _ = MM.utils.CLEAR_MOT_M(mm_gt, mm_res, str(ini), "iou", distth=0.5)
        ref = (
            MM.metrics.create()
            .compute(
                acc,
                metrics=["mota", "idf1", "num_false_positives", "num_misses", "num_switches", "num_objects"],
                name=name,
            )
            .loc[name]
        )
        row = table.sequences[name]
        assert row.num_false_positives == ref["num_false_positives"], name
        assert row.num_misses == ref["num_misses"], name
        assert row.num_switches == ref["num_switches"], name
        assert row.num_objects == ref["num_objects"], name
        assert row.mota == pytest.approx(ref["mota"]) and row.idf1 == pytest.approx(ref["idf1"])

    _assert_hota_matches(table, _trackeval_reference(tmp_path / "trackeval", "MOT17", seqs))
    return table


@pytest.mark.filterwarnings("ignore:Operation with tuple is deprecated")  # motmetrics.io on pandas 3
def test_mot17_preprocessing_matches_devkit_ports_synthetic(tmp_path: Path) -> None:
    seqs = {f"SYN-{s}": (*_synthetic_mot17(s), 30) for s in (1, 2)}
    _crosscheck_mot17(tmp_path, seqs)


@pytest.mark.data
@pytest.mark.filterwarnings("ignore:Operation with tuple is deprecated")
def test_mot17_preprocessing_matches_devkit_ports_real_gt(tmp_path: Path, data_root: Path) -> None:
    # real MOT17 ground truth (first frames, MOT17-mini) with distractors of classes 2, 7, 8, 12 and
    # cars; the "tracker" reports every gt row (all classes) jittered, with ids changed halfway
    rng = np.random.default_rng(0)
    seqs = {}
    for name in ("MOT17-02-FRCNN", "MOT17-09-FRCNN", "MOT17-13-FRCNN"):
        gt_text = (data_root / "MOT17-mini" / "train" / name / "gt" / "gt.txt").read_text()
        rows = np.loadtxt(gt_text.splitlines(), delimiter=",", ndmin=2)
        rows = rows[rng.random(len(rows)) < 0.9]
        rows[:, 2:4] += rng.normal(0, 0.06, (len(rows), 2)) * rows[:, 4:6]
        rows[:, 1] += np.where(rows[:, 0] > 2, 1000, 0)
        trk_text = "".join(
            f"{int(r[0])},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},1,-1,-1,-1\n" for r in rows
        )
        seqs[name] = (gt_text, trk_text, int(rows[:, 0].max()))
    table = _crosscheck_mot17(tmp_path, seqs)
    assert table.overall.num_switches > 0


# ---------------------------------------------------------------------------------------------------
# API details


def test_score_table_and_errors() -> None:
    table = evaluate(_tud_pairs(), num_frames={"TUD-Campus": 80})
    assert table.sequences["TUD-Campus"].num_frames == 80  # frames 72..80: nothing annotated or reported
    assert [r.name for r in table.rows()] == ["TUD-Campus", "TUD-Stadtmitte", OVERALL]
    text = table.format()
    assert "TUD-Stadtmitte" in text and OVERALL in text and " 52.6 " in text  # MOTA of TUD-Campus
    assert table.overall.as_dict()["num_misses"] == 602
    gt, res = _tud_pairs()["TUD-Campus"]
    with pytest.raises(ValueError, match="reserved"):
        evaluate({OVERALL: (gt, res)})
    with pytest.raises(ValueError, match="no sequences"):
        evaluate({})


def test_evaluation_prints_nothing() -> None:
    code = (
        "import numpy as np\n"
        "from tracker.eval import evaluate, hota_sequence\n"
        "from tracker.io import GtFrame, MotGroundTruth, MotResults, ResultFrame\n"
        "b = np.array([[0, 0, 10, 10]], np.float32)\n"
        "g = GtFrame(np.array([1]), b, np.array([True]), np.array([1]), np.ones(1, np.float32))\n"
        "r = ResultFrame(np.array([1]), b, np.ones(1, np.float32))\n"
        "evaluate({'s': (MotGroundTruth({1: g}, True), MotResults({1: r}))})\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout == ""


@pytest.mark.parametrize("text", ["", "\n \n"])
def test_empty_results_file_scores_as_all_misses(tmp_path: Path, text: str) -> None:
    """A tracker that reported nothing: MOTA 0, IDF1 0, HOTA 0, FN = every target box (issue 12)."""
    empty = tmp_path / "empty.txt"
    empty.write_text(text)
    gt = read_ground_truth(MM_DATA / "TUD-Campus" / "gt.txt")
    n_targets = sum(int((f.consider & (f.classes == 1)).sum()) for f in gt.frames.values())
    assert n_targets == 359
    s = evaluate({"TUD-Campus": (gt, read_results(empty))}).sequences["TUD-Campus"]
    assert (s.mota, s.idf1, s.hota, s.deta, s.recall) == (0.0, 0.0, 0.0, 0.0, 0.0)
    assert (s.num_misses, s.num_objects, s.num_false_positives, s.num_switches) == (
        n_targets,
        n_targets,
        0,
        0,
    )
    assert s.num_unique_objects == 8 and s.mostly_lost == 8 and s.num_predictions == 0
    assert math.isnan(s.precision)  # no tracker boxes: precision undefined, as motmetrics says


def test_empty_ground_truth_and_both_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    res = read_results(MM_DATA / "TUD-Campus" / "test.txt")
    s = evaluate({"s": (read_ground_truth(empty), res)}).sequences["s"]
    n_boxes = sum(len(f.ids) for f in res.frames.values())
    assert s.num_false_positives == n_boxes and s.num_objects == 0 and s.num_misses == 0
    assert s.mota == -math.inf and s.hota == 0.0  # motmetrics / trackeval conventions without targets
    both = evaluate({"s": (read_ground_truth(empty), read_results(empty))}, num_frames={"s": 5})
    b = both.sequences["s"]
    assert b.num_frames == 5 and b.num_objects == b.num_false_positives == 0
    assert math.isnan(b.mota) and b.hota == 0.0
