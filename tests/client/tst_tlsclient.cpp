// DetectionClient over TLS against a loopback TLS test server whose certificates the test makes
// with the openssl command: pinning, trust on first use with the known-devices file, a changed
// certificate, and a certificate from a CA that verifies for the host name.

#include "client/detectionclient.h"
#include "client/knowndevices.h"
#include "client/tlssocketfactory.h"
#include "protocol/tlsfingerprint.h"

#include "clientoutcomes.h"
#include "scriptedv2server.h"
#include "testimages.h"

#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QSslKey>
#include <QSslSocket>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace edgelens;
using edgelens::test::ClientOutcomes;
using edgelens::test::ScriptedV2Server;

namespace {

struct Identity
{
    QSslCertificate certificate;
    QSslKey key;
    QString fingerprint() const { return TlsFingerprint::ofDer(certificate.toDer()); }
};

} // namespace

class TestTlsClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();

    void knownDevices_fileRoundTrip();
    void knownDevices_normalizesFingerprints();
    void pinnedFingerprint_isAccepted();
    void wrongPin_isRefusedBeforeAnyByte_namingBothFingerprints();
    void firstUse_asksOnce_recordsWhenTrusted_thenAcceptsSilently();
    void changedCertificate_isRefused_withTheForgetCommand();
    void rejectedDevice_failsItsRequests_andRecordsNothing();
    void acceptOnce_connects_butRecordsNothing();
    void caSignedCertificate_forTheHostName_needsNoPin();

private:
    std::optional<Identity> makeIdentity(const QString &name, const QString &caName = QString());
    bool openssl(const QStringList &arguments);
    void serve(ScriptedV2Server &server, const Identity &identity, quint16 port = 0);
    DeviceSpec tlsDevice(quint16 port, const QString &host = QStringLiteral("127.0.0.1")) const;

    QTemporaryDir m_dir;
    std::unique_ptr<KnownDevices> m_known;
};

bool TestTlsClient::openssl(const QStringList &arguments)
{
    QProcess process;
    process.setWorkingDirectory(m_dir.path());
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(QStringLiteral("openssl"), arguments);
    if (!process.waitForFinished(60000) || process.exitCode() != 0) {
        qWarning().noquote() << "openssl" << arguments.join(QLatin1Char(' ')) << "failed:" << process.readAll();
        return false;
    }
    return true;
}

// A key and certificate for localhost and 127.0.0.1: self-signed, or signed by the CA made
// earlier under caName.
std::optional<Identity> TestTlsClient::makeIdentity(const QString &name, const QString &caName)
{
    const QString key = name + QStringLiteral(".key");
    const QString cert = name + QStringLiteral(".pem");
    const QString san = QStringLiteral("subjectAltName=DNS:localhost,IP:127.0.0.1");
    if (caName.isEmpty()) {
        if (!openssl({QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("ec"),
                      QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                      QStringLiteral("-keyout"), key, QStringLiteral("-out"), cert, QStringLiteral("-days"),
                      QStringLiteral("2"), QStringLiteral("-subj"), QStringLiteral("/CN=") + name,
                      QStringLiteral("-addext"), san}))
            return std::nullopt;
    } else {
        const QString csr = name + QStringLiteral(".csr");
        const QString ext = name + QStringLiteral(".ext");
        QFile extFile(m_dir.filePath(ext));
        if (!extFile.open(QIODevice::WriteOnly) || extFile.write(san.toUtf8() + "\n") <= 0)
            return std::nullopt;
        extFile.close();
        if (!openssl({QStringLiteral("req"), QStringLiteral("-newkey"), QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
                      QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"), QStringLiteral("-keyout"),
                      key, QStringLiteral("-out"), csr, QStringLiteral("-subj"), QStringLiteral("/CN=localhost")})
            || !openssl({QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"), csr, QStringLiteral("-CA"),
                         caName + QStringLiteral(".pem"), QStringLiteral("-CAkey"), caName + QStringLiteral(".key"),
                         QStringLiteral("-CAcreateserial"), QStringLiteral("-out"), cert, QStringLiteral("-days"),
                         QStringLiteral("2"), QStringLiteral("-extfile"), ext}))
            return std::nullopt;
    }
    QFile certFile(m_dir.filePath(cert));
    QFile keyFile(m_dir.filePath(key));
    if (!certFile.open(QIODevice::ReadOnly) || !keyFile.open(QIODevice::ReadOnly))
        return std::nullopt;
    Identity identity{QSslCertificate(certFile.readAll(), QSsl::Pem), QSslKey(keyFile.readAll(), QSsl::Ec, QSsl::Pem)};
    if (identity.certificate.isNull() || identity.key.isNull())
        return std::nullopt;
    return identity;
}

