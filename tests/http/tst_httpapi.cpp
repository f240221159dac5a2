// The HTTP port end to end over loopback: a DetectionServer with its HttpListener on their own
// thread (as edgelens-server runs them), HTTP clients in the test thread.
#include "client/detectionclient.h"
#include "http/httplistener.h"
#include "net/detectionserver.h"
#include "net/serverconfig.h"
#include "protocol/protocol.h"
#include "metricsamples.h"
#include "processrunner.h"
#include "promtoolcheck.h"
#include "testdata.h"
#include "testimages.h"

#include <QColor>
#include <QEventLoop>
#include <QHttpMultiPart>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <memory>

using namespace edgelens;
using edgelens::test::metricSample;
using edgelens::test::metricValue;

namespace {

bool requireCi()
{
    return qEnvironmentVariable("CI") == QLatin1String("true");
}

// The server and its HTTP listener on their own thread.
class HttpServerThread
{
public:
    ~HttpServerThread() { shutDown(); }

    bool start(const ServerConfig &config, const HttpLimits &limits, QString *error)
    {
        m_thread.start();
        m_server = new DetectionServer;
        m_server->moveToThread(&m_thread);
        bool ok = false;
        QMetaObject::invokeMethod(
            m_server,
            [&] {
                ok = m_server->start(config, error);
                if (!ok)
                    return;
                m_tcpPort = m_server->serverPort();
                auto *http = new HttpListener(m_server->service(), limits);
                ok = m_server->addListener(http, QHostAddress::LocalHost, 0, error);
                if (ok)
                    m_httpPort = http->serverPort();
            },
            Qt::BlockingQueuedConnection);
        return ok;
    }

    void shutDown()
    {
        if (m_server) {
            QMetaObject::invokeMethod(m_server, [s = m_server] { delete s; }, Qt::BlockingQueuedConnection);
            m_server = nullptr;
        }
        m_thread.quit();
        m_thread.wait();
    }

    quint16 tcpPort() const { return m_tcpPort; }
    quint16 httpPort() const { return m_httpPort; }

private:
    QThread m_thread;
    DetectionServer *m_server = nullptr;
    quint16 m_tcpPort = 0;
    quint16 m_httpPort = 0;
};

struct HttpAnswer
{
    int status = 0;
    QByteArray body;
    QByteArray contentType;
    int retryAfter = 0;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
};

class Http
{
public:
    explicit Http(quint16 port)
        : m_port(port)
    {
    }

    QUrl url(const QString &path) const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path));
    }

    HttpAnswer get(const QString &path) { return wait(m_manager.get(QNetworkRequest(url(path)))); }

    // A form as DeepStack clients post it; `fields` are plain values, `image` the file field.
    HttpAnswer post(const QString &path, const QByteArray &image, const QList<QPair<QByteArray, QByteArray>> &fields,
                    const QByteArray &bearer = {})
    {
        auto *multi = new QHttpMultiPart(QHttpMultiPart::FormDataType);
        if (!image.isNull()) {
            QHttpPart part;
            part.setHeader(QNetworkRequest::ContentDispositionHeader, QStringLiteral("form-data; name=\"image\"; filename=\"image.jpg\""));
            part.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("image/jpeg"));
            part.setBody(image);
            multi->append(part);
        }
        for (const auto &[name, value] : fields) {
            QHttpPart part;
            part.setHeader(QNetworkRequest::ContentDispositionHeader,
                           QString(QStringLiteral("form-data; name=\"%1\"")).arg(QString::fromLatin1(name)));
            part.setBody(value);
            multi->append(part);
        }
        QNetworkRequest request(url(path));
        if (!bearer.isEmpty())
            request.setRawHeader("Authorization", "Bearer " + bearer);
        QNetworkReply *reply = m_manager.post(request, multi);
        multi->setParent(reply);
        return wait(reply);
    }

private:
    static HttpAnswer wait(QNetworkReply *reply)
    {
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        QTimer::singleShot(60000, &loop, &QEventLoop::quit);
        if (!reply->isFinished())
            loop.exec();
        HttpAnswer answer;
        answer.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        answer.body = reply->readAll();
        answer.contentType = reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
        answer.retryAfter = reply->rawHeader("Retry-After").toInt();
        reply->deleteLater();
        return answer;
    }

    quint16 m_port;
    QNetworkAccessManager m_manager;
};

