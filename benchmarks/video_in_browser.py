"""Does the annotated video play in a browser? Opens it in headless Chromium and reports what the
browser decoded: the video's size, its duration, and the mean brightness of a frame drawn from the
middle of it onto a canvas (0 would mean nothing was decoded).

    apt-get install chromium                          # Debian's package; /usr/bin/chromium
    python -m tracker run --out out/sample            # the bundled sample -> out/sample/<name>.mp4
    python benchmarks/video_in_browser.py out/sample/*.mp4

Exit status 0 when every video played, 1 otherwise. Chromium runs with no network access
(background networking off) on a local ``file://`` page.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PAGE = """<!doctype html><html><body>
<video id="v" muted playsinline preload="auto" src="{src}"></video>
<canvas id="c"></canvas><pre id="out">pending</pre>
<script>
const v = document.getElementById('v'), out = document.getElementById('out');
v.addEventListener('error', () => {{ out.textContent = JSON.stringify({{error: v.error ? v.error.code : -1}}); }});
v.addEventListener('loadedmetadata', () => {{ v.currentTime = v.duration / 2; }});
v.addEventListener('seeked', () => {{
  const c = document.getElementById('c'); c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d'); g.drawImage(v, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data; let s = 0;
  for (let i = 0; i < d.length; i += 4) s += d[i] + d[i + 1] + d[i + 2];
  out.textContent = JSON.stringify({{width: v.videoWidth, height: v.videoHeight, duration: v.duration,
                                     mean: s / (3 * d.length / 4)}});
}});
</script></body></html>"""

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-file-access-from-files",
    "--autoplay-policy=no-user-gesture-required",
    "--virtual-time-budget=20000",
    "--dump-dom",
]


def probe(video: Path, chromium: str) -> dict[str, object]:
    """What Chromium decoded of ``video``: ``{"width", "height", "duration", "mean"}`` or ``{"error"}``."""
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(PAGE.format(src=html.escape(video.resolve().as_uri())), encoding="utf-8")
        done = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    m = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, re.S)
    if not m:
        return {"error": f"no result (chromium exit {done.returncode})"}
    text = html.unescape(m.group(1))
    try:
        result: dict[str, object] = json.loads(text)
    except json.JSONDecodeError:
        return {"error": text}
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("videos", nargs="+", type=Path)
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args(argv)
    if not Path(args.chromium).exists():
        print(f"error: {args.chromium}: no Chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    ok = True
    print(f"{'video':<40} {'played':>6} {'size':>10} {'duration s':>11} {'mean px':>8}")
    for video in args.videos:
        r = probe(video, args.chromium)
        played = "error" not in r and float(r.get("mean", 0) or 0) > 0  # type: ignore[arg-type]
        ok &= played
        size = f"{r.get('width')}x{r.get('height')}" if played else "-"
        dur = f"{float(r['duration']):.2f}" if played else str(r.get("error"))  # type: ignore[arg-type]
        mean = f"{float(r['mean']):.1f}" if played else "-"  # type: ignore[arg-type]
        print(f"{video.name:<40} {'yes' if played else 'no':>6} {size:>10} {dur:>11} {mean:>8}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
