#!/usr/bin/python3
"""Live test streams on loopback for EdgeLens' live tests and latency bench.

No camera exists on the test machines, so the tests make real streams:

  rtsp   a real RTSP server (Debian's GStreamer RTSP server library through python3-gi):
         appsrc -> x264enc (zerolatency) -> rtph264pay, at rtsp://127.0.0.1:PORT/live
  mjpeg  MJPEG over HTTP (what cheap IP cameras serve) from Debian's ffmpeg
         (`-f mpjpeg -listen 1`), at http://127.0.0.1:PORT/stream.mjpg; ffmpeg serves one
         client and exits when it leaves, so it is started again for the next one
  file   a video file of --seconds (H.264 in MP4), for the file source played in real time

Every frame carries its own capture time: a strip of black and white blocks along its top
edge encodes the wall-clock milliseconds (CLOCK_REALTIME) at which the frame was made, read
back after decoding by edgelens::FrameStamp (common/live/framestamp.*), so the client can
measure capture-to-screen latency through encoder, network and decoder. Layout (keep in step
with framestamp.cpp): blocks of width // 64 pixels square, from the top-left corner: the marker
white, black; 48 bits of the milliseconds, most significant first; 8 bits, the XOR of those
6 bytes; white = 1.

Prints `READY <url or path>` on stdout once it serves (or wrote the file). Stops cleanly on
SIGTERM or SIGINT, and takes its ffmpeg child with it (also if it is killed: PDEATHSIG).
"""

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np

STAMP_BLOCKS = 64
STAMP_BITS = 48