void TestTlsClient::serve(ScriptedV2Server &server, const Identity &identity, quint16 port)
{
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    config.setLocalCertificate(identity.certificate);
    config.setPrivateKey(identity.key);
    config.setProtocol(QSsl::TlsV1_2OrLater);
    config.setPeerVerifyMode(QSslSocket::VerifyNone);
    server.setTls(config);
    QVERIFY(server.listen(QHostAddress::LocalHost, port));
}

DeviceSpec TestTlsClient::tlsDevice(quint16 port, const QString &host) const
{
    DeviceSpec device;
    device.host = host;
    device.port = port;
    device.protocol = DeviceSpec::Protocol::V2;
    device.tls = true;
    return device;
}

void TestTlsClient::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    QVERIFY2(QSslSocket::supportsSsl(), "this Qt has no TLS backend");
    QProcess probe;
    probe.start(QStringLiteral("openssl"), {QStringLiteral("version")});
    QVERIFY2(probe.waitForFinished(10000) && probe.exitCode() == 0, "the openssl command is needed to make certificates");
}

void TestTlsClient::init()
{
    DetectionClient::forgetDetectedProtocols();
    static int round = 0;
    m_known = std::make_unique<KnownDevices>(m_dir.filePath(QStringLiteral("config-%1/known-devices").arg(++round)));
}

void TestTlsClient::knownDevices_fileRoundTrip()
{
    const QString a = QStringLiteral("sha256:") + QString(64, QLatin1Char('a'));
    const QString b = QStringLiteral("sha256:") + QString(64, QLatin1Char('b'));
    QVERIFY(!m_known->fingerprint(QStringLiteral("pi.local:6000")));
    QVERIFY(m_known->remember(QStringLiteral("Pi.Local:6000"), a));
    QVERIFY(m_known->remember(QStringLiteral("[::1]:6001"), b));
    QCOMPARE(m_known->fingerprint(QStringLiteral("pi.local:6000")).value_or(QString()), a);
    QCOMPARE(KnownDevices(m_known->path()).all().size(), 2); // another reader sees the same file
    QVERIFY(m_known->remember(QStringLiteral("pi.local:6000"), b));
    QCOMPARE(m_known->all().size(), 2);
    QCOMPARE(m_known->fingerprint(QStringLiteral("pi.local:6000")).value_or(QString()), b);
    bool wasKnown = false;
    QVERIFY(m_known->forget(QStringLiteral("pi.local:6000"), &wasKnown));
    QVERIFY(wasKnown);
    QVERIFY(m_known->forget(QStringLiteral("pi.local:6000"), &wasKnown));
    QVERIFY(!wasKnown);
    QCOMPARE(m_known->all(), (QList<QPair<QString, QString>>{{QStringLiteral("[::1]:6001"), b}}));
    QVERIFY(!m_known->remember(QStringLiteral("x:1"), QStringLiteral("sha256:1234")));
}

