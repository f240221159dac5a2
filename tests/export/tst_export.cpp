#include "export/exporters.h"
#include "export/trackassigner.h"

#include "testdata.h"

#include <QDir>
#include <QHash>
#include <QSet>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace edgelens;

namespace {

// Three images: ordinary boxes, labels with spaces and non-ASCII text, and no detections.
QList<ExportItem> sampleItems(const QString &root)
{
    ExportItem a;
    a.imagePath = root + QStringLiteral("/images/street.jpg");
    a.width = 640;
    a.height = 480;
    a.detections = {Detection{0, QStringLiteral("person"), 0.91f, QRectF(10.25, 20.5, 100.0, 200.75)},
                    Detection{9, QStringLiteral("traffic light"), 0.55f, QRectF(300, 40, 22, 60)},
                    Detection{2, QStringLiteral("car"), 0.73f, QRectF(400.4, 300.6, 239.6, 179.4)}};
    ExportItem b;
    b.imagePath = root + QStringLiteral("/images/ünïcode café.png");
    b.width = 333;
    b.height = 517;
    b.detections = {Detection{80, QStringLiteral("Straßen schild 🚦"), 0.61f, QRectF(1, 2, 30, 40)},
                    Detection{81, QStringLiteral("日本の 猫"), 0.99f, QRectF(100, 200, 50.5, 60.5)}};
    ExportItem empty;
    empty.imagePath = root + QStringLiteral("/images/empty.jpg");
    empty.width = 100;
    empty.height = 50;
    return {a, b, empty};
}

QStringList modelClasses()
{
    QStringList names;
    for (int i = 0; i < 10; ++i)
        names << QStringLiteral("c%1").arg(i);
    names[0] = QStringLiteral("person");
    names[2] = QStringLiteral("car");
    names[9] = QStringLiteral("traffic light");
    return names;
}

void compareItems(const QList<ExportItem> &actual, const QList<ExportItem> &expected, double tolerance, bool checkConfidence)
{
    QCOMPARE(actual.size(), expected.size());
    for (int i = 0; i < expected.size(); ++i) {
        const ExportItem &got = actual.at(i);
        const ExportItem &want = expected.at(i);
        QCOMPARE(QFileInfo(got.imagePath).absoluteFilePath(), QFileInfo(want.imagePath).absoluteFilePath());
        QCOMPARE(got.width, want.width);
        QCOMPARE(got.height, want.height);
        QCOMPARE(got.detections.size(), want.detections.size());
        for (int j = 0; j < want.detections.size(); ++j) {
            const Detection &g = got.detections.at(j);
            const Detection &w = want.detections.at(j);
            QCOMPARE(g.label, w.label);
            const auto near = [tolerance](double x, double y) { return std::abs(x - y) <= tolerance; };
            QVERIFY2(near(g.box.x(), w.box.x()) && near(g.box.y(), w.box.y()) && near(g.box.width(), w.box.width())
                         && near(g.box.height(), w.box.height()),
                     qPrintable(QStringLiteral("box %1 of %2: got %3,%4 %5x%6 want %7,%8 %9x%10")
                                    .arg(j).arg(want.imagePath)
                                    .arg(g.box.x()).arg(g.box.y()).arg(g.box.width()).arg(g.box.height())
                                    .arg(w.box.x()).arg(w.box.y()).arg(w.box.width()).arg(w.box.height())));
            if (checkConfidence)
                QVERIFY(std::abs(g.confidence - w.confidence) < 1e-3);
        }
    }
}

} // namespace

