// docs/DEPLOY.md's load balancer examples for real, on loopback in front of two
// `edgelens-server --proxy-protocol` processes: Debian's nginx (stream module, least_conn,
// proxy_protocol on, proxy_next_upstream) and Debian's HAProxy (TCP mode, leastconn,
// send-proxy-v2 with health checks that send the header too, redispatch), both with the
// configuration text read from DEPLOY.md itself. Clients bound to 127.0.0.2 (the balancers
// connect from 127.0.0.1) must be served, legacy and v2, must show up in the servers' logs
// under their own address, and must still be served with one server killed. A second pair of
// balancers in front of a server with a token shows that the auth throttle keys on the
// client's address from the PROXY header, not the balancer's: five wrong tokens lock out their
// sender and nobody else.

#include "serverprocess.h"
#include "testnetwork.h"
#include "v2channel.h"

#include "protocol/protocol.h"

#include <QDeadlineTimer>
#include <QDir>
#include "deployexample.h"

#include <QFile>
#include <QHash>
#include <QProcess>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSet>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>

#include <csignal>
#include <memory>
#include <optional>
#include <sys/types.h>

using namespace edgelens;
using namespace edgelens::protocol;
using edgelens::test::ServerProcess;
using edgelens::test::V2Channel;

namespace {

const QHostAddress kClientAddress(QStringLiteral("127.0.0.2"));
const QString kNginx = QStringLiteral("/usr/sbin/nginx");
const QString kStreamModule = QStringLiteral("/usr/lib/nginx/modules/ngx_stream_module.so");
const QString kHaproxy = QStringLiteral("/usr/sbin/haproxy");
const QString kToken = QStringLiteral("lb-secret");

bool requireCi()
{
    return qEnvironmentVariable("CI") == QLatin1String("true");
}

// The ```language block of docs/DEPLOY.md (nginx, haproxy) with its devices and port replaced
// by the test's: the docs' first two devices become the two servers, any other device line is
// left out, and it listens on 127.0.0.1:listenPort. Empty, with *error, when the docs no longer
// have what this replaces.
QString deployExample(const QString &language, quint16 listenPort, quint16 first, quint16 second, QString *error)
{
    // The first ```language block: an empty marker matches any.
    const QString body = test::deployBlock(language, QString(), error);
    if (body.isEmpty())
        return {};
    QStringList lines;
    int listens = 0;
    int servers = 0;
    // nginx: `listen 6000;`, `server 192.0.2.11:6000 ...`; HAProxy: `bind :6000`, `server pi1 192.0.2.11:6000 ...`.
    static const QRegularExpression listen(QStringLiteral(R"(^(\s*(?:listen|bind)\s+):?6000\b)"));
    static const QRegularExpression server(QStringLiteral(R"(^(\s*server\s+(?:[A-Za-z]\S*\s+)?)192\.0\.2\.(\d+):6000\b)"));
    for (const QString &line : body.split(QLatin1Char('\n'))) {
        QString out = line;
        const QRegularExpressionMatch bound = listen.match(line);
        const QRegularExpressionMatch device = server.match(line);
        if (bound.hasMatch()) {
            out = bound.captured(1) + QStringLiteral("127.0.0.1:%1").arg(listenPort) + line.mid(bound.capturedEnd());
            ++listens;
        } else if (device.hasMatch()) {
            const int host = device.captured(2).toInt();
            if (host != 11 && host != 12)
                continue; // the docs' third device: two servers are enough here
            out = device.captured(1) + QStringLiteral("127.0.0.1:%1").arg(host == 11 ? first : second)
                + line.mid(device.capturedEnd());
            ++servers;
        }
        lines << out;
    }
    if (listens != 1 || servers != 2) {
        *error = QStringLiteral("docs/DEPLOY.md's %1 example changed shape: expected one listening port 6000 and "
                                "devices 192.0.2.11:6000 and 192.0.2.12:6000, found %2 port(s) and %3 of the devices")
                     .arg(language)
                     .arg(listens)
                     .arg(servers);
        return {};
    }
    return lines.join(QLatin1Char('\n'));
}

QByteArray sample(const QString &name)
{
    QFile file(qEnvironmentVariable("EDGELENS_SHARED_DIR") + QStringLiteral("/data/samples/") + name);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool connectFrom(QTcpSocket &socket, const QHostAddress &client, quint16 port)
{
    if (!socket.bind(client, 0))
        return false;
    socket.connectToHost(QHostAddress::LocalHost, port);
    return socket.waitForConnected(5000);
}

bool connectFrom127002(QTcpSocket &socket, quint16 port)
{
    return connectFrom(socket, kClientAddress, port);
}

// A v2 session from `client` through the balancer on `port` that offers `token`: the server's
// answer (AuthOk or Error), nullopt when it closed without one.
std::optional<Message> authThrough(quint16 port, const QHostAddress &client, const QString &token)
{
    QTcpSocket socket;
    if (!connectFrom(socket, client, port))
        return std::nullopt;
    V2Channel channel(&socket);
    channel.send(encodePreamble());
    return channel.request(makeAuth(1, token), 20000);
}

// The tutorial's client: length + image, then read length + JPEG until the server closes.
QByteArray legacyThrough(quint16 port, const QByteArray &image, quint16 *clientPort)
{
    QTcpSocket socket;
    if (!connectFrom127002(socket, port))
        return {};
    *clientPort = socket.localPort();
    socket.write(encodeLegacyFrame(image));
    QByteArray reply;
    QDeadlineTimer deadline(30000);
    while (socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
        socket.waitForReadyRead(200);
        reply += socket.readAll();
    }
    reply += socket.readAll();
    if (reply.size() < 4 || qFromLittleEndian<quint32>(reply.constData()) != quint32(reply.size() - 4))
        return {};
    return reply.mid(4);
}

} // namespace

class TestLoadBalancer : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<ServerProcess> m_servers[2];
    std::unique_ptr<ServerProcess> m_tokenServer; // --token: behind both "-token" balancers, twice
    QHash<QString, std::shared_ptr<QProcess>> m_balancers; // "nginx", "haproxy", "nginx-token", ...
    QHash<QString, quint16> m_ports; // balancer -> the port it listens on
    QString m_missing;               // balancer -> why it is not running
    QByteArray m_image;

