#include "livepipeline.h"

#include "client/clientresult.h"
#include "client/detectionclient.h"
#include "live/streamsource.h"
#include "protocol/protocol.h"

#include <QDateTime>
#include <QFutureWatcher>
#include <QLoggingCategory>
#include <QtConcurrent>

Q_LOGGING_CATEGORY(lcLive, "edgelens.live.pipeline")

namespace edgelens {

namespace {

constexpr int kFiguresIntervalMs = 500;
constexpr double kMinPaceMarginMs = 15;
constexpr double kPaceMarginShare = 0.2;
constexpr double kDeviceSmoothing = 0.2; // weight of the newest device time

QString number(double value, int decimals = 0)
{
    return QString::number(value, 'f', decimals);
}

} // namespace

QString LiveFigures::summaryLine() const
{
    QStringList parts;
    if (sourceSize.isValid()) {
        parts << QStringLiteral("%1x%2 @%3 fps").arg(sourceSize.width()).arg(sourceSize.height())
                     .arg(number(sourceFps > 0 ? sourceFps : decodedFps, sourceFps > 0 ? 0 : 1));
    }
    parts << QStringLiteral("decoded %1").arg(decoded)
          << QStringLiteral("%1 det/s").arg(number(detectionsPerSecond, 1))
          << QStringLiteral("dropped %1").arg(dropped)
          << QStringLiteral("latency p50 %1 / p95 %2 ms%3")
                 .arg(number(latencyP50Ms), number(latencyP95Ms),
                      latencyFromStamps ? QString() : QStringLiteral(" (from arrival)"))
          << QStringLiteral("device %1 / %2 ms").arg(number(deviceP50Ms), number(deviceP95Ms));
    if (!state.isEmpty() && state != QLatin1String("live"))
        parts.prepend(state);
    return parts.join(QStringLiteral(" · "));
}

LivePipeline::LivePipeline(DetectionClient *client, StreamSource *source, const Options &options, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_source(source)
    , m_options(options)
    , m_latency(options.windowMs)
    , m_device(options.windowMs)
    , m_detections(options.windowMs)
    , m_decodedWindow(options.windowMs)
{
    qRegisterMetaType<edgelens::LiveResult>();
    qRegisterMetaType<edgelens::LiveFigures>();
    m_options.maxInFlight = std::max(1, m_options.maxInFlight);
    m_options.detect.returnImage = false;
    m_options.detect.deadlineMs = m_options.deadlineMs;
    m_clock.start();
    connect(m_client, &DetectionClient::resultReady, this, &LivePipeline::onResult);
    connect(m_client, &DetectionClient::requestFailed, this,
            [this](quint64 id, const QString &reason, bool) { onFailed(id, reason); });
    connect(m_client, &DetectionClient::serverInfoReceived, this,
            [this](quint64 id, const QJsonObject &info, double, const QString &device) { onServerInfo(id, info, device); });
    connect(m_source, &StreamSource::frameAvailable, this, &LivePipeline::onFrameAvailable);
    m_figuresTimer.setInterval(kFiguresIntervalMs);
    connect(&m_figuresTimer, &QTimer::timeout, this, [this] { Q_EMIT figuresChanged(figures()); });
    m_paceTimer.setSingleShot(true);
    connect(&m_paceTimer, &QTimer::timeout, this, [this] {
        if (m_options.display == Display::DetectedFrame)
            pump();
    });
}

LivePipeline::~LivePipeline()
{
    stop();
}

qint64 LivePipeline::steadyMs() const
{
    return m_clock.elapsed();
}

void LivePipeline::start()
{
    if (m_running)
        return;
    m_running = true;
    m_modelsKnown = false;
    m_models.ask(*m_client, m_options.detect.model);
    if (m_models.complete())
        m_modelsKnown = true;
    m_figuresTimer.start();
    if (m_source)
        m_source->start();
    pump();
}

void LivePipeline::stop()
{
    if (!m_running)
        return;
    m_running = false;
    ++m_runGeneration;
    m_figuresTimer.stop();
    m_paceTimer.stop();
    m_models.forgetRequests();
    for (auto it = m_byRequest.cbegin(); it != m_byRequest.cend(); ++it)
        m_client->cancel(it.key());
    m_byRequest.clear();
    m_pending.clear();
}

void LivePipeline::onServerInfo(quint64 id, const QJsonObject &info, const QString &device)
{
    if (!m_models.takeAnswer(id, info, device))
        return;
    if (m_models.complete() && !m_modelsKnown) {
        m_modelsKnown = true;
        qCInfo(lcLive).noquote() << "model input" << m_models.input() << "for" << device;
        pump();
    }
}

bool LivePipeline::canSend()
{
    if (!m_running || !m_modelsKnown)
        return false;
    const int out = int(m_pending.size());
    if (out >= m_options.maxInFlight)
        return false;
    if (out < m_options.immediate || !m_options.pace || m_deviceEwmaMs <= 0)
        return true;
    // The oldest request out started on the device when it arrived, or when the device
    // answered the one before it: it should be done a device time later. The next frame goes
    // a margin before that, so the device does not idle and the frame is as fresh as can be.
    qint64 anchor = m_lastResultMs;
    for (const auto &pending : m_pending)
        anchor = std::max(anchor, pending.second.takenMs);
    const double margin = std::max(kMinPaceMarginMs, m_deviceEwmaMs * kPaceMarginShare);
    const qint64 due = anchor + qint64(m_deviceEwmaMs - margin);
    const qint64 now = steadyMs();
    if (now >= due)
        return true;
    if (!m_paceTimer.isActive() || m_paceTimer.remainingTime() > due - now)
        m_paceTimer.start(int(due - now));
    return false;
}

void LivePipeline::onFrameAvailable()
{
    if (!m_running || !m_source)
        return;
    if (m_options.display == Display::DetectedFrame) {
        pump();
        return;
    }
    LiveFrame frame;
    if (!m_source->takeLatest(&frame))
        return;
    LiveResult shown;
    shown.frame = frame;
    shown.detections = m_newestBoxes;
    shown.boxesSequence = m_newestBoxesSequence;
    shown.boxesAgeMs = m_newestBoxesSequence > 0 ? frame.capturedMs - m_newestBoxesCapturedMs : 0;
    if (canSend())
        send(frame);
    else
        ++m_skipped;
    publish(std::move(shown));
}

void LivePipeline::pump()
{
    if (!m_source || m_options.display != Display::DetectedFrame)
        return;
    while (canSend()) {
        LiveFrame frame;
        if (!m_source->takeLatest(&frame))
            return;
        send(std::move(frame));
    }
}

void LivePipeline::send(LiveFrame frame)
{
    const quint64 sequence = frame.sequence;
    const cv::Mat image = frame.image;
    Entry &entry = m_pending[sequence];
    entry.frame = std::move(frame);
    entry.takenMs = steadyMs();
    const quint64 generation = m_runGeneration;
    const QSize input = m_models.input();
    const double multiple = m_options.inputMultiple;
    const int quality = m_options.jpegQuality;
    // Reducing and encoding a 720p frame takes milliseconds: off the GUI thread. A watcher, a
    // child of this pipeline, brings the result back: destroying it (with the pipeline) while
    // the work runs detaches it under the future's lock. QFuture::then(this, ...) in Qt 6.4
    // checks a QPointer to this pipeline on the worker thread and then posts an event to it,
    // which races with the pipeline being destroyed here meanwhile (a bench ends each phase so).
    auto *watcher = new QFutureWatcher<ReducedFrame>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, sequence, generation] {
        watcher->deleteLater();
        if (generation != m_runGeneration)
            return;
        submitPrepared(sequence, watcher->result());
    });
    watcher->setFuture(QtConcurrent::run(
        [image, input, multiple, quality] { return ReducedFrame::make(image, input, multiple, quality); }));
}

