#pragma once

#include "http/httpbodybudget.h"
#include "http/httplimits.h"
#include "net/listener.h"

#include <QHash>
#include <QSet>
#include <QSslConfiguration>

#include <memory>
#include <optional>

class QTcpServer;
class QTcpSocket;

namespace edgelens {

class DeepStackApi;
class DetectionService;
class HttpConnection;
struct HttpRequest;
struct TlsIdentity;

// The HTTP port: DeepStack's and CodeProject.AI Server's vision API, metrics and health checks
// (DeepStackApi answers them; docs/HTTP.md). HTTP/1.1 is EdgeLens's own (HttpRequestParser,
// HttpConnection on QTcpSocket, in this thread; docs/DEVELOPING.md says why). The port has its
// own limits, apart from the TCP port's: open connections (503 beyond), connections per client
// address (429 beyond; per request for clients behind a trusted reverse proxy), and the bytes
// of request bodies in memory (HttpBodyBudget).
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
    const HttpLimits &limits() const { return m_limits; }

    // For the connections.
    HttpBodyBudget &bodyBudget() { return m_bodyBudget; }
    bool takeAddressSlot(const QHostAddress &client); // false: the client is at its limit
    void releaseAddressSlot(const QHostAddress &client);
    void dispatch(HttpConnection *connection, HttpRequest &&request);

private:
    class AcceptingServer;

    void accept(qintptr handle);
    QTcpSocket *createSocket(qintptr handle);
    void refuseEarly(QTcpSocket *socket, int status, const QString &message, int retryAfterSeconds);
    void checkDrained();

    DetectionService *m_service;
    HttpLimits m_limits;
    std::unique_ptr<DeepStackApi> m_api;
    std::optional<QSslConfiguration> m_tls;
    AcceptingServer *m_server = nullptr;
    QSet<HttpConnection *> m_connections;
    QHash<QString, int> m_perAddress; // open slots by normalized client address
    HttpBodyBudget m_bodyBudget;
    int m_refusing = 0; // refused sockets still flushing their answer
    bool m_draining = false;
    bool m_drainReported = false; // drained() is emitted once per drain
};

} // namespace edgelens
