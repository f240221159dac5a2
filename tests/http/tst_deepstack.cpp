// The DeepStack / CodeProject.AI request and answer shapes, without a server.
#include "http/deepstackanswer.h"
#include "http/deepstackrequest.h"
#include "http/multipartformdata.h"

#include <QJsonArray>
#include <QTest>

using namespace edgelens;

namespace {

// A body as Python requests / Node form-data build it.
QByteArray multipart(const QByteArray &boundary, const QList<FormPart> &parts)
{
    QByteArray body;
    for (const FormPart &p : parts) {
        body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + '"';
        if (!p.fileName.isEmpty())
            body += "; filename=\"" + p.fileName + '"';
        body += "\r\n";
        if (!p.contentType.isEmpty())
            body += "Content-Type: " + p.contentType + "\r\n";
        body += "\r\n" + p.data + "\r\n";
    }
    return body + "--" + boundary + "--\r\n";
}

FormPart field(const QByteArray &name, const QByteArray &value)
{
    return FormPart{name, {}, {}, value};
}

FormPart file(const QByteArray &name, const QByteArray &data)
{
    return FormPart{name, "image.jpg", "image/jpeg", data};
}

Detection detection(const QString &label, float confidence, QRectF box)
{
    Detection d;
    d.label = label;
    d.confidence = confidence;
    d.box = box;
    return d;
}

} // namespace

class TestDeepStack : public QObject
{
    Q_OBJECT

private slots:
    void multipart_readsFieldsAndFiles()
    {
        const QByteArray image("\xFF\xD8\xFF\xE0 binary \r\n--not-the-boundary \r\n\0 data", 40);
        const QByteArray body = multipart("XyZ123", {file("image", image), field("min_confidence", "0.25"), field("api_key", "K")});
        MultipartFormData form;
        QString error;
        QVERIFY2(form.parse("multipart/form-data; boundary=XyZ123", body, &error), qPrintable(error));
        QCOMPARE(form.parts().size(), 3);
        QCOMPARE(form.part("image")->data, image);
        QCOMPARE(form.part("image")->fileName, QByteArray("image.jpg"));
        QCOMPARE(form.value("min_confidence"), QByteArray("0.25"));
        QCOMPARE(form.value("api_key"), QByteArray("K"));
    }

    void multipart_quotedBoundaryAndPreamble()
    {
        const QByteArray body = "preamble to ignore\r\n" + multipart("a b:c", {field("x", "1")});
        MultipartFormData form;
        QString error;
        QVERIFY2(form.parse("Multipart/Form-Data; charset=utf-8; boundary=\"a b:c\"", body, &error), qPrintable(error));
        QCOMPARE(form.value("x"), QByteArray("1"));
    }

    void multipart_brokenBodiesAreErrors_data()
    {
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<QByteArray>("body");
        const QByteArray good = multipart("B", {field("x", "1")});
        QTest::newRow("no boundary") << QByteArray("multipart/form-data") << good;
        QTest::newRow("wrong boundary") << QByteArray("multipart/form-data; boundary=C") << good;
        QTest::newRow("cut off") << QByteArray("multipart/form-data; boundary=B") << good.left(good.size() - 12);
        QTest::newRow("json") << QByteArray("application/json") << QByteArray("{}");
    }

    void multipart_brokenBodiesAreErrors()
    {
        QFETCH(QByteArray, contentType);
        QFETCH(QByteArray, body);
        MultipartFormData form;
        QString error;
        QVERIFY(!form.parse(contentType, body, &error));
        QVERIFY(!error.isEmpty());
    }

    void urlEncodedForm_isRead()
    {
        MultipartFormData form;
        QString error;
        QVERIFY(form.parse("application/x-www-form-urlencoded", "api_key=a%2Bb+c&min_confidence=0.5", &error));
        QCOMPARE(form.value("api_key"), QByteArray("a+b c"));
        QCOMPARE(form.value("min_confidence"), QByteArray("0.5"));
    }

