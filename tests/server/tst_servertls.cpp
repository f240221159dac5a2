// edgelens-server --tls as a user runs it: the certificate it creates on first start in a
// fresh user folder, the fingerprint it logs, what `openssl s_client` sees, v2 over TLS with
// a token, the auth throttle, and the optional plaintext port.

#include "isolateduserstate.h"
#include "processrunner.h"
#include "serverprocess.h"
#include "v2channel.h"

#include "protocol/protocol.h"

#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QStandardPaths>
#include <QTest>
#include <QtEndian>

#include <csignal>
#include <optional>
#include <sys/types.h>

using namespace edgelens;
using namespace edgelens::protocol;
using edgelens::test::ServerProcess;
using edgelens::test::V2Channel;

namespace {

QByteArray sample(const QString &name)
{
    QFile file(qEnvironmentVariable("EDGELENS_SHARED_DIR") + QStringLiteral("/data/samples/") + name);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

QString normalizedFingerprint(QString text)
{
    text = text.trimmed().toLower();
    text.remove(QLatin1Char(':'));
    if (text.startsWith(QLatin1String("sha256")))
        text = text.mid(6);
    return text;
}

// "sha256:..." from stdout's "tls certificate sha256:<hex>".
QString fingerprintOf(const ServerProcess &server)
{
    return server.stdoutCapture(QStringLiteral("^tls certificate (sha256:[0-9a-f]{64})$"));
}

// From "plaintext also on port N"; 0 when none.
quint16 plainPortOf(const ServerProcess &server)
{
    return quint16(server.stdoutCapture(QStringLiteral("^plaintext also on port (\\d+)$")).toUInt());
}

struct OpenSsl
{
    int exitCode = -1;
    QString output; // stdout + stderr
};

OpenSsl runOpenSsl(const QStringList &arguments, const QByteArray &input = {})
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(QStringLiteral("openssl"), arguments);
    OpenSsl result;
    if (!process.waitForStarted(5000))
        return result;
    process.write(input);
    process.closeWriteChannel();
    if (!process.waitForFinished(20000)) {
        process.kill();
        process.waitForFinished();
        return result;
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.output = QString::fromUtf8(process.readAll());
    return result;
}

} // namespace

class TestServerTls : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<test::IsolatedUserState> m_user;
    QByteArray m_image;

    QString certificatePath() const { return m_user->dataHome() + QStringLiteral("/edgelens/tls/server-cert.pem"); }
    QString keyPath() const { return m_user->dataHome() + QStringLiteral("/edgelens/tls/server-key.pem"); }

    // A TLS socket that trusts exactly the server's own certificate, checked against `peerName`.
    std::unique_ptr<QSslSocket> connectTls(quint16 port, const QString &peerName)
    {
        auto socket = std::make_unique<QSslSocket>();
        QSslConfiguration configuration = socket->sslConfiguration();
        configuration.setCaCertificates(QSslCertificate::fromPath(certificatePath()));
        socket->setSslConfiguration(configuration);
        socket->connectToHostEncrypted(QStringLiteral("127.0.0.1"), port, peerName);
        if (!socket->waitForEncrypted(10000)) {
            qWarning() << "TLS:" << socket->errorString() << socket->sslHandshakeErrors();
            return nullptr;
        }
        return socket;
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        m_user = std::make_unique<test::IsolatedUserState>();
        QVERIFY(m_user->isValid());
        m_image = sample(QStringLiteral("soccer.jpg"));
        QVERIFY2(!m_image.isEmpty(), "the shared samples are missing");
        QVERIFY2(!QStandardPaths::findExecutable(QStringLiteral("openssl")).isEmpty(),
                 "openssl (the command) is missing: bash packaging/install-deps.sh");
    }

    void firstStart_createsThePrivateCertificate_andLaterStartsReuseIt()
    {
        QVERIFY(!QFile::exists(certificatePath()));
        QString first;
        {
            ServerProcess server;
            QVERIFY2(server.start({QStringLiteral("--tls"), QStringLiteral("--token"), QStringLiteral("T")}, m_user->childEnvironment()),
                     qPrintable(server.diagnostics()));
            first = fingerprintOf(server);
            QVERIFY2(!first.isEmpty(), qPrintable(server.out()));
            QTRY_VERIFY_WITH_TIMEOUT(server.log().contains(QStringLiteral("TLS certificate ") + first), 5000);
            QVERIFY2(server.log().contains(QStringLiteral("created a self-signed certificate")), qPrintable(server.log()));
        }
        QVERIFY(QFile::exists(certificatePath()));
        QVERIFY(QFileInfo(keyPath()).permissions() & QFile::ReadOwner);
        QVERIFY2(!(QFileInfo(keyPath()).permissions() & (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup
                                                           | QFile::WriteOther)),
                 "the key must be private to its owner (0600)");

        // Subject alternative names: the names and addresses a client may use for this host.
        const OpenSsl san = runOpenSsl({QStringLiteral("x509"), QStringLiteral("-noout"), QStringLiteral("-ext"),
                                        QStringLiteral("subjectAltName"), QStringLiteral("-in"), certificatePath()});
        QCOMPARE(san.exitCode, 0);
        QVERIFY2(san.output.contains(QStringLiteral("DNS:localhost")), qPrintable(san.output));
        QVERIFY2(san.output.contains(QStringLiteral("IP Address:127.0.0.1")), qPrintable(san.output));
        QVERIFY2(san.output.contains(QStringLiteral("IP Address:0:0:0:0:0:0:0:1")), qPrintable(san.output));

        ServerProcess again;
        QVERIFY2(again.start({QStringLiteral("--tls")}, m_user->childEnvironment()), qPrintable(again.diagnostics()));
        QCOMPARE(fingerprintOf(again), first);
        QVERIFY(!again.log().contains(QStringLiteral("created a self-signed certificate")));
    }

