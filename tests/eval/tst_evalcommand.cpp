// `edgelens-cli eval` as a user runs it: arguments in, exit code and report out.

#include "../../app/cli/evalcommand.h"

#include "eval/cocojsonreader.h"
#include "evalrun/modelevaluation.h"
#include "eval/predictionreader.h"
#include "models/modelcatalog.h"

#include "testdata.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QtTest>

using namespace edgelens;

class TestEvalCommand : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void predictionsEqualToGroundTruth_scoreOne();
    void missingSidecars_lowerTheScoreAndWarn();
    void noSidecarsAtAll_isAnError();
    void legacySidecars_areSkippedWithAWarning();
    void onlyLegacySidecars_isAnErrorSayingWhy();
    void percentile_isNearestRank();
    void badArguments_areUsageErrors_data();
    void badArguments_areUsageErrors();
    void unknownModel_saysWhereItLooked();
    void realModel_onAFewImages_reportsEverything();
    void recordAccuracy_writesTheManifestTheCatalogReads();
    void sidecarsOfARealCliRun_scoreLikeTheInProcessRun();

private:
    QJsonObject readReport(const QString &path);
    // `edgelens-cli eval --predictions DIR` on coco128, with --json --output REPORT when given.
    int scorePredictions(const QString &predictionsDir, const QString &report = QString());
    // The JSON report of a successful scorePredictions(); empty when eval failed.
    QJsonObject scoredReport(const QString &predictionsDir);
    enum class SidecarKind { GroundTruth, Legacy };
    void writeSidecars(const QString &dir, int every, int offset = 0, SidecarKind kind = SidecarKind::GroundTruth);

    QTemporaryDir m_dir;
    QString m_images;
    QString m_annotations;
    std::optional<GroundTruthSet> m_groundTruth;
};

void TestEvalCommand::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    EDGELENS_REQUIRE_SHARED(QStringLiteral("data/coco128-train/annotations/instances_train2017.json"));
    const QString root = test::sharedPath(QStringLiteral("data/coco128-train"));
    m_images = root + QStringLiteral("/images");
    m_annotations = root + QStringLiteral("/annotations/instances_train2017.json");
    QString error;
    m_groundTruth = CocoJsonReader::read(m_annotations, &error);
    QVERIFY2(m_groundTruth, qPrintable(error));
}

QJsonObject TestEvalCommand::readReport(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

int TestEvalCommand::scorePredictions(const QString &predictionsDir, const QString &report)
{
    QStringList arguments{QStringLiteral("--images"), m_images, QStringLiteral("--annotations"), m_annotations,
                          QStringLiteral("--predictions"), predictionsDir};
    if (!report.isEmpty())
        arguments << QStringLiteral("--json") << QStringLiteral("--output") << report;
    return runEvalCommand(arguments);
}

QJsonObject TestEvalCommand::scoredReport(const QString &predictionsDir)
{
    const QString report = predictionsDir + QStringLiteral(".report.json");
    return scorePredictions(predictionsDir, report) == 0 ? readReport(report) : QJsonObject();
}

// Sidecars exactly as the CLI writes them for images offset, offset + every, ...: from a v2
// server holding the ground truth itself, or from a legacy server (the size, no detections).
void TestEvalCommand::writeSidecars(const QString &dir, int every, int offset, SidecarKind kind)
{
    QDir().mkpath(dir);
    for (qsizetype i = offset; i < m_groundTruth->images.size(); i += every) {
        const GroundTruthImage &image = m_groundTruth->images.at(i);
        DetectionResult result;
        result.imageWidth = image.width;
        result.imageHeight = image.height;
        result.model = QStringLiteral("ground-truth");
        for (const GroundTruthBox &g : image.boxes) {
            if (g.crowd)
                continue;
            Detection d;
            d.classId = g.classId;
            d.label = m_groundTruth->classNames.at(g.classId);
            d.confidence = 0.9f;
            d.box = g.box;
            result.detections.append(d);
        }
        QJsonObject sidecar = toJson(result);
        sidecar.insert(QStringLiteral("image"), QString(m_images + QLatin1Char('/') + image.fileName));
        if (kind == SidecarKind::Legacy) {
            for (const char *key : {"detections", "timings", "model"})
                sidecar.remove(QLatin1String(key));
            sidecar.insert(QStringLiteral("has_detection_data"), false);
            sidecar.insert(QStringLiteral("protocol"), QStringLiteral("legacy"));
        }
        QFile file(PredictionReader::sidecarPath(dir, image.fileName));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QJsonDocument(sidecar).toJson());
    }
}

