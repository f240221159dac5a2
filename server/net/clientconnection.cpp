#include "clientconnection.h"

#include "detectionengine.h"
#include "imageprobe.h"
#include "serverconfig.h"

#include <QFutureWatcher>
#include <QLoggingCategory>
#include <QTcpSocket>

Q_LOGGING_CATEGORY(lcConnection, "edgelens.server.connection")

namespace edgelens {

using namespace protocol;

namespace {

// Above this many unsent reply bytes the connection stops reading requests until the client
// catches up, so a client that never reads cannot make the server buffer without bound.
constexpr qint64 kMaxPendingWrite = 16 * 1024 * 1024;
constexpr qint64 kSocketReadBuffer = 1024 * 1024;
constexpr int kCloseGraceMs = 5000;   // a closing socket that cannot flush is aborted after this
constexpr int kRefusalWaitMs = 2000;  // how long a refused client gets to show its protocol
constexpr int kMaxDetections = 10000;

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    uchar diff = a.size() == b.size() ? 0 : 1;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= uchar(a.at(i) ^ b.at(i % qMax<qsizetype>(1, b.size())));
    return diff == 0;
}

QString seconds(int ms)
{
    return QString::number(ms / 1000.0, 'g', 3) + QStringLiteral(" s");
}

} // namespace

ClientConnection::ClientConnection(QTcpSocket *socket, const Context &context, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_context(context)
    , m_reader(FrameReader::Mode::AutoDetect, context.config->maxFrameBytes)
    , m_peer(peerName(socket))
{
    m_socket->setParent(this);
    m_socket->setReadBufferSize(kSocketReadBuffer);
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);

    m_idleTimer.setSingleShot(true);
    m_idleTimer.setInterval(m_context.config->idleTimeoutMs);
    m_frameTimer.setSingleShot(true);
    m_frameTimer.setInterval(m_context.config->effectiveFrameTimeoutMs());
    m_closeTimer.setSingleShot(true);
    m_closeTimer.setInterval(kCloseGraceMs);

    connect(m_socket, &QTcpSocket::readyRead, this, &ClientConnection::readIncoming);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &ClientConnection::resumeAfterWrite);
    connect(m_socket, &QTcpSocket::errorOccurred, this, &ClientConnection::reportSocketError);
    connect(m_socket, &QTcpSocket::disconnected, this, &ClientConnection::handleDisconnected);
    connect(&m_idleTimer, &QTimer::timeout, this, &ClientConnection::handleIdleTimeout);
    connect(&m_frameTimer, &QTimer::timeout, this, &ClientConnection::handleFrameTimeout);
    connect(&m_closeTimer, &QTimer::timeout, this, &ClientConnection::abort);

    m_idleTimer.start();
    qCDebug(lcConnection).noquote() << m_peer << "connected";
    // Bytes may already be waiting (the client wrote before we were set up).
    QMetaObject::invokeMethod(this, &ClientConnection::readIncoming, Qt::QueuedConnection);
}

ClientConnection::~ClientConnection() = default;

QString ClientConnection::peerName(const QTcpSocket *socket)
{
    QHostAddress address = socket->peerAddress();
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4); // unwraps ::ffff:a.b.c.d on dual-stack sockets
    if (isV4)
        address = QHostAddress(v4);
    const QString host = address.protocol() == QAbstractSocket::IPv6Protocol
        ? QLatin1Char('[') + address.toString() + QLatin1Char(']')
        : address.toString();
    return host + QLatin1Char(':') + QString::number(socket->peerPort());
}

void ClientConnection::refuse(ErrorCode code, const QString &message)
{
    m_refusal = std::make_pair(code, message);
    m_idleTimer.setInterval(qMin(m_idleTimer.interval(), kRefusalWaitMs));
    m_idleTimer.start();
}

void ClientConnection::drain()
{
    m_draining = true;
    if (m_inFlight == 0)
        closeGracefully();
}

void ClientConnection::abort()
{
    m_closing = true;
    m_idleTimer.stop();
    m_frameTimer.stop();
    m_closeTimer.stop();
    if (m_socket->state() != QAbstractSocket::UnconnectedState)
        m_socket->abort(); // emits disconnected -> handleDisconnected
    else
        handleDisconnected();
}

void ClientConnection::readIncoming()
{
    if (m_closing || m_draining || m_paused)
        return;
    const QByteArray bytes = m_socket->readAll();
    if (bytes.isEmpty())
        return;
    m_idleTimer.start();
    if (m_legacyTaken)
        return; // legacy is one image per connection; anything after it is ignored
    m_reader.append(bytes);
    processFrames();
}

