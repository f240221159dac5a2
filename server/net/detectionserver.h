#pragma once

#include "net/serverconfig.h"

#include <QHostAddress>
#include <QJsonObject>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <memory>

class QTcpServer;

namespace edgelens {

class ClientConnection;
class DetectionEngine;

// The EdgeLens device server: legacy and v2 clients on one TCP port, detection on a worker
// pool. edgelens-server is a thin shell around it; the CLI and the desktop app start one
// in-process (ServerConfig::embedded(): 127.0.0.1, ephemeral port) and talk to it over real
// TCP, so every client exercises the same code path. Lives in the thread that calls start().
class DetectionServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DetectionServer)

public:
    enum class StartFailure { None, BadConfig, NoModel, ModelLoad, Listen };
    Q_ENUM(StartFailure)

    explicit DetectionServer(QObject *parent = nullptr);
    ~DetectionServer() override;

    // Resolves and loads the models (takes a moment), then listens. False with *error (for
    // NoModel: where it looked and how to get a model) when it cannot serve.
    bool start(const ServerConfig &config, QString *error = nullptr);
    StartFailure startFailure() const { return m_startFailure; }

    bool isListening() const;
    quint16 serverPort() const;      // the real port, also when config.port was 0
    QHostAddress serverAddress() const;
    QString listenAddress() const;   // "0.0.0.0:6000", "127.0.0.1:43123", "[::1]:6000"
    QJsonObject serverInfo() const;  // what a v2 InfoRequest answers
    QStringList modelNames() const;  // served models, default first
    bool usingFallback() const;      // the default model is the cascade of last resort
    int connectionCount() const;
    const ServerConfig &config() const { return m_config; }

    // Graceful stop: stops accepting, lets running requests finish and be answered, closes
    // every connection, then emits drained(); after timeoutMs whatever is left is aborted.
    void drain(int timeoutMs);
    // Immediate stop: closes the port and aborts every connection. Safe to call twice.
    void stop();

signals:
    void drained();

private slots:
    void acceptConnections();
    void forgetConnection(ClientConnection *connection);
    void finishDrain();

private:
    bool resolveModels(QList<ModelManifest> *models, QString *error);
    QJsonObject buildServerInfo() const;

    ServerConfig m_config;
    std::unique_ptr<DetectionEngine> m_engine;
    QTcpServer *m_tcpServer = nullptr;
    QSet<ClientConnection *> m_connections;
    QSet<ClientConnection *> m_refused;
    QJsonObject m_serverInfo;
    QTimer m_drainTimer;
    bool m_draining = false;
    StartFailure m_startFailure = StartFailure::None;
};

} // namespace edgelens
