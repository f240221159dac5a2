// End to end over loopback, what a well-behaved client gets: a DetectionServer on its own thread
// (as the desktop app runs it), legacy and v2 clients written the blocking way in the test thread;
// results, options, info, ping, deadlines, the token, draining. What a client that misbehaves gets
// (bad frames and images, limits, timeouts, fairness): tst_detectionserverlimits.

#include "blockingclients.h"
#include "serverthreadsuite.h"
#include "testdata.h"

#include "detector/detector.h"
#include "metrics/servermetrics.h"
#include "net/detectionserver.h"
#include "net/detectionservice.h"
#include "protocol/protocol.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

using namespace edgelens;
using namespace edgelens::protocol;
using namespace edgelens::test;

namespace {

QByteArray reencode(const QByteArray &jpeg, const char *extension)
{
    const cv::Mat image =
        cv::imdecode(cv::Mat(1, int(jpeg.size()), CV_8UC1, const_cast<char *>(jpeg.data())), cv::IMREAD_COLOR);
    std::vector<uchar> out;
    cv::imencode(extension, image, out);
    return QByteArray(reinterpret_cast<const char *>(out.data()), qsizetype(out.size()));
}

int countLabel(const DetectionResult &result, const QString &label)
{
    int n = 0;
    for (const Detection &d : result.detections)
        n += d.label == label;
    return n;
}

} // namespace

class TestDetectionServer : public ServerThreadSuite
{
    Q_OBJECT

private slots:
    void embeddedConfig_listensOnLoopbackEphemeralPort()
    {
        QVERIFY(startServer(embeddedTestConfig()));
        QVERIFY(m_server->port() != 0);
        QVERIFY(m_server->port() != kDefaultPort);
        const QJsonObject info = m_server->info();
        QCOMPARE(info.value(QStringLiteral("protocol_version")).toInt(), int(kVersion));
        QCOMPARE(info.value(QStringLiteral("default_model")).toString(), QStringLiteral("nanodet-m-320"));
        QCOMPARE(info.value(QStringLiteral("fallback")).toBool(), false);
    }

    void legacyClient_getsMarkedUpJpegForEverySample()
    {
        QVERIFY(startServer(embeddedTestConfig()));
        const QStringList files = QDir(samplesDir()).entryList({QStringLiteral("*.jpg")}, QDir::Files);
        QCOMPARE(files.size(), 9);
        for (const QString &name : files) {
            const QByteArray image = readSample(name);
            const LegacyReply reply = legacyRequest(m_server->port(), encodeLegacyFrame(image));
            QVERIFY2(reply.replied, qPrintable(name));
            QVERIFY2(reply.closedByServer, "legacy: the server closes after replying");
            QCOMPARE(jpegImageSize(reply.jpeg), decodedImageSize(image));
            QVERIFY2(reply.jpeg != image, "the reply is the marked-up image, not an echo");
        }
    }

    void legacyClient_acceptsEveryImageFormat_data()
    {
        QTest::addColumn<QString>("extension");
        for (const char *ext : {".png", ".bmp", ".webp", ".tiff"})
            QTest::newRow(ext) << QString::fromLatin1(ext);
    }

    void legacyClient_acceptsEveryImageFormat()
    {
        QFETCH(QString, extension);
        if (!m_server)
            QVERIFY(startServer(embeddedTestConfig()));
        const QByteArray image = reencode(m_small, qPrintable(extension));
        QVERIFY(!image.isEmpty());
        const LegacyReply reply = legacyRequest(m_server->port(), encodeLegacyFrame(image));
        QVERIFY(reply.replied);
        QCOMPARE(jpegImageSize(reply.jpeg), decodedImageSize(m_small));
    }

