#include "results/resultwriter.h"

#include "testdata.h"
#include "testimages.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

using namespace edgelens;

namespace {

QString sha(const QString &path)
{
    return test::sha256Hex(test::readFile(path));
}

// Hidden files count: a stray ".part" or temporary file is a leftover too.
QStringList filesUnder(const QString &root)
{
    return test::filesUnder(root, {}, QDir::Files | QDir::Hidden | QDir::System);
}

ClientResult v2Result()
{
    ClientResult r;
    r.hasDetectionData = true;
    r.result.imageWidth = 640;
    r.result.imageHeight = 480;
    r.result.model = QStringLiteral("nanodet-m-320");
    Detection d;
    d.classId = 0;
    d.label = QStringLiteral("person");
    d.confidence = 0.875f;
    d.box = QRectF(10.5, 20, 100, 200);
    r.result.detections = {d};
    r.result.timings.inferenceMs = 28.5;
    r.roundTripMs = 41.25;
    r.jpeg = test::solidImageBytes(64, 48, Qt::red);
    return r;
}

} // namespace

class TestResultWriter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void write_keepsFolderStructure_andJpegIsReadable();
    void json_followsTheDocumentedSchema();
    void legacyResult_jsonHasNoDetectionList();
    void inputs_areNeverModified();
    void outputOntoAnInput_isRefused();
    void sameStemInOneFolder_getsDistinctNames();
    void unwritableOutput_failsWithThePath_andLeavesNothing();
    void rewrite_replacesAtomically_noTempFilesLeft();
    void outputFolder_getsAMarker_thatScanningRecognises();
    void outputFolderHoldingTheInputs_getsNoMarker();
    void existingFolderOfTheUsers_getsNoMarker();

private:
    void makeInputs();
    QTemporaryDir m_dir;
    QList<ScannedImage> m_images;
};

void TestResultWriter::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    makeInputs();
}

void TestResultWriter::makeInputs()
{
    const QStringList names = {QStringLiteral("in/a.jpg"), QStringLiteral("in/a.png"), QStringLiteral("in/sub/b.jpeg")};
    for (const QString &name : names) {
        const QString path = m_dir.filePath(name);
        QDir().mkpath(QFileInfo(path).absolutePath());
        QVERIFY(test::solidImage(32, 24, Qt::blue).save(path));
        m_images.append({path, QDir(m_dir.filePath(QStringLiteral("in"))).relativeFilePath(path)});
    }
}

void TestResultWriter::write_keepsFolderStructure_andJpegIsReadable()
{
    const QString out = m_dir.filePath(QStringLiteral("out1"));
    ResultWriter writer(out);
    writer.planOutputs(m_images);
    QString error;
    QVERIFY2(writer.write(m_images.at(2), v2Result(), &error), qPrintable(error));
    QCOMPARE(filesUnder(out), QStringList({ImageScanner::outputMarkerName(), QStringLiteral("sub/b.jpg")}));
    QImage written(out + QStringLiteral("/sub/b.jpg"));
    QCOMPARE(written.size(), QSize(64, 48));
    QCOMPARE(writer.imageOutputPath(m_images.at(2)), out + QStringLiteral("/sub/b.jpg"));
}

void TestResultWriter::json_followsTheDocumentedSchema()
{
    const QString out = m_dir.filePath(QStringLiteral("out2"));
    ResultWriter writer(out);
    writer.setWriteJson(true);
    QString error;
    QVERIFY2(writer.write(m_images.at(0), v2Result(), &error), qPrintable(error));
    QCOMPARE(filesUnder(out), QStringList({ImageScanner::outputMarkerName(), QStringLiteral("a.jpg"), QStringLiteral("a.json")}));
    const QJsonObject json = QJsonDocument::fromJson(test::readFile(out + QStringLiteral("/a.json"))).object();
    QCOMPARE(json.value(QStringLiteral("image")).toString(), m_images.at(0).absolutePath);
    QCOMPARE(json.value(QStringLiteral("relative_path")).toString(), QStringLiteral("a.jpg"));
    QCOMPARE(json.value(QStringLiteral("width")).toInt(), 640);
    QCOMPARE(json.value(QStringLiteral("height")).toInt(), 480);
    QCOMPARE(json.value(QStringLiteral("model")).toString(), QStringLiteral("nanodet-m-320"));
    QCOMPARE(json.value(QStringLiteral("has_detection_data")).toBool(), true);
    QCOMPARE(json.value(QStringLiteral("result_image")).toString(), QStringLiteral("a.jpg"));
    const QJsonArray detections = json.value(QStringLiteral("detections")).toArray();
    QCOMPARE(detections.size(), 1);
    const QJsonObject d = detections.first().toObject();
    QCOMPARE(d.value(QStringLiteral("label")).toString(), QStringLiteral("person"));
    QCOMPARE(d.value(QStringLiteral("class_id")).toInt(), 0);
    QCOMPARE(d.value(QStringLiteral("confidence")).toDouble(), 0.875);
    QCOMPARE(d.value(QStringLiteral("box")).toArray(), QJsonArray({10.5, 20, 100, 200}));
    QCOMPARE(json.value(QStringLiteral("timings")).toObject().value(QStringLiteral("inference_ms")).toDouble(), 28.5);
}

