"""Person ReID datasets: file-name parsers, split loaders and a torch ``Dataset`` over samples.

Every loader returns a :class:`ReidSplits` of :class:`Sample` lists (train / query / gallery). A sample
is an image path (or a crop of a frame, for MOTChallenge sequences), a person id and a camera id.
Person ids are the dataset's own; :func:`relabel` maps the train ids to ``0..C-1`` for the classifier.

Layouts (``root`` = the dataset's own folder):

* Market-1501: ``bounding_box_train/``, ``query/``, ``bounding_box_test/``, ``PPPP_cCsS_FFFFFF_NN.jpg``
  (``-1`` junk and ``0000`` distractors are skipped in train; ``-1`` is skipped everywhere);
* DukeMTMC-reID: the same folders, ``PPPP_cC_fFFFFFFF.jpg``;
* MSMT17: ``list_train.txt``, ``list_val.txt``, ``list_query.txt``, ``list_gallery.txt`` with
  ``relative/path.jpg label`` lines, images under ``train/`` (train, val) and ``test/`` (query,
  gallery); the camera is the third ``_`` field of the file name (``0000_000_01_...`` -> camera 1);
* CUHK03: ``labeled/`` or ``detected/`` with ``train/`` (and optionally ``test/``) of ``PPPP_KK.jpg``;
  ``KK`` 00-04 = first camera, 05-09 = second; in ``test/`` the first camera is query;
* CUHK01: ``campus/PPPPNNN.jpg``; ``NNN`` 001/002 = camera A (0), 003/004 = camera B (1); person id
  ranges select train and test, and the test query is camera A, the gallery camera B;
* a MOTChallenge sequence with ``gt/gt.txt``, ``seqinfo.ini`` and ``img1/``: crops of visible people.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import torch
from numpy.typing import NDArray
from torch.utils.data import Dataset

__all__ = [
    "DATASETS",
    "ImageDataset",
    "ReidSplits",
    "Sample",
    "load_cuhk01",
    "load_cuhk03",
    "load_dataset",
    "load_dukemtmc",
    "load_market1501",
    "load_mot_sequence",
    "load_msmt17",
    "parse_cuhk01_name",
    "parse_cuhk03_name",
    "parse_duke_name",
    "parse_market_name",
    "parse_msmt17_name",
    "read_image",
    "relabel",
]

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp")


class Sample(NamedTuple):
    """One image of a person.

    Attributes:
        path: image file (a whole crop, or a frame when ``box`` is set).
        pid: person id (the dataset's own id, or a relabelled one).
        camid: camera id (0-based).
        box: ``(x1, y1, x2, y2)`` pixels to crop from ``path``, or ``None`` for a whole image.
        attributes: binary attribute labels (``0``/``1``, ``-1`` = unknown), or ``None``.
    """

    path: str
    pid: int
    camid: int
    box: tuple[float, float, float, float] | None = None
    attributes: tuple[int, ...] | None = None


@dataclass
class ReidSplits:
    """A dataset's splits. ``query``/``gallery`` may be empty (train-only data)."""

    name: str
    train: list[Sample] = field(default_factory=list)
    query: list[Sample] = field(default_factory=list)
    gallery: list[Sample] = field(default_factory=list)

    @property
    def num_train_pids(self) -> int:
        """Number of distinct person ids in ``train``."""
        return len({s.pid for s in self.train})


# ------------------------------------------------------------------------------ name parsers

_MARKET = re.compile(r"^(-?\d+)_c(\d)s(\d)_(\d+)_(\d+)$")
_DUKE = re.compile(r"^(\d+)_c(\d+)_f(\d+)$")
_MSMT = re.compile(r"^(\d+)_(\d+)_(\d+)_")
_CUHK03 = re.compile(r"^(\d{4})_(\d{2})$")
_CUHK01 = re.compile(r"^(\d{4})(\d{3})$")


def parse_market_name(name: str) -> tuple[int, int]:
    """``PPPP_cCsS_FFFFFF_NN.jpg`` -> ``(pid, camid)`` with camid 0-based; pid may be ``-1`` (junk).

    Raises:
        ValueError: the name does not match (names it).
    """
    m = _MARKET.match(Path(name).stem)
    if m is None:
        raise ValueError(f"{name}: not a Market-1501 file name (expected PPPP_cCsS_FFFFFF_NN.jpg)")
    return int(m.group(1)), int(m.group(2)) - 1


def parse_duke_name(name: str) -> tuple[int, int]:
    """``PPPP_cC_fFFFFFFF.jpg`` -> ``(pid, camid)`` (camid 0-based). Raises ValueError on a bad name."""
    m = _DUKE.match(Path(name).stem)
    if m is None:
        raise ValueError(f"{name}: not a DukeMTMC-reID file name (expected PPPP_cC_fFFFFFFF.jpg)")
    return int(m.group(1)), int(m.group(2)) - 1


def parse_msmt17_name(name: str) -> int:
    """Camera id (0-based) of an MSMT17 image ``PPPP_SSS_CC_...jpg``. Raises ValueError on a bad name."""
    m = _MSMT.match(Path(name).name)
    if m is None:
        raise ValueError(f"{name}: not an MSMT17 file name (expected PPPP_SSS_CC_....jpg)")
    return int(m.group(3)) - 1


def parse_cuhk03_name(name: str) -> tuple[int, int]:
    """``PPPP_KK.jpg`` -> ``(pid, camid)``: camid 0 for ``KK`` 00-04, 1 for 05-09."""
    m = _CUHK03.match(Path(name).stem)
    if m is None or int(m.group(2)) > 9:
        raise ValueError(f"{name}: not a CUHK03 file name (expected PPPP_KK.jpg, KK 00-09)")
    return int(m.group(1)), 0 if int(m.group(2)) < 5 else 1


def parse_cuhk01_name(name: str) -> tuple[int, int]:
    """``PPPPNNN.jpg`` -> ``(pid, camid)``: camid 0 (camera A) for ``NNN`` 001/002, 1 (B) for 003/004."""
    m = _CUHK01.match(Path(name).stem)
    if m is None or not 1 <= int(m.group(2)) <= 4:
        raise ValueError(f"{name}: not a CUHK01 file name (expected PPPPNNN.jpg, NNN 001-004)")
    return int(m.group(1)), 0 if int(m.group(2)) <= 2 else 1


# ------------------------------------------------------------------------------ loaders


def _need_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise ValueError(f"{path}: {what} folder not found")
    return path


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS)


