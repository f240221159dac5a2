#include "detector/decoder.h"
#include "models/modelcatalog.h"
#include "models/modelmanifest.h"
#include "testdata.h"

#include <QFile>
#include <QRegularExpression>
#include <QJsonObject>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace edgelens;

// No "//" inside the raw string: moc would take it for a comment and skip the test class.
static const char kGoodManifest[] = R"({
            "name": "my-yolov8n",
            "family": "yolov8",
            "description": "test model",
            "license": "AGPL-3.0",
            "files": [{"name": "yolov8n.onnx", "sha256": "C59B6C947CE475D27023327808AED655FA000981FE144C4FD2026828999E19F8"}],
            "input": {"width": 640, "height": 480},
            "preprocess": {"resize": "letterbox", "interpolation": "linear", "pad_value": 114,
                           "channel_order": "RGB", "scale": 0.00392156862745098,
                           "mean": [0.1, 0.2, 0.3], "std": [1, 2, 3]},
            "default_confidence": 0.25,
            "nms_iou": 0.7,
            "class_names": ["cat", "dog"]
        })";

class TestModelManifest : public QObject
{
    Q_OBJECT

private:
    static QJsonObject goodObject()
    {
        QJsonObject o = QJsonDocument::fromJson(kGoodManifest).object();
        QJsonArray files = o.value(QStringLiteral("files")).toArray();
        QJsonObject file = files.at(0).toObject();
        file.insert(QStringLiteral("url"), QStringLiteral("https://example.org/yolov8n.onnx"));
        files.replace(0, file);
        o.insert(QStringLiteral("files"), files);
        return o;
    }

    static QString errorFor(QJsonObject object)
    {
        QString error;
        const auto m = ModelManifest::fromJson(object, QStringLiteral("mine.json"), &error);
        return m ? QString() : error;
    }

private Q_SLOTS:
    void goodManifest_parsesEveryField()
    {
        QString error;
        const auto m = ModelManifest::fromJson(goodObject(), QStringLiteral("mine.json"), &error);
        QVERIFY2(m, qPrintable(error));
        QCOMPARE(m->name, QStringLiteral("my-yolov8n"));
        QCOMPARE(m->family, QStringLiteral("yolov8"));
        QCOMPARE(m->files.size(), 1);
        QCOMPARE(m->files[0].sha256, QStringLiteral("c59b6c947ce475d27023327808aed655fa000981fe144c4fd2026828999e19f8"));
        QCOMPARE(m->inputWidth, 640);
        QCOMPARE(m->inputHeight, 480);
        QCOMPARE(m->preprocess.padValue, 114.0);
        QVERIFY(m->preprocess.swapRB);
        QCOMPARE(m->preprocess.interpolation, QStringLiteral("linear"));
        QCOMPARE(m->preprocess.mean[2], 0.3);
        QCOMPARE(m->preprocess.std[1], 2.0);
        QCOMPARE(m->defaultConfidence, 0.25f);
        QCOMPARE(m->defaultNmsIou, 0.7f);
        QCOMPARE(m->classNames, (QStringList{QStringLiteral("cat"), QStringLiteral("dog")}));
        QVERIFY(!m->fallback);
        QVERIFY(!m->isComplete());
        QCOMPARE(m->missingFiles(), QStringList{QStringLiteral("yolov8n.onnx")});
    }

    void toJson_roundTrips()
    {
        QString error;
        const auto m = ModelManifest::fromJson(goodObject(), QStringLiteral("mine.json"), &error);
        QVERIFY(m);
        const auto again = ModelManifest::fromJson(m->toJson(), QStringLiteral("again"), &error);
        QVERIFY2(again, qPrintable(error));
        QCOMPARE(again->toJson(), m->toJson());
    }

    void cocoKeyword_givesTheEightyNames()
    {
        QJsonObject o = goodObject();
        o.insert(QStringLiteral("class_names"), QStringLiteral("coco"));
        QString error;
        const auto m = ModelManifest::fromJson(o, QStringLiteral("mine.json"), &error);
        QVERIFY2(m, qPrintable(error));
        QCOMPARE(m->classNames.size(), 80);
        QCOMPARE(m->classNames.first(), QStringLiteral("person"));
        QCOMPARE(m->classNames.last(), QStringLiteral("toothbrush"));
        QCOMPARE(m->toJson().value(QStringLiteral("class_names")).toString(), QStringLiteral("coco"));
    }

