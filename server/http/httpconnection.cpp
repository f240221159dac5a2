#include "httpconnection.h"

#include "http/deepstackanswer.h"
#include "http/httplistener.h"
#include "metrics/servermetrics.h"
#include "net/auththrottle.h"
#include "net/clientconnection.h"
#include "net/proxyheader.h"

#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSslSocket>
#include <QTcpSocket>

#include <sys/socket.h>

Q_LOGGING_CATEGORY(lcHttpConnection, "edgelens.http.connection")

namespace edgelens {

using Protocol = ServerMetrics::Protocol;

namespace {

// Qt keeps at most this much of what the client sent; the rest waits in the kernel, so a
// client that pipelines requests it does not read the answers of costs no more than this.
constexpr qint64 kSocketReadBuffer = 64 * 1024;
// Above this many unsent answer bytes the connection stops reading requests until the client
// has taken half of them.
constexpr qint64 kMaxUnsentAnswers = 1024 * 1024;
constexpr qint64 kHeadChunk = 4096;      // the head is looked at in pieces this large
constexpr int kRequestsPerTurn = 32;     // then other connections get the thread
constexpr int kCloseGraceMs = 5000;      // a closing socket that cannot flush is aborted after this

QString errorCodeOf(int status)
{
    switch (status) {
    case 408: return protocol::errorCodeName(protocol::ErrorCode::Timeout);
    case 413: return protocol::errorCodeName(protocol::ErrorCode::TooLarge);
    case 429:
    case 503: return protocol::errorCodeName(protocol::ErrorCode::Busy);
    }
    return protocol::errorCodeName(protocol::ErrorCode::BadRequest);
}

} // namespace

HttpConnection::HttpConnection(QTcpSocket *socket, HttpListener *listener, DetectionService *service,
                               const HttpLimits &limits, const QHostAddress &addressSlot)
    : QObject(listener)
    , m_socket(socket)
    , m_listener(listener)
    , m_service(service)
    , m_metrics(service->metrics())
    , m_limits(limits)
    , m_parser(HttpRequestParser::Limits{limits.maxHeaderBytes, limits.maxBodyBytes})
    , m_peer(ClientConnection::peerName(socket))
    , m_clientAddress(AuthThrottle::normalized(socket->peerAddress()))
    , m_requestClient(m_clientAddress)
    , m_addressSlot(addressSlot)
    , m_awaitingProxyHeader(limits.proxyProtocol)
{
    m_socket->setParent(this);
    m_socket->setReadBufferSize(kSocketReadBuffer);
    m_session = m_service->openSession(QStringLiteral("http ") + m_peer);
    m_metrics->connectionOpened(Protocol::Http);

    for (QTimer *timer : {&m_idleTimer, &m_requestTimer, &m_budgetTimer, &m_closeTimer})
        timer->setSingleShot(true);
    m_idleTimer.setInterval(m_limits.idleTimeoutMs);
    m_requestTimer.setInterval(m_limits.requestTimeoutMs);
    m_budgetTimer.setInterval(m_limits.budgetWaitMs);
    m_closeTimer.setInterval(kCloseGraceMs);
    connect(&m_idleTimer, &QTimer::timeout, this, &HttpConnection::handleIdleTimeout);
    connect(&m_requestTimer, &QTimer::timeout, this, &HttpConnection::handleRequestTimeout);
    connect(&m_budgetTimer, &QTimer::timeout, this, &HttpConnection::handleBudgetTimeout);
    connect(&m_closeTimer, &QTimer::timeout, this, &HttpConnection::abort);

    connect(m_socket, &QTcpSocket::readyRead, this, &HttpConnection::readMore);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &HttpConnection::handleBytesWritten);
    connect(m_socket, &QTcpSocket::disconnected, this, &HttpConnection::finish);
    m_idleTimer.start();
    // Bytes may already be waiting (the client wrote before the connection was set up).
    QMetaObject::invokeMethod(this, &HttpConnection::readMore, Qt::QueuedConnection);
}

HttpConnection::~HttpConnection()
{
    finish();
}

