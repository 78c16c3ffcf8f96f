"""A ROS 2 node that tracks people: ``sensor_msgs/Image`` (or ``CompressedImage``) in,
``vision_msgs/Detection2DArray`` out, one message per image, track id in ``Detection2D.id``.

It is a thin shell around the library: ``tracker.io.ros.image_message_to_bgr`` decodes the image,
a detector and :class:`tracker.Tracker` do the work, ``tracker.io.ros.tracks_to_detection2d_array``
builds the message (the same, tested functions that read and write bags). See examples/README.md.

Parameters (``--ros-args -p name:=value``):
    image_topic   input topic (default ``/camera/image_raw``); a name ending in ``/compressed`` is
                  subscribed as ``sensor_msgs/CompressedImage``
    tracks_topic  output topic (default ``/tracker/tracks``)
    preset        tracker preset or YAML path (default ``default``)
    frame_rate    expected frames per second, scales the lost-track lifetime (default 30.0)
    detector      ONNX detector path; empty = the embedded pedestrian detector
    family        detector family for ``detector`` (default ``auto``)
    reid          use the embedded ReID model (default true; it is for non-commercial research only,
                  see tracker/assets/README.md)
    class_name    ``hypothesis.class_id`` written for class 0 (default ``person``)
"""

from __future__ import annotations

from typing import Any

import rclpy
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from rosidl_runtime_py.utilities import get_message
from sensor_msgs.msg import CompressedImage, Image
from vision_msgs.msg import Detection2DArray

from tracker import Tracker
from tracker.assets import default_detector, default_embedder
from tracker.detect import OnnxDetector
from tracker.io.ros import image_message_to_bgr, stamp_to_ns, tracks_to_detection2d_array

QUEUE_DEPTH = 10
"""Publisher history depth for the tracks topic."""
LOG_THROTTLE_S = 5.0
"""At most one warning per this many seconds for undecodable images."""


class TrackerNode(Node):
    """Subscribes to images, runs detector + tracker, publishes ``Detection2DArray``."""

    def __init__(self) -> None:
        super().__init__("tracker")
        image_topic = str(self.declare_parameter("image_topic", "/camera/image_raw").value)
        tracks_topic = str(self.declare_parameter("tracks_topic", "/tracker/tracks").value)
        preset = str(self.declare_parameter("preset", "default").value)
        frame_rate = float(self.declare_parameter("frame_rate", 30.0).value)
        detector_path = str(self.declare_parameter("detector", "").value)
        family = str(self.declare_parameter("family", "auto").value)
        reid = bool(self.declare_parameter("reid", True).value)
        self._class_names = [str(self.declare_parameter("class_name", "person").value)]

        self._detector = OnnxDetector(detector_path, family=family) if detector_path else default_detector()
        self._tracker = Tracker(preset, frame_rate=frame_rate, embedder=default_embedder() if reid else None)
        self._frame_index = 0
        self._publisher = self.create_publisher(Detection2DArray, tracks_topic, QUEUE_DEPTH)
        msg_type = CompressedImage if image_topic.rstrip("/").endswith("/compressed") else Image
        self.create_subscription(msg_type, image_topic, self.on_image, qos_profile_sensor_data)
        self.get_logger().info(f"tracking {image_topic} ({msg_type.__name__}) -> {tracks_topic}")

    def on_image(self, msg: Any) -> None:
        """One image: decode, detect, track, publish (stamp and frame_id copied from the image)."""
        try:
            frame = image_message_to_bgr(msg)
        except ValueError as exc:
            self.get_logger().warning(str(exc), throttle_duration_sec=LOG_THROTTLE_S)
            return
        self._frame_index += 1
        detections = self._detector.detect(frame, self._frame_index)
        try:
            tracks = self._tracker.update(detections, frame=frame, frame_index=self._frame_index)
        except ValueError as exc:  # e.g. the camera changed resolution: start afresh
            self.get_logger().warning(f"{exc}; resetting the tracker")
            self._tracker.reset()
            tracks = self._tracker.update(detections, frame=frame, frame_index=self._frame_index)
        out = tracks_to_detection2d_array(
            tracks,
            stamp_ns=stamp_to_ns(msg.header.stamp),
            frame_id=msg.header.frame_id,
            message_class=get_message,
            class_names=self._class_names,
        )
        self._publisher.publish(out)


def main(args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    node = TrackerNode()
    try:
        rclpy.spin(node)
    except KeyboardInterrupt:
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