    // Exports and labels use COCO's own spelling ("dining table", not Darknet's "diningtable"),
    // so a COCO JSON export lines up with the dataset the models were trained on.
    void cocoNames_matchTheCocoAnnotationCategories()
    {
        QFile file(edgelens::test::sharedPath(QStringLiteral("data/coco128-train/annotations/instances_train2017.json")));
        EDGELENS_REQUIRE_SHARED(QStringLiteral("data/coco128-train/annotations/instances_train2017.json"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QList<QPair<int, QString>> categories;
        const QJsonArray array = QJsonDocument::fromJson(file.readAll()).object().value(QStringLiteral("categories")).toArray();
        for (const QJsonValue &v : array)
            categories.append({v[QStringLiteral("id")].toInt(), v[QStringLiteral("name")].toString()});
        std::sort(categories.begin(), categories.end());
        QStringList expected;
        for (const auto &c : categories)
            expected << c.second;
        QCOMPARE(ModelManifest::cocoClassNames(), expected);
    }

    void brokenField_errorNamesFileAndField_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QJsonValue>("value");
        QTest::addColumn<QString>("expected");
        QTest::newRow("mean of 2") << "preprocess.mean" << QJsonValue(QJsonArray{1, 2})
                                   << "mine.json: preprocess.mean: expected 3 numbers";
        QTest::newRow("std with zero") << "preprocess.std" << QJsonValue(QJsonArray{1, 0, 1})
                                       << "mine.json: preprocess.std:";
        QTest::newRow("resize") << "preprocess.resize" << QJsonValue(QStringLiteral("crop"))
                                << "mine.json: preprocess.resize:";
        QTest::newRow("channel order") << "preprocess.channel_order" << QJsonValue(QStringLiteral("BRG"))
                                       << "mine.json: preprocess.channel_order:";
        QTest::newRow("family") << "family" << QJsonValue(QStringLiteral("yolov99")) << "mine.json: family:";
        QTest::newRow("no name") << "name" << QJsonValue() << "mine.json: name: missing";
        QTest::newRow("name with slash") << "name" << QJsonValue(QStringLiteral("../evil")) << "mine.json: name:";
        QTest::newRow("width") << "input.width" << QJsonValue(QStringLiteral("640")) << "mine.json: input.width:";
        QTest::newRow("width zero") << "input.width" << QJsonValue(0) << "mine.json: input.width:";
        QTest::newRow("nms") << "nms_iou" << QJsonValue(1.5) << "mine.json: nms_iou:";
        QTest::newRow("confidence") << "default_confidence" << QJsonValue(true) << "mine.json: default_confidence:";
        QTest::newRow("class names") << "class_names" << QJsonValue(QStringLiteral("voc")) << "mine.json: class_names:";
        QTest::newRow("files empty") << "files" << QJsonValue(QJsonArray{}) << "mine.json: files:";
        QTest::newRow("file path") << "files" << QJsonValue(QJsonArray{QJsonObject{{"name", "../x.onnx"}}})
                                   << "mine.json: files[0].name:";
        QTest::newRow("sha") << "files" << QJsonValue(QJsonArray{QJsonObject{{"name", "x.onnx"}, {"sha256", "abc"}}})
                             << "mine.json: files[0].sha256:";
        QTest::newRow("decoder") << "decoder" << QJsonValue(3) << "mine.json: decoder:";
        QTest::newRow("accuracy above 1") << "accuracy.map" << QJsonValue(38.3) << "mine.json: accuracy.map:";
        QTest::newRow("accuracy without dataset") << "accuracy" << QJsonValue(QJsonObject{{"map", 0.3}})
                                                  << "mine.json: accuracy.dataset: missing";
    }

    void accuracy_isReadShownAndWrittenBack()
    {
        QJsonObject o = goodObject();
        o.insert(QStringLiteral("accuracy"), QJsonObject{{"map", 0.3834}, {"ap50", 0.5364}, {"dataset", "coco128-train"}});
        QString error;
        const auto m = ModelManifest::fromJson(o, QStringLiteral("mine.json"), &error);
        QVERIFY2(m, qPrintable(error));
        QVERIFY(m->accuracy.isKnown());
        QCOMPARE(m->accuracy.map, 0.3834);
        QCOMPARE(m->accuracy.ap50, 0.5364);
        QCOMPARE(m->accuracy.text(), QStringLiteral("mAP 0.383 (coco128-train)"));
        QVERIFY2(m->summary().contains(QStringLiteral("mAP 0.383 (coco128-train)")), qPrintable(m->summary()));
        const auto again = ModelManifest::fromJson(m->toJson(), QStringLiteral("again.json"), &error);
        QVERIFY2(again, qPrintable(error));
        QCOMPARE(again->accuracy.map, 0.3834);
        QCOMPARE(again->accuracy.dataset, QStringLiteral("coco128-train"));
        // without the field nothing is claimed
        const auto plain = ModelManifest::fromJson(goodObject(), QStringLiteral("plain.json"), &error);
        QVERIFY(plain && !plain->accuracy.isKnown() && plain->accuracy.text().isEmpty());
        // every built-in DNN model records what tst_evalaccuracy checks
        for (const ModelManifest &b : ModelCatalog::builtinManifests())
            QCOMPARE(b.accuracy.isKnown(), !b.fallback);
    }

    void brokenField_errorNamesFileAndField()
    {
        QFETCH(QString, path);
        QFETCH(QJsonValue, value);
        QFETCH(QString, expected);
        QJsonObject o = goodObject();
        const QStringList parts = path.split(QLatin1Char('.'));
        if (parts.size() == 2) {
            QJsonObject inner = o.value(parts[0]).toObject();
            inner.insert(parts[1], value);
            o.insert(parts[0], inner);
        } else if (value.isNull()) {
            o.remove(path);
        } else {
            o.insert(path, value);
        }
        const QString error = errorFor(o);
        QVERIFY2(error.startsWith(expected), qPrintable(QStringLiteral("got: ") + error));
    }

    void dnnFamilyWithoutInput_isRefused()
    {
        QJsonObject o = goodObject();
        o.remove(QStringLiteral("input"));
        QVERIFY(errorFor(o).startsWith(QStringLiteral("mine.json: input:")));
    }

    void load_reportsInvalidJsonAndMissingFile()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("bad.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{ \"name\": ");
        f.close();
        QString error;
        QVERIFY(!ModelManifest::load(path, &error));
        QVERIFY2(error.startsWith(QStringLiteral("bad.json: not valid JSON")), qPrintable(error));
        QVERIFY(!ModelManifest::load(dir.filePath(QStringLiteral("absent.json")), &error));
        QVERIFY(error.contains(QStringLiteral("absent.json")));
    }

