// The engine's queue: round robin between owners, per-owner cancel, the bound.

#include "net/fairtaskqueue.h"

#include <QFile>
#include <QTest>
#include <QThread>

#include <atomic>

#include <sys/types.h>
#include <unistd.h>

using namespace edgelens;

namespace {

// A thread of this process as the kernel sees it: 'R' running, 'S' asleep (waiting on a futex,
// for one), ... ('?' when it cannot be read).
char threadState(pid_t tid)
{
    QFile stat(QStringLiteral("/proc/self/task/%1/stat").arg(tid));
    if (!stat.open(QIODevice::ReadOnly))
        return '?';
    // "tid (comm) S ...": the state follows the last ')' (a thread's name may hold one).
    const QByteArray line = stat.readAll();
    const int close = line.lastIndexOf(')');
    return close >= 0 && close + 2 < line.size() ? line.at(close + 2) : '?';
}

} // namespace

class TestFairTaskQueue : public QObject
{
    Q_OBJECT

private slots:
    void ownersTakeTurns_soABigBacklogCannotStarveOthers()
    {
        FairTaskQueue queue(100);
        QList<int> order;
        for (int i = 0; i < 6; ++i)
            QVERIFY(queue.push(1, [&order] { order.append(1); }));
        QVERIFY(queue.push(2, [&order] { order.append(2); }));
        QVERIFY(queue.push(3, [&order] { order.append(3); }));
        QVERIFY(queue.push(2, [&order] { order.append(2); }));
        while (queue.queued() > 0) {
            (*queue.pop())();
            queue.finished();
        }
        // Owner 1 queued six first, yet 2 and 3 are served within the first rounds.
        QCOMPARE(order, (QList<int>{1, 2, 3, 1, 2, 1, 1, 1, 1}));
    }

    void cancel_dropsOnlyThatOwnersWaitingTasks()
    {
        FairTaskQueue queue(100);
        int ran = 0;
        for (int i = 0; i < 5; ++i) {
            queue.push(7, [&ran] { ran += 100; });
            queue.push(8, [&ran] { ran += 1; });
        }
        QCOMPARE(queue.queued(7), 5);
        QCOMPARE(queue.cancel(7), 5);
        QCOMPARE(queue.cancel(7), 0);
        QCOMPARE(queue.queued(), 5);
        while (queue.queued() > 0) {
            (*queue.pop())();
            queue.finished();
        }
        QCOMPARE(ran, 5);
    }

    void push_refusesAboveTheBound()
    {
        FairTaskQueue queue(3);
        QVERIFY(queue.push(1, [] {}));
        QVERIFY(queue.push(2, [] {}));
        QVERIFY(queue.push(3, [] {}));
        QVERIFY(!queue.push(4, [] {}));
        QCOMPARE(queue.queued(), 3);
        queue.pop();
        QCOMPARE(queue.running(), 1);
        QVERIFY2(queue.push(4, [] {}), "a running task no longer counts against the bound");
        QCOMPARE(queue.clear(), 3);
        QVERIFY(!queue.waitForIdle(50)); // one still running
        queue.finished();
        QVERIFY(queue.waitForIdle(0));
    }

    void close_wakesBlockedWorkers()
    {
        FairTaskQueue queue;
        std::atomic<bool> woke{false};
        std::atomic<pid_t> workerTid{0};
        QThread *worker = QThread::create([&] {
            workerTid = ::gettid();
            woke = !queue.pop().has_value();
        });
        worker->start();
        // close() must wake a worker already asleep in pop(), not one that has yet to get there:
        // the worker's next step after saying who it is is pop(), where it sleeps (state S).
        QTRY_VERIFY_WITH_TIMEOUT(workerTid != 0 && threadState(workerTid) == 'S', 10000);
        queue.close();
        QVERIFY(worker->wait(5000));
        delete worker;
        QVERIFY(woke);
        QVERIFY(!queue.push(1, [] {}));
    }
};

QTEST_GUILESS_MAIN(TestFairTaskQueue)
#include "tst_fairtaskqueue.moc"
