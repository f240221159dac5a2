// The DeepStack / CodeProject.AI client (DeepStackTransport through DetectionClient) against a
// scripted stand-in written here with QTcpServer: what it sends, how predictions become
// results and drawn markup, and what each kind of error answer does to the image and the device.
#include "client/deepstackreply.h"
#include "client/deepstacktransport.h"
#include "client/detectionclient.h"
#include "clientoutcomes.h"
#include "http/multipartformdata.h"
#include "imaging/imagetransfer.h"
#include "testimages.h"

#include <QBuffer>
#include <QImage>
#include <QImageReader>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <functional>

using namespace edgelens;

namespace {

struct StandInRequest
{
    QByteArray method;
    QByteArray path;
    QByteArray contentType;
    QByteArray authorization;
    QByteArray body;
    MultipartFormData form;
};

struct StandInAnswer
{
    int status = 200;
    QByteArray body;
    QByteArray contentType = "application/json";
    bool drop = false; // close the connection without answering
};

// A DeepStack-shaped HTTP/1.1 server: keep-alive, Content-Length bodies, one script for answers.
class DeepStackStandIn final : public QTcpServer
{
public:
    std::function<StandInAnswer(const StandInRequest &)> script;
    QList<StandInRequest> requests;

    DeepStackStandIn() { QTcpServer::listen(QHostAddress::LocalHost, 0); }

    DeviceSpec device() const
    {
        DeviceSpec spec;
        spec.host = QStringLiteral("127.0.0.1");
        spec.port = serverPort();
        spec.protocol = DeviceSpec::Protocol::DeepStack;
        return spec;
    }

