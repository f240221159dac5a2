#pragma once

#include "net/serverconfig.h"
#include "net/tlsidentity.h"

#include <QHostAddress>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QTimer>

#include <atomic>
#include <memory>
#include <optional>

namespace edgelens {

class DetectionEngine;
class DetectionService;
class Listener;

// The EdgeLens device server: listeners (one per kind of port: plain TCP with legacy and v2,
// TLS, HTTP) in front of one protocol-neutral DetectionService, which validates, admits and
// submits work to the DetectionEngine's worker pool. edgelens-server is a thin shell around it; the CLI and the desktop app start one
// in-process (ServerConfig::embedded(): 127.0.0.1, ephemeral port) and talk to it over real
// TCP, so every client exercises the same code path. Lives in the thread that calls start().
class DetectionServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DetectionServer)

public:
    enum class StartFailure { None, BadConfig, NoModel, ModelLoad, Listen, Abandoned };
    Q_ENUM(StartFailure)

    explicit DetectionServer(QObject *parent = nullptr);
    ~DetectionServer() override;

    // Resolves and loads the models (takes a moment), then listens. False with *error (for
    // NoModel: where it looked and how to get a model) when it cannot serve.
    bool start(const ServerConfig &config, QString *error = nullptr);
    StartFailure startFailure() const { return m_startFailure; }
    // Thread-safe, for a server being discarded while it loads (the app's embedded server
    // stopped or restarted): the start() running now, or any later one, gives up before it
    // listens (StartFailure::Abandoned), so a model that finished loading after the stop never
    // opens a port.
    void abandonStart() { m_abandoned.store(true); }

    bool isListening() const;
    quint16 serverPort() const;      // the real port, also when config.port was 0
    QHostAddress serverAddress() const;
    QString listenAddress() const;   // "0.0.0.0:6000", "127.0.0.1:43123", "[::1]:6000"
    QJsonObject serverInfo() const;  // what a v2 InfoRequest answers
    QStringList modelNames() const;  // served models, default first
    QString tlsFingerprint() const;  // "sha256:<64 hex>" with --tls, else empty
    // With --tls: the certificate and key the server uses (for the HTTP port's HTTPS too).
    const std::optional<TlsIdentity> &tlsIdentity() const { return m_tlsIdentity; }
    quint16 plainPort() const;       // the --plain-port listener's real port, 0 without one
    bool usingFallback() const;      // the default model is the cascade of last resort
    int connectionCount() const;
    const ServerConfig &config() const { return m_config; }

    // The service every listener serves through; null before start() succeeded.
    DetectionService *service() const;
    // Another kind of port, after start() succeeded: the server takes ownership, listens on
    // host:port and drains and stops it with the others. False (listener deleted) with *error
    // when it cannot listen. The first listener (config.host:config.port) is the primary one
    // that serverPort() and listenAddress() describe.
    bool addListener(Listener *listener, const QHostAddress &host, quint16 port, QString *error = nullptr);
    QList<Listener *> listeners() const { return m_listeners; }

    // Graceful stop: stops accepting, lets running requests finish and be answered, closes
    // every connection, then emits drained(); after timeoutMs whatever is left is aborted.
    void drain(int timeoutMs);
    // Immediate stop: closes the port and aborts every connection. Safe to call twice.
    void stop();

signals:
    void drained();

private slots:
    void listenerDrained();
    void finishDrain();

private:
    bool resolveModels(QList<ModelManifest> *models, QString *error);
    QJsonObject buildServerInfo() const;
    Listener *primaryListener() const;

    ServerConfig m_config;
    // The service outlives the engine: the engine's destructor waits for running jobs, whose
    // answers are posted to the service.
    std::unique_ptr<DetectionService> m_service;
    std::unique_ptr<DetectionEngine> m_engine;
    QList<Listener *> m_listeners;
    Listener *m_plainListener = nullptr;
    QString m_tlsFingerprint;
    std::optional<TlsIdentity> m_tlsIdentity;
    int m_listenersDraining = 0;
    QJsonObject m_serverInfo;
    QTimer m_drainTimer;
    bool m_draining = false;
    StartFailure m_startFailure = StartFailure::None;
    std::atomic<bool> m_abandoned{false};
};

} // namespace edgelens