    void opensslClient_seesTls12Accepted_tls11Refused_andTheLoggedFingerprint()
    {
        ServerProcess server;
        QVERIFY2(server.start({QStringLiteral("--tls"), QStringLiteral("--token"), QStringLiteral("T")}, m_user->childEnvironment()),
                 qPrintable(server.diagnostics()));
        const QString connect = QStringLiteral("127.0.0.1:%1").arg(server.port());

        const OpenSsl tls12 = runOpenSsl({QStringLiteral("s_client"), QStringLiteral("-connect"), connect,
                                          QStringLiteral("-tls1_2"), QStringLiteral("-showcerts")});
        QVERIFY2(tls12.exitCode == 0, qPrintable(tls12.output));
        QVERIFY2(tls12.output.contains(QStringLiteral("TLSv1.2")), qPrintable(tls12.output));
        const qsizetype begin = tls12.output.indexOf(QStringLiteral("-----BEGIN CERTIFICATE-----"));
        const qsizetype end = tls12.output.indexOf(QStringLiteral("-----END CERTIFICATE-----"));
        QVERIFY(begin >= 0 && end > begin);
        const QByteArray pem = tls12.output.mid(begin, end - begin + 25).toLatin1() + '\n';
        const OpenSsl fingerprint =
            runOpenSsl({QStringLiteral("x509"), QStringLiteral("-noout"), QStringLiteral("-fingerprint"),
                        QStringLiteral("-sha256")},
                       pem);
        QCOMPARE(fingerprint.exitCode, 0);
        QCOMPARE(normalizedFingerprint(fingerprint.output.section(QLatin1Char('='), 1)),
                 normalizedFingerprint(fingerprintOf(server)));

        // SECLEVEL=0 lets this client offer TLS 1.1 at all; the refusal must be the server's.
        const OpenSsl tls11 =
            runOpenSsl({QStringLiteral("s_client"), QStringLiteral("-connect"), connect, QStringLiteral("-tls1_1"),
                        QStringLiteral("-cipher"), QStringLiteral("DEFAULT:@SECLEVEL=0")});
        QVERIFY2(tls11.exitCode != 0, qPrintable(tls11.output));
        QVERIFY2(!tls11.output.contains(QStringLiteral("no protocols available")), qPrintable(tls11.output));
        QVERIFY2(tls11.output.contains(QStringLiteral("alert protocol version")), qPrintable(tls11.output));
        QVERIFY2(!tls11.output.contains(QStringLiteral("BEGIN CERTIFICATE")), qPrintable(tls11.output));
        QTRY_VERIFY_WITH_TIMEOUT(server.log().contains(QStringLiteral("TLS handshake failed")), 5000);
    }

    void plaintextClient_onTheTlsPort_getsNothing()
    {
        ServerProcess server;
        QVERIFY2(server.start({QStringLiteral("--tls")}, m_user->childEnvironment()), qPrintable(server.diagnostics()));
        const QList<QByteArray> requests = {encodeLegacyFrame(m_image),
                                            QByteArray(encodePreamble() + encodeMessage(makeDetect(1, {}, m_image)))};
        for (const QByteArray &request : requests) {
            QTcpSocket socket;
            socket.connectToHost(QHostAddress::LocalHost, server.port());
            QVERIFY(socket.waitForConnected(5000));
            socket.write(request);
            QByteArray received;
            QDeadlineTimer deadline(15000);
            while (socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
                socket.waitForReadyRead(200);
                received += socket.readAll();
            }
            received += socket.readAll();
            QCOMPARE(socket.state(), QAbstractSocket::UnconnectedState);
            QVERIFY2(!received.contains("\xFF\xD8\xFF") && !received.contains("ELNS"), received.toHex().constData());
        }
    }

