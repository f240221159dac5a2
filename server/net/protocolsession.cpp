#include "protocolsession.h"

#include "clientconnection.h"

namespace edgelens {

ProtocolSession::ProtocolSession(ClientConnection *connection, DetectionService *service)
    : QObject(connection)
    , m_connection(connection)
    , m_service(service)
    , m_id(service->openSession(connection->peer()))
{
}

ProtocolSession::~ProtocolSession()
{
    end();
}

void ProtocolSession::end()
{
    if (m_ended)
        return;
    m_ended = true;
    m_service->closeSession(m_id);
}

int ProtocolSession::inFlight() const
{
    return m_ended ? 0 : m_service->inFlight(m_id);
}

void ProtocolSession::drain()
{
    if (inFlight() == 0)
        m_connection->closeGracefully();
}

void ProtocolSession::afterAnswer()
{
    if (m_connection->isDraining() && inFlight() == 0)
        m_connection->closeGracefully();
}

void ProtocolSession::logOutcome(const QString &what, const DetectReply &reply) const
{
    if (!reply.ok) {
        logRequest(what, reply.requestBytes, protocol::errorCodeName(reply.code) + QStringLiteral(": ") + reply.message,
                   reply.wallMs, true);
        return;
    }
    const DetectionResult &r = reply.result;
    QString summary = QStringLiteral("%1x%2, %3 detections").arg(r.imageWidth).arg(r.imageHeight).arg(r.detections.size());
    if (!r.detections.isEmpty())
        summary += QStringLiteral(" (") + summarizeLabels(r.detections) + QLatin1Char(')');
    summary += QStringLiteral(", model %1 (infer %2 ms)").arg(reply.model).arg(r.timings.inferenceMs, 0, 'f', 1);
    logRequest(what, reply.requestBytes, summary, reply.wallMs, false);
}

void ProtocolSession::logRequest(const QString &what, qint64 bytes, const QString &outcome, double ms,
                                 bool failed) const
{
    QString line = protocolName() + QLatin1Char(' ') + what + QLatin1Char(' ') + QString::number(bytes)
        + QStringLiteral(" B -> ") + outcome;
    if (ms > 0)
        line += QStringLiteral(" in ") + QString::number(ms, 'f', 1) + QStringLiteral(" ms");
    m_connection->log(line, failed);
}

} // namespace edgelens
