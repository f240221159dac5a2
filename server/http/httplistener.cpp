#include "httplistener.h"

#include "http/deepstackanswer.h"
#include "http/deepstackrequest.h"
#include "metrics/servermetrics.h"
#include "net/detectionengine.h"
#include "net/auththrottle.h"
#include "net/detectionservice.h"
#include "net/tlsidentity.h"

#include <QElapsedTimer>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QHttpServerResponse>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QMetaEnum>
#include <QPointer>
#include <QTcpServer>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTimer>
#include <QUuid>

Q_LOGGING_CATEGORY(lcHttp, "edgelens.http")

namespace edgelens {

using protocol::ErrorCode;
using Protocol = ServerMetrics::Protocol;

namespace {

int httpStatus(ErrorCode code)
{
    switch (code) {
    case ErrorCode::BadFrame:
    case ErrorCode::BadRequest:
    case ErrorCode::UndecodableImage:
    case ErrorCode::UnsupportedVersion: return 400;
    case ErrorCode::Unauthorized: return 401;
    case ErrorCode::UnknownModel: return 404;
    case ErrorCode::Timeout: return 408;
    case ErrorCode::DeadlineExceeded: return 504;
    case ErrorCode::TooLarge: return 413;
    case ErrorCode::Busy: return 503;
    case ErrorCode::Internal: return 500;
    }
    return 500;
}

// As TlsListener: a client that has not finished its TLS handshake by then is dropped.
constexpr int kHandshakeTimeoutMs = 10'000;

double elapsedMs(const QElapsedTimer &clock)
{
    return double(clock.nsecsElapsed()) / 1e6;
}

QByteArray json(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

void writeJson(QHttpServerResponder &responder, const QJsonObject &object, int status)
{
    responder.write(json(object), {{"Content-Type", "application/json"}},
                    static_cast<QHttpServerResponder::StatusCode>(status));
}

QString inferenceDevice(const QString &backend)
{
    return backend.compare(QLatin1String("cuda"), Qt::CaseInsensitive) == 0 ? QStringLiteral("GPU") : QStringLiteral("CPU");
}

} // namespace

// Creates each connection's socket itself so HttpConnection sees the bytes before Qt HttpServer.
class HttpListener::GatedTcpServer final : public QTcpServer
{
public:
    explicit GatedTcpServer(HttpListener *listener)
        : m_listener(listener)
    {
    }

protected:
    void incomingConnection(qintptr handle) override
    {
        QTcpSocket *socket = m_listener->createSocket(handle);
        if (!socket)
            return;
        socket->setParent(this);
        m_listener->accept(socket);
        addPendingConnection(socket);
        // Qt HttpServer reads the decrypted bytes: nothing arrives before the handshake is done.
        if (auto *ssl = qobject_cast<QSslSocket *>(socket))
            ssl->startServerEncryption();
    }

private:
    HttpListener *m_listener;
};

HttpListener::HttpListener(DetectionService *service, const HttpLimits &limits, QObject *parent)
    : Listener(parent)
    , m_service(service)
    , m_metrics(service->metrics())
    , m_limits(limits)
    , m_http(std::make_unique<QHttpServer>())
{
    addRoutes();
}

HttpListener::~HttpListener()
{
    stop();
}

void HttpListener::useTls(const TlsIdentity &identity)
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setLocalCertificate(identity.certificate);
    configuration.setPrivateKey(identity.key);
    configuration.setProtocol(QSsl::TlsV1_2OrLater);
    configuration.setPeerVerifyMode(QSslSocket::VerifyNone); // clients authenticate with the api_key
    // HTTP/1.1 only: what HttpConnection's limits read.
    configuration.setAllowedNextProtocols({QSslConfiguration::NextProtocolHttp1_1});
    m_tls = configuration;
}

QTcpSocket *HttpListener::createSocket(qintptr handle)
{
    if (!m_tls) {
        auto *socket = new QTcpSocket;
        if (!socket->setSocketDescriptor(handle)) {
            delete socket;
            return nullptr;
        }
        return socket;
    }
    auto *socket = new QSslSocket;
    socket->setSslConfiguration(*m_tls);
    if (!socket->setSocketDescriptor(handle)) {
        delete socket;
        return nullptr;
    }
    connect(socket, &QSslSocket::sslErrors, socket, [socket](const QList<QSslError> &errors) {
        qCWarning(lcHttp).noquote() << socket->peerAddress().toString() << "TLS errors:" << errors.value(0).errorString();
    });
    connect(socket, &QAbstractSocket::errorOccurred, socket, [socket](QAbstractSocket::SocketError error) {
        if (socket->isEncrypted())
            return;
        qCWarning(lcHttp).noquote() << socket->peerAddress().toString()
                                    << (error == QAbstractSocket::RemoteHostClosedError
                                            ? QStringLiteral("closed the connection during the TLS handshake")
                                            : QStringLiteral("TLS handshake failed: ") + socket->errorString());
    });
    // A client that does not finish its handshake in time is dropped (as on the v2 TLS port).
    QTimer::singleShot(kHandshakeTimeoutMs, socket, [socket] {
        if (!socket->isEncrypted())
            socket->abort();
    });
    return socket;
}

void HttpListener::accept(QTcpSocket *socket)
{
    auto *connection = new HttpConnection(socket, m_service, m_metrics, m_limits);
    m_connections.insert(connection);
    connect(connection, &HttpConnection::closed, this, [this](HttpConnection *closed) {
        m_connections.remove(closed);
        checkDrained();
    });
    // Before Qt HttpServer's handler, which it connects once the socket is handed over.
    connect(socket, &QTcpSocket::readyRead, connection, &HttpConnection::beforeServerRead);
    m_awaitingHook.append(socket);
    if (m_draining) {
        socket->disconnectFromHost();
    }
}

void HttpListener::hookAfterServer()
{
    // Runs after QHttpServer took the new sockets and connected its own readyRead handler.
    for (QTcpSocket *socket : std::exchange(m_awaitingHook, {})) {
        if (HttpConnection *connection = HttpConnection::of(socket))
            connect(socket, &QTcpSocket::readyRead, connection, &HttpConnection::afterServerRead);
    }
}

bool HttpListener::listen(const QHostAddress &host, quint16 port, QString *error)
{
    m_tcp = new GatedTcpServer(this);
    if (!m_tcp->listen(host, port)) {
        if (error)
            *error = QStringLiteral("HTTP port %1: %2").arg(port).arg(m_tcp->errorString());
        delete m_tcp;
        m_tcp = nullptr;
        return false;
    }
    m_tcp->setParent(m_http.get());
    m_http->bind(m_tcp);
    connect(m_tcp, &QTcpServer::newConnection, this, &HttpListener::hookAfterServer);
    qCInfo(lcHttp).noquote() << (m_tls ? "HTTPS" : "HTTP") << "API (DeepStack / CodeProject.AI) on"
                             << m_tcp->serverAddress().toString() << m_tcp->serverPort();
    return true;
}

bool HttpListener::isListening() const
{
    return m_tcp && m_tcp->isListening();
}

quint16 HttpListener::serverPort() const
{
    return m_tcp ? m_tcp->serverPort() : 0;
}

QHostAddress HttpListener::serverAddress() const
{
    return m_tcp ? m_tcp->serverAddress() : QHostAddress();
}

int HttpListener::connectionCount() const
{
    return int(m_connections.size());
}

int HttpListener::runningRequests() const
{
    return m_running;
}

bool HttpListener::isReady() const
{
    return !m_draining && isListening() && m_service->engine() && m_service->engine()->modelCount() > 0;
}

void HttpListener::drain()
{
    m_draining = true;
    if (m_tcp)
        m_tcp->close();
    for (HttpConnection *connection : std::as_const(m_connections)) {
        if (connection->socket() && m_running == 0)
            connection->closeAfterWrite();
    }
    checkDrained();
}

void HttpListener::checkDrained()
{
    if (!m_draining)
        return;
    if (m_running == 0) {
        for (HttpConnection *connection : std::as_const(m_connections))
            connection->closeAfterWrite();
    }
    if (m_running == 0 && m_connections.isEmpty())
        emit drained();
}

void HttpListener::stop()
{
    m_draining = true;
    if (m_tcp)
        m_tcp->close();
    for (HttpConnection *connection : QSet<HttpConnection *>(m_connections)) {
        if (QTcpSocket *socket = connection->socket())
            socket->abort();
    }
}

void HttpListener::answerError(QHttpServerResponder &responder, int status, const QString &message, double durationMs,
                               const QString &errorCode)
{
    writeJson(responder, DeepStackAnswer::error(status, message, durationMs), status);
    m_metrics->requestFinished(Protocol::Http, durationMs / 1000.0, errorCode);
}

bool HttpListener::authorize(const DeepStackRequest &request, QHttpServerResponder &responder, double startedMs)
{
    if (!m_service->tokenRequired())
        return true;
    const QTcpSocket *socket = responder.socket();
    const QHostAddress client = AuthThrottle::normalized(socket ? socket->peerAddress() : QHostAddress());
    QString why;
    const DetectionService::AuthResult result = m_service->authenticate(client, request.apiKey(), &why);
    if (result == DetectionService::AuthResult::Ok)
        return true;
    m_metrics->authFailed(Protocol::Http);
    if (result == DetectionService::AuthResult::Throttled) {
        answerError(responder, 429, why, startedMs, errorCodeName(ErrorCode::Unauthorized));
        return false;
    }
    why = request.hasApiKey() ? QStringLiteral("wrong api_key")
                              : QStringLiteral("this server requires an api_key (form field or Authorization: Bearer)");
    answerError(responder, 401, why, startedMs, errorCodeName(ErrorCode::Unauthorized));
    return false;
}

void HttpListener::detect(const QString &model, const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    QElapsedTimer clock;
    clock.start();
    m_metrics->requestStarted(Protocol::Http);
    DeepStackRequest form = DeepStackRequest::fromHttp(request.value("Content-Type"), request.body(),
                                                       request.value("Authorization"));
    if (!authorize(form, responder, elapsedMs(clock)))
        return;
    QString error;
    if (!form.validateForDetection(&error)) {
        answerError(responder, 400, error, elapsedMs(clock), errorCodeName(ErrorCode::BadRequest));
        return;
    }
    DetectionEngine *engine = m_service->engine();
    const int modelIndex = engine->modelIndex(model);
    if (modelIndex < 0) {
        answerError(responder, 404,
                    QStringLiteral("no model named \"%1\"; this server has: %2")
                        .arg(model, engine->modelNames().join(QStringLiteral(", "))),
                    elapsedMs(clock), errorCodeName(ErrorCode::UnknownModel));
        return;
    }
    HttpConnection *connection = HttpConnection::of(responder.socket());
    if (!connection) {
        answerError(responder, 500, QStringLiteral("connection state lost"), elapsedMs(clock), errorCodeName(ErrorCode::Internal));
        return;
    }

    DetectRequest detectRequest;
    detectRequest.protocol = Protocol::Http;
    detectRequest.image = form.image();
    detectRequest.options = {{QStringLiteral("confidence"), double(form.minConfidence())},
                             {QStringLiteral("model"), engine->model(modelIndex).name},
                             {QStringLiteral("return_image"), false}};
    const float minConfidence = form.minConfidence();
    const QString command = model.isEmpty() ? QStringLiteral("detect") : QStringLiteral("custom");
    const QString device = inferenceDevice(engine->backend(modelIndex));
    // Qt HttpServer 6.4's responder holds a plain socket pointer: only written while it lives.
    auto pending = std::make_shared<QHttpServerResponder>(std::move(responder));
    QPointer<QTcpSocket> socket = pending->socket();
    QPointer<HttpConnection> guard = connection;
    connection->requestStarted();
    ++m_running;
    auto done = [this, pending, socket, guard, clock, minConfidence, command, device](const DetectReply &reply) {
        --m_running;
        if (guard)
            guard->requestFinished();
        const double ms = elapsedMs(clock);
        m_metrics->requestFinished(Protocol::Http, ms / 1000.0, reply.ok ? QString() : errorCodeName(reply.code));
        if (socket && socket->state() == QAbstractSocket::ConnectedState) {
            if (reply.ok) {
                DeepStackAnswer::Timing timing;
                const StageTimings &t = reply.result.timings;
                timing.inferenceMs = t.inferenceMs;
                timing.processMs = t.decodeMs + t.inferenceMs + t.markupMs + t.encodeMs;
                timing.roundTripMs = ms;
                writeJson(*pending,
                          DeepStackAnswer::detection(reply.result, minConfidence, command,
                                                     QUuid::createUuid().toString(QUuid::WithoutBraces), device, timing),
                          200);
            } else {
                const int status = httpStatus(reply.code);
                writeJson(*pending, DeepStackAnswer::error(status, reply.message, ms), status);
            }
        }
        checkDrained();
    };
    const std::optional<DetectReply> rejected = m_service->submit(connection->session(), std::move(detectRequest), done);
    if (rejected)
        done(*rejected);
}

void HttpListener::listModels(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    QElapsedTimer clock;
    clock.start();
    m_metrics->requestStarted(Protocol::Http);
    const DeepStackRequest form = DeepStackRequest::fromHttp(request.value("Content-Type"), request.body(),
                                                             request.value("Authorization"));
    if (!authorize(form, responder, elapsedMs(clock)))
        return;
    writeJson(responder, DeepStackAnswer::modelList(m_service->engine()->modelNames()), 200);
    m_metrics->requestFinished(Protocol::Http, elapsedMs(clock) / 1000.0);
}

QByteArray HttpListener::statusPage() const
{
    const QStringList models = m_service->engine()->modelNames();
    QString html = QStringLiteral(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>EdgeLens server</title></head><body>\n"
        "<h1>EdgeLens server %1</h1>\n<p>%2</p>\n<p>Models: %3</p>\n"
        "<p>DeepStack / CodeProject.AI API: <code>POST /v1/vision/detection</code>, "
        "<code>POST /v1/vision/custom/&lt;model&gt;</code>, <code>POST /v1/vision/custom/list</code>. "
        "Operators: <a href=\"/metrics\">/metrics</a>, <a href=\"/healthz\">/healthz</a>, "
        "<a href=\"/readyz\">/readyz</a>.</p>\n</body></html>\n")
                       .arg(QStringLiteral(EDGELENS_VERSION),
                            isReady() ? QStringLiteral("Ready.") : QStringLiteral("Not ready."),
                            models.join(QStringLiteral(", ")).toHtmlEscaped());
    return html.toUtf8();
}

void HttpListener::addRoutes()
{
    using Method = QHttpServerRequest::Method;
    m_http->route(QStringLiteral("/"), Method::Get, [this](const QHttpServerRequest &, QHttpServerResponder &&responder) {
        responder.write(statusPage(), {{"Content-Type", "text/html; charset=utf-8"}});
    });
    m_http->route(QStringLiteral("/healthz"), Method::Get, [](const QHttpServerRequest &, QHttpServerResponder &&responder) {
        responder.write(QByteArray("ok\n"), {{"Content-Type", "text/plain; charset=utf-8"}});
    });
    m_http->route(QStringLiteral("/readyz"), Method::Get, [this](const QHttpServerRequest &, QHttpServerResponder &&responder) {
        const bool ready = isReady();
        writeJson(responder,
                  {{QStringLiteral("ready"), ready},
                   {QStringLiteral("models"), QJsonArray::fromStringList(m_service->engine()->modelNames())}},
                  ready ? 200 : 503);
    });
    m_http->route(QStringLiteral("/metrics"), Method::Get, [this](const QHttpServerRequest &, QHttpServerResponder &&responder) {
        m_metrics->setReady(isReady());
        responder.write(m_metrics->exposition(), {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}});
    });
    m_http->route(QStringLiteral("/v1/status/updateavailable"), Method::Get,
                  [](const QHttpServerRequest &, QHttpServerResponder &&responder) {
                      writeJson(responder, DeepStackAnswer::updateAvailable(QStringLiteral(EDGELENS_VERSION)), 200);
                  });
    m_http->route(QStringLiteral("/v1/vision/detection"), Method::Post,
                  [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
                      detect(QString(), request, std::move(responder));
                  });
    // Before the <model> rule, which would take "list" for a model name.
    m_http->route(QStringLiteral("/v1/vision/custom/list"), Method::Post,
                  [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
                      listModels(request, std::move(responder));
                  });
    m_http->route(QStringLiteral("/v1/vision/custom/"), Method::Post,
                  [this](const QString &model, const QHttpServerRequest &request, QHttpServerResponder &&responder) {
                      detect(model, request, std::move(responder));
                  });
    m_http->setMissingHandler([](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        const int status = 404;
        writeJson(responder,
                  DeepStackAnswer::error(status, QStringLiteral("no such endpoint: %1 %2")
                                                     .arg(QString::fromLatin1(QMetaEnum::fromType<QHttpServerRequest::Method>()
                                                                                  .valueToKey(int(request.method()))),
                                                          request.url().path()),
                                         0),
                  status);
    });
}

} // namespace edgelens
