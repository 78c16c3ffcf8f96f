"""Multi-camera run, person search, multi-camera layout and scoring: a synthetic two-camera scene
(coloured people on a grey floor, a colour detector and a colour embedder) walked through the whole
path, the CLI on the same scene, hand-built scoring cases, and the PETS09 export (data test)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from scripts import harness

from tracker import Detections
from tracker.__main__ import main
from tracker.apps.multicam_run import run_cameras
from tracker.apps.search import collect_galleries, embed_query, format_hits
from tracker.eval.multicam import CameraTruth, score_multicam
from tracker.io.mot import GtFrame, MotGroundTruth, MotResults, ResultFrame, read_results
from tracker.multicam.setup import load_camera_setup, load_camera_truth, setup_from_sources
from tracker.reid.gallery import Gallery, draw_hits, gallery_from_tracks, search

H, W = 120, 200
RED, BLUE = (0, 0, 230), (230, 0, 0)  # BGR


def _frame(people: list[tuple[tuple[int, int, int], int, int]]) -> np.ndarray:
    img = np.full((H, W, 3), 128, np.uint8)
    for color, x, y in people:
        img[y : y + 50, x : x + 20] = color
    return img


def write_scene(root: Path) -> Path:
    """Camera a: red walks right and leaves at frame 20. Camera b: red enters at frame 26 (0.6 s
    later at 10 fps), blue stands still for the whole clip. Returns the camera list YAML."""
    for cam in ("a", "b"):
        (root / cam).mkdir(parents=True)
    for f in range(1, 41):
        a = [(RED, 20 + 8 * (f - 1), 40)] if f <= 20 else []
        b = [(BLUE, 150, 50)]
        if f >= 26:
            b.append((RED, min(5 + 4 * (f - 26), 120), 30))
        cv2.imwrite(str(root / "a" / f"{f:06d}.png"), _frame(a))
        cv2.imwrite(str(root / "b" / f"{f:06d}.png"), _frame(b))
    yaml_path = root / "cameras.yaml"
    yaml_path.write_text(
        "cameras:\n  - {id: a, source: a, fps: 10}\n  - {id: b, source: b, fps: 10}\nlinking:\n  time_window_s: 5\n",
        encoding="utf-8",
    )
    return yaml_path


class ColourDetector:
    """Boxes around the saturated red and blue blobs of the synthetic scene."""

    def detect(self, frame: np.ndarray, frame_index: int) -> Detections:
        boxes = []
        for ch in (2, 0):
            mask = (frame[:, :, ch] > 200) & (frame[:, :, 1] < 50)
            ys, xs = np.nonzero(mask)
            if len(xs):
                boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.9, np.float32))


class ColourEmbedder:
    """Mean colour of the box's centre, as a unit 3-vector."""

    model_path = Path("colour.onnx")
    dim = 3

    def embed(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        out = []
        for x1, y1, x2, y2 in np.asarray(boxes, np.float32).reshape(-1, 4):
            cx, cy = int((x1 + x2) / 2), int((y1 + y2) / 2)
            v = image[max(cy - 3, 0) : cy + 3, max(cx - 3, 0) : cx + 3].reshape(-1, 3).mean(0) + 1.0
            out.append(v / np.linalg.norm(v))
        return np.array(out, np.float32).reshape(-1, 3)


def _ids_by_colour(txt: Path, frames: dict[int, np.ndarray]) -> dict[str, set[int]]:
    res = read_results(txt)
    out: dict[str, set[int]] = {"red": set(), "blue": set()}
    for f, r in res.frames.items():
        for tid, (x1, y1, x2, y2) in zip(r.ids.tolist(), r.boxes.tolist(), strict=True):
            px = frames[f][int((y1 + y2) / 2), int((x1 + x2) / 2)]
            out["red" if px[2] > 200 else "blue"].add(int(tid))
    return out


def test_run_cameras_hands_over_and_writes_galleries(tmp_path: Path) -> None:
    setup = load_camera_setup(write_scene(tmp_path / "scene"))
    out = tmp_path / "out"
    summary = run_cameras(setup, ColourDetector(), embedder=ColourEmbedder(), out_dir=out, progress=False)
    assert summary.cameras["a"].frames == 40 and summary.cameras["b"].frames == 40
    frames = {
        cam: {f: cv2.imread(str(tmp_path / "scene" / cam / f"{f:06d}.png")) for f in range(1, 41)}
        for cam in ("a", "b")
    }
    ids_a = _ids_by_colour(out / "a.txt", frames["a"])
    ids_b = _ids_by_colour(out / "b.txt", frames["b"])
    assert len(ids_a["red"]) == 1 and ids_a["red"] == ids_b["red"]  # handed over: one global id
    assert len(ids_b["blue"]) == 1 and ids_b["blue"].isdisjoint(ids_b["red"])
    assert summary.global_ids == 2 and summary.links == 1
    decisions = json.loads((out / "global_ids.json").read_text())["decisions"]
    assert [d["linked_from"] for d in decisions if d["linked_from"]] == [["a", 1]]
    for name in ("a.jsonl", "b.jsonl", "a.mp4", "b.mp4", "multicam_summary.json"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    # galleries: one track per camera and identity; search finds red in both cameras first
    galleries, sources = collect_galleries([str(out)])
    assert sources == [] and sorted(g.cameras[0] for g in galleries) == ["a", "b"]
    assert all(g.model == "colour.onnx" for g in galleries)
    query = _frame([(RED, 90, 30)])[30:80, 90:110]
    hits = search(embed_query(ColourEmbedder(), query), galleries)
    assert [h.track_id for h in hits[:2]] == [next(iter(ids_a["red"]))] * 2
    assert {h.camera for h in hits[:2]} == {"a", "b"} and hits[2].distance > 0.3
    assert hits[0].frames.min() >= 1 and len(hits[0].frames) == len(hits[0].boxes)
    assert "rank" in format_hits(hits).splitlines()[0]


def write_dets(scene: Path) -> None:
    """``<camera>.det.txt`` public detections of the synthetic scene (the colour detector's boxes)."""
    det = ColourDetector()
    for cam in ("a", "b"):
        rows = []
        for f in range(1, 41):
            d = det.detect(cv2.imread(str(scene / cam / f"{f:06d}.png")), f)
            rows += [
                f"{f},-1,{b[0]},{b[1]},{b[2] - b[0]},{b[3] - b[1]},0.9,-1,-1,-1" for b in d.boxes.tolist()
            ]
        (scene / f"{cam}.det.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_single_run_writes_a_searchable_gallery(tmp_path: Path) -> None:
    write_scene(tmp_path / "scene")
    write_dets(tmp_path / "scene")
    out = tmp_path / "out"
    args = ["run", str(tmp_path / "scene" / "b"), "--dets", str(tmp_path / "scene" / "b.det.txt")]
    assert main([*args, "--out", str(out), "--no-video", "--no-progress"]) == 0
    g = Gallery.load(out / "b.tracks.npz")
    assert len(g.track_ids) == 2 and g.model == "reid_mobilenetv2_cuhk.onnx"
    assert set(np.unique(g.traj_track).tolist()) == set(g.track_ids.tolist())
    query = tmp_path / "q.png"
    cv2.imwrite(str(query), _frame([(BLUE, 90, 30)])[25:85, 85:115])
    assert (
        main(["search", str(out / "b.tracks.npz"), "--query", str(query), "--out", str(tmp_path / "s")]) == 0
    )
    hits = json.loads((tmp_path / "s" / "search.json").read_text())["hits"]
    blue_track = read_results(out / "b.txt").frames[5].ids.tolist()  # only blue is there before frame 26
    assert hits[0]["track_id"] == blue_track[0]
    # without ReID nothing is stored to search
    assert main([*args, "--out", str(tmp_path / "o2"), "--no-video", "--no-progress", "--no-reid"]) == 0
    assert not (tmp_path / "o2" / "b.tracks.npz").exists()


def test_camera_list_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "cams.yaml"
    bad.write_text("cameras:\n  - {source: a.mp4, colour: red}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cams\.yaml: cameras\[0\]: unknown key\(s\) \['colour'\]"):
        load_camera_setup(bad)
    bad.write_text("cameras:\n  - {id: x}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'source' is required"):
        load_camera_setup(bad)
    bad.write_text("cameras:\n  - {id: x, source: a.mp4}\n  - {id: x, source: b.mp4}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="camera id 'x' is used twice"):
        load_camera_setup(bad)
    bad.write_text("cameras: [a.mp4]\nlinking: {time_window: 3}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="time_window"):
        load_camera_setup(bad)
    with pytest.raises(FileNotFoundError):
        load_camera_setup(tmp_path / "missing.yaml")
    # a camera id names its output files: `../evil` wrote them outside --out
    for cam_id in ("../evil", "x/y", ".hidden"):
        bad.write_text(f"cameras:\n  - {{id: '{cam_id}', source: a.mp4}}\n", encoding="utf-8")
        with pytest.raises(ValueError, match=r"cameras\[0\]: id .* names the camera's output files"):
            load_camera_setup(bad)
    ok = tmp_path / "ok.yaml"
    ok.write_text("cameras: [videos/x.mp4, {source: /abs/x.mp4, start_s: 2}]\n", encoding="utf-8")
    setup = load_camera_setup(ok)
    assert [c.id for c in setup.cameras] == ["x", "x_2"]
    assert setup.cameras[0].source == str(tmp_path / "videos" / "x.mp4")
    assert setup.cameras[1].start_s == 2.0
    names = ["a/img1", "b/img1", "v.mp4", "v.avi", "0", "rtsp://cam.local/live"]
    assert [c.id for c in setup_from_sources(names).cameras] == ["a", "b", "v", "v_2", "webcam0", "live"]


def test_cli_run_cameras_and_search(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``run cameras.yaml`` (camera list with public detections, the embedded ReID model) and ``search``
    against its results folder; a missing query and a results folder without galleries are errors."""
    yaml_path = write_scene(tmp_path / "scene")
    write_dets(tmp_path / "scene")
    text = yaml_path.read_text().replace("fps: 10}", "fps: 10, dets: CAM.det.txt}")
    text = text.replace("id: a, source: a, fps: 10, dets: CAM", "id: a, source: a, fps: 10, dets: a")
    text = text.replace("id: b, source: b, fps: 10, dets: CAM", "id: b, source: b, fps: 10, dets: b")
    yaml_path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(yaml_path), "--out", str(out), "--no-progress", "--no-video"]) == 0
    printed = capsys.readouterr().out
    assert "global ids" in printed and (out / "a.tracks.npz").is_file() and (out / "b.tracks.npz").is_file()
    ids = {cam: set(read_results(out / f"{cam}.txt").frames[30].ids.tolist()) for cam in ("b",)}
    assert len(ids["b"]) == 2
    query = tmp_path / "q.png"
    cv2.imwrite(str(query), _frame([(RED, 90, 30)])[25:85, 85:115])
    assert main(["search", str(out), "--query", str(query), "--out", str(tmp_path / "s"), "--top", "3"]) == 0
    payload = json.loads((tmp_path / "s" / "search.json").read_text())
    assert len(payload["hits"]) == 3 and payload["hits"][0]["trajectory"]
    assert cv2.imread(str(tmp_path / "s" / "search_top.png")) is not None
    # errors: a query embedded by another model than the galleries' (it was a warning above a
    # meaningless ranking, rc 0), missing query, results folder without galleries
    import shutil

    from tracker.assets import DEFAULT_EMBEDDER

    other = shutil.copy(DEFAULT_EMBEDDER, tmp_path / "other.onnx")
    assert (
        main(["search", str(out), "--query", str(query), "--reid", str(other), "--out", str(tmp_path / "s2")])
        == 2
    )
    assert "was embedded with reid_mobilenetv2_cuhk.onnx, the query would be with other.onnx" in (
        capsys.readouterr().err
    )
    # the same galleries twice: every hit came twice; two videos of one name: wrong pictures
    assert main(["search", str(out), str(out / "a.tracks.npz"), "--query", str(query)]) == 2
    assert "two galleries hold camera 'a'" in capsys.readouterr().err
    assert main(["search", str(out), "--query", str(tmp_path / "nope.png")]) == 2
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "x.txt").write_text("1,1,0,0,5,5,1,-1,-1,-1\n")
    assert (
        main(["search", str(tmp_path / "plain"), "--query", str(query), "--out", str(tmp_path / "s3")]) == 2
    )
    assert "without *.tracks.npz" in capsys.readouterr().err
    assert not (tmp_path / "s3").exists()  # a refused search left an empty output folder
    # an empty folder is neither a results folder nor images: said so, not "holds no images" alone
    (tmp_path / "empty").mkdir()
    assert main(["search", str(tmp_path / "empty"), "--query", str(query)]) == 2
    assert (
        "holds neither *.tracks.npz galleries (a `run` results folder) nor images" in capsys.readouterr().err
    )


def test_gallery_roundtrip_search_order_and_picture(tmp_path: Path) -> None:
    e = np.eye(4, dtype=np.float32)
    rows = [
        (f, tid, np.array([10 * tid, 0, 10 * tid + 8, 20], np.float32), 0.9, e[tid])
        for f in (1, 2, 3)
        for tid in (0, 1)
    ]
    g = gallery_from_tracks("cam", rows, source="", model="m.onnx")
    path = g.save(tmp_path / "cam.tracks.npz")
    g2 = Gallery.load(path)
    assert g2.model == "m.onnx" and g2.track_ids.tolist() == [0, 1]
    other = gallery_from_tracks("cam2", [(5, 7, np.array([0, 0, 8, 20], np.float32), 0.9, e[2])])
    hits = search(e[1] + 0.1 * e[2], [g2, other])
    assert [(h.camera, h.track_id) for h in hits] == [("cam", 1), ("cam2", 7), ("cam", 0)]
    assert hits[0].frames.tolist() == [1, 2, 3] and hits[0].first_frame == 1 and hits[0].last_frame == 3
    with pytest.raises(ValueError, match="dimension 3"):
        search(np.ones(3, np.float32), g2)
    frame = np.zeros((40, 40, 3), np.uint8)
    png = draw_hits(frame[:20, :8], hits, lambda cam, f: frame if cam == "cam" else None, tmp_path / "p.png")
    img = cv2.imread(str(png))
    assert img is not None and img.shape[0] == 192
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"bad\.npz"):
        Gallery.load(tmp_path / "bad.npz")


def _gt(rows: dict[int, list[tuple[int, list[float]]]]) -> MotGroundTruth:
    frames = {}
    for f, r in rows.items():
        n = len(r)
        frames[f] = GtFrame(
            np.array([i for i, _ in r], np.int64),
            np.array([b for _, b in r], np.float32).reshape(-1, 4),
            np.ones(n, bool),
            np.ones(n, np.int64),
            np.ones(n, np.float32),
        )
    return MotGroundTruth(frames, has_classes=False)


def _res(rows: dict[int, list[tuple[int, list[float]]]]) -> MotResults:
    return MotResults(
        {
            f: ResultFrame(
                np.array([i for i, _ in r], np.int64),
                np.array([b for _, b in r], np.float32).reshape(-1, 4),
                np.ones(len(r), np.float32),
            )
            for f, r in rows.items()
        }
    )


def test_score_multicam_handoffs_and_cross_idf1() -> None:
    """Person 5 is in camera a for frames 1-5 and in camera b for frames 8-12 (same clock)."""
    box = [10.0, 10.0, 50.0, 110.0]
    truth = [
        CameraTruth("a", _gt({f: [(5, box)] for f in range(1, 6)}), 0.0, 10.0),
        CameraTruth("b", _gt({f: [(5, box)] for f in range(8, 13)}), 0.0, 10.0),
    ]
    kept = score_multicam(
        truth,
        {"a": _res({f: [(1, box)] for f in range(1, 6)}), "b": _res({f: [(1, box)] for f in range(8, 13)})},
    )
    assert (kept.handoffs_correct, kept.handoffs_evaluable, kept.handoffs_total) == (1, 1, 1)
    assert kept.idf1_cross == pytest.approx(1.0) and kept.mota_cross == pytest.approx(1.0)
    lost = score_multicam(
        truth,
        {"a": _res({f: [(1, box)] for f in range(1, 6)}), "b": _res({f: [(2, box)] for f in range(8, 13)})},
    )
    assert lost.handoff_accuracy == 0.0 and lost.idf1_cross == pytest.approx(0.5)
    assert lost.per_camera["a"]["idf1"] == pytest.approx(1.0)  # each camera alone is perfect
    missed = score_multicam(truth, {"a": _res({f: [(1, box)] for f in range(1, 6)})})
    assert missed.handoffs_evaluable == 0 and math.isnan(missed.handoff_accuracy)
    # camera b starts 1 s later on the common clock: its frames 1-5 come after a's 1-5
    late = [truth[0], CameraTruth("b", _gt({f: [(5, box)] for f in range(1, 6)}), 1.0, 10.0)]
    s = score_multicam(
        late,
        {"a": _res({f: [(1, box)] for f in range(1, 6)}), "b": _res({f: [(1, box)] for f in range(1, 6)})},
    )
    assert (s.handoffs_correct, s.handoffs_total) == (1, 1)


@pytest.mark.data
def test_pets_export_layout_and_bench_scorer(data_root: Path, tmp_path: Path) -> None:
    """The exported PETS09 views are a valid layout: images cropped to the views, gt ids shared."""
    export_virtual_views = harness().export_virtual_views

    path = export_virtual_views(data_root / "MOT15" / "train" / "PETS09-S2L1", tmp_path / "pets2")
    setup = load_camera_setup(path)
    assert [c.id for c in setup.cameras] == ["left", "right"]
    left = cv2.imread(str(tmp_path / "pets2" / "left" / "img1" / "000001.jpg"))
    assert left.shape == (576, 340, 3)
    truth = load_camera_truth(tmp_path / "pets2")
    ids = [{int(i) for g in t.gt.frames.values() for i in g.ids} for t in truth]
    assert len(ids[0] & ids[1]) >= 10  # people walk from one view into the other
    # ground truth as results: perfect scores, every transition kept
    results = {
        t.camera: MotResults(
            {
                f: ResultFrame(
                    g.ids[g.consider], g.boxes[g.consider], np.ones(int(g.consider.sum()), np.float32)
                )
                for f, g in t.gt.frames.items()
            }
        )
        for t in truth
    }
    s = score_multicam(truth, results)
    assert s.handoffs_total == 28 and s.handoff_accuracy == 1.0 and s.idf1_cross == pytest.approx(1.0)


def test_person_search_eval_on_a_synthetic_two_view_sequence(tmp_path: Path) -> None:
    """Red walks from view a into view b, green from b into a; colour embeddings make search exact."""
    h = harness()
    View, VirtualSequence = h.View, h.VirtualSequence
    person_search_eval, run_mode = h.person_search_eval, h.run_mode

    green = (0, 230, 0)
    views = (View("a", 0.0, 90.0), View("b", 110.0, 200.0))
    frames = list(range(1, 41))
    paths, dets, gts = {}, {"a": {}, "b": {}}, {"a": {}, "b": {}}
    for f in frames:
        people = [(1, RED, 5 + 5 * (f - 1)), (2, green, 175 - 5 * (f - 1))]
        img = np.full((H, W, 3), 128, np.uint8)
        for _pid, color, x in people:
            img[30:80, x : x + 20] = color
        paths[f] = tmp_path / f"{f:06d}.png"
        cv2.imwrite(str(paths[f]), img)
        for v in views:
            inside = [(pid, x) for pid, _c, x in people if v.x0 <= x + 10 < v.x1]
            boxes = np.array([[x, 30, x + 20, 80] for _p, x in inside], np.float32).reshape(-1, 4)
            dets[v.name][f] = (boxes, np.full(len(inside), 0.9, np.float32))
            if inside:
                n = len(inside)
                gts[v.name][f] = GtFrame(
                    np.array([p for p, _x in inside], np.int64),
                    boxes,
                    np.ones(n, bool),
                    np.ones(n, np.int64),
                    np.ones(n, np.float32),
                )
    vs = VirtualSequence(
        views, frames, 10.0, dets, {k: MotGroundTruth(g, False) for k, g in gts.items()}, paths
    )
    emb = ColourEmbedder()
    embeddings = {
        v: {f: emb.embed(cv2.imread(str(paths[f])), b) for f, (b, _s) in d.items()} for v, d in dets.items()
    }
    # the harness's linking for these views (its default cut's names, left/right, are not cameras here)
    run = run_mode(vs, embeddings, "full", h.harness_config(views))
    scores = {(s.query_view, s.gallery_view): s for s in person_search_eval(vs, run, emb)}
    assert set(scores) == {("a", "b"), ("b", "a")}
    for s in scores.values():
        assert s.queries == 2 and s.rank1 == 1.0 and s.mean_ap == 1.0


def test_harness_embedding_cache_is_tied_to_the_model_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model retrained under the same file name must not reuse its predecessor's cached embeddings
    (the cache is keyed by the cut and the model's name, so it also records the model's SHA-256)."""
    from types import SimpleNamespace

    h = harness()
    view = SimpleNamespace(name="left")
    vs = SimpleNamespace(
        views=[view], frames=[1, 2], dets={"left": {1: (np.zeros((2, 4)),), 2: (np.zeros((1, 4)),)}}
    )
    calls: list[float] = []

    def fake_embed(_vs: object, value: float) -> dict[str, dict[int, np.ndarray]]:
        calls.append(value)
        return {"left": {1: np.full((2, 3), value, np.float32), 2: np.full((1, 3), value, np.float32)}}

    monkeypatch.setattr(h, "compute_embeddings", fake_embed)
    model = tmp_path / "reid.onnx"
    model.write_bytes(b"weights v1")
    cache = tmp_path / "cache.npz"
    first = h._cached_embeddings(vs, 1.0, cache, model=model)
    again = h._cached_embeddings(vs, 2.0, cache, model=model)  # same file: served from the cache
    assert calls == [1.0] and float(again["left"][1][0, 0]) == 1.0 == float(first["left"][2][0, 0])
    model.write_bytes(b"weights v2")  # retrained, same name
    fresh = h._cached_embeddings(vs, 3.0, cache, model=model)
    assert calls == [1.0, 3.0] and float(fresh["left"][1][0, 0]) == 3.0
    # a cache written before the hash was recorded (no hash entry) is not trusted either
    np.savez(cache, **{"left/1": np.zeros((2, 3), np.float32), "left/2": np.zeros((1, 3), np.float32)})
    h._cached_embeddings(vs, 4.0, cache, model=model)
    assert calls == [1.0, 3.0, 4.0]
    # a cache cut short (a run stopped mid-write before writes became atomic) is recomputed, not fatal
    cache.write_bytes(cache.read_bytes()[:40])
    again = h._cached_embeddings(vs, 5.0, cache, model=model)
    assert calls == [1.0, 3.0, 4.0, 5.0] and float(again["left"][1][0, 0]) == 5.0
    assert not cache.with_name(cache.name + ".part").exists()  # written whole, then renamed
