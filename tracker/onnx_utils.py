"""ONNX Runtime helpers shared by the model wrappers (ReID embedders, detectors).

* :func:`select_providers` picks execution providers (CUDA first, then CPU, by default) and rejects a
  requested provider that this ONNX Runtime build does not have;
* :func:`make_session` opens a model with sensible session options (no spin-waiting threads, a thread
  count the caller can set) and logs the providers ONNX Runtime actually uses (it silently falls back
  to CPU when e.g. the CUDA libraries cannot be loaded);
* :class:`TensorInfo` / :func:`describe_inputs` / :func:`describe_outputs` describe a model's inputs
  and outputs with dynamic dimensions as ``None``;
* :func:`inspect_image_input` finds the single 4-D image input of a model and its layout (NCHW or NHWC),
  batch size and height/width, and raises :class:`ValueError` naming the model when it does not fit.

Nothing here is specific to one model family.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnxruntime as ort

__all__ = [
    "DEFAULT_PROVIDER_PREFERENCE",
    "DEFAULT_THREADS",
    "ImageInput",
    "TensorInfo",
    "describe_inputs",
    "describe_outputs",
    "inspect_image_input",
    "make_session",
    "model_metadata",
    "select_providers",
]

logger = logging.getLogger(__name__)

DEFAULT_PROVIDER_PREFERENCE: tuple[str, ...] = ("CUDAExecutionProvider", "CPUExecutionProvider")
"""Providers used when none are requested, in order of preference, among those available."""

DEFAULT_THREADS: int | None = None
"""Intra-op threads when the caller passes ``threads=None``: ``None`` = ONNX Runtime's own choice (one
per physical core). Chosen by an A/B on this project's 2-core machine (``benchmarks/results/detectors_sessions.md``); sessions never spin (see :func:`make_session`)."""

_ORT_DTYPES: dict[str, type[np.generic]] = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(uint8)": np.uint8,
    "tensor(int8)": np.int8,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(bool)": np.bool_,
}


def select_providers(requested: Sequence[str] | None, available: Sequence[str] | None = None) -> list[str]:
    """Execution providers to open a session with.

    Args:
        requested: provider names in order of preference (e.g. ``["CUDAExecutionProvider",
            "CPUExecutionProvider"]``), or ``None`` for the default: those of
            :data:`DEFAULT_PROVIDER_PREFERENCE` that are available.
        available: providers this ONNX Runtime build offers; ``None`` asks
            ``onnxruntime.get_available_providers()`` (pass a list to test the logic).

    Returns:
        The chosen provider names, in order of preference, without duplicates.

    Raises:
        ValueError: a requested provider is not available (the message lists the available ones), the
            request is empty, or no default provider is available.
    """
    avail = list(ort.get_available_providers() if available is None else available)
    if requested is None:
        chosen = [p for p in DEFAULT_PROVIDER_PREFERENCE if p in avail]
        if not chosen:
            raise ValueError(
                f"none of the default execution providers {list(DEFAULT_PROVIDER_PREFERENCE)} is "
                f"available; available: {avail}"
            )
    else:
        if isinstance(requested, str):
            raise ValueError(f"providers must be a list of names, got the string {requested!r}")
        chosen = list(dict.fromkeys(requested))
        if not chosen:
            raise ValueError(f"empty list of execution providers requested; available: {avail}")
        missing = [p for p in chosen if p not in avail]
        if missing:
            raise ValueError(f"execution provider(s) {missing} not available; available: {avail}")
    logger.info("ONNX Runtime execution providers chosen: %s (available: %s)", chosen, avail)
    return chosen


