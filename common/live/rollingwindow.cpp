#include "rollingwindow.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace edgelens {

RollingWindow::RollingWindow(qint64 windowMs)
    : m_windowMs(std::max<qint64>(1, windowMs))
{
}

void RollingWindow::add(qint64 nowMs, double value)
{
    if (m_firstMs < 0)
        m_firstMs = nowMs;
    m_samples.push_back({nowMs, value});
    prune(nowMs);
}

void RollingWindow::prune(qint64 nowMs)
{
    while (!m_samples.empty() && m_samples.front().atMs <= nowMs - m_windowMs)
        m_samples.pop_front();
}

double RollingWindow::ratePerSecond(qint64 nowMs) const
{
    if (m_samples.empty() || m_firstMs < 0)
        return 0;
    const qint64 span = std::min(m_windowMs, nowMs - m_firstMs);
    if (span <= 0)
        return 0;
    qint64 counted = 0;
    for (auto it = m_samples.rbegin(); it != m_samples.rend() && it->atMs > nowMs - m_windowMs; ++it)
        ++counted;
    return double(counted) * 1000.0 / double(span);
}

double RollingWindow::percentile(double q) const
{
    if (m_samples.empty())
        return 0;
    std::vector<double> values;
    values.reserve(m_samples.size());
    for (const Sample &s : m_samples)
        values.push_back(s.value);
    const double clamped = std::clamp(q, 0.0, 1.0);
    const size_t rank = size_t(std::max(0.0, std::ceil(clamped * double(values.size())) - 1));
    std::nth_element(values.begin(), values.begin() + qsizetype(rank), values.end());
    return values[rank];
}

double RollingWindow::mean() const
{
    if (m_samples.empty())
        return 0;
    double sum = 0;
    for (const Sample &s : m_samples)
        sum += s.value;
    return sum / double(m_samples.size());
}

} // namespace edgelens
