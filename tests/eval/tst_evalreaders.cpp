#include "eval/cocoevaluator.h"
#include "eval/cocojsonreader.h"
#include "eval/evaldataset.h"
#include "eval/predictionreader.h"
#include "eval/yolotxtreader.h"

#include <QImage>
#include <QtTest>

using namespace edgelens;

namespace {

void writeFile(const QString &path, const QByteArray &content)
{
    QDir().mkpath(QFileInfo(path).path());
    QFile file(path);
    QVERIFY2(file.open(QIODevice::WriteOnly), qPrintable(path));
    file.write(content);
}

void writeImage(const QString &path, int width, int height)
{
    QDir().mkpath(QFileInfo(path).path());
    QImage image(width, height, QImage::Format_RGB32);
    image.fill(Qt::gray);
    QVERIFY(image.save(path));
}

const QByteArray kCocoJson = R"({
  "images": [{"id": 42, "file_name": "b.jpg", "width": 200, "height": 100},
             {"id": 7, "file_name": "a.jpg", "width": 200, "height": 100}],
  "categories": [{"id": 90, "name": "toothbrush"}, {"id": 1, "name": "person"}, {"id": 5, "name": "airplane"}],
  "annotations": [
    {"id": 1, "image_id": 7, "category_id": 5, "bbox": [10, 20, 30, 40], "area": 1000, "iscrowd": 0},
    {"id": 2, "image_id": 7, "category_id": 90, "bbox": [0, 0, 5, 5], "area": 25, "iscrowd": 1},
    {"id": 3, "image_id": 42, "category_id": 1, "bbox": [1, 2, 3, 4], "area": 12, "iscrowd": 0}
  ]
})";

} // namespace

class TestEvalReaders : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    void cocoJson_mapsSparseCategoryIdsBySortingThem();
    void cocoJson_ordersImagesById();
    void cocoJson_badInput_namesTheEntry_data();
    void cocoJson_badInput_namesTheEntry();
    void cocoJson_missingFile_saysSo();

    void yoloTxt_convertsNormalisedCentresToPixels();
    void yoloTxt_badLine_namesFileAndLine_data();
    void yoloTxt_badLine_namesFileAndLine();
    void yoloTxt_labelFileMirrorsTheImagePath();
    void yoloDataset_groundTruthAgainstItself_scoresOne();
    void yoloDataset_withoutAnyLabel_isAnError();

    void cocoDataset_pairsImagesByFileName();

    void predictions_readTheCliSidecar();
    void predictions_legacySidecar_isRecognisedNotMalformed();
    void predictions_badSidecar_namesTheEntry();

private:
    QTemporaryDir m_dir;
};

void TestEvalReaders::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
}

void TestEvalReaders::cocoJson_mapsSparseCategoryIdsBySortingThem()
{
    QString error;
    const auto set = CocoJsonReader::parse(kCocoJson, QStringLiteral("t.json"), &error);
    QVERIFY2(set, qPrintable(error));
    QCOMPARE(set->classNames, (QStringList{"person", "airplane", "toothbrush"}));
    const GroundTruthImage &a = set->images.at(0);
    QCOMPARE(a.boxes.size(), 2);
    QCOMPARE(a.boxes.at(0).classId, 1); // COCO id 5 -> second smallest id
    QCOMPARE(a.boxes.at(0).box, QRectF(10, 20, 30, 40));
    QCOMPARE(a.boxes.at(0).area, 1000.0);
    QVERIFY(!a.boxes.at(0).crowd);
    QCOMPARE(a.boxes.at(1).classId, 2); // COCO id 90
    QVERIFY(a.boxes.at(1).crowd);
    QCOMPARE(set->images.at(1).boxes.first().classId, 0);
}

void TestEvalReaders::cocoJson_ordersImagesById()
{
    const auto set = CocoJsonReader::parse(kCocoJson, QStringLiteral("t.json"), nullptr);
    QVERIFY(set);
    QCOMPARE(set->images.at(0).id, 7);
    QCOMPARE(set->images.at(0).fileName, QStringLiteral("a.jpg"));
    QCOMPARE(set->images.at(1).id, 42);
    QCOMPARE(set->images.at(1).width, 200);
}

