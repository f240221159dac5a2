#include "devicechannel.h"

#include "client/deepstacktransport.h"
#include "client/legacytransport.h"
#include "client/v2transport.h"

#include <QHash>
#include <QLoggingCategory>
#include <QMutex>
#include <QMutexLocker>

#include <algorithm>

Q_LOGGING_CATEGORY(lcChannel, "edgelens.client.channel", QtInfoMsg)

namespace edgelens {

namespace {

// Proven protocols per "host:port". Clients normally live in one thread, but two windows or a
// test may use several, so the memory is guarded.
QMutex s_knownMutex;
QHash<QString, DeviceSpec::Protocol> s_known;

QString secondsText(int milliseconds)
{
    return QString::number(milliseconds / 1000.0, 'g', 3) + QStringLiteral(" s");
}

} // namespace

int ChannelSettings::backoffDelay(int failures) const
{
    qint64 delay = backoffInitialMs;
    for (int i = 1; i < failures && delay < backoffMaxMs; ++i) {
        delay *= 2;
    }
    return int(std::min<qint64>(delay, backoffMaxMs));
}

void ChannelSettings::wait(QTimer &timer, int ms) const
{
    if (startWait)
        startWait(timer, ms);
    else
        timer.start(ms);
}

DeviceChannel::DeviceChannel(const DeviceSpec &device, const ChannelSettings *settings,
                             std::function<bool()> poolHasWork, QObject *parent)
    : QObject(parent)
    , m_device(device)
    , m_settings(settings)
    , m_poolHasWork(std::move(poolHasWork))
    , m_state(device.enabled ? DeviceStatus::State::Idle : DeviceStatus::State::Disabled)
{
    qRegisterMetaType<edgelens::ReturnedRequests>();
    m_backoff.setSingleShot(true);
    m_cooldown.setSingleShot(true);
    m_watchdog.setInterval(100);
    connect(&m_backoff, &QTimer::timeout, this, [this] {
        if (m_state == DeviceStatus::State::Down && m_poolHasWork())
            activate();
    });
    connect(&m_cooldown, &QTimer::timeout, this, &DeviceChannel::statusChanged);
    connect(&m_watchdog, &QTimer::timeout, this, &DeviceChannel::checkDeadlines);
}

DeviceChannel::~DeviceChannel()
{
    if (m_transport)
        m_transport->disconnect(this);
}

DeviceSpec::Protocol DeviceChannel::protocol() const
{
    if (m_device.protocol != DeviceSpec::Protocol::Auto)
        return m_device.protocol;
    if (m_legacyGuess)
        return DeviceSpec::Protocol::Legacy;
    return knownProtocol(m_device.key());
}

DeviceStatus DeviceChannel::status() const
{
    DeviceStatus status;
    status.device = m_device;
    status.state = m_state;
    status.protocol = protocol();
    status.inFlight = inFlight();
    status.done = m_done;
    status.failed = m_failed;
    status.timesDown = m_timesDown;
    status.imagesPerSecond = m_costMs > 0 ? 1000.0 / m_costMs : 0.0;
    status.lastError = m_lastError;
    return status;
}

void DeviceChannel::activate()
{
    using State = DeviceStatus::State;
    switch (m_state) {
    case State::Disabled:
    case State::Refused:
    case State::Connecting:
    case State::Up:
        return;
    case State::Idle:
        if (protocol() == DeviceSpec::Protocol::Legacy)
            return; // each request connects on its own
        if (protocol() == DeviceSpec::Protocol::DeepStack) {
            openDeepStack();
            return;
        }
        openV2(protocol() == DeviceSpec::Protocol::Auto);
        return;
    case State::Down:
        if (m_backoff.isActive())
            return;
        if (protocol() == DeviceSpec::Protocol::Legacy) {
            dropTransport();
            startTransport(new LegacyTransport(transportSettings(), this));
            setState(State::Connecting);
            m_transport->open();
        } else if (protocol() == DeviceSpec::Protocol::DeepStack) {
            openDeepStack();
        } else {
            openV2(protocol() == DeviceSpec::Protocol::Auto);
        }
        return;
    }
}

TransportSettings DeviceChannel::transportSettings() const
{
    TransportSettings settings;
    settings.device = m_device;
    settings.token = m_settings->token;
    settings.connectTimeoutMs = m_settings->timeoutMs;
    settings.probeTimeoutMs = m_settings->probeTimeoutMs;
    settings.maxInFlight = m_settings->maxInFlight;
    settings.sockets = m_device.tls ? m_settings->tlsSockets : m_settings->sockets;
    return settings;
}

void DeviceChannel::openV2(bool probing)
{
    dropTransport();
    startTransport(new V2Transport(transportSettings(), probing, this));
    setState(DeviceStatus::State::Connecting);
    m_transport->open();
}

void DeviceChannel::openDeepStack()
{
    dropTransport();
    startTransport(new DeepStackTransport(transportSettings(), this));
    setState(DeviceStatus::State::Connecting);
    m_transport->open();
}

void DeviceChannel::startTransport(Transport *transport)
{
    m_transport = transport;
    connect(transport, &Transport::ready, this, [this, transport] {
        if (transport == m_transport)
            handleReady();
    });
    connect(transport, &Transport::lost, this, [this, transport](const QString &reason, Transport::Loss loss) {
        if (transport == m_transport)
            handleLost(reason, loss);
    });
    connect(transport, &Transport::replied, this, [this, transport](quint64 id, const ClientResult &result) {
        if (transport == m_transport)
            handleReplied(id, result);
    });
    connect(transport, &Transport::infoReceived, this,
            [this, transport](quint64 id, const QJsonObject &info, double ms) {
                if (transport == m_transport && takeInFlight(id))
                    Q_EMIT infoReceived(id, info, ms);
            });
    connect(transport, &Transport::pongReceived, this, [this, transport](quint64 id, double ms) {
        if (transport == m_transport && takeInFlight(id))
            Q_EMIT pongReceived(id, ms);
    });
    connect(transport, &Transport::requestFailed, this,
            [this, transport](quint64 id, const QString &reason, bool retryable) {
                if (transport == m_transport)
                    handleRequestFailed(id, reason, retryable);
            });
    connect(transport, &Transport::requestBusy, this, [this, transport](quint64 id, const QString &reason) {
        if (transport == m_transport)
            handleBusy(id, reason);
    });
}

bool DeviceChannel::canTake() const
{
    using State = DeviceStatus::State;
    if (m_cooldown.isActive())
        return false;
    if (protocol() == DeviceSpec::Protocol::Legacy) {
        if (m_state != State::Idle && m_state != State::Up)
            return false;
    } else if (m_state != State::Up || !m_transport || !m_transport->isReady()) {
        return false;
    }
    int limit = m_settings->maxInFlight;
    if (m_transport && m_transport->window() > 0)
        limit = std::min(limit, m_transport->window());
    return inFlight() < limit;
}

void DeviceChannel::send(const OutgoingRequest &request)
{
    if (protocol() == DeviceSpec::Protocol::Legacy
        && (!m_transport || m_transport->protocol() != DeviceSpec::Protocol::Legacy)) {
        dropTransport();
        startTransport(new LegacyTransport(transportSettings(), this));
    }
    QElapsedTimer sent;
    sent.start();
    m_inFlight.insert(request.id, sent);
    if (!m_watchdog.isActive())
        m_watchdog.start();
    if (protocol() == DeviceSpec::Protocol::Legacy && request.kind != RequestKind::Detect) {
        // Reported from the event loop, never inside the caller's send().
        const quint64 id = request.id;
        QTimer::singleShot(0, this, [this, id] {
            if (!takeInFlight(id))
                return;
            Q_EMIT requestFailed(id,
                                 QStringLiteral("The server at %1 speaks only the legacy protocol: it has no server "
                                                "information or ping.")
                                     .arg(name()),
                                 false);
            Q_EMIT statusChanged();
        });
        return;
    }
    m_transport->send(request);
}

void DeviceChannel::forget(quint64 id)
{
    if (!m_inFlight.remove(id))
        return;
    if (m_transport)
        m_transport->forget(id);
    Q_EMIT statusChanged();
}

QList<quint64> DeviceChannel::shutdown()
{
    QList<quint64> ids = m_inFlight.keys();
    std::sort(ids.begin(), ids.end());
    m_inFlight.clear();
    dropTransport();
    m_backoff.stop();
    m_cooldown.stop();
    m_watchdog.stop();
    return ids;
}

bool DeviceChannel::exhausted() const
{
    if (m_state == DeviceStatus::State::Refused || m_state == DeviceStatus::State::Disabled)
        return true;
    return m_state == DeviceStatus::State::Down && m_failures > m_settings->maxRetries;
}

void DeviceChannel::resetFailures()
{
    // A refusal (token, certificate) stays until the settings change: asking again would only
    // repeat it, or hand an impostor another chance.
    m_failures = 0;
    m_backoff.stop();
}

void DeviceChannel::handleReady()
{
    const bool proved = m_device.protocol == DeviceSpec::Protocol::Auto
        && m_transport->protocol() == DeviceSpec::Protocol::V2
        && knownProtocol(m_device.key()) != DeviceSpec::Protocol::V2;
    m_closedBeforePreamble = 0;
    setState(DeviceStatus::State::Up);
    if (proved) {
        rememberProtocol(m_device.key(), DeviceSpec::Protocol::V2);
        Q_EMIT protocolDetected(DeviceSpec::Protocol::V2);
    }
}

void DeviceChannel::handleLost(const QString &reason, Transport::Loss loss)
{
    ReturnedRequests returned;
    returned.reason = reason;
    QList<quint64> ids = m_inFlight.keys();
    std::sort(ids.begin(), ids.end());
    for (quint64 id : std::as_const(ids))
        (m_transport && m_transport->reachedDevice(id) ? returned.dropped : returned.unsent).append(id);
    m_inFlight.clear();
    const bool probing = m_device.protocol == DeviceSpec::Protocol::Auto && !m_legacyGuess
        && knownProtocol(m_device.key()) == DeviceSpec::Protocol::Auto;
    dropTransport();

    switch (loss) {
    case Transport::Loss::Refused:
        m_lastError = reason;
        m_legacyGuess = false;
        qCWarning(lcChannel).noquote() << name() << "refused:" << reason;
        setState(DeviceStatus::State::Refused);
        break;
    case Transport::Loss::NoPreamble:
        if (probing) {
            qCInfo(lcChannel).noquote() << "trying the legacy protocol with" << name() << "-" << reason;
            m_legacyGuess = true;
            setState(DeviceStatus::State::Idle);
        } else {
            markDown(reason);
        }
        break;
    case Transport::Loss::ClosedBeforePreamble:
        // A v2 server that is draining or full closes like this too: only a second close in a
        // row makes legacy worth a try, and only a completed exchange will prove it.
        if (probing && ++m_closedBeforePreamble >= 2) {
            qCInfo(lcChannel).noquote() << "trying the legacy protocol with" << name() << "-" << reason;
            m_closedBeforePreamble = 0;
            m_legacyGuess = true;
            setState(DeviceStatus::State::Idle);
        } else {
            markDown(reason);
        }
        break;
    case Transport::Loss::ConnectFailed:
    case Transport::Loss::Dropped:
        m_legacyGuess = false;
        markDown(reason);
        break;
    }
    if (!returned.unsent.isEmpty() || !returned.dropped.isEmpty())
        Q_EMIT requestsReturned(returned);
    Q_EMIT statusChanged();
}

void DeviceChannel::handleReplied(quint64 id, const ClientResult &result)
{
    if (!m_inFlight.contains(id))
        return;
    measure(m_inFlight.take(id));
    m_failures = 0;
    m_busyRun = 0;
    ++m_done;
    if (m_legacyGuess) {
        m_legacyGuess = false;
        rememberProtocol(m_device.key(), DeviceSpec::Protocol::Legacy);
        qCInfo(lcChannel).noquote() << "server at" << name() << "speaks legacy";
        Q_EMIT protocolDetected(DeviceSpec::Protocol::Legacy);
    }
    setState(DeviceStatus::State::Up);
    ClientResult named = result;
    named.device = m_device.resultName();
    Q_EMIT replied(id, named);
    Q_EMIT statusChanged();
}

void DeviceChannel::handleRequestFailed(quint64 id, const QString &reason, bool retryable)
{
    if (!m_inFlight.contains(id))
        return;
    if (m_legacyGuess) {
        // A guessed legacy device that does not answer says nothing about the image.
        handleLost(reason, Transport::Loss::ConnectFailed);
        return;
    }
    m_inFlight.remove(id);
    m_failures = 0;
    ++m_failed;
    Q_EMIT requestFailed(id, reason, retryable);
    Q_EMIT statusChanged();
}

void DeviceChannel::handleBusy(quint64 id, const QString &reason)
{
    if (!takeInFlight(id))
        return;
    ++m_busyRun;
    m_settings->wait(m_cooldown, m_settings->backoffDelay(m_busyRun));
    ReturnedRequests returned;
    returned.dropped = {id};
    returned.reason = reason;
    Q_EMIT requestsReturned(returned);
    Q_EMIT statusChanged();
}

void DeviceChannel::checkDeadlines()
{
    if (m_inFlight.isEmpty()) {
        m_watchdog.stop();
        return;
    }
    QList<quint64> expired;
    for (auto it = m_inFlight.cbegin(); it != m_inFlight.cend(); ++it) {
        if (it.value().elapsed() > m_settings->timeoutMs)
            expired.append(it.key());
    }
    if (expired.isEmpty())
        return;
    // The device may still be working on them; the session goes, so a late answer cannot arrive.
    const QString reason =
        QStringLiteral("No answer from %1 within %2.").arg(name(), secondsText(m_settings->timeoutMs));
    std::sort(expired.begin(), expired.end());
    ReturnedRequests returned;
    returned.reason = reason;
    returned.timedOut = expired;
    QList<quint64> ids = m_inFlight.keys();
    std::sort(ids.begin(), ids.end());
    for (quint64 id : std::as_const(ids)) {
        if (!expired.contains(id))
            (m_transport && m_transport->reachedDevice(id) ? returned.dropped : returned.unsent).append(id);
    }
    m_inFlight.clear();
    dropTransport();
    m_legacyGuess = false;
    markDown(reason);
    Q_EMIT requestsReturned(returned);
    Q_EMIT statusChanged();
}

bool DeviceChannel::takeInFlight(quint64 id)
{
    return m_inFlight.remove(id);
}

void DeviceChannel::measure(const QElapsedTimer &sent)
{
    // Time this answer took to come out of the device: since it was sent, or since the previous
    // answer when the device was busy with others. Its average is the device's cost per image.
    qint64 ns = sent.nsecsElapsed();
    if (m_lastAnswer.isValid())
        ns = std::min(ns, m_lastAnswer.nsecsElapsed());
    const double ms = double(ns) / 1e6;
    m_costMs = m_costMs <= 0 ? ms : 0.8 * m_costMs + 0.2 * ms;
    m_lastAnswer.start();
}

void DeviceChannel::dropTransport()
{
    if (!m_transport)
        return;
    Transport *transport = m_transport;
    m_transport = nullptr;
    transport->disconnect(this);
    transport->deleteLater();
}

void DeviceChannel::markDown(const QString &reason)
{
    ++m_failures;
    m_lastError = reason;
    if (!m_down) {
        // Probes that fail while it is down do not count again.
        m_down = true;
        ++m_timesDown;
        qCInfo(lcChannel).noquote() << name() << "is down:" << reason;
    }
    setState(DeviceStatus::State::Down);
    m_settings->wait(m_backoff, m_settings->backoffDelay(m_failures));
}

void DeviceChannel::setState(DeviceStatus::State state)
{
    if (state == m_state)
        return;
    m_state = state;
    if (state == DeviceStatus::State::Up && m_down) {
        m_down = false;
        qCInfo(lcChannel).noquote() << name() << "is up again";
    }
    Q_EMIT statusChanged();
}

DeviceSpec::Protocol DeviceChannel::knownProtocol(const QString &key)
{
    QMutexLocker lock(&s_knownMutex);
    return s_known.value(key, DeviceSpec::Protocol::Auto);
}

void DeviceChannel::forgetKnownProtocols()
{
    QMutexLocker lock(&s_knownMutex);
    s_known.clear();
}

void DeviceChannel::rememberProtocol(const QString &key, DeviceSpec::Protocol protocol)
{
    QMutexLocker lock(&s_knownMutex);
    s_known.insert(key, protocol);
}

} // namespace edgelens
