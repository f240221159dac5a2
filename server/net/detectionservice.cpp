#include "detectionservice.h"

#include "detectionengine.h"
#include "imageprobe.h"
#include "serverconfig.h"

#include <QElapsedTimer>
#include <QLoggingCategory>

#include <cmath>

Q_LOGGING_CATEGORY(lcService, "edgelens.server.service")

namespace edgelens {

using protocol::ErrorCode;

namespace {

constexpr int kMaxDetections = 10000;
constexpr int kLegacyMaxDetections = 100;
// An hour: a deadline is for work that goes stale in seconds; larger values are a mistake.
constexpr int kMaxDeadlineMs = 3600 * 1000;

DetectReply rejection(ErrorCode code, const QString &message)
{
    DetectReply reply;
    reply.code = code;
    reply.message = message;
    return reply;
}

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    uchar diff = a.size() == b.size() ? 0 : 1;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= uchar(a.at(i) ^ b.at(i % qMax<qsizetype>(1, b.size())));
    return diff == 0;
}

} // namespace

DetectionService::DetectionService(DetectionEngine *engine, const ServerConfig *config, const QJsonObject &serverInfo,
                                   QObject *parent)
    : QObject(parent)
    , m_engine(engine)
    , m_config(config)
    , m_serverInfo(serverInfo)
{
    QList<ServerMetrics::ModelInfo> models;
    for (int i = 0; i < m_engine->modelCount(); ++i)
        models.append({m_engine->model(i).name, m_engine->model(i).family, m_engine->backend(i), i == 0});
    m_metrics.setModels(models, m_engine->workerCount());
    m_metrics.setReady(true);
    // The service outlives the engine (DetectionServer destroys the engine first).
    m_engine->setQueuedObserver([this](int jobs) { m_metrics.setQueueDepth(jobs); });
}

DetectionService::~DetectionService() = default;

DetectionService::SessionId DetectionService::openSession(const QString &peer)
{
    const SessionId id = m_nextSession++;
    m_sessions.insert(id, Session{peer, 0, std::nullopt});
    return id;
}

void DetectionService::closeSession(SessionId session)
{
    const auto it = m_sessions.find(session);
    if (it == m_sessions.end())
        return;
    const int inFlight = it->inFlight;
    const QString peer = it->peer;
    const int dropped = m_engine->cancel(session);
    countCancelled(*it, dropped);
    m_sessions.erase(it);
    if (dropped > 0 || inFlight > 0) {
        qCInfo(lcService).noquote() << peer << "went away:" << dropped << "queued requests cancelled,"
                                    << inFlight - dropped << "running ones will be discarded";
    }
    if (inFlight > 0 && inFlightTotal() == 0)
        emit idle();
}

int DetectionService::inFlight(SessionId session) const
{
    return m_sessions.value(session).inFlight;
}

int DetectionService::inFlightTotal() const
{
    int total = 0;
    for (const Session &s : m_sessions)
        total += s.inFlight;
    return total;
}

bool DetectionService::tokenRequired() const
{
    return !m_config->token.isEmpty();
}

DetectionService::AuthResult DetectionService::authenticate(const QHostAddress &client, const QString &offered,
                                                            QString *why)
{
    if (!tokenRequired())
        return AuthResult::Ok;
    if (isThrottled(client, why))
        return AuthResult::Throttled;
    if (constantTimeEquals(offered.toUtf8(), m_config->token.toUtf8()))
        return AuthResult::Ok;
    recordAuthFailure(client);
    *why = QStringLiteral("wrong token");
    return AuthResult::WrongToken;
}

void DetectionService::recordAuthFailure(const QHostAddress &client)
{
    if (m_authThrottle.recordFailure(client)) {
        qCWarning(lcService).noquote() << AuthThrottle::normalized(client).toString() + QStringLiteral(":")
                                       << m_authThrottle.maxFailures() << "failed authentications within"
                                       << m_authThrottle.windowMs() / 1000 << "s; refusing this address for"
                                       << m_authThrottle.windowMs() / 1000 << "s";
    }
}

