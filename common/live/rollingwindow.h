#pragma once

#include <QtGlobal>

#include <deque>

namespace edgelens {

// Samples of the last few seconds (by a monotonic clock in ms the caller gives), for the live
// figures: rates and percentiles "over the last 10 s" rather than since the start, so a
// figure shows what happens now. Not thread-safe: one owner.
class RollingWindow final
{
public:
    explicit RollingWindow(qint64 windowMs = 10000);

    void add(qint64 nowMs, double value);
    void prune(qint64 nowMs);
    int count() const { return int(m_samples.size()); }
    bool isEmpty() const { return m_samples.empty(); }
    // Events per second over the window (or over the time since the first sample, when
    // the window has not filled yet).
    double ratePerSecond(qint64 nowMs) const;
    // q in 0..1 (nearest rank); 0 when empty.
    double percentile(double q) const;
    double mean() const;
    qint64 windowMs() const { return m_windowMs; }
    void clear() { m_samples.clear(); }

private:
    struct Sample
    {
        qint64 atMs;
        double value;
    };
    qint64 m_windowMs;
    qint64 m_firstMs = -1;
    std::deque<Sample> m_samples;
};

} // namespace edgelens
