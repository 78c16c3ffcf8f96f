"""Command line: ``python -m tracker run [SOURCE]``, ``bench DATASET``, ``score``, ``search``, ``reid``.

The CLI only wires pieces together (a source, a detector, an embedder, a tracker, sinks) and maps
outcomes to exit statuses (:data:`EXIT_STATUSES`).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

EXIT_OK = 0
EXIT_SOURCE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_STATUSES = {
    0: "done (the source ended, --max-frames was reached, or q was pressed in the window)",
    1: "the source failed mid-stream (everything up to that frame is written)",
    2: "bad input or usage: an `error: <what>: <why>` line says which (nothing was run)",
    129: "stopped by SIGHUP (every output written and closed, summary says stopped)",
    130: "stopped by SIGINT / Ctrl-C (likewise)",
    143: "stopped by SIGTERM (likewise)",
}
"""Exit statuses of every command (documented in ``--help`` and the README)."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tracker")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "unknown (not installed)"


def _signal_status(signal_name: str | None) -> int:
    import signal

    from .signals import exit_status_for

    return exit_status_for(signal.Signals[signal_name]) if signal_name else EXIT_OK


# -- commands ------------------------------------------------------------------------------------
def _bench(args: argparse.Namespace) -> int:
    from .apps.bench import is_multicam_dataset, resolve_dataset, run_benchmark, run_multicam_benchmark

    data_dir = resolve_dataset(args.dataset, args.root)
    engine = _engine_options(args)
    if is_multicam_dataset(data_dir):
        ignored = [
            name
            for name, given in (
                ("--interpolate", args.interpolate),
                ("--smooth", args.smooth),
                ("--seq", args.seq),
                ("--no-images", args.no_images),
                ("--split", args.split != "train"),
            )
            if given
        ]
        if ignored:  # refused, not ignored: every camera of cameras.yaml runs, from its own det file
            raise ValueError(f"{' / '.join(ignored)}: not supported on multi-camera datasets (cameras.yaml)")
        mc = run_multicam_benchmark(
            data_dir,
            config=args.config,
            reid=args.reid,
            out_dir=args.out,
            progress=not args.no_progress,
            **engine,
        )
        print(f"multi-camera dataset {mc.dataset}  config {mc.config}  reid {mc.reid or '-'}")
        print(mc.table())
        print(f"results and summary.json in {args.out}")
        return _signal_status(mc.run.signal)

    report = run_benchmark(
        args.dataset,
        root=args.root,
        split=args.split,
        config=args.config,
        reid=args.reid,
        out_dir=args.out,
        sequences=args.seq,
        use_images=not args.no_images,
        progress=not args.no_progress,
        interpolate=args.interpolate,
        smooth=args.smooth,
        **engine,
    )
    interp = f"  interpolate {report.interpolate}" if report.interpolate else ""
    interp += f"  smooth {report.smooth:g}" if report.smooth else ""
    print(f"dataset {report.dataset}  config {report.config}  reid {report.reid or '-'}{interp}")
    print(report.table())
    if report.stopped == "signal":
        print(f"stopped by {report.signal}: only sequences tracked to their end are scored", file=sys.stderr)
    print(f"results and summary.json in {args.out}")
    return _signal_status(report.signal)


# -- engines (--engine ray) -------------------------------------------------------------------------
def _engine_options(args: argparse.Namespace) -> dict[str, Any]:
    """``bench``'s engine keywords; ``{}`` for the local engine. Checks that ray is installed."""
    if args.engine == "local":
        if args.address is not None or args.num_cpus is not None:
            raise ValueError("--address and --num-cpus need --engine ray")
        return {}
    from .engines import require_ray

    require_ray()
    return {"engine": "ray", "address": args.address, "num_cpus": args.num_cpus, "threads": args.threads}