def _parse_folder(
    folder: Path, parse: Callable[[str], tuple[int, int]], skip_pids: Sequence[int] = (-1,)
) -> list[Sample]:
    out = []
    for p in _images(_need_dir(folder, "image")):
        pid, camid = parse(p.name)
        if pid not in skip_pids:
            out.append(Sample(str(p), pid, camid))
    return out


def load_market1501(root: str | Path) -> ReidSplits:
    """Market-1501 (see the module docstring). Raises ValueError on a missing folder or bad name."""
    r = Path(root)
    return ReidSplits(
        "market1501",
        _parse_folder(r / "bounding_box_train", parse_market_name, (-1, 0)),
        _parse_folder(r / "query", parse_market_name),
        _parse_folder(r / "bounding_box_test", parse_market_name),
    )


def load_dukemtmc(root: str | Path) -> ReidSplits:
    """DukeMTMC-reID (see the module docstring). Raises ValueError on a missing folder or bad name."""
    r = Path(root)
    return ReidSplits(
        "dukemtmc",
        _parse_folder(r / "bounding_box_train", parse_duke_name),
        _parse_folder(r / "query", parse_duke_name),
        _parse_folder(r / "bounding_box_test", parse_duke_name),
    )


def _msmt_list(root: Path, list_name: str, image_dir: str) -> list[Sample]:
    path = root / list_name
    if not path.is_file():
        raise ValueError(f"{path}: MSMT17 list file not found")
    out = []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
            raise ValueError(f"{path}:{lineno}: expected 'relative/path.jpg label', got {line!r}")
        camid = parse_msmt17_name(parts[0])
        out.append(Sample(str(root / image_dir / parts[0]), int(parts[1]), camid))
    return out


