#include "embeddedserver.h"

#include "net/detectionserver.h"
#include "models/modelcatalog.h"
#include "net/serverconfig.h"

#include <QLoggingCategory>
#include <QPointer>
#include <QThread>

Q_LOGGING_CATEGORY(lcEmbedded, "edgelens.app.embedded")

namespace edgelens {

EmbeddedServer::EmbeddedServer(QObject *parent)
    : QObject(parent)
{
}

EmbeddedServer::~EmbeddedServer()
{
    stop();
    // The app is going away: the retired servers' threads must end before their objects do.
    for (const QPointer<QThread> &thread : std::as_const(m_retired)) {
        if (thread) {
            thread->wait();
            delete thread.data();
        }
    }
}

int EmbeddedServer::retiredCount() const
{
    int count = 0;
    for (const QPointer<QThread> &thread : m_retired)
        count += (thread && !thread->isFinished()) ? 1 : 0;
    return count;
}

void EmbeddedServer::start(const QString &model)
{
    if (m_state == State::Starting && model == m_requested)
        return;
    if (m_state == State::Running && model == m_requested)
        return;
    stop();
    m_requested = model;
    m_error.clear();
    m_port = 0;
    m_modelName.clear();
    const quint64 attempt = ++m_attempt;
    setState(State::Starting);

    // The server lives on its own thread: loading a model takes a while, and its sockets then
    // never compete with the gallery's painting. Inference runs on the server's worker pool.
    // Not a child: a retired thread may outlive this object's wish to stop it.
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("embedded-server"));
    m_server = new DetectionServer;
    m_server->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_server, &QObject::deleteLater);
    m_thread->start();

    ServerConfig config = ServerConfig::embedded();
    if (!model.isEmpty())
        config.modelPaths = {model};
    const bool resolveDefault = model.isEmpty();
    // The app sends several images at once; more workers than cores would only contend.
    config.workers = qBound(1, QThread::idealThreadCount(), 4);
    QPointer<EmbeddedServer> self(this);
    DetectionServer *server = m_server;
    m_abandoned = std::make_shared<std::atomic<bool>>(false);
    QMetaObject::invokeMethod(server, [this, self, server, config, attempt, resolveDefault, abandoned = m_abandoned]() mutable {
        if (abandoned->load())
            return; // stopped before the load began: nobody waits for this server any more
        // `this` outlives the thread: the destructor waits for every server thread.
        emit loadBegan();
        QString error;
        if (resolveDefault) {
            // One model in memory, not every model found: the app uses one at a time.
            const ModelCatalog catalog;
            if (const std::optional<ModelManifest> m = catalog.defaultModel())
                config.models = {*m};
        }
        // A stop() from now on reaches start() through abandonStart(): it gives up before listening.
        const bool ok = server->start(config, &error);
        if (abandoned->load()) {
            emit abandonedStartEnded(ok);
            return; // nobody waits for it; the retired server's queued stop() closes what it opened
        }
        const quint16 port = ok ? server->serverPort() : 0;
        const QString modelName = ok ? server->modelNames().value(0) : QString();
        const QString fallbackNote = ok && server->usingFallback()
            ? QStringLiteral(" (fallback: no DNN model found)")
            : QString();
        // Back to the GUI thread; the window may be gone by then.
        QMetaObject::invokeMethod(self.data(), [self, attempt, port, modelName, fallbackNote, error] {
            if (self)
                self->finishStart(attempt, port, modelName + fallbackNote, error);
        }, Qt::QueuedConnection);
    }, Qt::QueuedConnection);
}

void EmbeddedServer::finishStart(quint64 attempt, quint16 port, const QString &modelName, const QString &error)
{
    if (attempt != m_attempt)
        return; // superseded by a later start() or stop()
    if (port == 0) {
        m_error = error.isEmpty() ? tr("unknown error") : error;
        qCWarning(lcEmbedded) << "embedded server failed to start:" << m_error;
        setState(State::Failed);
        emit failed(errorSummary());
        return;
    }
    m_port = port;
    m_modelName = modelName;
    qCInfo(lcEmbedded) << "embedded server on 127.0.0.1:" << port << "model" << modelName;
    setState(State::Running);
    emit started(port, modelName);
}

void EmbeddedServer::stop()
{
    ++m_attempt;
    if (m_thread)
        retireCurrent();
    m_port = 0;
    if (m_state != State::Stopped && m_state != State::Failed)
        setState(State::Stopped);
}

void EmbeddedServer::retireCurrent()
{
    QThread *thread = m_thread;
    DetectionServer *server = m_server;
    m_thread = nullptr;
    m_server = nullptr;
    if (m_abandoned)
        m_abandoned->store(true);
    m_abandoned.reset();
    server->abandonStart(); // thread-safe: a load in progress ends without listening
    // Queued behind the start (the model load) when that is still running: the GUI thread
    // never waits for it. stop() runs in the server's thread, where its sockets live; the
    // thread then ends, which deletes the server (finished -> deleteLater) and the thread.
    QMetaObject::invokeMethod(server, [server] {
        server->stop();
        QThread::currentThread()->quit();
    }, Qt::QueuedConnection);
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    m_retired.removeAll(QPointer<QThread>());
    m_retired.append(thread);
    qCDebug(lcEmbedded) << "retired the embedded server; it stops once its current work ends";
}

void EmbeddedServer::setState(State state)
{
    if (state == m_state)
        return;
    m_state = state;
    emit stateChanged(state);
}

} // namespace edgelens