    int detections() const
    {
        return int(std::count_if(requests.cbegin(), requests.cend(),
                                 [](const StandInRequest &r) { return r.path.startsWith("/v1/vision/"); }));
    }

protected:
    void incomingConnection(qintptr handle) override
    {
        auto *socket = new QTcpSocket(this);
        socket->setSocketDescriptor(handle);
        auto buffer = std::make_shared<QByteArray>();
        connect(socket, &QTcpSocket::readyRead, this, [this, socket, buffer] {
            *buffer += socket->readAll();
            serve(socket, *buffer);
        });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    }

private:
    void serve(QTcpSocket *socket, QByteArray &buffer)
    {
        for (;;) {
            const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
            if (headEnd < 0)
                return;
            const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
            StandInRequest request;
            const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
            request.method = first.value(0);
            request.path = first.value(1);
            qsizetype length = 0;
            for (const QByteArray &line : lines.mid(1)) {
                const qsizetype colon = line.indexOf(':');
                const QByteArray name = line.left(colon).trimmed().toLower();
                const QByteArray value = line.mid(colon + 1).trimmed();
                if (name == "content-length")
                    length = value.toLongLong();
                else if (name == "content-type")
                    request.contentType = value;
                else if (name == "authorization")
                    request.authorization = value;
            }
            if (buffer.size() < headEnd + 4 + length)
                return;
            request.body = buffer.mid(headEnd + 4, length);
            buffer.remove(0, headEnd + 4 + length);
            QString error;
            request.form.parse(request.contentType, request.body, &error);
            requests.append(request);
            const StandInAnswer answer = script ? script(request) : StandInAnswer{};
            if (answer.drop) {
                socket->abort();
                return;
            }
            QByteArray out = "HTTP/1.1 " + QByteArray::number(answer.status) + " X\r\nContent-Type: "
                + answer.contentType + "\r\nContent-Length: " + QByteArray::number(answer.body.size())
                + "\r\nConnection: keep-alive\r\n\r\n" + answer.body;
            socket->write(out);
        }
    }
};

QByteArray json(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QJsonObject prediction(const QString &label, double confidence, int x1, int y1, int x2, int y2)
{
    return {{QStringLiteral("label"), label},       {QStringLiteral("confidence"), confidence},
            {QStringLiteral("x_min"), x1},          {QStringLiteral("y_min"), y1},
            {QStringLiteral("x_max"), x2},          {QStringLiteral("y_max"), y2},
            {QStringLiteral("userid"), QStringLiteral("extra")}};
}

StandInAnswer success(const QJsonArray &predictions)
{
    // Shaped like CodeProject.AI's answer: the DeepStack fields plus its own.
    return {200, json({{QStringLiteral("success"), true},
                       {QStringLiteral("predictions"), predictions},
                       {QStringLiteral("count"), predictions.size()},
                       {QStringLiteral("inferenceMs"), 12},
                       {QStringLiteral("processMs"), 15},
                       {QStringLiteral("analysisRoundTripMs"), 20},
                       {QStringLiteral("moduleId"), QStringLiteral("ObjectDetectionYOLOv5-6.2")},
                       {QStringLiteral("code"), 200},
                       {QStringLiteral("command"), QStringLiteral("detect")},
                       {QStringLiteral("requestId"), QStringLiteral("abc")}})};
}

StandInAnswer failure(int status, const QString &message)
{
    return {status, json({{QStringLiteral("success"), false},
                          {QStringLiteral("error"), message},
                          {QStringLiteral("duration"), 0}})};
}

QSize jpegSize(const QByteArray &jpeg)
{
    QBuffer buffer;
    buffer.setData(jpeg);
    buffer.open(QIODevice::ReadOnly);
    return QImageReader(&buffer).size();
}

void configure(DetectionClient &client, const QList<DeviceSpec> &devices)
{
    client.setDevices(devices);
    client.setTimeout(15000);
    client.setMaxRetries(2);
    client.setRetryBackoff(20, 100);
}

// One small image through a client of `device`, waited for until it settled (or 30 s passed).
struct OneImageRun
{
    DetectionClient client;
    test::ClientOutcomes outcomes{client};
    quint64 id = 0;

    QString failure() const { return outcomes.failures.value(id); }
};

std::unique_ptr<OneImageRun> runOneImage(const DeviceSpec &device, const QString &token = QString())
{
    auto run = std::make_unique<OneImageRun>();
    configure(run->client, {device});
    run->client.setToken(token);
    run->id = run->client.submit(test::solidImageBytes(64, 48, Qt::green));
    if (!QTest::qWaitFor([&] { return run->outcomes.finished() > 0; }, 30000))
        qWarning("no outcome within 30 s");
    return run;
}

} // namespace

class TestDeepStackClient final : public QObject
{
    Q_OBJECT

private slots:
    void predictions_mappedSortedAndDrawnLocally();
    void form_carriesConfidenceKeyAndModelPath();
    void badImage400_failsOnlyThatImageWithServerMessage();
    void wrongKey401_failsWithApiKeyMessage();
    void keyCheckedAsBearerOnly_likeAProxy_isAccepted_noKeyNoHeader();
    void serverError500_marksDownAndRetries();
    void connectionDrop_marksDownAndRetries();
    void serverErrorEveryTime_failsAfterRetries();
    void nonJsonBody_isClearError();
    void refusedConnection_failsWithReason();
    void replyParser_toleratesExtrasAndRefusesGarbage();
};

void TestDeepStackClient::predictions_mappedSortedAndDrawnLocally()
{
    DeepStackStandIn standIn;
    // Unsorted, with fields DeepStack clients never read.
    standIn.script = [](const StandInRequest &) {
        return success({prediction(QStringLiteral("dog"), 0.55, 300, 200, 420, 300),
                        prediction(QStringLiteral("person"), 0.91, 10, 20, 110, 220),
                        prediction(QStringLiteral("forklift"), 0.7, 500, 10, 630, 100)});
    };
    DetectionClient client;
    configure(client, {standIn.device()});
    test::ClientOutcomes outcomes(client);
    const QByteArray image = test::solidImageBytes(640, 480, QColor(40, 90, 160));
    const quint64 id = client.submit(image);
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 20000);
    QVERIFY2(outcomes.results.contains(id), qPrintable(outcomes.failures.value(id)));
    const ClientResult result = outcomes.results.value(id);
    QVERIFY(result.hasDetectionData);
    QCOMPARE(result.protocol, QStringLiteral("deepstack"));
    QCOMPARE(result.device, standIn.device().name());
    QCOMPARE(result.result.imageWidth, 640);
    QCOMPARE(result.result.imageHeight, 480);
    QCOMPARE(result.result.timings.inferenceMs, 12.0);
    const QList<Detection> &found = result.result.detections;
    QCOMPARE(found.size(), 3);
    QCOMPARE(found.at(0).label, QStringLiteral("person"));
    QCOMPARE(found.at(0).classId, 0);
    QCOMPARE(found.at(0).box, QRectF(10, 20, 100, 200));
    QCOMPARE(found.at(1).label, QStringLiteral("forklift"));
    QCOMPARE(found.at(1).classId, -1); // not a COCO class
    QCOMPARE(found.at(2).label, QStringLiteral("dog"));
    QCOMPARE(found.at(2).classId, 16);
    QVERIFY(qAbs(found.at(2).confidence - 0.55f) < 1e-6f);
    // The markup is the shared annotator's drawing on the original, as a v2 server draws it.
    QCOMPARE(jpegSize(result.jpeg), QSize(640, 480));
    QString error;
    const QByteArray expected = ImageTransfer::renderMarkup(image, found, 0, 90, QString(), &error);
    QVERIFY2(!expected.isEmpty(), qPrintable(error));
    QCOMPARE(result.jpeg, expected);
    QCOMPARE(client.deviceStatuses().value(0).state, DeviceStatus::State::Up);
}