    void v2OverTls_withTheToken_getsResults_withoutItUnauthorized()
    {
        ServerProcess server;
        QVERIFY2(server.start({QStringLiteral("--tls"), QStringLiteral("--token"), QStringLiteral("T")}, m_user->childEnvironment()),
                 qPrintable(server.diagnostics()));
        for (const QString &peerName : {QStringLiteral("localhost"), QStringLiteral("127.0.0.1")}) {
            const std::unique_ptr<QSslSocket> socket = connectTls(server.port(), peerName);
            QVERIFY2(socket, qPrintable(peerName)); // the certificate verifies for this name
            QCOMPARE(socket->sessionProtocol() >= QSsl::TlsV1_2, true);
            V2Channel client(socket.get());
            client.send(encodePreamble());
            std::optional<Message> reply = client.request(makeAuth(1, QStringLiteral("T")));
            QVERIFY(reply);
            QCOMPARE(reply->type, MessageType::AuthOk);
            reply = client.request(makeInfoRequest(2));
            QVERIFY(reply);
            QCOMPARE(reply->meta.value(QStringLiteral("tls")).toBool(), true);
            reply = client.request(makeDetect(3, {}, m_image));
            QVERIFY(reply);
            QCOMPARE(reply->type, MessageType::Result);
            QVERIFY(detectionResultFromJson(reply->meta).detections.size() >= 1);
            QVERIFY(reply->blob.startsWith("\xFF\xD8\xFF"));
        }

        const std::unique_ptr<QSslSocket> anonymous = connectTls(server.port(), QStringLiteral("localhost"));
        QVERIFY(anonymous);
        V2Channel client(anonymous.get());
        client.send(encodePreamble());
        const std::optional<Message> reply = client.request(makeDetect(1, {}, m_image));
        QVERIFY(reply);
        QCOMPARE(errorFromMessage(*reply).code, ErrorCode::Unauthorized);
    }

    void sixWrongTokens_thenTheRightOneWithinTheMinute_isRefused()
    {
        ServerProcess server;
        QVERIFY2(server.start({QStringLiteral("--tls"), QStringLiteral("--token"), QStringLiteral("T")}, m_user->childEnvironment()),
                 qPrintable(server.diagnostics()));
        const auto tryToken = [&](const QString &token) -> std::optional<Message> {
            const std::unique_ptr<QSslSocket> socket = connectTls(server.port(), QStringLiteral("localhost"));
            if (!socket)
                return std::nullopt;
            V2Channel client(socket.get());
            client.send(encodePreamble());
            return client.request(makeAuth(1, token), 10000);
        };
        for (int i = 1; i <= 6; ++i) {
            const std::optional<Message> reply = tryToken(QStringLiteral("wrong%1").arg(i));
            QVERIFY2(!reply || errorFromMessage(*reply).code == ErrorCode::Unauthorized, qPrintable(QString::number(i)));
        }
        const std::optional<Message> right = tryToken(QStringLiteral("T"));
        QVERIFY2(!right || right->type != MessageType::AuthOk, "the right token got through the throttle");
        QTRY_VERIFY_WITH_TIMEOUT(server.log().contains(QStringLiteral("127.0.0.1: 5 failed authentications within 60 s")),
                                 5000);
        QVERIFY2(server.log().contains(QStringLiteral("too many failed authentications from 127.0.0.1")),
                 qPrintable(server.log()));
    }

    void plainPort_servesTheTutorialsClientsOnlyWhenAsked()
    {
        ServerProcess tlsOnly;
        QVERIFY2(tlsOnly.start({QStringLiteral("--tls")}, m_user->childEnvironment()), qPrintable(tlsOnly.diagnostics()));
        QCOMPARE(plainPortOf(tlsOnly), quint16(0));

        ServerProcess server;
        QVERIFY2(server.start({QStringLiteral("--tls"), QStringLiteral("--plain-port"), QStringLiteral("0")}, m_user->childEnvironment()),
                 qPrintable(server.diagnostics()));
        QVERIFY(plainPortOf(server) != 0);
        QTcpSocket legacy;
        legacy.connectToHost(QHostAddress::LocalHost, plainPortOf(server));
        QVERIFY(legacy.waitForConnected(5000));
        legacy.write(encodeLegacyFrame(m_image));
        QByteArray reply;
        QDeadlineTimer deadline(20000);
        while (legacy.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
            legacy.waitForReadyRead(200);
            reply += legacy.readAll();
        }
        reply += legacy.readAll();
        QVERIFY(reply.size() > 4);
        QCOMPARE(qFromLittleEndian<quint32>(reply.constData()), quint32(reply.size() - 4));
        QVERIFY(reply.mid(4).startsWith("\xFF\xD8\xFF"));

        QTcpSocket plain;
        plain.connectToHost(QHostAddress::LocalHost, plainPortOf(server));
        QVERIFY(plain.waitForConnected(5000));
        V2Channel client(&plain);
        client.send(encodePreamble());
        const std::optional<Message> info = client.request(makeInfoRequest(1));
        QVERIFY(info);
        QCOMPARE(info->meta.value(QStringLiteral("tls")).toBool(), false);
        QVERIFY(server.log().contains(QStringLiteral("--plain-port")));
    }
};

QTEST_GUILESS_MAIN(TestServerTls)
#include "tst_servertls.moc"