bool HttpConnection::writeBacklogged() const
{
    return m_socket->bytesToWrite() > kMaxUnsentAnswers;
}

bool HttpConnection::canRead() const
{
    return !m_finished && !m_closing && !m_handling && !m_waitingBudget && !writeBacklogged();
}

void HttpConnection::readMore()
{
    if (m_lingering) {
        m_socket->skip(m_socket->bytesAvailable());
        return;
    }
    if (m_inReadLoop)
        return; // the loop below goes on by itself
    m_inReadLoop = true;
    int requests = 0;
    while (canRead()) {
        if (m_awaitingProxyHeader) {
            if (!readProxyHeader())
                break;
            continue;
        }
        const qint64 available = m_socket->bytesAvailable();
        if (available <= 0)
            break;
        qsizetype taken = 0;
        if (m_parser.state() == HttpRequestParser::State::Head) {
            taken = m_parser.feed(m_socket->peek(qMin(available, kHeadChunk)));
            m_socket->skip(taken);
        } else {
            const qint64 missing = m_parser.bodyExpected() - m_parser.bodyReceived();
            taken = m_parser.feed(m_socket->read(qMin(available, missing)));
        }
        m_metrics->bytesReceived(Protocol::Http, taken);
        m_idleTimer.start();
        if (m_parser.midRequest() && !m_requestTimer.isActive() && !m_headTaken)
            m_requestTimer.start();
        const bool wasHandling = m_handling;
        afterFeed();
        if (!wasHandling && m_handling && ++requests >= kRequestsPerTurn) {
            QMetaObject::invokeMethod(this, &HttpConnection::readMore, Qt::QueuedConnection);
            break;
        }
    }
    m_inReadLoop = false;
}

bool HttpConnection::readProxyHeader()
{
    const QByteArray bytes = m_socket->peek(ProxyHeader::kMaxV2);
    if (bytes.isEmpty())
        return false;
    ProxyHeader header;
    QString error;
    switch (ProxyHeader::parse(bytes, &header, &error)) {
    case ProxyHeader::Status::NeedMore:
        return false;
    case ProxyHeader::Status::Invalid:
        qCWarning(lcHttpConnection).noquote() << m_peer << "sent no valid PROXY header:" << error
                                              << "(with --http-proxy-protocol every connection must come through the "
                                                 "load balancer); closing";
        abort();
        return false;
    case ProxyHeader::Status::Done:
        break;
    }
    m_socket->skip(header.length);
    m_metrics->bytesReceived(Protocol::Http, header.length);
    m_awaitingProxyHeader = false;
    if (!header.local) {
        m_clientAddress = AuthThrottle::normalized(header.source);
        m_requestClient = m_clientAddress;
        m_peer = ClientConnection::peerName(header.source, header.sourcePort);
        if (!m_listener->takeAddressSlot(m_clientAddress)) {
            refuse(429, QStringLiteral("too many connections from %1 (the limit is %2)")
                            .arg(m_clientAddress.toString())
                            .arg(m_limits.maxPerAddress),
                   5);
            return false;
        }
        m_addressSlot = m_clientAddress;
    }
    return true;
}

void HttpConnection::afterFeed()
{
    switch (m_parser.state()) {
    case HttpRequestParser::State::Head:
        return;
    case HttpRequestParser::State::Failed:
        refuse(m_parser.errorStatus(), m_parser.errorMessage());
        return;
    case HttpRequestParser::State::Body:
    case HttpRequestParser::State::Complete:
        break;
    }
    if (!m_headTaken) {
        m_headTaken = true;
        headReceived();
        if (m_closing || m_waitingBudget)
            return;
    }
    if (m_parser.state() == HttpRequestParser::State::Complete)
        dispatch();
}