void TestEvalReaders::cocoJson_badInput_namesTheEntry_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("expected");
    const QByteArray head = R"({"images": [{"id": 1, "file_name": "a.jpg"}], "categories": [{"id": 3, "name": "x"}], )";
    QTest::newRow("not json") << QByteArray("{\"images\": [") << QStringLiteral("not valid JSON");
    QTest::newRow("array root") << QByteArray("[]") << QStringLiteral("expected a JSON object");
    QTest::newRow("no annotations") << QByteArray(R"({"images": [], "categories": []})")
                                    << QStringLiteral("annotations: expected an array");
    QTest::newRow("short bbox") << head + R"("annotations": [{"image_id": 1, "category_id": 3, "bbox": [1, 2, 3]}]})"
                                << QStringLiteral("annotations[0].bbox: expected 4 numbers");
    QTest::newRow("unknown image") << head + R"("annotations": [{"image_id": 9, "category_id": 3, "bbox": [1, 2, 3, 4]}]})"
                                   << QStringLiteral("annotations[0].image_id: no image has id 9");
    QTest::newRow("unknown category")
        << head + R"("annotations": [{"image_id": 1, "category_id": 4, "bbox": [1, 2, 3, 4]}]})"
        << QStringLiteral("annotations[0].category_id");
    QTest::newRow("text id") << QByteArray(R"({"images": [{"id": "1", "file_name": "a"}], "categories": [], "annotations": []})")
                             << QStringLiteral("images[0].id: expected an integer");
}

void TestEvalReaders::cocoJson_badInput_namesTheEntry()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, expected);
    QString error;
    QVERIFY(!CocoJsonReader::parse(json, QStringLiteral("bad.json"), &error));
    QVERIFY2(error.startsWith(QStringLiteral("bad.json: ")), qPrintable(error));
    QVERIFY2(error.contains(expected), qPrintable(error));
}

void TestEvalReaders::cocoJson_missingFile_saysSo()
{
    QString error;
    QVERIFY(!CocoJsonReader::read(m_dir.filePath(QStringLiteral("nope.json")), &error));
    QVERIFY2(error.contains(QStringLiteral("cannot open")), qPrintable(error));
}

void TestEvalReaders::yoloTxt_convertsNormalisedCentresToPixels()
{
    QString error;
    const auto boxes = YoloTxtReader::parse("0 0.5 0.5 0.5 0.25\n\n3 0.1 0.2 0.2 0.4\r\n", QSize(200, 100), 80,
                                            QStringLiteral("a.txt"), &error);
    QVERIFY2(boxes, qPrintable(error));
    QCOMPARE(boxes->size(), 2);
    QCOMPARE(boxes->at(0).classId, 0);
    QCOMPARE(boxes->at(0).box, QRectF(50, 37.5, 100, 25));
    QCOMPARE(boxes->at(1).classId, 3);
    QCOMPARE(boxes->at(1).box, QRectF(0, 0, 40, 40));
    QVERIFY(!boxes->at(1).crowd);
}

void TestEvalReaders::yoloTxt_badLine_namesFileAndLine_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("expected");
    QTest::newRow("four fields") << QByteArray("0 0.5 0.5 0.5 0.5\n1 0.5 0.5 0.5\n") << QStringLiteral("a.txt:2: expected 5 fields");
    QTest::newRow("pixels") << QByteArray("0 320 240 50 60\n") << QStringLiteral("a.txt:1: values must be fractions");
    QTest::newRow("class range") << QByteArray("80 0.5 0.5 0.1 0.1\n") << QStringLiteral("a.txt:1: class 80 is out of range");
    QTest::newRow("class text") << QByteArray("dog 0.5 0.5 0.1 0.1\n") << QStringLiteral("a.txt:1: class \"dog\"");
    QTest::newRow("nan") << QByteArray("1 nan 0.5 0.1 0.1\n") << QStringLiteral("a.txt:1: \"nan\" is not a number");
}

void TestEvalReaders::yoloTxt_badLine_namesFileAndLine()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, expected);
    QString error;
    QVERIFY(!YoloTxtReader::parse(text, QSize(640, 480), 80, QStringLiteral("a.txt"), &error));
    QVERIFY2(error.startsWith(expected), qPrintable(error));
}

void TestEvalReaders::yoloTxt_labelFileMirrorsTheImagePath()
{
    const QString labels = m_dir.filePath(QStringLiteral("mirror/labels"));
    writeFile(labels + QStringLiteral("/sub/x.txt"), "0 0.5 0.5 0.1 0.1\n");
    writeFile(labels + QStringLiteral("/y.txt"), "0 0.5 0.5 0.1 0.1\n");
    QCOMPARE(YoloTxtReader::labelFileFor(labels, QStringLiteral("sub/x.jpg")), labels + QStringLiteral("/sub/x.txt"));
    QCOMPARE(YoloTxtReader::labelFileFor(labels, QStringLiteral("other/y.jpg")), labels + QStringLiteral("/y.txt"));
    QCOMPARE(YoloTxtReader::labelFileFor(labels, QStringLiteral("z.jpg")), QString());
}

