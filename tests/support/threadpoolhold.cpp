#include "threadpoolhold.h"

#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

namespace edgelens::test {

ThreadPoolHold::ThreadPoolHold()
{
    const int threads = QThreadPool::globalInstance()->maxThreadCount();
    for (int i = 0; i < threads; ++i) {
        m_holders.append(QtConcurrent::run([this] {
            m_started.release();
            m_release.acquire();
        }));
    }
    m_started.acquire(threads);
}

ThreadPoolHold::~ThreadPoolHold()
{
    release();
}

void ThreadPoolHold::release()
{
    if (m_released)
        return;
    m_released = true;
    m_release.release(int(m_holders.size()));
    for (QFuture<void> &holder : m_holders)
        holder.waitForFinished();
}

} // namespace edgelens::test
