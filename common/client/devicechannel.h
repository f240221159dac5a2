#pragma once

// One device of a target (gRPC's subchannel): its transport, its health and its numbers.
//
// Protocol: V2, Legacy and DeepStack (HTTP) are used as configured. Auto opens a probing v2
// session (never HTTP): a preamble proves v2; silence (or two closes in a row before the
// preamble) makes legacy a guess that is used but not remembered; only a completed legacy
// exchange proves legacy. Proven answers are remembered per host:port for the life of the
// process (knownProtocol).
//
// Health: a connect failure, a dropped connection or a request without an answer within the
// timeout marks the device Down. Everything it had in flight is handed back at once
// (requestsReturned) so the pool can send it elsewhere, and the device is probed again with
// exponential backoff while the pool has work; the probe that connects brings it back Up.
//
// The channel never fails or retries a request on its own account except for answers the
// device itself gave (requestFailed); the pool decides what happens to returned requests.

#include "client/clientresult.h"
#include "client/devicespec.h"
#include "client/transport.h"

#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <memory>

namespace edgelens {

class SocketFactory;

// Settings every channel of a pool reads live (owned by the pool).
struct ChannelSettings
{
    QString token;
    int maxInFlight = 4;
    int timeoutMs = 30000;
    int probeTimeoutMs = 1000;
    int maxRetries = 3;
    // How a lost device is probed again: the reconnect half of the one retry policy (the other
    // half, what the processing loop does with requests handed back, is OutagePolicy's).
    static constexpr int kDefaultBackoffInitialMs = 200;
    static constexpr int kDefaultBackoffMaxMs = 3000;
    int backoffInitialMs = kDefaultBackoffInitialMs;
    int backoffMaxMs = kDefaultBackoffMaxMs;
    std::shared_ptr<SocketFactory> sockets;    // plain TCP
    std::shared_ptr<SocketFactory> tlsSockets; // devices with tls == true
    // How a channel starts its waits (the backoff before the next probe, the cool-down after a
    // busy answer); empty: timer.start(ms). Tests put their own clock here: it sees every delay
    // asked for and decides when the wait is over (timer.start(0)), so the backoff is measured
    // without waiting for it.
    std::function<void(QTimer &timer, int ms)> startWait;

    int backoffDelay(int failures) const;
    void wait(QTimer &timer, int ms) const;
};

// What a channel hands back when it cannot finish requests.
struct ReturnedRequests
{
    QList<quint64> unsent;   // never reached the device: re-send without counting a retry
    QList<quint64> dropped;  // reached the device, answer lost: a re-send is a retry
    QList<quint64> timedOut; // no answer within the timeout: the device may still be working on them
    QString reason;
};

class DeviceChannel final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DeviceChannel)

public:
    DeviceChannel(const DeviceSpec &device, const ChannelSettings *settings, std::function<bool()> poolHasWork,
                  QObject *parent = nullptr);
    ~DeviceChannel() override;

    const DeviceSpec &device() const { return m_device; }
    QString name() const { return m_device.name(); }
    DeviceStatus status() const;
    DeviceStatus::State state() const { return m_state; }
    DeviceSpec::Protocol protocol() const; // V2 or Legacy once known (or guessed), else Auto

    // Work is waiting: connect if idle, probe if down and the backoff has passed.
    void activate();
    // Whether send() may be called now (up, below its in-flight limit, not cooling down).
    bool canTake() const;
    int inFlight() const { return int(m_inFlight.size()); }
    // Measured milliseconds per image at this device's throughput; 0 until measured.
    double costMs() const { return m_costMs; }
    void send(const OutgoingRequest &request);
    void forget(quint64 id);
    // Hand back everything in flight as unsent and close (settings changed, channel removed).
    QList<quint64> shutdown();

    // Refused, or down after more than maxRetries failures in a row: the pool stops waiting.
    // A refused device stays refused until the pool is rebuilt (settings changed).
    bool exhausted() const;
    void resetFailures();
    void countFailed() { ++m_failed; }

    // Process-wide memory of proven protocols per host:port.
    static DeviceSpec::Protocol knownProtocol(const QString &key);
    static void forgetKnownProtocols();

Q_SIGNALS:
    void replied(quint64 id, const edgelens::ClientResult &result);
    void infoReceived(quint64 id, const QJsonObject &info, double roundTripMs);
    void pongReceived(quint64 id, double roundTripMs);
    void requestFailed(quint64 id, const QString &reason, bool retryable);
    void requestsReturned(const edgelens::ReturnedRequests &returned);
    void protocolDetected(edgelens::DeviceSpec::Protocol protocol);
    void statusChanged(); // state, counts or capacity changed

private:
    TransportSettings transportSettings() const;
    void startTransport(Transport *transport);
    void openV2(bool probing);
    void openDeepStack();
    void handleReady();
    void handleLost(const QString &reason, Transport::Loss loss);
    void handleReplied(quint64 id, const ClientResult &result);
    void handleRequestFailed(quint64 id, const QString &reason, bool retryable);
    void handleBusy(quint64 id, const QString &reason);
    void checkDeadlines();
    void dropTransport();
    void markDown(const QString &reason);
    void setState(DeviceStatus::State state);
    bool takeInFlight(quint64 id);
    void measure(const QElapsedTimer &sent);
    static void rememberProtocol(const QString &key, DeviceSpec::Protocol protocol);

    const DeviceSpec m_device;
    const ChannelSettings *m_settings;
    std::function<bool()> m_poolHasWork;
    DeviceStatus::State m_state = DeviceStatus::State::Idle;
    QPointer<Transport> m_transport;
    QHash<quint64, QElapsedTimer> m_inFlight; // id -> when it was sent
    bool m_legacyGuess = false;     // Auto: using legacy without proof
    int m_closedBeforePreamble = 0; // Auto: in a row, before anything was learned
    int m_failures = 0;             // in a row; reset by any answer
    int m_busyRun = 0;
    QTimer m_backoff;  // Down: next probe
    QTimer m_cooldown; // after a busy answer: no new work for a moment
    QTimer m_watchdog; // request deadlines
    QElapsedTimer m_lastAnswer;
    double m_costMs = 0;
    int m_done = 0;
    int m_failed = 0;
    int m_timesDown = 0;
    bool m_down = false; // went down and has not answered since
    QString m_lastError;
};

} // namespace edgelens

Q_DECLARE_METATYPE(edgelens::ReturnedRequests)