    // docs/DEPLOY.md's nginx example inside what Debian's /etc/nginx/nginx.conf provides around
    // it (here: in the foreground, one worker, files in the test's folder).
    bool writeNginxConfig(const QString &dir, const QString &path, quint16 listenPort, quint16 first, quint16 second)
    {
        QString error;
        const QString example = deployExample(QStringLiteral("nginx"), listenPort, first, second, &error);
        if (example.isEmpty()) {
            qWarning().noquote() << error;
            return false;
        }
        // After the example: its load_module must come before any other block.
        const QString config = example
            + QStringLiteral("\ndaemon off;\nworker_processes 1;\npid %1/nginx.pid;\n"
                             "error_log %1/error.log info;\nevents { worker_connections 256; }\n")
                  .arg(dir);
        return writeFile(path, config);
    }

    static bool writeFile(const QString &path, const QString &text)
    {
        QSaveFile file(path);
        return file.open(QIODevice::WriteOnly) && file.write(text.toUtf8()) > 0 && file.commit();
    }

    // Until the balancer accepts connections on `port` (or gave up): its output when it did not.
    static QString waitUntilListening(QProcess &process, quint16 port, const QString &logFile = QString())
    {
        QDeadlineTimer deadline(10000);
        while (!deadline.hasExpired() && process.state() == QProcess::Running) {
            QTcpSocket socket;
            socket.connectToHost(QHostAddress::LocalHost, port);
            if (socket.waitForConnected(200))
                return QString();
            QTest::qWait(100);
        }
        QFile log(logFile);
        const QByteArray logged = !logFile.isEmpty() && log.open(QIODevice::ReadOnly) ? log.readAll() : QByteArray();
        return QString::fromUtf8(process.readAll() + logged) + QStringLiteral(" (not listening on %1)").arg(port);
    }