void TestDeepStackClient::form_carriesConfidenceKeyAndModelPath()
{
    DeepStackStandIn standIn;
    standIn.script = [](const StandInRequest &) { return success({}); };
    DetectionClient client;
    configure(client, {standIn.device()});
    client.setToken(QStringLiteral("s3cret"));
    test::ClientOutcomes outcomes(client);
    const QByteArray image = test::solidImageBytes(64, 48, Qt::red);
    DetectOptions options;
    options.confidence = 0.35f;
    options.model = QStringLiteral("my model");
    options.returnImage = false;
    const quint64 withModel = client.submit(image, options);
    const quint64 plain = client.submit(image, DetectOptions());
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 2, 20000);
    QVERIFY(outcomes.results.contains(withModel));
    QVERIFY(outcomes.results.contains(plain));
    QVERIFY(outcomes.results.value(withModel).jpeg.isEmpty()); // no image asked for, none drawn
    QVERIFY(outcomes.results.value(withModel).result.detections.isEmpty());
    QCOMPARE(outcomes.results.value(withModel).result.model, QStringLiteral("my model"));
    QCOMPARE(standIn.detections(), 2);
    QSet<QByteArray> paths;
    for (const StandInRequest &request : std::as_const(standIn.requests)) {
        QCOMPARE(request.method, QByteArray("POST"));
        QVERIFY2(request.contentType.startsWith("multipart/form-data"), request.contentType.constData());
        QCOMPARE(request.form.value("image"), image);
        QCOMPARE(request.form.value("api_key"), QByteArray("s3cret"));
        QCOMPARE(request.authorization, QByteArray("Bearer s3cret"));
        paths.insert(request.path);
        if (request.path.startsWith("/v1/vision/custom/"))
            QCOMPARE(request.form.value("min_confidence").toDouble(), 0.35);
        else
            QCOMPARE(request.form.value("min_confidence").toDouble(), 0.5);
    }
    QCOMPARE(paths, (QSet<QByteArray>{"/v1/vision/custom/my%20model", "/v1/vision/detection"}));
}

void TestDeepStackClient::badImage400_failsOnlyThatImageWithServerMessage()
{
    DeepStackStandIn standIn;
    const QByteArray bad = QByteArray("not an image at all");
    standIn.script = [bad](const StandInRequest &request) {
        if (request.form.value("image") == bad)
            return failure(400, QStringLiteral("Unable to decode the image"));
        return success({prediction(QStringLiteral("cat"), 0.8, 1, 2, 30, 40)});
    };
    DetectionClient client;
    configure(client, {standIn.device()});
    test::ClientOutcomes outcomes(client);
    const quint64 good1 = client.submit(test::solidImageBytes(64, 48, Qt::green));
    const quint64 badId = client.submit(bad);
    const quint64 good2 = client.submit(test::solidImageBytes(64, 48, Qt::blue));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 3, 20000);
    QVERIFY(outcomes.results.contains(good1));
    QVERIFY(outcomes.results.contains(good2));
    QVERIFY(outcomes.failures.contains(badId));
    QVERIFY2(outcomes.failures.value(badId).contains(QStringLiteral("Unable to decode the image")),
             qPrintable(outcomes.failures.value(badId)));
    QCOMPARE(outcomes.failureRetryable.value(badId), false);
    QCOMPARE(standIn.detections(), 3); // not re-sent
    const DeviceStatus status = client.deviceStatuses().value(0);
    QCOMPARE(status.state, DeviceStatus::State::Up);
    QCOMPARE(status.timesDown, 0);
}

void TestDeepStackClient::wrongKey401_failsWithApiKeyMessage()
{
    DeepStackStandIn standIn;
    standIn.script = [](const StandInRequest &request) {
        if (request.form.value("api_key") != "right")
            return failure(401, QStringLiteral("Incorrect api key"));
        return success({});
    };
    const auto run = runOneImage(standIn.device(), QStringLiteral("wrong"));
    QVERIFY(run->outcomes.failures.contains(run->id));
    QVERIFY2(run->failure().contains(QStringLiteral("API key")), qPrintable(run->failure()));
    QVERIFY2(run->failure().contains(QStringLiteral("Incorrect api key")), qPrintable(run->failure()));
    QCOMPARE(run->client.deviceStatuses().value(0).state, DeviceStatus::State::Refused);
    QCOMPARE(standIn.detections(), 1); // a refused key is not tried again
}

