// edgelens-cli over TLS against a real `edgelens-server --tls --token T`, end to end as a user
// runs them: the fingerprint the server logs, pinned, processes every sample; a wrong pin is
// refused before an image is sent and writes nothing; without a pin the first connection is
// trusted and recorded like ssh, and a different certificate later on the same host:port is
// refused loudly with the command that forgets the old one.

#include "isolateduserstate.h"
#include "processrunner.h"
#include "serverprocess.h"
#include "testdata.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <memory>

using edgelens::test::filesUnder;
using edgelens::test::ProcessOptions;
using edgelens::test::ProcessRun;
using edgelens::test::ServerProcess;

namespace {

const QString kToken = QStringLiteral("T");

// "sha256:<64 hex>" from the server's "tls certificate sha256:..." line on stdout.
QString loggedFingerprint(const ServerProcess &server)
{
    return server.stdoutCapture(QStringLiteral("^tls certificate (sha256:[0-9a-f]{64})$"));
}

// The same fingerprint with its last hex digit changed: a certificate that is not the server's.
QString otherFingerprint(const QString &fingerprint)
{
    QString other = fingerprint;
    other.back() = other.back() == QLatin1Char('0') ? QLatin1Char('1') : QLatin1Char('0');
    return other;
}

QString describe(const ProcessRun &run)
{
    return QStringLiteral("exit %1\nstdout:\n%2\nstderr:\n%3").arg(run.exitCode).arg(run.out, run.err);
}

} // namespace

class TestCliTls : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void pinnedFingerprint_processesEverySample();
    void wrongFingerprint_failsAndWritesNothing();
    void noPin_trustsOnFirstUse_thenRefusesANewCertificate();

private:
    // A server with its own data folder (so its own certificate); `port` 0: ephemeral.
    bool startServer(ServerProcess &server, const QString &dataHome, quint16 port = 0);
    // edgelens-cli --host 127.0.0.1:PORT --token T --json --output OUT SAMPLES + extra, with its
    // per-user config (known devices) in configHome.
    ProcessRun runCli(quint16 port, const QString &output, const QString &configHome, const QStringList &extra);
    void verifyEverySampleWritten(const QString &output);

    std::unique_ptr<edgelens::test::IsolatedUserState> m_user;
    QString m_cli;
    QStringList m_samples; // base names of the sample JPEGs
};

void TestCliTls::initTestCase()
{
    m_user = std::make_unique<edgelens::test::IsolatedUserState>();
    QVERIFY(m_user->isValid());
    m_cli = edgelens::test::executablePath(QStringLiteral("edgelens-cli"));
    QVERIFY2(QFileInfo(m_cli).isExecutable(), qPrintable(m_cli));
    QVERIFY2(QFileInfo(edgelens::test::executablePath(QStringLiteral("edgelens-server"))).isExecutable(),
             "edgelens-server is not built");
    EDGELENS_REQUIRE_SHARED(QStringLiteral("data/samples"));
    EDGELENS_REQUIRE_SHARED(QStringLiteral("models/nanodet-m-320"));
    for (const QString &file : QDir(edgelens::test::samplesDir()).entryList({QStringLiteral("*.jpg")}, QDir::Files))
        m_samples.append(QFileInfo(file).completeBaseName());
    EDGELENS_REQUIRE(m_samples.size() == 9,
                     QStringLiteral("expected the nine sample JPEGs in %1").arg(edgelens::test::samplesDir()));
}

bool TestCliTls::startServer(ServerProcess &server, const QString &dataHome, quint16 port)
{
    QStringList arguments = {QStringLiteral("--tls"), QStringLiteral("--token"), kToken};
    if (port != 0)
        arguments << QStringLiteral("--port") << QString::number(port); // the last --port wins
    return server.start(arguments, {{QStringLiteral("XDG_DATA_HOME"), dataHome}});
}

