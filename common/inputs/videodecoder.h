#pragma once

// The video stream of a file read with libavformat and decoded with libavcodec directly, for
// VideoFileSource. Directly, because OpenCV's videoio decodes every frame and converts each to
// BGR, and gives no say over the codec: sampling every 10th frame of an H.264 file spent most
// of its decoding time on frames nobody kept.
//
// Frames come out in presentation order, numbered from 0, each with its presentation time from
// the stream's start. The number and time of a frame come from its packet, before it is
// decoded: packets arrive in decode order, so they wait in a window (kReorderWindow packets,
// more than the reordering any codec allows: H.264 at most 16) until every packet with an
// earlier time has been read; the frame with the lowest time still waiting is then the next
// in presentation order. Knowing a frame's number before decoding it is what lets a frame
// nobody keeps (FrameFilter says no) skip its decoding when no other frame refers to it
// (skip_frame = AVDISCARD_NONREF for that packet, with a single decoding thread, so the
// setting applies to exactly that packet; an intra-only codec's packet is not sent at all).
// Reference frames are decoded but not converted. Only a wanted frame is converted to BGR.
// Every packet is decoded until the decoder shows its first frame: a stream cut inside an open
// group of pictures starts with frames it drops, and those are no frames of the video. This
// numbering is used where each packet carries one shown frame (progressive H.264, HEVC, VP9,
// AV1, MJPEG); packets an edit list marks as outside the video are decoded, never numbered.
//
// Other codecs, and containers whose packets carry no presentation times (AVI with B-frames,
// some MPEG program streams), are decoded frame by frame instead: every frame decoded,
// numbered in the order the decoder gives them, timed by the decoder's best-effort timestamp
// (what OpenCV's videoio did for every file).
//
// Not thread-safe: one thread at a time. Holds at most kMaxQueued packets and two frames.

#include <QSize>
#include <QString>

#include <opencv2/core/mat.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>

struct AVFormatContext;
struct AVCodecContext;
struct AVPacket;
struct AVFrame;
struct SwsContext;

namespace edgelens {

class VideoDecoder final
{
public:
    // Whether frame `index` at `timestampMs` will be kept; asked once per frame, in
    // presentation order, before the frame is decoded. Frames it refuses may come without pixels.
    using FrameFilter = std::function<bool(qint64 index, double timestampMs)>;

    struct Info
    {
        QSize size;             // of the frames handed out (turned upright: see rotation)
        double fps = 0;         // the stream's average rate (0: unknown)
        qint64 frameCount = -1; // frames the container announces, or duration x fps; -1 unknown
        QString codec;          // FourCC, or the codec's name
        int rotation = 0;       // clockwise degrees the frames are turned to stand upright (0, 90, 180, 270)
        bool timedByPackets = false; // numbered from the packets (frames can be skipped), or frame by frame
    };

    struct Frame
    {
        qint64 index = -1;
        double timestampMs = -1; // presentation time from the stream's start (may be negative)
        bool timed = false;      // false: the decoder gave the frame no time
        bool hasPicture = false; // decoded: toBgr() works until the next call of next()
    };

    explicit VideoDecoder(const QString &path);
    ~VideoDecoder();
    VideoDecoder(const VideoDecoder &) = delete;
    VideoDecoder &operator=(const VideoDecoder &) = delete;

    bool open(QString *error);
    const Info &info() const { return m_info; }
    // Before the first next(); without one every frame is decoded.
    void setFilter(FrameFilter filter) { m_filter = std::move(filter); }

