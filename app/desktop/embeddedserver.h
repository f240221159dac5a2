#pragma once

// The detection server the app runs for itself when no device is configured: the same
// DetectionServer as edgelens-server, listening on 127.0.0.1 only, on a port the system
// picks. Starting loads the model, which takes a moment, so it happens on the server's own
// thread and is reported by signals; the GUI never waits for it, not even to stop: a stop (or
// a restart with another model) hands the old server a stop request and forgets it; it stops,
// deletes itself and ends its thread when its load is over, without ever listening.

#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>

#include <atomic>
#include <memory>

class QThread;

namespace edgelens {

class DetectionServer;

class EmbeddedServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EmbeddedServer)

public:
    enum class State { Stopped, Starting, Running, Failed };
    Q_ENUM(State)

    explicit EmbeddedServer(QObject *parent = nullptr);
    ~EmbeddedServer() override;

    // model: a catalog name or a manifest path; empty = EDGELENS_MODEL_PATH, else the catalog
    // default. Restarts when already running with another model.
    void start(const QString &model = QString());
    // Returns at once; a server still loading its model finishes that on its own thread and
    // then shuts down. The destructor is the only place that waits for retired servers.
    void stop();
    // Servers stopped but still finishing (loading or draining) on their threads.
    int retiredCount() const;

    State state() const { return m_state; }
    quint16 port() const { return m_port; }
    QString modelName() const { return m_modelName; } // as loaded
    QString requestedModel() const { return m_requested; }
    QString errorString() const { return m_error; }           // full text, may span lines
    QString errorSummary() const { return m_error.section(QLatin1Char('\n'), 0, 0); } // first line

signals:
    // Emitted from the server's thread as it begins to load its model: the moment a stop or a
    // restart has to deal with a load in progress (tests connect to it to act at that moment).
    void loadBegan();
    // A start that stop() or a later start() superseded has ended on its thread; `listened`
    // says whether it opened its port anyway (it must not).
    void abandonedStartEnded(bool listened);
    void started(quint16 port, const QString &modelName);
    void failed(const QString &reason); // first line; errorString() has the details
    void stateChanged(edgelens::EmbeddedServer::State state);

private:
    void setState(State state);
    void retireCurrent();
    void finishStart(quint64 attempt, quint16 port, const QString &modelName, const QString &error);

    QThread *m_thread = nullptr;
    DetectionServer *m_server = nullptr; // lives in m_thread
    // Set when the current server is retired before its thread began loading: it then skips the load.
    std::shared_ptr<std::atomic<bool>> m_abandoned;
    State m_state = State::Stopped;
    quint16 m_port = 0;
    QString m_modelName;
    QString m_requested;
    QString m_error;
    quint64 m_attempt = 0;
    QList<QPointer<QThread>> m_retired; // delete themselves when finished
};

} // namespace edgelens