ProcessRun TestCliTls::runCli(quint16 port, const QString &output, const QString &configHome, const QStringList &extra)
{
    ProcessOptions options;
    options.timeoutMs = 180000;
    options.environment = {{QStringLiteral("XDG_CONFIG_HOME"), configHome},
                           {QStringLiteral("XDG_DATA_HOME"), m_user->dataHome()}};
    const QStringList arguments = QStringList{QStringLiteral("--host"), QStringLiteral("127.0.0.1:%1").arg(port),
                                              QStringLiteral("--token"), kToken, QStringLiteral("--json"),
                                              QStringLiteral("--timeout"), QStringLiteral("120"),
                                              QStringLiteral("--output"), output, edgelens::test::samplesDir()}
        + extra;
    return edgelens::test::runProcess(m_cli, arguments, options);
}

void TestCliTls::verifyEverySampleWritten(const QString &output)
{
    for (const QString &name : std::as_const(m_samples)) {
        const QByteArray jpeg = edgelens::test::readFile(output + QLatin1Char('/') + name + QStringLiteral(".jpg"));
        QVERIFY2(jpeg.startsWith("\xFF\xD8\xFF"), qPrintable(name + QStringLiteral(".jpg is missing or not a JPEG")));
        const QJsonDocument json =
            QJsonDocument::fromJson(edgelens::test::readFile(output + QLatin1Char('/') + name + QStringLiteral(".json")));
        QVERIFY2(json.isObject(), qPrintable(name + QStringLiteral(".json is missing or not JSON")));
        QVERIFY2(json.object().contains(QStringLiteral("detections")), qPrintable(name));
    }
    QCOMPARE(filesUnder(output).size(), 2 * m_samples.size());
}

void TestCliTls::pinnedFingerprint_processesEverySample()
{
    ServerProcess server;
    QVERIFY2(startServer(server, m_user->filePath(QStringLiteral("server-a"))), qPrintable(server.diagnostics()));
    const QString fingerprint = loggedFingerprint(server);
    QVERIFY2(!fingerprint.isEmpty(), qPrintable(server.out()));

    const QString config = m_user->filePath(QStringLiteral("config-pinned"));
    const QString output = m_user->filePath(QStringLiteral("out-pinned"));
    const ProcessRun run = runCli(server.port(), output, config,
                                  {QStringLiteral("--tls"), QStringLiteral("--tls-fingerprint"), fingerprint});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    QVERIFY2(run.out.contains(QStringLiteral("9 images, 0 failed")), qPrintable(describe(run)));
    verifyEverySampleWritten(output);
    // A pin is the user's own statement of trust: nothing to record.
    QVERIFY2(filesUnder(config).isEmpty(), qPrintable(filesUnder(config).join(QLatin1Char(' '))));
}

void TestCliTls::wrongFingerprint_failsAndWritesNothing()
{
    ServerProcess server;
    QVERIFY2(startServer(server, m_user->filePath(QStringLiteral("server-a"))), qPrintable(server.diagnostics()));
    const QString fingerprint = loggedFingerprint(server);
    QVERIFY2(!fingerprint.isEmpty(), qPrintable(server.out()));
    const QString wrong = otherFingerprint(fingerprint);

    const QString output = m_user->filePath(QStringLiteral("out-wrong-pin"));
    const ProcessRun run = runCli(server.port(), output, m_user->filePath(QStringLiteral("config-wrong-pin")),
                                  {QStringLiteral("--tls"), QStringLiteral("--tls-fingerprint"), wrong});
    QVERIFY2(run.exitCode != 0 && !run.timedOut, qPrintable(describe(run)));
    QVERIFY2(filesUnder(output, {}, QDir::Files | QDir::Hidden).isEmpty(),
             qPrintable(filesUnder(output, {}, QDir::Files | QDir::Hidden).join(QLatin1Char(' '))));
    QVERIFY2(run.err.contains(QStringLiteral("fingerprint")), qPrintable(describe(run)));
    // Both the expected and the offered fingerprint, so the user can tell which is which.
    QVERIFY2(run.err.contains(wrong) && run.err.contains(fingerprint), qPrintable(describe(run)));
}

