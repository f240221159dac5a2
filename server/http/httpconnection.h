#pragma once

#include "http/httplimits.h"
#include "http/httprequestparser.h"
#include "http/httpresponse.h"
#include "net/detectionservice.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QObject>
#include <QTimer>

class QTcpSocket;

namespace edgelens {

class HttpListener;

// One client connection on the HTTP port. It reads one request at a time (HttpRequestParser)
// and reads nothing more until that request is answered, so answers leave in request order,
// a pipelining client is read only as fast as it takes its answers (backpressure: a backlog
// of unsent answers stops the reading), and a connection holds at most one head or one body.
// A body's Content-Length is reserved from the port's body budget before the body is read
// (100 Continue is sent then, when asked for). Closes after the answer for HTTP/1.0 and
// `Connection: close`, on malformed input (with its 4xx/5xx), after a whole idle period, and
// when a request does not arrive within the request timeout (408). A client that goes away
// while its request runs has it cancelled (its DetectionService session closes) and counted
// as cancelled. Lives in the listener's thread; deletes itself once the socket is closed.
class HttpConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpConnection)

public:
    // Takes ownership of socket. `addressSlot`: the per-address slot taken for this connection
    // at accept (a direct client), released when it closes; null for one whose client is
    // known later (PROXY header) or per request (trusted proxy).
    HttpConnection(QTcpSocket *socket, HttpListener *listener, DetectionService *service, const HttpLimits &limits,
                   const QHostAddress &addressSlot);
    ~HttpConnection() override;

    DetectionService::SessionId session() const { return m_session; }
    // The connection's client: the peer, or the address of its PROXY header.
    QHostAddress clientAddress() const { return m_clientAddress; }
    // The current request's client: clientAddress(), or from X-Forwarded-For when that came
    // from a trusted proxy. What the auth throttle and the per-address limit key on.
    QHostAddress requestClient() const { return m_requestClient; }
    QString peer() const { return m_peer; }
    bool isHandling() const { return m_handling; }
    // A detection request the API counted in the metrics: abandoned, it ends as "cancelled".
    void markCounted() { m_counted = true; }
    double requestElapsedMs() const { return double(m_requestClock.nsecsElapsed()) / 1e6; }

    // The current request's answer. Then the next request is read, or the connection closes.
    void respond(const HttpResponse &response);
    // Shutting down: close now when nothing runs, else right after the running answer.
    void drain();
    void abort();

signals:
    void answered(HttpConnection *connection);
    void closed(HttpConnection *connection);

private:
    void readMore();
    bool readProxyHeader();
    void afterFeed();
    void headReceived();
    void sendContinueIfAsked();
    void bodyBudgetGranted(qint64 bytes);
    void dispatch();
    void refuse(int status, const QString &message, int retryAfterSeconds = 0);
    void closeAfterWrite();
    void shutdownSending();
    void releaseRequest();
    void handleIdleTimeout();
    void handleRequestTimeout();
    void handleBudgetTimeout();
    void handleBytesWritten(qint64 bytes);
    void finish();
    bool writeBacklogged() const;
    bool canRead() const;

    QTcpSocket *m_socket;
    HttpListener *m_listener;
    DetectionService *m_service;
    ServerMetrics *m_metrics;
    const HttpLimits &m_limits;
    HttpRequestParser m_parser;
    DetectionService::SessionId m_session = 0;
    QString m_peer;
    QHostAddress m_clientAddress;
    QHostAddress m_requestClient;
    QHostAddress m_addressSlot;  // held for the connection's life (direct clients, PROXY)
    QHostAddress m_requestSlot;  // held for the current request (through a trusted proxy)
    bool m_awaitingProxyHeader = false;
    bool m_headTaken = false;    // the current request's head was checked and admitted
    bool m_handling = false;     // a complete request is being answered
    bool m_keepAlive = true;
    bool m_headOnly = false;
    bool m_counted = false;
    bool m_waitingBudget = false;
    bool m_inReadLoop = false;
    bool m_closing = false;
    bool m_lingering = false;      // answered and closing: input is read and dropped
    bool m_sendingShutDown = false;
    bool m_draining = false;
    bool m_finished = false;
    quint64 m_budgetTicket = 0;
    qint64 m_reserved = 0;       // body bytes reserved from the budget for the current request
    QElapsedTimer m_requestClock;
    QTimer m_idleTimer;
    QTimer m_requestTimer;
    QTimer m_budgetTimer;
    QTimer m_closeTimer;
};

} // namespace edgelens
