#include "detectionserver.h"

#include "detectionengine.h"
#include "detectionservice.h"
#include "tcplistener.h"
#include "tlsidentity.h"
#include "tlslistener.h"

#include "detector/detector.h"
#include "models/modelcatalog.h"
#include "protocol/protocol.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QLoggingCategory>

#include <opencv2/core/version.hpp>

Q_LOGGING_CATEGORY(lcServer, "edgelens.server")

namespace edgelens {

namespace {

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
    // Before the service goes: their connections' sessions hold on to it.
    qDeleteAll(findChildren<Listener *>(QString(), Qt::FindDirectChildrenOnly));
    // Then the engine (waits for running jobs), then the service.
    m_engine.reset();
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
        || m_config.maxQueued < 1
        || m_config.idleTimeoutMs < 1 || m_config.maxFrameBytes < 1 || m_config.maxPixels < 1) {
        *error = QStringLiteral("invalid server configuration: workers, limits and timeouts must be positive");
        m_startFailure = StartFailure::BadConfig;
        return false;
    }
    if (m_config.tls && m_config.proxyProtocol) {
        *error = QStringLiteral("the PROXY protocol works on plaintext ports only; a load balancer in front "
                                "terminates TLS itself");
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

    const auto abandoned = [this, error] {
        if (!m_abandoned.load())
            return false;
        *error = QStringLiteral("the server was stopped while it was starting");
        m_startFailure = StartFailure::Abandoned;
        m_engine.reset();
        return true;
    };
    if (abandoned())
        return false;
    QList<ModelManifest> models;
    if (!resolveModels(&models, error))
        return false;

    m_engine = std::make_unique<DetectionEngine>();
    if (!m_engine->load(models, m_config.workers, m_config.effectiveThreads(), m_config.backend, error)) {
        m_startFailure = StartFailure::ModelLoad;
        m_engine.reset();
        return false;
    }
    // Loading takes seconds; whoever stopped the server meanwhile must not find it listening.
    if (abandoned())
        return false;
    if (usingFallback()) {
        qCWarning(lcServer).noquote()
            << "*** NO DNN MODEL FOUND: serving the fallback detector" << m_engine->model(0).name << "("
                   + m_engine->model(0).description
                   + "). Results will be poor. Run `edgelens-cli models download` or pass --model. ***";
    }
    m_serverInfo = buildServerInfo();
    m_engine->setMaxQueued(m_config.maxQueued);
    m_service = std::make_unique<DetectionService>(m_engine.get(), &m_config, m_serverInfo);

    const auto fail = [this](StartFailure failure) {
        stop();
        qDeleteAll(findChildren<Listener *>(QString(), Qt::FindDirectChildrenOnly));
        m_engine.reset();
        m_service.reset();
        m_startFailure = failure;
        return false;
    };
    Listener *primary = nullptr;
    m_tlsFingerprint.clear();
    m_tlsIdentity.reset();
    if (m_config.tls) {
        const std::optional<TlsIdentity> identity =
            TlsIdentity::loadOrCreate(m_config.tlsCertificateFile, m_config.tlsKeyFile, error);
        if (!identity)
            return fail(StartFailure::BadConfig);
        m_tlsFingerprint = identity->fingerprint();
        qCInfo(lcServer).noquote() << "TLS certificate" << m_tlsFingerprint << "(" + identity->certificatePath
                + (identity->created ? QStringLiteral(", created now") : QString()) + ")";
        m_tlsIdentity = identity;
        primary = new TlsListener(*identity, m_service.get(), &m_config);
    } else {
        primary = new TcpListener(m_service.get(), &m_config);
    }
    if (!addListener(primary, m_config.host, m_config.port, error))
        return fail(StartFailure::Listen);
    m_plainListener = nullptr;
    if (m_config.plainPort >= 0) {
        auto *plain = new TcpListener(m_service.get(), &m_config);
        if (!addListener(plain, m_config.host, quint16(m_config.plainPort), error))
            return fail(StartFailure::Listen);
        m_plainListener = plain;
        qCWarning(lcServer).noquote() << "also serving plaintext on" << hostText(plain->serverAddress()) + QLatin1Char(':')
                + QString::number(plain->serverPort()) << "(--plain-port): images, results and tokens cross the network unencrypted there";
    }
    m_startFailure = StartFailure::None;
    qCInfo(lcServer).noquote() << "serving" << m_engine->modelNames().join(QStringLiteral(", ")) << "on"
                               << listenAddress() << "with" << m_engine->workerCount() << "workers x"
                               << m_engine->threadsPerForward() << "OpenCV threads"
                               << (m_config.token.isEmpty() ? QStringLiteral("(legacy and v2)")
                                                            : QStringLiteral("(v2 with token only)"))
                               << (m_config.tls ? QStringLiteral("over TLS") : QStringLiteral("in plaintext"));
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
        {QStringLiteral("tls"), false}, // per connection: V2Session says whether its own is
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
             {QStringLiteral("max_queued"), m_config.maxQueued},
             {QStringLiteral("idle_timeout_ms"), m_config.idleTimeoutMs},
             {QStringLiteral("workers"), m_engine->workerCount()},
         }},
    };
}