void TestEvalReaders::yoloDataset_groundTruthAgainstItself_scoresOne()
{
    const QString images = m_dir.filePath(QStringLiteral("yolo/images"));
    const QString labels = m_dir.filePath(QStringLiteral("yolo/labels"));
    writeImage(images + QStringLiteral("/one.png"), 200, 100);
    writeImage(images + QStringLiteral("/sub/two.png"), 64, 48);
    writeImage(images + QStringLiteral("/empty.png"), 32, 32);
    writeFile(labels + QStringLiteral("/one.txt"), "0 0.5 0.5 0.5 0.25\n1 0.25 0.25 0.1 0.1\n");
    writeFile(labels + QStringLiteral("/sub/two.txt"), "1 0.5 0.5 1 1\n");
    writeFile(labels + QStringLiteral("/classes.txt"), "cat\ndog\n");

    QString error;
    const auto dataset = EvalDataset::load(images, labels, 0, &error);
    QVERIFY2(dataset, qPrintable(error));
    QCOMPARE(dataset->format, EvalDataset::Format::YoloTxt);
    QCOMPARE(dataset->classNames, (QStringList{"cat", "dog"}));
    QCOMPARE(dataset->images.size(), 3);
    QCOMPARE(dataset->images.at(0).relativePath, QStringLiteral("empty.png"));
    QVERIFY(dataset->images.at(0).groundTruth.boxes.isEmpty());
    QCOMPARE(dataset->warnings.size(), 1); // empty.png has no label file
    const EvalImage &two = dataset->images.at(2);
    QCOMPARE(two.relativePath, QStringLiteral("sub/two.png"));
    QCOMPARE(two.groundTruth.width, 64);
    QCOMPARE(two.groundTruth.boxes.first().box, QRectF(0, 0, 64, 48));

    CocoEvaluator evaluator(dataset->classNames);
    for (const EvalImage &image : dataset->images) {
        QList<Detection> detections;
        for (const GroundTruthBox &g : image.groundTruth.boxes) {
            Detection d;
            d.classId = g.classId;
            d.box = g.box;
            d.confidence = 0.9f;
            detections.append(d);
        }
        evaluator.addImage(image.groundTruth.boxes, detections);
    }
    const EvalSummary s = evaluator.evaluate();
    QCOMPARE(s.map, 1.0);
    QCOMPARE(s.perClass.size(), 2);
    QCOMPARE(s.perClass.at(1).name, QStringLiteral("dog"));
    QCOMPARE(s.perClass.at(1).groundTruthCount, 2);

    // A class id the names file does not know is refused.
    writeFile(labels + QStringLiteral("/sub/two.txt"), "2 0.5 0.5 1 1\n");
    QVERIFY(!EvalDataset::load(images, labels, 0, &error));
    QVERIFY2(error.contains(QStringLiteral("two.txt:1: class 2 is out of range")), qPrintable(error));
}

void TestEvalReaders::yoloDataset_withoutAnyLabel_isAnError()
{
    const QString images = m_dir.filePath(QStringLiteral("nolabels/images"));
    writeImage(images + QStringLiteral("/a.png"), 10, 10);
    QDir().mkpath(m_dir.filePath(QStringLiteral("nolabels/labels")));
    QString error;
    QVERIFY(!EvalDataset::load(images, m_dir.filePath(QStringLiteral("nolabels/labels")), 80, &error));
    QVERIFY2(error.contains(QStringLiteral("no label file matches")), qPrintable(error));

    QVERIFY(!EvalDataset::load(m_dir.filePath(QStringLiteral("nowhere")), images, 80, &error));
    QVERIFY2(error.contains(QStringLiteral("not a folder")), qPrintable(error));
}

void TestEvalReaders::cocoDataset_pairsImagesByFileName()
{
    const QString root = m_dir.filePath(QStringLiteral("coco"));
    writeImage(root + QStringLiteral("/images/a.jpg"), 200, 100);
    writeImage(root + QStringLiteral("/images/extra.jpg"), 20, 10);
    writeFile(root + QStringLiteral("/ann.json"), kCocoJson);
    QString error;
    const auto dataset = EvalDataset::load(root + QStringLiteral("/images"), root + QStringLiteral("/ann.json"), 0, &error);
    QVERIFY2(dataset, qPrintable(error));
    QCOMPARE(dataset->format, EvalDataset::Format::CocoJson);
    QCOMPARE(dataset->images.size(), 1); // b.jpg is missing, extra.jpg is not annotated
    QCOMPARE(dataset->images.first().relativePath, QStringLiteral("a.jpg"));
    QCOMPARE(dataset->images.first().groundTruth.boxes.size(), 2);
    QCOMPARE(dataset->warnings.size(), 2);
    QVERIFY2(dataset->warnings.first().contains(QStringLiteral("b.jpg")), qPrintable(dataset->warnings.first()));

    // The same folder named relative to the working folder, as `eval --images ../x/images`
    // gets it: the image paths open.
    const QString previous = QDir::currentPath();
    QVERIFY(QDir::setCurrent(m_dir.filePath(QStringLiteral("coco/images"))));
    const auto relative = EvalDataset::load(QStringLiteral("../images"), root + QStringLiteral("/ann.json"), 0, &error);
    QDir::setCurrent(previous);
    QVERIFY2(relative, qPrintable(error));
    QCOMPARE(relative->images.size(), 1);
    QCOMPARE(relative->images.first().relativePath, QStringLiteral("a.jpg"));
    QCOMPARE(relative->images.first().path, QStringLiteral("../images/a.jpg"));
}