def _run_cameras_ray(args: argparse.Namespace, sources: list[str], config: Any) -> int:
    """``run --engine ray``: one Ray actor per camera, one identity-service actor."""
    from .engines import require_ray

    require_ray()
    multi = len(sources) > 1 or _is_camera_list(sources[0])
    if not multi:
        raise ValueError("--engine ray runs cameras: give a camera list YAML or several sources")
    if args.dets is not None or args.show or args.ros_out or args.overlap:
        raise ValueError(
            "--dets, --show, --ros-out and --overlap work with one source, not with --engine ray"
        )
    from .engines.camera import ModelSpec
    from .engines.ray_engine import run_cameras_ray

    setup = _camera_setup(sources, args.linking, args.fps)
    models = ModelSpec(
        detector=args.detector,
        family=args.family,
        det_score=args.det_score,
        reid=args.reid,
        use_reid=not args.no_reid,
        threads=args.threads if args.threads is not None else 1,
    )
    summary = run_cameras_ray(
        setup,
        models,
        tracker_config=config,
        out_dir=args.out,
        write_video=not args.no_video,
        progress=not args.no_progress,
        max_frames=args.max_frames,
        address=args.address,
        num_cpus=args.num_cpus,
    )
    print(summary.format())
    if summary.signal:
        return _signal_status(summary.signal)
    errors = [c.error for c in summary.cameras.values() if c.error]
    for e in errors:
        print(f"warning: a camera failed: {e}", file=sys.stderr)
    return EXIT_SOURCE_FAILED if errors else EXIT_OK


def _add_engine_options(parser: Any, what: str) -> None:
    parser.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help=f"local: one process; ray: {what} (needs the ray extra: pip install 'tracker[ray]')",
    )
    parser.add_argument(
        "--address",
        metavar="ADDR",
        help="with --engine ray: join this Ray cluster (auto, or HEAD:6379 of `ray start --head`); "
        "default: start a local Ray instance",
    )
    parser.add_argument(
        "--num-cpus",
        type=_positive_int,
        metavar="N",
        help="with --engine ray and no --address: CPUs of the local Ray instance (default: all)",
    )


def _is_camera_list(source: str) -> bool:
    return source.lower().endswith((".yaml", ".yml"))


def _sources(args: argparse.Namespace) -> list[str]:
    """The sources to run: those given, or the bundled sample clip (said on stderr)."""
    if args.source:
        return list(args.source)
    from . import assets

    sample = getattr(assets, "SAMPLE_VIDEO", None)
    if sample is None or not sample.is_file():
        raise ValueError("no SOURCE given and the bundled sample clip is missing from this install")
    print(f"no SOURCE given: running on the bundled sample clip {sample}", file=sys.stderr)
    print(
        f"  ({getattr(assets, 'SAMPLE_VIDEO_ATTRIBUTION', 'see tracker/assets/README.md')})", file=sys.stderr
    )
    return [str(sample)]


def _detector(args: argparse.Namespace) -> Any:
    if getattr(args, "dets", None) is not None:
        from .detect import MotFileDetector

        return MotFileDetector(args.dets)
    if args.detector is not None:
        from .detect import OnnxDetector

        return OnnxDetector(
            args.detector, family=args.family, score_threshold=args.det_score, threads=args.threads
        )
    from .assets import default_detector

    return default_detector(threads=args.threads)


def _embedder(args: argparse.Namespace) -> Any:
    if args.reid is not None:
        from .reid import OnnxEmbedder

        return OnnxEmbedder(args.reid, threads=args.threads)
    from .assets import default_embedder

    return default_embedder(threads=args.threads)


def _run(args: argparse.Namespace) -> int:
    from .apps.run import run_video
    from .config import load_config

    sources = _sources(args)
    config = load_config(args.config)
    if args.engine == "ray":
        return _run_cameras_ray(args, sources, config)
    if args.address is not None or args.num_cpus is not None:
        raise ValueError("--address and --num-cpus need --engine ray")
    multi = len(sources) > 1 or _is_camera_list(sources[0])
    if multi and args.dets is not None:
        raise ValueError("--dets works with one source; give each camera its 'dets' in a camera list YAML")
    if multi and args.show:
        raise ValueError("--show works with one source")
    # options of the other kind of run are refused, not ignored
    if multi and args.ros_out:
        raise ValueError("--ros-out works with one source (a multi-camera run writes per-camera files)")
    if multi and args.overlap:
        raise ValueError("--overlap works with one source")
    if not multi and args.linking is not None:
        raise ValueError("--linking applies to multi-camera runs (several sources or a camera list YAML)")
    detector = _detector(args)
    # several cameras need appearance to link identities, whatever the per-camera preset uses
    embedder = _embedder(args) if (config.appearance.enabled or multi) and not args.no_reid else None
    if multi:
        return _run_cameras(args, sources, config, detector, embedder)
    summary = run_video(
        sources[0],
        detector,
        tracker_config=config,
        embedder=embedder,
        out_dir=args.out,
        write_video=not args.no_video,
        show=args.show,
        progress=not args.no_progress,
        max_frames=args.max_frames,
        topic=args.topic,
        ros_out=args.ros_out,
        overlap=args.overlap,
        fps=args.fps,
    )
    print(summary.format())
    if summary.signal:
        return _signal_status(summary.signal)
    if summary.error:
        print(f"warning: the source failed mid-stream: {summary.error}", file=sys.stderr)
        return EXIT_SOURCE_FAILED
    return EXIT_OK