    void request_keyFromFieldOrBearer()
    {
        const QByteArray type = "multipart/form-data; boundary=B";
        DeepStackRequest withField = DeepStackRequest::fromHttp(type, multipart("B", {field("api_key", "secret")}), "Bearer other");
        QVERIFY(withField.hasApiKey());
        QCOMPARE(withField.apiKey(), QStringLiteral("secret"));
        DeepStackRequest withBearer = DeepStackRequest::fromHttp(type, multipart("B", {field("x", "1")}), "bearer  tok ");
        QCOMPARE(withBearer.apiKey(), QStringLiteral("tok"));
        DeepStackRequest none = DeepStackRequest::fromHttp(type, multipart("B", {field("x", "1")}), "Basic Zm9v");
        QVERIFY(!none.hasApiKey());
    }

    void request_minConfidenceDefaultsToDeepStacks()
    {
        DeepStackRequest request = DeepStackRequest::fromHttp("multipart/form-data; boundary=B",
                                                              multipart("B", {file("image", "\xFF\xD8\xFF")}), {});
        QString error;
        QVERIFY2(request.validateForDetection(&error), qPrintable(error));
        QCOMPARE(request.minConfidence(), 0.4f);
        QCOMPARE(request.image(), QByteArray("\xFF\xD8\xFF"));
    }

