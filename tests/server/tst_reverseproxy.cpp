// docs/DEPLOY.md's nginx examples for real, both in one nginx on loopback in front of one
// `edgelens-server --token K --proxy-protocol --http-port P --trusted-proxy 127.0.0.1`: the
// `stream` block (PROXY protocol) before the TCP port, the `http` block (X-Forwarded-For)
// before the HTTP port. Clients bound to 127.0.0.x (nginx connects from 127.0.0.1) must be
// told apart by the server: five wrong keys from one client lock out that client only, over
// HTTP and over v2; a client's own X-Forwarded-For does not pass for someone else's; the
// HTTP per-address limit counts clients, not nginx.

#include "deployexample.h"
#include "rawhttp.h"
#include "serverprocess.h"
#include "testdata.h"
#include "testnetwork.h"
#include "v2channel.h"

#include "protocol/protocol.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSaveFile>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <memory>
#include <sys/types.h>

using namespace edgelens;
using namespace edgelens::test;

namespace {

const QString kNginx = QStringLiteral("/usr/sbin/nginx");
const QString kStreamModule = QStringLiteral("/usr/lib/nginx/modules/ngx_stream_module.so");
const QByteArray kToken = "reverse-proxy-K";

QHostAddress client(int host)
{
    return QHostAddress(QStringLiteral("127.0.0.%1").arg(host));
}

QByteArray listModels(const QByteArray &key, const QByteArray &extraHeaders = {})
{
    return deepStackPost("/v1/vision/custom/list", QByteArray(), {{"api_key", key}}, extraHeaders);
}

} // namespace

class TestReverseProxy : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    ServerProcess m_server;
    std::unique_ptr<QProcess> m_nginx;
    quint16 m_streamPort = 0; // nginx in front of the TCP port
    quint16 m_httpPort = 0;   // nginx in front of the HTTP port
    QByteArray m_image;

    int statusThrough(const QByteArray &request, int host)
    {
        const std::optional<RawHttpAnswer> answer = rawHttpRequest(m_httpPort, request, client(host));
        return answer ? answer->status : 0;
    }

    // Auth over v2 through nginx's stream block: the reply's type, or nullopt when the server
    // closed the connection without one (a throttled address).
    std::optional<protocol::MessageType> v2Auth(int host, const QByteArray &token)
    {
        QTcpSocket socket;
        if (!connectFrom(socket, m_streamPort, client(host)))
            return std::nullopt;
        V2Channel channel(&socket);
        channel.send(protocol::encodePreamble());
        const std::optional<protocol::Message> reply = channel.request(protocol::makeAuth(1, QString::fromUtf8(token)), 20000);
        if (!reply)
            return std::nullopt;
        return reply->type;
    }

    bool waitUntilListening(quint16 port)
    {
        QDeadlineTimer deadline(10000);
        while (!deadline.hasExpired() && m_nginx->state() == QProcess::Running) {
            QTcpSocket socket;
            socket.connectToHost(QHostAddress::LocalHost, port);
            if (socket.waitForConnected(200))
                return true;
            QTest::qWait(100);
        }
        return false;
    }

