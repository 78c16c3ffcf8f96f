"""The README's library example runs as written (the first Python block under "## Library"), on the
bundled sample clip, cut to its first frames so that the test stays quick."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tracker.io.sources as sources
from tracker.io.frame_source import FrameSource
from tracker.types import Tracks

README = Path(__file__).resolve().parent.parent / "README.md"
FRAMES = 8


class _FirstFrames:
    """A source as the example uses it (``fps``, iteration), ending after :data:`FRAMES` frames."""

    def __init__(self, src: FrameSource) -> None:
        self.fps = src.fps
        self._src = src

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        return itertools.islice(iter(self._src), FRAMES)


def _library_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Library\n", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_library_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = sources.open_source

    @contextlib.contextmanager
    def first_frames(spec: Any, **kwargs: Any) -> Iterator[_FirstFrames]:
        with real_open(spec, **kwargs) as src:
            yield _FirstFrames(src)

    # the example imports open_source from this module when it runs, so it gets the cut one
    monkeypatch.setattr(sources, "open_source", first_frames)
    scope: dict[str, Any] = {}
    exec(compile(_library_example(), str(README), "exec"), scope)  # (our own README)
    assert scope["frame_index"] == FRAMES
    assert scope["tracker"].frame_rate == 25.0  # the clip's own rate, read from the source
    tracks = scope["tracks"]
    assert isinstance(tracks, Tracks)
    assert len(tracks.ids) == len(tracks.boxes) == len(tracks.det_index)
    assert tracks.boxes.dtype.name == "float32"