    void request_badInputIsRefused_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no image") << multipart("B", {field("min_confidence", "0.5")}) << QStringLiteral("no image");
        QTest::newRow("empty image") << multipart("B", {file("image", "")}) << QStringLiteral("no image");
        QTest::newRow("wrong field name") << multipart("B", {file("picture", "abc")}) << QStringLiteral("\"image\"");
        QTest::newRow("confidence text") << multipart("B", {file("image", "abc"), field("min_confidence", "high")})
                                         << QStringLiteral("min_confidence");
        QTest::newRow("confidence > 1") << multipart("B", {file("image", "abc"), field("min_confidence", "1.5")})
                                        << QStringLiteral("min_confidence");
        QTest::newRow("confidence < 0") << multipart("B", {file("image", "abc"), field("min_confidence", "-0.1")})
                                        << QStringLiteral("min_confidence");
        QTest::newRow("confidence nan") << multipart("B", {file("image", "abc"), field("min_confidence", "nan")})
                                        << QStringLiteral("min_confidence");
    }

    void request_badInputIsRefused()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, expected);
        DeepStackRequest request = DeepStackRequest::fromHttp("multipart/form-data; boundary=B", body, {});
        QString error;
        QVERIFY(!request.validateForDetection(&error));
        QVERIFY2(error.contains(expected), qPrintable(error));
    }

    void predictions_sortedFilteredIntegerCornersInsideImage()
    {
        DetectionResult result;
        result.imageWidth = 640;
        result.imageHeight = 480;
        result.detections = {detection(QStringLiteral("dog"), 0.55f, QRectF(10.4, 20.6, 100.2, 50.5)),
                             detection(QStringLiteral("person"), 0.91f, QRectF(-5, -3, 700, 500)),
                             detection(QStringLiteral("cat"), 0.30f, QRectF(1, 1, 2, 2)),
                             detection(QStringLiteral("car"), 0.72f, QRectF(300, 200, 10, 10))};
        const QJsonArray predictions = DeepStackAnswer::predictions(result, 0.4f);
        QCOMPARE(predictions.size(), 3); // the cat is below min_confidence
        QStringList labels;
        double last = 2;
        for (const QJsonValue &v : predictions) {
            const QJsonObject p = v.toObject();
            labels << p.value(QStringLiteral("label")).toString();
            const double confidence = p.value(QStringLiteral("confidence")).toDouble();
            QVERIFY(confidence <= last && confidence >= 0 && confidence <= 1);
            last = confidence;
            for (const char *key : {"x_min", "y_min", "x_max", "y_max"}) {
                const QJsonValue corner = p.value(QLatin1String(key));
                QVERIFY2(corner.isDouble() && corner.toDouble() == double(corner.toInt()), key);
            }
            QVERIFY(p.value(QStringLiteral("x_min")).toInt() >= 0 && p.value(QStringLiteral("x_max")).toInt() <= 639);
            QVERIFY(p.value(QStringLiteral("y_min")).toInt() >= 0 && p.value(QStringLiteral("y_max")).toInt() <= 479);
        }
        QCOMPARE(labels, QStringList({QStringLiteral("person"), QStringLiteral("car"), QStringLiteral("dog")}));
        const QJsonObject dog = predictions.at(2).toObject();
        QCOMPARE(dog.value(QStringLiteral("x_min")).toInt(), 10);
        QCOMPARE(dog.value(QStringLiteral("y_min")).toInt(), 21);
        QCOMPARE(dog.value(QStringLiteral("x_max")).toInt(), 111);
        QCOMPARE(dog.value(QStringLiteral("y_max")).toInt(), 71);
    }

    void detectionAnswer_hasTheFieldsClientsRead()
    {
        DetectionResult result;
        result.imageWidth = 100;
        result.imageHeight = 100;
        result.model = QStringLiteral("nanodet-m-320");
        result.detections = {detection(QStringLiteral("person"), 0.8f, QRectF(1, 2, 30, 40))};
        DeepStackAnswer::Timing timing;
        timing.inferenceMs = 33.4;
        timing.processMs = 40.6;
        timing.roundTripMs = 42;
        const QJsonObject answer = DeepStackAnswer::detection(result, 0.4f, QStringLiteral("detect"), QStringLiteral("id-1"),
                                                              QStringLiteral("CPU"), timing);
        QCOMPARE(answer.value(QStringLiteral("success")).toBool(), true);
        QCOMPARE(answer.value(QStringLiteral("count")).toInt(), 1);
        QCOMPARE(answer.value(QStringLiteral("predictions")).toArray().size(), 1);
        QCOMPARE(answer.value(QStringLiteral("inferenceMs")).toInt(), 33);
        QCOMPARE(answer.value(QStringLiteral("processMs")).toInt(), 41);
        QCOMPARE(answer.value(QStringLiteral("analysisRoundTripMs")).toInt(), 42);
        QCOMPARE(answer.value(QStringLiteral("code")).toInt(), 200);
        QCOMPARE(answer.value(QStringLiteral("command")).toString(), QStringLiteral("detect"));
        QCOMPARE(answer.value(QStringLiteral("requestId")).toString(), QStringLiteral("id-1"));
        QVERIFY(!answer.value(QStringLiteral("moduleId")).toString().isEmpty());
        QVERIFY(!answer.value(QStringLiteral("moduleName")).toString().isEmpty());
    }

    void errorAnswer_isDeepStacksShape()
    {
        const QJsonObject error = DeepStackAnswer::error(400, QStringLiteral("no image"), 3.2);
        QCOMPARE(error.value(QStringLiteral("success")).toBool(true), false);
        QCOMPARE(error.value(QStringLiteral("error")).toString(), QStringLiteral("no image"));
        QVERIFY(error.value(QStringLiteral("duration")).isDouble());
        QCOMPARE(error.value(QStringLiteral("code")).toInt(), 400);
    }

    void modelListAndUpdateStatus()
    {
        const QJsonObject list = DeepStackAnswer::modelList({QStringLiteral("a"), QStringLiteral("b")});
        QCOMPARE(list.value(QStringLiteral("success")).toBool(), true);
        QCOMPARE(list.value(QStringLiteral("models")).toArray(), QJsonArray({QStringLiteral("a"), QStringLiteral("b")}));
        const QJsonObject update = DeepStackAnswer::updateAvailable(QStringLiteral("1.2.3"));
        QCOMPARE(update.value(QStringLiteral("success")).toBool(), true);
        QCOMPARE(update.value(QStringLiteral("updateAvailable")).toBool(true), false);
        QCOMPARE(update.value(QStringLiteral("current")).toObject().value(QStringLiteral("minor")).toInt(), 2);
        QCOMPARE(update.value(QStringLiteral("latest")).toObject().value(QStringLiteral("patch")).toInt(), 3);
    }
};

QTEST_GUILESS_MAIN(TestDeepStack)
#include "tst_deepstack.moc"