private slots:
    void initTestCase()
    {
        EDGELENS_REQUIRE(QFile::exists(kNginx) && QFile::exists(kStreamModule),
                         "nginx with its stream module is missing (nginx-light, libnginx-mod-stream): "
                         "bash packaging/install-deps.sh");
        EDGELENS_REQUIRE_SHARED("data/samples/soccer.jpg");
        m_image = readSample(QStringLiteral("soccer.jpg"));
        QTcpSocket probe;
        QVERIFY2(probe.bind(client(2), 0), "cannot bind to 127.0.0.2 (loopback /8)");
        QVERIFY(m_dir.isValid());
        QVERIFY2(m_server.start({QStringLiteral("--token"), QString::fromUtf8(kToken), QStringLiteral("--proxy-protocol"),
                                 QStringLiteral("--http-port"), QStringLiteral("0"), QStringLiteral("--trusted-proxy"),
                                 QStringLiteral("127.0.0.1"), QStringLiteral("--http-max-per-address"),
                                 QStringLiteral("2"), QStringLiteral("--threads"), QStringLiteral("1")}),
                 qPrintable(m_server.diagnostics()));
        const quint16 serverHttp =
            quint16(m_server.stdoutCapture(QStringLiteral("^http listening on \\S+:(\\d+)$")).toUInt());
        QVERIFY2(serverHttp != 0, qPrintable(m_server.out()));

        // A balancer needs fixed ports in its configuration: ones the system just handed out.
        m_streamPort = unusedLoopbackPort();
        m_httpPort = unusedLoopbackPort();
        QString error;
        const QString stream = rewriteDeployBlock(deployBlock(QStringLiteral("nginx"), QStringLiteral("stream {"), &error),
                                                  6000, m_streamPort, {{11, m_server.port()}}, &error);
        QVERIFY2(!stream.isEmpty(), qPrintable(error));
        QString http = rewriteDeployBlock(deployBlock(QStringLiteral("nginx"), QStringLiteral("X-Forwarded-For"), &error),
                                          5000, m_httpPort, {{11, serverHttp}}, &error);
        QVERIFY2(!http.isEmpty(), qPrintable(error));
        // What Debian's /etc/nginx/nginx.conf holds around the examples, with files in the test's folder.
        const QString dir = m_dir.path();
        http.replace(QRegularExpression(QStringLiteral("^http \\{"), QRegularExpression::MultilineOption),
                     QStringLiteral("http {\n    access_log off;\n    client_body_temp_path %1/body;\n"
                                    "    proxy_temp_path %1/proxy;\n    fastcgi_temp_path %1/fastcgi;\n"
                                    "    uwsgi_temp_path %1/uwsgi;\n    scgi_temp_path %1/scgi;")
                         .arg(dir));
        const QString config = stream + QLatin1Char('\n') + http
            + QStringLiteral("\ndaemon off;\nworker_processes 1;\npid %1/nginx.pid;\n"
                             "error_log %1/error.log info;\nevents { worker_connections 256; }\n")
                  .arg(dir);
        QSaveFile file(m_dir.filePath(QStringLiteral("nginx.conf")));
        QVERIFY(file.open(QIODevice::WriteOnly) && file.write(config.toUtf8()) > 0 && file.commit());
        m_nginx = std::make_unique<QProcess>();
        m_nginx->setProcessChannelMode(QProcess::MergedChannels);
        m_nginx->start(kNginx, {QStringLiteral("-p"), dir, QStringLiteral("-c"), file.fileName(), QStringLiteral("-e"),
                                m_dir.filePath(QStringLiteral("error.log"))});
        QVERIFY(m_nginx->waitForStarted(5000));
        const bool listening = waitUntilListening(m_streamPort) && waitUntilListening(m_httpPort);
        QVERIFY2(listening, qPrintable(QString::fromUtf8(m_nginx->readAll() + readFile(m_dir.filePath(QStringLiteral("error.log"))))
                                       + QStringLiteral("\n") + config));
    }

    void cleanupTestCase()
    {
        if (m_nginx && m_nginx->state() != QProcess::NotRunning) {
            ::kill(pid_t(m_nginx->processId()), SIGQUIT); // graceful
            if (!m_nginx->waitForFinished(5000))
                m_nginx->kill();
        }
        m_nginx.reset();
        m_server.stop();
    }

    void httpWrongKeys_lockOutThatClientOnly()
    {
        QCOMPARE(statusThrough(listModels(kToken), 3), 200);
        for (int i = 0; i < 5; ++i)
            QCOMPARE(statusThrough(listModels("wrong"), 2), 401);
        const std::optional<RawHttpAnswer> locked = rawHttpRequest(m_httpPort, listModels(kToken), client(2));
        QVERIFY(locked);
        QCOMPARE(locked->status, 429);
        QVERIFY(locked->header("retry-after").toInt() > 0);
        // Another client is served, also when it claims to be the locked one...
        QCOMPARE(statusThrough(listModels(kToken), 3), 200);
        QCOMPARE(statusThrough(listModels(kToken, "X-Forwarded-For: 127.0.0.2\r\n"), 3), 200);
        // ...and cannot lock out someone else by naming them.
        for (int i = 0; i < 6; ++i)
            statusThrough(listModels("wrong", "X-Forwarded-For: 127.0.0.3\r\n"), 4);
        QCOMPARE(statusThrough(listModels(kToken), 3), 200);
        QCOMPARE(statusThrough(listModels(kToken), 4), 429);
    }

    void v2WrongTokens_lockOutThatClientOnly()
    {
        for (int i = 0; i < 5; ++i)
            QCOMPARE(v2Auth(5, "wrong"), std::optional<protocol::MessageType>(protocol::MessageType::Error));
        QCOMPARE(v2Auth(5, kToken), std::nullopt); // refused at the connection, before any reply
        QCOMPARE(v2Auth(6, kToken), std::optional<protocol::MessageType>(protocol::MessageType::AuthOk));
    }

    void perAddressLimit_countsClientsNotTheProxy()
    {
        // Two uploads from one client held open (their bodies incomplete) take its two slots.
        const QByteArray head = "POST /v1/vision/detection HTTP/1.1\r\nHost: e\r\nContent-Type: multipart/form-data; "
                                "boundary=B\r\nContent-Length: 100000\r\n\r\n--B\r\n";
        QTcpSocket held[2];
        for (QTcpSocket &socket : held) {
            QVERIFY(connectFrom(socket, m_httpPort, client(7)));
            socket.write(head);
            QVERIFY(socket.waitForBytesWritten(5000));
        }
        // Once both reached the server, a third request of that client is refused...
        QTRY_COMPARE_WITH_TIMEOUT(statusThrough(listModels(kToken), 7), 429, 20000);
        // ...while other clients through the same nginx are served.
        QCOMPARE(statusThrough(listModels(kToken), 8), 200);
        for (QTcpSocket &socket : held)
            socket.abort();
        QTRY_COMPARE_WITH_TIMEOUT(statusThrough(listModels(kToken), 7), 200, 20000);
    }
};

QTEST_GUILESS_MAIN(TestReverseProxy)
#include "tst_reverseproxy.moc"