def _camera_setup(sources: list[str], linking: str | None, fps: float | None = None) -> Any:
    """The cameras of a multi-camera run: one camera list YAML, or several sources (each at ``fps``
    when given)."""
    from .multicam.setup import load_camera_setup, setup_from_sources

    if len(sources) == 1:
        if fps is not None:
            raise ValueError(
                "--fps applies to sources given on the command line; a camera list sets 'fps' per camera"
            )
        setup = load_camera_setup(sources[0])
    else:
        if any(_is_camera_list(s) for s in sources):
            raise ValueError("give either one camera list YAML or several sources, not both")
        setup = setup_from_sources(sources, linking, fps=fps)
    if linking is not None and len(sources) == 1:
        from dataclasses import replace

        from .multicam import load_multicam_config

        setup = replace(setup, linking=load_multicam_config(linking))
    return setup


def _run_cameras(
    args: argparse.Namespace, sources: list[str], config: Any, detector: Any, embedder: Any
) -> int:
    from .apps.multicam_run import run_cameras

    setup = _camera_setup(sources, args.linking, args.fps)
    summary = run_cameras(
        setup,
        detector,
        tracker_config=config,
        embedder=embedder,
        out_dir=args.out,
        write_video=not args.no_video,
        progress=not args.no_progress,
        max_frames=args.max_frames,
    )
    print(summary.format())
    if summary.signal:
        return _signal_status(summary.signal)
    errors = [c.error for c in summary.cameras.values() if c.error]
    for e in errors:
        print(f"warning: a source failed mid-stream: {e}", file=sys.stderr)
    return EXIT_SOURCE_FAILED if errors else EXIT_OK


def _search(args: argparse.Namespace) -> int:
    from .apps.search import run_search

    return run_search(args)


def _score(args: argparse.Namespace) -> int:
    from .eval import evaluate
    from .io.mot import read_ground_truth, read_results

    if len(args.results) != len(args.gt):
        raise ValueError(f"{len(args.results)} results files but {len(args.gt)} --gt files")
    seen = set()
    for res_path in args.results:
        if str(res_path) in seen:  # (the rows are keyed by path: OVERALL would count it once)
            raise ValueError(f"{res_path}: given twice among the results files")
        seen.add(str(res_path))
    pairs = {}
    for res_path, gt_path in zip(args.results, args.gt, strict=True):
        gt, res = read_ground_truth(gt_path), read_results(res_path)
        _warn_other_sequence(res_path, gt_path, list(res.frames), list(gt.frames))
        pairs[str(res_path)] = (gt, res)
    print(evaluate(pairs).format())
    return EXIT_OK


def _warn_other_sequence(res_path: str, gt_path: str, res_frames: list[int], gt_frames: list[int]) -> None:
    """Warn when most of a results file's frames lie outside the frames its ground truth covers:
    scored anyway (the devkit would), but usually the wrong pair (MOTA -1295 for PETS09 results against
    TUD-Campus's ground truth, with no hint)."""
    if not res_frames or not gt_frames:
        return
    lo, hi = min(gt_frames), max(gt_frames)
    outside = sum(not lo <= f <= hi for f in res_frames)
    if 2 * outside > len(res_frames):
        print(
            f"warning: {res_path}: {outside} of its {len(res_frames)} frames lie outside frames {lo}-{hi} "
            f"of {gt_path}: are they the same sequence?",
            file=sys.stderr,
        )


