// docs/DEPLOY.md's nginx example for real: Debian's nginx (stream module, least_conn,
// proxy_protocol on, proxy_next_upstream) on loopback in front of two
// `edgelens-server --proxy-protocol` processes. Clients bound to 127.0.0.2 (nginx itself
// connects from 127.0.0.1) must be served, legacy and v2, must show up in the servers' logs
// under their own address, and must still be served with one server killed.

#include "serverprocess.h"
#include "testnetwork.h"
#include "v2channel.h"

#include "protocol/protocol.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>

#include <csignal>
#include <memory>
#include <sys/types.h>

using namespace edgelens;
using namespace edgelens::protocol;
using edgelens::test::ServerProcess;
using edgelens::test::V2Channel;

namespace {

const QHostAddress kClientAddress(QStringLiteral("127.0.0.2"));
const QString kNginx = QStringLiteral("/usr/sbin/nginx");
const QString kStreamModule = QStringLiteral("/usr/lib/nginx/modules/ngx_stream_module.so");

QByteArray sample(const QString &name)
{
    QFile file(qEnvironmentVariable("EDGELENS_SHARED_DIR") + QStringLiteral("/data/samples/") + name);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool connectFrom127002(QTcpSocket &socket, quint16 port)
{
    if (!socket.bind(kClientAddress, 0))
        return false;
    socket.connectToHost(QHostAddress::LocalHost, port);
    return socket.waitForConnected(5000);
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
    std::unique_ptr<QProcess> m_nginx;
    std::unique_ptr<ServerProcess> m_servers[2];
    quint16 m_port = 0;
    QByteArray m_image;

    bool writeConfig(const QString &path, quint16 listenPort)
    {
        const QString config = QStringLiteral(R"(# docs/DEPLOY.md's example, on loopback
load_module %1;
daemon off;
worker_processes 1;
pid %2/nginx.pid;
error_log %2/error.log info;
events { worker_connections 256; }
stream {
    upstream edgelens {
        least_conn;
        server 127.0.0.1:%3 max_fails=1 fail_timeout=30s;
        server 127.0.0.1:%4 max_fails=1 fail_timeout=30s;
    }
    server {
        listen 127.0.0.1:%5;
        proxy_pass edgelens;
        proxy_protocol on;
        proxy_next_upstream on;
        proxy_next_upstream_tries 2;
        proxy_connect_timeout 2s;
        proxy_timeout 120s;
    }
}
)")
                                   .arg(kStreamModule, m_dir.path())
                                   .arg(m_servers[0]->port())
                                   .arg(m_servers[1]->port())
                                   .arg(listenPort);
        QSaveFile file(path);
        return file.open(QIODevice::WriteOnly) && file.write(config.toUtf8()) > 0 && file.commit();
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        m_image = sample(QStringLiteral("soccer.jpg"));
        QVERIFY2(!m_image.isEmpty(), "the shared samples are missing");
        if (!QFile::exists(kNginx) || !QFile::exists(kStreamModule)) {
            const QString why = QStringLiteral("nginx with its stream module is missing (nginx-light, libnginx-mod-stream): "
                                               "bash packaging/install-deps.sh");
            if (qEnvironmentVariable("CI") == QLatin1String("true"))
                QFAIL(qPrintable(why));
            QSKIP(qPrintable(why));
        }
        QTcpSocket probe;
        QVERIFY2(probe.bind(kClientAddress, 0), "cannot bind to 127.0.0.2 (loopback /8)");
        QVERIFY(m_dir.isValid());

        for (auto &server : m_servers) {
            server = std::make_unique<ServerProcess>();
            QVERIFY2(server->start({QStringLiteral("--proxy-protocol"), QStringLiteral("--threads"), QStringLiteral("1")}),
                     qPrintable(server->diagnostics()));
        }
        // nginx needs a fixed port in its configuration: one the system just handed out.
        m_port = test::unusedLoopbackPort();
        const QString config = m_dir.filePath(QStringLiteral("nginx.conf"));
        QVERIFY(writeConfig(config, m_port));
        m_nginx = std::make_unique<QProcess>();
        m_nginx->setProcessChannelMode(QProcess::MergedChannels);
        m_nginx->start(kNginx, {QStringLiteral("-p"), m_dir.path(), QStringLiteral("-c"), config, QStringLiteral("-e"),
                                m_dir.filePath(QStringLiteral("error.log"))});
        QVERIFY(m_nginx->waitForStarted(5000));
        QDeadlineTimer deadline(10000);
        bool up = false;
        while (!up && !deadline.hasExpired() && m_nginx->state() == QProcess::Running) {
            QTcpSocket socket;
            socket.connectToHost(QHostAddress::LocalHost, m_port);
            up = socket.waitForConnected(200);
            if (!up)
                QTest::qWait(100);
        }
        QFile errorLog(m_dir.filePath(QStringLiteral("error.log")));
        errorLog.open(QIODevice::ReadOnly);
        QVERIFY2(up, qPrintable(QString::fromUtf8(m_nginx->readAll() + errorLog.readAll())));
    }

    void cleanupTestCase()
    {
        if (m_nginx && m_nginx->state() != QProcess::NotRunning) {
            ::kill(pid_t(m_nginx->processId()), SIGQUIT); // graceful
            if (!m_nginx->waitForFinished(5000))
                m_nginx->kill();
        }
        for (auto &server : m_servers)
            server.reset();
    }

    void tutorialAndV2Clients_areServedThroughNginx_andLoggedUnderTheirOwnAddress()
    {
        QList<quint16> legacyPorts;
        for (int i = 0; i < 4; ++i) {
            quint16 clientPort = 0;
            const QByteArray jpeg = legacyThrough(m_port, m_image, &clientPort);
            QVERIFY2(jpeg.startsWith("\xFF\xD8\xFF"), qPrintable(QStringLiteral("legacy request %1").arg(i)));
            legacyPorts.append(clientPort);
        }

        QTcpSocket socket;
        QVERIFY(connectFrom127002(socket, m_port));
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

        QString logs;
        int serversUsed = 0;
        const QString lastLine = QStringLiteral("127.0.0.2:%1 v2 #3 detect").arg(v2Port);
        QTRY_VERIFY_WITH_TIMEOUT(QString(m_servers[0]->log() + m_servers[1]->log()).contains(lastLine), 5000);
        for (auto &server : m_servers) {
            const QString log = server->log();
            serversUsed += log.contains(QStringLiteral("127.0.0.2:"));
            logs += log;
        }
        for (quint16 port : legacyPorts) {
            QVERIFY2(logs.contains(QStringLiteral("127.0.0.2:%1 legacy detect %2 B -> 600x400").arg(port).arg(m_image.size())),
                     qPrintable(logs));
        }
        QVERIFY2(!logs.contains(QRegularExpression(QStringLiteral("127\\.0\\.0\\.1:\\d+ (legacy|v2) "))),
                 "a request was logged under nginx's address");
        QCOMPARE(serversUsed, 2); // least_conn spreads the legacy connections
    }

    void withOneServerKilled_clientsAreStillServed()
    {
        m_servers[0]->kill();
        for (int i = 0; i < 4; ++i) {
            quint16 clientPort = 0;
            QVERIFY2(legacyThrough(m_port, m_image, &clientPort).startsWith("\xFF\xD8\xFF"),
                     qPrintable(QStringLiteral("legacy request %1 with one server down").arg(i)));
            QTRY_VERIFY2_WITH_TIMEOUT(
                m_servers[1]->log().contains(QStringLiteral("127.0.0.2:%1 legacy detect").arg(clientPort)),
                "served by the surviving server", 5000);
        }
        QTcpSocket socket;
        QVERIFY(connectFrom127002(socket, m_port));
        V2Channel client(&socket);
        client.send(encodePreamble());
        const std::optional<Message> reply = client.request(makeDetect(1, {}, m_image), 30000);
        QVERIFY(reply);
        QCOMPARE(reply->type, MessageType::Result);
    }
};

QTEST_GUILESS_MAIN(TestLoadBalancer)
#include "tst_loadbalancer.moc"