void LivePipeline::submitPrepared(quint64 sequence, ReducedFrame prepared)
{
    const auto it = m_pending.find(sequence);
    if (it == m_pending.end())
        return;
    if (prepared.jpeg.isEmpty()) {
        it->second.done = true;
        ++m_failed;
        flush();
        pump();
        return;
    }
    m_lastSentSize = prepared.sentSize;
    const quint64 id = m_client->submit(prepared.jpeg, m_options.detect);
    prepared.jpeg.clear(); // the client holds its own copy while it needs one
    it->second.prepared = std::move(prepared);
    it->second.requestId = id;
    m_byRequest.insert(id, sequence);
}

LivePipeline::Entry *LivePipeline::answeredEntry(quint64 requestId)
{
    const auto byRequest = m_byRequest.find(requestId);
    if (byRequest == m_byRequest.end())
        return nullptr; // not ours, or forgotten by stop()
    const quint64 sequence = byRequest.value();
    m_byRequest.erase(byRequest);
    const auto it = m_pending.find(sequence);
    if (it == m_pending.end())
        return nullptr;
    it->second.done = true;
    return &it->second;
}

void LivePipeline::onResult(quint64 id, const ClientResult &result)
{
    Entry *answered = answeredEntry(id);
    if (!answered)
        return;
    Entry &entry = *answered;
    const quint64 sequence = entry.frame.sequence;
    if (!result.hasDetectionData) {
        ++m_failed;
        Q_EMIT requestProblem(QStringLiteral("%1 answered without detection data (a legacy server): the live view "
                                             "needs a v2 or DeepStack device").arg(result.device));
    } else {
        entry.ok = true;
        LiveResult &out = entry.result;
        out.detected = true;
        out.boxesSequence = sequence;
        out.roundTripMs = result.roundTripMs;
        const StageTimings &t = result.result.timings;
        out.deviceMs = t.decodeMs + t.inferenceMs + t.markupMs + t.encodeMs;
        out.device = result.device;
        out.model = result.result.model;
        const QRectF bounds(0, 0, entry.frame.image.cols, entry.frame.image.rows);
        for (Detection d : result.result.detections) {
            const QRectF &b = d.box;
            d.box = QRectF(b.x() * entry.prepared.scaleX, b.y() * entry.prepared.scaleY,
                           b.width() * entry.prepared.scaleX, b.height() * entry.prepared.scaleY)
                        .intersected(bounds);
            out.detections.append(d);
        }
        if (m_options.display == Display::NewestFrame)
            ++m_detected; // DetectedFrame counts the frames it shows (flush)
        const qint64 now = steadyMs();
        m_lastResultMs = now;
        m_deviceEwmaMs = m_deviceEwmaMs <= 0 ? out.deviceMs
                                             : (1 - kDeviceSmoothing) * m_deviceEwmaMs + kDeviceSmoothing * out.deviceMs;
        m_detections.add(now, 1);
        m_device.add(now, out.deviceMs);
        if (sequence > m_newestBoxesSequence) {
            m_newestBoxes = out.detections;
            m_newestBoxesSequence = sequence;
            m_newestBoxesCapturedMs = entry.frame.capturedMs;
        }
    }
    flush();
    pump();
}