def stamp_block(width):
    return max(4, width // STAMP_BLOCKS)


def draw_stamp(frame, millis):
    """Writes millis into the top strip of a BGR uint8 frame, in place."""
    height, width = frame.shape[:2]
    block = stamp_block(width)
    payload = millis.to_bytes(6, "big")
    checksum = 0
    for b in payload:
        checksum ^= b
    bits = [1, 0]
    bits += [(millis >> (STAMP_BITS - 1 - i)) & 1 for i in range(STAMP_BITS)]
    bits += [(checksum >> (7 - i)) & 1 for i in range(8)]
    frame[0:block, 0:STAMP_BLOCKS * block] = 0
    for i, bit in enumerate(bits):
        if bit:
            frame[0:block, i * block:(i + 1) * block] = 255


def make_background(width, height, path):
    if path:
        # Decoded with GStreamer-free means: ffmpeg scales any image to the stream's size.
        raw = subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path, "-vf",
             f"scale={width}:{height}", "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
            check=True, capture_output=True).stdout
        if len(raw) != width * height * 3:
            raise SystemExit(f"livestream: could not scale {path} to {width}x{height}")
        return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3).copy()
    y, x = np.mgrid[0:height, 0:width]
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    frame[..., 0] = (x * 255 // max(1, width - 1)).astype(np.uint8)
    frame[..., 1] = (y * 255 // max(1, height - 1)).astype(np.uint8)
    frame[..., 2] = 96
    return frame


class FrameMaker:
    """The background with a moving bar (so consecutive frames differ) and the time strip."""

    def __init__(self, width, height, background):
        self.width, self.height = width, height
        self.background = make_background(width, height, background)
        self.index = 0

    def next(self, millis):
        frame = self.background.copy()
        bar = (self.index * 8) % self.width
        frame[self.height - 12:self.height, bar:min(self.width, bar + 40)] = (0, 0, 255)
        draw_stamp(frame, millis)
        self.index += 1
        return frame


def now_ms():
    return time.time_ns() // 1_000_000


def die_with_parent():
    # The child ffmpeg must not outlive this script, even when the test kills it with SIGKILL.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def serve_rtsp(args, stop):
    import gi
    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer

    Gst.init(None)
    maker = FrameMaker(args.width, args.height, args.background)
    period = 1.0 / args.fps

    # Frames are made when appsrc asks for one (need-data, from its own streaming thread), paced
    # to the frame rate there. A thread pushing from media-configure on raced the media's
    # preroll: a frame pushed during its brief PLAYING left about one stream in ten sending
    # nothing at all to its first client.
    def on_configure(_factory, media):
        pace = {"next": None}

        def need_data(appsrc, _length):
            now = time.monotonic()
            due = pace["next"] if pace["next"] is not None else now
            if due > now:
                if stop.wait(due - now):
                    return
            elif now - due > period:
                due = now  # fell behind: do not burst to catch up
            pace["next"] = due + period
            buffer = Gst.Buffer.new_wrapped(maker.next(now_ms()).tobytes())
            appsrc.emit("push-buffer", buffer)

        media.get_element().get_by_name("src").connect("need-data", need_data)

    caps = f"video/x-raw,format=BGR,width={args.width},height={args.height},framerate={args.fps}/1"
    # One slice per frame: with zerolatency's sliced threads, FFmpeg's RTSP client decodes the
    # P-frames of this stream damaged (only every keyframe carried a readable stamp).
    launch = (f"( appsrc name=src is-live=true do-timestamp=true format=time caps={caps} "
              f"! queue max-size-buffers=2 leaky=downstream ! videoconvert "
              f"! video/x-raw,format=I420 "
              f"! x264enc tune=zerolatency speed-preset=ultrafast bitrate={args.bitrate} "
              f"key-int-max={max(1, args.fps // 2)} threads=1 sliced-threads=false "
              f"! rtph264pay name=pay0 pt=96 config-interval=-1 )")
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)
    factory.connect("media-configure", on_configure)
    server.get_mount_points().add_factory("/live", factory)
    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        raise SystemExit(f"livestream: cannot listen on 127.0.0.1:{args.port}")
    port = server.get_bound_port()
    print(f"READY rtsp://127.0.0.1:{port}/live", flush=True)

    def check_stop():
        if stop.is_set():
            loop.quit()
            return False
        return True

    GLib.timeout_add(100, check_stop)
    loop.run()


def serve_mjpeg(args, stop):
    if args.port <= 0:
        raise SystemExit("livestream: mjpeg needs --port (ffmpeg's -listen cannot pick one)")
    maker = FrameMaker(args.width, args.height, args.background)
    url = f"http://127.0.0.1:{args.port}/stream.mjpg"
    command = ["ffmpeg", "-hide_banner", "-loglevel", "fatal", "-f", "rawvideo", "-pix_fmt", "bgr24",
               "-s", f"{args.width}x{args.height}", "-r", str(args.fps), "-i", "-",
               "-c:v", "mjpeg", "-q:v", "5", "-f", "mpjpeg", "-listen", "1", url]
    period = 1.0 / args.fps
    announced = False
    while not stop.is_set():
        child = subprocess.Popen(command, stdin=subprocess.PIPE, preexec_fn=die_with_parent)
        if not announced:
            # ffmpeg listens as soon as it has its first frame; give it one before saying so.
            child.stdin.write(maker.next(now_ms()).tobytes())
            child.stdin.flush()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not port_open(args.port):
                time.sleep(0.02)
            print(f"READY {url}", flush=True)
            announced = True
        next_time = time.monotonic()
        try:
            while not stop.is_set():
                child.stdin.write(maker.next(now_ms()).tobytes())
                child.stdin.flush()
                next_time += period
                delay = next_time - time.monotonic()
                if delay > 0:
                    stop.wait(delay)
                else:
                    next_time = time.monotonic()
        except (BrokenPipeError, ValueError):
            pass  # the client left and ffmpeg with it: serve the next one
        finally:
            try:
                child.stdin.close()
            except (BrokenPipeError, ValueError):
                pass
            child.terminate()
            child.wait()


def port_open(port):
    import socket
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def write_file(args):
    maker = FrameMaker(args.width, args.height, args.background)
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
               "-s", f"{args.width}x{args.height}", "-r", str(args.fps), "-i", "-",
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(args.fps),
               args.output]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, preexec_fn=die_with_parent)
    # A file has no wall clock: its frames carry their presentation time in ms from the start.
    for i in range(int(args.seconds * args.fps)):
        child.stdin.write(maker.next(i * 1000 // args.fps).tobytes())
    child.stdin.close()
    if child.wait() != 0:
        raise SystemExit("livestream: ffmpeg could not write " + args.output)
    print(f"READY {args.output}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["rtsp", "mjpeg", "file"])
    parser.add_argument("--port", type=int, default=0, help="rtsp: 0 picks a free one; mjpeg: required")
    parser.add_argument("--size", default="640x360", help="WIDTHxHEIGHT")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--bitrate", type=int, default=3000, help="rtsp: x264 kbit/s")
    parser.add_argument("--background", help="an image scaled to the frame (else a gradient)")
    parser.add_argument("--output", help="file: where to write")
    parser.add_argument("--seconds", type=float, default=5, help="file: length")
    args = parser.parse_args()
    args.width, args.height = (int(v) for v in args.size.lower().split("x"))
    if args.width < 4 * STAMP_BLOCKS or args.height < 16 or args.fps <= 0:
        raise SystemExit("livestream: the frame must be at least 256 pixels wide and 16 high, fps > 0")

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if args.kind == "file":
        if not args.output:
            raise SystemExit("livestream: file needs --output")
        write_file(args)
    elif args.kind == "rtsp":
        serve_rtsp(args, stop)
    else:
        serve_mjpeg(args, stop)


if __name__ == "__main__":
    sys.exit(main())