void TestEvalCommand::predictionsEqualToGroundTruth_scoreOne()
{
    const QString predictions = m_dir.filePath(QStringLiteral("perfect"));
    writeSidecars(predictions, 1);
    const QJsonObject json = scoredReport(predictions);
    QVERIFY(!json.isEmpty());
    QCOMPARE(json.value(QStringLiteral("map")).toDouble(), 1.0);
    QCOMPARE(json.value(QStringLiteral("ap50")).toDouble(), 1.0);
    QCOMPARE(json.value(QStringLiteral("ap75")).toDouble(), 1.0);
    QCOMPARE(json.value(QStringLiteral("images")).toInt(), 128);
    QCOMPARE(json.value(QStringLiteral("model")).toString(), QStringLiteral("ground-truth"));
    QCOMPARE(json.value(QStringLiteral("per_class")).toArray().size(), json.value(QStringLiteral("classes_scored")).toInt());
    QVERIFY(json.value(QStringLiteral("warnings")).toArray().isEmpty());
}

void TestEvalCommand::missingSidecars_lowerTheScoreAndWarn()
{
    const QString predictions = m_dir.filePath(QStringLiteral("half"));
    writeSidecars(predictions, 2);
    const QJsonObject json = scoredReport(predictions);
    QVERIFY(!json.isEmpty());
    const double map = json.value(QStringLiteral("map")).toDouble();
    QVERIFY2(map > 0.2 && map < 0.9, qPrintable(QString::number(map)));
    const QJsonArray warnings = json.value(QStringLiteral("warnings")).toArray();
    QCOMPARE(warnings.size(), 1);
    QVERIFY2(warnings.first().toString().startsWith(QStringLiteral("64 of 128 images have no sidecar")),
             qPrintable(warnings.first().toString()));
}

void TestEvalCommand::legacySidecars_areSkippedWithAWarning()
{
    // Every other image has a perfect v2 sidecar, the rest legacy ones: skipped, the legacy
    // images do not count as misses, so the score stays perfect.
    const QString predictions = m_dir.filePath(QStringLiteral("mixed"));
    writeSidecars(predictions, 2);
    writeSidecars(predictions, 2, 1, SidecarKind::Legacy);
    const QJsonObject json = scoredReport(predictions);
    QVERIFY(!json.isEmpty());
    QCOMPARE(json.value(QStringLiteral("images")).toInt(), 64);
    QCOMPARE(json.value(QStringLiteral("map")).toDouble(), 1.0);
    const QJsonArray warnings = json.value(QStringLiteral("warnings")).toArray();
    QCOMPARE(warnings.size(), 1);
    QVERIFY2(warnings.first().toString().startsWith(
                 QStringLiteral("64 of 128 images have a sidecar from a legacy server without detection data")),
             qPrintable(warnings.first().toString()));
}

void TestEvalCommand::onlyLegacySidecars_isAnErrorSayingWhy()
{
    const QString predictions = m_dir.filePath(QStringLiteral("legacy"));
    writeSidecars(predictions, 1, 0, SidecarKind::Legacy);
    QString error;
    const std::optional<EvalDataset> dataset = EvalDataset::load(m_images, m_annotations, 80, &error);
    QVERIFY2(dataset, qPrintable(error));
    QVERIFY(!ModelEvaluation::runPredictions(predictions, *dataset, 100, &error));
    QVERIFY2(error.contains(QStringLiteral("legacy server")), qPrintable(error));
    QVERIFY2(!error.contains(QStringLiteral("expected an array")), qPrintable(error));
    QCOMPARE(scorePredictions(predictions), 1);
}