bool DetectionService::isThrottled(const QHostAddress &client, QString *why)
{
    qint64 retryAfterMs = 0;
    if (!m_authThrottle.isBlocked(client, &retryAfterMs))
        return false;
    *why = QStringLiteral("too many failed authentications from %1; try again in %2 s")
               .arg(AuthThrottle::normalized(client).toString())
               .arg((retryAfterMs + 999) / 1000);
    return true;
}

std::optional<DetectReply> DetectionService::validate(const DetectRequest &request, int *modelIndex,
                                                      DetectOptions *options) const
{
    if (request.legacy) {
        *options = DetectOptions();
        options->confidence = m_config->confidence;
        options->maxDetections = kLegacyMaxDetections;
        *modelIndex = 0;
    } else {
        *options = detectOptionsFromJson(request.options);
        if (!request.options.contains(QStringLiteral("confidence")))
            options->confidence = m_config->confidence;
        if (!(options->confidence >= 0.0f && options->confidence <= 1.0f))
            return rejection(ErrorCode::BadRequest, QStringLiteral("confidence must be between 0 and 1"));
        // A negative nms_iou means "the default", as DetectOptions itself has it.
        if (!(options->nmsIou <= 1.0f))
            return rejection(ErrorCode::BadRequest,
                             QStringLiteral("nms_iou must be between 0 and 1 (negative: the default)"));
        if (options->maxDetections < 1 || options->maxDetections > kMaxDetections)
            return rejection(ErrorCode::BadRequest,
                             QStringLiteral("max_detections must be between 1 and %1").arg(kMaxDetections));
        if (options->jpegQuality < 1 || options->jpegQuality > 100)
            return rejection(ErrorCode::BadRequest, QStringLiteral("jpeg_quality must be between 1 and 100"));
        const QJsonValue deadline = request.options.value(QStringLiteral("deadline_ms"));
        if (!deadline.isUndefined()
            && !(deadline.isDouble() && deadline.toDouble() >= 0 && deadline.toDouble() <= kMaxDeadlineMs
                 && std::floor(deadline.toDouble()) == deadline.toDouble())) {
            return rejection(ErrorCode::BadRequest,
                             QStringLiteral("deadline_ms must be a whole number of milliseconds between 0 and %1")
                                 .arg(kMaxDeadlineMs));
        }
        *modelIndex = m_engine->modelIndex(options->model);
        if (*modelIndex < 0) {
            return rejection(ErrorCode::UnknownModel,
                             QStringLiteral("no model named \"%1\"; this server has: %2")
                                 .arg(options->model, m_engine->modelNames().join(QStringLiteral(", "))));
        }
    }

    // The header, not the pixels: a small file claiming a huge canvas is refused before
    // cv::imdecode would allocate it.
    const ImageInfo info = ImageProbe::probe(request.image);
    if (!info.isValid()) {
        return rejection(ErrorCode::UndecodableImage,
                         info.error.isEmpty() ? QStringLiteral("unreadable image header") : info.error);
    }
    if (info.pixels() > m_config->maxPixels) {
        return rejection(ErrorCode::TooLarge, QStringLiteral("%1 image of %2x%3 = %4 pixels exceeds the limit of %5 pixels")
                                                  .arg(info.format.toUpper())
                                                  .arg(info.width)
                                                  .arg(info.height)
                                                  .arg(info.pixels())
                                                  .arg(m_config->maxPixels));
    }
    return std::nullopt;
}

