#include "reconnectpolicy.h"

#include <algorithm>

namespace edgelens {

ReconnectPolicy::ReconnectPolicy(int initialMs, int maxMs)
    : m_initialMs(std::max(1, initialMs))
    , m_maxMs(std::max(m_initialMs, maxMs))
{
}

int ReconnectPolicy::nextDelayMs()
{
    ++m_generation;
    // Shifting past the cap's magnitude would overflow; the cap is reached long before.
    const int shift = std::min(m_attempts, 20);
    ++m_attempts;
    return int(std::min<qint64>(qint64(m_initialMs) << shift, m_maxMs));
}

void ReconnectPolicy::reset()
{
    ++m_generation;
    m_attempts = 0;
}

} // namespace edgelens
