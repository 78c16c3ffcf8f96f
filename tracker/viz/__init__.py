"""Visualisation: drawing tracks (boxes, ids, trails) on frames."""

from tracker.viz.draw import TrailBuffer, draw_legend, draw_scale, draw_tracks, id_color

__all__ = ["TrailBuffer", "draw_legend", "draw_scale", "draw_tracks", "id_color"]
