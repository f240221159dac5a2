// edgelens-cli against a pool of real edgelens-server processes, one of which is killed and
// restarted mid-run: every image ends exactly once and the restarted device rejoins. Driven by
// what the servers log, not by how long a model takes: the device is killed once it has served
// some images, and the other two are paused (SIGSTOP) until the restarted one has served one,
// so work is left for it however fast the machine is.

#include "isolateduserstate.h"
#include "processrunner.h"
#include "serverprocess.h"
#include "testdata.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QTest>

#include <QRegularExpression>

#include <csignal>
#include <memory>
#include <sys/types.h>

using edgelens::test::filesUnder;

namespace {

// Requests a server's log says it answered ("127.0.0.1:PORT v2 #N detect ... -> ...").
int detectsServed(const QByteArray &log)
{
    static const QRegularExpression served(QStringLiteral(" detect .*-> "));
    int count = 0;
    auto it = served.globalMatch(QString::fromUtf8(log));
    while (it.hasNext()) {
        it.next();
        ++count;
    }
    return count;
}

void signalProcess(QProcess *process, int signal)
{
    if (process->state() != QProcess::NotRunning)
        ::kill(pid_t(process->processId()), signal);
}

} // namespace

class TestCliPool : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void threeDevices_oneKilledAndRestarted_everyImageOnce();
    void hostOption_badValue_isAUsageError();
    void embeddedJoinsADeviceWithAnotherModel_noteSaysSo_sidecarsNameEachModel();

private:
    std::unique_ptr<QProcess> startServer(quint16 port);
    // Until `server` logs "listening on 127.0.0.1:PORT": the port, 0 when it did not (*log has its output).
    static quint16 waitUntilListening(QProcess *server, QByteArray *log);
    QString m_cli;
    QString m_server;
    QString m_samples;
    edgelens::test::IsolatedUserState m_dir;
    std::vector<std::unique_ptr<QProcess>> m_processes;
};

void TestCliPool::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_cli = edgelens::test::executablePath(QStringLiteral("edgelens-cli"));
    m_server = edgelens::test::executablePath(QStringLiteral("edgelens-server"));
    QVERIFY2(QFileInfo(m_cli).isExecutable(), qPrintable(m_cli));
    QVERIFY2(QFileInfo(m_server).isExecutable(), qPrintable(m_server));
    m_samples = edgelens::test::samplesDir();
    const bool haveSamples = QDir(m_samples).entryList({QStringLiteral("*.jpg")}, QDir::Files).size() == 9;
    if (!haveSamples) {
        if (qEnvironmentVariable("CI") == QLatin1String("true"))
            QFAIL(qPrintable(QStringLiteral("the nine sample images are missing from %1").arg(m_samples)));
        QSKIP("sample images not found under EDGELENS_SHARED_DIR");
    }
}

void TestCliPool::cleanup()
{
    for (auto &process : m_processes) {
        if (process->state() != QProcess::NotRunning) {
            signalProcess(process.get(), SIGCONT); // a paused server, should the test have failed meanwhile
            process->kill();
            process->waitForFinished(5000);
        }
    }
    m_processes.clear();
}