void TestResultWriter::legacyResult_jsonHasNoDetectionList()
{
    const QString out = m_dir.filePath(QStringLiteral("out3"));
    ResultWriter writer(out);
    writer.setWriteJson(true);
    ClientResult legacy = v2Result();
    legacy.hasDetectionData = false;
    legacy.legacy = true;
    legacy.result.detections.clear();
    legacy.result.model.clear();
    QString error;
    QVERIFY2(writer.write(m_images.at(0), legacy, &error), qPrintable(error));
    const QJsonObject json = QJsonDocument::fromJson(test::readFile(out + QStringLiteral("/a.json"))).object();
    QCOMPARE(json.value(QStringLiteral("has_detection_data")).toBool(true), false);
    QCOMPARE(json.value(QStringLiteral("protocol")).toString(), QStringLiteral("legacy"));
    QVERIFY(!json.contains(QStringLiteral("detections")));
    QCOMPARE(json.value(QStringLiteral("width")).toInt(), 640);
}

void TestResultWriter::inputs_areNeverModified()
{
    QStringList before;
    for (const ScannedImage &image : std::as_const(m_images))
        before.append(sha(image.absolutePath));
    const QStringList inputFiles = filesUnder(m_dir.filePath(QStringLiteral("in")));

    ResultWriter writer(m_dir.filePath(QStringLiteral("out4")));
    writer.setWriteJson(true);
    writer.planOutputs(m_images);
    for (const ScannedImage &image : std::as_const(m_images)) {
        QString error;
        QVERIFY2(writer.write(image, v2Result(), &error), qPrintable(error));
    }
    for (int i = 0; i < m_images.size(); ++i)
        QCOMPARE(sha(m_images.at(i).absolutePath), before.at(i));
    QCOMPARE(filesUnder(m_dir.filePath(QStringLiteral("in"))), inputFiles);
}

void TestResultWriter::outputOntoAnInput_isRefused()
{
    // Output folder = input folder: "a.jpg" would be written over the input "a.jpg".
    const QString before = sha(m_images.at(0).absolutePath);
    ResultWriter writer(m_dir.filePath(QStringLiteral("in")));
    QString error;
    QVERIFY(!writer.write(m_images.at(0), v2Result(), &error));
    QVERIFY2(error.contains(QStringLiteral("input")), qPrintable(error));
    QCOMPARE(sha(m_images.at(0).absolutePath), before);

    // With the whole set planned, a.png's output "a.png.jpg" is fine, but nothing may land on a.jpg.
    writer.planOutputs(m_images);
    QVERIFY(!writer.write(m_images.at(0), v2Result(), &error));
    QCOMPARE(sha(m_images.at(0).absolutePath), before);
}

void TestResultWriter::sameStemInOneFolder_getsDistinctNames()
{
    ResultWriter writer(m_dir.filePath(QStringLiteral("out5")));
    writer.planOutputs(m_images);
    QCOMPARE(writer.outputStem(m_images.at(0)), QStringLiteral("a"));
    QCOMPARE(writer.outputStem(m_images.at(1)), QStringLiteral("a.png"));
    QCOMPARE(writer.outputStem(m_images.at(2)), QStringLiteral("sub/b"));
    QVERIFY(writer.imageOutputPath(m_images.at(0)) != writer.imageOutputPath(m_images.at(1)));

    // Same relative path under two different roots.
    const QList<ScannedImage> twoRoots = {{QStringLiteral("/x/one/p.jpg"), QStringLiteral("p.jpg")},
                                          {QStringLiteral("/x/two/p.jpg"), QStringLiteral("p.jpg")},
                                          {QStringLiteral("/x/three/p.jpg"), QStringLiteral("p.jpg")}};
    writer.planOutputs(twoRoots);
    QCOMPARE(writer.outputStem(twoRoots.at(0)), QStringLiteral("p"));
    QCOMPARE(writer.outputStem(twoRoots.at(1)), QStringLiteral("p.jpg"));
    QCOMPARE(writer.outputStem(twoRoots.at(2)), QStringLiteral("p.jpg-2"));
}

void TestResultWriter::unwritableOutput_failsWithThePath_andLeavesNothing()
{
    // A file where the output folder should be.
    const QString blocker = m_dir.filePath(QStringLiteral("blocker"));
    QFile file(blocker);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.close();
    ResultWriter writer(blocker);
    QString error;
    QVERIFY(!writer.write(m_images.at(2), v2Result(), &error));
    QVERIFY2(error.contains(blocker), qPrintable(error));
    QVERIFY(QFileInfo(blocker).isFile());
    QCOMPARE(QFileInfo(blocker).size(), 0);
}

