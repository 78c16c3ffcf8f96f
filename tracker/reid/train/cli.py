"""Entry points of ``python -m tracker reid train|eval|export`` (argparse namespaces in, exit code out)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from tracker.signals import GracefulStop, StopNow, exit_status_for

__all__ = ["eval_main", "export_main", "train_main"]


def train_main(args: argparse.Namespace) -> int:
    """``reid train --config CFG --data ROOT [--out DIR] [--resume] [--epochs N] [--pretrained FILE]
    [--no-progress]``. Exit status 0, or 130 / 143 / 129 after SIGINT / SIGTERM / SIGHUP (the batch in
    hand is finished and ``last.pt`` written; ``--resume`` continues)."""
    import dataclasses

    from tracker.reid.train.config import load_reid_config
    from tracker.reid.train.engine import train

    cfg = load_reid_config(args.config)
    epochs = getattr(args, "epochs", None)
    if epochs is not None:
        cfg = dataclasses.replace(cfg, optim=dataclasses.replace(cfg.optim, epochs=epochs))
    pretrained = getattr(args, "pretrained", None)
    if pretrained is not None:
        cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, pretrained=str(pretrained)))
    out = Path(getattr(args, "out", None) or f"out/reid/{cfg.name}")
    try:
        with GracefulStop() as stop:
            result = train(
                cfg,
                args.data,
                out,
                resume=bool(getattr(args, "resume", False)),
                progress=not getattr(args, "no_progress", False),
                stop=stop,
            )
    except StopNow as now:  # a second signal before the loop began (loading data, building the model)
        print(f"stopped by {signal.Signals(now.signum).name} before training began", file=sys.stderr)
        return exit_status_for(now.signum)
    for e in result.epochs:
        print(json.dumps(e))
    print(f"checkpoint: {result.checkpoint}  log: {out / 'log.jsonl'}")
    if result.stopped:
        print(f"stopped by {result.stopped}: --resume continues from {result.checkpoint}", file=sys.stderr)
    return result.exit_status


def eval_main(args: argparse.Namespace) -> int:
    """``reid eval --model MODEL.onnx|CKPT --data ROOT --protocol NAME [--rerank]``."""
    from tracker.reid.train.evaluate import evaluate_model

    res = evaluate_model(args.model, args.data, args.protocol, rerank=bool(getattr(args, "rerank", False)))
    print(json.dumps(res))
    return 0


def export_main(args: argparse.Namespace) -> int:
    """``reid export --checkpoint CKPT --out MODEL.onnx [--opset N] [--flip-average] [--meta K=V ...]``."""
    from tracker.reid.train.export import export_checkpoint

    extra: dict[str, str] = {}
    for item in getattr(args, "meta", None) or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--meta {item!r}: expected KEY=VALUE")
        extra[key.strip()] = value
    diff = export_checkpoint(
        args.checkpoint,
        args.out,
        opset=getattr(args, "opset", 17),
        flip_average=bool(getattr(args, "flip_average", False)),
        metadata=extra,
    )
    print(f"wrote {args.out} (max |onnx - torch| = {diff:.2e})")
    return 0