DetectionService *DetectionServer::service() const
{
    return m_service.get();
}

bool DetectionServer::addListener(Listener *listener, const QHostAddress &host, quint16 port, QString *error)
{
    QString dummy;
    if (!error)
        error = &dummy;
    if (!m_service) {
        delete listener;
        *error = QStringLiteral("the server is not running");
        return false;
    }
    listener->setParent(this);
    QString why;
    if (!listener->listen(host, port, &why)) {
        *error = QStringLiteral("cannot listen on %1:%2 (%3): %4").arg(hostText(host)).arg(port).arg(listener->kind(), why);
        delete listener;
        return false;
    }
    connect(listener, &Listener::drained, this, &DetectionServer::listenerDrained);
    m_listeners.append(listener);
    return true;
}

Listener *DetectionServer::primaryListener() const
{
    return m_listeners.isEmpty() ? nullptr : m_listeners.first();
}

bool DetectionServer::isListening() const
{
    return primaryListener() && primaryListener()->isListening();
}

quint16 DetectionServer::serverPort() const
{
    return isListening() ? primaryListener()->serverPort() : 0;
}

QHostAddress DetectionServer::serverAddress() const
{
    return isListening() ? primaryListener()->serverAddress() : QHostAddress();
}

QString DetectionServer::listenAddress() const
{
    return hostText(isListening() ? primaryListener()->serverAddress() : m_config.host) + QLatin1Char(':')
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

QString DetectionServer::tlsFingerprint() const
{
    return m_tlsFingerprint;
}

quint16 DetectionServer::plainPort() const
{
    return m_plainListener && m_listeners.contains(m_plainListener) ? m_plainListener->serverPort() : 0;
}

int DetectionServer::connectionCount() const
{
    int count = 0;
    for (const Listener *l : m_listeners)
        count += l->connectionCount();
    return count;
}

void DetectionServer::drain(int timeoutMs)
{
    if (m_draining)
        return;
    m_draining = true;
    int running = 0;
    for (const Listener *l : std::as_const(m_listeners))
        running += l->runningRequests();
    qCInfo(lcServer).noquote() << "shutting down:" << connectionCount() << "connections," << running
                               << "requests running; waiting up to" << timeoutMs << "ms";
    m_listenersDraining = int(m_listeners.size());
    m_drainTimer.start(qMax(0, timeoutMs));
    const QList<Listener *> listeners = m_listeners;
    for (Listener *l : listeners)
        l->drain(); // may emit drained() at once
}

void DetectionServer::listenerDrained()
{
    if (m_draining && --m_listenersDraining <= 0) {
        // Not from inside the listener's signal: finishing deletes it.
        QMetaObject::invokeMethod(this, &DetectionServer::finishDrain, Qt::QueuedConnection);
    }
}

void DetectionServer::finishDrain()
{
    if (!m_draining)
        return;
    m_drainTimer.stop();
    if (connectionCount() > 0)
        qCWarning(lcServer) << "shutdown timeout:" << connectionCount() << "connections aborted";
    stop();
    emit drained();
}

void DetectionServer::stop()
{
    m_draining = false;
    m_drainTimer.stop();
    for (Listener *l : std::as_const(m_listeners)) {
        disconnect(l, nullptr, this, nullptr);
        l->stop();
        l->deleteLater();
    }
    m_listeners.clear();
    m_plainListener = nullptr;
    if (m_service)
        m_service->cancelAll(); // running jobs finish; their answers are dropped
}

} // namespace edgelens
