#include "metrics/metricsregistry.h"
#include "metrics/servermetrics.h"
#include "promtoolcheck.h"

#include <QTest>
#include <QtConcurrent/QtConcurrentRun>

using namespace edgelens;

class TestMetrics : public QObject
{
    Q_OBJECT

private slots:
    void counters_renderWithLabelsInOrder()
    {
        MetricsRegistry registry;
        registry.declare(QStringLiteral("demo_requests_total"), MetricsRegistry::Type::Counter, QStringLiteral("Requests."));
        registry.add(QStringLiteral("demo_requests_total"), {{QStringLiteral("protocol"), QStringLiteral("http")}, {QStringLiteral("outcome"), QStringLiteral("ok")}});
        registry.add(QStringLiteral("demo_requests_total"), {{QStringLiteral("protocol"), QStringLiteral("http")}, {QStringLiteral("outcome"), QStringLiteral("ok")}}, 2);
        const QByteArray text = registry.exposition();
        QVERIFY2(text.contains("# HELP demo_requests_total Requests.\n# TYPE demo_requests_total counter\n"), text.constData());
        QVERIFY2(text.contains("demo_requests_total{protocol=\"http\",outcome=\"ok\"} 3\n"), text.constData());
        QCOMPARE(registry.value(QStringLiteral("demo_requests_total"), {{QStringLiteral("protocol"), QStringLiteral("http")}, {QStringLiteral("outcome"), QStringLiteral("ok")}}), 3.0);
    }

    void counters_neverGoDown_andUndeclaredIsIgnored()
    {
        MetricsRegistry registry;
        registry.declare(QStringLiteral("c_total"), MetricsRegistry::Type::Counter, QStringLiteral("c"));
        registry.add(QStringLiteral("c_total"), {}, 5);
        registry.add(QStringLiteral("c_total"), {}, -2);
        registry.add(QStringLiteral("nobody_declared_this"), {}, 1);
        QCOMPARE(registry.value(QStringLiteral("c_total")), 5.0);
        QVERIFY(!registry.exposition().contains("nobody_declared_this"));
    }

    void histogram_bucketsAreCumulative()
    {
        MetricsRegistry registry;
        registry.declare(QStringLiteral("lat_seconds"), MetricsRegistry::Type::Histogram, QStringLiteral("Latency."), {0.1, 1});
        for (double v : {0.05, 0.1, 0.5, 3.0})
            registry.observe(QStringLiteral("lat_seconds"), {{QStringLiteral("p"), QStringLiteral("x")}}, v);
        const QByteArray text = registry.exposition();
        QVERIFY2(text.contains("lat_seconds_bucket{p=\"x\",le=\"0.1\"} 2\n"), text.constData());
        QVERIFY2(text.contains("lat_seconds_bucket{p=\"x\",le=\"1\"} 3\n"), text.constData());
        QVERIFY2(text.contains("lat_seconds_bucket{p=\"x\",le=\"+Inf\"} 4\n"), text.constData());
        QVERIFY2(text.contains("lat_seconds_sum{p=\"x\"} 3.65\n"), text.constData());
        QVERIFY2(text.contains("lat_seconds_count{p=\"x\"} 4\n"), text.constData());
    }

    void labelValues_areEscaped()
    {
        QCOMPARE(MetricsRegistry::escapeLabelValue(QStringLiteral("a\"b\\c\nd")), QStringLiteral("a\\\"b\\\\c\\nd"));
        QCOMPARE(MetricsRegistry::formatValue(0.1), QStringLiteral("0.1"));
        QCOMPARE(MetricsRegistry::formatValue(42), QStringLiteral("42"));
        QCOMPARE(MetricsRegistry::formatValue(1.0 / 0.0), QStringLiteral("+Inf"));
    }

    void concurrentUpdates_loseNothing()
    {
        MetricsRegistry registry;
        registry.declare(QStringLiteral("n_total"), MetricsRegistry::Type::Counter, QStringLiteral("n"));
        registry.declare(QStringLiteral("h_seconds"), MetricsRegistry::Type::Histogram, QStringLiteral("h"), {0.5});
        QList<QFuture<void>> futures;
        for (int t = 0; t < 4; ++t) {
            futures.append(QtConcurrent::run([&registry] {
                for (int i = 0; i < 5000; ++i) {
                    registry.add(QStringLiteral("n_total"));
                    registry.observe(QStringLiteral("h_seconds"), {}, 0.25);
                }
            }));
        }
        for (QFuture<void> &f : futures)
            f.waitForFinished();
        QCOMPARE(registry.value(QStringLiteral("n_total")), 20000.0);
        QCOMPARE(registry.value(QStringLiteral("h_seconds")), 20000.0);
    }

    void serverMetrics_passPromtool()
    {
        ServerMetrics metrics;
        metrics.setModels({{QStringLiteral("nanodet-m-320"), QStringLiteral("nanodet"), QStringLiteral("opencv"), true},
                           {QStringLiteral("odd \"name\""), QStringLiteral("yolox"), QStringLiteral("opencv"), false}},
                          2);
        for (const auto p : {ServerMetrics::Protocol::Legacy, ServerMetrics::Protocol::V2, ServerMetrics::Protocol::Http}) {
            metrics.connectionOpened(p);
            metrics.requestStarted(p);
            metrics.requestFinished(p, 0.03);
            metrics.requestStarted(p);
            metrics.requestFinished(p, 0.001, QStringLiteral("undecodable_image"));
            metrics.bytesReceived(p, 1000);
            metrics.bytesSent(p, 200);
        }
        metrics.inferenceObserved(QStringLiteral("nanodet-m-320"), 0.034);
        metrics.setQueueDepth(3);
        QCOMPARE(metrics.requestCount(ServerMetrics::Protocol::V2), 2.0);

        const QByteArray text = metrics.exposition();
        for (const char *name : {"edgelens_requests_total", "edgelens_request_errors_total", "edgelens_request_duration_seconds",
                                 "edgelens_inference_duration_seconds", "edgelens_received_bytes_total",
                                 "edgelens_sent_bytes_total", "edgelens_requests_in_flight", "edgelens_open_connections",
                                 "edgelens_queue_depth", "edgelens_model_info"})
            QVERIFY2(text.contains(QByteArray(QByteArray("# TYPE ") + name + ' ')), name);
        QVERIFY(text.contains("\nedgelens_queue_depth 3\n"));
        bool missing = false;
        const QString problems = test::promtoolProblems(text, &missing);
        if (missing) {
            if (qEnvironmentVariable("CI") == QLatin1String("true"))
                QFAIL(qPrintable(problems));
            QSKIP(qPrintable(problems));
        }
        QVERIFY2(problems.isEmpty(), qPrintable(problems + QStringLiteral("\n") + QString::fromUtf8(text)));
    }
};

QTEST_GUILESS_MAIN(TestMetrics)
#include "tst_metrics.moc"
