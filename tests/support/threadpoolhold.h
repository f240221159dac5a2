#pragma once

// Takes every thread of QThreadPool::globalInstance() until released (or destroyed), so work
// queued meanwhile with QtConcurrent cannot start. What a test uses to show, without timing,
// that a call returned without doing the work itself on the calling (GUI) thread: nothing
// appears while the pool is held, then everything does once it is let go.

#include <QFuture>
#include <QList>
#include <QSemaphore>

namespace edgelens::test {

class ThreadPoolHold final
{
    Q_DISABLE_COPY_MOVE(ThreadPoolHold)

public:
    ThreadPoolHold(); // returns once every thread of the pool is taken
    ~ThreadPoolHold();
    void release(); // lets the pool go and waits until the holders are gone

private:
    QSemaphore m_started;
    QSemaphore m_release;
    QList<QFuture<void>> m_holders;
    bool m_released = false;
};

} // namespace edgelens::test