// What a raw client gets back: the status line's code (0 when none came) and whether the
// server closed the connection.
struct RawAnswer
{
    int status = 0;
    QByteArray bytes;
    bool closed = false;
};

RawAnswer rawExchange(quint16 port, const QByteArray &send, int waitMs)
{
    RawAnswer answer;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return answer;
    socket.write(send);
    socket.waitForBytesWritten(5000);
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < waitMs && socket.state() == QAbstractSocket::ConnectedState) {
        socket.waitForReadyRead(100);
        answer.bytes += socket.readAll();
    }
    answer.bytes += socket.readAll();
    answer.closed = socket.state() != QAbstractSocket::ConnectedState;
    const QRegularExpressionMatch m = QRegularExpression(QStringLiteral("^HTTP/1\\.1 (\\d{3})")).match(QString::fromLatin1(answer.bytes.left(20)));
    answer.status = m.hasMatch() ? m.captured(1).toInt() : 0;
    return answer;
}

double requestsOf(const QByteArray &exposition, const char *protocol)
{
    return metricValue(exposition, QStringLiteral("edgelens_requests_total{protocol=\"%1\",outcome=\"ok\"}").arg(QLatin1String(protocol)))
        + metricValue(exposition, QStringLiteral("edgelens_requests_total{protocol=\"%1\",outcome=\"error\"}").arg(QLatin1String(protocol)));
}

ServerConfig testConfig(const QString &token = {})
{
    ServerConfig config = ServerConfig::embedded();
    config.modelPaths = {QStringLiteral("nanodet-m-320"), QStringLiteral("yolo-fastest-xl-320")};
    config.workers = 2;
    config.token = token;
    return config;
}

int countLabel(const QJsonArray &predictions, const QString &label)
{
    int n = 0;
    for (const QJsonValue &p : predictions)
        n += p.toObject().value(QStringLiteral("label")).toString() == label ? 1 : 0;
    return n;
}

} // namespace

class TestHttpApi : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<HttpServerThread> m_server;
    QByteArray m_soccer;
    const QString m_token = QStringLiteral("s3cret-K");

    bool startServer(const ServerConfig &config, const HttpLimits &limits = {})
    {
        m_server = std::make_unique<HttpServerThread>();
        QString error;
        if (!m_server->start(config, limits, &error)) {
            qWarning() << "server did not start:" << error;
            return false;
        }
        return true;
    }

