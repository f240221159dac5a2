#include "httpconnection.h"

#include "http/deepstackanswer.h"
#include "metrics/servermetrics.h"

#include <QJsonDocument>
#include <QLoggingCategory>
#include <QTcpSocket>

Q_LOGGING_CATEGORY(lcHttpConnection, "edgelens.http.connection")

namespace edgelens {

namespace {

QByteArray headerValue(const QByteArray &head, const QByteArray &name)
{
    const QList<QByteArray> lines = head.split('\n');
    for (int i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const int colon = line.indexOf(':');
        if (colon > 0 && line.left(colon).trimmed().toLower() == name)
            return line.mid(colon + 1).trimmed();
    }
    return {};
}

} // namespace

HttpConnection::HttpConnection(QTcpSocket *socket, DetectionService *service, ServerMetrics *metrics,
                               const HttpLimits &limits)
    : QObject(socket)
    , m_socket(socket)
    , m_service(service)
    , m_metrics(metrics)
    , m_limits(limits)
{
    setObjectName(QStringLiteral("edgelens-http-connection"));
    const QString peer = socket->peerAddress().toString() + QLatin1Char(':') + QString::number(socket->peerPort());
    m_session = m_service->openSession(QStringLiteral("http ") + peer);
    m_service->connectionOpened();
    m_metrics->connectionOpened(ServerMetrics::Protocol::Http);

    m_idleTimer.setSingleShot(true);
    m_idleTimer.setInterval(m_limits.idleTimeoutMs);
    connect(&m_idleTimer, &QTimer::timeout, this, &HttpConnection::timedOut);
    m_requestTimer.setSingleShot(true);
    m_requestTimer.setInterval(m_limits.requestTimeoutMs);
    connect(&m_requestTimer, &QTimer::timeout, this, &HttpConnection::timedOut);

    connect(socket, &QTcpSocket::bytesWritten, this, [this](qint64 bytes) {
        m_metrics->bytesSent(ServerMetrics::Protocol::Http, bytes);
        if (m_running == 0 && !m_inRequest)
            restartIdle();
    });
    connect(socket, &QTcpSocket::disconnected, this, &HttpConnection::finish);
    restartIdle();
}

HttpConnection::~HttpConnection()
{
    finish();
}

HttpConnection *HttpConnection::of(QTcpSocket *socket)
{
    return socket ? socket->findChild<HttpConnection *>(QStringLiteral("edgelens-http-connection"), Qt::FindDirectChildrenOnly)
                  : nullptr;
}

void HttpConnection::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    m_idleTimer.stop();
    m_requestTimer.stop();
    m_service->closeSession(m_session);
    m_service->connectionClosed();
    m_metrics->connectionClosed(ServerMetrics::Protocol::Http);
    emit closed(this);
}

void HttpConnection::requestStarted()
{
    ++m_running;
    m_idleTimer.stop();
}

void HttpConnection::requestFinished()
{
    if (m_running > 0)
        --m_running;
}

void HttpConnection::closeAfterWrite()
{
    if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->disconnectFromHost();
}

void HttpConnection::restartIdle()
{
    if (!m_finished)
        m_idleTimer.start();
}

void HttpConnection::beforeServerRead()
{
    if (!m_socket)
        return;
    const qint64 available = m_socket->bytesAvailable();
    const qint64 freshCount = available - m_unreadAfter;
    if (m_refused) {
        // Nothing more of this client is read; do not let the server buffer it either.
        m_socket->read(available);
        m_unreadAfter = 0;
        return;
    }
    if (freshCount <= 0)
        return;
    m_metrics->bytesReceived(ServerMetrics::Protocol::Http, freshCount);
    // Only the head needs the bytes themselves; the body is only counted.
    if (m_bodyLeft < freshCount) {
        const qint64 peekable = qMin<qint64>(available, m_limits.maxHeaderBytes + m_limits.maxBodyBytes + 1);
        consume(m_socket->peek(peekable).right(freshCount));
    } else {
        m_bodyLeft -= freshCount;
        m_idleTimer.stop();
        if (m_bodyLeft == 0) {
            m_inRequest = false;
            m_requestTimer.stop();
        } else if (!m_inRequest) {
            m_inRequest = true;
            m_requestTimer.start();
        }
        return;
    }
    if (m_refused) {
        m_socket->read(m_socket->bytesAvailable());
        m_unreadAfter = 0;
    }
}

