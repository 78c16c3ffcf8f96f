"""The final-id outputs of a distributed multi-camera run, laid out as the local engine's.

Per camera ``<cam>.txt`` (MOTChallenge, final global ids), ``<cam>.jsonl`` and ``<cam>.tracks.npz``
(the appearance gallery), and ``global_ids.json`` (every link decision): the same files, written the
same way, as :func:`tracker.apps.multicam_run.run_cameras` writes them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..io.mot import ResultsWriter
from ..io.writers import JsonlWriter
from ..multicam.manager import LinkDecision
from ..reid.gallery import GalleryBuilder
from .identity import FinalFrame

__all__ = ["write_camera_outputs", "write_global_ids"]


def write_camera_outputs(
    out: Path, camera: str, source: str, frames: Sequence[FinalFrame], model: str
) -> dict[str, str]:
    """Write ``<camera>.txt``, ``<camera>.jsonl`` and (when any track has an embedding)
    ``<camera>.tracks.npz`` from the camera's frames with final ids; returns ``{name: path}``."""
    outputs: dict[str, str] = {}
    results = ResultsWriter()
    gallery = GalleryBuilder()
    with JsonlWriter(out / f"{camera}.jsonl") as jsonl:
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
    results.save(out / f"{camera}.txt")
    outputs[f"{camera}.txt"] = str(out / f"{camera}.txt")
    if len(gallery):
        g = gallery.build(camera, source=source, model=model)
        outputs[f"{camera}.tracks.npz"] = str(g.save(out / f"{camera}.tracks.npz"))
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
    path = out / "global_ids.json"
    path.write_text(json.dumps({"decisions": mapping}, indent=1) + "\n", encoding="utf-8")
    return str(path)
