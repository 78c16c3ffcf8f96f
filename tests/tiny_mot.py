"""A tiny MOTChallenge sequence on disk (``seqinfo.ini`` and ``det/det.txt``, no images), for tests
of commands that read datasets."""

from __future__ import annotations

from pathlib import Path


def write_sequence(root: Path, folder: str, det: str, *, name: str | None = None, length: int = 1) -> Path:
    """``root/train/<folder>`` with ``det`` as its ``det/det.txt`` and a ``seqinfo.ini`` naming it
    ``name`` (default: ``folder``), ``length`` frames at 10 frames/s, 64x64; returns the folder."""
    seq = root / "train" / folder
    (seq / "det").mkdir(parents=True)
    (seq / "det" / "det.txt").write_text(det)
    (seq / "seqinfo.ini").write_text(
        f"[Sequence]\nname={name or folder}\nimDir=img1\nframeRate=10\nseqLength={length}\nimWidth=64\n"
        "imHeight=64\nimExt=.jpg\n"
    )
    return seq