void TestCliTls::noPin_trustsOnFirstUse_thenRefusesANewCertificate()
{
    const QString config = m_user->filePath(QStringLiteral("config-tofu"));
    const QString knownDevices = config + QStringLiteral("/EdgeLens/EdgeLens/known-devices");
    quint16 port = 0;
    QString firstFingerprint;
    {
        ServerProcess server;
        QVERIFY2(startServer(server, m_user->filePath(QStringLiteral("server-a"))), qPrintable(server.diagnostics()));
        port = server.port();
        firstFingerprint = loggedFingerprint(server);
        QVERIFY2(!firstFingerprint.isEmpty(), qPrintable(server.out()));

        const QString output = m_user->filePath(QStringLiteral("out-tofu-1"));
        const ProcessRun run = runCli(port, output, config, {QStringLiteral("--tls")});
        QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
        verifyEverySampleWritten(output);
        const QString device = QStringLiteral("127.0.0.1:%1").arg(port);
        QVERIFY2(run.err.contains(device + QStringLiteral(": first TLS connection")), qPrintable(describe(run)));
        QVERIFY2(run.err.contains(firstFingerprint) && run.err.contains(knownDevices), qPrintable(describe(run)));
        const QString recorded = QString::fromUtf8(edgelens::test::readFile(knownDevices));
        QVERIFY2(recorded.contains(device + QLatin1Char(' ') + firstFingerprint + QLatin1Char('\n')), qPrintable(recorded));
    }
    const QByteArray knownBefore = edgelens::test::readFile(knownDevices);

    // Another device (its own data folder, so a certificate of its own) on the same host:port.
    ServerProcess impostor;
    QVERIFY2(startServer(impostor, m_user->filePath(QStringLiteral("server-b")), port),
             qPrintable(QStringLiteral("could not listen on port %1 again: %2").arg(port).arg(impostor.diagnostics())));
    QCOMPARE(impostor.port(), port);
    const QString secondFingerprint = loggedFingerprint(impostor);
    QVERIFY2(!secondFingerprint.isEmpty() && secondFingerprint != firstFingerprint, qPrintable(impostor.out()));

    const QString output = m_user->filePath(QStringLiteral("out-tofu-2"));
    const ProcessRun refused = runCli(port, output, config, {QStringLiteral("--tls")});
    QVERIFY2(refused.exitCode != 0 && !refused.timedOut, qPrintable(describe(refused)));
    QVERIFY2(filesUnder(output, {}, QDir::Files | QDir::Hidden).isEmpty(), qPrintable(describe(refused)));
    QVERIFY2(refused.err.contains(QStringLiteral("CHANGED")), qPrintable(describe(refused)));
    QVERIFY2(refused.err.contains(firstFingerprint) && refused.err.contains(secondFingerprint),
             qPrintable(describe(refused)));
    QVERIFY2(refused.err.contains(QStringLiteral("edgelens-cli devices forget 127.0.0.1:%1").arg(port)),
             qPrintable(describe(refused)));
    QCOMPARE(edgelens::test::readFile(knownDevices), knownBefore); // the refusal changes nothing

    // The command the message names makes the new certificate trusted on the next first use.
    ProcessOptions options;
    options.environment = {{QStringLiteral("XDG_CONFIG_HOME"), config}};
    const ProcessRun forget = edgelens::test::runProcess(
        m_cli, {QStringLiteral("devices"), QStringLiteral("forget"), QStringLiteral("127.0.0.1:%1").arg(port)}, options);
    QVERIFY2(forget.exitCode == 0, qPrintable(describe(forget)));
    const QString afterForget = QStringLiteral("out-tofu-3");
    const ProcessRun again = runCli(port, m_user->filePath(afterForget), config, {QStringLiteral("--tls")});
    QVERIFY2(again.exitCode == 0, qPrintable(describe(again)));
    verifyEverySampleWritten(m_user->filePath(afterForget));
    QVERIFY2(QString::fromUtf8(edgelens::test::readFile(knownDevices)).contains(secondFingerprint),
             qPrintable(QString::fromUtf8(edgelens::test::readFile(knownDevices))));
}

QTEST_GUILESS_MAIN(TestCliTls)
#include "tst_clitls.moc"