    // The balancer `name` in front of the servers on ports first and second (the same port twice
    // for a single server), in a folder of its own under the test's.
    void startNginx(const QString &name, quint16 first, quint16 second)
    {
        if (!QFile::exists(kNginx) || !QFile::exists(kStreamModule)) {
            m_missing += QStringLiteral("nginx with its stream module is missing (nginx-light, libnginx-mod-stream): "
                                        "bash packaging/install-deps.sh\n");
            return;
        }
        // A balancer needs a fixed port in its configuration: one the system just handed out.
        const quint16 port = test::unusedLoopbackPort();
        const QString dir = m_dir.filePath(name);
        QVERIFY(QDir().mkpath(dir));
        const QString config = dir + QStringLiteral("/nginx.conf");
        QVERIFY(writeNginxConfig(dir, config, port, first, second));
        auto nginx = std::make_shared<QProcess>();
        nginx->setProcessChannelMode(QProcess::MergedChannels);
        nginx->start(kNginx, {QStringLiteral("-p"), dir, QStringLiteral("-c"), config, QStringLiteral("-e"),
                              dir + QStringLiteral("/error.log")});
        QVERIFY(nginx->waitForStarted(5000));
        m_balancers.insert(name, nginx);
        const QString failure = waitUntilListening(*nginx, port, dir + QStringLiteral("/error.log"));
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        m_ports.insert(name, port);
    }

    void startHaproxy(const QString &name, quint16 first, quint16 second)
    {
        if (!QFile::exists(kHaproxy)) {
            m_missing += QStringLiteral("haproxy is missing: bash packaging/install-deps.sh\n");
            return;
        }
        const quint16 port = test::unusedLoopbackPort();
        QString error;
        const QString text = deployExample(QStringLiteral("haproxy"), port, first, second, &error);
        QVERIFY2(!text.isEmpty(), qPrintable(error));
        const QString config = m_dir.filePath(name + QStringLiteral(".cfg"));
        QVERIFY(writeFile(config, text + QLatin1Char('\n')));
        // The docs' text must be valid as it stands, before it is run.
        QProcess check;
        check.setProcessChannelMode(QProcess::MergedChannels);
        check.start(kHaproxy, {QStringLiteral("-c"), QStringLiteral("-f"), config});
        QVERIFY(check.waitForFinished(10000));
        QVERIFY2(check.exitCode() == 0, qPrintable(QString::fromUtf8(check.readAll()) + QLatin1Char('\n') + text));
        auto haproxy = std::make_shared<QProcess>();
        haproxy->setProcessChannelMode(QProcess::MergedChannels);
        // -db: in the foreground, so that this test owns it and stops it.
        haproxy->start(kHaproxy, {QStringLiteral("-db"), QStringLiteral("-f"), config});
        QVERIFY(haproxy->waitForStarted(5000));
        m_balancers.insert(name, haproxy);
        const QString failure = waitUntilListening(*haproxy, port);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        m_ports.insert(name, port);
    }

    static void stop(QProcess &process, int signal)
    {
        if (process.state() != QProcess::NotRunning) {
            ::kill(pid_t(process.processId()), signal); // graceful
            if (!process.waitForFinished(5000))
                process.kill();
        }
    }

    // The port of the current data row's balancer; 0 when it is not running (initTestCase
    // failed under CI=true, so this is a skip only on a developer's machine).
    quint16 balancerPort()
    {
        QFETCH(QString, balancer);
        return m_ports.value(balancer);
    }

