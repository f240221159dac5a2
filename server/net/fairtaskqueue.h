#pragma once

#include <QtGlobal>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

namespace edgelens {

// The engine's queue: one FIFO per owner (a client session), served round robin, so a client
// that queues a hundred images waits its turn like everyone else instead of starving the
// others, and a client that goes away takes its queued work with it (cancel()). Bounded:
// push() refuses past maxQueued waiting tasks. Worker threads block in pop().
//
// Own queue rather than QThreadPool: Qt 6.4's QThreadPool::clear() deletes queued runnables
// without finishing their futures, and the pool has no notion of whose work it holds.
class FairTaskQueue final
{
    Q_DISABLE_COPY_MOVE(FairTaskQueue)

public:
    using Task = std::function<void()>;

    explicit FairTaskQueue(int maxQueued = 64);

    void setMaxQueued(int maxQueued);
    int maxQueued() const;

    bool push(quint64 owner, Task task); // false: the queue is full (or closed); task dropped
    // Blocks until there is a task (counted as running until finished() is called) or the
    // queue is closed (nullopt).
    std::optional<Task> pop();
    void finished();

    int cancel(quint64 owner); // drops the owner's waiting tasks; returns how many
    int clear();               // drops every waiting task
    void close();              // wakes every pop() with nullopt; push() refuses from now on

    int queued() const;
    // Called with the new count whenever the number of waiting tasks changes, under the queue's
    // lock so that counts arrive in order; it must not call back into the queue.
    void setQueuedObserver(std::function<void(int)> observer);
    int queued(quint64 owner) const;
    int running() const;
    bool waitForIdle(int msecs); // nothing queued and nothing running; false on timeout

private:
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_idle;
    std::map<quint64, std::deque<Task>> m_queues;
    std::deque<quint64> m_turns; // owners with waiting tasks, whose turn is next first
    int m_queued = 0;
    int m_running = 0;
    int m_maxQueued;
    bool m_closed = false;
    std::function<void(int)> m_queuedObserver;

    void reportQueued(); // with m_mutex held
};

} // namespace edgelens
