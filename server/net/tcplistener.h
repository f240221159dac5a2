#pragma once

#include "net/listener.h"

#include <QSet>

class QTcpServer;
class QTcpSocket;

namespace edgelens {

class ClientConnection;
class DetectionService;
struct ServerConfig;

// A TCP port speaking the legacy and v2 protocols (ClientConnection sniffs which).
class TcpListener : public Listener
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TcpListener)

public:
    TcpListener(DetectionService *service, const ServerConfig *config, QObject *parent = nullptr);
    ~TcpListener() override;

    QString kind() const override { return QStringLiteral("plaintext"); }
    bool listen(const QHostAddress &host, quint16 port, QString *error) override;
    bool isListening() const override;
    quint16 serverPort() const override;
    QHostAddress serverAddress() const override;
    int connectionCount() const override;
    int runningRequests() const override;
    void drain() override;
    void stop() override;

protected:
    // The server socket to listen with: a QTcpServer here, a QSslServer for TLS.
    virtual QTcpServer *createServer();

private slots:
    void acceptConnections();

private:
    void forgetConnection(ClientConnection *connection);
    void checkDrained();

    DetectionService *m_service;
    const ServerConfig *m_config;
    QTcpServer *m_server = nullptr;
    QSet<ClientConnection *> m_connections;
    QSet<ClientConnection *> m_refused;
    bool m_draining = false;
};

} // namespace edgelens