void TestDeepStackClient::keyCheckedAsBearerOnly_likeAProxy_isAccepted_noKeyNoHeader()
{
    // CodeProject.AI Server and reverse proxies read the header, not the form.
    DeepStackStandIn standIn;
    standIn.script = [](const StandInRequest &request) {
        if (request.authorization != "Bearer right")
            return failure(401, QStringLiteral("missing bearer token"));
        return success({prediction(QStringLiteral("dog"), 0.9, 1, 2, 30, 40)});
    };
    const auto run = runOneImage(standIn.device(), QStringLiteral("right"));
    QVERIFY2(run->outcomes.results.contains(run->id), qPrintable(run->failure()));
    QCOMPARE(run->outcomes.results.value(run->id).result.detections.size(), 1);
    QCOMPARE(standIn.requests.size(), 1);
    QCOMPARE(standIn.requests.first().form.value("api_key"), QByteArray("right"));

    // Without a token neither is sent (and such a proxy refuses).
    DeepStackStandIn open;
    open.script = [](const StandInRequest &) { return success({}); };
    const auto anonymous = runOneImage(open.device());
    QVERIFY(anonymous->outcomes.results.contains(anonymous->id));
    QCOMPARE(open.requests.size(), 1);
    QVERIFY(open.requests.first().authorization.isEmpty());
    QVERIFY(!open.requests.first().form.contains("api_key"));
}

void TestDeepStackClient::serverError500_marksDownAndRetries()
{
    DeepStackStandIn standIn;
    int calls = 0;
    standIn.script = [&calls](const StandInRequest &) {
        if (++calls == 1)
            return failure(500, QStringLiteral("inference failed"));
        return success({prediction(QStringLiteral("person"), 0.9, 1, 1, 20, 20)});
    };
    const auto run = runOneImage(standIn.device());
    const test::ClientOutcomes &outcomes = run->outcomes;
    const quint64 id = run->id;
    QCOMPARE(outcomes.finished(), 1);
    QVERIFY2(outcomes.results.contains(id), qPrintable(outcomes.failures.value(id)));
    QCOMPARE(outcomes.results.value(id).attempts, 2);
    QCOMPARE(outcomes.results.value(id).result.detections.size(), 1);
    const DeviceStatus status = run->client.deviceStatuses().value(0);
    QCOMPARE(status.timesDown, 1);
    QCOMPARE(status.state, DeviceStatus::State::Up);
}

void TestDeepStackClient::connectionDrop_marksDownAndRetries()
{
    DeepStackStandIn standIn;
    int calls = 0;
    // QNetworkAccessManager sends a request once more by itself when the connection closes
    // before an answer (as browsers do): only a second close in a row reaches the pool.
    standIn.script = [&calls](const StandInRequest &) {
        StandInAnswer answer = success({});
        answer.drop = ++calls <= 2;
        return answer;
    };
    const auto run = runOneImage(standIn.device());
    const test::ClientOutcomes &outcomes = run->outcomes;
    const quint64 id = run->id;
    QCOMPARE(outcomes.finished(), 1);
    QVERIFY2(outcomes.results.contains(id), qPrintable(outcomes.failures.value(id)));
    QCOMPARE(calls, 3);
    QCOMPARE(outcomes.results.value(id).attempts, 2);
    QCOMPARE(run->client.deviceStatuses().value(0).timesDown, 1);
}

void TestDeepStackClient::serverErrorEveryTime_failsAfterRetries()
{
    DeepStackStandIn standIn;
    standIn.script = [](const StandInRequest &) { return failure(500, QStringLiteral("GPU on fire")); };
    const auto run = runOneImage(standIn.device());
    const test::ClientOutcomes &outcomes = run->outcomes;
    const quint64 id = run->id;
    QCOMPARE(outcomes.finished(), 1);
    QVERIFY(outcomes.failures.contains(id));
    QVERIFY2(outcomes.failures.value(id).contains(QStringLiteral("GPU on fire")), qPrintable(outcomes.failures.value(id)));
    QCOMPARE(standIn.detections(), 3); // the first try and maxRetries (2) re-sends
    QCOMPARE(outcomes.duplicates, 0);
}