    void userManifestFile_loadsAndRemembersItsPath()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("mine.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QJsonDocument(goodObject()).toJson());
        f.close();
        QString error;
        const auto m = ModelManifest::load(path, &error);
        QVERIFY2(m, qPrintable(error));
        QCOMPARE(m->manifestPath, path);
        QCOMPARE(m->name, QStringLiteral("my-yolov8n"));
    }

    void builtinManifests_matchTheSharedModelsDocument()
    {
        const QList<ModelManifest> builtins = ModelCatalog::builtinManifests();
        QStringList names;
        for (const ModelManifest &m : builtins)
            names << m.name;
        QCOMPARE(names, (QStringList{QStringLiteral("picodet-s-320"), QStringLiteral("picodet-s-416"),
                                     QStringLiteral("nanodet-m-320"), QStringLiteral("yolox-nano-640"),
                                     QStringLiteral("yolo-fastest-xl-320"), QStringLiteral("fastestdet-352"),
                                     QStringLiteral("opencv-cascades")}));
        for (const ModelManifest &m : builtins) {
            for (const ModelFile &f : m.files) {
                QCOMPARE(f.sha256.size(), 64);
                QVERIFY(f.url.startsWith(QStringLiteral("https://")));
            }
            QCOMPARE(m.fallback, m.family == QStringLiteral("cascade"));
        }
        // PaddleDetection's eval recipe: plain resize, RGB, ImageNet normalisation, 4 strides
        for (const ModelManifest &pico : {builtins[0], builtins[1]}) {
            QCOMPARE(pico.family, QStringLiteral("picodet"));
            QCOMPARE(pico.preprocess.resize, QStringLiteral("stretch"));
            QVERIFY(pico.preprocess.swapRB);
            QCOMPARE(pico.preprocess.mean[0], 0.485);
            QCOMPARE(pico.preprocess.std[2], 0.225);
            QCOMPARE(pico.files[0].url, QStringLiteral("https://paddledet.bj.bcebos.com/deploy/third_engine/")
                                            + pico.files[0].name);
        }
        QCOMPARE(builtins[0].inputWidth, 320);
        QCOMPARE(builtins[0].files[0].sha256,
                 QStringLiteral("d7852a1508b36bfc2739770ad52ff28bf81e219dc5c15dd7868d5ebdf007b6c8"));
        QCOMPARE(builtins[1].inputWidth, 416);
        QCOMPARE(builtins[1].files[0].sha256,
                 QStringLiteral("cdab77bdde16e4f76bec734c4e5791801d1739e4c7ec1995e0e110e04300d0c2"));
        const ModelManifest &nanodet = builtins[2];
        QCOMPARE(nanodet.files[0].sha256,
                 QStringLiteral("c59b6c947ce475d27023327808aed655fa000981fe144c4fd2026828999e19f8"));
        QCOMPARE(nanodet.preprocess.interpolation, QStringLiteral("area"));
        QVERIFY(!nanodet.preprocess.swapRB);
        QCOMPARE(nanodet.preprocess.mean[0], 103.53);
        QCOMPARE(nanodet.preprocess.std[2], 58.395);
        const ModelManifest &yolox = builtins[3];
        QVERIFY(yolox.preprocess.swapRB);
        QCOMPARE(yolox.preprocess.padValue, 128.0);
        QCOMPARE(yolox.preprocess.interpolation, QStringLiteral("cubic"));
        QCOMPARE(yolox.inputWidth, 640);
    }

