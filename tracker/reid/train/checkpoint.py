"""Training checkpoints on disk: tensor-only reading of any ``.pt`` file, and the checkpoint format.

Every ``.pt`` the toolkit reads (``--resume``, ``--checkpoint``, ``--model x.pt``,
``model.init_checkpoint``, ``model.pretrained``) goes through :func:`load_tensor_file`:
``torch.load(weights_only=True)``, which only rebuilds tensors and plain containers and never runs code
from the file. A file that needs anything else (a pickled object with a ``__reduce__`` payload, NumPy
arrays, a model object) is refused with a :class:`ValueError`::

    <path>: not a tensor-only checkpoint (refusing to unpickle arbitrary objects): <short reason>

and never with torch's advice to retry with ``weights_only=False``. A file that is not a torch file
at all (text, truncated, empty) is a :class:`ValueError` ``<path>: not a torch checkpoint file: ...``.

A training checkpoint is a dict ``{"model": state_dict, "optimizer": state_dict (optional), "meta":
JSON text}``; :func:`load_checkpoint` checks that layout and the meta keys before anyone uses them.
"""

from __future__ import annotations

import io
import json
import pickle
import re
import warnings
from pathlib import Path
from typing import Any

import torch

from ...io.atomic import atomic_write

__all__ = [
    "CHECKPOINT_FORMAT",
    "META_KEYS",
    "load_checkpoint",
    "load_tensor_file",
    "save_checkpoint_state",
]

CHECKPOINT_FORMAT = "tracker.reid.train/1"
"""``meta["format"]`` of the checkpoints this toolkit writes."""

META_KEYS: dict[str, type] = {"config": dict, "num_classes": int, "epoch": int}
"""Keys every checkpoint ``meta`` must hold, with their JSON types."""

_REFUSED = "not a tensor-only checkpoint (refusing to unpickle arbitrary objects)"


def _refusal_reason(message: str) -> str:
    """A short reason from torch's weights-only error text, without its advice to disable the check."""
    found = re.search(r"GLOBAL ([\w.]+)", message)
    if found:
        return f"it needs the Python object {found.group(1)}, which is not a tensor or plain container"
    found = re.search(r"Unsupported operand (\d+)", message)
    if found:
        return f"pickle opcode {found.group(1)} is not allowed (a plain pickle, not a torch.save file?)"
    found = re.search(r"WeightsUnpickler error:\s*([^\n]+)", message)
    if found and "weights_only" not in found.group(1):
        return found.group(1).strip()[:200]
    return "it holds something other than tensors and plain containers"


def load_tensor_file(source: str | Path | bytes, label: str | Path | None = None) -> Any:
    """``torch.load(source, map_location="cpu", weights_only=True)`` with errors that name the file.

    Args:
        source: a path, or the file's bytes (e.g. a member of a wheel).
        label: the name used in messages (default: ``source`` itself when it is a path).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file needs arbitrary objects (see the module docstring), or is not a torch file.
    """
    if isinstance(source, bytes):
        name = str(label) if label is not None else "<bytes>"
        handle: Any = io.BytesIO(source)
    else:
        path = Path(source)
        name = str(label) if label is not None else str(path)
        if path.is_dir():
            raise ValueError(f"{name}: is a folder, expected a checkpoint file")
        if not path.is_file():
            raise FileNotFoundError(f"{name}: checkpoint not found")
        handle = str(path)
    try:
        with warnings.catch_warnings():
            # torch warns about pickle protocols it did not write; the error below says what matters
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(handle, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if "Weights only load failed" in text or "WeightsUnpickler" in text:
            raise ValueError(f"{name}: {_REFUSED}: {_refusal_reason(text)}") from None
        raise ValueError(f"{name}: not a torch checkpoint file: {text.splitlines()[0][:200]}") from None
    except (EOFError, KeyError, RuntimeError, OSError, ValueError, TypeError, AttributeError) as exc:
        why = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        if isinstance(exc, EOFError):
            why = "the file ends early (empty or truncated)"
        raise ValueError(f"{name}: not a torch checkpoint file ({type(exc).__name__}: {why})") from None


def save_checkpoint_state(path: str | Path, state: dict[str, Any]) -> None:
    """``torch.save(state)`` to a temporary file next to ``path``, then renamed onto it, so that
    ``path`` always holds a whole checkpoint (also when the process is killed while writing)."""
    with atomic_write(path) as fh:
        torch.save(state, fh)


def load_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a training checkpoint (tensor-only, :func:`load_tensor_file`). Returns ``(state, meta)``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: refused or unreadable (see :func:`load_tensor_file`), or not the layout written by
            :func:`tracker.reid.train.engine.save_checkpoint` (``model`` a dict of tensors, ``meta`` JSON
            text with :data:`META_KEYS`).
    """
    state = load_tensor_file(path)
    bad = f"{path}: not a tracker ReID checkpoint"
    if not isinstance(state, dict) or "model" not in state or "meta" not in state:
        what = sorted(map(str, state)) if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"{bad} (needs 'model' and 'meta'; found {what})")
    model = state["model"]
    if not isinstance(model, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in model.items()
    ):
        raise ValueError(f"{bad}: 'model' is not a state dict of named tensors")
    try:
        meta = json.loads(state["meta"]) if isinstance(state["meta"], str) else None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{bad}: 'meta' is not JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{bad}: 'meta' is not a JSON object")
    for key, kind in META_KEYS.items():
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            what = "an object" if kind is dict else "an integer"
            raise ValueError(f"{bad}: meta.{key} is missing or not {what}")
    return state, meta
