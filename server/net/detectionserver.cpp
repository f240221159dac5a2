#include "detectionserver.h"

#include "clientconnection.h"
#include "detectionengine.h"

#include "detector/detector.h"
#include "models/modelcatalog.h"
#include "protocol/protocol.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QTcpServer>
#include <QTcpSocket>

#include <opencv2/core/version.hpp>

Q_LOGGING_CATEGORY(lcServer, "edgelens.server")

namespace edgelens {

namespace {

// Refused connections are held only long enough to learn their protocol; past this many
// more, new ones are dropped without a word so a connection flood costs nothing.
constexpr int kMaxRefusedConnections = 32;

// Debian's OpenCV has no OpenVINO or CUDA: the log says so, rather than leaving the user to
// wonder why --backend cuda is refused.
QString unavailableBackendsNote()
{
    QStringList missing;
    for (const QString &name : knownBackends()) {
        if (!availableBackends().contains(name))
            missing.append(name);
    }
    return missing.isEmpty() ? QString()
                             : QStringLiteral("(not in this OpenCV %1 build: %2)")
                                   .arg(QStringLiteral(CV_VERSION), missing.join(QStringLiteral(", ")));
}

QString hostText(const QHostAddress &address)
{
    if (address == QHostAddress::Any || address == QHostAddress::AnyIPv4)
        return QStringLiteral("0.0.0.0");
    if (address.protocol() == QAbstractSocket::IPv6Protocol)
        return QLatin1Char('[') + address.toString() + QLatin1Char(']');
    return address.toString();
}

} // namespace

DetectionServer::DetectionServer(QObject *parent)
    : QObject(parent)
{
    m_drainTimer.setSingleShot(true);
    connect(&m_drainTimer, &QTimer::timeout, this, &DetectionServer::finishDrain);
}

DetectionServer::~DetectionServer()
{
    stop();
    // Connections are children and go with us; the engine waits for running jobs.
}

bool DetectionServer::start(const ServerConfig &config, QString *error)
{
    QString dummy;
    if (!error)
        error = &dummy;
    if (isListening()) {
        *error = QStringLiteral("the server is already running on %1").arg(listenAddress());
        m_startFailure = StartFailure::BadConfig;
        return false;
    }
    m_config = config;
    m_draining = false;
    if (m_config.workers < 1 || m_config.maxConnections < 1 || m_config.maxInFlightPerConnection < 1
        || m_config.idleTimeoutMs < 1 || m_config.maxFrameBytes < 1 || m_config.maxPixels < 1) {
        *error = QStringLiteral("invalid server configuration: workers, limits and timeouts must be positive");
        m_startFailure = StartFailure::BadConfig;
        return false;
    }
    m_config.maxFrameBytes = qMin(m_config.maxFrameBytes, protocol::kMaxFrameLimit);
    // Checked before any model loads: a backend this OpenCV lacks would otherwise surface as
    // every model failing to load.
    m_config.backend = m_config.effectiveBackend();
    if (!ServerConfig::checkBackend(m_config.backend, error)) {
        m_startFailure = StartFailure::BadConfig;
        return false;
    }

    QList<ModelManifest> models;
    if (!resolveModels(&models, error))
        return false;

    m_engine = std::make_unique<DetectionEngine>();
    if (!m_engine->load(models, m_config.workers, m_config.effectiveThreads(), m_config.backend, error)) {
        m_startFailure = StartFailure::ModelLoad;
        m_engine.reset();
        return false;
    }
    if (usingFallback()) {
        qCWarning(lcServer).noquote()
            << "*** NO DNN MODEL FOUND: serving the fallback detector" << m_engine->model(0).name << "("
                   + m_engine->model(0).description
                   + "). Results will be poor. Run `edgelens-cli models download` or pass --model. ***";
    }
    m_serverInfo = buildServerInfo();

    m_tcpServer = new QTcpServer(this);
    m_tcpServer->setMaxPendingConnections(m_config.maxConnections + kMaxRefusedConnections);
    connect(m_tcpServer, &QTcpServer::newConnection, this, &DetectionServer::acceptConnections);
    if (!m_tcpServer->listen(m_config.host, m_config.port)) {
        *error = QStringLiteral("cannot listen on %1:%2: %3")
                     .arg(hostText(m_config.host))
                     .arg(m_config.port)
                     .arg(m_tcpServer->errorString());
        delete m_tcpServer;
        m_tcpServer = nullptr;
        m_engine.reset();
        m_startFailure = StartFailure::Listen;
        return false;
    }
    m_startFailure = StartFailure::None;
    qCInfo(lcServer).noquote() << "serving" << m_engine->modelNames().join(QStringLiteral(", ")) << "on"
                               << listenAddress() << "with" << m_engine->workerCount() << "workers x"
                               << m_engine->threadsPerForward() << "OpenCV threads"
                               << (m_config.token.isEmpty() ? QStringLiteral("(legacy and v2)")
                                                            : QStringLiteral("(v2 with token only)"));
    qCInfo(lcServer).noquote() << "inference backend" << m_config.backend << "(" + m_engine->backend(0) + "); available:"
                               << availableBackends().join(QStringLiteral(", ")) << unavailableBackendsNote();
    return true;
}

bool DetectionServer::resolveModels(QList<ModelManifest> *models, QString *error)
{
    if (!m_config.models.isEmpty()) {
        *models = m_config.models;
    } else {
        ModelCatalog::Options options;
        for (const QString &path : std::as_const(m_config.modelPaths)) {
            if (QFileInfo::exists(path))
                options.explicitPaths.append(path);
        }
        for (const QString &dir : std::as_const(m_config.modelDirs)) {
            if (!QFileInfo(dir).isDir()) {
                *error = QStringLiteral("--models-dir %1: no such folder").arg(dir);
                m_startFailure = StartFailure::BadConfig;
                return false;
            }
            options.explicitPaths.append(dir);
        }
        const ModelCatalog catalog(options);

        if (!m_config.modelPaths.isEmpty()) {
            for (const QString &path : std::as_const(m_config.modelPaths)) {
                std::optional<ModelManifest> found = catalog.find(path);
                if (!found) {
                    *error = QStringLiteral("--model %1: no model file, folder, manifest or catalog name matches.\n")
                                 .arg(path)
                        + catalog.describeSearch();
                    m_startFailure = StartFailure::NoModel;
                    return false;
                }
                if (!found->isComplete()) {
                    *error = QStringLiteral("--model %1: model %2 is missing %3.\n")
                                 .arg(path, found->name, found->missingFiles().join(QStringLiteral(", ")))
                        + catalog.describeSearch();
                    m_startFailure = StartFailure::NoModel;
                    return false;
                }
                models->append(*found);
            }
        } else {
            std::optional<ModelManifest> chosen = catalog.find(ModelCatalog::defaultModelName());
            if (!chosen || !chosen->isComplete())
                chosen = catalog.defaultModel();
            if (!chosen) {
                *error = QStringLiteral("no detection model found.\n") + catalog.describeSearch();
                m_startFailure = StartFailure::NoModel;
                return false;
            }
            models->append(*chosen);
            // Every other usable DNN model is offered too; v2 clients pick one by name.
            if (!chosen->fallback) {
                for (const ModelManifest &m : catalog.all()) {
                    if (m.name != chosen->name && m.isComplete() && !m.fallback && m.family != QLatin1String("cascade"))
                        models->append(m);
                }
            }
        }
    }
    if (!m_config.defaultModel.isEmpty()) {
        const auto it = std::find_if(models->begin(), models->end(),
                                     [&](const ModelManifest &m) { return m.name == m_config.defaultModel; });
        if (it == models->end()) {
            *error = QStringLiteral("default model %1 is not among the served models").arg(m_config.defaultModel);
            m_startFailure = StartFailure::BadConfig;
            return false;
        }
        std::rotate(models->begin(), it, it + 1);
    }
    // Two entries of one name would make the later one unreachable by name.
    QSet<QString> seen;
    models->erase(std::remove_if(models->begin(), models->end(),
                                 [&](const ModelManifest &m) {
                                     const bool duplicate = seen.contains(m.name);
                                     seen.insert(m.name);
                                     return duplicate;
                                 }),
                  models->end());
    return true;
}

QJsonObject DetectionServer::buildServerInfo() const
{
    const ModelManifest &fallbackCandidate = m_engine->model(0);
    return {
        {QStringLiteral("software"), QStringLiteral("EdgeLens")},
        {QStringLiteral("version"), QStringLiteral(EDGELENS_VERSION)},
        {QStringLiteral("protocol_version"), int(protocol::kVersion)},
        {QStringLiteral("models"), m_engine->modelsJson()},
        {QStringLiteral("default_model"), fallbackCandidate.name},
        {QStringLiteral("fallback"), fallbackCandidate.fallback},
        {QStringLiteral("backend"), m_config.backend},
        {QStringLiteral("backend_description"), m_engine->backend(0)},
        {QStringLiteral("available_backends"), QJsonArray::fromStringList(availableBackends())},
        {QStringLiteral("opencv_threads"), m_engine->threadsPerForward()},
        {QStringLiteral("auth_required"), !m_config.token.isEmpty()},
        {QStringLiteral("legacy_accepted"), m_config.token.isEmpty()},
        {QStringLiteral("defaults"),
         QJsonObject{
             {QStringLiteral("confidence"), double(m_config.confidence)},
             {QStringLiteral("nms_iou"), double(m_config.nmsIou)},
             {QStringLiteral("max_detections"), DetectOptions().maxDetections},
             {QStringLiteral("jpeg_quality"), DetectOptions().jpegQuality},
         }},
        {QStringLiteral("limits"),
         QJsonObject{
             {QStringLiteral("max_frame_bytes"), qint64(m_config.maxFrameBytes)},
             {QStringLiteral("max_pixels"), m_config.maxPixels},
             {QStringLiteral("max_connections"), m_config.maxConnections},
             {QStringLiteral("max_in_flight"), m_config.maxInFlightPerConnection},
             {QStringLiteral("idle_timeout_ms"), m_config.idleTimeoutMs},
             {QStringLiteral("workers"), m_engine->workerCount()},
         }},
    };
}

bool DetectionServer::isListening() const
{
    return m_tcpServer && m_tcpServer->isListening();
}

quint16 DetectionServer::serverPort() const
{
    return isListening() ? m_tcpServer->serverPort() : 0;
}

QHostAddress DetectionServer::serverAddress() const
{
    return isListening() ? m_tcpServer->serverAddress() : QHostAddress();
}

QString DetectionServer::listenAddress() const
{
    return hostText(isListening() ? m_tcpServer->serverAddress() : m_config.host) + QLatin1Char(':')
        + QString::number(serverPort());
}

QJsonObject DetectionServer::serverInfo() const
{
    return m_serverInfo;
}

QStringList DetectionServer::modelNames() const
{
    return m_engine ? m_engine->modelNames() : QStringList();
}

bool DetectionServer::usingFallback() const
{
    return m_engine && m_engine->modelCount() > 0
        && (m_engine->model(0).fallback || m_engine->model(0).family == QLatin1String("cascade"));
}

int DetectionServer::connectionCount() const
{
    return int(m_connections.size());
}

void DetectionServer::acceptConnections()
{
    while (m_tcpServer && m_tcpServer->hasPendingConnections()) {
        QTcpSocket *socket = m_tcpServer->nextPendingConnection();
        if (m_draining) {
            socket->abort();
            socket->deleteLater();
            continue;
        }
        const bool full = m_connections.size() >= m_config.maxConnections;
        if (full && m_refused.size() >= kMaxRefusedConnections) {
            qCWarning(lcServer).noquote() << ClientConnection::peerName(socket)
                                          << "dropped: connection limit reached and too many refusals pending";
            socket->abort();
            socket->deleteLater();
            continue;
        }
        ClientConnection::Context context{m_engine.get(), &m_config, m_serverInfo};
        auto *connection = new ClientConnection(socket, context, this);
        connect(connection, &ClientConnection::closed, this,
                [this, connection] { forgetConnection(connection); });
        if (full) {
            m_refused.insert(connection);
            connection->refuse(protocol::ErrorCode::Busy,
                               QStringLiteral("the server already has %1 connections (its limit); try again later")
                                   .arg(m_connections.size()));
        } else {
            m_connections.insert(connection);
        }
    }
}

void DetectionServer::forgetConnection(ClientConnection *connection)
{
    m_connections.remove(connection);
    m_refused.remove(connection);
    if (m_draining && m_connections.isEmpty() && m_refused.isEmpty())
        finishDrain();
}

void DetectionServer::drain(int timeoutMs)
{
    if (m_draining)
        return;
    m_draining = true;
    if (m_tcpServer)
        m_tcpServer->close();
    int running = 0;
    for (ClientConnection *c : std::as_const(m_connections))
        running += c->inFlight();
    qCInfo(lcServer).noquote() << "shutting down:" << m_connections.size() << "connections," << running
                               << "requests running; waiting up to" << timeoutMs << "ms";
    const QList<ClientConnection *> all = (m_connections + m_refused).values();
    for (ClientConnection *c : all)
        c->drain(); // may close synchronously and call forgetConnection
    if (m_connections.isEmpty() && m_refused.isEmpty()) {
        QMetaObject::invokeMethod(this, &DetectionServer::finishDrain, Qt::QueuedConnection);
        return;
    }
    m_drainTimer.start(qMax(0, timeoutMs));
}

void DetectionServer::finishDrain()
{
    if (!m_draining)
        return;
    m_drainTimer.stop();
    if (!m_connections.isEmpty() || !m_refused.isEmpty())
        qCWarning(lcServer) << "shutdown timeout:" << m_connections.size() << "connections aborted";
    stop();
    emit drained();
}

void DetectionServer::stop()
{
    m_draining = false;
    m_drainTimer.stop();
    if (m_tcpServer) {
        m_tcpServer->close();
        m_tcpServer->deleteLater();
        m_tcpServer = nullptr;
    }
    const QList<ClientConnection *> all = (m_connections + m_refused).values();
    m_connections.clear();
    m_refused.clear();
    for (ClientConnection *c : all) {
        disconnect(c, nullptr, this, nullptr);
        c->abort();
    }
    if (m_engine) {
        m_engine->cancelQueued();
        // Running jobs hold no pointer to connections; their results are simply dropped.
    }
}

} // namespace edgelens
