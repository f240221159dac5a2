#pragma once

#include "metrics/metricsregistry.h"

#include <QByteArray>
#include <QString>

namespace edgelens {

// What one device server counts, in the names docs/HTTP.md lists, per protocol ("legacy",
// "v2", "http"). Every session and listener reports here; GET /metrics renders it. Thread-safe.
class ServerMetrics final
{
    Q_DISABLE_COPY_MOVE(ServerMetrics)

public:
    enum class Protocol { Legacy, V2, Http };

    struct ModelInfo
    {
        QString name;
        QString family;
        QString backend;
        bool isDefault = false;
    };

    ServerMetrics();

    static QString protocolName(Protocol protocol);

    void connectionOpened(Protocol protocol);
    void connectionClosed(Protocol protocol);
    void bytesReceived(Protocol protocol, qint64 bytes);
    void bytesSent(Protocol protocol, qint64 bytes);
    void authFailed(Protocol protocol);
    // A request dropped unrun because its deadline passed before a worker was free (v2
    // deadline_ms); it is also finished with the error code deadline_exceeded.
    void deadlineExpired(Protocol protocol);

    // One detection request (or any request that fails before it becomes one): started when its
    // bytes are complete, finished when its answer is written. `errorCode` empty means success;
    // otherwise a short stable code ("400", "bad_image", ...) counted under request_errors.
    void requestStarted(Protocol protocol);
    void requestFinished(Protocol protocol, double seconds, const QString &errorCode = {});

    void inferenceObserved(const QString &model, double seconds);

    // Jobs handed to the worker pool that no worker has started yet (the engine reports it).
    void setQueueDepth(int jobs);

    void setModels(const QList<ModelInfo> &models, int workers);
    void setReady(bool ready);

    double requestCount(Protocol protocol) const; // ok + error, for tests and the status page
    QByteArray exposition() const;
    MetricsRegistry &registry() { return m_registry; }
    const MetricsRegistry &registry() const { return m_registry; }

private:
    MetricsRegistry m_registry;
};

} // namespace edgelens