void HttpConnection::headReceived()
{
    const HttpRequest &request = m_parser.request();
    if (!m_limits.trustedProxies.isEmpty())
        m_requestClient = m_limits.trustedProxies.clientOf(m_clientAddress, request.headerValues("x-forwarded-for"));
    if (m_addressSlot.isNull()) {
        // Through a trusted proxy (or a balancer's LOCAL header): the client holds a slot while
        // its request is read and run.
        if (!m_listener->takeAddressSlot(m_requestClient)) {
            refuse(429, QStringLiteral("too many requests at once from %1 (the limit is %2)")
                            .arg(m_requestClient.toString())
                            .arg(m_limits.maxPerAddress),
                   1);
            return;
        }
        m_requestSlot = m_requestClient;
    }
    const qint64 body = m_parser.bodyExpected();
    if (body <= 0)
        return;
    HttpBodyBudget &budget = m_listener->bodyBudget();
    if (budget.tryReserve(body)) {
        m_reserved = body;
        sendContinueIfAsked();
        return;
    }
    // Not read until there is room: the body stays in the client (and the kernel's buffers).
    m_waitingBudget = true;
    m_requestTimer.stop();
    m_budgetTimer.start();
    m_budgetTicket = budget.wait(body, [this, body] { bodyBudgetGranted(body); });
    qCInfo(lcHttpConnection).noquote() << m_peer << "waits for room for a body of" << body << "bytes ("
                                       << budget.reserved() << "of" << budget.capacity() << "in use)";
}

void HttpConnection::bodyBudgetGranted(qint64 bytes)
{
    m_reserved = bytes;
    m_waitingBudget = false;
    m_budgetTicket = 0;
    m_budgetTimer.stop();
    m_requestTimer.start();
    sendContinueIfAsked();
    // Not from inside the budget's release(), which another connection's answer is running.
    QMetaObject::invokeMethod(this, &HttpConnection::readMore, Qt::QueuedConnection);
}

void HttpConnection::sendContinueIfAsked()
{
    if (m_parser.request().expectContinue && m_parser.bodyReceived() == 0) {
        static const QByteArray kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        m_socket->write(kContinue);
        m_metrics->bytesSent(Protocol::Http, kContinue.size());
    }
}

void HttpConnection::dispatch()
{
    m_requestTimer.stop();
    m_idleTimer.stop();
    m_handling = true;
    m_counted = false;
    m_requestClock.start();
    HttpRequest request = m_parser.takeRequest();
    m_keepAlive = request.keepAlive;
    m_headOnly = request.method == "HEAD";
    m_listener->dispatch(this, std::move(request)); // may answer before it returns
}

void HttpConnection::respond(const HttpResponse &response)
{
    if (!m_handling || m_finished)
        return;
    const bool close = !m_keepAlive || m_draining;
    const QByteArray bytes = response.serialize(close, m_headOnly);
    m_socket->write(bytes);
    m_metrics->bytesSent(Protocol::Http, bytes.size());
    m_handling = false;
    m_counted = false;
    releaseRequest();
    m_parser.next();
    m_headTaken = false;
    emit answered(this);
    if (close) {
        closeAfterWrite();
        return;
    }
    m_idleTimer.start();
    readMore();
}

void HttpConnection::releaseRequest()
{
    if (m_waitingBudget) {
        m_waitingBudget = false;
        m_budgetTimer.stop();
        m_listener->bodyBudget().cancel(std::exchange(m_budgetTicket, 0));
    }
    if (m_reserved > 0)
        m_listener->bodyBudget().release(std::exchange(m_reserved, 0));
    if (!m_requestSlot.isNull())
        m_listener->releaseAddressSlot(std::exchange(m_requestSlot, QHostAddress()));
}

void HttpConnection::refuse(int status, const QString &message, int retryAfterSeconds)
{
    qCInfo(lcHttpConnection).noquote() << m_peer << "refused:" << status << message;
    m_metrics->requestStarted(Protocol::Http);
    m_metrics->requestFinished(Protocol::Http, 0, errorCodeOf(status));
    HttpResponse response;
    response.status = status;
    response.body = QJsonDocument(DeepStackAnswer::error(status, message, 0)).toJson(QJsonDocument::Compact);
    response.retryAfterSeconds = retryAfterSeconds;
    const QByteArray bytes = response.serialize(true);
    m_socket->write(bytes);
    m_metrics->bytesSent(Protocol::Http, bytes.size());
    releaseRequest();
    closeAfterWrite();
}