void TestEvalReaders::predictions_readTheCliSidecar()
{
    const QString dir = m_dir.filePath(QStringLiteral("pred"));
    const QString path = PredictionReader::sidecarPath(dir, QStringLiteral("sub/photo.v2.jpg"));
    QCOMPARE(path, dir + QStringLiteral("/sub/photo.v2.json"));
    QCOMPARE(PredictionReader::sidecarPath(dir, QStringLiteral("a.png")), dir + QStringLiteral("/a.json"));
    writeFile(path, R"({"image": "sub/photo.v2.jpg", "width": 640, "height": 480, "model": "nanodet-m-320",
        "detections": [{"label": "dog", "class_id": 16, "confidence": 0.875, "box": [10.5, 20, 30, 40]}],
        "timings": {"inference_ms": 12.5}})");
    QString error;
    const auto result = PredictionReader::readFile(path, &error);
    QVERIFY2(result, qPrintable(error));
    QCOMPARE(result->imageWidth, 640);
    QCOMPARE(result->model, QStringLiteral("nanodet-m-320"));
    QCOMPARE(result->detections.size(), 1);
    QCOMPARE(result->detections.first().classId, 16);
    QCOMPARE(result->detections.first().confidence, 0.875f);
    QCOMPARE(result->detections.first().box, QRectF(10.5, 20, 30, 40));
}

void TestEvalReaders::predictions_badSidecar_namesTheEntry()
{
    QString error;
    QVERIFY(!PredictionReader::parse(R"({"detections": [{"class_id": 1, "confidence": 0.5, "box": [1, 2]}]})",
                                     QStringLiteral("p.json"), &error));
    QCOMPARE(error, QStringLiteral("p.json: detections[0].box: expected 4 numbers [x, y, width, height]"));
    QVERIFY(!PredictionReader::parse(R"({"detections": [{"class_id": -1, "confidence": 0.5, "box": [1, 2, 3, 4]}]})",
                                     QStringLiteral("p.json"), &error));
    QVERIFY2(error.contains(QStringLiteral("class_id")), qPrintable(error));
    QVERIFY(!PredictionReader::parse("{}", QStringLiteral("p.json"), &error));
    QVERIFY2(error.contains(QStringLiteral("detections: expected an array")), qPrintable(error));
    QVERIFY(!PredictionReader::readFile(m_dir.filePath(QStringLiteral("missing.json")), &error));
    QVERIFY2(error.contains(QStringLiteral("cannot open")), qPrintable(error));
}

void TestEvalReaders::predictions_legacySidecar_isRecognisedNotMalformed()
{
    // What edgelens-cli --json writes after a legacy server: the image size, no detections.
    const QByteArray legacy = R"({"image": "/photos/a.jpg", "relative_path": "a.jpg", "result_image": "a.jpg",
        "width": 600, "height": 400, "has_detection_data": false, "protocol": "legacy", "round_trip_ms": 41.5})";
    QString error;
    bool hasDetectionData = true;
    const auto result = PredictionReader::parse(legacy, QStringLiteral("a.json"), &error, &hasDetectionData);
    QVERIFY2(result, qPrintable(error));
    QVERIFY(!hasDetectionData);
    QCOMPARE(result->imageWidth, 600);
    QCOMPARE(result->imageHeight, 400);
    QVERIFY(result->detections.isEmpty());

    // A caller that does not ask is told why, not "expected an array".
    QVERIFY(!PredictionReader::parse(legacy, QStringLiteral("a.json"), &error));
    QVERIFY2(error.startsWith(QStringLiteral("a.json: written for a legacy server")), qPrintable(error));
    QVERIFY2(error.contains(QStringLiteral("has_detection_data: false")), qPrintable(error));
    QVERIFY2(!error.contains(QStringLiteral("expected an array")), qPrintable(error));

    // A v2 sidecar says true and reads as before.
    hasDetectionData = false;
    QVERIFY(PredictionReader::parse(R"({"width": 1, "height": 1, "detections": [], "has_detection_data": true})",
                                    QStringLiteral("b.json"), &error, &hasDetectionData));
    QVERIFY(hasDetectionData);
}

QTEST_GUILESS_MAIN(TestEvalReaders)
#include "tst_evalreaders.moc"
