// The engine's queue: round robin between owners, per-owner cancel, the bound.

#include "net/fairtaskqueue.h"

#include <QTest>
#include <QThread>

#include <atomic>

using namespace edgelens;

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
        QThread *worker = QThread::create([&] {
            woke = !queue.pop().has_value();
        });
        worker->start();
        QTest::qWait(50);
        queue.close();
        QVERIFY(worker->wait(5000));
        delete worker;
        QVERIFY(woke);
        QVERIFY(!queue.push(1, [] {}));
    }
};

QTEST_GUILESS_MAIN(TestFairTaskQueue)
#include "tst_fairtaskqueue.moc"