def make_session(
    path: str | Path,
    providers: Sequence[str] | None = None,
    threads: int | None = None,
    *,
    allow_spinning: bool = False,
) -> ort.InferenceSession:
    """Open an ONNX model with ONNX Runtime.

    Args:
        path: the ``.onnx`` file.
        providers: requested execution providers (see :func:`select_providers`); ``None`` = default.
        threads: intra-op thread count; ``None`` = :data:`DEFAULT_THREADS`.
        allow_spinning: let ONNX Runtime's intra- and inter-op worker threads busy-wait for work
            (its own default). Off here: on a small CPU that also decodes video, tracks and runs other
            processes, spinning threads steal the cores the rest of the frame needs (``run`` was 2.5x
            slower on 2 cores, issue 13), so ``session.intra_op.allow_spinning`` and
            ``session.inter_op.allow_spinning`` are set to ``0``. ``True`` is for A/B measurements.

    Returns:
        The inference session. The providers it actually uses are logged at info level (and a warning
        is logged when the first choice was not taken, e.g. CUDA libraries missing).

    Raises:
        FileNotFoundError: ``path`` does not exist (the message names it).
        ValueError: the file is not a loadable ONNX model, a provider is unavailable, or ``threads < 1``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ONNX model not found: {path}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
    chosen = select_providers(providers)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only; our logger reports what matters
    n_threads = DEFAULT_THREADS if threads is None else threads
    if n_threads is not None:
        options.intra_op_num_threads = n_threads
    spin = "1" if allow_spinning else "0"
    options.add_session_config_entry("session.intra_op.allow_spinning", spin)
    options.add_session_config_entry("session.inter_op.allow_spinning", spin)
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=chosen)
    except Exception as exc:  # ORT raises its own exception classes (InvalidProtobuf, Fail, ...)
        raise ValueError(f"cannot load ONNX model {path}: {exc}") from exc
    used = session.get_providers()
    logger.info("ONNX model %s runs on %s", path.name, used)
    if used and used[0] != chosen[0]:
        logger.warning(
            "ONNX model %s: requested provider %s was not used, running on %s", path.name, chosen[0], used
        )
    return session


@dataclass(frozen=True)
class TensorInfo:
    """One model input or output.

    Attributes:
        name: the tensor name.
        shape: one entry per dimension: a positive ``int`` for a fixed size, ``None`` for a dynamic
            (symbolic, unknown or non-positive) one.
        type: the ONNX type string, e.g. ``"tensor(float)"``.
    """

    name: str
    shape: tuple[int | None, ...]
    type: str

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def dtype(self) -> np.dtype[Any] | None:
        """The numpy dtype for :attr:`type`, or ``None`` for types without one here."""
        t = _ORT_DTYPES.get(self.type)
        return None if t is None else np.dtype(t)


def _dim(d: Any) -> int | None:
    if isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0:
        return int(d)
    return None


def _describe(args: Sequence[Any]) -> list[TensorInfo]:
    return [
        TensorInfo(a.name, tuple(_dim(d) for d in (a.shape if a.shape is not None else [])), str(a.type))
        for a in args
    ]


def describe_inputs(session: ort.InferenceSession) -> list[TensorInfo]:
    """The session's inputs, dynamic dimensions as ``None``."""
    return _describe(session.get_inputs())


def describe_outputs(session: ort.InferenceSession) -> list[TensorInfo]:
    """The session's outputs, dynamic dimensions as ``None``."""
    return _describe(session.get_outputs())


def model_metadata(session: ort.InferenceSession) -> dict[str, str]:
    """The model's ``metadata_props`` (custom key/value strings), possibly empty."""
    return dict(session.get_modelmeta().custom_metadata_map)


def _show(shape: Sequence[int | None]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


@dataclass(frozen=True)
class ImageInput:
    """The single image input of a model.

    Attributes:
        name: input tensor name.
        layout: ``"NCHW"`` (channels at position 1) or ``"NHWC"`` (channels at position 3).
        batch: the fixed batch size, or ``None`` when the batch dimension is dynamic.
        height: input height in pixels, or ``None`` when dynamic.
        width: input width in pixels, or ``None`` when dynamic.
        dtype: numpy dtype the input expects.
        shape: the 4-D shape as declared (``None`` = dynamic).
    """

    name: str
    layout: Literal["NCHW", "NHWC"]
    batch: int | None
    height: int | None
    width: int | None
    dtype: np.dtype[Any]
    shape: tuple[int | None, ...]


def inspect_image_input(session: ort.InferenceSession, model_path: str | Path) -> ImageInput:
    """Find and check a model's single 4-D, 3-channel image input.

    Args:
        session: the open session.
        model_path: the model file, named in error messages.

    Returns:
        The input's name, layout, batch and size (see :class:`ImageInput`).

    Raises:
        ValueError: the model does not have exactly one input, or it is not rank 4, or neither
            dimension 1 nor dimension 3 is a fixed 3 (or both are), or its element type is unknown. The
            message names the model file and the input shape seen.
    """
    inputs = describe_inputs(session)
    if len(inputs) != 1:
        seen = ", ".join(f"{i.name} {_show(i.shape)}" for i in inputs)
        raise ValueError(f"{model_path}: expected a single image input, found {len(inputs)}: {seen}")
    info = inputs[0]
    where = f"{model_path}: input {info.name!r} has shape {_show(info.shape)}"
    if info.rank != 4:
        raise ValueError(f"{where}; expected rank 4 ([N,3,H,W] or [N,H,W,3])")
    nchw, nhwc = info.shape[1] == 3, info.shape[3] == 3
    if nchw == nhwc:
        why = "both dimension 1 and 3 are 3" if nchw else "no dimension of size 3 at position 1 or 3"
        raise ValueError(f"{where}; cannot tell the channel layout ({why}); expected [N,3,H,W] or [N,H,W,3]")
    dtype = info.dtype
    if dtype is None:
        raise ValueError(f"{where}; unsupported element type {info.type}")
    if nchw:
        return ImageInput(info.name, "NCHW", info.shape[0], info.shape[2], info.shape[3], dtype, info.shape)
    return ImageInput(info.name, "NHWC", info.shape[0], info.shape[1], info.shape[2], dtype, info.shape)
