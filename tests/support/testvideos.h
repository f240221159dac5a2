#pragma once

// Small videos made at run time with Debian's ffmpeg (no media in git), and what ffprobe says
// about their frames: the reference the video tests compare EdgeLens's frame indices and
// timestamps with. Every clip is a few seconds at a small size so a suite stays quick, also
// under the sanitizers.

#include <QList>
#include <QSize>
#include <QString>
#include <QStringList>

namespace edgelens::test {

bool haveFfmpeg(); // ffmpeg and ffprobe are on PATH

// Each image held for framesPerImage frames at fps, letterboxed into size, H.264 in MP4
// (yuv420p, moov first). False with *error (ffmpeg's stderr) on failure.
bool makeSlideshow(const QString &file, const QStringList &images, int framesPerImage, const QSize &size, int fps,
                   QString *error);
// seconds of ffmpeg's moving test pattern at fps, with a pause: the frame at pauseAtFrame is
// held pauseSeconds longer (its successors shifted), so frame durations differ: a
// variable-frame-rate file. H.264 in MP4.
bool makeVariableFrameRate(const QString &file, double seconds, int fps, int pauseAtFrame, double pauseSeconds,
                           const QSize &size, QString *error);
// `scenes` shots of sceneSeconds each from different ffmpeg test sources (moving pattern,
// colour bars, a zooming fractal...), cut hard from one to the next. H.264 in MP4.
bool makeSceneCuts(const QString &file, int scenes, double sceneSeconds, int fps, const QSize &size, QString *error);
// seconds of ffmpeg's moving test pattern (every frame differs from the next) at fps and size,
// encoded with `encoding` (ffmpeg output options: codec, B-frames...) into file.
bool makePattern(const QString &file, double seconds, int fps, const QSize &size, const QStringList &encoding,
                 QString *error);
// Sets the display matrix of an MP4's first track (its tkhd box) to "turn 90 degrees clockwise
// to show", as phones write portrait videos (ffmpeg 5.1 has no option for it).
bool setMp4Rotation90(const QString &file, QString *error);
// A copy of source from startSeconds on without re-encoding (-c copy): it starts at a key
// frame before that time, with whatever frames that key frame's group carries.
// muxerOptions go before the output (`-use_editlist 0`: an MP4 that keeps the frames before
// the cut as frames of its own instead of marking them as outside the video).
bool cutCopy(const QString &source, const QString &file, double startSeconds, const QStringList &muxerOptions,
             QString *error);
// ffmpeg's reorder delay for the file's video (has_b_frames: > 0 when frames come reordered).
int probeReorderDelay(const QString &file, QString *error);
// Every video frame of the file in presentation order as ffmpeg decodes it, each as packed
// 8-bit BGR of width x height (frames neither dropped nor repeated).
QList<QByteArray> ffmpegFramesBgr(const QString &file, const QSize &size, QString *error);
// A copy of source holding only its first `fraction` of bytes.
bool truncateCopy(const QString &source, const QString &file, double fraction, QString *error);

struct ProbedFrame
{
    qint64 index = -1;
    double timestampMs = -1; // best-effort presentation time minus the stream's start time; -1: none
};
// Every video frame of the file in presentation order, as ffprobe decodes it.
QList<ProbedFrame> probeFrames(const QString &file, QString *error);

} // namespace edgelens::test