def _reid_train(args: argparse.Namespace) -> int:
    from .reid.train.cli import train_main

    return train_main(args)


def _reid_eval(args: argparse.Namespace) -> int:
    from .reid.train.cli import eval_main

    return eval_main(args)


def _reid_export(args: argparse.Namespace) -> int:
    from .reid.train.cli import export_main

    return export_main(args)


# -- parser --------------------------------------------------------------------------------------
def _at_least(cast: Callable[[str], Any], low: float, what: str) -> Callable[[str], Any]:
    """An argparse ``type``: ``cast(text)``, refused unless it is finite and ``>= low``."""

    def parse(text: str) -> Any:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not low <= value < math.inf:
            raise argparse.ArgumentTypeError(f"must be a finite number >= {low:g}, got {text}")
        return value

    return parse


_positive_int = _at_least(int, 1, "an integer")
_non_negative_int = _at_least(int, 0, "an integer")
_non_negative_float = _at_least(float, 0, "a number")


def _frame_rate_arg(text: str) -> float:
    """``--fps``: a positive finite number of frames per second."""
    from .types import positive_rate

    try:
        return positive_rate(float(text), "--fps")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a positive number of frames per second, got {text!r}"
        ) from None


def _exit_status_help(kind: str = "run") -> str:
    """The ``--help`` epilog: every status for the commands that read sources (``run``, ``bench``,
    ``search``); the ones a command can end with for ``score``/``reid eval``/``reid export``
    (``"once"``) and ``reid train`` (``"train"``)."""
    if kind == "run":
        return "exit status: " + "; ".join(f"{k} {v}" for k, v in EXIT_STATUSES.items())
    bad = f"2 {EXIT_STATUSES[2]}"
    if kind == "train":
        return (
            f"exit status: 0 done (every epoch trained); {bad}; 129 / 130 / 143 stopped by SIGHUP / "
            "SIGINT / SIGTERM after the current batch (OUT/last.pt and the log written; --resume "
            "continues)"
        )
    return f"exit status: 0 done; {bad}; 130 interrupted by Ctrl-C"


def _family_help() -> str:
    from . import detect

    helper = getattr(detect, "family_help", None)
    if callable(helper):
        return str(helper())
    return "detector family for --detector: " + ", ".join([*detect.FAMILIES, "auto"])


def _add_bench(sub: Any) -> None:
    b = sub.add_parser(
        "bench",
        help="track and score a MOTChallenge-layout dataset from its public detections",
        description=(
            "Runs the tracker on every sequence of DATASET/<split>/ using det/det.txt, writes "
            "OUT/<sequence>.txt and OUT/summary.json, and prints MOTA/IDF1/HOTA per sequence. "
            "DATASET is a folder, or a name looked up as $TRACKER_DATA/<name> then ./data/<name>. "
            "A folder with cameras.yaml is a multi-camera dataset: its cameras are tracked together "
            "with global ids and scored per camera, across cameras (IDF1) and by handoff accuracy. "
            "Needs the eval extra (pip install 'tracker[eval]')."
        ),
        epilog=_exit_status_help(),
    )
    b.add_argument("dataset", help="dataset name (MOT17, MOT15, ...) or folder")
    b.add_argument("--root", help="dataset folder (overrides name lookup)")
    b.add_argument("--split", default="train", help="sub-folder with the sequences (default: train)")
    b.add_argument("--config", help=f"preset name or YAML path (default: default). {_CONFIG_YAML_HELP}")
    b.add_argument("--reid", help="ONNX ReID model used on sequences that have images")
    b.add_argument("--out", default="out/bench", help="output folder (default: out/bench)")
    b.add_argument("--seq", action="append", help="only sequences whose name contains this (repeatable)")
    b.add_argument("--no-images", action="store_true", help="ignore img1/ and track on motion alone")
    b.add_argument("--no-progress", action="store_true", help="no progress output")
    b.add_argument(
        "--interpolate",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help=(
            "offline post-processing: fill gaps of up to N frames (at 30 fps, scaled to each "
            "sequence's frame rate) inside each track by linear interpolation before scoring and "
            "writing (default: 0, the online output as it is)"
        ),
    )
    b.add_argument(
        "--smooth",
        type=_non_negative_float,
        default=0.0,
        metavar="S",
        help=(
            "offline post-processing after --interpolate: replace each track's boxes by a "
            "Gaussian-weighted local linear fit over time, the Gaussian's sigma S frames (rows up to "
            "4 S frames away weigh in; at 30 fps, scaled like --interpolate; default: 0, off)"
        ),
    )
    b.add_argument(
        "--threads",
        type=_positive_int,
        metavar="N",
        help="with --engine ray: ONNX Runtime threads per sequence task (default: 1)",
    )
    _add_engine_options(b, "every sequence is a Ray task")
    b.set_defaults(func=_bench)


