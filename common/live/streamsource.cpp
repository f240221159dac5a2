#include "streamsource.h"

#include "live/ffmpeglog.h"
#include "live/framestamp.h"
#include "live/reconnectpolicy.h"

#include <QDateTime>
#include <QLoggingCategory>

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/videoio.hpp>

#include <chrono>

Q_LOGGING_CATEGORY(lcStream, "edgelens.live.source")

namespace edgelens {

namespace {

using Clock = std::chrono::steady_clock;

// OpenCV reads OPENCV_FFMPEG_CAPTURE_OPTIONS at every open (its only way to pass FFmpeg
// options) and, when it is unset, asks for RTSP over TCP. UDP needs the variable set for its one
// open. Every RTSP open holds this guard's lock, so a TCP open of another source never reads
// the UDP value meanwhile (opens wait for each other, each at most the open timeout), and the
// variable is changed through Qt, whose own environment readers take Qt's lock too. Other
// libraries' getenv() stays unguarded (glibc's environment is not thread-safe): UDP only.
class RtspOpenGuard final
{
    Q_DISABLE_COPY_MOVE(RtspOpenGuard)

public:
    explicit RtspOpenGuard(bool udp)
        : m_lock(mutex())
    {
        if (!udp)
            return;
        m_changed = true;
        m_hadOld = qEnvironmentVariableIsSet(kName);
        m_old = qgetenv(kName);
        qputenv(kName, QByteArrayLiteral("rtsp_transport;udp"));
    }
    ~RtspOpenGuard()
    {
        if (!m_changed)
            return;
        if (m_hadOld)
            qputenv(kName, m_old);
        else
            qunsetenv(kName);
    }

private:
    static constexpr const char *kName = "OPENCV_FFMPEG_CAPTURE_OPTIONS";
    static std::mutex &mutex()
    {
        static std::mutex instance;
        return instance;
    }