    enum class Result { Frame, End, Error };
    // The next frame in presentation order. End once the stream is read to its end (a
    // damaged tail ends it too: the caller compares the count with Info::frameCount).
    Result next(Frame *frame, QString *error);
    // The picture of the frame next() gave last (when it has one), upright, as 8-bit BGR.
    bool toBgr(cv::Mat *bgr, QString *error);
    // The same picture reduced to grey of `size` (upright), area-averaged, full range: what
    // reducing toBgr()'s picture and converting it to grey gives, within rounding, but made
    // from the luma plane without converting the frame.
    bool toGrey(const cv::Size &size, cv::Mat *grey, QString *error);
    // The same picture's planes as the decoder holds them, when they are 8-bit 4:2:0 and need
    // no turning (views, valid until the next call of next()); *fullRange: 0..255, not video's 16..235.
    bool yuv420Planes(cv::Mat *y, cv::Mat *cb, cv::Mat *cr, bool *fullRange) const;
    void close();

    // For measurements and logs: packets given to the decoder, frames it decoded, frames whose
    // packet was skipped or not decoded as a picture, frames converted to BGR.
    struct Counters
    {
        qint64 packetsSent = 0;
        qint64 framesDecoded = 0;
        qint64 framesSkipped = 0;
        qint64 framesConverted = 0;
        qint64 framesLost = 0; // wanted, sent, but the decoder gave no picture for them (damage)
        qint64 mostPacketsQueued = 0; // read and not yet decoded, at most (memory stays bounded)
        qint64 framesNeverShown = 0;  // packets the container marks as outside the video (an edit
                                      // list's lead-in) or out of order: in the container's count,
                                      // never a frame
    };
    const Counters &counters() const { return m_counters; }

    static constexpr int kReorderWindow = 32;
    // Packets read ahead of the decoder at most while frames nobody wants are handed out.
    static constexpr int kMaxQueued = 2 * kReorderWindow;

private:
    struct Slot; // one packet and the frame it carries
    using SlotPtr = std::shared_ptr<Slot>;

    bool readPacket(QString *error);
    void decideMode();
    void assign(const SlotPtr &slot);
    void releaseHeld(bool all);
    bool sendNext(QString *error);
    enum class Pull { Got, NeedInput, Drained, Failed };
    Pull pullFrame(QString *error);
    Result nextByPackets(Frame *frame, QString *error);
    Result nextByFrames(Frame *frame, QString *error);
    bool drainQueued(qint64 handedOutPts, QString *error);
    void firstShown(qint64 pts);
    double toMs(qint64 pts) const;
    bool convertToBgr(cv::Mat *bgr, QString *error);
    bool rotateUpright(cv::Mat *image) const;

    QString m_path;
    Info m_info;
    FrameFilter m_filter;
    AVFormatContext *m_format = nullptr;
    AVCodecContext *m_codec = nullptr;
    AVPacket *m_packet = nullptr;
    AVFrame *m_frame = nullptr;       // the decoder's latest output, not yet matched
    bool m_frameHeld = false;
    AVFrame *m_current = nullptr;     // the picture of the frame handed out last
    bool m_currentValid = false;
    SwsContext *m_bgrScaler = nullptr;
    int m_scalerWidth = 0;
    int m_scalerHeight = 0;
    int m_scalerFormat = -1;
    int m_stream = -1;
    qint64 m_startPts = 0;
    double m_timeBase = 0;
    bool m_intraOnly = false;

    enum class Mode { Undecided, ByPackets, ByFrames };
    Mode m_mode = Mode::Undecided;
    std::deque<SlotPtr> m_decodeOrder;          // read, not yet sent to the decoder
    std::multimap<qint64, SlotPtr> m_unnumbered; // read, waiting for their number (by time)
    std::deque<SlotPtr> m_presentation;         // numbered, not yet handed out
    qint64 m_nextIndex = 0;
    qint64 m_lastNumberedPts = 0;
    bool m_anyNumbered = false;
    bool m_demuxEnded = false;
    bool m_flushSent = false;
    bool m_decoderDrained = false;
    bool m_firstShownKnown = false; // the decoder showed its first frame (or nothing at all)
    double m_lastTimestampMs = -1;
    int m_decodeErrors = 0;
    Counters m_counters;
};

} // namespace edgelens
