#pragma once

namespace edgelens {

// FFmpeg (inside OpenCV's videoio) prints its own messages to stderr, URLs and all: a stream
// URL with a password would reach the terminal and any log collecting it. install() routes
// them through Qt's logging instead (category edgelens.live.ffmpeg, info level: the source's
// own states say what matters), with credentials masked. OpenCV only sets FFmpeg's log level
// unless OPENCV_FFMPEG_DEBUG / OPENCV_FFMPEG_LOGLEVEL are set, so this callback stays.
class FfmpegLog final
{
public:
    FfmpegLog() = delete;
    static void install(); // once per process; thread-safe
};

} // namespace edgelens