def load_msmt17(root: str | Path, include_val: bool = True) -> ReidSplits:
    """MSMT17 from its list files; ``include_val`` adds ``list_val.txt`` to train (the usual setup)."""
    r = Path(root)
    train = _msmt_list(r, "list_train.txt", "train")
    if include_val and (r / "list_val.txt").is_file():
        train += _msmt_list(r, "list_val.txt", "train")
    return ReidSplits(
        "msmt17", train, _msmt_list(r, "list_query.txt", "test"), _msmt_list(r, "list_gallery.txt", "test")
    )


def load_cuhk03(root: str | Path, variant: str = "labeled") -> ReidSplits:
    """CUHK03 ``root/variant/train`` (and ``root/variant/test`` when present: camera 0 = query,
    camera 1 = gallery). ``variant`` is ``"labeled"`` or ``"detected"``."""
    if variant not in ("labeled", "detected"):
        raise ValueError(f"CUHK03 variant: expected 'labeled' or 'detected', got {variant!r}")
    base = _need_dir(Path(root) / variant, f"CUHK03 {variant}")
    train = _parse_folder(base / "train", parse_cuhk03_name)
    query: list[Sample] = []
    gallery: list[Sample] = []
    if (base / "test").is_dir():
        test = _parse_folder(base / "test", parse_cuhk03_name)
        query = [s for s in test if s.camid == 0]
        gallery = [s for s in test if s.camid == 1]
    return ReidSplits(f"cuhk03-{variant}", train, query, gallery)


def load_cuhk01(
    root: str | Path,
    train_ids: tuple[int, int] = (1, 485),
    test_ids: tuple[int, int] = (486, 971),
) -> ReidSplits:
    """CUHK01 ``root/campus``: persons in ``train_ids`` (inclusive range) train on all four images;
    persons in ``test_ids`` are tested with camera A (001, 002) as query and camera B as gallery."""
    samples = _parse_folder(_need_dir(Path(root) / "campus", "CUHK01 campus"), parse_cuhk01_name)
    train = [s for s in samples if train_ids[0] <= s.pid <= train_ids[1]]
    test = [s for s in samples if test_ids[0] <= s.pid <= test_ids[1]]
    return ReidSplits(
        "cuhk01",
        train,
        [s for s in test if s.camid == 0],
        [s for s in test if s.camid == 1],
    )


def load_mot_sequence(
    seq_dir: str | Path,
    camid: int = 0,
    min_visibility: float = 0.5,
    min_height: float = 50.0,
    every: int = 5,
    pid_offset: int = 0,
) -> ReidSplits:
    """Training crops from a MOTChallenge sequence's ground truth (train split only).

    Keeps rows with ``consider == 1``, class 1 (pedestrian), visibility ``>= min_visibility`` and box
    height ``>= min_height``, on every ``every``-th frame that has an image in ``img1/``. The person id
    is ``pid_offset + track id``; the camera is ``camid`` (one per sequence).
    """
    from tracker.io.mot import read_ground_truth, read_seqinfo

    seq = Path(seq_dir)
    info = read_seqinfo(seq)
    gt = read_ground_truth(seq / "gt" / "gt.txt")
    img_dir = _need_dir(seq / info.im_dir, "image")
    if every < 1:
        raise ValueError(f"every: must be >= 1, got {every}")
    train = []
    for frame in sorted(gt.frames):
        if (frame - 1) % every:
            continue
        img = img_dir / f"{frame:06d}{info.im_ext}"
        if not img.is_file():
            continue
        g = gt[frame]
        heights = g.boxes[:, 3] - g.boxes[:, 1]
        keep = g.consider & (g.classes == 1) & (g.visibility >= min_visibility) & (heights >= min_height)
        for i in np.flatnonzero(keep):
            x1, y1, x2, y2 = (float(v) for v in g.boxes[i])
            train.append(Sample(str(img), pid_offset + int(g.ids[i]), camid, (x1, y1, x2, y2)))
    return ReidSplits(f"mot:{info.name}", train)


