"""ROS 2 interop: message conversions (no ROS needed) and round trips through bags written and read
with ``rosbags`` (skipped when it is not installed)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest

from tracker.io.ros import (
    DETECTION2D_ARRAY_TYPE,
    compressed_image_to_bgr,
    detection2d_array_to_arrays,
    fps_from_stamps,
    image_message_to_bgr,
    image_to_bgr,
    ns_to_stamp,
    stamp_to_ns,
    tracks_to_detection2d_array,
)
from tracker.io.sources import open_source, parse_source_spec
from tracker.types import Tracks

H, W = 48, 64
N_FRAMES = 6
FPS = 10.0
T0_NS = 1_700_000_000_123_000_000  # a realistic epoch stamp
RNG = np.random.default_rng(13)
FRAMES = [RNG.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(N_FRAMES)]


def _stamp_ns(k: int) -> int:
    return T0_NS + round(k * 1e9 / FPS)


def _image_msg(img: np.ndarray, encoding: str, *, step: int | None = None, bigendian: int = 0) -> Any:
    rows = img.reshape(img.shape[0], -1).view(np.uint8)
    step = rows.shape[1] if step is None else step
    padded = np.zeros((img.shape[0], step), np.uint8)
    padded[:, : rows.shape[1]] = rows
    return SimpleNamespace(
        height=img.shape[0],
        width=img.shape[1],
        encoding=encoding,
        is_bigendian=bigendian,
        step=step,
        data=padded.reshape(-1),
    )


# ------------------------------------------------------------------------------------------------
# conversions, duck-typed (what the rclpy example uses too)


def test_image_encodings() -> None:
    bgr = FRAMES[0]
    np.testing.assert_array_equal(image_to_bgr(_image_msg(bgr, "bgr8")), bgr)
    np.testing.assert_array_equal(image_to_bgr(_image_msg(bgr[:, :, ::-1].copy(), "rgb8")), bgr)
    bgra = np.dstack([bgr, np.full((H, W), 255, np.uint8)])
    np.testing.assert_array_equal(image_to_bgr(_image_msg(bgra, "bgra8")), bgr)
    grey = bgr[:, :, 1].copy()
    out = image_to_bgr(_image_msg(grey, "mono8"))
    assert out.shape == (H, W, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.dstack([grey] * 3))
    # padded rows (step > width * channels), as some drivers publish
    np.testing.assert_array_equal(image_to_bgr(_image_msg(bgr, "bgr8", step=W * 3 + 8)), bgr)


def test_image_mono16_keeps_high_byte_both_endians() -> None:
    grey16 = (FRAMES[1][:, :, 0].astype(np.uint16) << 8) | 0x7F
    expected = np.dstack([FRAMES[1][:, :, 0]] * 3)
    np.testing.assert_array_equal(image_to_bgr(_image_msg(grey16.astype("<u2"), "mono16")), expected)
    big = _image_msg(grey16.astype(">u2"), "16UC1", bigendian=1)
    np.testing.assert_array_equal(image_to_bgr(big), expected)


@pytest.mark.parametrize(("encoding", "y_first"), [("yuv422", False), ("yuv422_yuy2", True)])
def test_image_yuv422_grey(encoding: str, y_first: bool) -> None:
    """U = V = 128 is grey; OpenCV's BT.601 video range maps Y = 90 to (90 - 16) * 255 / 219 = 86. A
    swapped byte order would read Y = 128 (-> 130) and tint the image."""
    packed = np.empty((H, W * 2), np.uint8)
    packed[:, 0::2], packed[:, 1::2] = (90, 128) if y_first else (128, 90)
    msg = SimpleNamespace(
        height=H, width=W, encoding=encoding, is_bigendian=0, step=W * 2, data=packed.reshape(-1)
    )
    np.testing.assert_allclose(image_to_bgr(msg).astype(int), round((90 - 16) * 255 / 219), atol=1)


def test_image_strided_data() -> None:
    """A non-contiguous data array (a view) is read as its values, not its memory."""
    msg = _image_msg(FRAMES[0], "bgr8")
    doubled = np.repeat(msg.data, 2)
    msg.data = doubled[::2]
    np.testing.assert_array_equal(image_to_bgr(msg), FRAMES[0])


def test_image_errors() -> None:
    with pytest.raises(ValueError, match=r"unsupported sensor_msgs/Image encoding '32FC1'.*bgr8"):
        image_to_bgr(_image_msg(FRAMES[0], "32FC1"))
    short = _image_msg(FRAMES[0], "bgr8")
    short.data = short.data[:-1]
    with pytest.raises(ValueError, match="data bytes"):
        image_to_bgr(short)
    bad_step = _image_msg(FRAMES[0], "bgr8")
    bad_step.step = W * 3 - 1
    with pytest.raises(ValueError, match="step"):
        image_to_bgr(bad_step)
    with pytest.raises(ValueError, match="neither"):
        image_message_to_bgr(SimpleNamespace(data=b""))


def test_compressed_png_exact_jpeg_close() -> None:
    bgr = FRAMES[2]
    png = SimpleNamespace(format="png", data=cv2.imencode(".png", bgr)[1].reshape(-1))
    np.testing.assert_array_equal(compressed_image_to_bgr(png), bgr)
    smooth = cv2.GaussianBlur(bgr, (9, 9), 3)
    jpg = SimpleNamespace(
        format="rgb8; jpeg compressed bgr8",
        data=bytes(cv2.imencode(".jpg", smooth, [cv2.IMWRITE_JPEG_QUALITY, 95])[1]),
    )
    out = image_message_to_bgr(jpg)
    assert out.shape == (H, W, 3)
    assert np.abs(out.astype(int) - smooth.astype(int)).mean() < 3


def test_compressed_errors() -> None:
    with pytest.raises(ValueError, match="unsupported sensor_msgs/CompressedImage format"):
        compressed_image_to_bgr(SimpleNamespace(format="16UC1; compressedDepth png", data=b"x"))
    with pytest.raises(ValueError, match="unsupported"):
        compressed_image_to_bgr(SimpleNamespace(format="h264", data=b"x"))
    with pytest.raises(ValueError, match="do not decode"):
        compressed_image_to_bgr(SimpleNamespace(format="jpeg", data=b"not a jpeg"))


def test_stamps() -> None:
    assert ns_to_stamp(T0_NS) == (1_700_000_000, 123_000_000)
    assert stamp_to_ns(SimpleNamespace(sec=1_700_000_000, nanosec=123_000_000)) == T0_NS
    with pytest.raises(ValueError, match="stamp"):
        ns_to_stamp(-1)
    assert fps_from_stamps([_stamp_ns(k) for k in range(5)], 1000.0) == pytest.approx(FPS)
    assert fps_from_stamps([5, 5, 5], 1000.0) is None


def _tracks() -> Tracks:
    return Tracks(
        ids=np.array([4, 17, 2], np.int64),
        boxes=np.array([[10, 20, 30, 60], [100.5, 5.25, 140, 95], [0, 0, 8, 8]], np.float32),
        scores=np.array([0.9, 0.45, 0.7], np.float32),
        class_ids=np.array([0, 0, 2], np.int64),
        states=np.ones(3, np.int8),
        det_index=np.arange(3, dtype=np.int64),
    )


def test_detection2d_array_with_plain_namespaces() -> None:
    """The builder needs only keyword constructors: the same code builds rclpy messages."""
    made: list[str] = []

    def message_class(name: str) -> Any:
        made.append(name)
        return lambda **fields: SimpleNamespace(**fields)

    tracks = _tracks()
    msg = tracks_to_detection2d_array(
        tracks, stamp_ns=T0_NS, frame_id="cam0", message_class=message_class, class_names=["person"]
    )
    assert "vision_msgs/msg/Detection2D" in made and DETECTION2D_ARRAY_TYPE in made
    det = msg.detections[1]
    assert det.id == "17"
    assert det.bbox.center.position.x == pytest.approx(120.25)
    assert det.bbox.center.position.y == pytest.approx(50.125)
    assert det.bbox.size_x == pytest.approx(39.5) and det.bbox.size_y == pytest.approx(89.75)
    assert det.results[0].hypothesis.class_id == "person"
    assert msg.detections[2].results[0].hypothesis.class_id == "2"  # no name for class 2
    assert det.header.stamp.sec == 1_700_000_000 and det.header.frame_id == "cam0"
    back = detection2d_array_to_arrays(msg)
    assert back.ids == ("4", "17", "2") and back.stamp_ns == T0_NS and back.frame_id == "cam0"
    np.testing.assert_allclose(back.boxes, tracks.boxes, atol=1e-4)
    np.testing.assert_allclose(back.scores, tracks.scores, atol=1e-6)


# ------------------------------------------------------------------------------------------------
# bags (rosbags)


@pytest.fixture(scope="module")
def rosbags() -> Any:
    return pytest.importorskip("rosbags", reason="rosbags not installed (pip install 'tracker[ros]')")


def _write_camera_bag(path: Path, storage: str = "mcap", *, corrupt_jpeg_at: int | None = None) -> None:
    """A bag with raw bgr8, raw mono8, PNG and JPEG image topics and a non-image topic."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    ts = get_typestore(Stores.ROS2_HUMBLE)
    t = ts.types
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    with Writer(path, version=9, storage_plugin=plugin) as writer:
        raw = writer.add_connection("/camera/image_raw", "sensor_msgs/msg/Image", typestore=ts)
        mono = writer.add_connection("/camera/mono", "sensor_msgs/msg/Image", typestore=ts)
        png = writer.add_connection(
            "/camera/image_raw/compressed", "sensor_msgs/msg/CompressedImage", typestore=ts
        )
        jpg = writer.add_connection("/camera/jpeg", "sensor_msgs/msg/CompressedImage", typestore=ts)
        chat = writer.add_connection("/chatter", "std_msgs/msg/String", typestore=ts)
        for k, img in enumerate(FRAMES):
            sec, nsec = ns_to_stamp(_stamp_ns(k))
            header = t["std_msgs/msg/Header"](
                stamp=t["builtin_interfaces/msg/Time"](sec=sec, nanosec=nsec), frame_id="cam"
            )
            log_ns = _stamp_ns(k) + 5_000_000  # received 5 ms after capture
            image = t["sensor_msgs/msg/Image"]
            msg = image(
                header=header,
                height=H,
                width=W,
                encoding="bgr8",
                is_bigendian=0,
                step=W * 3,
                data=img.reshape(-1),
            )
            writer.write(raw, log_ns, ts.serialize_cdr(msg, "sensor_msgs/msg/Image"))
            grey = np.ascontiguousarray(img[:, :, 0])
            msg = image(
                header=header,
                height=H,
                width=W,
                encoding="mono8",
                is_bigendian=0,
                step=W,
                data=grey.reshape(-1),
            )
            writer.write(mono, log_ns, ts.serialize_cdr(msg, "sensor_msgs/msg/Image"))
            comp = t["sensor_msgs/msg/CompressedImage"]
            data = cv2.imencode(".png", img)[1].reshape(-1)
            writer.write(
                png, log_ns, ts.serialize_cdr(comp(header=header, format="png", data=data), comp.__msgtype__)
            )
            jdata = cv2.imencode(".jpg", img)[1].reshape(-1)
            if corrupt_jpeg_at == k + 1:
                jdata = np.frombuffer(b"garbage", np.uint8)
            writer.write(
                jpg,
                log_ns,
                ts.serialize_cdr(comp(header=header, format="jpeg", data=jdata), comp.__msgtype__),
            )
            writer.write(
                chat,
                log_ns,
                ts.serialize_cdr(t["std_msgs/msg/String"](data=f"hello {k}"), "std_msgs/msg/String"),
            )