void TestTlsClient::knownDevices_normalizesFingerprints()
{
    const QString hex = QStringLiteral("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    QString colons;
    for (int i = 0; i < hex.size(); i += 2)
        colons += (i ? QStringLiteral(":") : QString()) + hex.mid(i, 2).toUpper();
    QCOMPARE(TlsFingerprint::normalize(QStringLiteral("sha256:") + colons), QStringLiteral("sha256:") + hex);
    QCOMPARE(TlsFingerprint::normalize(hex.toUpper()), QStringLiteral("sha256:") + hex);
    QVERIFY(TlsFingerprint::normalize(QStringLiteral("sha256:abc")).isEmpty());
    QVERIFY(TlsFingerprint::normalize(QString(64, QLatin1Char('g'))).isEmpty());

    // The one notation (server log, pins, known-devices file) is openssl's fingerprint of the
    // same certificate, normalized.
    const std::optional<Identity> identity = makeIdentity(QStringLiteral("fingerprinted"));
    QVERIFY(identity);
    QProcess openssl;
    openssl.setWorkingDirectory(m_dir.path());
    openssl.start(QStringLiteral("openssl"), {QStringLiteral("x509"), QStringLiteral("-in"), QStringLiteral("fingerprinted.pem"),
                                              QStringLiteral("-noout"), QStringLiteral("-fingerprint"), QStringLiteral("-sha256")});
    QVERIFY(openssl.waitForFinished(10000) && openssl.exitCode() == 0);
    const QString printed = QString::fromLatin1(openssl.readAllStandardOutput()).section(QLatin1Char('='), 1).trimmed();
    QVERIFY2(!printed.isEmpty(), "openssl printed no fingerprint");
    const QString fingerprint = identity->fingerprint();
    QCOMPARE(TlsFingerprint::normalize(printed), fingerprint);
    QCOMPARE(TlsFingerprint::normalize(fingerprint), fingerprint);
}

void TestTlsClient::pinnedFingerprint_isAccepted()
{
    const auto identity = makeIdentity(QStringLiteral("pinned"));
    QVERIFY(identity);
    ScriptedV2Server server;
    serve(server, *identity);
    DetectionClient client;
    client.tls()->setKnownDevices(*m_known);
    DeviceSpec device = tlsDevice(server.serverPort());
    device.tlsFingerprint = identity->fingerprint().toUpper().replace(QStringLiteral("SHA256:"), QStringLiteral("sha256:"));
    client.setDevices({device});
    ClientOutcomes outcomes(client);
    const quint64 id = client.submit(test::solidImageBytes(32, 24, Qt::red, "PNG"));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 10000);
    QVERIFY2(outcomes.results.contains(id), qPrintable(outcomes.failures.value(id)));
    QCOMPARE(outcomes.results.value(id).result.imageWidth, 32);
    QVERIFY(m_known->all().isEmpty()); // a pin is not a first use
}

void TestTlsClient::wrongPin_isRefusedBeforeAnyByte_namingBothFingerprints()
{
    const auto identity = makeIdentity(QStringLiteral("wrongpin"));
    QVERIFY(identity);
    ScriptedV2Server server;
    serve(server, *identity);
    DetectionClient client;
    client.tls()->setKnownDevices(*m_known);
    const QString other = QStringLiteral("sha256:") + QString(64, QLatin1Char('0'));
    DeviceSpec device = tlsDevice(server.serverPort());
    device.tlsFingerprint = other;
    client.setDevices({device});
    client.setMaxRetries(1);
    ClientOutcomes outcomes(client);
    const quint64 a = client.submit(test::solidImageBytes(32, 24, Qt::red, "PNG"));
    const quint64 b = client.submit(test::solidImageBytes(33, 24, Qt::red, "PNG"));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 2, 10000);
    const QString reason = outcomes.failures.value(a);
    QVERIFY2(reason.contains(QStringLiteral("fingerprint")), qPrintable(reason));
    QVERIFY2(reason.contains(other) && reason.contains(identity->fingerprint()), qPrintable(reason));
    QVERIFY(outcomes.failures.contains(b));
    QVERIFY(!outcomes.failureRetryable.value(a));
    QCOMPARE(server.bytesReceived, 0);
    QCOMPARE(server.detectRequests, 0);
    QCOMPARE(client.deviceStatuses().first().state, DeviceStatus::State::Refused);
}