std::unique_ptr<QProcess> TestCliPool::startServer(quint16 port)
{
    auto process = std::make_unique<QProcess>();
    process->setProcessChannelMode(QProcess::MergedChannels);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    const auto child = m_dir.childEnvironment();
    for (auto it = child.cbegin(); it != child.cend(); ++it)
        env.insert(it.key(), it.value());
    process->setProcessEnvironment(env);
    process->start(m_server, QStringList{QStringLiteral("--host"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                                         QString::number(port), QStringLiteral("--workers"), QStringLiteral("1"),
                                         QStringLiteral("--threads"), QStringLiteral("1")});
    return process;
}

quint16 TestCliPool::waitUntilListening(QProcess *server, QByteArray *log)
{
    static const QRegularExpression listening(QStringLiteral("listening on 127\\.0\\.0\\.1:(\\d+)"));
    QRegularExpressionMatch match;
    const bool ok = QTest::qWaitFor(
        [&] {
            *log += server->readAll();
            match = listening.match(QString::fromUtf8(*log));
            return match.hasMatch() || server->state() == QProcess::NotRunning;
        },
        60000);
    return ok && match.hasMatch() ? quint16(match.captured(1).toUInt()) : 0;
}

void TestCliPool::threeDevices_oneKilledAndRestarted_everyImageOnce()
{
    // 180 images: the nine samples in 20 folders.
    const QString in = m_dir.filePath(QStringLiteral("pool-in"));
    const QStringList samples = QDir(m_samples).entryList({QStringLiteral("*.jpg")}, QDir::Files);
    QSet<QString> expected;
    for (int folder = 0; folder < 20; ++folder) {
        const QString sub = QStringLiteral("f%1").arg(folder, 2, 10, QLatin1Char('0'));
        QVERIFY(QDir().mkpath(in + QLatin1Char('/') + sub));
        for (const QString &sample : samples) {
            QVERIFY(QFile::copy(m_samples + QLatin1Char('/') + sample, in + QLatin1Char('/') + sub + QLatin1Char('/') + sample));
            expected.insert(sub + QLatin1Char('/') + QFileInfo(sample).completeBaseName());
        }
    }
    QCOMPARE(expected.size(), 180);

    // Each server takes a port of the system's choice and says which.
    QList<quint16> ports;
    QList<QProcess *> servers;
    QList<QByteArray> logs(3);
    for (int i = 0; i < 3; ++i) {
        m_processes.push_back(startServer(0));
        servers.append(m_processes.back().get());
    }
    for (int i = 0; i < 3; ++i) {
        const quint16 port = waitUntilListening(servers[i], &logs[i]);
        QVERIFY2(port != 0, logs[i].constData());
        ports.append(port);
    }

    const QString out = m_dir.filePath(QStringLiteral("pool-out"));
    auto cli = std::make_unique<QProcess>();
    QProcess *cliProcess = cli.get();
    m_processes.push_back(std::move(cli));
    QStringList args;
    for (quint16 port : std::as_const(ports))
        args << QStringLiteral("--host") << QStringLiteral("127.0.0.1:%1").arg(port);
    args << QStringLiteral("--json") << QStringLiteral("--quiet") << QStringLiteral("--output") << out << in;
    cliProcess->start(m_cli, args);
    QVERIFY(cliProcess->waitForStarted(10000));

    // Device 1 is killed once it has served a few, with work in flight.
    QTRY_VERIFY_WITH_TIMEOUT(detectsServed(logs[1] += servers[1]->readAll()) >= 3, 120000);
    QVERIFY2(cliProcess->state() == QProcess::Running, "the run ended before the device could be killed");
    // The others pause, so that whatever is left waits for the restarted device.
    signalProcess(servers[0], SIGSTOP);
    signalProcess(servers[2], SIGSTOP);
    servers[1]->kill(); // SIGKILL
    QVERIFY(servers[1]->waitForFinished(5000));
    m_processes.push_back(startServer(ports[1]));
    QProcess *restarted = m_processes.back().get();
    QByteArray restartedLog;
    QCOMPARE(waitUntilListening(restarted, &restartedLog), ports[1]);
    // It rejoins: the client probes it again and sends it work.
    QTRY_VERIFY_WITH_TIMEOUT(detectsServed(restartedLog += restarted->readAll()) >= 1, 120000);
    signalProcess(servers[0], SIGCONT);
    signalProcess(servers[2], SIGCONT);

    QTRY_VERIFY_WITH_TIMEOUT(cliProcess->state() == QProcess::NotRunning, 300000);
    const QString stdoutText = QString::fromUtf8(cliProcess->readAllStandardOutput());
    const QString stderrText = QString::fromUtf8(cliProcess->readAllStandardError());
    qInfo().noquote() << QStringLiteral("summary:\n") + stdoutText;
    QCOMPARE(cliProcess->exitStatus(), QProcess::NormalExit);
    QVERIFY2(cliProcess->exitCode() == 0, qPrintable(stderrText.right(3000)));

    // Exactly one JPEG and one JSON per input, under its own name: nothing lost, nothing twice.
    const QStringList jpegs = filesUnder(out, {QStringLiteral("*.jpg")});
    const QStringList jsons = filesUnder(out, {QStringLiteral("*.json")});
    QCOMPARE(jpegs.size(), 180);
    QCOMPARE(jsons.size(), 180);
    QSet<QString> jpegNames;
    QSet<QString> jsonNames;
    for (const QString &path : jpegs)
        jpegNames.insert(path.chopped(4));
    for (const QString &path : jsons)
        jsonNames.insert(path.chopped(5));
    QCOMPARE(jpegNames, expected);
    QCOMPARE(jsonNames, expected);
    QFile json(out + QStringLiteral("/f00/soccer.json"));
    QVERIFY(json.open(QIODevice::ReadOnly));
    const QString device = QJsonDocument::fromJson(json.readAll()).object().value(QStringLiteral("device")).toString();
    QVERIFY2(device.startsWith(QStringLiteral("127.0.0.1:")), qPrintable(device));

    // The summary has a line per device, and the restarted device served again.
    QVERIFY2(stdoutText.startsWith(QStringLiteral("180 images, 0 failed, ")), qPrintable(stdoutText));
    for (quint16 port : std::as_const(ports))
        QVERIFY2(stdoutText.contains(QStringLiteral("127.0.0.1:%1: ").arg(port)), qPrintable(stdoutText));
    QVERIFY2(stdoutText.contains(QStringLiteral("127.0.0.1:%1: ").arg(ports[1]))
                 && stdoutText.section(QStringLiteral("127.0.0.1:%1: ").arg(ports[1]), 1).section(QLatin1Char('\n'), 0, 0)
                        .contains(QStringLiteral("down 1 time(s)")),
             qPrintable(stdoutText));
}

void TestCliPool::hostOption_badValue_isAUsageError()
{
    QProcess cli;
    cli.start(m_cli, {QStringLiteral("--host"), QStringLiteral("[::1"), m_samples});
    QVERIFY(cli.waitForFinished(30000));
    QCOMPARE(cli.exitCode(), 64);
    QVERIFY(cli.readAllStandardError().contains("--host"));
}

void TestCliPool::embeddedJoinsADeviceWithAnotherModel_noteSaysSo_sidecarsNameEachModel()
{
    EDGELENS_REQUIRE_SHARED("models/yolo-fastest-xl-320");
    edgelens::test::ServerProcess device; // nanodet-m-320
    QVERIFY2(device.start({}), qPrintable(device.diagnostics()));
    const QString deviceName = QStringLiteral("127.0.0.1:%1").arg(device.port());
    const QString out = m_dir.filePath(QStringLiteral("mixed-out"));
    edgelens::test::ProcessOptions options;
    options.environment = m_dir.childEnvironment();
    options.timeoutMs = 300000;
    const edgelens::test::ProcessRun run = edgelens::test::runProcess(
        m_cli,
        {QStringLiteral("--host"), deviceName, QStringLiteral("--embedded"), QStringLiteral("--model"),
         QStringLiteral("yolo-fastest-xl-320"), QStringLiteral("--concurrency"), QStringLiteral("1"), QStringLiteral("--json"),
         QStringLiteral("--output"), out, m_samples},
        options);
    QVERIFY2(run.exitCode == 0, qPrintable(run.err.right(3000)));
    QVERIFY2(run.err.contains(QStringLiteral("note: the devices run different models: nanodet-m-320 on %1; "
                                             "yolo-fastest-xl-320 on embedded")
                                  .arg(deviceName)),
             qPrintable(run.err.right(3000)));
    // The summary names the embedded server as its results do.
    QVERIFY2(run.out.contains(QStringLiteral("\n  embedded: ")) && run.out.contains(QStringLiteral("\n  %1: ").arg(deviceName)),
             qPrintable(run.out));
    const QStringList jsons = filesUnder(out, {QStringLiteral("*.json")});
    QCOMPARE(jsons.size(), 9);
    for (const QString &file : jsons) {
        QFile json(QDir(out).filePath(file));
        QVERIFY(json.open(QIODevice::ReadOnly));
        const QJsonObject sidecar = QJsonDocument::fromJson(json.readAll()).object();
        const QString who = sidecar.value(QStringLiteral("device")).toString();
        QVERIFY2(who == deviceName || who == QLatin1String("embedded"), qPrintable(who));
        QCOMPARE(sidecar.value(QStringLiteral("model")).toString(),
                 who == deviceName ? QStringLiteral("nanodet-m-320") : QStringLiteral("yolo-fastest-xl-320"));
    }
    device.stop();
}

QTEST_GUILESS_MAIN(TestCliPool)
#include "tst_clipool.moc"
