#include "outagepolicy.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QLoggingCategory>

#include <algorithm>

Q_LOGGING_CATEGORY(lcOutage, "edgelens.processing.outage", QtInfoMsg)

namespace edgelens {

namespace {

qint64 steadyMs()
{
    static QElapsedTimer clock = [] {
        QElapsedTimer started;
        started.start();
        return started;
    }();
    return clock.elapsed();
}

} // namespace

OutagePolicy::OutagePolicy(Clock clock)
    : m_clock(std::move(clock))
{
}

void OutagePolicy::setLimit(int milliseconds)
{
    m_limitMs = std::max(0, milliseconds);
}

qint64 OutagePolicy::now() const
{
    return m_clock ? m_clock() : steadyMs();
}

OutagePolicy::Decision OutagePolicy::onFailure(bool retryable, bool connected, int strikes)
{
    // An item that keeps failing while others get through is the problem, not the link; and
    // a failure on a live connection may have reached the server: a second copy would be
    // processed twice.
    if (!retryable || connected || strikes >= kMaxStrikes || !m_linkWorked)
        return Decision::Fail;
    if (m_since < 0) {
        m_since = now();
        qCInfo(lcOutage) << "outage started";
    }
    return outageMs() < m_limitMs ? Decision::SendAgain : Decision::FailEverything;
}

int OutagePolicy::resendDelay(qint64 sentAgoMs)
{
    return int(std::clamp<qint64>(kMinResendMs - sentAgoMs, 0, kMinResendMs));
}

bool OutagePolicy::onSuccess()
{
    m_linkWorked = true;
    return reset();
}

bool OutagePolicy::forget()
{
    m_linkWorked = false;
    return reset();
}

bool OutagePolicy::reset()
{
    if (m_since < 0)
        return false;
    qCInfo(lcOutage) << "outage over after" << outageMs() << "ms";
    m_since = -1;
    return true;
}

qint64 OutagePolicy::outageMs() const
{
    return m_since < 0 ? 0 : std::max<qint64>(0, now() - m_since);
}

QString OutagePolicy::givingUp(const QString &reason) const
{
    return QCoreApplication::translate("OutagePolicy", "%1 (nothing got through for %2 s)")
        .arg(reason)
        .arg(outageMs() / 1000);
}

} // namespace edgelens