void ClientConnection::processFrames()
{
    bool completedFrame = false;
    while (!m_closing && !m_draining && !m_legacyTaken) {
        if (writeBacklogged()) {
            m_paused = true;
            break;
        }
        const FrameReader::Status status = m_reader.poll();
        if (!m_protocolKnown && m_reader.mode() != FrameReader::Mode::AutoDetect) {
            m_protocolKnown = true;
            if (!handleProtocolDetected())
                return;
        }
        if (m_reader.preambleSeen() && !m_preambleAnswered) {
            m_preambleAnswered = true;
            if (!answerPreamble())
                return;
        }
        if (status == FrameReader::Status::NeedMore)
            break;
        if (status == FrameReader::Status::Error) {
            handleFrameError();
            return;
        }
        completedFrame = true;
        if (m_reader.mode() == FrameReader::Mode::Legacy)
            handleLegacyImage(m_reader.takeLegacyPayload());
        else
            handleMessage(m_reader.takeMessage());
    }
    if (m_closing)
        return;
    // The frame deadline runs from the first byte of a frame to its last, so a client
    // trickling bytes cannot hold a connection forever by staying just under the idle timeout.
    if (!m_reader.midFrame())
        m_frameTimer.stop();
    else if (completedFrame || !m_frameTimer.isActive())
        m_frameTimer.start();
}

bool ClientConnection::handleProtocolDetected()
{
    if (m_reader.mode() != FrameReader::Mode::Legacy)
        return true;
    if (m_refusal) {
        logRequest(0, QStringLiteral("connect"), 0, errorCodeName(m_refusal->first) + QStringLiteral(": ") + m_refusal->second, 0,
                   true);
        closeGracefully();
        return false;
    }
    if (!m_context.config->token.isEmpty()) {
        logRequest(0, QStringLiteral("detect"), 0,
                   QStringLiteral("unauthorized: legacy clients cannot authenticate and this server requires a token"),
                   0, true);
        closeGracefully();
        return false;
    }
    return true;
}

bool ClientConnection::answerPreamble()
{
    m_socket->write(encodePreamble());
    if (m_refusal) {
        sendErrorAndClose(0, m_refusal->first, m_refusal->second);
        return false;
    }
    if (m_reader.peerVersion() != kVersion) {
        sendErrorAndClose(0, ErrorCode::UnsupportedVersion,
                          QStringLiteral("this server speaks protocol version %1; the client asked for version %2")
                              .arg(kVersion)
                              .arg(m_reader.peerVersion()));
        return false;
    }
    return true;
}

void ClientConnection::handleFrameError()
{
    const QString what = errorCodeName(m_reader.errorCode()) + QStringLiteral(": ") + m_reader.errorString();
    if (m_reader.mode() == FrameReader::Mode::V2) {
        // A broken preamble still came from a v2 client: answer in v2 so it can say why.
        if (!m_preambleAnswered) {
            m_preambleAnswered = true;
            m_socket->write(encodePreamble());
        }
        sendErrorAndClose(m_reader.errorRequestId(), m_reader.errorCode(), m_reader.errorString());
    } else {
        logRequest(0, QStringLiteral("frame"), m_reader.bufferedBytes(), what, 0, true);
        closeGracefully();
    }
}

bool ClientConnection::admitImage(const QByteArray &image, ImageInfo *info, ErrorCode *code, QString *why) const
{
    *info = ImageProbe::probe(image);
    if (!info->isValid()) {
        *code = ErrorCode::UndecodableImage;
        *why = info->error.isEmpty() ? QStringLiteral("unreadable image header") : info->error;
        return false;
    }
    if (info->pixels() > m_context.config->maxPixels) {
        *code = ErrorCode::TooLarge;
        *why = QStringLiteral("%1 image of %2x%3 = %4 pixels exceeds the limit of %5 pixels")
                   .arg(info->format.toUpper())
                   .arg(info->width)
                   .arg(info->height)
                   .arg(info->pixels())
                   .arg(m_context.config->maxPixels);
        return false;
    }
    return true;
}

