#pragma once

#include "http/httpconnection.h"
#include "net/listener.h"

#include <QSet>
#include <QSslConfiguration>

#include <memory>
#include <optional>

class QHttpServer;
class QHttpServerRequest;
class QHttpServerResponder;
class QTcpServer;
class QTcpSocket;

namespace edgelens {

class DetectionService;
struct TlsIdentity;
struct DeepStackRequest;
class ServerMetrics;

// The HTTP port: DeepStack's and CodeProject.AI Server's vision API (POST /v1/vision/detection,
// /v1/vision/custom/<model>, /v1/vision/custom/list), their status calls (GET /,
// /v1/status/updateavailable), and for operators GET /metrics, /healthz and /readyz. Requests go
// straight to the DetectionService like any other protocol's: no queue of its own (Frigate
// waits 0.1 s by default). Qt HttpServer parses HTTP; HttpConnection puts limits around it.
// docs/HTTP.md describes the API.
class HttpListener final : public Listener
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpListener)

public:
    HttpListener(DetectionService *service, const HttpLimits &limits, QObject *parent = nullptr);
    ~HttpListener() override;

    // HTTPS with this certificate (the one --tls gives the v2 port), before listen(): every
    // connection does the TLS handshake (1.2 or later) first; a plaintext request gets nothing.
    void useTls(const TlsIdentity &identity);
    bool usesTls() const { return m_tls.has_value(); }

    QString kind() const override { return m_tls ? QStringLiteral("https") : QStringLiteral("http"); }
    bool listen(const QHostAddress &host, quint16 port, QString *error) override;
    bool isListening() const override;
    quint16 serverPort() const override;
    QHostAddress serverAddress() const override;
    int connectionCount() const override;
    int runningRequests() const override;
    void drain() override;
    void stop() override;

    bool isReady() const; // models loaded and accepting work

private:
    class GatedTcpServer;

    void addRoutes();
    QTcpSocket *createSocket(qintptr handle);
    void accept(QTcpSocket *socket);
    void hookAfterServer();
    void detect(const QString &model, const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void listModels(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    // False (and the 401 answered) when a token is required and the request lacks it.
    bool authorize(const DeepStackRequest &request, QHttpServerResponder &responder, double startedMs);
    void answerError(QHttpServerResponder &responder, int status, const QString &message, double durationMs,
                     const QString &errorCode);
    void checkDrained();
    QByteArray statusPage() const;

    DetectionService *m_service;
    ServerMetrics *m_metrics;
    HttpLimits m_limits;
    std::optional<QSslConfiguration> m_tls;
    std::unique_ptr<QHttpServer> m_http;
    GatedTcpServer *m_tcp = nullptr; // owned by m_http once bound
    QList<QTcpSocket *> m_awaitingHook;
    QSet<HttpConnection *> m_connections;
    int m_running = 0;
    bool m_draining = false;
};

} // namespace edgelens
