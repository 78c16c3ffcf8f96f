"""Camera setups of multi-camera runs: the camera list (``cameras.yaml``) and its linking section.

Camera list YAML (unknown keys are errors; relative paths are relative to the YAML file)::

    cameras:
      - id: left               # camera id (defaults to the source's name)
        source: left.mp4       # anything `run` accepts
        start_s: 0.0           # timestamp of the first frame on the common clock
        fps: null              # override the source's frame rate
        dets: null             # optional MOTChallenge det.txt: public detections instead of the detector
      - id: right
        source: right.mp4
    linking:                   # tracker.multicam.MultiCamConfig fields (transitions, time windows, ...)
      time_window_s: 10

A multi-camera DATASET (``python -m tracker bench DATASET``) is a folder with such a ``cameras.yaml``
whose cameras are MOTChallenge sequences; :func:`load_camera_truth` reads their ground truth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..config import load_yaml
from ..eval.multicam import CameraTruth, truth_for_cameras
from .config import MultiCamConfig, load_multicam_config, multicam_config_from_dict

__all__ = [
    "CameraSetup",
    "CameraSpec",
    "load_camera_setup",
    "load_camera_truth",
    "setup_from_sources",
]


@dataclass(frozen=True)
class CameraSpec:
    """One camera of a multi-camera run.

    Attributes:
        id: camera id (used in outputs and in the linking config's transitions).
        source: video path, image folder or glob, webcam index or URL.
        start_s: timestamp (seconds) of the camera's first frame on the common clock.
        fps: frame rate override (``None``: the source's own, or 30).
        dets: optional MOTChallenge ``det.txt`` used instead of the detector for this camera.
    """

    id: str
    source: str
    start_s: float = 0.0
    fps: float | None = None
    dets: str | None = None


@dataclass(frozen=True)
class CameraSetup:
    """Cameras plus the cross-camera linking settings."""

    cameras: tuple[CameraSpec, ...]
    linking: MultiCamConfig = field(default_factory=MultiCamConfig)


_CAMERA_KEYS = {"id", "source", "start_s", "fps", "dets"}


def load_camera_setup(path: str | Path) -> CameraSetup:
    """Read a camera list YAML (see the module docstring).

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: bad YAML, unknown keys, missing ``source``, repeated camera ids, or a bad
            ``linking`` section (each message names the file and the entry).
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"camera list not found: {path}")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with 'cameras' (and optionally 'linking')")
    unknown = set(data) - {"cameras", "linking"}
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {sorted(unknown)}; expected 'cameras' and 'linking'")
    cams = data.get("cameras")
    if not isinstance(cams, list) or not cams:
        raise ValueError(f"{path}: 'cameras' must be a non-empty list")
    specs = []
    for i, c in enumerate(cams):
        where = f"{path}: cameras[{i}]"
        if isinstance(c, str):
            c = {"source": c}
        if not isinstance(c, dict):
            raise ValueError(f"{where}: expected a mapping or a source string, got {type(c).__name__}")
        bad = set(c) - _CAMERA_KEYS
        if bad:
            raise ValueError(f"{where}: unknown key(s) {sorted(bad)}; expected {sorted(_CAMERA_KEYS)}")
        if "source" not in c:
            raise ValueError(f"{where}: 'source' is required")
        src = str(c["source"])
        if not src.isdigit() and "://" not in src and not Path(src).is_absolute():
            src = str(path.parent / src)
        dets = c.get("dets")
        if dets is not None and not Path(str(dets)).is_absolute():
            dets = str(path.parent / str(dets))
        try:
            start = float(c.get("start_s", 0.0))
            fps = None if c.get("fps") is None else float(c["fps"])
        except (TypeError, ValueError):
            raise ValueError(f"{where}: start_s and fps must be numbers") from None
        if not math.isfinite(start) or (fps is not None and not (math.isfinite(fps) and fps > 0)):
            raise ValueError(f"{where}: start_s must be finite and fps > 0")
        cam_id = str(c.get("id", ""))
        if cam_id:
            _check_camera_id(cam_id, where)
        specs.append(CameraSpec(cam_id, src, start, fps, None if dets is None else str(dets)))
    linking = multicam_config_from_dict(data.get("linking"), f"{path}: linking")
    return _name_cameras(specs, linking)


def _check_camera_id(cam_id: str, where: str) -> None:
    """A camera id names the camera's output files (``OUT/<id>.txt``, ...): ``../evil`` wrote outside
    the output folder and ``x/y`` made a subfolder. Refused: path separators, a leading dot, control
    characters."""
    if "/" in cam_id or "\\" in cam_id or cam_id.startswith(".") or any(ord(ch) < 32 for ch in cam_id):
        raise ValueError(
            f"{where}: id {cam_id!r} names the camera's output files: no '/', '\\', leading '.' or "
            "control characters"
        )


def setup_from_sources(
    sources: Sequence[str], linking: MultiCamConfig | str | Path | None = None, fps: float | None = None
) -> CameraSetup:
    """Cameras from plain sources (ids from the source names, made unique) and default or given
    linking; ``fps``: every camera's frame rate override (``None``: each source's own)."""
    specs = [CameraSpec("", str(s), fps=fps) for s in sources]
    return _name_cameras(specs, load_multicam_config(None if linking is None else linking))


def _name_cameras(specs: list[CameraSpec], linking: MultiCamConfig) -> CameraSetup:
    out: list[CameraSpec] = []
    used: set[str] = set()
    for i, s in enumerate(specs):
        cid = s.id
        if not cid:
            text = s.source.rstrip("/")
            if text.isdigit():
                cid = f"webcam{text}"
            else:
                path = Path(text.split("://", 1)[-1])
                tail = path.name
                if tail in ("img1", "images", "frames") and path.parent.name:
                    tail = path.parent.name  # a MOTChallenge sequence's image folder: name it by the sequence
                cid = Path(tail).stem if Path(tail).suffix and not any(ch in tail for ch in "*?[") else tail
            cid = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in cid) or f"cam{i}"
            base, k = cid, 2
            while cid in used:
                cid, k = f"{base}_{k}", k + 1
        elif cid in used:
            raise ValueError(f"camera id {cid!r} is used twice")
        used.add(cid)
        out.append(replace(s, id=cid))
    return CameraSetup(tuple(out), linking)


def load_camera_truth(dataset: str | Path) -> list[CameraTruth]:
    """Ground truth of every camera of a multi-camera dataset (``DATASET/cameras.yaml``; each camera's
    ``source`` is a MOTChallenge image folder, its truth ``<source>/../gt/gt.txt``).

    Raises:
        FileNotFoundError: ``cameras.yaml`` or a camera's ``gt/gt.txt`` / ``seqinfo.ini`` is missing.
        ValueError: a malformed file (named in the message).
    """
    return truth_for_cameras(load_camera_setup(Path(dataset) / "cameras.yaml").cameras)
