#include "targetcontroller.h"

#include "client/annotation.h"

#include "client/detectionclient.h"
#include "embeddedserver.h"
#include "gallerymodel.h"
#include "processingqueue.h"
#include "statuspresenter.h"
#include "widgets/tokenstore.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcTargetController, "edgelens.app.target")

namespace edgelens {

namespace {

DetectionClient::Protocol toClientProtocol(AppSettings::Protocol p)
{
    switch (p) {
    case AppSettings::Protocol::V2:
        return DetectionClient::Protocol::V2;
    case AppSettings::Protocol::Legacy:
        return DetectionClient::Protocol::Legacy;
    case AppSettings::Protocol::DeepStack:
        return DetectionClient::Protocol::DeepStack;
    case AppSettings::Protocol::Auto:
        break;
    }
    return DetectionClient::Protocol::Auto;
}

AppSettings::Device firstEnabledDevice(const AppSettings &settings)
{
    const QList<AppSettings::Device> devices = settings.remoteDevices();
    for (const AppSettings::Device &device : devices) {
        if (device.enabled)
            return device;
    }
    return devices.value(0);
}

} // namespace

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

    connect(m_embedded, &EmbeddedServer::started, this, [this](quint16 port, const QString &modelName) {
        m_status->setServerDescription(modelName);
        m_client->setTarget(QStringLiteral("127.0.0.1"), port);
        m_client->setProtocol(DetectionClient::Protocol::V2);
        m_queue->setTargetReady(true);
        m_client->requestServerInfo();
    });
    connect(m_embedded, &EmbeddedServer::failed, this, [this](const QString &reason) {
        // Nothing may wait forever for a server that will not come: fail what is queued.
        m_queue->setTargetReady(false);
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
    m_status->setTarget(m_settings.target, firstEnabledDevice(m_settings).connectHost(), firstEnabledDevice(m_settings).port);
}

void TargetController::applyTarget()
{
    m_status->resetConnectionDetails();
    m_status->setTarget(m_settings.target, firstEnabledDevice(m_settings).connectHost(), firstEnabledDevice(m_settings).port);
    if (m_settings.target == AppSettings::Target::Remote) {
        m_embedded->stop();
        const AppSettings::Device device = firstEnabledDevice(m_settings);
        m_client->setProtocol(toClientProtocol(device.protocol));
        m_client->setTarget(device.connectHost(), device.port);
        m_queue->setTargetReady(true);
        if (device.protocol != AppSettings::Protocol::Legacy)
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
    if (m_settings.target != AppSettings::Target::Embedded)
        return;
    const bool sameModel = m_embedded->requestedModel() == m_settings.model;
    const EmbeddedServer::State state = m_embedded->state();
    if (sameModel && (state == EmbeddedServer::State::Starting || state == EmbeddedServer::State::Running)) {
        if (state == EmbeddedServer::State::Running)
            m_queue->setTargetReady(true);
        return;
    }
    m_queue->setTargetReady(false);
    if (state == EmbeddedServer::State::Running || state == EmbeddedServer::State::Starting)
        m_queue->requeueInFlight(); // the old server is about to stop: take its work back first
    m_embedded->start(m_settings.model);
    m_status->updateConnectionStatus();
}

} // namespace edgelens