void TestEvalCommand::noSidecarsAtAll_isAnError()
{
    const QString empty = m_dir.filePath(QStringLiteral("empty"));
    QDir().mkpath(empty);
    QCOMPARE(scorePredictions(empty), 1);
}

void TestEvalCommand::percentile_isNearestRank()
{
    const QList<double> values = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
    QCOMPARE(ModelEvaluation::percentile(values, 50), 5.0);
    QCOMPARE(ModelEvaluation::percentile(values, 95), 10.0);
    QCOMPARE(ModelEvaluation::percentile(values, 0), 1.0);
    QCOMPARE(ModelEvaluation::percentile({}, 50), 0.0);
    QCOMPARE(ModelEvaluation::percentile({42}, 95), 42.0);
}

void TestEvalCommand::badArguments_areUsageErrors_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::newRow("nothing") << QStringList{};
    QTest::newRow("no annotations") << QStringList{QStringLiteral("--images"), QStringLiteral("x")};
    QTest::newRow("conf above 1") << QStringList{QStringLiteral("--images"), QStringLiteral("x"),
                                                 QStringLiteral("--annotations"), QStringLiteral("y"),
                                                 QStringLiteral("--conf"), QStringLiteral("5")};
    QTest::newRow("max-det text") << QStringList{QStringLiteral("--images"), QStringLiteral("x"),
                                                 QStringLiteral("--annotations"), QStringLiteral("y"),
                                                 QStringLiteral("--max-det"), QStringLiteral("lots")};
    QTest::newRow("unknown option") << QStringList{QStringLiteral("--frobnicate")};
    QTest::newRow("stray argument") << QStringList{QStringLiteral("--images"), QStringLiteral("x"),
                                                   QStringLiteral("--annotations"), QStringLiteral("y"),
                                                   QStringLiteral("extra")};
    QTest::newRow("report over the annotations")
        << QStringList{QStringLiteral("--images"), QStringLiteral("/nonexistent-images"), QStringLiteral("--annotations"),
                       QFINDTESTDATA("tst_evalcommand.cpp"), QStringLiteral("--output"), QFINDTESTDATA("tst_evalcommand.cpp")};
    QTest::newRow("report into the images")
        << QStringList{QStringLiteral("--images"), QDir::tempPath(), QStringLiteral("--annotations"), QStringLiteral("y"),
                       QStringLiteral("--output"), QDir::tempPath() + QStringLiteral("/report.json")};
    QTest::newRow("predictions with model") << QStringList{QStringLiteral("--images"), QStringLiteral("x"),
                                                           QStringLiteral("--annotations"), QStringLiteral("y"),
                                                           QStringLiteral("--predictions"), QStringLiteral("z"),
                                                           QStringLiteral("--model"), QStringLiteral("m")};
}

void TestEvalCommand::badArguments_areUsageErrors()
{
    QFETCH(QStringList, arguments);
    QCOMPARE(runEvalCommand(arguments), 2);
}

void TestEvalCommand::unknownModel_saysWhereItLooked()
{
    QCOMPARE(runEvalCommand({QStringLiteral("--model"), QStringLiteral("no-such-model"), QStringLiteral("--images"),
                             m_images, QStringLiteral("--annotations"), m_annotations}),
             1);
    // Missing annotations is a clear failure too, not a crash.
    QCOMPARE(runEvalCommand({QStringLiteral("--images"), m_images, QStringLiteral("--annotations"),
                             m_dir.filePath(QStringLiteral("nothing.json")), QStringLiteral("--predictions"),
                             m_dir.path()}),
             1);
}