void TestDeepStackClient::nonJsonBody_isClearError()
{
    DeepStackStandIn standIn;
    standIn.script = [](const StandInRequest &) {
        return StandInAnswer{200, "<html><body>Welcome to nginx!</body></html>", "text/html"};
    };
    const auto run = runOneImage(standIn.device());
    const test::ClientOutcomes &outcomes = run->outcomes;
    const quint64 id = run->id;
    QCOMPARE(outcomes.finished(), 1);
    QVERIFY(outcomes.failures.contains(id));
    const QString reason = outcomes.failures.value(id);
    QVERIFY2(reason.contains(QStringLiteral("did not answer with DeepStack JSON")), qPrintable(reason));
    QVERIFY2(reason.contains(QStringLiteral("Welcome to nginx!")), qPrintable(reason));
}

void TestDeepStackClient::refusedConnection_failsWithReason()
{
    quint16 closedPort = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        closedPort = probe.serverPort();
    }
    DeviceSpec device;
    device.host = QStringLiteral("127.0.0.1");
    device.port = closedPort;
    device.protocol = DeviceSpec::Protocol::DeepStack;
    const auto run = runOneImage(device);
    QVERIFY(run->outcomes.failures.contains(run->id));
    QVERIFY2(run->failure().contains(QStringLiteral("Connection refused")), qPrintable(run->failure()));
    QVERIFY(run->client.deviceStatuses().value(0).timesDown >= 1);
}

void TestDeepStackClient::replyParser_toleratesExtrasAndRefusesGarbage()
{
    const DeepStackReply ok = DeepStackReply::parse(
        200,
        R"({"success":true,"predictions":[{"label":"Person","confidence":"0.4","x_min":50,"y_min":60,"x_max":10,"y_max":20,"extra":[1]}],"future":{}})",
        QStringLiteral("d"));
    QCOMPARE(ok.outcome, DeepStackReply::Outcome::Ok);
    QCOMPARE(ok.detections.size(), 1);
    QCOMPARE(ok.detections.at(0).box, QRectF(10, 20, 40, 40)); // corners given the wrong way round
    QCOMPARE(ok.detections.at(0).classId, 0);
    QCOMPARE(DeepStackReply::parse(200, R"({"success":true})", QStringLiteral("d")).outcome,
             DeepStackReply::Outcome::NotDeepStack);
    QCOMPARE(DeepStackReply::parse(200, R"({"success":true,"predictions":[{"label":"x"}]})", QStringLiteral("d")).outcome,
             DeepStackReply::Outcome::NotDeepStack);
    // Found by fuzz_deepstackreply: finite corners, a width no double holds.
    const DeepStackReply huge = DeepStackReply::parse(
        200, R"({"success":true,"predictions":[{"label":"car","confidence":1e300,"x_min":-1e308,"y_min":0,"x_max":1e308,"y_max":1}]})",
        QStringLiteral("d"));
    QCOMPARE(huge.outcome, DeepStackReply::Outcome::NotDeepStack);
    QVERIFY2(huge.message.contains(QStringLiteral("out of range")), qPrintable(huge.message));
    // Found by fuzz_deepstackreply: an answer refused at its second prediction kept the first.
    const DeepStackReply partly = DeepStackReply::parse(
        200, R"({"success":true,"predictions":[{"label":"dog","confidence":0.5,"x_min":1,"y_min":2,"x_max":3,"y_max":4},{"label":"cat"}]})",
        QStringLiteral("d"));
    QCOMPARE(partly.outcome, DeepStackReply::Outcome::NotDeepStack);
    QVERIFY(partly.detections.isEmpty());
    QCOMPARE(DeepStackReply::parse(200, R"({"success":false,"error":"no"})", QStringLiteral("d")).message,
             QStringLiteral("no"));
    QCOMPARE(DeepStackReply::parse(413, "<html>too big</html>", QStringLiteral("d")).outcome,
             DeepStackReply::Outcome::ImageRefused);
    QCOMPARE(DeepStackReply::parse(503, "", QStringLiteral("d")).outcome, DeepStackReply::Outcome::Busy);
    QCOMPARE(DeepStackReply::parse(502, "bad gateway", QStringLiteral("d")).outcome,
             DeepStackReply::Outcome::ServerError);
    QCOMPARE(DeepStackTransport::detectionPath(QString()), QStringLiteral("/v1/vision/detection"));
    QCOMPARE(DeepStackTransport::detectionPath(QStringLiteral("ipcam-general")),
             QStringLiteral("/v1/vision/custom/ipcam-general"));
}

QTEST_GUILESS_MAIN(TestDeepStackClient)
#include "tst_deepstackclient.moc"
