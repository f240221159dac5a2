// `edgelens-cli live` run as a process, the way scripts run it, against a real RTSP stream on
// loopback: one JSON line per detected frame and a summary; "reconnecting" on stderr when the
// stream goes away, and frames again when it is back.

#include "livestreamprocess.h"
#include "processrunner.h"
#include "testdata.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTest>

#include <csignal>

using namespace edgelens;
using test::LiveStreamProcess;

namespace {

QList<QJsonObject> jsonLines(const QString &out, QString *bad)
{
    QList<QJsonObject> lines;
    for (const QString &line : out.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(line.toUtf8(), &error);
        if (!doc.isObject()) {
            *bad = line;
            return {};
        }
        lines.append(doc.object());
    }
    return lines;
}

QStringList streamArguments()
{
    return {QStringLiteral("--size"), QStringLiteral("640x360"), QStringLiteral("--fps"), QStringLiteral("15"),
            QStringLiteral("--background"), test::samplePath(QStringLiteral("soccer.jpg"))};
}

} // namespace

class TestCliLive : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        EDGELENS_REQUIRE(LiveStreamProcess::missingTools().isEmpty(), LiveStreamProcess::missingTools());
        EDGELENS_REQUIRE_SHARED("data/samples/soccer.jpg");
    }

    void rtsp_printsOneJsonLinePerDetectedFrame_andASummary()
    {
        LiveStreamProcess stream;
        QVERIFY2(stream.start(QStringLiteral("rtsp"), 0, streamArguments()), qPrintable(stream.diagnostics()));
        const test::ProcessRun run = test::runProcess(
            test::executablePath(QStringLiteral("edgelens-cli")),
            {QStringLiteral("live"), stream.url(), QStringLiteral("--duration"), QStringLiteral("6"),
             QStringLiteral("--json-lines"), QStringLiteral("--model"), QStringLiteral("nanodet-m-320")});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QString bad;
        const QList<QJsonObject> lines = jsonLines(run.out, &bad);
        QVERIFY2(bad.isEmpty(), qPrintable(QStringLiteral("not JSON: ") + bad));
        QVERIFY2(lines.size() >= 4, qPrintable(run.out + run.err));
        const QJsonObject summary = lines.last().value(QStringLiteral("summary")).toObject();
        QVERIFY2(!summary.isEmpty(), "the last line is the summary");
        QCOMPARE(summary.value(QStringLiteral("source_width")).toInt(), 640);
        QCOMPARE(summary.value(QStringLiteral("detected")).toDouble(), double(lines.size() - 1));
        QVERIFY(summary.value(QStringLiteral("latency_from_stamps")).toBool());
        QVERIFY(summary.value(QStringLiteral("latency_p95_ms")).toDouble() > 0);
        double previous = 0;
        int persons = 0;
        for (int i = 0; i + 1 < lines.size(); ++i) {
            const QJsonObject &line = lines.at(i);
            QVERIFY2(line.value(QStringLiteral("frame")).toDouble() > previous, "frames in capture order");
            previous = line.value(QStringLiteral("frame")).toDouble();
            QVERIFY(line.value(QStringLiteral("captured_ms")).toDouble() > 0);
            QVERIFY(line.value(QStringLiteral("timestamp")).toString().endsWith(QLatin1Char('Z')));
            QVERIFY(line.value(QStringLiteral("latency_ms")).toDouble() >= 0);
            QCOMPARE(line.value(QStringLiteral("device")).toString(), QStringLiteral("embedded"));
            for (const QJsonValue &d : line.value(QStringLiteral("detections")).toArray())
                persons += d.toObject().value(QStringLiteral("label")).toString() == QLatin1String("person");
        }
        QVERIFY2(persons > 0, "the soccer players are detected");
    }

    void streamGoesAway_reconnectingOnStderr_framesResume()
    {
        LiveStreamProcess stream;
        QVERIFY2(stream.start(QStringLiteral("rtsp"), 0, streamArguments()), qPrintable(stream.diagnostics()));
        const quint16 port = stream.port();
        QProcess cli;
        cli.start(test::executablePath(QStringLiteral("edgelens-cli")),
                  {QStringLiteral("live"), stream.url(), QStringLiteral("--duration"), QStringLiteral("60"),
                   QStringLiteral("--json-lines"), QStringLiteral("--quiet"), QStringLiteral("--model"),
                   QStringLiteral("nanodet-m-320")});
        QVERIFY(cli.waitForStarted(5000));
        QString out, err;
        const auto pump = [&] {
            out += QString::fromUtf8(cli.readAllStandardOutput());
            err += QString::fromUtf8(cli.readAllStandardError());
        };
        QTRY_VERIFY2_WITH_TIMEOUT((pump(), out.count(QLatin1Char('\n')) >= 3), qPrintable(err), 60000);
        stream.kill();
        QTRY_VERIFY2_WITH_TIMEOUT((pump(), err.contains(QStringLiteral("reconnecting"))), qPrintable(err), 3000);
        QVERIFY2(stream.start(QStringLiteral("rtsp"), port, streamArguments()), qPrintable(stream.diagnostics()));
        QTRY_VERIFY2_WITH_TIMEOUT((pump(), err.contains(QStringLiteral("live again"))), qPrintable(err), 10000);
        const qsizetype linesBefore = out.count(QLatin1Char('\n'));
        QTRY_VERIFY2_WITH_TIMEOUT((pump(), out.count(QLatin1Char('\n')) > linesBefore + 1), qPrintable(err), 20000);
        ::kill(pid_t(cli.processId()), SIGINT); // ends early, with its summary
        QVERIFY(cli.waitForFinished(20000));
        pump();
        test::failOnSanitizerReport(cli.program(), err);
        QCOMPARE(cli.exitCode(), 0);
        QVERIFY2(out.trimmed().section(QLatin1Char('\n'), -1).contains(QStringLiteral("\"summary\"")), qPrintable(out));
        // FFmpeg's own complaints ("Connection refused") go to the log, not to the terminal.
        QVERIFY2(!err.contains(QStringLiteral("[tcp @")), qPrintable(err));
    }
};

QTEST_GUILESS_MAIN(TestCliLive)
#include "tst_clilive.moc"