void TestEvalCommand::realModel_onAFewImages_reportsEverything()
{
    // Missing model files are a skip (a failure under CI=true); a model that is there and fails is a failure.
    EDGELENS_REQUIRE_SHARED(QStringLiteral("models/fastestdet-352"));
    // Eight images of coco128 in a folder of their own: the other 120 are reported missing.
    const QString images = m_dir.filePath(QStringLiteral("few"));
    QDir().mkpath(images);
    for (int i = 0; i < 8; ++i) {
        const QString name = m_groundTruth->images.at(i).fileName;
        QVERIFY(QFile::copy(m_images + QLatin1Char('/') + name, images + QLatin1Char('/') + name));
    }
    const QString report = m_dir.filePath(QStringLiteral("few.json"));
    const int code = runEvalCommand({QStringLiteral("--model"), QStringLiteral("fastestdet-352"),
                                     QStringLiteral("--images"), images, QStringLiteral("--annotations"),
                                     m_annotations, QStringLiteral("--max-det"), QStringLiteral("5"),
                                     QStringLiteral("--json"), QStringLiteral("--output"), report});
    QCOMPARE(code, 0);
    const QJsonObject json = readReport(report);
    QCOMPARE(json.value(QStringLiteral("images")).toInt(), 8);
    QCOMPARE(json.value(QStringLiteral("model")).toString(), QStringLiteral("fastestdet-352"));
    const double perImage = json.value(QStringLiteral("detections_per_image")).toDouble();
    QVERIFY2(perImage > 0 && perImage <= 5, qPrintable(QString::number(perImage)));
    QVERIFY(json.value(QStringLiteral("median_ms")).toDouble() > 0);
    QVERIFY(json.value(QStringLiteral("p95_ms")).toDouble() >= json.value(QStringLiteral("median_ms")).toDouble());
    const double map = json.value(QStringLiteral("map")).toDouble();
    QVERIFY2(map > 0 && map < 1, qPrintable(QString::number(map)));
    QVERIFY2(json.value(QStringLiteral("warnings")).toArray().first().toString().startsWith(QStringLiteral("120 of 128")),
             qPrintable(QJsonDocument(json.value(QStringLiteral("warnings")).toArray()).toJson()));
}

void TestEvalCommand::recordAccuracy_writesTheManifestTheCatalogReads()
{
    EDGELENS_REQUIRE_SHARED(QStringLiteral("models/fastestdet-352"));
    const QString images = m_dir.filePath(QStringLiteral("few-record/images"));
    QDir().mkpath(images);
    for (int i = 0; i < 4; ++i) {
        const QString name = m_groundTruth->images.at(i).fileName;
        QVERIFY(QFile::copy(m_images + QLatin1Char('/') + name, images + QLatin1Char('/') + name));
    }
    // a figure measured away from COCO practice is not recorded
    QCOMPARE(runEvalCommand({QStringLiteral("--model"), QStringLiteral("fastestdet-352"), QStringLiteral("--images"), images,
                             QStringLiteral("--annotations"), m_annotations, QStringLiteral("--conf"), QStringLiteral("0.5"),
                             QStringLiteral("--record-accuracy")}),
             2);
    const QString recorded = QDir(ModelCatalog::userModelDir()).filePath(QStringLiteral("fastestdet-352.json"));
    QFile::remove(recorded);
    const QString report = m_dir.filePath(QStringLiteral("few-record.json"));
    QCOMPARE(runEvalCommand({QStringLiteral("--model"), QStringLiteral("fastestdet-352"), QStringLiteral("--images"), images,
                             QStringLiteral("--annotations"), m_annotations, QStringLiteral("--record-accuracy"),
                             QStringLiteral("--json"), QStringLiteral("--output"), report}),
             0);
    const double map = readReport(report).value(QStringLiteral("map")).toDouble();
    QVERIFY(map > 0);
    // a built-in model gets a copy in the user's folder, which the catalog prefers
    QVERIFY2(QFileInfo::exists(recorded), qPrintable(recorded));
    const std::optional<ModelManifest> found = ModelCatalog().find(QStringLiteral("fastestdet-352"));
    QVERIFY(found);
    QCOMPARE(found->manifestPath, recorded);
    QCOMPARE(found->accuracy.dataset, QStringLiteral("few-record"));
    QVERIFY2(qAbs(found->accuracy.map - map) < 0.0001, qPrintable(QString::number(found->accuracy.map)));
    QCOMPARE(found->files.first().sha256, QStringLiteral("31cb14c017fce347cb4c846ec62fdf00d76bb3beecdf4be21e7116ac67feb880"));
    QVERIFY(QFile::remove(recorded));
}

