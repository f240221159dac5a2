#pragma once

#include <QtGlobal>

namespace edgelens {

// When to try a lost live source again: capped exponential backoff (first retry soon, then
// doubling up to a cap, so a camera that comes back is found within the cap), reset by a
// start that delivered frames. A generation counter, bumped by every new attempt and by
// reset(), lets whoever waits on a retry tell a stale one (scheduled before the source came
// back, or before it was closed) from the current one. Not thread-safe: one owner.
class ReconnectPolicy final
{
public:
    ReconnectPolicy(int initialMs = 250, int maxMs = 1000);

    // A failure: the delay before the next attempt, and a new generation for it.
    int nextDelayMs();
    quint64 generation() const { return m_generation; }
    bool isCurrent(quint64 generation) const { return generation == m_generation; }
    int attempts() const { return m_attempts; } // failures in a row
    // The source delivered frames again: the next failure starts from the initial delay.
    void reset();

    int initialMs() const { return m_initialMs; }
    int maxMs() const { return m_maxMs; }

private:
    int m_initialMs;
    int m_maxMs;
    int m_attempts = 0;
    quint64 m_generation = 0;
};

} // namespace edgelens