_CONFIG_YAML_HELP = (
    "A YAML file without 'base:' starts from the built-in field defaults, not from the default preset: "
    "begin it with 'base: default' to change a few of the default's values"
)


def _add_run(sub: Any) -> None:
    r = sub.add_parser(
        "run",
        help="detect and track a video, image folder, webcam or stream (default: the bundled sample)",
        description=(
            "Runs a detector and the tracker over SOURCE and writes OUT/<name>.txt (MOTChallenge), "
            "OUT/<name>.jsonl (one JSON object per frame), OUT/<name>.mp4 (annotated) and "
            "OUT/<name>_summary.json, each as frames complete. SOURCE is a video file, a folder of "
            "images, an image glob ('frames/*.jpg', quoted), a webcam index (0) or an rtsp:// / "
            "http(s):// URL; without SOURCE the bundled sample clip runs. By default the embedded "
            "pedestrian detector and appearance model are used; nothing is downloaded. SIGINT, SIGTERM "
            "and SIGHUP finish the current frame and close every output (twice: stop at once). With "
            "several sources, or a camera list YAML, each is a camera: OUT/<camera>.txt/.jsonl/.mp4 "
            "carry global ids, OUT/<camera>.tracks.npz the appearance gallery for `search`, "
            "OUT/global_ids.json the link decisions."
        ),
        epilog=_exit_status_help(),
    )
    r.add_argument(
        "source",
        nargs="*",
        help=(
            "video file, image folder, image glob, webcam index or stream URL (default: the bundled "
            "sample clip); several sources (or one camera list .yaml) run as cameras with global ids"
        ),
    )
    r.add_argument(
        "--linking",
        metavar="YAML",
        help="multi-camera linking settings (tracker.multicam.MultiCamConfig fields; default: any camera "
        "to any other within 10 s)",
    )
    r.add_argument("--out", default="out/run", help="output folder (default: out/run)")
    r.add_argument(
        "--config",
        default="default",
        help=f"preset name or YAML path (default: default). {_CONFIG_YAML_HELP}",
    )
    src = r.add_mutually_exclusive_group()
    src.add_argument(
        "--dets", metavar="FILE", help="precomputed MOTChallenge det.txt (frame numbers of SOURCE)"
    )
    src.add_argument(
        "--detector",
        metavar="MODEL.onnx",
        help="ONNX detector (default: the embedded pedestrian-detection-adas-0002)",
    )
    r.add_argument("--family", default="auto", help=_family_help())
    r.add_argument("--det-score", type=float, help="detector score threshold (default: the family's)")
    reid = r.add_mutually_exclusive_group()
    reid.add_argument(
        "--reid",
        metavar="MODEL.onnx",
        help="ONNX ReID model (default: the embedded CUHK-trained ReID model, 512-d)",
    )
    reid.add_argument("--no-reid", action="store_true", help="track on motion alone")
    r.add_argument(
        "--threads",
        type=_positive_int,
        metavar="N",
        help="ONNX Runtime threads per model (default: chosen by measurement, see README; with "
        "--engine ray: 1 per camera actor)",
    )
    r.add_argument(
        "--topic",
        help="image topic when SOURCE is a ROS 2 bag (.mcap, .db3 or a bag folder; default: its "
        "only image topic)",
    )
    r.add_argument(
        "--ros-out",
        action="store_true",
        help="also write OUT/<name>_tracks.mcap: vision_msgs/Detection2DArray per frame (ros extra)",
    )
    r.add_argument("--no-video", action="store_true", help="do not write the annotated video")
    r.add_argument(
        "--overlap",
        action="store_true",
        help="decode and encode the video in two background threads beside the models: faster when the "
        "models leave a core free (e.g. --threads 1 on 2 cores), slower when they use every core",
    )
    r.add_argument(
        "--show", action="store_true", help="show annotated frames if a display is available; q quits"
    )
    r.add_argument("--max-frames", type=_positive_int, metavar="N", help="stop after N frames")
    r.add_argument(
        "--fps",
        type=_frame_rate_arg,
        metavar="FPS",
        help="frame rate of SOURCE(s), for sources that do not know theirs (an image folder without "
        "seqinfo.ini, some streams: 30 is assumed) or report a wrong one; the tracker's time "
        "constants follow it (default: the source's own). A camera list YAML sets 'fps' per camera",
    )
    r.add_argument(
        "--no-progress", action="store_true", help="no progress output (default: a bar on a terminal)"
    )
    _add_engine_options(r, "one Ray actor per camera and one identity-service actor")
    r.set_defaults(func=_run)


