#pragma once

#include <QHash>
#include <QHostAddress>
#include <QList>

#include <functional>

namespace edgelens {

// Failed authentications per client address: after maxFailures within the window, that
// address is blocked until the oldest of those failures is older than the window. Attempts
// made while blocked are refused without being checked, so guessing is capped at
// maxFailures per window per address, whatever the protocol (v2 auth, HTTP api keys).
// The clock is injectable so tests need not wait a minute.
class AuthThrottle final
{
    Q_DISABLE_COPY_MOVE(AuthThrottle)

public:
    using Clock = std::function<qint64()>; // milliseconds, monotonic

    explicit AuthThrottle(int maxFailures = 5, qint64 windowMs = 60'000);

    void setClock(Clock clock); // empty: a monotonic clock
    int maxFailures() const { return m_maxFailures; }
    qint64 windowMs() const { return m_windowMs; }

    // Whether `address` is blocked now; *retryAfterMs says for how long.
    bool isBlocked(const QHostAddress &address, qint64 *retryAfterMs = nullptr);
    // Records a failure; true when it is the one that blocks the address.
    bool recordFailure(const QHostAddress &address);

    static QHostAddress normalized(const QHostAddress &address); // ::ffff:a.b.c.d -> a.b.c.d

private:
    qint64 now() const;
    QList<qint64> &recentFailures(const QHostAddress &address, qint64 at);
    void prune(qint64 at);

    int m_maxFailures;
    qint64 m_windowMs;
    Clock m_clock;
    QHash<QString, QList<qint64>> m_failures; // by normalized address text; oldest first
    qint64 m_lastPrune = 0;
};

} // namespace edgelens
