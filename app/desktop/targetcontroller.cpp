#include "targetcontroller.h"

#include "results/annotation.h"

#include "client/detectionclient.h"
#include "embeddedserver.h"
#include "gallerymodel.h"
#include "processingqueue.h"
#include "statuspresenter.h"
#include "widgets/tokenstore.h"

#include <QLoggingCategory>

#include <algorithm>

Q_LOGGING_CATEGORY(lcTargetController, "edgelens.app.target")

namespace edgelens {

TargetController::TargetController(GalleryModel *model, ProcessingQueue *queue, DetectionClient *client,
                                   EmbeddedServer *embedded, StatusPresenter *status, QObject *parent)
    : QObject(parent)
    , m_model(model)
    , m_queue(queue)
    , m_client(client)
    , m_embedded(embedded)
    , m_status(status)
    , m_tokenStore(new TokenStore(this))
{
    connect(m_tokenStore, &TokenStore::loaded, this, [this](const QString &token) {
        if (!m_tokenChosen)
            setToken(token);
    });
    m_tokenStore->read();

    connect(m_embedded, &EmbeddedServer::started, this, [this](quint16, const QString &modelName) {
        if (m_settings.target == AppSettings::Target::Embedded)
            m_status->setServerDescription(modelName);
        pushDevices();
        // What the model recommends (its threshold) comes with the server's description.
        m_client->requestServerInfo();
    });
    connect(m_embedded, &EmbeddedServer::failed, this, [this](const QString &reason) {
        pushDevices();
        if (m_queue->isTargetReady()) {
            // The devices carry on without the local machine's help.
            m_status->showError(tr("The embedded server could not start (the devices carry on without it): %1")
                                    .arg(reason));
            return;
        }
        // Nothing may wait forever for a server that will not come: fail what is queued.
        const int failed = m_queue->failQueued(tr("embedded server could not start: %1").arg(reason));
        m_status->showError(tr("The embedded server could not start: %1").arg(reason));
        qCWarning(lcTargetController) << "embedded server failed:" << reason << "-" << failed << "images failed";
    });
}

bool TargetController::targetDiffers(const AppSettings &a, const AppSettings &b)
{
    const bool embeddedUsed = b.target == AppSettings::Target::Embedded || b.embeddedJoins;
    return a.target != b.target || a.remoteDevices() != b.remoteDevices() || a.embeddedJoins != b.embeddedJoins
        || (a.token && b.token && *a.token != *b.token) || (embeddedUsed && a.model != b.model);
}

void TargetController::setToken(const QString &token)
{
    if (token == m_token)
        return;
    m_token = token;
    m_client->setToken(token);
    emit tokenChanged(token);
}

void TargetController::apply(const AppSettings &settings)
{
    const bool targetChanged = !m_applied || targetDiffers(m_settings, settings);
    m_settings = settings;
    m_applied = true;
    if (settings.token) {
        m_tokenChosen = true;
        setToken(*settings.token);
    }

    DetectOptions detect;
    // Down to a low floor: the detail view reveals boxes below the shown threshold locally.
    ThresholdPolicy policy;
    policy.userThreshold = m_settings.confidence;
    detect.confidence = float(policy.requestConfidence());
    detect.nmsIou = float(m_settings.nmsIou);
    detect.jpegQuality = m_settings.jpegQuality;
    // The embedded server was started with the chosen model; a remote one uses its default
    // unless the user named one.
    if (m_settings.target == AppSettings::Target::Remote)
        detect.model = m_settings.model;
    m_queue->setDetectOptions(detect);
    ProcessingQueue::OutputOptions out;
    out.directory = m_settings.outputDir;
    out.jsonSidecars = m_settings.jsonSidecars;
    m_queue->setOutputOptions(out);
    ProcessingQueue::TransferSettings transfer;
    transfer.sendOriginalFiles = m_settings.sendOriginalFiles;
    transfer.resultMaxSide = m_settings.resultMaxSide;
    m_queue->setTransferSettings(transfer);
    m_client->setTimeout(m_settings.timeoutMs);
    m_queue->setMaxInFlight(m_settings.maxInFlight);

    if (targetChanged || !m_queue->isTargetReady())
        applyTarget();
}

QList<DeviceSpec> TargetController::deviceSpecs() const
{
    QList<DeviceSpec> specs;
    if (m_settings.target == AppSettings::Target::Remote) {
        const QList<AppSettings::Device> devices = m_settings.remoteDevices();
        for (const AppSettings::Device &device : devices)
            specs.append(device.toSpec());
    }
    if (embeddedUsed() && m_embedded->state() == EmbeddedServer::State::Running
        && m_embedded->requestedModel() == m_settings.model) {
        DeviceSpec local;
        local.host = QStringLiteral("127.0.0.1");
        local.port = m_embedded->port();
        local.protocol = DeviceSpec::Protocol::V2; // it is ours: nothing to probe
        local.label = DeviceSpec::embeddedLabel(); // its port changes every run; its results' name must not
        specs.append(local);
    }
    return specs;
}

bool TargetController::embeddedUsed() const
{
    return m_settings.target == AppSettings::Target::Embedded || m_settings.embeddedJoins;
}

void TargetController::pushDevices()
{
    const QList<DeviceSpec> specs = deviceSpecs();
    const bool anyEnabled = std::any_of(specs.cbegin(), specs.cend(), [](const DeviceSpec &d) { return d.enabled; });
    // Without any device the client keeps what it had and the queue waits (the embedded
    // server is starting); an empty pool would fail the queue at once.
    if (!specs.isEmpty())
        m_client->setDevices(specs);
    m_status->setDevices(specs);
    if (anyEnabled != m_queue->isTargetReady() || anyEnabled)
        m_queue->setTargetReady(anyEnabled);
}

void TargetController::applyTarget()
{
    m_status->resetConnectionDetails();
    m_status->setTarget(m_settings.target, m_settings.embeddedJoins);
    if (!embeddedUsed())
        m_embedded->stop(); // returns at once; a model still loading finishes on its own thread
    if (m_settings.target == AppSettings::Target::Remote) {
        pushDevices();
        if (m_settings.embeddedJoins)
            startEmbedded();
        if (m_queue->isTargetReady())
            m_client->requestServerInfo();
    } else {
        m_queue->setTargetReady(false);
        // Started on demand: an empty gallery does not need a model in memory.
        if (m_embedded->state() != EmbeddedServer::State::Stopped || m_model->rowCount() > 0 || m_queue->isBusy())
            ensureReady();
    }
}

void TargetController::ensureReady()
{
    // The user asked to send again: devices refused before (not trusted, a wrong token) get
    // another chance, which asks again rather than failing silently.
    m_client->retryRefusedDevices();
    if (m_settings.target == AppSettings::Target::Remote) {
        if (m_settings.embeddedJoins)
            startEmbedded();
        return;
    }
    const bool sameModel = m_embedded->requestedModel() == m_settings.model;
    const EmbeddedServer::State state = m_embedded->state();
    if (sameModel && (state == EmbeddedServer::State::Starting || state == EmbeddedServer::State::Running)) {
        if (state == EmbeddedServer::State::Running)
            pushDevices();
        return;
    }
    m_queue->setTargetReady(false);
    if (state == EmbeddedServer::State::Running || state == EmbeddedServer::State::Starting)
        m_queue->requeueInFlight(); // the old server is about to stop: take its work back first
    m_embedded->start(m_settings.model);
    m_status->updateConnectionStatus();
}

void TargetController::startEmbedded()
{
    // The embedded server joins the devices: they work while it loads its model, and it is
    // added to the pool once it listens (a restart with another model leaves the pool first).
    const bool sameModel = m_embedded->requestedModel() == m_settings.model;
    const EmbeddedServer::State state = m_embedded->state();
    if (sameModel && (state == EmbeddedServer::State::Starting || state == EmbeddedServer::State::Running))
        return;
    m_embedded->start(m_settings.model);
    pushDevices();
}

} // namespace edgelens
