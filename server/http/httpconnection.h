#pragma once

#include "net/detectionservice.h"

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <QTcpSocket>

namespace edgelens {

class ServerMetrics;

// Limits the HTTP listener puts on one client connection, before Qt HttpServer reads a byte.
struct HttpLimits
{
    qint64 maxBodyBytes = 32 * 1024 * 1024; // Blue Iris sends up to about 30 MB
    int maxHeaderBytes = 64 * 1024;
    int idleTimeoutMs = 30'000;    // no byte and nothing running: close
    int requestTimeoutMs = 120'000; // first byte of a request to its last
};

// Watches one HTTP connection from the side: Qt HttpServer 6.4 buffers whole requests without a
// size limit or deadline, so this reads every request head as it arrives (peeking, before the
// server does), answers 413/411/431 for a body it must not buffer and refuses the rest of the
// bytes, and closes slow or idle senders with 408. It also owns the connection's
// DetectionService session (so a client that goes away cancels its queued images) and counts
// the bytes both ways. Lives in the socket's thread; deleted with the socket.
class HttpConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpConnection)

public:
    HttpConnection(QTcpSocket *socket, DetectionService *service, ServerMetrics *metrics, const HttpLimits &limits);
    ~HttpConnection() override;

    // The connection an HTTP request arrived on (a child of the socket), or null.
    static HttpConnection *of(QTcpSocket *socket);

    DetectionService::SessionId session() const { return m_session; }
    QTcpSocket *socket() const { return m_socket; }
    // A request was handed to the service; idle time does not run until it is answered.
    void requestStarted();
    void requestFinished();
    // Close once what is written has gone out (drain, refusals).
    void closeAfterWrite();
    // Connected to the socket's readyRead before and after Qt HttpServer's own handler.
    void beforeServerRead();
    void afterServerRead();

signals:
    void closed(HttpConnection *connection);

private:
    void consume(const QByteArray &fresh);
    bool parseHead(); // true: a head was complete and accepted (or refused)
    void refuse(int status, const QByteArray &reason, protocol::ErrorCode code, const QString &message);
    void timedOut();
    void restartIdle();
    void finish();

    QPointer<QTcpSocket> m_socket;
    DetectionService *m_service;
    ServerMetrics *m_metrics;
    HttpLimits m_limits;
    DetectionService::SessionId m_session = 0;
    QByteArray m_head;           // bytes of the request head seen so far
    qint64 m_bodyLeft = 0;       // body bytes of the current request still to come
    bool m_inRequest = false;    // between the first byte of a request and its last
    qint64 m_unreadAfter = 0;    // bytesAvailable() when the server's handler returned
    int m_running = 0;
    bool m_refused = false;
    bool m_finished = false;
    QTimer m_idleTimer;
    QTimer m_requestTimer;
};

} // namespace edgelens
