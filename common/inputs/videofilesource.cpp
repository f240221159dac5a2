#include "videofilesource.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QLoggingCategory>

#include <opencv2/videoio.hpp>

#include <chrono>
#include <cmath>

Q_LOGGING_CATEGORY(lcVideoFile, "edgelens.inputs.videofile", QtInfoMsg)

namespace edgelens {

namespace {

QString fourccText(double value)
{
    const auto code = static_cast<quint32>(value);
    QString text;
    for (int i = 0; i < 4; ++i) {
        const char c = char((code >> (8 * i)) & 0xff);
        if (c > 32 && c < 127)
            text.append(QLatin1Char(c));
    }
    return text;
}

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
    // FFmpeg only: other backends (GStreamer) index frames and time them differently.
    m_capture = std::make_unique<cv::VideoCapture>();
    bool opened = false;
    try {
        opened = m_capture->open(QFile::encodeName(m_path).toStdString(), cv::CAP_FFMPEG);
    } catch (const cv::Exception &e) {
        qCWarning(lcVideoFile) << "OpenCV refused" << m_path << e.what();
    }
    if (!opened) {
        m_capture.reset();
        if (error)
            *error = QStringLiteral("%1: cannot be opened as a video (not a video, a codec FFmpeg lacks, or a damaged "
                                    "or truncated file whose index is missing)")
                         .arg(m_path);
        return false;
    }
    m_properties = SourceProperties();
    m_properties.size = QSize(int(m_capture->get(cv::CAP_PROP_FRAME_WIDTH)), int(m_capture->get(cv::CAP_PROP_FRAME_HEIGHT)));
    m_properties.fps = m_capture->get(cv::CAP_PROP_FPS);
    const double count = m_capture->get(cv::CAP_PROP_FRAME_COUNT);
    m_properties.frameCount = count > 0 ? qint64(std::llround(count)) : -1;
    if (m_properties.fps > 0 && m_properties.frameCount > 0)
        m_properties.durationMs = m_properties.frameCount * 1000.0 / m_properties.fps;
    m_properties.isFile = true;
    m_properties.isReconnectable = false;
    m_properties.codec = fourccText(m_capture->get(cv::CAP_PROP_FOURCC));
    if (m_properties.size.isEmpty()) {
        close();
        if (error)
            *error = QStringLiteral("%1: the video has no picture size (no video stream?)").arg(m_path);
        return false;
    }
    m_index = -1;
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

SourceProperties VideoFileSource::properties() const
{
    return m_properties;
}

FrameSource::Read VideoFileSource::next(SourceFrame *frame, Pixels pixels, QString *error)
{
    if (!m_capture) {
        if (error)
            *error = QStringLiteral("%1: not open").arg(m_path);
        return Read::Error;
    }
    if (m_ended)
        return Read::End;
    bool grabbed = false;
    try {
        grabbed = m_capture->grab();
    } catch (const cv::Exception &e) {
        qCWarning(lcVideoFile) << "decoding failed in" << m_path << e.what();
    }
    if (!grabbed) {
        m_ended = true;
        const qint64 decoded = m_index + 1;
        const qint64 announced = m_properties.frameCount;
        // The container's count is exact for MP4/MOV and an estimate from the duration
        // elsewhere: a short tail is rounding, a file that stops well before is damaged.
        if (announced > 0 && decoded < announced - std::max<qint64>(2, announced / 50)) {
            if (error)
                *error = QStringLiteral("%1: the video ends after frame %2 of the %3 it announces: the file is "
                                        "truncated or damaged (the frames before the damage are kept)")
                             .arg(m_path)
                             .arg(decoded)
                             .arg(announced);
            return Read::Error;
        }
        return Read::End;
    }
    ++m_index;
    double timestampMs = m_capture->get(cv::CAP_PROP_POS_MSEC);
    // OpenCV 4.6's FFmpeg backend loses the time of the frames it drains from the decoder at
    // the end of the file (the decoder's delay, two frames with x264's defaults): they come
    // back as 0. Presentation times only grow, so such a frame is timed one frame duration
    // after the previous one (exact for the constant rate files end with; counted, and logged).
    if (m_index > 0 && !(timestampMs > m_lastTimestampMs)) {
        const double step = m_lastDeltaMs > 0 ? m_lastDeltaMs : (m_properties.fps > 0 ? 1000.0 / m_properties.fps : 1.0);
        qCDebug(lcVideoFile) << "frame" << m_index << "of" << m_path << "came without a timestamp; timed"
                             << step << "ms after the previous one";
        timestampMs = m_lastTimestampMs + step;
        ++m_untimed;
    } else if (m_lastTimestampMs >= 0) {
        m_lastDeltaMs = timestampMs - m_lastTimestampMs;
    }
    if (m_lastTimestampMs >= 0) {
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
    if (pixels == Pixels::WithImage && !retrieve(frame, error))
        return Read::Error;
    return Read::Frame;
}

bool VideoFileSource::retrieve(SourceFrame *frame, QString *error)
{
    if (!frame->image.empty())
        return true;
    bool retrieved = false;
    if (m_capture && !m_ended) {
        try {
            retrieved = m_capture->retrieve(frame->image);
        } catch (const cv::Exception &e) {
            qCWarning(lcVideoFile) << "converting a frame failed in" << m_path << e.what();
        }
    }
    if (!retrieved || frame->image.empty()) {
        m_ended = true;
        if (error)
            *error = QStringLiteral("%1: frame %2 could not be decoded: the file is damaged").arg(m_path).arg(frame->index);
        return false;
    }
    return true;
}

void VideoFileSource::close()
{
    if (m_capture) {
        m_capture->release();
        m_capture.reset();
    }
}

} // namespace edgelens