void ClientConnection::handleLegacyImage(const QByteArray &image)
{
    m_legacyTaken = true;
    m_frameTimer.stop();
    ImageInfo info;
    ErrorCode code;
    QString why;
    if (!admitImage(image, &info, &code, &why)) {
        logRequest(0, QStringLiteral("detect"), image.size(), errorCodeName(code) + QStringLiteral(": ") + why, 0,
                   true);
        closeGracefully(); // the legacy protocol has no way to say why
        return;
    }
    DetectionJob job;
    job.encodedImage = image;
    job.modelIndex = 0;
    job.options.confidence = m_context.config->confidence;
    job.options.maxDetections = 100;
    job.defaultNmsIou = m_context.config->nmsIou;
    job.maxPixels = m_context.config->maxPixels;
    job.alwaysReturnImage = true;
    submit(0, std::move(job), m_context.engine->model(0).name);
}

void ClientConnection::handleMessage(const Message &message)
{
    if (!m_context.config->token.isEmpty() && !m_authenticated && message.type != MessageType::Auth) {
        sendErrorAndClose(message.requestId, ErrorCode::Unauthorized,
                          QStringLiteral("this server requires a token: send auth {\"token\": ...} first"));
        return;
    }
    switch (message.type) {
    case MessageType::Detect:
        handleDetect(message);
        return;
    case MessageType::Auth:
        handleAuth(message);
        return;
    case MessageType::InfoRequest:
        send(makeInfo(message.requestId, m_context.serverInfo));
        logRequest(message.requestId, QStringLiteral("info"), 0, QStringLiteral("ok"), 0, false);
        return;
    case MessageType::Ping:
        send(makePong(message));
        qCDebug(lcConnection).noquote() << m_peer << "ping" << message.requestId;
        return;
    case MessageType::Result:
    case MessageType::Info:
    case MessageType::Pong:
    case MessageType::AuthOk:
    case MessageType::Error:
        break;
    }
    const QString why = QStringLiteral("message type %1 is not a request").arg(messageTypeName(message.type));
    send(makeError(message.requestId, ErrorCode::BadRequest, why));
    logRequest(message.requestId, messageTypeName(message.type), message.blob.size(),
               QStringLiteral("bad_request: ") + why, 0, true);
}

void ClientConnection::handleAuth(const Message &message)
{
    const QString &token = m_context.config->token;
    if (token.isEmpty() || m_authenticated) {
        send(makeAuthOk(message.requestId));
        return;
    }
    const QString offered = message.meta.value(QStringLiteral("token")).toString();
    if (!constantTimeEquals(offered.toUtf8(), token.toUtf8())) {
        sendErrorAndClose(message.requestId, ErrorCode::Unauthorized, QStringLiteral("wrong token"));
        return;
    }
    m_authenticated = true;
    send(makeAuthOk(message.requestId));
    logRequest(message.requestId, QStringLiteral("auth"), 0, QStringLiteral("ok"), 0, false);
}

void ClientConnection::handleDetect(const Message &message)
{
    const quint32 id = message.requestId;
    auto reject = [&](ErrorCode code, const QString &why) {
        send(makeError(id, code, why));
        logRequest(id, QStringLiteral("detect"), message.blob.size(), errorCodeName(code) + QStringLiteral(": ") + why,
                   0, true);
    };

    DetectOptions options = detectOptionsFromJson(message.meta);
    if (!message.meta.contains(QStringLiteral("confidence")))
        options.confidence = m_context.config->confidence;
    if (!(options.confidence >= 0.0f && options.confidence <= 1.0f))
        return reject(ErrorCode::BadRequest, QStringLiteral("confidence must be between 0 and 1"));
    // A negative nms_iou means "the default", as DetectOptions itself has it.
    if (!(options.nmsIou <= 1.0f))
        return reject(ErrorCode::BadRequest, QStringLiteral("nms_iou must be between 0 and 1 (negative: the default)"));
    if (options.maxDetections < 1 || options.maxDetections > kMaxDetections)
        return reject(ErrorCode::BadRequest, QStringLiteral("max_detections must be between 1 and %1").arg(kMaxDetections));
    if (options.jpegQuality < 1 || options.jpegQuality > 100)
        return reject(ErrorCode::BadRequest, QStringLiteral("jpeg_quality must be between 1 and 100"));

    const int modelIndex = m_context.engine->modelIndex(options.model);
    if (modelIndex < 0) {
        return reject(ErrorCode::UnknownModel, QStringLiteral("no model named \"%1\"; this server has: %2")
                                                   .arg(options.model, m_context.engine->modelNames().join(QStringLiteral(", "))));
    }
    if (m_inFlight >= m_context.config->maxInFlightPerConnection) {
        return reject(ErrorCode::Busy, QStringLiteral("%1 requests already in flight on this connection (the limit); "
                                                      "wait for a reply before sending more")
                                           .arg(m_inFlight));
    }
    ImageInfo info;
    ErrorCode code;
    QString why;
    if (!admitImage(message.blob, &info, &code, &why))
        return reject(code, why);

    DetectionJob job;
    job.encodedImage = message.blob;
    job.modelIndex = modelIndex;
    job.options = options;
    job.defaultNmsIou = m_context.config->nmsIou;
    job.maxPixels = m_context.config->maxPixels;
    submit(id, std::move(job), m_context.engine->model(modelIndex).name);
}

