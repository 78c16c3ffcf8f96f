"""The final-id outputs of a multi-camera run, written once for every engine.

Per camera ``<cam>.txt`` (MOTChallenge, final global ids), ``<cam>.jsonl`` and ``<cam>.tracks.npz``
(the appearance gallery), and ``global_ids.json`` (every link decision). The local engine
(:func:`tracker.apps.multicam_run.run_cameras`) and the Ray engine both write them with these
functions, so their files are the same by construction.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from ..io.atomic import write_text_atomic
from ..io.mot import ResultsWriter
from ..io.writers import JsonlWriter
from ..multicam.manager import LinkDecision
from ..reid.gallery import GalleryBuilder
from ..types import Tracks

__all__ = ["GLOBAL_IDS_NAME", "FinalFrame", "camera_output_paths", "write_camera_outputs", "write_global_ids"]


class FinalFrame(Protocol):
    """One frame of one camera with its final global ids: ``tracks.ids`` are the final ids (``-1``
    where none), ``embeddings`` ``float32[M,D]`` per track or ``None``."""

    @property
    def frame_index(self) -> int: ...

    @property
    def tracks(self) -> Tracks: ...

    @property
    def embeddings(self) -> NDArray[np.float32] | None: ...


def camera_output_paths(out: Path, camera: str) -> list[Path]:
    """The files :func:`write_camera_outputs` writes for ``camera`` in ``out`` (the gallery only when a
    track has an embedding), so a run can check them before its first frame."""
    return [out / f"{camera}.txt", out / f"{camera}.jsonl", out / f"{camera}.tracks.npz"]


GLOBAL_IDS_NAME = "global_ids.json"
"""What :func:`write_global_ids` writes in its folder."""


def write_camera_outputs(
    out: Path, camera: str, source: str, frames: Iterable[FinalFrame], model: str
) -> dict[str, str]:
    """Write ``<camera>.txt``, ``<camera>.jsonl`` and (when any track has an embedding)
    ``<camera>.tracks.npz`` from the camera's frames with final ids; returns ``{name: path}``."""
    txt, jsonl_path, npz = camera_output_paths(out, camera)
    outputs: dict[str, str] = {}
    results = ResultsWriter()
    gallery = GalleryBuilder()
    with JsonlWriter(jsonl_path) as jsonl:
        for fr in frames:
            tr = fr.tracks
            results.add(fr.frame_index, tr)
            jsonl.write(fr.frame_index, tr)
            if fr.embeddings is not None:
                for i in np.nonzero(tr.det_index >= 0)[0].tolist():
                    if np.any(fr.embeddings[i]):
                        gallery.add(
                            fr.frame_index, int(tr.ids[i]), tr.boxes[i], float(tr.scores[i]), fr.embeddings[i]
                        )
    results.save(txt)
    outputs[txt.name] = str(txt)
    if len(gallery):
        g = gallery.build(camera, source=source, model=model)
        outputs[npz.name] = str(g.save(npz))
    return outputs


def write_global_ids(out: Path, decisions: Sequence[LinkDecision]) -> str:
    """Write ``global_ids.json`` (one entry per decided tracklet); returns its path."""
    mapping = [
        {
            "camera": d.camera,
            "local_id": d.local_id,
            "decision_time_s": d.decision_time,
            "global_id": d.global_id,
            "linked_from": list(d.linked_from) if d.linked_from else None,
            "distance": None if math.isnan(d.distance) else round(d.distance, 4),
        }
        for d in decisions
    ]
    path = out / GLOBAL_IDS_NAME
    write_text_atomic(path, json.dumps({"decisions": mapping}, indent=1) + "\n")
    return str(path)
