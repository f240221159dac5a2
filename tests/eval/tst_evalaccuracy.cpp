// Every shared model on coco128-train must reproduce the figure MODELS.md states for it
// (score threshold 0.001, at most 100 detections per image) within +-0.01: the check that
// preprocessing and decoding are faithful, not just "finds something".

#include "models/modelcatalog.h"
#include "eval/evaldataset.h"
#include "evalrun/modelevaluation.h"

#include <QtTest>

#include "testdata.h"

using namespace edgelens;

class TestEvalAccuracy : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void model_reproducesItsPublishedFigure_data();
    void model_reproducesItsPublishedFigure();

private:
    std::optional<EvalDataset> m_dataset;
    QString m_sharedDir;
};

void TestEvalAccuracy::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    EDGELENS_REQUIRE_SHARED(QStringLiteral("data/coco128-train/annotations/instances_train2017.json"));
    m_sharedDir = test::sharedDir();
    const QString root = test::sharedPath(QStringLiteral("data/coco128-train"));
    QString error;
    m_dataset = EvalDataset::load(root + QStringLiteral("/images"),
                                  root + QStringLiteral("/annotations/instances_train2017.json"), 80, &error);
    QVERIFY2(m_dataset, qPrintable(error));
    QCOMPARE(m_dataset->images.size(), 128);
    QVERIFY2(m_dataset->warnings.isEmpty(), qPrintable(m_dataset->warnings.join(QLatin1Char('\n'))));
    // A misspelt EDGELENS_EVAL_MODELS would skip every model.
    const QString only = qEnvironmentVariable("EDGELENS_EVAL_MODELS");
    for (const QString &name : only.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        QVERIFY2(QStringList({QStringLiteral("picodet-s-320"), QStringLiteral("picodet-s-416"),
                              QStringLiteral("nanodet-m-320"), QStringLiteral("yolox-nano-640"),
                              QStringLiteral("yolo-fastest-xl-320"), QStringLiteral("fastestdet-352")})
                     .contains(name),
                 qPrintable(QStringLiteral("EDGELENS_EVAL_MODELS names an unknown model: ") + name));
    }
}

void TestEvalAccuracy::model_reproducesItsPublishedFigure_data()
{
    QTest::addColumn<QString>("model");
    QTest::addColumn<double>("expectedMap");
    QTest::addColumn<double>("expectedAp50");
    // ../shared/models/MODELS.md, "mAP@[.5:.95] / AP50 on coco128-train".
    QTest::newRow("picodet-s-320") << QStringLiteral("picodet-s-320") << 0.387 << 0.535;
    QTest::newRow("picodet-s-416") << QStringLiteral("picodet-s-416") << 0.416 << 0.580;
    QTest::newRow("nanodet-m-320") << QStringLiteral("nanodet-m-320") << 0.303 << 0.476;
    QTest::newRow("yolox-nano-640") << QStringLiteral("yolox-nano-640") << 0.347 << 0.535;
    QTest::newRow("yolo-fastest-xl-320") << QStringLiteral("yolo-fastest-xl-320") << 0.234 << 0.434;
    QTest::newRow("fastestdet-352") << QStringLiteral("fastestdet-352") << 0.200 << 0.327;
}

void TestEvalAccuracy::model_reproducesItsPublishedFigure()
{
    QFETCH(QString, model);
    QFETCH(double, expectedMap);
    QFETCH(double, expectedAp50);
    // The sanitizer stage (tests/sanitizers/run.sh) checks one model: the figure check runs the
    // same preprocessing, evaluator and scoring for each, OpenCV's inference is not instrumented,
    // and every model's decoder runs under the sanitizers in tst_shareddetectors. Said, not silent.
    const QStringList onlyModels =
        qEnvironmentVariable("EDGELENS_EVAL_MODELS").split(QLatin1Char(','), Qt::SkipEmptyParts);
    if (!onlyModels.isEmpty() && !onlyModels.contains(model))
        QSKIP(qPrintable(QStringLiteral("EDGELENS_EVAL_MODELS=%1 leaves %2 out").arg(onlyModels.join(QLatin1Char(',')), model)));

    ModelCatalog::Options catalogOptions;
    catalogOptions.useUserFolder = false; // only the shared, pinned files
    catalogOptions.useEnvironment = false;
    const ModelCatalog catalog(catalogOptions);
    const std::optional<ModelManifest> manifest = catalog.find(model);
    QVERIFY2(manifest, qPrintable(catalog.describeSearch()));
    QVERIFY2(manifest->isComplete(), qPrintable(manifest->missingFiles().join(QStringLiteral(", "))));

    EvalRunOptions options;
    options.confidence = 0.001f;
    options.maxDetections = 100;
    options.jobs = qEnvironmentVariableIntValue("EDGELENS_EVAL_JOBS") > 0 ? qEnvironmentVariableIntValue("EDGELENS_EVAL_JOBS") : 1;
    QString error;
    const std::optional<EvalRun> run = ModelEvaluation::runDetector(*manifest, *m_dataset, options, &error);
    QVERIFY2(run, qPrintable(error));
    qInfo().noquote() << QStringLiteral("%1: mAP %2 (expected %3), AP50 %4 (expected %5), AP75 %6, %7 det/image, "
                                        "median %8 ms/image, wall %9 s")
                             .arg(model)
                             .arg(run->summary.map, 0, 'f', 4)
                             .arg(expectedMap, 0, 'f', 3)
                             .arg(run->summary.ap50, 0, 'f', 4)
                             .arg(expectedAp50, 0, 'f', 3)
                             .arg(run->summary.ap75, 0, 'f', 4)
                             .arg(run->detectionsPerImage, 0, 'f', 1)
                             .arg(run->medianMs, 0, 'f', 1)
                             .arg(run->wallSeconds, 0, 'f', 1);
    QVERIFY2(run->warnings.isEmpty(), qPrintable(run->warnings.join(QLatin1Char('\n'))));
    QCOMPARE(run->summary.imageCount, 128);
    QVERIFY(run->detectionsPerImage <= 100.0);
    QVERIFY2(qAbs(run->summary.map - expectedMap) <= 0.01,
             qPrintable(QStringLiteral("mAP %1, MODELS.md says %2").arg(run->summary.map).arg(expectedMap)));
    QVERIFY2(qAbs(run->summary.ap50 - expectedAp50) <= 0.01,
             qPrintable(QStringLiteral("AP50 %1, MODELS.md says %2").arg(run->summary.ap50).arg(expectedAp50)));
}

QTEST_GUILESS_MAIN(TestEvalAccuracy)
#include "tst_evalaccuracy.moc"