void ClientConnection::submit(quint32 requestId, DetectionJob job, const QString &model)
{
    const qint64 bytes = job.encodedImage.size();
    auto *watcher = new QFutureWatcher<DetectionOutcome>(this);
    QElapsedTimer clock;
    clock.start();
    ++m_inFlight;
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, requestId, bytes, model, clock] {
        --m_inFlight;
        watcher->deleteLater();
        const double ms = double(clock.nsecsElapsed()) / 1e6;
        if (watcher->isCanceled() || watcher->future().resultCount() == 0) {
            DetectionOutcome cancelled;
            cancelled.errorCode = ErrorCode::Internal;
            cancelled.errorString = QStringLiteral("the request was cancelled (server shutting down)");
            finishDetection(requestId, cancelled, bytes, model, ms);
        } else {
            finishDetection(requestId, watcher->result(), bytes, model, ms);
        }
    });
    watcher->setFuture(m_context.engine->submit(std::move(job)));
}

void ClientConnection::finishDetection(quint32 requestId, const DetectionOutcome &outcome, qint64 requestBytes,
                                       const QString &model, double wallMs)
{
    const bool legacy = m_reader.mode() == FrameReader::Mode::Legacy;
    if (outcome.ok) {
        const DetectionResult &r = outcome.result;
        QString summary = QStringLiteral("%1x%2, %3 detections").arg(r.imageWidth).arg(r.imageHeight).arg(r.detections.size());
        if (!r.detections.isEmpty())
            summary += QStringLiteral(" (") + summarizeLabels(r.detections) + QLatin1Char(')');
        summary += QStringLiteral(", model %1 (infer %2 ms)").arg(model).arg(r.timings.inferenceMs, 0, 'f', 1);
        logRequest(requestId, QStringLiteral("detect"), requestBytes, summary, wallMs, false);
    } else {
        logRequest(requestId, QStringLiteral("detect"), requestBytes,
                   errorCodeName(outcome.errorCode) + QStringLiteral(": ") + outcome.errorString, wallMs, true);
    }
    if (m_closing)
        return; // the client is gone or already being dropped
    if (legacy) {
        if (outcome.ok)
            m_socket->write(encodeLegacyFrame(outcome.jpeg));
        closeGracefully(); // one image per connection: reply, then close
        return;
    }
    if (outcome.ok)
        send(makeResult(requestId, outcome.result, outcome.jpeg));
    else
        send(makeError(requestId, outcome.errorCode, outcome.errorString));
    if (m_draining && m_inFlight == 0)
        closeGracefully();
}

void ClientConnection::send(const Message &message)
{
    m_socket->write(encodeMessage(message));
    if (!m_closing)
        m_idleTimer.start();
}

void ClientConnection::sendErrorAndClose(quint32 requestId, ErrorCode code, const QString &message)
{
    logRequest(requestId, QStringLiteral("-"), 0, errorCodeName(code) + QStringLiteral(": ") + message, 0, true);
    m_socket->write(encodeMessage(makeError(requestId, code, message)));
    closeGracefully();
}

void ClientConnection::closeGracefully()
{
    if (m_closing)
        return;
    m_closing = true;
    m_idleTimer.stop();
    m_frameTimer.stop();
    m_closeTimer.start();
    m_socket->disconnectFromHost(); // flushes what was written, then emits disconnected
}

bool ClientConnection::writeBacklogged() const
{
    return m_socket->bytesToWrite() > kMaxPendingWrite;
}

void ClientConnection::resumeAfterWrite()
{
    if (!m_closing)
        m_idleTimer.start(); // the client is taking replies: that is activity too
    if (!m_paused || m_socket->bytesToWrite() > kMaxPendingWrite / 2)
        return;
    m_paused = false;
    processFrames();
    readIncoming();
}

