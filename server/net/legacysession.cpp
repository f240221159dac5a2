#include "legacysession.h"

#include "clientconnection.h"
#include "serverconfig.h"

namespace edgelens {

using namespace protocol;


LegacySession::LegacySession(ClientConnection *connection, DetectionService *service)
    : ProtocolSession(connection, service)
    , m_reader(FrameReader::Mode::Legacy, service->config().maxFrameBytes)
{
}

bool LegacySession::midFrame() const
{
    return !m_taken && m_reader.midFrame();
}

qint64 LegacySession::bufferedBytes() const
{
    return m_reader.bufferedBytes();
}

void LegacySession::refuse(ErrorCode code, const QString &message)
{
    logRequest(QStringLiteral("connect"), 0, errorCodeName(code) + QStringLiteral(": ") + message, 0, true);
    m_connection->closeGracefully();
}

void LegacySession::timedOut(const QString &why)
{
    logRequest(QStringLiteral("-"), m_reader.bufferedBytes(), QStringLiteral("timeout: ") + why, 0, true);
    m_connection->closeGracefully();
}

void LegacySession::receive(const QByteArray &bytes)
{
    if (m_taken || m_connection->isClosing())
        return;
    if (m_service->tokenRequired()) {
        logRequest(QStringLiteral("detect"), 0,
                   QStringLiteral("unauthorized: legacy clients cannot authenticate and this server requires a token"),
                   0, true);
        m_connection->closeGracefully();
        return;
    }
    m_reader.append(bytes);
    const FrameReader::Status status = m_reader.poll();
    if (status == FrameReader::Status::NeedMore) {
        m_connection->noteFrameState(m_reader.midFrame(), false);
        return;
    }
    if (status == FrameReader::Status::Error) {
        logRequest(QStringLiteral("frame"), m_reader.bufferedBytes(),
                   errorCodeName(m_reader.errorCode()) + QStringLiteral(": ") + m_reader.errorString(), 0, true);
        m_connection->closeGracefully();
        return;
    }
    m_taken = true;
    m_connection->noteFrameState(false, true);
    DetectRequest request;
    request.image = m_reader.takeLegacyPayload();
    request.legacy = true;
    const std::optional<DetectReply> rejected =
        m_service->submit(m_id, std::move(request), [this](const DetectReply &reply) { answer(reply); });
    if (rejected)
        answer(*rejected);
}

void LegacySession::answer(const DetectReply &reply)
{
    logOutcome(QStringLiteral("detect"), reply);
    if (m_connection->isClosing())
        return; // the client is gone or already being dropped
    if (reply.ok)
        m_connection->write(encodeLegacyFrame(reply.jpeg));
    m_connection->closeGracefully(); // one image per connection: reply (or not), then close
}

} // namespace edgelens
