#include "statuspresenter.h"

#include "client/detectionclient.h"
#include "client/servedmodel.h"
#include "embeddedserver.h"
#include "gallerymodel.h"
#include "processingqueue.h"
#include "widgets/connectiontester.h"

#include <QJsonObject>
#include <QLabel>
#include <QLoggingCategory>
#include <QMap>
#include <QSet>
#include <QProgressBar>
#include <QStatusBar>
#include <QTimer>

Q_LOGGING_CATEGORY(lcStatusPresenter, "edgelens.app.status")

namespace edgelens {

namespace {

QString formatDuration(qint64 ms)
{
    if (ms < 0)
        return QStringLiteral("–");
    const qint64 s = (ms + 999) / 1000;
    if (s >= 3600)
        return QStringLiteral("%1:%2:%3").arg(s / 3600).arg((s / 60) % 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

} // namespace

StatusPresenter::StatusPresenter(QStatusBar *bar, GalleryModel *model, ProcessingQueue *queue, DetectionClient *client,
                                 EmbeddedServer *embedded, QObject *parent)
    : QObject(parent)
    , m_bar(bar)
    , m_model(model)
    , m_queue(queue)
    , m_client(client)
    , m_embedded(embedded)
{
    m_targetLabel = new QLabel(bar);
    m_stateLabel = new QLabel(bar);
    m_stateLabel->setTextFormat(Qt::PlainText);
    m_progress = new QProgressBar(bar);
    m_progress->setMaximumWidth(220);
    m_progress->setTextVisible(true);
    m_progress->setFormat(QStringLiteral("%v / %m"));
    m_rateLabel = new QLabel(bar);
    m_devicesLabel = new QLabel(bar);
    m_devicesLabel->setObjectName(QStringLiteral("deviceStates"));
    m_devicesLabel->setTextFormat(Qt::PlainText);
    m_devicesLabel->hide();
    m_targetLabel->setObjectName(QStringLiteral("targetLabel"));
    m_stateLabel->setObjectName(QStringLiteral("connectionState"));
    bar->addPermanentWidget(m_targetLabel);
    bar->addPermanentWidget(m_stateLabel, 1);
    bar->addPermanentWidget(m_devicesLabel);
    bar->addPermanentWidget(m_progress);
    bar->addPermanentWidget(m_rateLabel);

    connect(m_queue, &ProcessingQueue::outageChanged, this, &StatusPresenter::reportOutage);
    connect(m_client, &DetectionClient::connectionStateChanged, this, &StatusPresenter::updateConnectionStatus);
    connect(m_client, &DetectionClient::deviceStatusChanged, this, &StatusPresenter::updateDevices);
    connect(m_client, &DetectionClient::protocolDetected, this, [this](DetectionClient::Protocol p) {
        // Only v2 servers describe themselves; what they say is what the status bar shows.
        if (p == DetectionClient::Protocol::V2)
            m_client->requestServerInfo();
        updateConnectionStatus();
    });
    connect(m_client, &DetectionClient::serverInfoReceived, this,
            [this](quint64, const QJsonObject &info, double ms, const QString &device) {
                // Each device of a pool may run another model: kept per device, told apart when they differ.
                m_descriptions.insert(device, ConnectionTester::describeServerInfo(info));
                m_models.insert(device, ServedModel::fromServerInfo(info, QString()).name);
                m_serverDescription = poolDescription();
                m_latencyMs = ms;
                updateConnectionStatus();
            });
    connect(m_client, &DetectionClient::pongReceived, this, [this](quint64, double ms) {
        m_latencyMs = ms;
        updateConnectionStatus();
    });
    connect(m_client, &DetectionClient::requestRetrying, this, [this](quint64, int attempt, const QString &reason) {
        showMessage(tr("Connection problem, retrying (attempt %1): %2").arg(attempt).arg(reason), 5000);
    });
    connect(m_embedded, &EmbeddedServer::stateChanged, this, &StatusPresenter::updateConnectionStatus);

    // Latency and rate go stale when nothing happens; refresh them on a slow timer, and
    // measure latency while idle (a busy connection reports round trips with each result).
    m_tick = new QTimer(this);
    m_tick->setInterval(1000);
    connect(m_tick, &QTimer::timeout, this, [this] {
        updateProgress();
        updateDevices();
        if (++m_ticks % 10 == 0 && m_client->activeProtocol() == DetectionClient::Protocol::V2
            && m_client->connectionState() == DetectionClient::ConnectionState::Connected && !m_queue->isBusy())
            m_client->ping();
        emit refreshed();
    });
    m_tick->start();
}

void StatusPresenter::setTarget(AppSettings::Target target, bool embeddedJoins)
{
    m_target = target;
    m_embeddedJoins = embeddedJoins;
    m_untrusted.clear(); // new settings: every device gets asked again
    updateConnectionStatus();
}

void StatusPresenter::setDevices(const QList<DeviceSpec> &devices)
{
    m_devices = devices;
    QSet<QString> names;
    for (const DeviceSpec &device : devices)
        names.insert(device.resultName());
    for (auto *known : {&m_descriptions, &m_models}) {
        for (auto it = known->begin(); it != known->end();)
            it = names.contains(it.key()) ? std::next(it) : known->erase(it);
    }
    m_serverDescription = poolDescription().isEmpty() ? m_serverDescription : poolDescription();
    updateConnectionStatus();
}

void StatusPresenter::setDeviceUntrusted(const QString &deviceKey, bool untrusted)
{
    if (untrusted)
        m_untrusted.insert(deviceKey.toLower());
    else
        m_untrusted.remove(deviceKey.toLower());
    updateDevices();
}

QString StatusPresenter::targetText() const
{
    return m_targetLabel->text();
}

QString StatusPresenter::devicesText() const
{
    return m_devicesLabel->text();
}

QString StatusPresenter::deviceLabel(const DeviceStatus &status) const
{
    QString state = DeviceStatus::stateName(status.state);
    // After a failure the device is being probed; before, it is simply being reached.
    if (status.state == DeviceStatus::State::Connecting && status.timesDown > 0)
        state = tr("probing");
    else if (status.state == DeviceStatus::State::Refused && m_untrusted.contains(status.device.key()))
        state = tr("untrusted");
    const QString name = status.device.label == DeviceSpec::embeddedLabel() ? tr("this computer") : status.device.name();
    QString text = QStringLiteral("%1: %2").arg(name, state);
    if (const QString model = m_models.value(status.device.resultName()); !model.isEmpty() && modelsDiffer())
        text += QStringLiteral(", ") + model;
    if (status.done > 0)
        text += QStringLiteral(", ") + tr("%n done", nullptr, status.done);
    if (status.failed > 0)
        text += QStringLiteral(", ") + tr("%n failed", nullptr, status.failed);
    return text;
}

bool StatusPresenter::allDevicesDown() const
{
    const QList<DeviceStatus> statuses = m_client->deviceStatuses();
    bool anyEnabled = false;
    for (const DeviceStatus &status : statuses) {
        switch (status.state) {
        case DeviceStatus::State::Disabled:
            break;
        case DeviceStatus::State::Down:
        case DeviceStatus::State::Refused:
            anyEnabled = true;
            break;
        case DeviceStatus::State::Connecting:
            if (status.timesDown == 0)
                return false;
            anyEnabled = true; // a down device being probed is still down
            break;
        default:
            return false;
        }
    }
    return anyEnabled;
}

void StatusPresenter::updateDevices()
{
    // The embedded server alone is described by the state label already.
    const bool show = m_target == AppSettings::Target::Remote && !m_devices.isEmpty();
    m_devicesLabel->setVisible(show);
    if (!show) {
        m_devicesLabel->clear();
        return;
    }
    const QList<DeviceStatus> statuses = m_client->deviceStatuses();
    QStringList parts;
    QStringList details;
    for (const DeviceStatus &status : statuses) {
        parts << deviceLabel(status);
        QString detail = parts.last();
        if (status.imagesPerSecond > 0)
            detail += QStringLiteral(", ") + tr("%1 images/s").arg(status.imagesPerSecond, 0, 'f', 1);
        if (status.timesDown > 0)
            detail += QStringLiteral(", ") + tr("down %n time(s)", nullptr, status.timesDown);
        if (status.state != DeviceStatus::State::Up && !status.lastError.isEmpty())
            detail += QStringLiteral("\n    ") + status.lastError;
        details << detail;
    }
    QString text = parts.join(QStringLiteral(" \u00b7 "));
    if (m_queue->isBusy() && allDevicesDown())
        text = tr("All devices down, images wait: %1").arg(text);
    m_devicesLabel->setText(text);
    m_devicesLabel->setToolTip(details.join(QLatin1Char('\n')));
}

QString StatusPresenter::poolDescription() const
{
    QMap<QString, QStringList> devicesOf; // model -> devices
    for (auto it = m_models.cbegin(); it != m_models.cend(); ++it) {
        if (!it.value().isEmpty())
            devicesOf[it.value()].append(it.key() == DeviceSpec::embeddedLabel() ? tr("this computer") : it.key());
    }
    if (devicesOf.size() < 2)
        return m_descriptions.isEmpty() ? QString() : *m_descriptions.cbegin();
    QStringList parts;
    for (auto it = devicesOf.cbegin(); it != devicesOf.cend(); ++it)
        parts << tr("%1 on %2").arg(it.key(), it.value().join(QStringLiteral(", ")));
    return tr("different models: %1").arg(parts.join(QStringLiteral("; ")));
}

bool StatusPresenter::modelsDiffer() const
{
    QSet<QString> models;
    for (const QString &model : m_models) {
        if (!model.isEmpty())
            models.insert(model);
    }
    return models.size() > 1;
}

void StatusPresenter::resetConnectionDetails()
{
    m_descriptions.clear();
    m_models.clear();
    m_serverDescription.clear();
    m_latencyMs = -1;
    m_lastError.clear();
    updateConnectionStatus();
}

void StatusPresenter::setServerDescription(const QString &description)
{
    m_serverDescription = description;
    updateConnectionStatus();
}

void StatusPresenter::showError(const QString &message)
{
    m_lastError = message;
    showMessage(message, 10000);
    updateConnectionStatus();
}

void StatusPresenter::clearLastError()
{
    m_lastError.clear();
    updateConnectionStatus();
}

void StatusPresenter::setLastFailure(const QString &fileName, const QString &reason)
{
    m_lastError = QStringLiteral("%1: %2").arg(fileName, reason);
    updateConnectionStatus();
}

void StatusPresenter::showMessage(const QString &message, int timeoutMs)
{
    m_bar->showMessage(message, timeoutMs);
}

QString StatusPresenter::stateText() const
{
    return m_stateLabel->text();
}

void StatusPresenter::reportOutage(bool lost, const QString &reason)
{
    m_outage = lost ? reason : QString();
    if (lost)
        showMessage(tr("Lost the connection: %1 Waiting for it to come back; images stay queued.").arg(reason), 8000);
    else
        showMessage(tr("Connection is back; continuing."), 5000);
    qCDebug(lcStatusPresenter) << "outage" << lost << reason;
    updateConnectionStatus();
}

void StatusPresenter::updateProgress()
{
    const int total = m_queue->batchTotal();
    const int finished = m_queue->batchFinished();
    m_progress->setMaximum(qMax(total, 1));
    m_progress->setValue(qMin(finished, qMax(total, 1)));
    m_progress->setVisible(total > 0);
    emit windowTitleChanged(total > 0 && m_queue->isBusy() ? tr("EdgeLens – %1 of %2").arg(finished).arg(total)
                                                           : tr("EdgeLens"));
    if (total == 0) {
        m_rateLabel->clear();
    } else if (m_queue->isBusy()) {
        const double rate = m_queue->imagesPerSecond();
        QString text = rate > 0 ? tr("%1 images/s").arg(rate, 0, 'f', rate < 10 ? 1 : 0) : tr("– images/s");
        text += QStringLiteral(" · ") + tr("%1 left").arg(formatDuration(m_queue->estimatedRemainingMs()));
        if (m_queue->isPaused())
            text = tr("Paused") + QStringLiteral(" · ") + text;
        m_rateLabel->setText(text);
    } else {
        const int failed = m_model->count(GalleryItem::Status::Failed);
        m_rateLabel->setText(failed > 0 ? tr("Finished, %n failed", nullptr, failed) : tr("Finished"));
    }
}

void StatusPresenter::updateConnectionStatus()
{
    const bool embedded = m_target == AppSettings::Target::Embedded;
    if (embedded) {
        m_targetLabel->setText(tr("Embedded server"));
    } else {
        QStringList remote;
        for (const DeviceSpec &device : std::as_const(m_devices)) {
            if (device.enabled && device.label != DeviceSpec::embeddedLabel())
                remote << device.name();
        }
        QString text = remote.size() == 1 ? tr("Device %1").arg(remote.first()) : tr("%n device(s)", nullptr, int(remote.size()));
        if (m_embeddedJoins)
            text += QStringLiteral(" + ") + tr("this computer");
        m_targetLabel->setText(text);
    }
    updateDevices();

    QString state;
    if (embedded) {
        switch (m_embedded->state()) {
        case EmbeddedServer::State::Stopped:
            state = tr("idle (starts when images are added)");
            break;
        case EmbeddedServer::State::Starting:
            state = tr("starting embedded server…");
            break;
        case EmbeddedServer::State::Failed:
            state = tr("not running: %1").arg(m_embedded->errorSummary());
            break;
        case EmbeddedServer::State::Running:
            break;
        }
    }
    if (state.isEmpty()) {
        switch (m_client->connectionState()) {
        case DetectionClient::ConnectionState::Disconnected:
            // Idle connections are closed by the server; the client reconnects on demand.
            if (m_client->activeProtocol() == DetectionClient::Protocol::Legacy)
                state = tr("legacy server (one connection per image)");
            else if (m_client->activeProtocol() == DetectionClient::Protocol::V2 || !m_serverDescription.isEmpty())
                state = tr("ready");
            else
                state = tr("not connected yet");
            break;
        case DetectionClient::ConnectionState::Connecting:
            state = tr("connecting…");
            break;
        case DetectionClient::ConnectionState::Negotiating:
            state = tr("negotiating…");
            break;
        case DetectionClient::ConnectionState::Connected:
            state = m_client->activeProtocol() == DetectionClient::Protocol::Legacy ? tr("connected (legacy protocol)") : tr("connected");
            break;
        case DetectionClient::ConnectionState::Reconnecting:
            state = m_devices.size() > 1 ? tr("every device lost, reconnecting…") : tr("connection lost, reconnecting…");
            break;
        }
        if (!m_serverDescription.isEmpty())
            state += QStringLiteral(" · ") + m_serverDescription;
        const double latency = m_latencyMs >= 0 ? m_latencyMs : m_queue->lastRoundTripMs();
        if (latency > 0)
            state += QStringLiteral(" · ") + tr("%1 ms").arg(latency, 0, 'f', latency < 10 ? 1 : 0);
    }
    if (!m_outage.isEmpty())
        state += QStringLiteral(" · ") + tr("connection lost, retrying: %1").arg(m_outage);
    else if (!m_lastError.isEmpty())
        state += QStringLiteral(" · ") + tr("last error: %1").arg(m_lastError);
    m_stateLabel->setText(state);
    // The full story (e.g. where models were looked for) is one hover away.
    const bool failed = embedded && m_embedded->state() == EmbeddedServer::State::Failed;
    m_stateLabel->setToolTip(failed ? m_embedded->errorString() : state);
}

} // namespace edgelens