    static void addBalancerRows()
    {
        QTest::addColumn<QString>("balancer");
        QTest::newRow("nginx") << QStringLiteral("nginx");
        QTest::newRow("haproxy") << QStringLiteral("haproxy");
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        m_image = sample(QStringLiteral("soccer.jpg"));
        QVERIFY2(!m_image.isEmpty(), "the shared samples are missing");
        QTcpSocket probe;
        QVERIFY2(probe.bind(kClientAddress, 0), "cannot bind to 127.0.0.2 (loopback /8)");
        QVERIFY(m_dir.isValid());

        for (auto &server : m_servers) {
            server = std::make_unique<ServerProcess>();
            QVERIFY2(server->start({QStringLiteral("--proxy-protocol"), QStringLiteral("--threads"), QStringLiteral("1")}),
                     qPrintable(server->diagnostics()));
        }
        m_tokenServer = std::make_unique<ServerProcess>();
        QVERIFY2(m_tokenServer->start({QStringLiteral("--proxy-protocol"), QStringLiteral("--threads"), QStringLiteral("1"),
                                       QStringLiteral("--token"), kToken}),
                 qPrintable(m_tokenServer->diagnostics()));
        const quint16 first = m_servers[0]->port();
        const quint16 second = m_servers[1]->port();
        const quint16 token = m_tokenServer->port();
        startNginx(QStringLiteral("nginx"), first, second);
        startNginx(QStringLiteral("nginx-token"), token, token);
        startHaproxy(QStringLiteral("haproxy"), first, second);
        startHaproxy(QStringLiteral("haproxy-token"), token, token);
        if (!m_missing.isEmpty()) {
            if (requireCi())
                QFAIL(qPrintable(m_missing));
            qWarning().noquote() << m_missing;
        }
        if (m_ports.isEmpty())
            QSKIP(qPrintable(m_missing));
    }

    void cleanupTestCase()
    {
        for (auto it = m_balancers.cbegin(); it != m_balancers.cend(); ++it)
            stop(*it.value(), it.key().startsWith(QLatin1String("nginx")) ? SIGQUIT : SIGTERM);
        m_balancers.clear();
        for (auto &server : m_servers)
            server.reset();
        m_tokenServer.reset();
    }

    void tutorialAndV2Clients_areServedThroughTheBalancer_andLoggedUnderTheirOwnAddress_data() { addBalancerRows(); }
    void tutorialAndV2Clients_areServedThroughTheBalancer_andLoggedUnderTheirOwnAddress()
    {
        const quint16 port = balancerPort();
        if (port == 0)
            QSKIP(qPrintable(m_missing));
        QList<quint16> legacyPorts;
        for (int i = 0; i < 4; ++i) {
            quint16 clientPort = 0;
            const QByteArray jpeg = legacyThrough(port, m_image, &clientPort);
            QVERIFY2(jpeg.startsWith("\xFF\xD8\xFF"), qPrintable(QStringLiteral("legacy request %1").arg(i)));
            legacyPorts.append(clientPort);
        }

        QTcpSocket socket;
        QVERIFY(connectFrom127002(socket, port));
        const quint16 v2Port = socket.localPort();
        V2Channel client(&socket);
        client.send(encodePreamble());
        for (quint32 id = 1; id <= 3; ++id) {
            const std::optional<Message> reply = client.request(makeDetect(id, {}, m_image), 30000);
            QVERIFY(reply);
            QCOMPARE(reply->type, MessageType::Result);
            QVERIFY(!detectionResultFromJson(reply->meta).detections.isEmpty());
        }
        socket.disconnectFromHost();

        const QString lastLine = QStringLiteral("127.0.0.2:%1 v2 #3 detect").arg(v2Port);
        QTRY_VERIFY_WITH_TIMEOUT(QString(m_servers[0]->log() + m_servers[1]->log()).contains(lastLine), 5000);
        QSet<int> serversUsed;
        for (quint16 legacyPort : std::as_const(legacyPorts)) {
            const QString line = QStringLiteral("127.0.0.2:%1 legacy detect %2 B -> 600x400").arg(legacyPort).arg(m_image.size());
            for (int i = 0; i < 2; ++i) {
                if (m_servers[i]->log().contains(line))
                    serversUsed.insert(i);
            }
            QVERIFY2(QString(m_servers[0]->log() + m_servers[1]->log()).contains(line), qPrintable(line));
        }
        QVERIFY2(!QString(m_servers[0]->log() + m_servers[1]->log())
                      .contains(QRegularExpression(QStringLiteral("127\\.0\\.0\\.1:\\d+ (legacy|v2) "))),
                 "a request was logged under the balancer's address");
        QCOMPARE(serversUsed.size(), 2); // least connections spreads the legacy connections
    }