def _add_search(sub: Any) -> None:
    se = sub.add_parser(
        "search",
        help="person search: rank tracks by appearance similarity to a query image",
        description=(
            "Embeds QUERY (an image of one person, cropped) and ranks the tracks of TARGETs: results "
            "folders or .tracks.npz galleries written by `run`, or videos / image folders, which are "
            "tracked first (as cameras of one multi-camera run, galleries in OUT/gallery). Prints rank, "
            "camera, track id, distance, frame span and trajectory; writes OUT/search.json and "
            "OUT/search_top.png (the query and the top matches)."
        ),
        epilog=_exit_status_help(),
    )
    se.add_argument("targets", nargs="+", help="results folders, .tracks.npz files, videos or image folders")
    se.add_argument("--query", required=True, help="image of the person to find (a crop)")
    se.add_argument(
        "--reid",
        metavar="MODEL.onnx",
        help="ONNX ReID model (default: the embedded one); same as the gallery's",
    )
    se.add_argument("--top", type=_positive_int, default=10, help="how many tracks to show (default: 10)")
    se.add_argument("--out", default="out/search", help="output folder (default: out/search)")
    se.add_argument("--config", default="default", help="tracker preset when TARGETs are videos")
    se.add_argument("--detector", metavar="MODEL.onnx", help="ONNX detector when TARGETs are videos")
    se.add_argument("--family", default="auto", help="detector family for --detector")
    se.add_argument("--threads", type=_positive_int, metavar="N", help="ONNX Runtime threads per model")
    se.add_argument("--max-frames", type=_positive_int, metavar="N", help="track at most N frames per video")
    se.add_argument("--no-progress", action="store_true", help="no progress output")
    se.set_defaults(func=_search)


def _add_score(sub: Any) -> None:
    sc = sub.add_parser(
        "score",
        help="score MOTChallenge results files against ground truth",
        # argparse would print "--gt GT [GT ...] results [results ...]", an order that cannot work:
        # --gt takes every file after it
        usage="python -m tracker score [-h] RESULTS [RESULTS ...] --gt GT [GT ...]",
        description="MOTA, IDF1, HOTA, ... with the MOTChallenge devkit rules (see bench). An empty "
        "results file is a tracker that found nothing: every target is a miss. Give the results "
        "files first, then --gt with one gt.txt per results file.",
        epilog=_exit_status_help("once"),
    )
    sc.add_argument("results", nargs="+", metavar="RESULTS", help="results .txt files (MOTChallenge format)")
    sc.add_argument("--gt", nargs="+", required=True, help="gt.txt files, one per results file, same order")
    sc.set_defaults(func=_score)