void TestTlsClient::firstUse_asksOnce_recordsWhenTrusted_thenAcceptsSilently()
{
    const auto identity = makeIdentity(QStringLiteral("tofu"));
    QVERIFY(identity);
    ScriptedV2Server server;
    serve(server, *identity);
    {
        DetectionClient client;
        client.tls()->setKnownDevices(*m_known);
        client.setDevices({tlsDevice(server.serverPort())});
        client.setMaxInFlight(3);
        QSignalSpy asked(client.tls(), &TlsSocketFactory::trustNeeded);
        QSignalSpy remembered(client.tls(), &TlsSocketFactory::deviceRemembered);
        ClientOutcomes outcomes(client);
        for (int i = 0; i < 3; ++i)
            client.submit(test::solidImageBytes(30 + i, 24, Qt::blue, "PNG"));
        QTRY_COMPARE_WITH_TIMEOUT(asked.size(), 1, 10000);
        QCOMPARE(asked.first().at(1).toString(), identity->fingerprint());
        QCOMPARE(server.bytesReceived, 0); // nothing before the user decided
        const auto device = asked.first().at(0).value<DeviceSpec>();
        client.tls()->decide(device.key(), identity->fingerprint(), TlsSocketFactory::Decision::AcceptAlways);
        QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 3, 10000);
        QCOMPARE(outcomes.results.size(), 3);
        QCOMPARE(asked.size(), 1);
        QCOMPARE(remembered.size(), 1);
        QCOMPARE(m_known->fingerprint(device.key()).value_or(QString()), identity->fingerprint());
    }
    // Another client (another run of the program) connects without asking.
    DetectionClient again;
    again.tls()->setKnownDevices(*m_known);
    again.setDevices({tlsDevice(server.serverPort())});
    QSignalSpy asked(again.tls(), &TlsSocketFactory::trustNeeded);
    ClientOutcomes outcomes(again);
    again.submit(test::solidImageBytes(40, 24, Qt::blue, "PNG"));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 10000);
    QCOMPARE(outcomes.results.size(), 1);
    QCOMPARE(asked.size(), 0);
}

void TestTlsClient::changedCertificate_isRefused_withTheForgetCommand()
{
    const auto first = makeIdentity(QStringLiteral("before"));
    const auto second = makeIdentity(QStringLiteral("after"));
    QVERIFY(first && second);
    quint16 port = 0;
    {
        ScriptedV2Server server;
        serve(server, *first);
        port = server.serverPort();
        QVERIFY(m_known->remember(tlsDevice(port).key(), first->fingerprint()));
    }
    ScriptedV2Server impostor;
    serve(impostor, *second, port);
    DetectionClient client;
    client.tls()->setKnownDevices(*m_known);
    client.setDevices({tlsDevice(port)});
    QSignalSpy changed(client.tls(), &TlsSocketFactory::fingerprintChanged);
    QSignalSpy asked(client.tls(), &TlsSocketFactory::trustNeeded);
    ClientOutcomes outcomes(client);
    const quint64 id = client.submit(test::solidImageBytes(32, 24, Qt::green, "PNG"));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 10000);
    const QString reason = outcomes.failures.value(id);
    QVERIFY2(reason.contains(QStringLiteral("CHANGED")), qPrintable(reason));
    QVERIFY2(reason.contains(first->fingerprint()) && reason.contains(second->fingerprint()), qPrintable(reason));
    QVERIFY2(reason.contains(QStringLiteral("edgelens-cli devices forget 127.0.0.1:%1").arg(port)), qPrintable(reason));
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.first().at(1).toString(), first->fingerprint());
    QCOMPARE(changed.first().at(2).toString(), second->fingerprint());
    QCOMPARE(asked.size(), 0);
    QCOMPARE(impostor.bytesReceived, 0);
    // Processing of that device stops: it is refused until its settings change.
    QCOMPARE(client.deviceStatuses().first().state, DeviceStatus::State::Refused);
    QCOMPARE(m_known->fingerprint(tlsDevice(port).key()).value_or(QString()), first->fingerprint());
}

