"""Issue 12 at the command line: every bad input of the files and models this part of the package
reads gives one ``error: <what>: <why>`` line and exit status 2 (never a traceback), and empty inputs
are valid inputs (exit status 0).

Covered here: empty det.txt / gt.txt / results files (``bench``, ``run --dets``, ``score``); malformed
rows (``score``); malicious and non-tensor checkpoints (``reid train --resume``, ``reid train`` with
``model.init_checkpoint`` or ``--pretrained``, ``reid export --checkpoint``, ``reid eval --model
x.pt``). Library-level messages are tested next to their modules (test_mot_io, test_types,
test_embedder, test_reid_train).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest

from tracker.__main__ import main

SEQINFO = (
    "[Sequence]\nname=SEQ-01\nimDir=img1\nframeRate=30\nseqLength=20\nimWidth=640\nimHeight=480\nimExt=.jpg\n"
)
REFUSED = "not a tensor-only checkpoint (refusing to unpickle arbitrary objects)"


def _tud_gt() -> Path:
    from tracker.eval import import_motmetrics

    return Path(os.path.dirname(import_motmetrics().__file__)) / "data" / "TUD-Campus" / "gt.txt"


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


# ---------------------------------------------------------------------------------------------------
# empty files are valid inputs


@pytest.mark.parametrize("text", ["", " \n\n\t\n"])
def test_score_empty_results_file_is_all_misses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text(text)
    assert main(["score", str(empty), "--gt", str(_tud_gt())]) == 0
    out = capsys.readouterr().out.splitlines()
    row = out[1].split()
    header = out[0].split()
    values = dict(zip(header, row[1:], strict=True))
    assert (values["MOTA"], values["IDF1"], values["HOTA"], values["FP"], values["FN"]) == (
        "0.0",
        "0.0",
        "0.0",
        "0",
        "359",
    )


def test_score_warns_on_another_sequence_and_refuses_a_file_given_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Results of one sequence against another's ground truth scored MOTA -1295 with no hint; the
    same results file given twice was counted once in OVERALL."""
    gt = _tud_gt()  # frames 1-71
    shifted = tmp_path / "other.txt"
    rows = [line.split(",") for line in gt.read_text().splitlines() if line.strip()]
    shifted.write_text("".join(",".join([str(int(r[0]) + 500), *r[1:]]) + "\n" for r in rows))
    assert main(["score", str(shifted), "--gt", str(gt)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {shifted}: 71 of its 71 frames lie outside frames 1-71 of {gt}" in err
    assert main(["score", str(gt), "--gt", str(gt)]) == 0  # the same sequence: no warning
    assert "warning" not in capsys.readouterr().err
    assert main(["score", str(gt), str(gt), "--gt", str(gt), str(gt)]) == 2
    assert _error_line(capsys) == f"error: {gt}: given twice among the results files"


def test_score_against_empty_gt_and_malformed_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "gt.txt"
    empty.write_text("")
    assert main(["score", str(_tud_gt()), "--gt", str(empty)]) == 0  # every box a false positive
    assert capsys.readouterr().out.splitlines()[1].split()[14] == "359"
    bad = tmp_path / "res.txt"
    bad.write_text("1,1,0,0,5,5,1,-1,-1,-1\n2,1,0,zero,5,5,1,-1,-1,-1\n")
    assert main(["score", str(bad), "--gt", str(_tud_gt())]) == 2
    assert _error_line(capsys) == f"error: {bad}:2: non-numeric value 'zero' in column 4"
    bad.write_text("1,1,0,0,5,5\n")
    assert main(["score", str(bad), "--gt", str(_tud_gt())]) == 2
    assert _error_line(capsys) == f"error: {bad}:1: results row has 6 columns, expected 7 to 10"
    bad.write_text("1,1,0,0,5,5,1\n1,2,0,0,nan,5,1\n")
    assert main(["score", str(bad), "--gt", str(_tud_gt())]) == 2
    assert _error_line(capsys) == f"error: {bad}:2: non-finite value nan in column 5"


def test_bench_sequence_with_empty_det_and_gt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seq = tmp_path / "ds" / "train" / "SEQ-01"
    (seq / "det").mkdir(parents=True)
    (seq / "gt").mkdir()
    (seq / "seqinfo.ini").write_text(SEQINFO)
    (seq / "det" / "det.txt").write_text("")
    (seq / "gt" / "gt.txt").write_text("".join(f"{f},1,{10 + f},20,30,60,1,1,1\n" for f in range(1, 21)))
    out = tmp_path / "out"
    assert main(["bench", str(tmp_path / "ds"), "--no-progress", "--out", str(out)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("SEQ-01"))
    assert row.split()[1:7] == ["0.0", "0.0", "0.0", "0", "0", "20"]  # MOTA IDF1 HOTA IDSW FP FN
    assert (out / "SEQ-01.txt").read_text() == ""
    (seq / "gt" / "gt.txt").write_text("\n")
    assert main(["bench", str(tmp_path / "ds"), "--no-progress", "--out", str(tmp_path / "out2")]) == 0


def test_run_with_empty_dets_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        assert cv2.imwrite(str(frames / f"{i:04d}.jpg"), np.full((48, 64, 3), 40 * i, np.uint8))
    dets = tmp_path / "det.txt"
    dets.write_text("")
    out = tmp_path / "out"
    rc = main(
        [
            "run",
            str(frames),
            "--dets",
            str(dets),
            "--no-reid",
            "--no-video",
            "--no-progress",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    assert (out / "frames.txt").read_text() == ""
    assert len((out / "frames.jsonl").read_text().splitlines()) == 3


# ---------------------------------------------------------------------------------------------------
# checkpoints: malicious and non-tensor files are refused, at every entry point


class _Payload:
    """Pickles as ``os.system("touch MARKER")``: what an attacker's checkpoint would run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def bad_checkpoints(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, the short reason expected in the message)."""
    torch = pytest.importorskip("torch")
    marker = tmp_path / "PWNED"
    files: dict[str, tuple[Path, str]] = {}
    p = tmp_path / "evil.pt"
    torch.save({"model": _Payload(marker), "meta": "{}"}, p)
    files["malicious"] = (
        p,
        "it needs the Python object posix.system, which is not a tensor or plain container",
    )
    p = tmp_path / "numpy.pt"
    torch.save({"model": {"w": np.zeros(3)}, "meta": "{}"}, p)
    files["numpy"] = (p, "it needs the Python object numpy._core.multiarray._reconstruct")
    p = tmp_path / "plain.pt"
    p.write_bytes(pickle.dumps(_Payload(marker), protocol=4))
    files["plain pickle"] = (p, "pickle opcode 149 is not allowed")
    return files


def _assert_refused(capsys: pytest.CaptureFixture[str], path: Path, reason: str, tmp_path: Path) -> None:
    line = _error_line(capsys)
    assert line.startswith(f"error: {path}: {REFUSED}: {reason}"), line
    assert "weights_only" not in line
    assert not (tmp_path / "PWNED").exists()


def _market(root: Path) -> Path:
    """A tiny Market-1501 layout: 4 identities x 4 images x 2 cameras, plus query and gallery."""
    rng = np.random.default_rng(0)
    for split, pids in (
        ("bounding_box_train", range(1, 5)),
        ("query", [7, 8]),
        ("bounding_box_test", [7, 8]),
    ):
        (root / split).mkdir(parents=True, exist_ok=True)
        for pid in pids:
            for j in range(4 if split == "bounding_box_train" else 1):
                cam = 1 + j % 2 if split != "bounding_box_test" else 3
                img = rng.integers(0, 256, (32, 16, 3), dtype=np.uint8)
                cv2.imwrite(str(root / split / f"{pid:04d}_c{cam}s1_{j:06d}_01.jpg"), img)
    return root


def _tiny_yaml(path: Path, **model: str) -> Path:
    extra = "".join(f"  {k}: {v}\n" for k, v in model.items())
    path.write_text(
        "name: tiny\nseed: 0\n"
        "model:\n  arch: mobilenetv2\n  input_size: [32, 16]\n  embedding_dim: 16\n  width_mult: 0.25\n"
        + extra
        + "data:\n  datasets: [market1501]\n  p: 2\n  k: 2\n"
        "loss:\n  triplet_weight: 0.0\n"
        "optim:\n  epochs: 1\n  warmup_epochs: 0\n  milestones: []\n"
    )
    return path


@pytest.mark.parametrize("kind", ["malicious", "numpy", "plain pickle"])
def test_reid_export_and_eval_refuse_bad_checkpoints(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    bad_checkpoints: dict[str, tuple[Path, str]],
    kind: str,
) -> None:
    path, reason = bad_checkpoints[kind]
    assert main(["reid", "export", "--checkpoint", str(path), "--out", str(tmp_path / "m.onnx")]) == 2
    _assert_refused(capsys, path, reason, tmp_path)
    assert not (tmp_path / "m.onnx").exists()
    data = _market(tmp_path / "market")
    assert main(["reid", "eval", "--model", str(path), "--data", str(data), "--protocol", "market"]) == 2
    _assert_refused(capsys, path, reason, tmp_path)


def test_reid_train_refuses_bad_checkpoints_at_every_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_checkpoints: dict[str, tuple[Path, str]]
) -> None:
    pytest.importorskip("torch")
    data = _market(tmp_path / "market")
    path, reason = bad_checkpoints["malicious"]
    # --resume: OUT/last.pt is the attacker's file
    out = tmp_path / "run"
    out.mkdir()
    (out / "last.pt").write_bytes(path.read_bytes())
    cfg = _tiny_yaml(tmp_path / "tiny.yaml")
    args = ["reid", "train", "--config", str(cfg), "--data", str(data), "--no-progress", "--out", str(out)]
    assert main([*args, "--resume"]) == 2
    _assert_refused(capsys, out / "last.pt", reason, tmp_path)
    # model.init_checkpoint in the YAML
    cfg = _tiny_yaml(tmp_path / "init.yaml", init_checkpoint=str(path))
    assert (
        main(["reid", "train", "--config", str(cfg), "--data", str(data), "--out", str(tmp_path / "b")]) == 2
    )
    _assert_refused(capsys, path, reason, tmp_path)
    # --pretrained (MobileNetV2 ImageNet weights)
    cfg = _tiny_yaml(tmp_path / "pre.yaml")
    pre = ["reid", "train", "--config", str(cfg), "--data", str(data), "--pretrained", str(path)]
    assert main([*pre, "--out", str(tmp_path / "c")]) == 2
    _assert_refused(capsys, path, reason, tmp_path)


def test_checkpoints_that_are_not_torch_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch = pytest.importorskip("torch")
    cases = {
        "empty.pt": (b"", "not a torch checkpoint file (EOFError: the file ends early (empty or truncated))"),
        "text.pt": (b"hello, not a checkpoint\n", "not a torch checkpoint file"),
    }
    for name, (content, message) in cases.items():
        p = tmp_path / name
        p.write_bytes(content)
        assert main(["reid", "export", "--checkpoint", str(p), "--out", str(tmp_path / "m.onnx")]) == 2
        assert _error_line(capsys).startswith(f"error: {p}: {message}")
    p = tmp_path / "list.pt"
    torch.save([1, 2, 3], p)  # tensor-only, but not a training checkpoint
    assert main(["reid", "export", "--checkpoint", str(p), "--out", str(tmp_path / "m.onnx")]) == 2
    assert (
        _error_line(capsys)
        == f"error: {p}: not a tracker ReID checkpoint (needs 'model' and 'meta'; found list)"
    )
    p = tmp_path / "meta.pt"
    torch.save({"model": {"w": torch.zeros(2)}, "meta": '{"config": {}}'}, p)
    assert main(["reid", "export", "--checkpoint", str(p), "--out", str(tmp_path / "m.onnx")]) == 2
    assert (
        _error_line(capsys)
        == f"error: {p}: not a tracker ReID checkpoint: meta.num_classes is missing or not an integer"
    )
    assert main(["reid", "export", "--checkpoint", str(tmp_path), "--out", str(tmp_path / "m.onnx")]) == 2
    assert _error_line(capsys) == f"error: {tmp_path}: is a folder, expected a checkpoint file"


# ---------------------------------------------------------------------------------------------------
# ONNX ReID models that output NaN


def _nan_model(path: Path) -> Path:
    """``log(x)`` of the normalised crop: NaN for every dark pixel, already on the blank probe crop."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Log", ["x"], ["l"]), helper.make_node("Flatten", ["l"], ["y"], axis=1)],
        "nan",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 96])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _nan_expected(model: Path) -> str:
    return (
        f"error: {model}: the model outputs non-finite values (NaN or inf) for a blank crop; the file is "
        "broken or does not fit its preprocessing"
    )


def test_nan_reid_model_is_an_error_line_in_reid_eval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not os.environ.get("CI"):  # CI installs torch: there this test always runs
        pytest.importorskip("torch", reason="reid eval needs the train extra (torch)")
    model = _nan_model(tmp_path / "nan.onnx")
    data = _market(tmp_path / "market")
    assert main(["reid", "eval", "--model", str(model), "--data", str(data), "--protocol", "market"]) == 2
    assert _error_line(capsys) == _nan_expected(model)


def test_nan_reid_model_is_an_error_line_in_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _nan_model(tmp_path / "nan.onnx")
    expected = _nan_expected(model)
    frames = tmp_path / "frames"
    frames.mkdir()
    assert cv2.imwrite(str(frames / "0001.jpg"), np.zeros((48, 64, 3), np.uint8))
    dets = tmp_path / "det.txt"
    dets.write_text("1,-1,2,2,20,40,0.9\n")
    run = ["run", str(frames), "--dets", str(dets), "--reid", str(model), "--no-video", "--no-progress"]
    assert main([*run, "--out", str(tmp_path / "out")]) == 2
    assert _error_line(capsys) == expected