void HttpConnection::afterServerRead()
{
    if (m_socket)
        m_unreadAfter = m_socket->bytesAvailable();
}

void HttpConnection::consume(const QByteArray &fresh)
{
    qsizetype pos = 0;
    while (pos < fresh.size() && !m_refused) {
        if (!m_inRequest) {
            m_inRequest = true;
            m_requestTimer.start();
            m_idleTimer.stop();
        }
        if (m_bodyLeft > 0) {
            const qint64 take = qMin<qint64>(m_bodyLeft, fresh.size() - pos);
            m_bodyLeft -= take;
            pos += take;
            if (m_bodyLeft == 0) {
                m_inRequest = false;
                m_requestTimer.stop();
            }
            continue;
        }
        // In the head: look for its end in what was seen so far plus the fresh bytes.
        const qsizetype before = m_head.size();
        m_head += fresh.mid(pos);
        const qsizetype end = m_head.indexOf("\r\n\r\n");
        if (end < 0) {
            if (m_head.size() > m_limits.maxHeaderBytes)
                refuse(431, "Request Header Fields Too Large", protocol::ErrorCode::BadRequest,
                       QStringLiteral("request head over %1 bytes").arg(m_limits.maxHeaderBytes));
            return;
        }
        const qsizetype headBytesFromFresh = end + 4 - before;
        m_head.truncate(end + 4);
        pos += headBytesFromFresh;
        if (!parseHead())
            return;
    }
}

bool HttpConnection::parseHead()
{
    const QByteArray head = std::exchange(m_head, QByteArray());
    if (head.size() > m_limits.maxHeaderBytes) {
        refuse(431, "Request Header Fields Too Large", protocol::ErrorCode::BadRequest, QStringLiteral("request head over %1 bytes").arg(m_limits.maxHeaderBytes));
        return false;
    }
    if (!headerValue(head, "transfer-encoding").isEmpty()) {
        // Without a length the size cannot be checked before the body arrives.
        refuse(411, "Length Required", protocol::ErrorCode::BadRequest, QStringLiteral("send the body with a Content-Length (chunked uploads are not accepted)"));
        return false;
    }
    const QByteArray lengthText = headerValue(head, "content-length");
    qint64 length = 0;
    if (!lengthText.isEmpty()) {
        bool ok = false;
        length = lengthText.toLongLong(&ok);
        if (!ok || length < 0) {
            refuse(400, "Bad Request", protocol::ErrorCode::BadRequest, QStringLiteral("invalid Content-Length"));
            return false;
        }
    }
    if (length > m_limits.maxBodyBytes) {
        refuse(413, "Payload Too Large", protocol::ErrorCode::TooLarge, QStringLiteral("the body of %1 bytes exceeds this server's limit of %2 bytes")
                                              .arg(length)
                                              .arg(m_limits.maxBodyBytes));
        return false;
    }
    m_bodyLeft = length;
    if (length == 0) {
        m_inRequest = false;
        m_requestTimer.stop();
    }
    return true;
}

void HttpConnection::refuse(int status, const QByteArray &reason, protocol::ErrorCode code, const QString &message)
{
    m_refused = true;
    m_requestTimer.stop();
    m_idleTimer.stop();
    qCInfo(lcHttpConnection).noquote() << "refusing" << m_socket->peerAddress().toString() << status << message;
    m_metrics->requestStarted(ServerMetrics::Protocol::Http);
    m_metrics->requestFinished(ServerMetrics::Protocol::Http, 0, protocol::errorCodeName(code));
    const QByteArray body = QJsonDocument(DeepStackAnswer::error(status, message, 0)).toJson(QJsonDocument::Compact);
    m_socket->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reason
                    + "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "
                    + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    closeAfterWrite();
    // A client that keeps sending is not waited for.
    QTimer::singleShot(5000, m_socket, [socket = m_socket] {
        if (socket)
            socket->abort();
    });
}

void HttpConnection::timedOut()
{
    if (!m_socket || m_finished)
        return;
    if (m_running > 0)
        return; // an answer is on its way; the idle time starts again after it
    if (m_inRequest) {
        qCInfo(lcHttpConnection).noquote() << m_socket->peerAddress().toString() << "sent too slowly; closing";
        refuse(408, "Request Timeout", protocol::ErrorCode::Timeout,
               QStringLiteral("the request did not arrive within %1 ms").arg(m_limits.requestTimeoutMs));
        return;
    }
    m_socket->disconnectFromHost();
}

} // namespace edgelens