def _add_reid(sub: Any) -> None:
    rd = sub.add_parser("reid", help="train, evaluate and export person ReID models (needs the train extra)")
    rsub = rd.add_subparsers(dest="reid_command", required=True)
    rt = rsub.add_parser("train", help="train a ReID model", epilog=_exit_status_help("train"))
    rt.add_argument("--config", required=True, help="preset name (light) or YAML path")
    rt.add_argument("--data", required=True, help="folder holding the datasets (e.g. ../shared/data/reid)")
    rt.add_argument("--out", help="output folder (default: out/reid/<config name>)")
    rt.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    rt.add_argument("--epochs", type=_positive_int, help="override optim.epochs")
    rt.add_argument("--pretrained", help="local weights to start from (overrides model.pretrained)")
    rt.add_argument("--no-progress", action="store_true", help="hide progress bars")
    rt.set_defaults(func=_reid_train)
    re_ = rsub.add_parser(
        "eval", help="rank-1/5/10 and mAP of a model on a protocol", epilog=_exit_status_help("once")
    )
    re_.add_argument("--model", required=True, help="MODEL.onnx or a training checkpoint .pt")
    re_.add_argument("--data", required=True, help="folder holding the datasets (mot-thirds: the sequence)")
    re_.add_argument(
        "--protocol",
        required=True,
        choices=["cuhk01-test", "cuhk03", "market", "duke", "msmt17", "mot-thirds"],
    )
    re_.add_argument("--rerank", action="store_true", help="k-reciprocal re-ranking")
    re_.set_defaults(func=_reid_eval)
    rx = rsub.add_parser(
        "export",
        help="export a checkpoint to ONNX (checked against torch within 1e-4)",
        epilog=_exit_status_help("once"),
    )
    rx.add_argument("--checkpoint", required=True)
    rx.add_argument("--out", required=True, help="MODEL.onnx (not the checkpoint itself)")
    rx.add_argument("--opset", type=int, default=17, help="ONNX opset, 9 to 20 (default: 17)")
    rx.add_argument(
        "--flip-average",
        action="store_true",
        help="embed each crop and its mirror image and sum them (test-time flip; 2x the cost)",
    )
    rx.add_argument(
        "--meta",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra metadata_props entry, e.g. a licence notice (repeatable)",
    )
    rx.set_defaults(func=_reid_export)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tracker",
        description="Multi-object tracking with ReID.",
        epilog=_exit_status_help(),
    )
    p.add_argument("--version", action="version", version=f"tracker {_version()}")
    p.add_argument("-v", "--verbose", action="store_true", help="log details (and OpenCV's own messages)")
    sub = p.add_subparsers(dest="command", required=True)
    _add_bench(sub)
    _add_run(sub)
    _add_search(sub)
    _add_score(sub)
    _add_reid(sub)
    return p


def _quiet_opencv(verbose: bool) -> None:
    """Keep OpenCV's and FFmpeg's native WARN/ERROR lines (decoder chatter) out of the user's way; our
    own messages say what matters. ``-v`` lets them through."""
    if verbose:
        return
    # SILENT, as setLogLevel(0) below: at ERROR a missing webcam still printed OpenCV's
    # "[ERROR:0@0.1] global obsensor_uvc_stream_channel.cpp:163 ... Camera index out of range" above
    # our own "error: webcam 0: cannot open" line
    os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
    # cv2 is already imported (the parser's building imports it), so the variables above reach only
    # child processes (Ray workers); this process needs the call below
    cv2 = sys.modules.get("cv2")
    if cv2 is not None:
        # our errors are raised, not logged. OpenCV 4.5+ and 5 have cv2.utils.logging; cv2.setLogLevel,
        # which this called alone before, is gone in 5.x (so nothing was silenced there)
        api = getattr(getattr(cv2, "utils", None), "logging", None)
        if api is not None and hasattr(api, "setLogLevel"):
            api.setLogLevel(api.LOG_LEVEL_SILENT)
        elif hasattr(cv2, "setLogLevel"):  # pragma: no cover - older OpenCV
            cv2.setLogLevel(0)


_EXTRAS = {
    "torch": 'this command needs the train extra: pip install torch==2.13.0 && pip install ".[train]"',
    "motmetrics": 'scoring needs the eval extra: pip install ".[eval]"',
    "rosbags": 'ROS 2 bags need the ros extra: pip install ".[ros]"',
    "supervision": 'pip install ".[supervision]"',
}
"""Optional packages a command may need, and the install line that brings each."""


def _describe(exc: BaseException) -> str:
    """``<what>: <why>`` for an exception that ends a command."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet_opencv(args.verbose)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args))
    except (OSError, ValueError) as exc:
        print(f"error: {_describe(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"error: {exc.name} is not installed: {extra}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # Ctrl-C outside a run's loop (loading models, scoring)
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
