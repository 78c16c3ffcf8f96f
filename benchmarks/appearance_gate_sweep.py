"""The per-camera tracker's appearance gate, fixed or calibrated to the embedder, on every set with images.

For each candidate (a YAML preset on top of ``default``) and each embedder, runs ``python -m tracker
bench`` on PETS09-S2L1 (single camera) and on the exported multi-camera cuts, and prints one table
(cells: MOTA / IDF1 / HOTA (IDSW) for PETS09; handoff / cross-camera IDF1, MOTA for the cuts).

Tuning: PETS09 and the default cut, with the shipped model and OSNet. Held out: the wide and
three-view cuts, the three views of the three-view cut as single sequences, and a third embedder never
used in tuning (OpenVINO's person-reidentification-retail-0288, which needs the preprocessing sidecar
this script writes next to a copy of it).

Run from the repository root (cuts exported first, see ``benchmarks/results/multicam_cuts.md``)::

    python benchmarks/appearance_gate_sweep.py --candidates base,k0.55 --jobs 2

Results and the decision: ``benchmarks/results/appearance_gate.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from tracker.signals import GracefulStop

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

CANDIDATES: dict[str, dict[str, object]] = {
    "base": {},
    "fixed0.3": {"appearance_gate": 0.3},
    **{f"k{k}": {"gate_scale": k} for k in (0.4, 0.55, 0.7, 0.85)},
}
"""Candidate ``appearance`` sections on top of ``default`` (``base``: the default, fixed gate 0.6)."""

RETAIL_SPEC = "channel_order: BGR\nscale: 1.0\nmean: [0, 0, 0]\nstd: [1, 1, 1]\n"
"""person-reidentification-retail-0288: BGR 0-255, no normalisation (Open Model Zoo model card)."""


def models(tmp: Path) -> dict[str, Path]:
    retail_src = SHARED / "models" / "person-reidentification-retail-0288.onnx"
    retail = tmp / retail_src.name
    shutil.copy(retail_src, retail)
    retail.with_suffix(".yaml").write_text(RETAIL_SPEC)
    return {
        "shipped": REPO / "tracker" / "assets" / "reid_mobilenetv2_cuhk.onnx",
        "osnet": SHARED / "models" / "osnet_x0_25_msmt17.onnx",
        "retail": retail,
    }


class Children:
    """The bench processes running now, so that a stop can end them (a signal sent to this script
    alone would otherwise leave them running)."""

    def __init__(self, stop: GracefulStop) -> None:
        self.stop = stop
        self._live: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def run(self, cmd: list[str]) -> bool:
        """Run ``cmd`` in the repository root; False if a stop ended (or skipped) it."""
        with self._lock:
            if self.stop.requested:
                return False
            proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            self._live.add(proc)
        _, err = proc.communicate()
        with self._lock:
            self._live.discard(proc)
        if self.stop.requested:
            return False
        if proc.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-2000:]}")
        return True

    def end_all(self) -> None:
        with self._lock:
            for proc in self._live:
                proc.send_signal(signal.SIGTERM)


def run(children: Children, cfg: Path, model: Path, where: str, out: Path) -> str:
    """One bench run; returns its table cell (``stopped`` when a signal ended the sweep)."""
    if where == "pets":
        args = ["MOT15", "--root", str(SHARED / "data" / "MOT15"), "--seq", "PETS"]
    else:
        args = [str(REPO / "out" / f"cut_{where}")]
    cmd = [sys.executable, "-m", "tracker", "bench", *args, "--config", str(cfg), "--reid", str(model)]
    if not children.run([*cmd, "--out", str(out), "--no-progress"]):
        return "stopped"
    s = json.loads((out / "summary.json").read_text())
    if where == "pets":
        o = s["scores"]["OVERALL"]
        return f"{100 * o['mota']:.1f} / {100 * o['idf1']:.1f} / {100 * o['hota']:.1f} ({o['num_switches']})"
    sc = s["scores"]
    return (
        f"{100 * sc['handoff_accuracy']:.1f} % ({sc['handoffs_correct']}/{sc['handoffs_evaluable']}) / "
        f"{100 * sc['idf1_cross']:.1f}, {100 * sc['mota_cross']:.1f}"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--candidates", default=",".join(CANDIDATES), help="comma separated names")
    p.add_argument("--models", default="shipped,osnet,retail")
    p.add_argument("--sets", default="pets,default,wide,three")
    p.add_argument("--jobs", type=int, default=2)
    a = p.parse_args()
    with GracefulStop() as stop, tempfile.TemporaryDirectory() as t:
        children = Children(stop)
        tmp = Path(t)
        mods = models(tmp)
        jobs = []
        for name in a.candidates.split(","):
            cfg = tmp / f"{name}.yaml"
            body = "".join(f"  {k}: {v}\n" for k, v in CANDIDATES[name].items())
            cfg.write_text("base: default\n" + (f"appearance:\n{body}" if body else ""))
            for m in a.models.split(","):
                for where in a.sets.split(","):
                    if m == "retail" and where != "pets":
                        continue
                    jobs.append((name, m, where, cfg))
        # rows are printed as they come (in job order), so an interrupted sweep keeps what it measured;
        # a signal ends the running bench processes and skips the rest (their rows say "stopped")
        print("| candidate | model | set | result |\n|---|---|---|---|", flush=True)
        with ThreadPoolExecutor(a.jobs) as ex:
            futures = [
                ex.submit(run, children, cfg, mods[m], where, tmp / f"out_{name}_{m}_{where}")
                for name, m, where, cfg in jobs
            ]
            for (name, m, where, _), fut in zip(jobs, futures, strict=True):
                while True:
                    try:
                        cell = fut.result(timeout=0.5)
                        break
                    except FutureTimeout:
                        if stop.requested:
                            children.end_all()
                print(f"| {name} | {m} | {where} | {cell} |", flush=True)
        return stop.exit_status(default=0)


if __name__ == "__main__":
    raise SystemExit(main())
