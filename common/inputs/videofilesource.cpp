#include "videofilesource.h"

#include "inputs/framejpegencoder.h"
#include "inputs/videodecoder.h"

#include <QFileInfo>
#include <QLoggingCategory>

#include <chrono>
#include <cmath>

Q_LOGGING_CATEGORY(lcVideoFile, "edgelens.inputs.videofile", QtInfoMsg)

namespace edgelens {

namespace {

qint64 steadyNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

VideoFileSource::VideoFileSource(const QString &path)
    : m_path(path)
{
}

VideoFileSource::~VideoFileSource()
{
    close();
}

QString VideoFileSource::name() const
{
    return QFileInfo(m_path).fileName();
}

QStringList VideoFileSource::supportedSuffixes()
{
    return {QStringLiteral("mp4"), QStringLiteral("m4v"), QStringLiteral("mkv"), QStringLiteral("mov"),
            QStringLiteral("avi"), QStringLiteral("webm"), QStringLiteral("mpg"), QStringLiteral("mpeg"),
            QStringLiteral("wmv"), QStringLiteral("flv")};
}

bool VideoFileSource::isSupportedVideo(const QString &fileName)
{
    return supportedSuffixes().contains(QFileInfo(fileName).suffix().toLower());
}

bool VideoFileSource::probe(const QString &path, SourceProperties *properties, QString *error)
{
    VideoFileSource source(path);
    if (!source.open(error))
        return false;
    if (properties)
        *properties = source.properties();
    return true;
}

bool VideoFileSource::open(QString *error)
{
    close();
    const QFileInfo info(m_path);
    if (!info.isFile() || !info.isReadable()) {
        if (error)
            *error = QStringLiteral("%1: no such file, or not readable").arg(m_path);
        return false;
    }
    m_decoder = std::make_unique<VideoDecoder>(m_path);
    if (!m_decoder->open(error)) {
        m_decoder.reset();
        return false;
    }
    const VideoDecoder::Info &decoded = m_decoder->info();
    m_properties = SourceProperties();
    m_properties.size = decoded.size;
    m_properties.fps = decoded.fps;
    m_properties.frameCount = decoded.frameCount;
    if (m_properties.fps > 0 && m_properties.frameCount > 0)
        m_properties.durationMs = m_properties.frameCount * 1000.0 / m_properties.fps;
    m_properties.isFile = true;
    m_properties.isReconnectable = false;
    m_properties.codec = decoded.codec;
    m_decoder->setFilter(m_keep);
    m_index = -1;
    m_handedOut = 0;
    m_hasPicture = false;
    m_lastTimestampMs = -1;
    m_minDeltaMs = m_maxDeltaMs = -1;
    m_lastDeltaMs = -1;
    m_untimed = 0;
    m_variable = false;
    m_ended = false;
    qCDebug(lcVideoFile) << "opened" << m_path << m_properties.size << m_properties.fps << "fps"
                         << m_properties.frameCount << "frames" << m_properties.codec;
    return true;
}

void VideoFileSource::setKeepFilter(KeepFilter keep)
{
    m_keep = std::move(keep);
    if (m_decoder)
        m_decoder->setFilter(m_keep);
}

bool VideoFileSource::setSignatureSize(const cv::Size &size)
{
    m_signatureSize = size;
    return true;
}

SourceProperties VideoFileSource::properties() const
{
    return m_properties;
}

VideoFileSource::DecodeCounts VideoFileSource::decodeCounts() const
{
    DecodeCounts counts;
    if (m_decoder) {
        const VideoDecoder::Counters &c = m_decoder->counters();
        counts.packetsDecoded = c.packetsSent;
        counts.framesDecoded = c.framesDecoded;
        counts.framesNotDecoded = c.framesSkipped;
        counts.framesConverted = c.framesConverted;
        counts.mostPacketsQueued = c.mostPacketsQueued;
    }
    return counts;
}

FrameSource::Read VideoFileSource::next(SourceFrame *frame, Pixels pixels, QString *error)
{
    if (!m_decoder) {
        if (error)
            *error = QStringLiteral("%1: not open").arg(m_path);
        return Read::Error;
    }
    if (m_ended)
        return Read::End;
    VideoDecoder::Frame decoded;
    const VideoDecoder::Result result = m_decoder->next(&decoded, error);
    if (result == VideoDecoder::Result::Error) {
        m_ended = true;
        return Read::Error;
    }
    if (result == VideoDecoder::Result::End) {
        m_ended = true;
        // The container's count is exact for MP4/MOV and an estimate from the duration
        // elsewhere: a short tail is rounding, a file that stops well before is damaged. An MP4
        // cut without re-encoding counts the frames its edit list leaves out too.
        const qint64 announced = m_properties.frameCount > 0
            ? m_properties.frameCount - m_decoder->counters().framesNeverShown
            : m_properties.frameCount;
        if (announced > 0 && m_handedOut < announced - std::max<qint64>(2, announced / 50)) {
            if (error)
                *error = QStringLiteral("%1: the video ends after frame %2 of the %3 it announces: the file is "
                                        "truncated or damaged (the frames before the damage are kept)")
                             .arg(m_path)
                             .arg(m_handedOut)
                             .arg(announced);
            return Read::Error;
        }
        return Read::End;
    }
    ++m_handedOut;
    m_index = decoded.index;
    m_hasPicture = decoded.hasPicture;
    double timestampMs = decoded.timestampMs;
    const bool first = m_handedOut == 1;
    // Only frames decoded frame by frame can come without a time (the last ones of an AVI with
    // B-frames) or out of step. Presentation times only grow, so such a frame is timed one
    // frame duration after the previous one (counted, and logged). Frames numbered by their
    // packets always have strictly growing times, which stay exactly as the keep filter saw them.
    if (!decoded.timed || (!first && !(timestampMs > m_lastTimestampMs))) {
        const double step = m_lastDeltaMs > 0 ? m_lastDeltaMs : (m_properties.fps > 0 ? 1000.0 / m_properties.fps : 1.0);
        qCDebug(lcVideoFile) << "frame" << m_index << "of" << m_path << "came without a usable timestamp; timed"
                             << step << "ms after the previous one";
        timestampMs = first ? 0.0 : m_lastTimestampMs + step;
        ++m_untimed;
    } else if (!first) {
        m_lastDeltaMs = timestampMs - m_lastTimestampMs;
    }
    if (!first) {
        const double delta = timestampMs - m_lastTimestampMs;
        m_minDeltaMs = m_minDeltaMs < 0 ? delta : std::min(m_minDeltaMs, delta);
        m_maxDeltaMs = std::max(m_maxDeltaMs, delta);
        // Beyond the rounding of a time base: one frame lasting half again as long as another.
        if (!m_variable && m_maxDeltaMs - m_minDeltaMs > 1.0 && m_maxDeltaMs > 1.5 * m_minDeltaMs) {
            m_variable = true;
            qCInfo(lcVideoFile).noquote() << name() << "has a variable frame rate: frames keep the decoder's timestamps";
        }
    }
    m_lastTimestampMs = timestampMs;
    frame->index = m_index;
    frame->timestampMs = timestampMs;
    frame->captureSteadyNs = steadyNs();
    frame->image.release();
    frame->signature.release();
    if (!m_signatureSize.empty() && m_hasPicture && !m_decoder->toGrey(m_signatureSize, &frame->signature, error)) {
        m_ended = true;
        return Read::Error;
    }
    // A frame the keep filter refused has no pixels to give: it comes without them.
    if (pixels == Pixels::WithImage && m_hasPicture && !retrieve(frame, error))
        return Read::Error;
    return Read::Frame;
}

bool VideoFileSource::retrieve(SourceFrame *frame, QString *error)
{
    if (!frame->image.empty())
        return true;
    if (!m_decoder || m_ended || frame->index != m_index) {
        if (error)
            *error = QStringLiteral("%1: frame %2 is not the frame decoded last").arg(m_path).arg(frame->index);
        return false;
    }
    if (!m_hasPicture) {
        if (error)
            *error = QStringLiteral("%1: frame %2 was not decoded (the keep filter refused it)").arg(m_path).arg(frame->index);
        return false;
    }
    QString why;
    if (!m_decoder->toBgr(&frame->image, &why)) {
        m_ended = true;
        if (error)
            *error = QStringLiteral("%1: frame %2 could not be converted: %3").arg(m_path).arg(frame->index).arg(why);
        return false;
    }
    return true;
}

bool VideoFileSource::retrieveJpeg(const SourceFrame &frame, int quality, QByteArray *jpeg, QString *error)
{
    cv::Mat planes[3];
    bool fullRange = false;
    if (!m_decoder || m_ended || frame.index != m_index || !m_hasPicture
        || !m_decoder->yuv420Planes(&planes[0], &planes[1], &planes[2], &fullRange))
        return false; // from the pixels, then
    if (!fullRange) {
        // Video's 16..235 (chroma 16..240) to JPEG's 0..255: the same colours a BGR conversion
        // of the frame gives, as BT.601 both ways.
        planes[0].convertTo(m_fullRange[0], CV_8U, 255.0 / 219.0, -16.0 * 255.0 / 219.0);
        for (int i = 1; i < 3; ++i)
            planes[i].convertTo(m_fullRange[i], CV_8U, 255.0 / 224.0, 128.0 - 128.0 * 255.0 / 224.0);
        for (int i = 0; i < 3; ++i)
            planes[i] = m_fullRange[i];
    }
    if (!m_jpeg)
        m_jpeg = std::make_unique<FrameJpegEncoder>();
    QString why;
    if (!m_jpeg->encodeYuv420(planes[0], planes[1], planes[2], quality, jpeg, &why)) {
        if (error)
            *error = QStringLiteral("%1: frame %2 could not be encoded: %3").arg(m_path).arg(frame.index).arg(why);
        return false;
    }
    return true;
}

void VideoFileSource::close()
{
    if (m_decoder) {
        m_decoder->close();
        m_decoder.reset();
    }
}

} // namespace edgelens