    void v2_findsPersonInSoccer()
    {
        QVERIFY(startServer(embeddedTestConfig()));
        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));
        const std::optional<Message> reply = client.request(makeDetect(1, {}, readSample(QStringLiteral("soccer.jpg"))));
        QVERIFY(reply);
        QCOMPARE(reply->type, MessageType::Result);
        QVERIFY(client.serverPreambleSeen());
        const DetectionResult result = detectionResultFromJson(reply->meta);
        QCOMPARE(result.model, QStringLiteral("nanodet-m-320"));
        QCOMPARE(result.imageWidth, 600);
        QCOMPARE(result.imageHeight, 400);
        QVERIFY2(countLabel(result, QStringLiteral("person")) >= 1, qPrintable(summarizeLabels(result.detections)));
        for (const Detection &d : result.detections) {
            QVERIFY(d.confidence >= 0.5f);
            QVERIFY(QRectF(0, 0, 600, 400).adjusted(-1, -1, 1, 1).contains(d.box));
        }
        QVERIFY(result.timings.inferenceMs > 0);
        QVERIFY(result.timings.decodeMs > 0);
        QVERIFY(result.timings.encodeMs > 0);
        QCOMPARE(jpegImageSize(reply->blob), QSize(600, 400));
    }

    void v2_findsPeopleInBaggageClaim()
    {
        QVERIFY(startServer(embeddedTestConfig()));
        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));
        const std::optional<Message> reply =
            client.request(makeDetect(5, {}, readSample(QStringLiteral("baggage_claim.jpg"))));
        QVERIFY(reply);
        const DetectionResult result = detectionResultFromJson(reply->meta);
        QVERIFY2(countLabel(result, QStringLiteral("person")) >= 2, qPrintable(summarizeLabels(result.detections)));
    }

    void v2_optionsChangeTheResult()
    {
        ServerConfig config = embeddedTestConfig();
        config.modelPaths.append(QStringLiteral("fastestdet-352"));
        QVERIFY(startServer(config));
        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));
        const QByteArray soccer = readSample(QStringLiteral("soccer.jpg"));

        DetectOptions lowThreshold;
        lowThreshold.confidence = 0.2f;
        const DetectionResult all = detectionResultFromJson(client.request(makeDetect(1, lowThreshold, soccer))->meta);
        QVERIFY(all.detections.size() >= 2);

        DetectOptions onlyBalls = lowThreshold;
        onlyBalls.classFilter = {32}; // sports ball
        const DetectionResult balls = detectionResultFromJson(client.request(makeDetect(2, onlyBalls, soccer))->meta);
        QCOMPARE(countLabel(balls, QStringLiteral("person")), 0);
        QCOMPARE(balls.detections.size(), countLabel(all, QStringLiteral("sports ball")));

        DetectOptions one = lowThreshold;
        one.maxDetections = 1;
        one.returnImage = false;
        const std::optional<Message> single = client.request(makeDetect(3, one, soccer));
        QCOMPARE(detectionResultFromJson(single->meta).detections.size(), 1);
        QVERIFY2(single->blob.isEmpty(), "return_image false: no JPEG");

        DetectOptions small;
        small.jpegQuality = 10;
        const std::optional<Message> low = client.request(makeDetect(4, small, soccer));
        const std::optional<Message> high = client.request(makeDetect(5, {}, soccer));
        QVERIFY(low->blob.size() < high->blob.size());

        DetectOptions other;
        other.model = QStringLiteral("fastestdet-352");
        const DetectionResult fast = detectionResultFromJson(client.request(makeDetect(6, other, soccer))->meta);
        QCOMPARE(fast.model, QStringLiteral("fastestdet-352"));
    }

    void v2_unknownModelAndBadOptions_areErrorsAndTheConnectionStays()
    {
        QVERIFY(startServer(embeddedTestConfig()));
        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));

        DetectOptions unknown;
        unknown.model = QStringLiteral("no-such-model");
        std::optional<Message> reply = client.request(makeDetect(8, unknown, m_small));
        QCOMPARE(reply->type, MessageType::Error);
        QCOMPARE(reply->requestId, 8u);
        ErrorInfo error = errorFromMessage(*reply);
        QCOMPARE(error.code, ErrorCode::UnknownModel);
        QVERIFY2(error.message.contains(QStringLiteral("nanodet-m-320")), qPrintable(error.message));

        Message bad = makeDetect(9, {}, m_small);
        bad.meta.insert(QStringLiteral("confidence"), 1.5);
        reply = client.request(bad);
        QCOMPARE(errorFromMessage(*reply).code, ErrorCode::BadRequest);

        Message badNms = makeDetect(12, {}, m_small);
        badNms.meta.insert(QStringLiteral("nms_iou"), 1.5);
        reply = client.request(badNms);
        QCOMPARE(errorFromMessage(*reply).code, ErrorCode::BadRequest);
        QVERIFY2(errorFromMessage(*reply).message.contains(QStringLiteral("nms_iou")), qPrintable(errorFromMessage(*reply).message));

        Message defaultNms = makeDetect(13, {}, m_small);
        defaultNms.meta.insert(QStringLiteral("nms_iou"), -1);
        QCOMPARE(client.request(defaultNms)->type, MessageType::Result);

        Message notRequest = makePong(makePing(10));
        reply = client.request(notRequest);
        QCOMPARE(errorFromMessage(*reply).code, ErrorCode::BadRequest);

        reply = client.request(makeDetect(11, {}, m_small));
        QCOMPARE(reply->type, MessageType::Result);
    }

    void v2_pipelinedRequests_areMatchedById()
    {
        QVERIFY(startServer(embeddedTestConfig()));
        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));
        const QByteArray soccer = readSample(QStringLiteral("soccer.jpg"));
        DetectOptions noImage;
        noImage.returnImage = false;
        QByteArray burst;
        burst += encodeMessage(makeDetect(100, noImage, soccer));
        burst += encodeMessage(makeDetect(101, noImage, m_small));
        burst += encodeMessage(makePing(102, "p"));
        burst += encodeMessage(makeDetect(103, noImage, readSample(QStringLiteral("baggage_claim.jpg"))));
        client.write(burst); // several frames in one write
        QMap<quint32, Message> replies;
        for (int i = 0; i < 4; ++i) {
            const std::optional<Message> reply = client.next();
            QVERIFY(reply);
            replies.insert(reply->requestId, *reply);
        }
        QCOMPARE(replies.keys(), (QList<quint32>{100, 101, 102, 103}));
        QCOMPARE(replies[102].type, MessageType::Pong);
        QCOMPARE(detectionResultFromJson(replies[100].meta).imageWidth, 600);
        QVERIFY(countLabel(detectionResultFromJson(replies[103].meta), QStringLiteral("person")) >= 2);
    }

    void v2_infoListsModelsAndLimits()
    {
        ServerConfig config = embeddedTestConfig();
        config.maxPixels = 12'345'678;
        QVERIFY(startServer(config));
        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));
        const std::optional<Message> reply = client.request(makeInfoRequest(3));
        QCOMPARE(reply->type, MessageType::Info);
        const QJsonObject info = reply->meta;
        QCOMPARE(info.value(QStringLiteral("software")).toString(), QStringLiteral("EdgeLens"));
        QCOMPARE(info.value(QStringLiteral("version")).toString(), QStringLiteral(EDGELENS_VERSION));
        const QJsonObject model = info.value(QStringLiteral("models")).toArray().first().toObject();
        QCOMPARE(model.value(QStringLiteral("name")).toString(), QStringLiteral("nanodet-m-320"));
        QCOMPARE(model.value(QStringLiteral("family")).toString(), QStringLiteral("nanodet"));
        QCOMPARE(model.value(QStringLiteral("input_width")).toInt(), 320);
        QCOMPARE(model.value(QStringLiteral("classes")).toArray().size(), 80);
        QCOMPARE(model.value(QStringLiteral("classes")).toArray().first().toString(), QStringLiteral("person"));
        QCOMPARE(model.value(QStringLiteral("fallback")).toBool(), false);
        // measured at startup on this machine; the manifest's recorded accuracy
        QVERIFY2(model.value(QStringLiteral("measured_ms")).toDouble() > 0, qPrintable(QJsonDocument(model).toJson()));
        QCOMPARE(model.value(QStringLiteral("accuracy")).toObject().value(QStringLiteral("map")).toDouble(), 0.3036);
        QCOMPARE(model.value(QStringLiteral("accuracy")).toObject().value(QStringLiteral("dataset")).toString(),
                 QStringLiteral("coco128-train"));
        QCOMPARE(info.value(QStringLiteral("limits")).toObject().value(QStringLiteral("max_pixels")).toInteger(),
                 12'345'678);
    }

    void info_reportsTheBackendInUseAndTheAvailableOnes()
    {
        ServerConfig config = embeddedTestConfig();
        config.backend = QStringLiteral("opencv");
        config.workers = 1;
        config.threads = 1;
        QVERIFY(startServer(config));
        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));
        const std::optional<Message> reply = client.request(makeInfoRequest(4));
        QVERIFY(reply);
        QCOMPARE(reply->type, MessageType::Info);
        const QJsonObject info = reply->meta;
        QCOMPARE(info.value(QStringLiteral("backend")).toString(), QStringLiteral("opencv"));
        QCOMPARE(info.value(QStringLiteral("backend_description")).toString(), QStringLiteral("OpenCV/CPU"));
        QCOMPARE(info.value(QStringLiteral("available_backends")).toVariant().toStringList(), availableBackends());
        QCOMPARE(info.value(QStringLiteral("opencv_threads")).toInt(), 1);
        QCOMPARE(info.value(QStringLiteral("limits")).toObject().value(QStringLiteral("workers")).toInt(), 1);
        QCOMPARE(info.value(QStringLiteral("models")).toArray().first().toObject().value(QStringLiteral("backend")).toString(),
                 QStringLiteral("OpenCV/CPU"));
        // The setting really reached OpenCV, and the server still answers with it.
        QCOMPARE(cv::getNumThreads(), 1);
        m_server->verifyStillServing(m_small);
    }

    void unavailableBackend_refusesToStartAndNamesTheAvailableOnes()
    {
        QString missing;
        for (const QString &name : knownBackends()) {
            if (!availableBackends().contains(name)) {
                missing = name;
                break;
            }
        }
        if (missing.isEmpty())
            QSKIP("this OpenCV build has every backend EdgeLens knows");
        for (const bool fromEnvironment : {false, true}) {
            ServerConfig config = embeddedTestConfig();
            if (fromEnvironment)
                qputenv("EDGELENS_DNN_BACKEND", missing.toUtf8());
            else
                config.backend = missing;
            DetectionServer server;
            QString error;
            const bool started = server.start(config, &error);
            qunsetenv("EDGELENS_DNN_BACKEND");
            QVERIFY(!started);
            QCOMPARE(server.startFailure(), DetectionServer::StartFailure::BadConfig);
            QVERIFY(!server.isListening());
            QVERIFY2(error.contains(QLatin1Char('"') + missing + QLatin1Char('"')), qPrintable(error));
            QVERIFY2(error.contains(QStringLiteral("available: ") + availableBackends().join(QStringLiteral(", "))),
                     qPrintable(error));
        }
    }

    void v2_pingIsAnsweredWithItsPayload()
    {
        QVERIFY(startServer(embeddedTestConfig()));
        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));
        const std::optional<Message> reply = client.request(makePing(0xDEADBEEF, "payload"));
        QCOMPARE(reply->type, MessageType::Pong);
        QCOMPARE(reply->requestId, 0xDEADBEEFu);
        QCOMPARE(reply->blob, QByteArray("payload"));
    }

    // One worker: a request queued behind another cannot start before that one's decode and
    // inference are done, so a 1 ms deadline has passed by then; 0 has always passed. Neither
    // is run, both are counted, and requests without a deadline (or a generous one) run.
    void v2_deadlinePassedBeforeAWorkerWasFree_isDeadlineExceeded_andCounted()
    {
        ServerConfig config = embeddedTestConfig();
        config.workers = 1;
        QVERIFY(startServer(config));
        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));
        const QByteArray soccer = readSample(QStringLiteral("soccer.jpg"));
        const auto withDeadline = [](quint32 id, const QByteArray &image, int deadlineMs) {
            DetectOptions options;
            options.deadlineMs = deadlineMs;
            return makeDetect(id, options, image);
        };
        client.write(encodeMessage(makeDetect(1, {}, soccer)) + encodeMessage(withDeadline(2, soccer, 1))
                     + encodeMessage(withDeadline(3, m_small, 0)) + encodeMessage(withDeadline(4, m_small, 600000)));
        QHash<quint32, Message> replies;
        for (int i = 0; i < 4; ++i) {
            const std::optional<Message> reply = client.next(30000);
            QVERIFY(reply);
            replies.insert(reply->requestId, *reply);
        }
        QCOMPARE(replies.value(1).type, MessageType::Result);
        QCOMPARE(replies.value(4).type, MessageType::Result);
        for (quint32 id : {2u, 3u}) {
            QCOMPARE(replies.value(id).type, MessageType::Error);
            const ErrorInfo error = errorFromMessage(replies.value(id));
            QCOMPARE(error.code, ErrorCode::DeadlineExceeded);
            QCOMPARE(error.name, QStringLiteral("deadline_exceeded"));
            QVERIFY2(error.message.contains(QStringLiteral("not run")), qPrintable(error.message));
        }
        const MetricsRegistry &metrics = m_server->server()->service()->metrics()->registry();
        const MetricLabels v2{{QStringLiteral("protocol"), QStringLiteral("v2")}};
        QCOMPARE(metrics.value(QStringLiteral("edgelens_deadline_expired_total"), v2), 2.0);
        QCOMPARE(metrics.value(QStringLiteral("edgelens_request_errors_total"),
                               MetricLabels(v2) << qMakePair(QStringLiteral("code"), QStringLiteral("deadline_exceeded"))),
                 2.0);
        QVERIFY(metrics.exposition().contains("edgelens_deadline_expired_total{protocol=\"v2\"} 2"));

        // Not a whole number of milliseconds in range: refused before it is queued.
        for (const QJsonValue &bad : {QJsonValue(-1), QJsonValue(1.5), QJsonValue(QStringLiteral("100")),
                                      QJsonValue(3600001)}) {
            Message message = makeDetect(20, {}, m_small);
            message.meta.insert(QStringLiteral("deadline_ms"), bad);
            const std::optional<Message> reply = client.request(message);
            QVERIFY(reply);
            QCOMPARE(errorFromMessage(*reply).code, ErrorCode::BadRequest);
            QVERIFY2(errorFromMessage(*reply).message.contains(QStringLiteral("deadline_ms")),
                     qPrintable(errorFromMessage(*reply).message));
        }
        // The connection stays usable after all of them.
        QCOMPARE(client.request(makeDetect(30, {}, m_small))->type, MessageType::Result);
        QCOMPARE(metrics.value(QStringLiteral("edgelens_deadline_expired_total"), v2), 2.0);
    }

    void auth_tokenIsRequiredAndChecked()
    {
        ServerConfig config = embeddedTestConfig();
        config.token = QStringLiteral("s3cret");
        QVERIFY(startServer(config));
        QCOMPARE(m_server->info().value(QStringLiteral("auth_required")).toBool(), true);

        V2Client anonymous;
        QVERIFY(anonymous.connectTo(m_server->port()));
        std::optional<Message> reply = anonymous.request(makeDetect(1, {}, m_small));
        QCOMPARE(errorFromMessage(*reply).code, ErrorCode::Unauthorized);
        QVERIFY(anonymous.waitClosed(2000));

        V2Client wrong;
        QVERIFY(wrong.connectTo(m_server->port()));
        reply = wrong.request(makeAuth(1, QStringLiteral("guess")));
        QCOMPARE(errorFromMessage(*reply).code, ErrorCode::Unauthorized);
        QVERIFY(wrong.waitClosed(2000));

        V2Client right;
        QVERIFY(right.connectTo(m_server->port()));
        reply = right.request(makeAuth(1, QStringLiteral("s3cret")));
        QCOMPARE(reply->type, MessageType::AuthOk);
        reply = right.request(makeDetect(2, {}, m_small));
        QCOMPARE(reply->type, MessageType::Result);

        const LegacyReply legacy = legacyRequest(m_server->port(), encodeLegacyFrame(m_small), 5000);
        QVERIFY2(!legacy.replied, "legacy clients cannot authenticate, so they are refused");
        QVERIFY(legacy.closedByServer);
    }

    void drain_answersRunningRequestsThenCloses()
    {
        ServerConfig config = embeddedTestConfig();
        config.workers = 1;
        QVERIFY(startServer(config));
        QSignalSpy drained(m_server->server(), &DetectionServer::drained);
        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));
        QVERIFY(client.request(makePing(1))); // the connection is registered
        const QByteArray soccer = readSample(QStringLiteral("soccer.jpg"));
        const QString received = QStringLiteral("edgelens_received_bytes_total{protocol=\"v2\"}");
        const double before = m_server->metric(received);
        const QByteArray both = encodeMessage(makeDetect(2, {}, soccer)) + encodeMessage(makeDetect(3, {}, soccer));
        client.write(both);
        // The server has read both (and submitted them in the same handler) before the drain, which
        // is queued behind that handler. The in-flight gauge cannot say so: on a quiet machine both
        // detections may already be answered when it is looked at.
        QTRY_VERIFY_WITH_TIMEOUT(m_server->metric(received) >= before + both.size(), 10000);
        m_server->drain(10000);
        QSet<quint32> answered;
        for (int i = 0; i < 2; ++i) {
            const std::optional<Message> reply = client.next(10000);
            QVERIFY(reply);
            QCOMPARE(reply->type, MessageType::Result);
            answered.insert(reply->requestId);
        }
        QCOMPARE(answered, (QSet<quint32>{2, 3}));
        QVERIFY(client.waitClosed(3000));
        QTRY_COMPARE_WITH_TIMEOUT(drained.count(), 1, 3000);
        QTcpSocket late;
        late.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY2(!late.waitForConnected(1000), "a draining server accepts no new connections");
    }
};

QTEST_GUILESS_MAIN(TestDetectionServer)
#include "tst_detectionserver.moc"