void LivePipeline::onFailed(quint64 id, const QString &reason)
{
    if (m_models.takeFailure(id)) {
        if (m_models.complete() && !m_modelsKnown) {
            m_modelsKnown = true;
            pump();
        }
        return;
    }
    if (!answeredEntry(id))
        return;
    if (reason.contains(protocol::errorCodeName(protocol::ErrorCode::DeadlineExceeded))) {
        ++m_expired; // the device was busy past the deadline: a dropped frame, not an error
    } else {
        ++m_failed;
        Q_EMIT requestProblem(reason);
    }
    flush();
    pump();
}

void LivePipeline::flush()
{
    // Capture order: a frame leaves only when every earlier one has.
    while (!m_pending.empty() && m_pending.begin()->second.done) {
        Entry entry = std::move(m_pending.begin()->second);
        m_pending.erase(m_pending.begin());
        if (entry.ok && m_options.display == Display::DetectedFrame) {
            ++m_detected;
            entry.result.frame = std::move(entry.frame);
            publish(std::move(entry.result));
        }
    }
}

void LivePipeline::publish(LiveResult result)
{
    const qint64 nowWall = QDateTime::currentMSecsSinceEpoch();
    result.latencyMs = double(nowWall - result.frame.capturedMs);
    m_sawStamps = m_sawStamps || result.frame.stamped;
    // Once the source stamps its frames, a frame whose stamp did not survive (the damaged
    // frames before a stream's first keyframe) would count only from its arrival here.
    if (result.frame.stamped || !m_sawStamps)
        m_latency.add(steadyMs(), result.latencyMs);
    Q_EMIT frameReady(result);
}

LiveFigures LivePipeline::figures()
{
    LiveFigures f;
    const qint64 now = steadyMs();
    m_latency.prune(now);
    m_device.prune(now);
    m_detections.prune(now);
    if (m_source) {
        f.state = StreamSource::stateName(m_source->state());
        f.sourceSize = m_source->frameSize();
        f.sourceFps = m_source->sourceFps();
        f.decoded = m_source->framesDecoded();
        f.reconnects = m_source->reconnects();
        if (f.decoded > m_lastDecoded) {
            for (quint64 i = m_lastDecoded; i < f.decoded; ++i)
                m_decodedWindow.add(now, 1);
            m_lastDecoded = f.decoded;
        }
        m_decodedWindow.prune(now);
        f.dropped = m_source->framesDropped() + m_skipped + m_expired;
    }
    f.decodedFps = m_decodedWindow.ratePerSecond(now);
    f.detected = m_detected;
    f.detectionsPerSecond = m_detections.ratePerSecond(now);
    f.expired = m_expired;
    f.failed = m_failed;
    f.latencyP50Ms = m_latency.percentile(0.5);
    f.latencyP95Ms = m_latency.percentile(0.95);
    f.latencyFromStamps = m_sawStamps;
    f.deviceP50Ms = m_device.percentile(0.5);
    f.deviceP95Ms = m_device.percentile(0.95);
    f.inFlight = int(m_pending.size());
    return f;
}

} // namespace edgelens