void TestEvalCommand::sidecarsOfARealCliRun_scoreLikeTheInProcessRun()
{
    EDGELENS_REQUIRE_SHARED(QStringLiteral("models/fastestdet-352"));
    const QString cli = test::executablePath(QStringLiteral("edgelens-cli"));
    QVERIFY2(QFileInfo(cli).isExecutable(), qPrintable(cli + QStringLiteral(" is not built")));
    const QString images = m_dir.filePath(QStringLiteral("cli-images"));
    QDir().mkpath(images + QStringLiteral("/sub"));
    for (int i = 0; i < 12; ++i) {
        const QString name = m_groundTruth->images.at(i).fileName;
        // Half in a subfolder: the sidecars must mirror the relative paths.
        const QString target = images + (i % 2 ? QStringLiteral("/sub/") : QStringLiteral("/")) + name;
        QVERIFY(QFile::copy(m_images + QLatin1Char('/') + name, target));
    }
    const QString predictions = m_dir.filePath(QStringLiteral("cli-out"));
    QProcess process;
    process.start(cli, {QStringLiteral("--quiet"), QStringLiteral("--model"), QStringLiteral("fastestdet-352"),
                        QStringLiteral("--conf"), QStringLiteral("0.001"), QStringLiteral("--json"),
                        QStringLiteral("--output"), predictions, images});
    QVERIFY(process.waitForFinished(120000));
    QVERIFY2(process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0,
             process.readAllStandardError().constData());

    const QString fromSidecars = m_dir.filePath(QStringLiteral("cli-sidecars.json"));
    QCOMPARE(runEvalCommand({QStringLiteral("--images"), images, QStringLiteral("--annotations"), m_annotations,
                             QStringLiteral("--predictions"), predictions, QStringLiteral("--json"),
                             QStringLiteral("--output"), fromSidecars}),
             0);
    const QString inProcess = m_dir.filePath(QStringLiteral("cli-inprocess.json"));
    QCOMPARE(runEvalCommand({QStringLiteral("--model"), QStringLiteral("fastestdet-352"), QStringLiteral("--images"),
                             images, QStringLiteral("--annotations"), m_annotations, QStringLiteral("--json"),
                             QStringLiteral("--output"), inProcess}),
             0);
    const QJsonObject a = readReport(fromSidecars);
    const QJsonObject b = readReport(inProcess);
    QCOMPARE(a.value(QStringLiteral("images")).toInt(), 12);
    QCOMPARE(a.value(QStringLiteral("model")).toString(), QStringLiteral("fastestdet-352"));
    // Only the sidecars' rounding (3 decimals) separates the two.
    const double mapA = a.value(QStringLiteral("map")).toDouble();
    const double mapB = b.value(QStringLiteral("map")).toDouble();
    QVERIFY2(mapB > 0.05, qPrintable(QString::number(mapB)));
    QVERIFY2(qAbs(mapA - mapB) < 0.005, qPrintable(QStringLiteral("sidecars %1, in-process %2").arg(mapA).arg(mapB)));
    for (const QJsonValue &w : a.value(QStringLiteral("warnings")).toArray())
        QVERIFY2(!w.toString().contains(QStringLiteral("no sidecar")), qPrintable(w.toString()));
}

QTEST_GUILESS_MAIN(TestEvalCommand)
#include "tst_evalcommand.moc"
