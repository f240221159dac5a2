#include "auththrottle.h"

#include <QElapsedTimer>

namespace edgelens {

namespace {

// Addresses remembered at most; past it the stalest are forgotten first, so a flood of
// spoofed-looking sources cannot grow the table without bound.
constexpr int kMaxAddresses = 10'000;

} // namespace

AuthThrottle::AuthThrottle(int maxFailures, qint64 windowMs)
    : m_maxFailures(qMax(1, maxFailures))
    , m_windowMs(qMax<qint64>(1, windowMs))
{
}

void AuthThrottle::setClock(Clock clock)
{
    m_clock = std::move(clock);
    m_failures.clear();
    m_lastPrune = 0;
}

qint64 AuthThrottle::now() const
{
    if (m_clock)
        return m_clock();
    static QElapsedTimer monotonic;
    if (!monotonic.isValid())
        monotonic.start();
    return monotonic.elapsed();
}

QHostAddress AuthThrottle::normalized(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4) : address;
}

QList<qint64> &AuthThrottle::recentFailures(const QHostAddress &address, qint64 at)
{
    QList<qint64> &times = m_failures[normalized(address).toString()];
    while (!times.isEmpty() && at - times.first() >= m_windowMs)
        times.removeFirst();
    return times;
}

void AuthThrottle::prune(qint64 at)
{
    if (at - m_lastPrune < m_windowMs && m_failures.size() < kMaxAddresses)
        return;
    m_lastPrune = at;
    for (auto it = m_failures.begin(); it != m_failures.end();) {
        if (it->isEmpty() || at - it->last() >= m_windowMs)
            it = m_failures.erase(it);
        else
            ++it;
    }
    while (m_failures.size() >= kMaxAddresses) {
        auto stalest = m_failures.begin();
        for (auto it = m_failures.begin(); it != m_failures.end(); ++it) {
            if (it->last() < stalest->last())
                stalest = it;
        }
        m_failures.erase(stalest);
    }
}

bool AuthThrottle::isBlocked(const QHostAddress &address, qint64 *retryAfterMs)
{
    const qint64 at = now();
    const auto it = m_failures.find(normalized(address).toString());
    if (it == m_failures.end())
        return false;
    QList<qint64> &times = recentFailures(address, at);
    if (times.size() < m_maxFailures)
        return false;
    if (retryAfterMs)
        *retryAfterMs = times.at(times.size() - m_maxFailures) + m_windowMs - at;
    return true;
}

bool AuthThrottle::recordFailure(const QHostAddress &address)
{
    const qint64 at = now();
    prune(at);
    QList<qint64> &times = recentFailures(address, at);
    times.append(at);
    while (times.size() > m_maxFailures)
        times.removeFirst();
    return times.size() == m_maxFailures;
}

} // namespace edgelens
