#include "fairtaskqueue.h"

#include <algorithm>
#include <chrono>

namespace edgelens {

FairTaskQueue::FairTaskQueue(int maxQueued)
    : m_maxQueued(qMax(1, maxQueued))
{
}

void FairTaskQueue::setMaxQueued(int maxQueued)
{
    std::lock_guard lock(m_mutex);
    m_maxQueued = qMax(1, maxQueued);
}

int FairTaskQueue::maxQueued() const
{
    std::lock_guard lock(m_mutex);
    return m_maxQueued;
}

bool FairTaskQueue::push(quint64 owner, Task task)
{
    {
        std::lock_guard lock(m_mutex);
        if (m_closed || m_queued >= m_maxQueued)
            return false;
        std::deque<Task> &queue = m_queues[owner];
        if (queue.empty())
            m_turns.push_back(owner);
        queue.push_back(std::move(task));
        ++m_queued;
        reportQueued();
    }
    m_wake.notify_one();
    return true;
}

std::optional<FairTaskQueue::Task> FairTaskQueue::pop()
{
    std::unique_lock lock(m_mutex);
    m_wake.wait(lock, [this] { return m_closed || !m_turns.empty(); });
    if (m_closed)
        return std::nullopt;
    const quint64 owner = m_turns.front();
    m_turns.pop_front();
    const auto it = m_queues.find(owner);
    Task task = std::move(it->second.front());
    it->second.pop_front();
    if (it->second.empty())
        m_queues.erase(it);
    else
        m_turns.push_back(owner); // its next task waits for everyone else's turn
    --m_queued;
    ++m_running;
    reportQueued();
    return task;
}

void FairTaskQueue::finished()
{
    {
        std::lock_guard lock(m_mutex);
        --m_running;
    }
    m_idle.notify_all();
}

int FairTaskQueue::cancel(quint64 owner)
{
    int dropped = 0;
    {
        std::lock_guard lock(m_mutex);
        const auto it = m_queues.find(owner);
        if (it == m_queues.end())
            return 0;
        dropped = int(it->second.size());
        m_queues.erase(it);
        m_turns.erase(std::remove(m_turns.begin(), m_turns.end(), owner), m_turns.end());
        m_queued -= dropped;
        reportQueued();
    }
    m_idle.notify_all();
    return dropped;
}

int FairTaskQueue::clear()
{
    int dropped = 0;
    {
        std::lock_guard lock(m_mutex);
        dropped = m_queued;
        m_queues.clear();
        m_turns.clear();
        m_queued = 0;
        reportQueued();
    }
    m_idle.notify_all();
    return dropped;
}

void FairTaskQueue::close()
{
    {
        std::lock_guard lock(m_mutex);
        m_closed = true;
    }
    m_wake.notify_all();
}

void FairTaskQueue::setQueuedObserver(std::function<void(int)> observer)
{
    std::lock_guard lock(m_mutex);
    m_queuedObserver = std::move(observer);
    reportQueued();
}

void FairTaskQueue::reportQueued()
{
    if (m_queuedObserver)
        m_queuedObserver(m_queued);
}

int FairTaskQueue::queued() const
{
    std::lock_guard lock(m_mutex);
    return m_queued;
}

int FairTaskQueue::queued(quint64 owner) const
{
    std::lock_guard lock(m_mutex);
    const auto it = m_queues.find(owner);
    return it == m_queues.end() ? 0 : int(it->second.size());
}

int FairTaskQueue::running() const
{
    std::lock_guard lock(m_mutex);
    return m_running;
}

bool FairTaskQueue::waitForIdle(int msecs)
{
    std::unique_lock lock(m_mutex);
    const auto idle = [this] { return m_queued == 0 && m_running == 0; };
    if (msecs < 0) {
        m_idle.wait(lock, idle);
        return true;
    }
    return m_idle.wait_for(lock, std::chrono::milliseconds(msecs), idle);
}

} // namespace edgelens