@pytest.fixture(scope="module")
def camera_bag(rosbags: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bags") / "rec"
    _write_camera_bag(path)
    return path


@pytest.mark.parametrize("topic", ["/camera/image_raw", "/camera/image_raw/compressed"])
def test_bag_source_round_trip(camera_bag: Path, topic: str) -> None:
    assert parse_source_spec(camera_bag).kind == "rosbag"
    with open_source(camera_bag, topic=topic) as src:
        assert src.name == "rec" and src.is_live is False
        assert src.frame_count == N_FRAMES and src.size == (W, H)
        assert src.fps == pytest.approx(FPS)
        assert src.frame_id == "cam"
        frames = list(src)
        assert src.error is None
        assert [k for k, _ in frames] == list(range(1, N_FRAMES + 1))
        for (_, got), want in zip(frames, FRAMES, strict=True):
            np.testing.assert_array_equal(got, want)  # raw and PNG are lossless
        assert src.timestamps_ns == [_stamp_ns(k) for k in range(N_FRAMES)]  # header stamps, not log times
        assert src.stamp_ns(3) == _stamp_ns(2)


def test_bag_source_mono_and_jpeg(camera_bag: Path) -> None:
    with open_source(camera_bag, topic="/camera/mono") as src:
        for (_, got), want in zip(src, FRAMES, strict=True):
            np.testing.assert_array_equal(got, np.dstack([want[:, :, 0]] * 3))
    with open_source(camera_bag, topic="/camera/jpeg") as src:
        frames = [f for _, f in src]
    assert len(frames) == N_FRAMES and all(f.shape == (H, W, 3) for f in frames)


def test_bag_source_single_mcap_and_sqlite3(rosbags: Any, camera_bag: Path, tmp_path: Path) -> None:
    mcap = camera_bag / "rec.mcap"  # the storage file alone, as `ros2 bag record -s mcap` users share it
    assert parse_source_spec(mcap).kind == "rosbag"
    with open_source(mcap, topic="/camera/image_raw") as src:
        assert src.name == "rec"
        np.testing.assert_array_equal(next(iter(src))[1], FRAMES[0])
    sq = tmp_path / "sq"
    _write_camera_bag(sq, storage="sqlite3")
    with open_source(sq, topic="/camera/image_raw/compressed") as src:
        assert sum(1 for _ in src) == N_FRAMES


def test_bag_source_errors(camera_bag: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no topic '/nope'.*/camera/image_raw \(sensor_msgs/msg/Image\)"):
        open_source(camera_bag, topic="/nope")
    with pytest.raises(
        ValueError, match=r"/chatter has type std_msgs/msg/String, expected sensor_msgs/msg/Image"
    ):
        open_source(camera_bag, topic="/chatter")
    with pytest.raises(
        ValueError, match=r"4 image topics; choose one with --topic \(topic=\.\.\. in Python\)"
    ):
        open_source(camera_bag)
    video = tmp_path / "clip.avi"
    video.write_bytes(b"x")
    with pytest.raises(ValueError, match="applies only to ROS 2 bags"):
        open_source(video, topic="/camera/image_raw")
    fake = tmp_path / "fake.mcap"
    fake.write_bytes(b"not an mcap file")
    with pytest.raises(ValueError, match=r"fake\.mcap: cannot read the bag"):
        open_source(fake, topic="/camera/image_raw")
    with pytest.raises(FileNotFoundError, match=r"gone\.mcap"):
        open_source(tmp_path / "gone.mcap")


def test_bag_source_unsupported_encoding_and_corrupt_frame(rosbags: Any, tmp_path: Path) -> None:
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    ts = get_typestore(Stores.ROS2_HUMBLE)
    t = ts.types
    path = tmp_path / "depth"
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection("/depth", "sensor_msgs/msg/Image", typestore=ts)
        header = t["std_msgs/msg/Header"](
            stamp=t["builtin_interfaces/msg/Time"](sec=1, nanosec=0), frame_id="d"
        )
        data = np.zeros(H * W * 4, np.uint8)
        msg = t["sensor_msgs/msg/Image"](
            header=header, height=H, width=W, encoding="32FC1", is_bigendian=0, step=W * 4, data=data
        )
        writer.write(conn, 1, ts.serialize_cdr(msg, "sensor_msgs/msg/Image"))
    with pytest.raises(
        ValueError, match=r"cannot decode the first frame.*unsupported sensor_msgs/Image encoding '32FC1'"
    ):
        open_source(path)  # the only image topic is picked
    broken = tmp_path / "broken"
    _write_camera_bag(broken, corrupt_jpeg_at=4)
    with open_source(broken, topic="/camera/jpeg") as src:
        n = sum(1 for _ in src)
    assert n == 3
    assert src.error is not None and "frame 4" in src.error and "do not decode" in src.error


def test_tracks_writer_round_trip(rosbags: Any, tmp_path: Path) -> None:
    from rosbags.highlevel import AnyReader

    from tracker.io.rosbag import RosbagTracksWriter

    tracks = _tracks()
    out = tmp_path / "out" / "tracks.mcap"
    with RosbagTracksWriter(out, frame_id="cam0", fps=FPS, start_ns=T0_NS, class_names={0: "person"}) as w:
        w.write(1, tracks)
        w.write(2, Tracks.empty())
        w.write(5, tracks, stamp_ns=T0_NS + 10_000_000_999)
        with pytest.raises(ValueError, match="must increase"):
            w.write(5, tracks)
    assert w.frames_written == 3
    assert out.is_file() and [p.name for p in out.parent.iterdir()] == ["tracks.mcap"]  # temp folder gone
    with AnyReader([out]) as reader:  # types come from the definitions embedded in the file
        (conn,) = reader.connections
        assert conn.topic == "/tracker/tracks" and conn.msgtype == DETECTION2D_ARRAY_TYPE
        got = [
            (t, detection2d_array_to_arrays(reader.deserialize(raw, conn.msgtype)))
            for _, t, raw in reader.messages()
        ]
    assert [g.stamp_ns for _, g in got] == [T0_NS, T0_NS + round(1e9 / FPS), T0_NS + 10_000_000_999]
    assert [t for t, _ in got] == [g.stamp_ns for _, g in got]  # log time = header stamp
    first, empty, last = (g for _, g in got)
    assert first.ids == ("4", "17", "2") and first.frame_id == "cam0"
    assert first.class_ids == ("person", "person", "2")
    np.testing.assert_allclose(first.boxes, tracks.boxes, atol=1e-4)
    np.testing.assert_allclose(first.scores, tracks.scores, atol=1e-6)
    assert empty.ids == () and empty.boxes.shape == (0, 4)
    assert last.ids == first.ids
    # a second run into the same OUT replaces the file
    with RosbagTracksWriter(out) as w:
        w.write(1, Tracks.empty())
    with AnyReader([out]) as reader:
        assert reader.message_count == 1


def test_tracks_writer_bag_folder(rosbags: Any, tmp_path: Path) -> None:
    from rosbags.highlevel import AnyReader

    from tracker.io.rosbag import RosbagTracksWriter

    bag = tmp_path / "tracks_bag"
    with RosbagTracksWriter(bag, topic="/people", storage="sqlite3") as w:
        for k in range(1, 4):
            w.write(k, _tracks())
    assert (bag / "metadata.yaml").is_file()
    with AnyReader([bag]) as reader:
        assert reader.topics["/people"].msgcount == 3
        ids = [
            detection2d_array_to_arrays(reader.deserialize(raw, c.msgtype)).ids
            for c, _, raw in reader.messages()
        ]
    assert ids == [("4", "17", "2")] * 3
    with pytest.raises(ValueError, match="never overwritten"):
        RosbagTracksWriter(bag)
    with pytest.raises(ValueError, match="absolute ROS name"):
        RosbagTracksWriter(tmp_path / "x.mcap", topic="people")
    with pytest.raises(ValueError, match="fps must be a positive number"):
        RosbagTracksWriter(tmp_path / "x.mcap", fps=0)
    assert not (tmp_path / "x.mcap").exists()


def test_tracker_output_to_bag_and_back(rosbags: Any, camera_bag: Path, tmp_path: Path) -> None:
    """Source -> Tracker -> writer with the source's stamps: the pipeline the CLI runs."""
    from rosbags.highlevel import AnyReader

    from tracker import Detections, Tracker
    from tracker.io.rosbag import RosbagTracksWriter

    tracker = Tracker("bytetrack", frame_rate=FPS)
    out = tmp_path / "tracks.mcap"
    with (
        open_source(camera_bag, topic="/camera/image_raw") as src,
        RosbagTracksWriter(out, fps=src.fps or FPS, frame_id=src.frame_id or "camera") as w,
    ):
        for k, frame in src:
            box = np.array([[5 + k, 5, 25 + k, 40]], np.float32)
            tracks = tracker.update(Detections(box, [0.9]), frame=frame, frame_index=k)
            w.write(k, tracks, stamp_ns=src.stamp_ns(k))
    with AnyReader([out]) as reader:
        msgs = [
            detection2d_array_to_arrays(reader.deserialize(raw, c.msgtype)) for c, _, raw in reader.messages()
        ]
    assert [m.stamp_ns for m in msgs] == [_stamp_ns(k) for k in range(N_FRAMES)]
    assert {m.frame_id for m in msgs} == {"cam"}
    assert {m.ids for m in msgs[-3:]} == {("1",)}  # one confirmed track, same id to the end


def test_missing_rosbags_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tracker.io.rosbag import RosbagTracksWriter

    monkeypatch.setitem(sys.modules, "rosbags", None)  # import rosbags -> ImportError
    with pytest.raises(ImportError, match=r"pip install \"tracker\[ros\]\""):
        RosbagTracksWriter(tmp_path / "t.mcap")


# ------------------------------------------------------------------------------------------------
# the rclpy example, driven with stand-ins for rclpy (message classes come from rosbags' type store)


class _FakeNode:
    params: Mapping[str, Any] = MappingProxyType({})  # replaced per test before the node is built

    def __init__(self, name: str) -> None:
        self.name = name
        self.published: list[Any] = []
        self.subscriptions: list[tuple[Any, str, Any]] = []
        self.warnings: list[str] = []

    def declare_parameter(self, name: str, default: Any) -> Any:
        return SimpleNamespace(value=self.params.get(name, default))

    def create_publisher(self, msg_type: Any, topic: str, depth: int) -> Any:
        return SimpleNamespace(publish=self.published.append, topic=topic, msg_type=msg_type)

    def create_subscription(self, msg_type: Any, topic: str, callback: Any, qos: Any) -> None:
        self.subscriptions.append((msg_type, topic, callback))

    def get_logger(self) -> Any:
        return SimpleNamespace(info=lambda *a, **k: None, warning=lambda m, **k: self.warnings.append(m))


class _BoxDetector:
    def detect(self, frame: np.ndarray, frame_index: int) -> Any:
        from tracker import Detections

        return Detections(np.array([[4 + frame_index, 6, 24 + frame_index, 40]], np.float32), [0.9])


def test_example_node_logic(rosbags: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from tracker.io.rosbag import ros_typestore

    types = ros_typestore().types

    def module(name: str, **attrs: Any) -> None:
        monkeypatch.setitem(sys.modules, name, SimpleNamespace(**attrs))

    module("rclpy", init=lambda args=None: None, spin=lambda node: None, try_shutdown=lambda: None)
    module("rclpy.node", Node=_FakeNode)
    module("rclpy.qos", qos_profile_sensor_data="sensor-data")
    module("rosidl_runtime_py.utilities", get_message=types.__getitem__)
    module(
        "sensor_msgs.msg",
        Image=types["sensor_msgs/msg/Image"],
        CompressedImage=types["sensor_msgs/msg/CompressedImage"],
    )
    module("vision_msgs.msg", Detection2DArray=types[DETECTION2D_ARRAY_TYPE])
    path = Path(__file__).resolve().parents[1] / "examples" / "ros2_tracker_node.py"
    spec = importlib.util.spec_from_file_location("ros2_tracker_node", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    monkeypatch.setattr(example, "default_detector", _BoxDetector)
    monkeypatch.setattr(
        _FakeNode,
        "params",
        MappingProxyType({"reid": False, "preset": "bytetrack", "image_topic": "/cam/image/compressed"}),
    )

    node = example.TrackerNode()
    ((msg_type, topic, callback),) = node.subscriptions
    assert topic == "/cam/image/compressed" and msg_type is types["sensor_msgs/msg/CompressedImage"]
    t = types
    for k, img in enumerate(FRAMES):
        sec, nsec = ns_to_stamp(_stamp_ns(k))
        header = t["std_msgs/msg/Header"](
            stamp=t["builtin_interfaces/msg/Time"](sec=sec, nanosec=nsec), frame_id="cam_optical"
        )
        data = cv2.imencode(".png", img)[1].reshape(-1)
        callback(t["sensor_msgs/msg/CompressedImage"](header=header, format="png", data=data))
    callback(t["sensor_msgs/msg/CompressedImage"](header=header, format="h264", data=np.zeros(4, np.uint8)))
    assert len(node.warnings) == 1 and "h264" in node.warnings[0]
    assert len(node.published) == N_FRAMES  # the bad image published nothing
    got = [detection2d_array_to_arrays(m) for m in node.published]
    assert [g.stamp_ns for g in got] == [_stamp_ns(k) for k in range(N_FRAMES)]
    assert {g.frame_id for g in got} == {"cam_optical"}
    assert {g.ids for g in got[-3:]} == {("1",)} and got[-1].class_ids == ("person",)
    np.testing.assert_allclose(got[-1].boxes[0], [4 + N_FRAMES, 6, 24 + N_FRAMES, 40], atol=1.0)


def test_run_pipeline_accepts_a_bag(camera_bag: Path, tmp_path: Path) -> None:
    """`run` on a bag: the existing pipeline takes the bag source as it is (stamps-based fps, name)."""
    import json

    from tracker.apps.run import run_video

    with open_source(camera_bag, topic="/camera/image_raw/compressed") as src:
        summary = run_video(
            src, _BoxDetector(), "bytetrack", out_dir=tmp_path, write_video=False, progress=False
        )
    assert summary.frames == N_FRAMES and summary.error is None and summary.name == "rec"
    assert summary.source_fps == pytest.approx(FPS)
    lines = (tmp_path / "rec.jsonl").read_text().splitlines()
    assert len(lines) == N_FRAMES and json.loads(lines[-1])["tracks"][0]["id"] == 1


def test_cli_run_on_a_bag_with_ros_output(
    rosbags: Any, camera_bag: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m tracker run rec --topic T --ros-out`: frames from the bag, tracks back out as
    Detection2DArray messages stamped like the images."""
    from rosbags.highlevel import AnyReader

    from tracker import __main__ as cli

    monkeypatch.setattr(cli, "_detector", lambda args: _BoxDetector())
    rc = cli.main(
        [
            "run", str(camera_bag), "--topic", "/camera/image_raw", "--ros-out", "--no-reid",
            "--config", "bytetrack", "--out", str(tmp_path), "--no-progress", "--no-video",
        ]
    )  # fmt: skip
    assert rc == 0
    with AnyReader([tmp_path / "rec_tracks.mcap"]) as reader:
        msgs = [
            detection2d_array_to_arrays(reader.deserialize(raw, c.msgtype)) for c, _, raw in reader.messages()
        ]
    assert [m.stamp_ns for m in msgs] == [_stamp_ns(k) for k in range(N_FRAMES)]
    assert {m.ids for m in msgs[-3:]} == {("1",)}