private slots:
    void initTestCase()
    {
        m_soccer = test::readSample(QStringLiteral("soccer.jpg"));
        if (m_soccer.isEmpty() || !QFileInfo::exists(test::sharedPath(QStringLiteral("models/nanodet-m-320")))) {
            if (requireCi())
                QFAIL("shared samples or models missing (../shared)");
            QSKIP("shared samples or models missing (../shared)");
        }
        QVERIFY(startServer(testConfig(m_token)));
    }

    void cleanupTestCase() { m_server.reset(); }

    void detection_findsThePeopleInSoccer()
    {
        Http http(m_server->httpPort());
        const HttpAnswer answer = http.post(QStringLiteral("/v1/vision/detection"), m_soccer, {{"api_key", m_token.toUtf8()}});
        QCOMPARE(answer.status, 200);
        QVERIFY2(answer.contentType.startsWith("application/json"), answer.contentType.constData());
        const QJsonObject json = answer.json();
        QCOMPARE(json.value(QStringLiteral("success")).toBool(), true);
        const QJsonArray predictions = json.value(QStringLiteral("predictions")).toArray();
        QVERIFY2(countLabel(predictions, QStringLiteral("person")) >= 3, answer.body.constData());
        QCOMPARE(json.value(QStringLiteral("count")).toInt(), predictions.size());
        QCOMPARE(json.value(QStringLiteral("command")).toString(), QStringLiteral("detect"));
        QCOMPARE(json.value(QStringLiteral("code")).toInt(), 200);
        for (const char *key : {"inferenceMs", "processMs", "analysisRoundTripMs"})
            QVERIFY2(json.value(QLatin1String(key)).isDouble(), key);
        QVERIFY(!json.value(QStringLiteral("requestId")).toString().isEmpty());
        QVERIFY(!json.value(QStringLiteral("moduleId")).toString().isEmpty());
        const QSize size = QImage::fromData(m_soccer).size();
        double last = 1.0;
        for (const QJsonValue &v : predictions) {
            const QJsonObject p = v.toObject();
            const double confidence = p.value(QStringLiteral("confidence")).toDouble();
            QVERIFY(confidence <= last && confidence >= 0.4); // sorted, default min_confidence 0.4
            last = confidence;
            QVERIFY(p.value(QStringLiteral("x_min")).toInt() < p.value(QStringLiteral("x_max")).toInt());
            QVERIFY(p.value(QStringLiteral("x_max")).toInt() < size.width());
            QVERIFY(p.value(QStringLiteral("y_max")).toInt() < size.height());
        }
    }

    void minConfidence_filtersOnTheServer()
    {
        Http http(m_server->httpPort());
        const QJsonArray low = http.post(QStringLiteral("/v1/vision/detection"), m_soccer,
                                         {{"api_key", m_token.toUtf8()}, {"min_confidence", "0.1"}})
                                   .json().value(QStringLiteral("predictions")).toArray();
        const QJsonArray high = http.post(QStringLiteral("/v1/vision/detection"), m_soccer,
                                          {{"api_key", m_token.toUtf8()}, {"min_confidence", "0.75"}})
                                    .json().value(QStringLiteral("predictions")).toArray();
        QVERIFY(low.size() > high.size());
        for (const QJsonValue &p : high)
            QVERIFY(p.toObject().value(QStringLiteral("confidence")).toDouble() >= 0.75);
    }

    void customModel_runsTheNamedModel()
    {
        Http http(m_server->httpPort());
        const HttpAnswer answer = http.post(QStringLiteral("/v1/vision/custom/yolo-fastest-xl-320"), m_soccer, {},
                                            m_token.toUtf8());
        QCOMPARE(answer.status, 200);
        QCOMPARE(answer.json().value(QStringLiteral("model")).toString(), QStringLiteral("yolo-fastest-xl-320"));
        QCOMPARE(answer.json().value(QStringLiteral("command")).toString(), QStringLiteral("custom"));
        QVERIFY(countLabel(answer.json().value(QStringLiteral("predictions")).toArray(), QStringLiteral("person")) >= 3);

        const HttpAnswer list = http.post(QStringLiteral("/v1/vision/custom/list"), QByteArray(), {{"api_key", m_token.toUtf8()}});
        QCOMPARE(list.status, 200);
        QCOMPARE(list.json().value(QStringLiteral("models")).toArray(),
                 QJsonArray({QStringLiteral("nanodet-m-320"), QStringLiteral("yolo-fastest-xl-320")}));

        const HttpAnswer unknown = http.post(QStringLiteral("/v1/vision/custom/no-such-model"), m_soccer, {{"api_key", m_token.toUtf8()}});
        QCOMPARE(unknown.status, 404);
        QCOMPARE(unknown.json().value(QStringLiteral("success")).toBool(true), false);
        QVERIFY(unknown.json().value(QStringLiteral("error")).toString().contains(QStringLiteral("no-such-model")));
    }

    void deepStackClient_keyAsFieldAndBearer_isAcceptedHere()
    {
        // EdgeLens's own DeepStack client sends the key both ways; this server takes either.
        DeviceSpec device;
        device.port = m_server->httpPort();
        device.protocol = DeviceSpec::Protocol::DeepStack;
        DetectionClient client;
        client.setDevices({device});
        client.setToken(m_token);
        QSignalSpy results(&client, &DetectionClient::resultReady);
        QSignalSpy failures(&client, &DetectionClient::requestFailed);
        const quint64 id = client.submit(m_soccer);
        QTRY_VERIFY_WITH_TIMEOUT(results.size() + failures.size() > 0, 60000);
        QVERIFY2(failures.isEmpty(), failures.isEmpty() ? "" : qPrintable(failures.first().value(1).toString()));
        QCOMPARE(results.first().value(0).toULongLong(), id);
        const auto result = results.first().value(1).value<ClientResult>();
        QCOMPARE(result.protocol, QStringLiteral("deepstack"));
        int people = 0;
        for (const Detection &d : result.result.detections)
            people += d.label == QLatin1String("person") ? 1 : 0;
        QVERIFY2(people >= 3, qPrintable(QString::number(people)));
    }

    void wrongOrMissingKey_is401()
    {
        Http http(m_server->httpPort());
        const double before = metricValue(http.get(QStringLiteral("/metrics")).body, QStringLiteral("edgelens_auth_failures_total{protocol=\"http\"}"));
        const HttpAnswer wrong = http.post(QStringLiteral("/v1/vision/detection"), m_soccer, {{"api_key", "guess"}});
        QCOMPARE(wrong.status, 401);
        QCOMPARE(wrong.json().value(QStringLiteral("success")).toBool(true), false);
        QVERIFY(wrong.json().contains(QStringLiteral("duration")));
        QCOMPARE(http.post(QStringLiteral("/v1/vision/detection"), m_soccer, {}).status, 401);
        QCOMPARE(http.post(QStringLiteral("/v1/vision/custom/list"), QByteArray(), {}, "guess").status, 401);
        const double after = metricValue(http.get(QStringLiteral("/metrics")).body, QStringLiteral("edgelens_auth_failures_total{protocol=\"http\"}"));
        QCOMPARE(after - before, 3.0);
    }

    void repeatedWrongKeys_throttleTheAddress()
    {
        HttpServerThread server;
        QString error;
        QVERIFY2(server.start(testConfig(m_token), {}, &error), qPrintable(error));
        Http http(server.httpPort());
        int failures = 0;
        while (failures < 20 && http.post(QStringLiteral("/v1/vision/custom/list"), QByteArray(), {{"api_key", "guess"}}).status == 401)
            ++failures;
        QVERIFY2(failures >= 1 && failures < 20, qPrintable(QString::number(failures)));
        // Now even the right key is refused for a while, with a status DeepStack clients raise on.
        const HttpAnswer refused = http.post(QStringLiteral("/v1/vision/custom/list"), QByteArray(), {{"api_key", m_token.toUtf8()}});
        QCOMPARE(refused.status, 429);
        QCOMPARE(refused.json().value(QStringLiteral("success")).toBool(true), false);
        QVERIFY(refused.retryAfter > 0);
    }

    void badRequests_are400_data()
    {
        QTest::addColumn<QByteArray>("image");
        QTest::addColumn<QByteArray>("minConfidence");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no image") << QByteArray() << QByteArray() << QStringLiteral("no image");
        QTest::newRow("not an image") << QByteArray("just some text, not a picture") << QByteArray() << QStringLiteral("image");
        QTest::newRow("confidence 1.5") << QByteArray("x") << QByteArray("1.5") << QStringLiteral("min_confidence");
        QTest::newRow("confidence word") << QByteArray("x") << QByteArray("high") << QStringLiteral("min_confidence");
    }

    void badRequests_are400()
    {
        QFETCH(QByteArray, image);
        QFETCH(QByteArray, minConfidence);
        QFETCH(QString, expected);
        Http http(m_server->httpPort());
        QList<QPair<QByteArray, QByteArray>> fields = {{"api_key", m_token.toUtf8()}};
        if (!minConfidence.isEmpty())
            fields.append({"min_confidence", minConfidence});
        const HttpAnswer answer = http.post(QStringLiteral("/v1/vision/detection"), image, fields);
        QCOMPARE(answer.status, 400);
        QCOMPARE(answer.json().value(QStringLiteral("success")).toBool(true), false);
        QVERIFY2(answer.json().value(QStringLiteral("error")).toString().contains(expected), answer.body.constData());
    }

    void pixelBomb_isRefusedFromItsHeader()
    {
        Http http(m_server->httpPort());
        // A tiny PNG claiming 100000 x 100000 pixels.
        QByteArray png = QByteArray::fromHex("89504e470d0a1a0a0000000d49484452000186a0000186a00806000000") + QByteArray(64, '\0');
        const HttpAnswer answer = http.post(QStringLiteral("/v1/vision/detection"), png, {{"api_key", m_token.toUtf8()}});
        QCOMPARE(answer.status, 413);
        QVERIFY2(answer.json().value(QStringLiteral("error")).toString().contains(QStringLiteral("pixels")), answer.body.constData());
    }

    void oversizedBody_isRefusedBeforeItIsSent()
    {
        const QByteArray head = "POST /v1/vision/detection HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n"
                                "Content-Length: 999999999\r\n\r\n";
        const RawAnswer answer = rawExchange(m_server->httpPort(), head, 3000);
        QCOMPARE(answer.status, 413);
        QVERIFY2(answer.bytes.contains("limit"), answer.bytes.constData());
        QVERIFY(answer.closed);

        const QByteArray chunked = "POST /v1/vision/detection HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        QCOMPARE(rawExchange(m_server->httpPort(), chunked, 3000).status, 411);

        const QByteArray hugeHead = "GET / HTTP/1.1\r\nX-Filler: " + QByteArray(100 * 1024, 'a');
        QCOMPARE(rawExchange(m_server->httpPort(), hugeHead, 3000).status, 431);
    }

    void malformedOrAmbiguousRequests_areRefused_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::newRow("HTTP/9.9") << QByteArray("GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n") << 505;
        QTest::newRow("HTTP/2.0") << QByteArray("GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n") << 505;
        QTest::newRow("garbage") << QByteArray("HELLO THERE\r\n\r\n") << 400;
        QTest::newRow("conflicting Content-Length")
            << QByteArray("POST /v1/vision/detection HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde") << 400;
        QTest::newRow("Transfer-Encoding and Content-Length")
            << QByteArray("POST /v1/vision/detection HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") << 400;
    }

    void malformedOrAmbiguousRequests_areRefused()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        const RawAnswer answer = rawExchange(m_server->httpPort(), request, 5000);
        QCOMPARE(answer.status, status);
        QVERIFY(answer.bytes.contains("Connection: close"));
        QVERIFY(answer.closed);
    }

    void expectContinue_isAnsweredBeforeTheBody()
    {
        const QByteArray body = "api_key=" + m_token.toUtf8();
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_server->httpPort());
        QVERIFY(socket.waitForConnected(5000));
        socket.write("POST /v1/vision/custom/list HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     "Expect: 100-continue\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n");
        QByteArray bytes;
        QTRY_VERIFY_WITH_TIMEOUT((bytes += socket.readAll(), bytes.contains("\r\n\r\n")), 10000);
        QVERIFY2(bytes.startsWith("HTTP/1.1 100 Continue\r\n\r\n"), bytes.constData());
        socket.write(body);
        QTRY_VERIFY_WITH_TIMEOUT((bytes += socket.readAll(), bytes.contains("\"models\"")), 10000);
        QVERIFY2(bytes.contains("HTTP/1.1 200 OK"), bytes.constData());
    }

    // --http-proxy-protocol: the header's client is the one the per-address limit counts.
    void proxyProtocol_clientFromTheHeader_isWhatTheLimitsSee()
    {
        HttpLimits limits;
        limits.proxyProtocol = true;
        limits.maxPerAddress = 1;
        HttpServerThread server;
        QString error;
        QVERIFY2(server.start(testConfig(), limits, &error), qPrintable(error));
        const auto proxied = [](const char *client, quint16 port) -> QByteArray {
            return QByteArray("PROXY TCP4 ") + client + " 127.0.0.1 " + QByteArray::number(port) + " 80\r\n";
        };
        // One held connection of 192.0.2.7 (a request head without its end) takes its one slot.
        QTcpSocket held;
        held.connectToHost(QHostAddress::LocalHost, server.httpPort());
        QVERIFY(held.waitForConnected(5000));
        held.write(proxied("192.0.2.7", 40000) + "GET /healthz HTTP/1.1\r\n");
        QVERIFY(held.waitForBytesWritten(5000));
        const QByteArray get = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        QTRY_COMPARE_WITH_TIMEOUT(rawExchange(server.httpPort(), proxied("192.0.2.7", 40001) + get, 3000).status, 429, 10000);
        QCOMPARE(rawExchange(server.httpPort(), proxied("192.0.2.8", 40002) + get, 3000).status, 200);
        // Without the header the connection is closed unanswered.
        const RawAnswer bare = rawExchange(server.httpPort(), get, 3000);
        QCOMPARE(bare.status, 0);
        QVERIFY(bare.closed);
    }

    void slowSender_isTimedOut()
    {
        ServerConfig config = testConfig();
        config.port = 0;
        HttpLimits limits;
        limits.requestTimeoutMs = 400;
        limits.idleTimeoutMs = 400;
        HttpServerThread server;
        QString error;
        QVERIFY2(server.start(config, limits, &error), qPrintable(error));
        const RawAnswer half = rawExchange(server.httpPort(), "POST /v1/vision/detection HTTP/1.1\r\nHost: x\r\nContent-Le", 5000);
        QCOMPARE(half.status, 408);
        QVERIFY(half.closed);
        const RawAnswer silent = rawExchange(server.httpPort(), QByteArray(), 5000);
        QVERIFY(silent.closed);
        // Other clients are still served.
        QCOMPARE(Http(server.httpPort()).get(QStringLiteral("/healthz")).status, 200);
    }

    void statusAndHealthEndpoints()
    {
        Http http(m_server->httpPort());
        const HttpAnswer health = http.get(QStringLiteral("/healthz"));
        QCOMPARE(health.status, 200);
        const HttpAnswer ready = http.get(QStringLiteral("/readyz"));
        QCOMPARE(ready.status, 200);
        QCOMPARE(ready.json().value(QStringLiteral("ready")).toBool(), true);
        const HttpAnswer page = http.get(QStringLiteral("/"));
        QCOMPARE(page.status, 200);
        QVERIFY(page.contentType.startsWith("text/html"));
        QVERIFY(page.body.contains("nanodet-m-320"));
        const HttpAnswer update = http.get(QStringLiteral("/v1/status/updateavailable"));
        QCOMPARE(update.status, 200);
        QCOMPARE(update.json().value(QStringLiteral("success")).toBool(), true);
        QVERIFY(update.json().value(QStringLiteral("updateAvailable")).isBool());
        QVERIFY(update.json().value(QStringLiteral("current")).toObject().contains(QStringLiteral("major")));
        const HttpAnswer missing = http.get(QStringLiteral("/v1/nothing/here"));
        QCOMPARE(missing.status, 404);
        QCOMPARE(missing.json().value(QStringLiteral("success")).toBool(true), false);
    }

    // N legacy, M v2 and K HTTP requests move edgelens_requests_total by exactly N, M and K.
    void metrics_abandonedRequests_endAsCancelled()
    {
        ServerConfig config = testConfig();
        config.workers = 1;
        HttpServerThread server;
        QString error;
        QVERIFY2(server.start(config, {}, &error), qPrintable(error));
        Http http(server.httpPort());
        const QByteArray before = http.get(QStringLiteral("/metrics")).body;

        // One client queues 8 detects on the single worker and vanishes without reading.
        const int sent = 8;
        {
            QTcpSocket socket;
            socket.connectToHost(QHostAddress::LocalHost, server.tcpPort());
            QVERIFY(socket.waitForConnected(5000));
            QByteArray burst = protocol::encodePreamble();
            for (quint32 id = 1; id <= quint32(sent); ++id)
                burst += protocol::encodeMessage(protocol::makeDetect(id, {}, m_soccer));
            socket.write(burst);
            while (socket.bytesToWrite() > 0 && socket.waitForBytesWritten(5000)) {
            }
            // Wait until the server has queued some of them, so that some are cancelled.
            QTRY_VERIFY_WITH_TIMEOUT(metricValue(http.get(QStringLiteral("/metrics")).body,
                                                 QStringLiteral("edgelens_queue_depth")) > 0, 20000);
            socket.abort();
        }

        // Every request ends: answered ones, the running one discarded, the queued ones cancelled.
        QByteArray after;
        QTRY_VERIFY_WITH_TIMEOUT((after = http.get(QStringLiteral("/metrics")).body,
                                  requestsOf(after, "v2") - requestsOf(before, "v2") == sent), 30000);
        QCOMPARE(metricValue(after, QStringLiteral("edgelens_requests_in_flight{protocol=\"v2\"}")), 0.0);
        QCOMPARE(metricValue(after, QStringLiteral("edgelens_queue_depth")), 0.0);
        QVERIFY(metricValue(after, QStringLiteral("edgelens_request_errors_total{protocol=\"v2\",code=\"cancelled\"}")) > 0);
    }

    void metrics_countExactlyWhatEachProtocolSent()
    {
        ServerConfig config = testConfig(); // no token: legacy clients are served
        HttpServerThread server;
        QString error;
        QVERIFY2(server.start(config, {}, &error), qPrintable(error));
        Http http(server.httpPort());
        const QByteArray before = http.get(QStringLiteral("/metrics")).body;

        QTemporaryDir images;
        QTemporaryDir outLegacy;
        QTemporaryDir outV2;
        const int legacyCount = 3;
        const int v2Count = 2;
        const int httpCount = 4;
        for (int i = 0; i < legacyCount; ++i)
            QVERIFY(test::writeFile(images.filePath(QStringLiteral("img%1.jpg").arg(i)),
                                    test::solidImageBytes(64 + i, 48, QColor(20 * i, 90, 160))));
        auto runCli = [&](const QString &protocol, const QString &output, const QStringList &files) {
            QStringList args = {QStringLiteral("--host"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                                QString::number(server.tcpPort()), QStringLiteral("--protocol"), protocol,
                                QStringLiteral("--output"), output};
            return test::runProcess(test::executablePath(QStringLiteral("edgelens-cli")), args + files);
        };
        QStringList all;
        for (int i = 0; i < legacyCount; ++i)
            all << images.filePath(QStringLiteral("img%1.jpg").arg(i));
        const test::ProcessRun legacyRun = runCli(QStringLiteral("legacy"), outLegacy.path(), all);
        QVERIFY2(legacyRun.exitCode == 0, qPrintable(legacyRun.err));
        const test::ProcessRun v2Run = runCli(QStringLiteral("v2"), outV2.path(), all.mid(0, v2Count));
        QVERIFY2(v2Run.exitCode == 0, qPrintable(v2Run.err));
        QCOMPARE(http.post(QStringLiteral("/v1/vision/detection"), m_soccer, {}).status, 200);
        QCOMPARE(http.post(QStringLiteral("/v1/vision/custom/yolo-fastest-xl-320"), m_soccer, {}).status, 200);
        QCOMPARE(http.post(QStringLiteral("/v1/vision/detection"), QByteArray("not an image"), {}).status, 400);
        QCOMPARE(http.post(QStringLiteral("/v1/vision/custom/list"), QByteArray(), {}).status, 200);
        QCOMPARE(http.get(QStringLiteral("/healthz")).status, 200); // not an API request: not counted

        const QByteArray after = http.get(QStringLiteral("/metrics")).body;
        QCOMPARE(requestsOf(after, "legacy") - requestsOf(before, "legacy"), double(legacyCount));
        QCOMPARE(requestsOf(after, "v2") - requestsOf(before, "v2"), double(v2Count));
        QCOMPARE(requestsOf(after, "http") - requestsOf(before, "http"), double(httpCount));
        // An error code's series appears with its first error: either of the two, not both.
        QCOMPARE(metricSample(after, QStringLiteral("edgelens_request_errors_total{protocol=\"http\",code=\"bad_request\"}")).value_or(0)
                     + metricSample(after, QStringLiteral("edgelens_request_errors_total{protocol=\"http\",code=\"undecodable_image\"}")).value_or(0),
                 1.0);
        QVERIFY(metricValue(after, QStringLiteral("edgelens_received_bytes_total{protocol=\"http\"}")) > 2 * m_soccer.size());
        QVERIFY(metricValue(after, QStringLiteral("edgelens_received_bytes_total{protocol=\"legacy\"}")) > 0);
        QVERIFY(metricValue(after, QStringLiteral("edgelens_sent_bytes_total{protocol=\"v2\"}")) > 0);
        QCOMPARE(metricValue(after, QStringLiteral("edgelens_requests_in_flight{protocol=\"http\"}")), 0.0);
        QVERIFY(after.contains("edgelens_model_info{model=\"yolo-fastest-xl-320\""));

        bool missing = false;
        const QString problems = test::promtoolProblems(after, &missing);
        if (missing && requireCi())
            QFAIL(qPrintable(problems));
        if (!missing)
            QVERIFY2(problems.isEmpty(), qPrintable(problems));
    }
};

QTEST_GUILESS_MAIN(TestHttpApi)
#include "tst_httpapi.moc"