DATASETS: dict[str, tuple[str, Callable[..., ReidSplits]]] = {
    "market1501": ("Market-1501", load_market1501),
    "dukemtmc": ("DukeMTMC-reID", load_dukemtmc),
    "msmt17": ("MSMT17", load_msmt17),
    "cuhk03": ("CUHK03", load_cuhk03),
    "cuhk01": ("CUHK01", load_cuhk01),
}
"""Dataset name -> (default folder name under a data root, loader)."""


def load_dataset(name: str, data_root: str | Path, **kwargs: object) -> ReidSplits:
    """Load ``name`` from ``data_root/<folder>`` (or ``data_root`` itself if it is that folder).

    ``name`` may also be ``"mot:PATH"`` for a MOTChallenge sequence (relative to ``data_root``).

    Raises:
        ValueError: unknown name or missing folder.
    """
    root = Path(data_root)
    if name.startswith("mot:"):
        seq = Path(name[4:])
        return load_mot_sequence(seq if seq.is_absolute() else root / seq, **kwargs)  # type: ignore[arg-type]
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)} or 'mot:SEQ_DIR'")
    folder, loader = DATASETS[name]
    path = root / folder if (root / folder).is_dir() else root
    return loader(path, **kwargs)


def relabel(samples: Sequence[Sample], offset: int = 0) -> tuple[list[Sample], dict[int, int]]:
    """Map the person ids of ``samples`` to ``offset .. offset+C-1`` (in sorted id order).

    Returns the relabelled samples and the mapping ``{original pid: label}``.
    """
    mapping = {p: offset + i for i, p in enumerate(sorted({s.pid for s in samples}))}
    return [s._replace(pid=mapping[s.pid]) for s in samples], mapping


# ------------------------------------------------------------------------------ images


def read_image(sample: Sample, size: tuple[int, int]) -> NDArray[np.uint8]:
    """Read a sample as ``uint8[H,W,3]`` **RGB**, cropped (if ``box``) and resized to ``size=(H,W)``.

    Raises:
        ValueError: the image cannot be read.
    """
    img = cv2.imread(sample.path, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"{sample.path}: cannot read image")
    if sample.box is not None:
        h, w = img.shape[:2]
        x1, y1, x2, y2 = sample.box
        xa, ya = int(np.clip(np.floor(x1), 0, w - 1)), int(np.clip(np.floor(y1), 0, h - 1))
        xb, yb = max(int(np.clip(np.ceil(x2), 0, w)), xa + 1), max(int(np.clip(np.ceil(y2), 0, h)), ya + 1)
        img = img[ya:yb, xa:xb]
    img = cv2.resize(img, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(img[..., ::-1])


class ImageDataset(Dataset):
    """``Dataset`` over samples: item ``i`` -> ``(image float32[3,H,W], pid, camid, attributes)``.

    The image is read by :func:`read_image` (RGB, resized), scaled to ``[0,1]``, normalised with
    ``mean``/``std`` and passed through ``transform`` (a callable on ``float32[3,H,W]`` tensors).
    ``attributes`` is ``float32[A]`` (``-1`` = unknown) or an empty tensor.
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        size: tuple[int, int],
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        mean: tuple[float, float, float] = (0.485, 0.456, 0.406),
        std: tuple[float, float, float] = (0.229, 0.224, 0.225),
    ) -> None:
        self.samples = list(samples)
        self.size = size
        self.transform = transform
        self.mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int, torch.Tensor]:
        s = self.samples[i]
        x = torch.from_numpy(read_image(s, self.size)).permute(2, 0, 1).float().div_(255.0)
        x = (x - self.mean) / self.std
        if self.transform is not None:
            x = self.transform(x)
        attrs = torch.tensor(s.attributes if s.attributes is not None else (), dtype=torch.float32)
        return x, s.pid, s.camid, attrs