void TestResultWriter::rewrite_replacesAtomically_noTempFilesLeft()
{
    const QString out = m_dir.filePath(QStringLiteral("out6"));
    ResultWriter writer(out);
    writer.setWriteJson(true);
    QString error;
    ClientResult first = v2Result();
    QVERIFY(writer.write(m_images.at(0), first, &error));
    ClientResult second = v2Result();
    second.result.detections.clear();
    QVERIFY(writer.write(m_images.at(0), second, &error));
    QCOMPARE(filesUnder(out), QStringList({ImageScanner::outputMarkerName(), QStringLiteral("a.jpg"), QStringLiteral("a.json")}));
    const QJsonObject json = QJsonDocument::fromJson(test::readFile(out + QStringLiteral("/a.json"))).object();
    QCOMPARE(json.value(QStringLiteral("detections")).toArray().size(), 0);
}

void TestResultWriter::outputFolder_getsAMarker_thatScanningRecognises()
{
    const QString out = m_dir.filePath(QStringLiteral("in/out7"));
    ResultWriter writer(out);
    writer.planOutputs({m_images.at(0), m_images.at(2)});
    QVERIFY(!ImageScanner::isOutputFolder(out));
    QString error;
    QVERIFY2(writer.write(m_images.at(2), v2Result(), &error), qPrintable(error));
    QVERIFY(ImageScanner::isOutputFolder(out));
    const QString markerPath = QDir(out).filePath(ImageScanner::outputMarkerName());
    const QJsonObject marker = QJsonDocument::fromJson(test::readFile(markerPath)).object();
    QCOMPARE(marker.value(QStringLiteral("tool")).toString(), QStringLiteral("EdgeLens"));
    QVERIFY(!marker.value(QStringLiteral("version")).toString().isEmpty());
    QVERIFY(QDateTime::fromString(marker.value(QStringLiteral("created")).toString(), Qt::ISODate).isValid());
    const QByteArray before = test::readFile(markerPath);
    QVERIFY(writer.write(m_images.at(0), v2Result(), &error));
    QCOMPARE(test::readFile(markerPath), before); // written once, not on every result

    // Scanning the input folder again leaves the results out.
    const ScanResult scan = ImageScanner().scan({m_dir.filePath(QStringLiteral("in"))});
    QCOMPARE(scan.images.size(), m_images.size());
    QCOMPARE(scan.skippedOutputFolders, 1);
    QCOMPARE(scan.skippedOutputImages, 2);
    QVERIFY(QDir(out).removeRecursively());
}

void TestResultWriter::outputFolderHoldingTheInputs_getsNoMarker()
{
    // `--output inferenced` where the photos themselves are: a marker would hide them from
    // the next scan, although the folder has the default name.
    const QString out = m_dir.filePath(QStringLiteral("holder/inferenced"));
    const QString photo = out + QStringLiteral("/trip/p.png");
    QVERIFY(QDir().mkpath(QFileInfo(photo).absolutePath()));
    QVERIFY(test::solidImage(32, 24, Qt::green).save(photo));
    const ScannedImage input{photo, QStringLiteral("trip/p.png")};
    ResultWriter writer(out);
    writer.planOutputs({input, m_images.at(0)});
    QString error;
    QVERIFY2(writer.write(m_images.at(0), v2Result(), &error), qPrintable(error)); // an image from elsewhere
    QVERIFY(!ImageScanner::isOutputFolder(out));

    // Unplanned (the app writes one result at a time): the image's own folder is enough.
    ResultWriter single(out);
    QVERIFY2(single.write(input, v2Result(), &error), qPrintable(error));
    QVERIFY(!ImageScanner::isOutputFolder(out));
    QCOMPARE(ImageScanner().scan({m_dir.filePath(QStringLiteral("holder"))}).images.size(), 3); // p.png and two results
    QVERIFY(QDir(m_dir.filePath(QStringLiteral("holder"))).removeRecursively());
}

void TestResultWriter::existingFolderOfTheUsers_getsNoMarker()
{
    // Results sent into a folder that already held something else: it stays a normal folder.
    const QString pictures = m_dir.filePath(QStringLiteral("pictures"));
    QVERIFY(test::writeFile(pictures + QStringLiteral("/holiday/old.jpg"), "x"));
    ResultWriter writer(pictures);
    QString error;
    QVERIFY2(writer.write(m_images.at(0), v2Result(), &error), qPrintable(error));
    QVERIFY(!ImageScanner::isOutputFolder(pictures));
    const ScanResult scan = ImageScanner().scan({m_dir.path()});
    QVERIFY(std::any_of(scan.images.cbegin(), scan.images.cend(), [&](const ScannedImage &image) {
        return image.absolutePath == pictures + QStringLiteral("/holiday/old.jpg");
    }));

    // The default name is ours even when an earlier version left results in it.
    const QString inferenced = m_dir.filePath(QStringLiteral("other/inferenced"));
    QVERIFY(test::writeFile(inferenced + QStringLiteral("/earlier.jpg"), "x"));
    ResultWriter defaultName(inferenced);
    QVERIFY2(defaultName.write(m_images.at(0), v2Result(), &error), qPrintable(error));
    QVERIFY(ImageScanner::isOutputFolder(inferenced));
    QVERIFY(QDir(pictures).removeRecursively());
    QVERIFY(QDir(m_dir.filePath(QStringLiteral("other"))).removeRecursively());
}

QTEST_GUILESS_MAIN(TestResultWriter)
#include "tst_resultwriter.moc"