    // Users copy these examples next to their weights: each must load and give its decoder.
    void docsExampleManifests_loadAndGiveADecoder()
    {
        QFile doc(QStringLiteral(EDGELENS_SOURCE_DIR "/docs/MODELS.md"));
        QVERIFY2(doc.open(QIODevice::ReadOnly), qPrintable(doc.fileName()));
        const QString text = QString::fromUtf8(doc.readAll());
        static const QRegularExpression block(QStringLiteral("```json\\n(.*?)```"),
                                              QRegularExpression::DotMatchesEverythingOption);
        QStringList families;
        for (auto it = block.globalMatch(text); it.hasNext();) {
            QString json = it.next().captured(1);
            if (!json.contains(QStringLiteral("\"family\"")))
                continue;
            // The format example elides its checksum; any 64 hex digits stand in for it.
            json.replace(QStringLiteral("…64 hex digits…"), QString(64, QLatin1Char('0')));
            QJsonParseError parseError;
            const QJsonDocument parsed = QJsonDocument::fromJson(json.toUtf8(), &parseError);
            QVERIFY2(parsed.isObject(), qPrintable(parseError.errorString() + QStringLiteral(": ") + json));
            QString error;
            const auto manifest = ModelManifest::fromJson(parsed.object(), QStringLiteral("MODELS.md"), &error);
            QVERIFY2(manifest, qPrintable(error));
            QVERIFY2(Decoder::create(*manifest, &error), qPrintable(manifest->name + QStringLiteral(": ") + error));
            families << manifest->family;
        }
        QVERIFY2(families.contains(QStringLiteral("tf-ssd")), qPrintable(families.join(QLatin1Char(','))));
        QVERIFY2(families.contains(QStringLiteral("caffe-ssd")), qPrintable(families.join(QLatin1Char(','))));
        QVERIFY2(families.contains(QStringLiteral("yolov8")), qPrintable(families.join(QLatin1Char(','))));
    }
};

QTEST_GUILESS_MAIN(TestModelManifest)
#include "tst_modelmanifest.moc"