void TestTlsClient::rejectedDevice_failsItsRequests_andRecordsNothing()
{
    const auto identity = makeIdentity(QStringLiteral("rejected"));
    QVERIFY(identity);
    ScriptedV2Server server;
    serve(server, *identity);
    DetectionClient client;
    client.tls()->setKnownDevices(*m_known);
    client.setDevices({tlsDevice(server.serverPort())});
    connect(client.tls(), &TlsSocketFactory::trustNeeded, &client,
            [&client](const DeviceSpec &device, const QString &fingerprint) {
                client.tls()->decide(device.key(), fingerprint, TlsSocketFactory::Decision::Reject);
            });
    ClientOutcomes outcomes(client);
    const quint64 id = client.submit(test::solidImageBytes(32, 24, Qt::green, "PNG"));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 10000);
    QVERIFY2(outcomes.failures.value(id).contains(QStringLiteral("not trusted")), qPrintable(outcomes.failures.value(id)));
    QVERIFY(m_known->all().isEmpty());
    QCOMPARE(server.bytesReceived, 0);
}

void TestTlsClient::acceptOnce_connects_butRecordsNothing()
{
    const auto identity = makeIdentity(QStringLiteral("once"));
    QVERIFY(identity);
    ScriptedV2Server server;
    serve(server, *identity);
    DetectionClient client;
    client.tls()->setKnownDevices(*m_known);
    client.setDevices({tlsDevice(server.serverPort())});
    connect(client.tls(), &TlsSocketFactory::trustNeeded, &client,
            [&client](const DeviceSpec &device, const QString &fingerprint) {
                client.tls()->decide(device.key(), fingerprint, TlsSocketFactory::Decision::AcceptOnce);
            });
    ClientOutcomes outcomes(client);
    client.submit(test::solidImageBytes(32, 24, Qt::green, "PNG"));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 10000);
    QCOMPARE(outcomes.results.size(), 1);
    QVERIFY(m_known->all().isEmpty());
}

void TestTlsClient::caSignedCertificate_forTheHostName_needsNoPin()
{
    // The CA: a self-signed certificate with CA:true (openssl req -x509's default).
    QVERIFY(openssl({QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("ec"),
                     QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                     QStringLiteral("-keyout"), QStringLiteral("ca.key"), QStringLiteral("-out"), QStringLiteral("ca.pem"),
                     QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-subj"),
                     QStringLiteral("/CN=EdgeLens Test CA")}));
    const auto identity = makeIdentity(QStringLiteral("casigned"), QStringLiteral("ca"));
    QVERIFY(identity);
    QFile caFile(m_dir.filePath(QStringLiteral("ca.pem")));
    QVERIFY(caFile.open(QIODevice::ReadOnly));
    const QSslCertificate ca(caFile.readAll(), QSsl::Pem);
    ScriptedV2Server server;
    serve(server, *identity);
    DetectionClient client;
    client.tls()->setKnownDevices(*m_known);
    client.tls()->addCaCertificates({ca});
    client.setDevices({tlsDevice(server.serverPort(), QStringLiteral("localhost"))});
    QSignalSpy asked(client.tls(), &TlsSocketFactory::trustNeeded);
    ClientOutcomes outcomes(client);
    const quint64 id = client.submit(test::solidImageBytes(32, 24, Qt::green, "PNG"));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 10000);
    QVERIFY2(outcomes.results.contains(id), qPrintable(outcomes.failures.value(id)));
    QCOMPARE(asked.size(), 0);
    QVERIFY(m_known->all().isEmpty());
}

QTEST_GUILESS_MAIN(TestTlsClient)
#include "tst_tlsclient.moc"
