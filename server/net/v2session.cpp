#include "v2session.h"

#include "clientconnection.h"
#include "serverconfig.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcV2Session, "edgelens.server.v2")

namespace edgelens {

using namespace protocol;

V2Session::V2Session(ClientConnection *connection, DetectionService *service)
    : ProtocolSession(connection, service)
    , m_reader(FrameReader::Mode::V2, service->config().maxFrameBytes)
{
}

bool V2Session::midFrame() const
{
    return m_reader.midFrame();
}

qint64 V2Session::bufferedBytes() const
{
    return m_reader.bufferedBytes();
}

QString V2Session::requestName(quint32 requestId, const QString &what)
{
    return QLatin1Char('#') + QString::number(requestId) + QLatin1Char(' ') + what;
}

void V2Session::refuse(ErrorCode code, const QString &message)
{
    if (!m_preambleAnswered) {
        m_preambleAnswered = true;
        m_connection->write(encodePreamble());
    }
    sendErrorAndClose(0, code, message);
}

void V2Session::timedOut(const QString &why)
{
    if (m_preambleAnswered) {
        sendErrorAndClose(0, ErrorCode::Timeout, why);
        return;
    }
    logRequest(QStringLiteral("-"), m_reader.bufferedBytes(), QStringLiteral("timeout: ") + why, 0, true);
    m_connection->closeGracefully();
}

void V2Session::receive(const QByteArray &bytes)
{
    m_reader.append(bytes);
    processFrames();
}

void V2Session::resume()
{
    processFrames();
}

void V2Session::processFrames()
{
    bool completedFrame = false;
    while (!m_connection->isClosing() && !m_connection->isDraining()) {
        if (m_connection->writeBacklogged()) {
            m_connection->pauseReading();
            break;
        }
        const FrameReader::Status status = m_reader.poll();
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
        handleMessage(m_reader.takeMessage());
    }
    if (!m_connection->isClosing())
        m_connection->noteFrameState(m_reader.midFrame(), completedFrame);
}

bool V2Session::answerPreamble()
{
    m_connection->write(encodePreamble());
    if (m_reader.peerVersion() != kVersion) {
        sendErrorAndClose(0, ErrorCode::UnsupportedVersion,
                          QStringLiteral("this server speaks protocol version %1; the client asked for version %2")
                              .arg(kVersion)
                              .arg(m_reader.peerVersion()));
        return false;
    }
    return true;
}

void V2Session::handleFrameError()
{
    // A broken preamble still came from a v2 client: answer in v2 so it can say why.
    if (!m_preambleAnswered) {
        m_preambleAnswered = true;
        m_connection->write(encodePreamble());
    }
    sendErrorAndClose(m_reader.errorRequestId(), m_reader.errorCode(), m_reader.errorString());
}

void V2Session::handleMessage(const Message &message)
{
    if (m_service->tokenRequired() && !m_authenticated && message.type != MessageType::Auth) {
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
    case MessageType::InfoRequest: {
        QJsonObject info = m_service->serverInfo();
        info.insert(QStringLiteral("tls"), m_connection->isEncrypted());
        send(makeInfo(message.requestId, info));
        logRequest(requestName(message.requestId, QStringLiteral("info")), 0, QStringLiteral("ok"), 0, false);
        return;
    }
    case MessageType::Ping:
        send(makePong(message));
        qCDebug(lcV2Session).noquote() << m_connection->peer() << "ping" << message.requestId;
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
    logRequest(requestName(message.requestId, messageTypeName(message.type)), message.blob.size(),
               QStringLiteral("bad_request: ") + why, 0, true);
}

void V2Session::handleAuth(const Message &message)
{
    if (!m_service->tokenRequired() || m_authenticated) {
        send(makeAuthOk(message.requestId));
        return;
    }
    QString why;
    if (m_service->authenticate(m_connection->clientAddress(), message.meta.value(QStringLiteral("token")).toString(),
                                &why)
        != DetectionService::AuthResult::Ok) {
        m_service->metrics()->authFailed(ServerMetrics::Protocol::V2);
        sendErrorAndClose(message.requestId, ErrorCode::Unauthorized, why);
        return;
    }
    m_authenticated = true;
    send(makeAuthOk(message.requestId));
    logRequest(requestName(message.requestId, QStringLiteral("auth")), 0, QStringLiteral("ok"), 0, false);
}

void V2Session::handleDetect(const Message &message)
{
    const quint32 id = message.requestId;
    const auto answer = [this, id](const DetectReply &reply) {
        logOutcome(requestName(id, QStringLiteral("detect")), reply);
        if (m_connection->isClosing())
            return;
        if (reply.ok)
            send(makeResult(id, reply.result, reply.jpeg));
        else
            send(makeError(id, reply.code, reply.message));
    };
    DetectRequest request;
    request.image = message.blob;
    request.options = message.meta;
    const std::optional<DetectReply> rejected =
        m_service->submit(m_id, std::move(request), [this, answer](const DetectReply &reply) {
            answer(reply);
            afterAnswer();
        });
    if (rejected)
        answer(*rejected);
}

void V2Session::send(const Message &message)
{
    m_connection->write(encodeMessage(message));
}

void V2Session::sendErrorAndClose(quint32 requestId, ErrorCode code, const QString &message)
{
    logRequest(requestName(requestId, QStringLiteral("-")), 0, errorCodeName(code) + QStringLiteral(": ") + message, 0,
               true);
    m_connection->write(encodeMessage(makeError(requestId, code, message)));
    m_connection->closeGracefully();
}

} // namespace edgelens