    std::lock_guard<std::mutex> m_lock;
    bool m_changed = false;
    bool m_hadOld = false;
    QByteArray m_old;
};

} // namespace

StreamSource::StreamSource(const StreamSpec &spec, QObject *parent)
    : StreamSource(spec, Options(), parent)
{
}

StreamSource::StreamSource(const StreamSpec &spec, const Options &options, QObject *parent)
    : QObject(parent)
    , m_spec(spec)
    , m_options(options)
{
    qRegisterMetaType<edgelens::StreamSource::State>();
    qRegisterMetaType<edgelens::LiveFrame>();
}

StreamSource::~StreamSource()
{
    close();
}

QString StreamSource::stateName(State state)
{
    switch (state) {
    case State::Idle: return QStringLiteral("idle");
    case State::Connecting: return QStringLiteral("connecting");
    case State::Live: return QStringLiteral("live");
    case State::Reconnecting: return QStringLiteral("reconnecting");
    case State::Ended: return QStringLiteral("ended");
    case State::Failed: return QStringLiteral("failed");
    case State::Closed: return QStringLiteral("closed");
    }
    return {};
}

void StreamSource::start()
{
    std::lock_guard<std::mutex> lock(m_threadMutex);
    if (m_stop.load() || m_started.load())
        return;
    FfmpegLog::install();
    m_startedAt = Clock::now(); // before m_started: the thread and next() only read it after
    m_started.store(true);
    m_thread = std::thread([this] { run(); });
}

void StreamSource::close()
{
    {
        std::lock_guard<std::mutex> lock(m_waitMutex);
        m_stop.store(true);
    }
    m_wake.notify_all();
    wakeReaders();
    std::lock_guard<std::mutex> lock(m_threadMutex);
    if (m_thread.joinable())
        m_thread.join();
    if (m_state.load() != State::Closed && m_state.load() != State::Idle)
        m_state.store(State::Closed);
}

void StreamSource::wakeReaders()
{
    // Taking the lock orders this after a reader's check of its condition, or before it: a
    // reader between the two cannot miss the notification.
    { std::lock_guard<std::mutex> lock(m_slotMutex); }
    m_frameReady.notify_all();
}

bool StreamSource::finishedLocked() const
{
    const State state = m_state.load();
    return m_stop.load() || state == State::Ended || state == State::Failed;
}

bool StreamSource::open(QString *error)
{
    start();
    const int limitMs = m_options.openTimeoutMs + m_options.readTimeoutMs;
    QString why;
    {
        std::unique_lock<std::mutex> lock(m_slotMutex);
        // The first frame tells the size (properties()); a source that never gives one fails.
        m_frameReady.wait_for(lock, std::chrono::milliseconds(limitMs),
                              [this] { return m_size.isValid() || finishedLocked(); });
        if (m_size.isValid() && !m_stop.load())
            return true;
        if (m_stop.load())
            why = QStringLiteral("closed");
        else if (finishedLocked())
            why = m_lastMessage;
        else
            why = QStringLiteral("no frame within %1 ms (%2: %3)")
                      .arg(limitMs)
                      .arg(stateName(m_state.load()), m_lastMessage);
    }
    if (error)
        *error = QStringLiteral("%1: %2").arg(name(), why);
    close(); // no capture thread left behind a failed open()
    return false;
}

SourceProperties StreamSource::properties() const
{
    SourceProperties properties;
    properties.isFile = false; // played in real time, frames dropped when not taken: a live source
    properties.isReconnectable = m_spec.isReconnectable();
    std::lock_guard<std::mutex> lock(m_slotMutex);
    properties.size = m_size;
    properties.fps = m_fps;
    properties.codec = m_codec;
    return properties;
}

FrameSource::Read StreamSource::next(SourceFrame *frame, Pixels, QString *error)
{
    // A live frame is decoded to pixels anyway: WithoutImage saves nothing here.
    if (!m_started.load()) {
        if (error)
            *error = QStringLiteral("%1: next() before open()").arg(name());
        return Read::Error;
    }
    LiveFrame taken;
    {
        std::unique_lock<std::mutex> lock(m_slotMutex);
        const bool woken = m_frameReady.wait_for(lock, std::chrono::milliseconds(m_options.readTimeoutMs),
                                                 [this] { return m_fresh || finishedLocked(); });
        if (m_stop.load())
            return Read::End; // closed, also from another thread while this waited
        if (!m_fresh) {
            const State state = m_state.load();
            if (!woken) {
                if (error)
                    *error = QStringLiteral("%1: no frame within %2 ms (%3)")
                                 .arg(name())
                                 .arg(m_options.readTimeoutMs)
                                 .arg(stateName(state));
                return Read::Stalled;
            }
            if (state == State::Ended)
                return Read::End;
            if (error)
                *error = QStringLiteral("%1: %2").arg(name(), m_lastMessage);
            return Read::Error;
        }
        taken = std::move(m_latest);
        m_latest = LiveFrame();
        m_fresh = false;
        m_notifyPending = false;
    }
    frame->image = std::move(taken.image);
    frame->index = qint64(taken.sequence) - 1;
    frame->timestampMs = timestampMs(taken);
    frame->captureSteadyNs = taken.steadyNs;
    return Read::Frame;
}

double StreamSource::timestampMs(const LiveFrame &frame) const
{
    const qint64 startedNs =
        std::chrono::duration_cast<std::chrono::nanoseconds>(m_startedAt.time_since_epoch()).count();
    return double(frame.steadyNs - startedNs) / 1e6;
}

ImageOrigin StreamSource::originOf(const LiveFrame &frame, const QString &chosenBy) const
{
    ImageOrigin origin;
    origin.kind = ImageOrigin::Kind::LiveFrame;
    origin.source = m_spec.display();
    origin.frameSize = QSize(frame.image.cols, frame.image.rows);
    origin.frameIndex = qint64(frame.sequence) - 1;
    origin.timestampMs = timestampMs(frame);
    origin.samplingRule = chosenBy;
    return origin;
}

bool StreamSource::takeLatest(LiveFrame *frame)
{
    std::lock_guard<std::mutex> lock(m_slotMutex);
    m_notifyPending = false;
    if (!m_fresh)
        return false;
    *frame = std::move(m_latest);
    m_latest = LiveFrame();
    m_fresh = false;
    return true;
}

QSize StreamSource::frameSize() const
{
    std::lock_guard<std::mutex> lock(m_slotMutex);
    return m_size;
}

double StreamSource::sourceFps() const
{
    std::lock_guard<std::mutex> lock(m_slotMutex);
    return m_fps;
}

void StreamSource::setState(State state, const QString &message)
{
    if (closing())
        return; // nobody listens any more; close() reports Closed
    const QString masked = StreamSpec::maskCredentials(message);
    {
        std::lock_guard<std::mutex> lock(m_slotMutex);
        m_state.store(state);
        m_lastMessage = masked;
    }
    m_frameReady.notify_all(); // next() ends on Ended / Failed
    qCInfo(lcStream).noquote() << m_spec.display() << stateName(state) << masked;
    QMetaObject::invokeMethod(
        this, [this, state, masked] { Q_EMIT stateChanged(state, masked); }, Qt::QueuedConnection);
}

bool StreamSource::waitFor(int milliseconds)
{
    std::unique_lock<std::mutex> lock(m_waitMutex);
    return !m_wake.wait_for(lock, std::chrono::milliseconds(milliseconds), [this] { return m_stop.load(); });
}

bool StreamSource::open(cv::VideoCapture &capture, QString *why)
{
    const std::vector<int> timeouts{cv::CAP_PROP_OPEN_TIMEOUT_MSEC, m_options.openTimeoutMs,
                                    cv::CAP_PROP_READ_TIMEOUT_MSEC, m_options.readTimeoutMs};
    try {
        switch (m_spec.kind) {
        case StreamSpec::Kind::Camera:
            // The V4L2 backend has its own select() timeout and takes no FFmpeg options.
            capture.open(m_spec.cameraIndex, cv::CAP_V4L2);
            break;
        case StreamSpec::Kind::Rtsp: {
            const RtspOpenGuard guard(m_spec.rtspTransport == StreamSpec::RtspTransport::Udp);
            capture.open(m_spec.url.toString(QUrl::FullyEncoded).toStdString(), cv::CAP_FFMPEG, timeouts);
            break;
        }
        case StreamSpec::Kind::Http:
            capture.open(m_spec.url.toString(QUrl::FullyEncoded).toStdString(), cv::CAP_FFMPEG, timeouts);
            break;
        case StreamSpec::Kind::File:
            capture.open(m_spec.path.toStdString(), cv::CAP_FFMPEG, timeouts);
            break;
        }
    } catch (const cv::Exception &e) {
        *why = QString::fromStdString(e.what());
        return false;
    }
    if (!capture.isOpened()) {
        *why = m_spec.kind == StreamSpec::Kind::File ? QStringLiteral("the file is gone or cannot be decoded as video")
                                                      : QStringLiteral("could not open the stream");
        return false;
    }
    const int fourcc = int(capture.get(cv::CAP_PROP_FOURCC));
    std::lock_guard<std::mutex> lock(m_slotMutex);
    m_fps = capture.get(cv::CAP_PROP_FPS);
    if (!(m_fps > 0 && m_fps < 1000))
        m_fps = 0;
    m_codec = QString::fromStdString(capture.getBackendName());
    if (fourcc > 0) {
        QString text;
        for (int shift = 0; shift < 32; shift += 8) {
            const char c = char((fourcc >> shift) & 0xFF);
            if (c > ' ' && c < 127)
                text += QLatin1Char(c);
        }
        if (!text.isEmpty())
            m_codec = text;
    }
    return true;
}

void StreamSource::store(LiveFrame frame)
{
    ++m_decoded;
    bool notify = false;
    {
        std::lock_guard<std::mutex> lock(m_slotMutex);
        if (m_fresh)
            ++m_overwritten;
        m_size = QSize(frame.image.cols, frame.image.rows);
        m_latest = std::move(frame);
        m_fresh = true;
        notify = !m_notifyPending;
        m_notifyPending = true;
    }
    m_frameReady.notify_all();
    if (notify)
        QMetaObject::invokeMethod(this, [this] { Q_EMIT frameAvailable(); }, Qt::QueuedConnection);
}

void StreamSource::readLoop(cv::VideoCapture &capture, bool *delivered, QString *why)
{
    const bool file = m_spec.kind == StreamSpec::Kind::File;
    Clock::time_point anchor;
    double firstPositionMs = -1;
    while (!closing()) {
        cv::Mat image;
        bool ok = false;
        try {
            ok = capture.read(image);
        } catch (const cv::Exception &e) {
            *why = QString::fromStdString(e.what());
            return;
        }
        if (!ok || image.empty()) {
            *why = file ? QStringLiteral("end of the file")
                        : QStringLiteral("no frame within %1 ms, or the stream ended").arg(m_options.readTimeoutMs);
            return;
        }
        if (closing())
            return;
        LiveFrame frame;
        frame.arrivedMs = QDateTime::currentMSecsSinceEpoch();
        if (file) {
            // Played at its own pace: each frame waits for its timestamp (from the decoder,
            // not index / fps) relative to the first, on the monotonic clock.
            frame.positionMs = capture.get(cv::CAP_PROP_POS_MSEC);
            const Clock::time_point now = Clock::now();
            if (firstPositionMs < 0) {
                firstPositionMs = frame.positionMs;
                anchor = now;
            }
            const auto due = anchor + std::chrono::microseconds(qint64((frame.positionMs - firstPositionMs) * 1000));
            if (due > now) {
                std::unique_lock<std::mutex> lock(m_waitMutex);
                if (m_wake.wait_until(lock, due, [this] { return m_stop.load(); }))
                    return;
            } else if (now - due > std::chrono::seconds(1)) {
                anchor += now - due; // decoding fell far behind: do not rush to catch up
            }
            frame.arrivedMs = QDateTime::currentMSecsSinceEpoch();
        }
        if (!*delivered) {
            *delivered = true;
            setState(State::Live, QStringLiteral("%1x%2").arg(image.cols).arg(image.rows));
        }
        frame.steadyNs = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
        frame.sequence = ++m_sequence;
        frame.connection = m_connection;
        if (const std::optional<qint64> stamp = FrameStamp::read(image)) {
            frame.capturedMs = *stamp;
            frame.stamped = true;
        } else {
            frame.capturedMs = frame.arrivedMs;
        }
        frame.image = std::move(image);
        store(std::move(frame));
    }
}

void StreamSource::run()
{
    ReconnectPolicy policy(m_options.backoffInitialMs, m_options.backoffMaxMs);
    setState(State::Connecting, m_spec.display());
    bool everDelivered = false;
    while (!closing()) {
        cv::VideoCapture capture;
        QString why;
        ++m_connection;
        if (!open(capture, &why)) {
            if (closing())
                break;
            // A file that never opened is not a video; one that played and is gone now (moved
            // away, being replaced) is waited for like a stream that went away.
            if (!m_spec.isReconnectable() && !everDelivered) {
                setState(State::Failed, why);
                return;
            }
            const int delay = policy.nextDelayMs();
            ++m_reconnects;
            setState(everDelivered ? State::Reconnecting : State::Connecting,
                     QStringLiteral("%1; trying again in %2 ms").arg(why).arg(delay));
            if (!waitFor(delay))
                break;
            continue;
        }
        bool delivered = false;
        readLoop(capture, &delivered, &why);
        capture.release();
        if (closing())
            break;
        if (delivered) {
            everDelivered = true;
            policy.reset();
        }
        if (m_spec.kind == StreamSpec::Kind::File) {
            if (!delivered) {
                setState(State::Failed, QStringLiteral("the file holds no frame OpenCV can decode"));
                return;
            }
            if (!m_spec.loop) {
                setState(State::Ended, why);
                return;
            }
            continue; // from the start again, at once
        }
        const int delay = policy.nextDelayMs();
        ++m_reconnects;
        setState(State::Reconnecting, QStringLiteral("%1; trying again in %2 ms").arg(why).arg(delay));
        if (!waitFor(delay))
            break;
    }
}

} // namespace edgelens