class TestExport final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void coco_roundTripKeepsBoxesLabelsAndEmptyImage()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QList<ExportItem> items = sampleItems(dir.path());
        const QString file = dir.filePath(QStringLiteral("out/annotations.json"));
        QString error;
        QVERIFY2(exportCoco(items, modelClasses(), file, &error), qPrintable(error));

        QStringList names;
        const QList<ExportItem> back = readCoco(file, &error, &names);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        compareItems(back, items, 1e-6, true);
        // Model classes keep their ids; labels the model list lacks are appended.
        QCOMPARE(names.size(), 12);
        QCOMPARE(names.at(9), QStringLiteral("traffic light"));
        QCOMPARE(names.at(10), QStringLiteral("Straßen schild 🚦"));
        QCOMPARE(back.at(0).detections.at(1).classId, 9);
    }

    void coco_fileHasCocoFields()
    {
        QTemporaryDir dir;
        const QList<ExportItem> items = sampleItems(dir.path());
        const QString file = dir.filePath(QStringLiteral("a.json"));
        QString error;
        QVERIFY2(exportCoco(items, {}, file, &error), qPrintable(error));
        const QByteArray written = test::readFile(file);
        QVERIFY(!written.isEmpty());
        const QJsonObject root = QJsonDocument::fromJson(written).object();
        const QJsonArray categories = root.value(QStringLiteral("categories")).toArray();
        QCOMPARE(categories.size(), 5);
        for (int i = 0; i < categories.size(); ++i)
            QCOMPARE(categories.at(i).toObject().value(QStringLiteral("id")).toInt(), i + 1);
        const QJsonArray annotations = root.value(QStringLiteral("annotations")).toArray();
        QCOMPARE(annotations.size(), 5);
        const QJsonObject first = annotations.at(0).toObject();
        QCOMPARE(first.value(QStringLiteral("iscrowd")).toInt(-1), 0);
        QCOMPARE(first.value(QStringLiteral("area")).toDouble(), 100.0 * 200.75);
        QCOMPARE(first.value(QStringLiteral("bbox")).toArray().at(1).toDouble(), 20.5);
        QCOMPARE(root.value(QStringLiteral("images")).toArray().size(), 3);
        QCOMPARE(root.value(QStringLiteral("images")).toArray().at(2).toObject().value(QStringLiteral("file_name")).toString(),
                 QStringLiteral("images/empty.jpg"));
    }

    void coco_readsRealCocoFileWithSparseCategoryIds()
    {
        const QString file = test::sharedPath(QStringLiteral("data/coco128-train/annotations/instances_train2017.json"));
        EDGELENS_REQUIRE_SHARED(QStringLiteral("data/coco128-train/annotations/instances_train2017.json"));
        QString error;
        QStringList names;
        const QList<ExportItem> items = readCoco(file, &error, &names);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(items.size(), 128);
        QCOMPARE(names.size(), 80);
        QCOMPARE(names.first(), QStringLiteral("person"));
        QCOMPARE(names.last(), QStringLiteral("toothbrush")); // COCO id 90 -> class 79
        int boxes = 0;
        for (const ExportItem &item : items)
            boxes += int(item.detections.size());
        QCOMPARE(boxes, 939);
        QVERIFY(items.first().imagePath.endsWith(QStringLiteral("/annotations/000000000009.jpg")));
        QCOMPARE(items.first().width, 640);
        const auto known = std::find_if(items.first().detections.cbegin(), items.first().detections.cend(),
                                        [](const Detection &d) { return d.box == QRectF(1.08, 187.69, 611.59, 285.84); });
        QVERIFY(known != items.first().detections.cend());
        QCOMPARE(known->label, QStringLiteral("bowl"));
        QCOMPARE(known->confidence, 1.0f); // ground truth has no score

        // Through our writer and back: the same boxes under the same names.
        QTemporaryDir dir;
        const QString copy = dir.filePath(QStringLiteral("copy.json"));
        QVERIFY2(exportCoco(items, names, copy, &error), qPrintable(error));
        compareItems(readCoco(copy, &error), items, 1e-9, true);
    }

    void coco_corruptFile_reportsErrorWithoutItems()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("bad.json"));
        QVERIFY(test::writeFile(file, "{\"images\": [ {\"id\": 1, \"file_name\": \"a.jpg\"} ], \"annotations\": [ {\"image_id\": 7, \"category_id\": 1, \"bbox\": [1,2,3,4]} ], \"categories\": [ {\"id\": 1, \"name\": \"x\"} ] }"));
        QString error;
        QVERIFY(readCoco(file, &error).isEmpty());
        QVERIFY2(error.contains(QStringLiteral("unknown image_id 7")), qPrintable(error));

        QVERIFY(test::writeFile(file, "{\"images\": ["));
        QVERIFY(readCoco(file, &error).isEmpty());
        QVERIFY2(error.contains(QStringLiteral("invalid JSON")), qPrintable(error));

        QVERIFY(readCoco(dir.filePath(QStringLiteral("missing.json")), &error).isEmpty());
        QVERIFY2(error.contains(QStringLiteral("Cannot open")), qPrintable(error));
    }

    void yolo_roundTripKeepsBoxesWithinRounding()
    {
        QTemporaryDir dir;
        const QList<ExportItem> items = sampleItems(dir.path());
        const QString labels = dir.filePath(QStringLiteral("labels"));
        QString error;
        QVERIFY2(exportYolo(items, modelClasses(), labels, &error, true), qPrintable(error));
        QVERIFY(QFile::exists(labels + QStringLiteral("/empty.txt")));
        QCOMPARE(QFileInfo(labels + QStringLiteral("/empty.txt")).size(), 0);
        QVERIFY(QFile::exists(labels + QStringLiteral("/ünïcode café.txt")));

        QStringList names;
        const QList<ExportItem> back = readYolo(labels, items, &error, &names);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        // 6 decimals of a fraction of at most 640 px: well under 0.01 px.
        compareItems(back, items, 0.01, true);
        QCOMPARE(names.at(10), QStringLiteral("Straßen schild 🚦"));
        QCOMPARE(names.at(11), QStringLiteral("日本の 猫"));
        QCOMPARE(back.at(1).detections.at(1).classId, 11);
    }

    void yolo_defaultLinesHaveFiveNormalisedColumns()
    {
        QTemporaryDir dir;
        const QList<ExportItem> items = sampleItems(dir.path());
        QString error;
        QVERIFY2(exportYolo(items, modelClasses(), dir.path(), &error), qPrintable(error));
        const QByteArray written = test::readFile(dir.filePath(QStringLiteral("street.txt")));
        QVERIFY(!written.isEmpty());
        const QStringList lines = QString::fromUtf8(written).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 3);
        const QStringList fields = lines.at(0).split(QLatin1Char(' '));
        QCOMPARE(fields.size(), 5);
        QCOMPARE(fields.at(0), QStringLiteral("0"));
        QVERIFY(std::abs(fields.at(1).toDouble() - (10.25 + 50.0) / 640.0) < 1e-6);
        // Without the confidence column the reader reports full confidence.
        const QList<ExportItem> back = readYolo(dir.path(), items, &error);
        QCOMPARE(back.at(0).detections.at(0).confidence, 1.0f);
    }

    void yolo_boxOutsideImage_isClipped()
    {
        QTemporaryDir dir;
        ExportItem item;
        item.imagePath = dir.filePath(QStringLiteral("x.jpg"));
        item.width = 100;
        item.height = 100;
        item.detections = {Detection{0, QStringLiteral("a"), 0.9f, QRectF(-10, 80, 40, 40)},
                           Detection{0, QStringLiteral("a"), 0.9f, QRectF(200, 200, 10, 10)}};
        QString error;
        QVERIFY2(exportYolo({item}, {}, dir.path(), &error), qPrintable(error));
        const QList<ExportItem> back = readYolo(dir.path(), {item}, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(back.at(0).detections.size(), 1);
        const QRectF box = back.at(0).detections.at(0).box;
        QVERIFY(std::abs(box.x()) < 1e-3 && std::abs(box.y() - 80) < 1e-3);
        QVERIFY(std::abs(box.width() - 30) < 1e-3 && std::abs(box.height() - 20) < 1e-3);
    }

    void yolo_unknownImageSize_isRefused()
    {
        QTemporaryDir dir;
        ExportItem item;
        item.imagePath = dir.filePath(QStringLiteral("x.jpg"));
        QString error;
        QVERIFY(!exportYolo({item}, {}, dir.filePath(QStringLiteral("labels")), &error));
        QVERIFY2(error.contains(QStringLiteral("image size unknown")), qPrintable(error));
        QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("labels/classes.txt"))));
    }

    void yolo_badClassIndex_reportsFileAndLine()
    {
        QTemporaryDir dir;
        QList<ExportItem> items = sampleItems(dir.path());
        QString error;
        QVERIFY(exportYolo(items, {}, dir.path(), &error));
        QFile f(dir.filePath(QStringLiteral("street.txt")));
        QVERIFY(f.open(QIODevice::Append));
        f.write("\n42 0.5 0.5 0.1 0.1\n");
        f.close();
        QVERIFY(readYolo(dir.path(), items, &error).isEmpty());
        QVERIFY2(error.contains(QStringLiteral("street.txt:5")) && error.contains(QStringLiteral("42")), qPrintable(error));
    }

    void sameFileNameInTwoFolders_getsDistinctLabelFiles()
    {
        QTemporaryDir dir;
        ExportItem a;
        a.imagePath = dir.filePath(QStringLiteral("day/img.jpg"));
        a.width = a.height = 10;
        a.detections = {Detection{0, QStringLiteral("a"), 0.5f, QRectF(1, 1, 2, 2)}};
        ExportItem b = a;
        b.imagePath = dir.filePath(QStringLiteral("night/img.jpg"));
        b.detections = {Detection{0, QStringLiteral("a"), 0.5f, QRectF(5, 5, 3, 3)}};
        QString error;
        const QString yolo = dir.filePath(QStringLiteral("yolo"));
        QVERIFY(exportYolo({a, b}, {}, yolo, &error));
        QVERIFY(QFile::exists(yolo + QStringLiteral("/img.txt")));
        QVERIFY(QFile::exists(yolo + QStringLiteral("/img_2.txt")));
        compareItems(readYolo(yolo, {a, b}, &error), {a, b}, 0.01, false);

        const QString voc = dir.filePath(QStringLiteral("voc"));
        QVERIFY(exportVoc({a, b}, voc, &error));
        compareItems(readVoc(voc, &error), {a, b}, 0.5, false);
    }

    void voc_roundTripKeepsBoxesWithinRounding()
    {
        QTemporaryDir dir;
        const QList<ExportItem> items = sampleItems(dir.path());
        const QString voc = dir.filePath(QStringLiteral("voc"));
        QString error;
        QVERIFY2(exportVoc(items, voc, &error), qPrintable(error));
        QList<ExportItem> back = readVoc(voc, &error, modelClasses());
        QVERIFY2(error.isEmpty(), qPrintable(error));
        // readVoc returns files sorted by name; put them back in export order.
        std::sort(back.begin(), back.end(), [&items](const ExportItem &x, const ExportItem &y) {
            const auto rank = [&items](const ExportItem &e) {
                for (int i = 0; i < items.size(); ++i)
                    if (items.at(i).imagePath == e.imagePath)
                        return i;
                return -1;
            };
            return rank(x) < rank(y);
        });
        // Whole pixels: each edge moves by at most 0.5, so width/height by at most 1.
        compareItems(back, items, 1.0, true);
        QCOMPARE(back.at(0).detections.at(1).classId, 9);
        QCOMPARE(back.at(1).detections.at(0).classId, -1);
        QVERIFY(back.at(2).detections.isEmpty());
    }

    void voc_nonVocXml_reportsError()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("other.xml"));
        QVERIFY(test::writeFile(file, "<?xml version=\"1.0\"?><svg/>"));
        QString error;
        QVERIFY(readVoc(dir.path(), &error).isEmpty());
        QVERIFY2(error.contains(QStringLiteral("not a Pascal VOC annotation")), qPrintable(error));

        QVERIFY(test::writeFile(file, "<annotation><object><name>a</name><bndbox><xmin>x</xmin></bndbox></object></annotation>"));
        QVERIFY(readVoc(dir.path(), &error).isEmpty());
        QVERIFY2(error.contains(QStringLiteral("not a number")), qPrintable(error));
    }

    void outputPathIsAFile_reportsError()
    {
        QTemporaryDir dir;
        const QString blocker = dir.filePath(QStringLiteral("blocker"));
        QVERIFY(test::writeFile(blocker, {}));
        const QList<ExportItem> items = sampleItems(dir.path());
        QString error;
        QVERIFY(!exportVoc(items, blocker, &error));
        QVERIFY2(error.contains(QStringLiteral("not a folder")), qPrintable(error));
        QVERIFY(!exportYolo(items, {}, blocker, &error));
        QVERIFY(!exportCoco(items, {}, blocker + QStringLiteral("/x.json"), &error));
        QVERIFY(!error.isEmpty());
    }

    void coco_videoFrames_keepOriginAndTrackIds()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        // Three sampled frames of one video: a person standing still, a car driving off and a
        // corrected box that a person gave id 7 earlier.
        QList<ExportItem> items;
        for (int i = 0; i < 3; ++i) {
            ExportItem frame;
            frame.imagePath = dir.filePath(QStringLiteral("out/frames/clip_f%1.jpg").arg(30 * i, 6, 10, QLatin1Char('0')));
            QVERIFY(test::writeFile(frame.imagePath, QByteArray("frame")));
            frame.width = 1280;
            frame.height = 720;
            frame.origin.kind = ImageOrigin::Kind::VideoFrame;
            frame.origin.source = dir.filePath(QStringLiteral("clip.mp4"));
            frame.origin.sourceBytes = 123456;
            frame.origin.frameSize = QSize(1280, 720);
            frame.origin.frameIndex = 30 * i;
            frame.origin.timestampMs = 1000.0 * i;
            frame.origin.samplingRule = QStringLiteral("every 1 s");
            frame.detections = {Detection{0, QStringLiteral("person"), 0.9f, QRectF(100, 100, 50, 120)},
                                Detection{2, QStringLiteral("car"), 0.8f, QRectF(400 + 10 * i, 300, 200, 100)}};
            items.append(frame);
        }
        items[2].detections[1].trackId = 7; // kept as the person set it
        ExportItem photo = sampleItems(dir.path()).first();
        items.append(photo);

        const QString file = dir.filePath(QStringLiteral("out/coco.json"));
        QString error;
        QVERIFY2(exportCoco(items, modelClasses(), file, &error), qPrintable(error));
        const QList<ExportItem> back = readCoco(file, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(back.size(), 4);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(back.at(i).origin, items.at(i).origin);
            QCOMPARE(back.at(i).detections.size(), 2);
        }
        QVERIFY(back.at(3).origin.isPhoto());
        QCOMPARE(back.at(3).detections.first().trackId, 0); // photos get no track ids
        // The person keeps one id across the frames; the car is one object whose corrected box
        // a person gave id 7: the id names the car on the frames before that one too.
        const int person = back.at(0).detections.at(0).trackId;
        const int car = back.at(0).detections.at(1).trackId;
        QVERIFY(person > 0 && car > 0 && person != car);
        QCOMPARE(back.at(1).detections.at(0).trackId, person);
        QCOMPARE(back.at(2).detections.at(0).trackId, person);
        QCOMPARE(car, 7);
        QCOMPARE(back.at(1).detections.at(1).trackId, 7);
        QCOMPARE(back.at(2).detections.at(1).trackId, 7);
        QVERIFY(person > 7); // new ids never meet one a person gave
        // The file itself carries what COCO tools and scripts read.
        QFile json(file);
        QVERIFY(json.open(QIODevice::ReadOnly));
        const QJsonObject root = QJsonDocument::fromJson(json.readAll()).object();
        const QJsonObject image = root.value(QStringLiteral("images")).toArray().at(1).toObject();
        QCOMPARE(image.value(QStringLiteral("frame_index")).toInt(), 30);
        QCOMPARE(image.value(QStringLiteral("timestamp_ms")).toDouble(), 1000.0);
        QCOMPARE(image.value(QStringLiteral("video")).toObject().value(QStringLiteral("path")).toString(),
                 items.at(0).origin.source);
        QVERIFY(root.value(QStringLiteral("annotations")).toArray().at(0).toObject().contains(QStringLiteral("track_id")));
    }

    void mot_stillObjectKeepsOneIdAcrossFrames()
    {
        QTemporaryDir dir;
        QList<ExportItem> items;
        // Given out of order: the sequence follows the frame indices.
        for (const int i : {2, 0, 3, 1}) {
            ExportItem frame;
            frame.imagePath = dir.filePath(QStringLiteral("frames/clip_f%1.jpg").arg(10 * i, 6, 10, QLatin1Char('0')));
            frame.width = 640;
            frame.height = 360;
            frame.origin.kind = ImageOrigin::Kind::VideoFrame;
            frame.origin.source = QStringLiteral("/videos/clip.mp4");
            frame.origin.frameIndex = 10 * i;
            frame.origin.timestampMs = 10 * i * 1000.0 / 30.0;
            // Two people side by side that do not move, and a dog that appears in frame 20 only.
            frame.detections = {Detection{0, QStringLiteral("person"), 0.9f, QRectF(10, 10, 50, 100)},
                                Detection{0, QStringLiteral("person"), 0.8f, QRectF(200, 12, 48, 98)}};
            if (i == 2)
                frame.detections.append(Detection{16, QStringLiteral("dog"), 0.7f, QRectF(300, 200, 60, 40)});
            items.append(frame);
        }
        QString error;
        QCOMPARE(exportMot(items, {}, dir.filePath(QStringLiteral("mot")), &error), 1);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        const QList<MotRow> rows = readMot(dir.filePath(QStringLiteral("mot/clip/gt/gt.txt")), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(rows.size(), 9);
        QHash<int, QSet<qint64>> framesOfId;
        QHash<int, QRectF> boxOfId;
        for (const MotRow &row : rows) {
            framesOfId[row.id].insert(row.frame);
            if (boxOfId.contains(row.id))
                QVERIFY(TrackAssigner::iou(boxOfId.value(row.id), row.box) > 0.9); // one id, one place
            boxOfId.insert(row.id, row.box);
        }
        QCOMPARE(framesOfId.size(), 3); // two people and the dog
        int fullTracks = 0;
        for (auto it = framesOfId.cbegin(); it != framesOfId.cend(); ++it)
            fullTracks += it.value() == QSet<qint64>{1, 11, 21, 31} ? 1 : 0;
        QCOMPARE(fullTracks, 2);
        QCOMPARE(rows.first().frame, qint64(1)); // MOT counts frames from 1
        QVERIFY(QFileInfo::exists(dir.filePath(QStringLiteral("mot/clip/seqinfo.ini"))));
    }

    void yoloAndVoc_writeTheFrameFilesTheyReference()
    {
        QTemporaryDir dir;
        ExportItem frame;
        frame.imagePath = dir.filePath(QStringLiteral("out/frames/clip_f000030.jpg"));
        QVERIFY(test::writeFile(frame.imagePath, QByteArray("jpeg bytes")));
        frame.width = 64;
        frame.height = 48;
        frame.origin.kind = ImageOrigin::Kind::VideoFrame;
        frame.origin.source = dir.filePath(QStringLiteral("clip.mp4"));
        frame.origin.frameIndex = 30;
        frame.detections = {Detection{0, QStringLiteral("person"), 0.9f, QRectF(1, 2, 10, 20)}};
        QString error;
        QVERIFY2(exportYolo({frame}, {QStringLiteral("person")}, dir.filePath(QStringLiteral("yolo")), &error),
                 qPrintable(error));
        QCOMPARE(test::readFile(dir.filePath(QStringLiteral("yolo/clip_f000030.jpg"))), QByteArray("jpeg bytes"));
        QVERIFY(QFileInfo::exists(dir.filePath(QStringLiteral("yolo/clip_f000030.txt"))));
        QVERIFY2(exportVoc({frame}, dir.filePath(QStringLiteral("voc")), &error), qPrintable(error));
        QCOMPARE(test::readFile(dir.filePath(QStringLiteral("voc/clip_f000030.jpg"))), QByteArray("jpeg bytes"));
        const QList<ExportItem> back = readVoc(dir.filePath(QStringLiteral("voc")), &error);
        QCOMPARE(back.size(), 1);
        QCOMPARE(QFileInfo(back.first().imagePath).absoluteFilePath(),
                 QFileInfo(dir.filePath(QStringLiteral("voc/clip_f000030.jpg"))).absoluteFilePath());
        // A photo stays where it is: only frames, which live in an output folder, are copied.
        ExportItem photo = frame;
        photo.origin = ImageOrigin::photo();
        photo.imagePath = dir.filePath(QStringLiteral("photos/p.jpg"));
        QVERIFY2(exportYolo({photo}, {QStringLiteral("person")}, dir.filePath(QStringLiteral("yolo2")), &error),
                 qPrintable(error));
        QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("yolo2/p.jpg"))));
    }
};

QTEST_GUILESS_MAIN(TestExport)
#include "tst_export.moc"
