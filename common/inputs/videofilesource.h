#pragma once

#include "inputs/framesource.h"

#include <memory>

namespace edgelens {

class FrameJpegEncoder;
class VideoDecoder;

// A video file decoded in order with FFmpeg's libavformat and libavcodec (MP4/H.264, MKV, MOV,
// AVI/MJPEG, WebM: what Debian's FFmpeg reads; VideoDecoder). Never seeks: seeking lands on
// the nearest key frame on many files, so frame N would not be frame N. Frames are numbered in
// presentation order and each carries its presentation time from the stream's start, right
// also for variable-frame-rate files. Given a keep filter, frames it refuses are handed out
// without pixels and, where no other frame refers to them, without being decoded.
//
// A file that ends well before the frame count its container announces is reported as
// truncated or damaged (Read::Error) after the last frame that did decode, so everything
// before the damage is kept. Holds one decoded frame; not thread-safe (one thread at a time).
class VideoFileSource final : public FrameSource
{
public:
    explicit VideoFileSource(const QString &path);
    ~VideoFileSource() override;

    QString name() const override;
    bool open(QString *error) override;
    SourceProperties properties() const override;
    Read next(SourceFrame *frame, Pixels pixels, QString *error) override;
    bool retrieve(SourceFrame *frame, QString *error) override;
    // From the decoder's 4:2:0 planes (video range stretched to JPEG's), when it has them.
    bool retrieveJpeg(const SourceFrame &frame, int quality, QByteArray *jpeg, QString *error) override;
    void close() override;
    void setKeepFilter(KeepFilter keep) override;
    bool setSignatureSize(const cv::Size &size) override; // from the luma plane: yes

    // Frame durations seen so far differ (beyond the timestamps' rounding): index / fps is not
    // the frame's time. Known for sure only once the file was read to its end.
    bool variableFrameRate() const override { return m_variable; }
    // Frames handed out so far (decoded or not).
    qint64 framesDecoded() const { return m_handedOut; }
    // Frames the decoder gave no timestamp (only files whose packets carry no times): timed
    // one frame after the one before.
    qint64 framesWithoutTimestamp() const { return m_untimed; }
    // What the decoder did: packets decoded, frames skipped, frames converted (for benches).
    struct DecodeCounts
    {
        qint64 packetsDecoded = 0;
        qint64 framesDecoded = 0;
        qint64 framesNotDecoded = 0;
        qint64 framesConverted = 0;
        qint64 mostPacketsQueued = 0; // read ahead of the decoder, at most
    };
    DecodeCounts decodeCounts() const;

    // Suffixes of the video files EdgeLens looks for in folders (lower case, no dot).
    static QStringList supportedSuffixes();
    static bool isSupportedVideo(const QString &fileName);
    // Opens the file only to read its properties (for the count a sampling rule will give).
    static bool probe(const QString &path, SourceProperties *properties, QString *error);

private:
    QString m_path;
    std::unique_ptr<VideoDecoder> m_decoder;
    std::unique_ptr<FrameJpegEncoder> m_jpeg;
    cv::Mat m_fullRange[3]; // the planes stretched to full range, kept between frames
    KeepFilter m_keep;
    SourceProperties m_properties;
    qint64 m_index = -1;
    qint64 m_handedOut = 0;
    bool m_hasPicture = false;
    cv::Size m_signatureSize;
    double m_lastTimestampMs = -1;
    double m_minDeltaMs = -1;
    double m_maxDeltaMs = -1;
    double m_lastDeltaMs = -1;
    qint64 m_untimed = 0;
    bool m_variable = false;
    bool m_ended = false;
};

} // namespace edgelens
