#include "detectionclient.h"

#include "client/balancingpolicy.h"
#include "client/devicechannel.h"
#include "client/socketfactory.h"
#include "client/tlssocketfactory.h"

#include <QLoggingCategory>
#include <QTimer>

#include <algorithm>

Q_LOGGING_CATEGORY(lcClient, "edgelens.client", QtInfoMsg)

namespace edgelens {

DetectionClient::DetectionClient(QObject *parent)
    : QObject(parent)
    , m_settings(std::make_unique<ChannelSettings>())
{
    qRegisterMetaType<edgelens::ClientResult>();
    qRegisterMetaType<edgelens::DeviceStatus>();
    m_settings->sockets = std::make_shared<PlainSocketFactory>();
    m_tls = std::make_shared<TlsSocketFactory>();
    m_settings->tlsSockets = m_tls;
    m_devices = {DeviceSpec()};
    rebuildChannels();
}

DetectionClient::~DetectionClient()
{
    // Channels read the settings: they go first, and their last signals find no slots.
    for (DeviceChannel *channel : m_channels) {
        channel->disconnect(this);
        delete channel;
    }
}

void DetectionClient::setTarget(const QString &host, quint16 port)
{
    if (m_devices.size() == 1 && m_devices.first().host == host && m_devices.first().port == port)
        return;
    DeviceSpec device = m_devices.value(0);
    device.host = host;
    device.port = port;
    device.protocol = m_protocol;
    device.enabled = true;
    setDevices({device});
}

QString DetectionClient::host() const
{
    return m_devices.value(0).host;
}

quint16 DetectionClient::port() const
{
    return m_devices.value(0).port;
}

void DetectionClient::setDevices(const QList<DeviceSpec> &devices)
{
    if (devices == m_devices)
        return;
    m_devices = devices;
    rebuildChannels();
}

QList<DeviceSpec> DetectionClient::devices() const
{
    return m_devices;
}

QList<DeviceStatus> DetectionClient::deviceStatuses() const
{
    QList<DeviceStatus> statuses;
    for (const DeviceChannel *channel : m_channels)
        statuses.append(channel->status());
    return statuses;
}

void DetectionClient::setProtocol(Protocol protocol)
{
    bool changed = protocol != m_protocol;
    m_protocol = protocol;
    for (DeviceSpec &device : m_devices) {
        changed = changed || device.protocol != protocol;
        device.protocol = protocol;
    }
    if (changed)
        rebuildChannels();
}

DetectionClient::Protocol DetectionClient::protocol() const
{
    return m_protocol;
}

void DetectionClient::setMaxInFlight(int count)
{
    m_settings->maxInFlight = std::max(1, count);
    schedulePump();
}

int DetectionClient::maxInFlight() const
{
    return m_settings->maxInFlight;
}

void DetectionClient::setTimeout(int milliseconds)
{
    m_settings->timeoutMs = std::max(1, milliseconds);
}

int DetectionClient::timeout() const
{
    return m_settings->timeoutMs;
}

void DetectionClient::setMaxRetries(int retries)
{
    m_settings->maxRetries = std::max(0, retries);
}

int DetectionClient::maxRetries() const
{
    return m_settings->maxRetries;
}

void DetectionClient::setProbeTimeout(int milliseconds)
{
    m_settings->probeTimeoutMs = std::max(1, milliseconds);
}

void DetectionClient::setToken(const QString &token)
{
    if (token == m_settings->token)
        return;
    m_settings->token = token;
    rebuildChannels();
}

void DetectionClient::setRetryBackoff(int initialMs, int maxMs)
{
    m_settings->backoffInitialMs = std::max(0, initialMs);
    m_settings->backoffMaxMs = std::max(m_settings->backoffInitialMs, maxMs);
}

void DetectionClient::setSocketFactory(std::shared_ptr<SocketFactory> factory)
{
    m_settings->sockets = factory ? std::move(factory) : std::make_shared<PlainSocketFactory>();
    rebuildChannels();
}

TlsSocketFactory *DetectionClient::tls() const
{
    return m_tls.get();
}

DetectionClient::Protocol DetectionClient::activeProtocol() const
{
    return m_channels.empty() ? Protocol::Auto : m_channels.front()->protocol();
}

DetectionClient::ConnectionState DetectionClient::connectionState() const
{
    return m_state;
}

int DetectionClient::pendingCount() const
{
    return int(m_requests.size());
}

quint64 DetectionClient::submit(const QByteArray &imageBytes, const DetectOptions &options)
{
    return enqueue(RequestKind::Detect, imageBytes, options);
}

quint64 DetectionClient::requestServerInfo(const QString &device)
{
    return enqueue(RequestKind::Info, QByteArray(), DetectOptions(), device);
}

quint64 DetectionClient::ping()
{
    return enqueue(RequestKind::Ping, QByteArray(), DetectOptions());
}

bool DetectionClient::cancel(quint64 id)
{
    const auto request = m_requests.value(id);
    if (!request)
        return false;
    if (request->channel)
        request->channel->forget(id);
    finishRequest(id);
    schedulePump();
    return true;
}

QList<quint64> DetectionClient::cancelAll()
{
    QList<quint64> ids = m_requests.keys();
    std::sort(ids.begin(), ids.end());
    for (quint64 id : std::as_const(ids)) {
        if (const auto request = m_requests.value(id); request && request->channel)
            request->channel->forget(id);
        finishRequest(id);
    }
    return ids;
}

QString DetectionClient::describeSocketError(QAbstractSocket::SocketError error, const QString &host, quint16 port,
                                             const QString &detail)
{
    return Transport::describeSocketError(error, host, port, detail);
}

void DetectionClient::forgetDetectedProtocols()
{
    DeviceChannel::forgetKnownProtocols();
}

quint64 DetectionClient::enqueue(RequestKind kind, const QByteArray &image, const DetectOptions &options,
                                 const QString &device)
{
    auto request = std::make_shared<Request>();
    request->id = m_nextId++;
    request->kind = kind;
    request->image = image;
    request->options = options;
    request->device = device;
    m_requests.insert(request->id, request);
    m_queue.push_back(request->id);
    schedulePump();
    return request->id;
}

void DetectionClient::rebuildChannels()
{
    QList<quint64> back;
    for (DeviceChannel *channel : m_channels) {
        back += channel->shutdown();
        channel->disconnect(this);
        channel->deleteLater();
    }
    m_channels.clear();
    for (quint64 id : std::as_const(back)) {
        if (const auto request = m_requests.value(id)) {
            request->channel = nullptr;
            request->attempts = std::max(0, request->attempts - 1); // the target changed, not a retry
        }
    }
    requeueFront(back);

    for (const DeviceSpec &device : std::as_const(m_devices))
        m_channels.push_back(createChannel(device));
    updateConnectionState();
    schedulePump();
}

DeviceChannel *DetectionClient::createChannel(const DeviceSpec &device)
{
    auto *channel = new DeviceChannel(device, m_settings.get(), [this] { return !m_requests.isEmpty(); }, this);
    connect(channel, &DeviceChannel::replied, this, [this, channel](quint64 id, const ClientResult &result) {
        const auto request = ownedBy(channel, id);
        if (!request)
            return;
        ClientResult final = result;
        final.attempts = std::max(1, request->attempts);
        finishRequest(id);
        Q_EMIT resultReady(id, final);
        schedulePump();
    });
    connect(channel, &DeviceChannel::infoReceived, this,
            [this, channel](quint64 id, const QJsonObject &info, double ms) {
                if (!ownedBy(channel, id))
                    return;
                finishRequest(id);
                Q_EMIT serverInfoReceived(id, info, ms, channel->device().resultName());
                schedulePump();
            });
    connect(channel, &DeviceChannel::pongReceived, this, [this, channel](quint64 id, double ms) {
        if (!ownedBy(channel, id))
            return;
        finishRequest(id);
        Q_EMIT pongReceived(id, ms);
        schedulePump();
    });
    connect(channel, &DeviceChannel::requestFailed, this,
            [this, channel](quint64 id, const QString &reason, bool retryable) {
                if (!ownedBy(channel, id))
                    return;
                failRequest(id, reason, retryable);
                schedulePump();
            });
    connect(channel, &DeviceChannel::requestsReturned, this,
            [this, channel](const ReturnedRequests &returned) { handleReturned(channel, returned); });
    connect(channel, &DeviceChannel::protocolDetected, this, &DetectionClient::protocolDetected);
    connect(channel, &DeviceChannel::statusChanged, this, [this, channel] { handleChannelStatus(channel); });
    return channel;
}

void DetectionClient::retryRefusedDevices()
{
    bool replaced = false;
    for (DeviceChannel *&channel : m_channels) {
        if (channel->state() != DeviceStatus::State::Refused)
            continue;
        // A refused channel has nothing in flight: its requests went back to the queue.
        channel->shutdown();
        channel->disconnect(this);
        channel->deleteLater();
        channel = createChannel(channel->device());
        replaced = true;
    }
    if (!replaced)
        return;
    for (std::size_t i = 0; i < m_channels.size(); ++i)
        Q_EMIT deviceStatusChanged(int(i), m_channels[i]->status());
    updateConnectionState();
    schedulePump();
}

void DetectionClient::schedulePump()
{
    if (m_pumpScheduled)
        return;
    m_pumpScheduled = true;
    // Deferred so that submit() never emits or touches sockets inside the caller's stack.
    QTimer::singleShot(0, this, [this] {
        m_pumpScheduled = false;
        pump();
    });
}

void DetectionClient::pump()
{
    if (!m_queue.empty()) {
        for (DeviceChannel *channel : m_channels)
            channel->activate();
    }
    sendPinned();
    QList<BalancingPolicy::Candidate> candidates;
    QList<DeviceChannel *> channels;
    std::deque<quint64> pinned; // waiting for their own device; they keep their place
    while (!m_queue.empty()) {
        const quint64 id = m_queue.front();
        const auto request = m_requests.value(id);
        if (!request) {
            m_queue.pop_front();
            continue;
        }
        if (!request->device.isEmpty()) {
            m_queue.pop_front();
            pinned.push_back(id);
            continue;
        }
        candidates.clear();
        channels.clear();
        for (DeviceChannel *channel : m_channels) {
            if (channel->canTake()) {
                candidates.append({channel->inFlight(), channel->costMs()});
                channels.append(channel);
            }
        }
        const int pick = BalancingPolicy::pick(candidates);
        if (pick < 0)
            break;
        m_queue.pop_front();
        sendTo(channels.at(pick), request);
    }
    m_queue.insert(m_queue.begin(), pinned.cbegin(), pinned.cend());
    failIfNoDeviceLeft();
    updateConnectionState();
}

void DetectionClient::sendTo(DeviceChannel *channel, const std::shared_ptr<Request> &request)
{
    request->channel = channel;
    ++request->attempts;
    channel->send({request->id, request->kind, request->image, request->options});
}

DeviceChannel *DetectionClient::channelNamed(const QString &device) const
{
    const auto it = std::find_if(m_channels.cbegin(), m_channels.cend(), [&device](const DeviceChannel *channel) {
        return channel->device().resultName().compare(device, Qt::CaseInsensitive) == 0;
    });
    return it == m_channels.cend() ? nullptr : *it;
}

void DetectionClient::sendPinned()
{
    QList<quint64> ids;
    for (quint64 id : m_queue) {
        if (const auto request = m_requests.value(id); request && !request->device.isEmpty())
            ids.append(id);
    }
    for (quint64 id : std::as_const(ids)) {
        const auto request = m_requests.value(id);
        if (!request)
            continue;
        DeviceChannel *channel = channelNamed(request->device);
        if (!channel) {
            failRequest(id, QStringLiteral("%1 is not one of the devices.").arg(request->device), false);
            continue;
        }
        if (channel->exhausted()) {
            const DeviceStatus status = channel->status();
            failRequest(id,
                        status.state == DeviceStatus::State::Disabled
                            ? QStringLiteral("%1 is disabled.").arg(request->device)
                            : !status.lastError.isEmpty() ? status.lastError
                                                          : QStringLiteral("%1 cannot be reached.").arg(request->device),
                        status.state != DeviceStatus::State::Refused && status.state != DeviceStatus::State::Disabled);
            continue;
        }
        if (!channel->canTake())
            continue;
        m_queue.erase(std::find(m_queue.begin(), m_queue.end(), id));
        sendTo(channel, request);
    }
}

void DetectionClient::failIfNoDeviceLeft()
{
    if (m_queue.empty())
        return;
    QStringList reasons;
    bool allRefused = true;
    for (const DeviceChannel *channel : m_channels) {
        if (!channel->exhausted())
            return;
        const DeviceStatus status = channel->status();
        if (status.state == DeviceStatus::State::Disabled)
            continue;
        allRefused = allRefused && status.state == DeviceStatus::State::Refused;
        reasons.append(status.lastError);
    }
    QString reason;
    if (reasons.isEmpty())
        reason = QStringLiteral("No device is enabled.");
    else if (reasons.size() == 1)
        reason = reasons.first();
    else
        reason = QStringLiteral("No device could be reached: ") + reasons.join(QLatin1Char(' '));
    qCInfo(lcClient).noquote() << "failing" << m_queue.size() << "queued request(s):" << reason;
    for (DeviceChannel *channel : m_channels)
        channel->resetFailures();
    failQueued(reason, !allRefused || reasons.isEmpty());
}

void DetectionClient::handleReturned(DeviceChannel *channel, const ReturnedRequests &returned)
{
    QList<quint64> requeue;
    for (quint64 id : returned.unsent) {
        if (const auto request = ownedBy(channel, id)) {
            request->channel = nullptr;
            request->attempts = std::max(0, request->attempts - 1);
            requeue.append(id);
        }
    }
    for (quint64 id : returned.dropped) {
        const auto request = ownedBy(channel, id);
        if (!request)
            continue;
        request->channel = nullptr;
        if (request->attempts > m_settings->maxRetries) {
            channel->countFailed();
            failRequest(id, returned.reason + QStringLiteral(" Gave up after %1 attempts.").arg(request->attempts),
                        true);
        } else {
            Q_EMIT requestRetrying(id, request->attempts + 1, returned.reason);
            requeue.append(id);
        }
    }
    // A request without an answer goes to another device only if there is one: the same
    // device may still be working on it, and a second copy there would be processed twice.
    const bool elsewhere = std::any_of(m_channels.cbegin(), m_channels.cend(), [channel](const DeviceChannel *c) {
        return c != channel && !c->exhausted();
    });
    for (quint64 id : returned.timedOut) {
        const auto request = ownedBy(channel, id);
        if (!request)
            continue;
        request->channel = nullptr;
        if (elsewhere && request->attempts <= m_settings->maxRetries) {
            Q_EMIT requestRetrying(id, request->attempts + 1, returned.reason);
            requeue.append(id);
        } else {
            channel->countFailed();
            failRequest(id, returned.reason, true);
        }
    }
    requeueFront(requeue);
    schedulePump();
}

void DetectionClient::handleChannelStatus(DeviceChannel *channel)
{
    const auto it = std::find(m_channels.cbegin(), m_channels.cend(), channel);
    if (it == m_channels.cend())
        return;
    Q_EMIT deviceStatusChanged(int(it - m_channels.cbegin()), channel->status());
    updateConnectionState();
    schedulePump();
}

std::shared_ptr<DetectionClient::Request> DetectionClient::ownedBy(DeviceChannel *channel, quint64 id) const
{
    const auto request = m_requests.value(id);
    return request && request->channel == channel ? request : nullptr;
}

void DetectionClient::requeueFront(QList<quint64> ids)
{
    // Oldest first at the head of the queue.
    std::sort(ids.begin(), ids.end());
    for (auto it = ids.crbegin(); it != ids.crend(); ++it) {
        if (m_requests.contains(*it))
            m_queue.push_front(*it);
    }
}

void DetectionClient::failRequest(quint64 id, const QString &reason, bool retryable)
{
    if (!m_requests.contains(id))
        return;
    finishRequest(id);
    qCDebug(lcClient) << "request" << id << "failed:" << reason;
    Q_EMIT requestFailed(id, reason, retryable);
}

void DetectionClient::finishRequest(quint64 id)
{
    if (!m_requests.remove(id))
        return;
    const auto it = std::find(m_queue.begin(), m_queue.end(), id);
    if (it != m_queue.end())
        m_queue.erase(it);
}

void DetectionClient::failQueued(const QString &reason, bool retryable)
{
    while (!m_queue.empty()) {
        const quint64 id = m_queue.front();
        m_queue.pop_front();
        failRequest(id, reason, retryable);
    }
}

void DetectionClient::updateConnectionState()
{
    bool up = false;
    bool connecting = false;
    bool down = false;
    for (const DeviceChannel *channel : m_channels) {
        switch (channel->state()) {
        case DeviceStatus::State::Up:
            up = true;
            break;
        case DeviceStatus::State::Connecting:
            connecting = true;
            break;
        case DeviceStatus::State::Down:
        case DeviceStatus::State::Refused:
            down = true;
            break;
        default:
            break;
        }
    }
    ConnectionState state = ConnectionState::Disconnected;
    if (up)
        state = ConnectionState::Connected;
    else if (connecting)
        state = ConnectionState::Connecting;
    else if (down && !m_requests.isEmpty())
        state = ConnectionState::Reconnecting;
    if (state == m_state)
        return;
    m_state = state;
    Q_EMIT connectionStateChanged(state);
}

} // namespace edgelens