std::optional<DetectReply> DetectionService::submit(SessionId session, DetectRequest request, Callback done)
{
    const ServerMetrics::Protocol protocol = request.legacy ? ServerMetrics::Protocol::Legacy : request.protocol;
    // HTTP counts its requests itself (it also refuses some before they get here).
    const bool counted = protocol != ServerMetrics::Protocol::Http;
    if (counted)
        m_metrics.requestStarted(protocol);
    const auto it = m_sessions.find(session);
    if (it == m_sessions.end()) {
        if (counted)
            m_metrics.requestFinished(protocol, 0, errorCodeName(ErrorCode::Internal));
        return rejection(ErrorCode::Internal, QStringLiteral("the session is closed"));
    }
    if (counted)
        it->protocol = protocol;

    int modelIndex = 0;
    DetectOptions options;
    std::optional<DetectReply> rejected = validate(request, &modelIndex, &options);
    if (!rejected && it->inFlight >= m_config->maxInFlightPerConnection) {
        rejected = rejection(ErrorCode::Busy, QStringLiteral("%1 requests already in flight on this connection (the limit); "
                                                             "wait for a reply before sending more")
                                                  .arg(it->inFlight));
    }
    const qint64 bytes = request.image.size();
    const QString model = modelIndex >= 0 && modelIndex < m_engine->modelCount() ? m_engine->model(modelIndex).name
                                                                                 : QString();
    if (rejected) {
        rejected->requestBytes = bytes;
        rejected->model = model;
        if (counted)
            m_metrics.requestFinished(protocol, 0, errorCodeName(rejected->code));
        return rejected;
    }

    DetectionJob job;
    job.encodedImage = std::move(request.image);
    job.modelIndex = modelIndex;
    job.options = options;
    job.defaultNmsIou = m_config->nmsIou;
    job.maxPixels = m_config->maxPixels;
    job.alwaysReturnImage = request.legacy;
    job.received.start();

    QElapsedTimer clock;
    clock.start();
    const quint64 generation = m_generation;
    // The completion runs on a worker thread; the answer is handed to this thread. The
    // service outlives the engine's workers (DetectionServer destroys the engine first).
    auto completion = [this, session, generation, clock, bytes, model, protocol,
                       done = std::move(done)](DetectionOutcome outcome) mutable {
        QMetaObject::invokeMethod(
            this,
            [this, session, generation, clock, bytes, model, protocol, done = std::move(done),
             outcome = std::move(outcome)]() mutable {
                DetectReply reply;
                reply.ok = outcome.ok;
                reply.code = outcome.errorCode;
                reply.message = std::move(outcome.errorString);
                reply.result = std::move(outcome.result);
                reply.jpeg = std::move(outcome.jpeg);
                reply.model = model;
                reply.requestBytes = bytes;
                reply.wallMs = double(clock.nsecsElapsed()) / 1e6;
                if (reply.ok)
                    m_metrics.inferenceObserved(model, reply.result.timings.inferenceMs / 1000.0);
                else if (reply.code == ErrorCode::DeadlineExceeded)
                    m_metrics.deadlineExpired(protocol);
                if (protocol != ServerMetrics::Protocol::Http)
                    m_metrics.requestFinished(protocol, reply.wallMs / 1000.0, reply.ok ? QString() : errorCodeName(reply.code));
                if (generation != m_generation)
                    return; // cancelAll() came first
                const auto entry = m_sessions.find(session);
                if (entry == m_sessions.end())
                    return; // the client went away; closeSession() accounted for it
                --entry->inFlight;
                done(reply);
                if (inFlightTotal() == 0)
                    emit idle();
            },
            Qt::QueuedConnection);
    };
    if (!m_engine->submit(session, std::move(job), std::move(completion))) {
        DetectReply busy = rejection(ErrorCode::Busy, QStringLiteral("the server's queue is full (%1 requests waiting); "
                                                                     "try again shortly")
                                                          .arg(m_engine->maxQueued()));
        busy.requestBytes = bytes;
        busy.model = model;
        if (counted)
            m_metrics.requestFinished(protocol, 0, errorCodeName(busy.code));
        return busy;
    }
    ++it->inFlight;
    return std::nullopt;
}

void DetectionService::cancelAll()
{
    ++m_generation;
    for (auto it = m_sessions.begin(); it != m_sessions.end(); ++it) {
        countCancelled(*it, m_engine->cancel(it.key()));
        it->inFlight = 0;
    }
    m_engine->cancelQueued(); // HTTP requests, which have no session here
}

void DetectionService::countCancelled(const Session &session, int dropped)
{
    if (!session.protocol)
        return;
    for (int i = 0; i < dropped; ++i)
        m_metrics.requestFinished(*session.protocol, 0, QStringLiteral("cancelled"));
}

} // namespace edgelens