    // The throttle remembers an address for a minute, so each row has clients of its own.
    void wrongTokens_lockOutTheirSenderOnly_notTheBalancersOtherClients_data()
    {
        QTest::addColumn<QString>("balancer");
        QTest::addColumn<QString>("attacker");
        QTest::addColumn<QString>("bystander");
        QTest::newRow("nginx") << QStringLiteral("nginx") << QStringLiteral("127.0.0.4") << QStringLiteral("127.0.0.5");
        QTest::newRow("haproxy") << QStringLiteral("haproxy") << QStringLiteral("127.0.0.6") << QStringLiteral("127.0.0.7");
    }
    void wrongTokens_lockOutTheirSenderOnly_notTheBalancersOtherClients()
    {
        QFETCH(QString, balancer);
        QFETCH(QString, attacker);
        QFETCH(QString, bystander);
        const quint16 port = m_ports.value(balancer + QStringLiteral("-token"));
        if (port == 0)
            QSKIP(qPrintable(m_missing));
        const QHostAddress from(attacker);
        const QHostAddress other(bystander);

        // Before: both are let in with the token.
        std::optional<Message> reply = authThrough(port, other, kToken);
        QVERIFY(reply);
        QCOMPARE(reply->type, MessageType::AuthOk);
        for (int i = 1; i <= 5; ++i) {
            reply = authThrough(port, from, QStringLiteral("guess-%1").arg(i));
            QVERIFY2(reply, qPrintable(QStringLiteral("wrong token %1 got no answer").arg(i)));
            QCOMPARE(reply->type, MessageType::Error);
            const ErrorInfo error = errorFromMessage(*reply);
            QCOMPARE(error.code, ErrorCode::Unauthorized);
            QVERIFY2(error.message.contains(QStringLiteral("wrong token")), qPrintable(error.message));
        }
        // The attacker is locked out, even with the right token now ...
        reply = authThrough(port, from, kToken);
        QVERIFY2(!reply || reply->type == MessageType::Error, "the throttled address was let in");
        // ... and only the attacker: another client of the same balancer is let in.
        reply = authThrough(port, other, kToken);
        QVERIFY2(reply, "the other client was refused without an answer (throttled with the attacker?)");
        QCOMPARE(reply->type, MessageType::AuthOk);
        QTRY_VERIFY_WITH_TIMEOUT(m_tokenServer->log().contains(attacker + QStringLiteral(": 5 failed authentications")), 5000);
        QVERIFY(!m_tokenServer->log().contains(QStringLiteral("127.0.0.1: 5 failed authentications")));
    }

    void withOneServerKilled_clientsAreStillServed_data() { addBalancerRows(); }
    void withOneServerKilled_clientsAreStillServed()
    {
        const quint16 port = balancerPort();
        if (port == 0)
            QSKIP(qPrintable(m_missing));
        m_servers[0]->kill(); // once; the next row finds it dead already
        for (int i = 0; i < 4; ++i) {
            quint16 clientPort = 0;
            QVERIFY2(legacyThrough(port, m_image, &clientPort).startsWith("\xFF\xD8\xFF"),
                     qPrintable(QStringLiteral("legacy request %1 with one server down").arg(i)));
            QTRY_VERIFY2_WITH_TIMEOUT(
                m_servers[1]->log().contains(QStringLiteral("127.0.0.2:%1 legacy detect").arg(clientPort)),
                "served by the surviving server", 5000);
        }
        QTcpSocket socket;
        QVERIFY(connectFrom127002(socket, port));
        V2Channel client(&socket);
        client.send(encodePreamble());
        const std::optional<Message> reply = client.request(makeDetect(1, {}, m_image), 30000);
        QVERIFY(reply);
        QCOMPARE(reply->type, MessageType::Result);
    }
};

QTEST_GUILESS_MAIN(TestLoadBalancer)
#include "tst_loadbalancer.moc"