void HttpConnection::closeAfterWrite()
{
    if (m_closing || m_finished)
        return;
    m_closing = true;
    m_idleTimer.stop();
    m_requestTimer.stop();
    m_budgetTimer.stop();
    m_closeTimer.start(); // a client that does not take the last answer is not waited for
    if (qobject_cast<QSslSocket *>(m_socket)) {
        m_socket->disconnectFromHost(); // flushes, sends close_notify, closes
        return;
    }
    // A lingering close: closing a socket with unread bytes makes the kernel reset the
    // connection, which can throw away the answer before the client reads it (a 413 or 503
    // to a client still sending its body). So: send the answer, then end the sending side
    // only, and read and drop whatever still comes until the client closes its side.
    m_lingering = true;
    m_socket->skip(m_socket->bytesAvailable());
    if (m_socket->bytesToWrite() == 0)
        shutdownSending();
}

void HttpConnection::shutdownSending()
{
    if (std::exchange(m_sendingShutDown, true))
        return;
    if (::shutdown(int(m_socket->socketDescriptor()), SHUT_WR) != 0)
        m_socket->disconnectFromHost();
}

void HttpConnection::drain()
{
    m_draining = true;
    if (!m_handling)
        closeAfterWrite();
}

void HttpConnection::abort()
{
    if (m_socket->state() != QAbstractSocket::UnconnectedState)
        m_socket->abort(); // emits disconnected -> finish
    else
        finish();
}

void HttpConnection::handleBytesWritten(qint64)
{
    if (m_lingering && m_socket->bytesToWrite() == 0)
        shutdownSending();
    if (m_closing || m_handling)
        return;
    m_idleTimer.start(); // the client is taking answers: that is activity too
    if (m_socket->bytesToWrite() <= kMaxUnsentAnswers / 2)
        readMore();
}

void HttpConnection::handleIdleTimeout()
{
    if (m_closing || m_finished)
        return;
    if (m_handling || m_waitingBudget) {
        m_idleTimer.start(); // the wait is ours, not the client's
        return;
    }
    if (writeBacklogged()) {
        qCWarning(lcHttpConnection).noquote() << m_peer << "stopped reading answers (" << m_socket->bytesToWrite()
                                              << "bytes unsent); dropping it";
        abort();
        return;
    }
    if (m_parser.midRequest() || m_awaitingProxyHeader) {
        refuse(408, QStringLiteral("no data for %1 ms in the middle of a request").arg(m_limits.idleTimeoutMs));
        return;
    }
    closeAfterWrite();
}

void HttpConnection::handleRequestTimeout()
{
    if (m_closing || m_handling || m_waitingBudget)
        return;
    refuse(408, QStringLiteral("the request did not arrive within %1 ms").arg(m_limits.requestTimeoutMs));
}

void HttpConnection::handleBudgetTimeout()
{
    if (!m_waitingBudget)
        return;
    refuse(503,
           QStringLiteral("the server holds as many request bodies as it may (%1 MiB); try again shortly")
               .arg(m_limits.bodyBudgetBytes / (1024 * 1024)),
           5);
}

void HttpConnection::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    m_closing = true;
    for (QTimer *timer : {&m_idleTimer, &m_requestTimer, &m_budgetTimer, &m_closeTimer})
        timer->stop();
    if (m_handling && m_counted) {
        // As on v2: the client went away before its answer, which is dropped unsent.
        qCInfo(lcHttpConnection).noquote() << m_peer << "went away before its answer; request cancelled";
        m_metrics->requestFinished(Protocol::Http, requestElapsedMs() / 1000.0, QStringLiteral("cancelled"));
    }
    m_handling = false;
    releaseRequest();
    if (!m_addressSlot.isNull())
        m_listener->releaseAddressSlot(std::exchange(m_addressSlot, QHostAddress()));
    m_service->closeSession(m_session); // cancels its queued work; no answer comes back
    m_metrics->connectionClosed(Protocol::Http);
    emit closed(this);
    deleteLater();
}

} // namespace edgelens