void ClientConnection::handleIdleTimeout()
{
    if (m_closing)
        return;
    if (m_paused) {
        // Replies are piling up and the client has not taken a byte of them for a whole idle
        // period; flushing is hopeless, so do not wait for it.
        logRequest(0, QStringLiteral("-"), 0,
                   QStringLiteral("timeout: the client stopped reading replies (%1 bytes unsent); dropping it")
                       .arg(m_socket->bytesToWrite()),
                   0, true);
        abort();
        return;
    }
    if (m_inFlight > 0) {
        m_idleTimer.start(); // the wait is ours, not the client's
        return;
    }
    if (m_refusal && !m_protocolKnown) {
        logRequest(0, QStringLiteral("connect"), 0, errorCodeName(m_refusal->first) + QStringLiteral(": ") + m_refusal->second, 0, true);
        closeGracefully();
        return;
    }
    const QString why = m_reader.midFrame()
        ? QStringLiteral("no data for %1 in the middle of a frame (%2 bytes received); closing")
              .arg(seconds(m_idleTimer.interval()))
              .arg(m_reader.bufferedBytes())
        : QStringLiteral("idle for %1; closing").arg(seconds(m_idleTimer.interval()));
    if (m_preambleAnswered) {
        sendErrorAndClose(0, ErrorCode::Timeout, why);
    } else {
        logRequest(0, QStringLiteral("-"), m_reader.bufferedBytes(), QStringLiteral("timeout: ") + why, 0, true);
        closeGracefully();
    }
}

void ClientConnection::handleFrameTimeout()
{
    if (m_closing || !m_reader.midFrame())
        return;
    const QString why = QStringLiteral("frame not completed within %1 (%2 bytes received); closing")
                            .arg(seconds(m_frameTimer.interval()))
                            .arg(m_reader.bufferedBytes());
    if (m_preambleAnswered) {
        sendErrorAndClose(0, ErrorCode::Timeout, why);
    } else {
        logRequest(0, QStringLiteral("-"), m_reader.bufferedBytes(), QStringLiteral("timeout: ") + why, 0, true);
        closeGracefully();
    }
}

void ClientConnection::reportSocketError(QAbstractSocket::SocketError socketError)
{
    QString message;
    switch (socketError) {
    case QAbstractSocket::RemoteHostClosedError:
        if (m_reader.midFrame() && !m_closing) {
            message = QStringLiteral("closed the connection in the middle of a frame (%1 bytes received)")
                          .arg(m_reader.bufferedBytes());
            break;
        }
        if (m_inFlight > 0 && !m_closing) {
            message = QStringLiteral("closed the connection with %1 requests still running").arg(m_inFlight);
            break;
        }
        return; // an ordinary goodbye
    case QAbstractSocket::SocketTimeoutError:
        message = QStringLiteral("socket timed out");
        break;
    case QAbstractSocket::NetworkError:
        message = QStringLiteral("network error: %1").arg(m_socket->errorString());
        break;
    default:
        message = m_socket->errorString();
        break;
    }
    qCWarning(lcConnection).noquote() << m_peer << protocolName() << message;
}

void ClientConnection::handleDisconnected()
{
    if (m_gone)
        return;
    m_gone = true;
    m_closing = true;
    m_idleTimer.stop();
    m_frameTimer.stop();
    m_closeTimer.stop();
    qCDebug(lcConnection).noquote() << m_peer << "disconnected";
    emit closed();
    deleteLater();
}

QString ClientConnection::protocolName() const
{
    switch (m_reader.mode()) {
    case FrameReader::Mode::Legacy:
        return QStringLiteral("legacy");
    case FrameReader::Mode::V2:
        return QStringLiteral("v2");
    case FrameReader::Mode::AutoDetect:
        break;
    }
    return QStringLiteral("?");
}

void ClientConnection::logRequest(quint32 requestId, const QString &what, qint64 bytes, const QString &outcome,
                                  double ms, bool failed) const
{
    QString line = m_peer + QLatin1Char(' ') + protocolName();
    if (m_reader.mode() == FrameReader::Mode::V2)
        line += QStringLiteral(" #") + QString::number(requestId);
    line += QLatin1Char(' ') + what + QLatin1Char(' ') + QString::number(bytes) + QStringLiteral(" B -> ") + outcome;
    if (ms > 0)
        line += QStringLiteral(" in ") + QString::number(ms, 'f', 1) + QStringLiteral(" ms");
    if (failed)
        qCWarning(lcConnection).noquote() << line;
    else
        qCInfo(lcConnection).noquote() << line;
}

} // namespace edgelens
