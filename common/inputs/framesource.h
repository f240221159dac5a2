#pragma once

// The one interface for "frames come from somewhere": a video file decoded in order
// (VideoFileSource), and live cameras and streams (a StreamSource runs its own capture thread
// and hands out the newest frame). What consumes frames (the sampler, the processing loop, the
// live view) sees only this.
//
// Contract for implementations:
// - open() once, then next() until it says End or Error, then close() (also safe without
//   open(), twice, or from the destructor). properties() is valid after a successful open().
// - next() returns frames in the source's order with a frame index that only grows (a live
//   source keeps counting across reconnects and skips the indices of frames it dropped) and
//   the decoder's timestamp of that frame; never an index / fps estimate.
// - next(WithoutImage) may skip the pixel conversion: the frame is still counted and timed
//   (sampling "every N frames" only pays for the frames it keeps). A source told which frames
//   will be kept (setKeepFilter) may also skip decoding the others where nothing refers to
//   them; it hands them out all the same, without pixels.
// - A live source's next() waits at most its read timeout and answers Stalled rather than
//   blocking for ever; End is for a file that ended. Error carries a message for people.
// - Memory is bounded: an implementation holds at most a few frames, whatever the length.

#include <QByteArray>
#include <QSize>
#include <QtGlobal>
#include <QString>

#include <opencv2/core/mat.hpp>

#include <functional>

namespace edgelens {

struct SourceProperties
{
    QSize size;              // decoded frame size
    double fps = 0;          // nominal rate the container claims (0: unknown)
    qint64 frameCount = -1;  // frames the container claims (-1: unknown or live)
    double durationMs = -1;  // frameCount / fps when both are known (an estimate for VFR files)
    bool isFile = true;      // a file: decoded as fast as possible, no frame dropped, ends
    bool isReconnectable = false; // a stream that may come back after a drop
    QString codec;           // FourCC or backend name, for people
};

struct SourceFrame
{
    cv::Mat image;           // 8-bit BGR; empty when asked for WithoutImage
    qint64 index = -1;       // 0-based, in the order frames are shown (ffprobe's numbering)
    double timestampMs = -1; // the decoder's presentation time from the stream's start
    qint64 captureSteadyNs = 0; // monotonic clock when the frame was taken from the source
    cv::Mat signature;       // the frame reduced to small grey (FrameSampler::signature), when
                             // the source was asked for it (setSignatureSize); else empty
};

class FrameSource
{
public:
    enum class Read { Frame, End, Stalled, Error };
    enum class Pixels { WithImage, WithoutImage };

    virtual ~FrameSource();

    // A description for messages and logs ("clip.mp4", "rtsp://cam.local/…" with no password).
    virtual QString name() const = 0;
    virtual bool open(QString *error) = 0;
    virtual SourceProperties properties() const = 0;
    virtual Read next(SourceFrame *frame, Pixels pixels, QString *error) = 0;
    // The pixels of the frame next() returned last when it was asked WithoutImage (the decision
    // to keep it came after). A source that always delivers pixels has nothing to add.
    virtual bool retrieve(SourceFrame *frame, QString *error);
    // The same frame written as a baseline JPEG at `quality`, when the source can do that more
    // cheaply than from its BGR pixels (a decoder's own 4:2:0 planes). False with *error left
    // empty: not offered, encode the pixels; false with a message: it failed.
    virtual bool retrieveJpeg(const SourceFrame &frame, int quality, QByteArray *jpeg, QString *error)
    {
        (void)frame, (void)quality, (void)jpeg, (void)error;
        return false;
    }
    virtual void close() = 0;
    // Whether the frame with this index and time will be kept (asked once per frame, in the
    // source's order, before next() hands it out). Frames it refuses may come without pixels
    // and retrieve() may fail for them. Set after open(), before the first next(). A source
    // that decodes everything anyway ignores it.
    using KeepFilter = std::function<bool(qint64 index, double timestampMs)>;
    virtual void setKeepFilter(KeepFilter keep) { (void)keep; }
    // A source that can reduce a frame to grey of this size more cheaply than from its BGR
    // pixels (a decoder's luma plane) says yes and fills SourceFrame::signature for every frame
    // from then on, also WithoutImage. Scene-change sampling then needs no BGR frame but the kept ones.
    virtual bool setSignatureSize(const cv::Size &size) { (void)size; return false; }
    // Frame durations seen so far differ: a frame's time is not index / fps (files only; a
    // live source's frames carry their own times anyway).
    virtual bool variableFrameRate() const { return false; }

protected:
    FrameSource() = default;
    FrameSource(const FrameSource &) = delete;
    FrameSource &operator=(const FrameSource &) = delete;
};

} // namespace edgelens
