#include "detector/detector.h"
#include "models/modelcatalog.h"

#include "testdata.h"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

using namespace edgelens;

// The shared pretrained models on real photos: what a user of the server would see.
class TestSharedDetectors : public QObject
{
    Q_OBJECT

private:
    QString m_shared;
    cv::Mat m_soccer;

    std::optional<ModelManifest> sharedModel(const QString &name)
    {
        qputenv("EDGELENS_NO_SHARED_MODELS", "0");
        const ModelCatalog catalog;
        auto m = catalog.find(name);
        return m && m->isComplete() ? m : std::nullopt;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        m_shared = test::sharedDir();
        const QString soccer = test::samplePath(QStringLiteral("soccer.jpg"));
        EDGELENS_REQUIRE_SHARED(QStringLiteral("data/samples/soccer.jpg"));
        m_soccer = cv::imread(QFile::encodeName(soccer).toStdString(), cv::IMREAD_COLOR);
        QVERIFY(!m_soccer.empty());
    }

    void sharedModel_findsPersonInSoccer_data()
    {
        QTest::addColumn<QString>("model");
        QTest::newRow("picodet-320") << QStringLiteral("picodet-s-320"); // loads only after OnnxCompat
        QTest::newRow("picodet-416") << QStringLiteral("picodet-s-416");
        QTest::newRow("nanodet") << QStringLiteral("nanodet-m-320");
        QTest::newRow("yolox") << QStringLiteral("yolox-nano-640");
        QTest::newRow("yolo-fastest") << QStringLiteral("yolo-fastest-xl-320");
        QTest::newRow("fastestdet") << QStringLiteral("fastestdet-352");
    }

    void sharedModel_findsPersonInSoccer()
    {
        QFETCH(QString, model);
        const auto manifest = sharedModel(model);
        QVERIFY2(manifest, qPrintable(model + QStringLiteral(" is not in ") + m_shared));
        QString error;
        for (const ModelFile &file : manifest->files) // what runs is the upstream file, untouched
            QVERIFY2(ModelCatalog::verifyFile(file, &error), qPrintable(error));
        auto detector = createDetector(*manifest, &error);
        QVERIFY2(detector, qPrintable(error));
        QCOMPARE(detector->backendDescription(), QStringLiteral("OpenCV/CPU"));
        QVERIFY(!detector->manifest().fallback);

        DetectParams params; // the tutorial's confidence 0.5
        const QList<Detection> found = detector->detect(m_soccer, params);
        QVERIFY2(detector->lastError().isEmpty(), qPrintable(detector->lastError()));
        int people = 0;
        for (const Detection &d : found) {
            QVERIFY(d.confidence >= 0.5f && d.confidence <= 1.0f);
            QVERIFY(d.box.left() >= 0 && d.box.top() >= 0);
            QVERIFY(d.box.right() <= m_soccer.cols && d.box.bottom() <= m_soccer.rows);
            QVERIFY(d.box.width() > 0 && d.box.height() > 0);
            QCOMPARE(d.label, manifest->classNames.at(d.classId));
            if (d.label == QStringLiteral("person"))
                ++people;
        }
        QVERIFY2(people >= 1, qPrintable(model + QStringLiteral(": no person found")));
        for (int i = 1; i < found.size(); ++i)
            QVERIFY(found[i - 1].confidence >= found[i].confidence);
    }

    void sameImage_sameAnswer_andFilterAndLimitApply()
    {
        const auto manifest = sharedModel(QStringLiteral("nanodet-m-320"));
        QVERIFY(manifest);
        QString error;
        auto detector = createDetector(*manifest, &error);
        QVERIFY2(detector, qPrintable(error));
        DetectParams params;
        params.confidence = 0.05f;
        const QList<Detection> first = detector->detect(m_soccer, params);
        QCOMPARE(detector->detect(m_soccer, params), first);
        QVERIFY(first.size() > 3);

        params.maxDetections = 3;
        QCOMPARE(detector->detect(m_soccer, params), first.mid(0, 3));

        // Only people, and at least as many as among all classes (the photo has several; other
        // classes no longer take places of the limit).
        params.maxDetections = 100;
        params.classFilter = {0};
        const QList<Detection> people = detector->detect(m_soccer, params);
        DetectParams everything = params;
        everything.classFilter.clear();
        qsizetype peopleAmongAll = 0;
        for (const Detection &d : detector->detect(m_soccer, everything))
            peopleAmongAll += d.classId == 0 ? 1 : 0;
        QVERIFY(peopleAmongAll > 0);
        QVERIFY2(people.size() >= peopleAmongAll, qPrintable(QStringLiteral("%1 < %2").arg(people.size()).arg(peopleAmongAll)));
        for (const Detection &d : people)
            QCOMPARE(d.classId, 0);
    }

    void boxes_followTheImage_whenItIsPadded()
    {
        // The same picture on a wider canvas: boxes move with it, in original pixels.
        const auto manifest = sharedModel(QStringLiteral("nanodet-m-320"));
        QVERIFY(manifest);
        QString error;
        auto detector = createDetector(*manifest, &error);
        QVERIFY(detector);
        const int shift = m_soccer.cols / 2;
        cv::Mat wide(m_soccer.rows, m_soccer.cols + shift, CV_8UC3, cv::Scalar::all(0));
        m_soccer.copyTo(wide(cv::Rect(shift, 0, m_soccer.cols, m_soccer.rows)));
        DetectParams params;
        const QList<Detection> plain = detector->detect(m_soccer, params);
        const QList<Detection> shifted = detector->detect(wide, params);
        QVERIFY(!plain.isEmpty());
        const QRectF best = plain.first().box;
        bool matched = false;
        for (const Detection &d : shifted) {
            const QRectF moved = d.box.translated(-shift, 0);
            const QRectF inter = moved.intersected(best);
            const double iou = inter.width() * inter.height()
                / (moved.width() * moved.height() + best.width() * best.height() - inter.width() * inter.height());
            if (d.classId == plain.first().classId && iou > 0.6)
                matched = true;
        }
        QVERIFY(matched);
    }

    void unusableImages_giveAnErrorNotACrash()
    {
        const auto manifest = sharedModel(QStringLiteral("nanodet-m-320"));
        QVERIFY(manifest);
        QString error;
        auto detector = createDetector(*manifest, &error);
        QVERIFY(detector);
        QVERIFY(detector->detect(cv::Mat(), DetectParams()).isEmpty());
        QVERIFY(!detector->lastError().isEmpty());
        QVERIFY(detector->detect(cv::Mat(10, 10, CV_32FC3, cv::Scalar::all(0)), DetectParams()).isEmpty());
        QVERIFY(!detector->lastError().isEmpty());
        // tiny, grey and 4-channel images are fine
        QVERIFY(detector->detect(cv::Mat(1, 1, CV_8UC3, cv::Scalar::all(0)), DetectParams()).isEmpty());
        QVERIFY2(detector->lastError().isEmpty(), qPrintable(detector->lastError()));
        cv::Mat grey;
        cv::cvtColor(m_soccer, grey, cv::COLOR_BGR2GRAY);
        detector->detect(grey, DetectParams());
        QVERIFY(detector->lastError().isEmpty());
        cv::Mat bgra;
        cv::cvtColor(m_soccer, bgra, cv::COLOR_BGR2BGRA);
        QVERIFY(!detector->detect(bgra, DetectParams()).isEmpty());
    }

    void wrongFilesForFamily_failToLoadWithAMessage()
    {
        auto manifest = sharedModel(QStringLiteral("nanodet-m-320"));
        QVERIFY(manifest);
        manifest->family = QStringLiteral("yolov8"); // nanodet weights, yolov8 decoder
        QString error;
        QVERIFY(!createDetector(*manifest, &error));
        QVERIFY2(error.contains(QStringLiteral("yolov8")), qPrintable(error));

        ModelManifest missing = *manifest;
        missing.family = QStringLiteral("nanodet");
        missing.files[0].path.clear();
        QVERIFY(!createDetector(missing, &error));
        QVERIFY2(error.contains(QStringLiteral("nanodet-m-320.onnx")), qPrintable(error));
    }

    void unavailableBackend_isExplained()
    {
        const auto manifest = sharedModel(QStringLiteral("nanodet-m-320"));
        QVERIFY(manifest);
        QVERIFY(availableBackends().contains(QStringLiteral("opencv")));
        QString error;
        if (!availableBackends().contains(QStringLiteral("cuda"))) {
            QVERIFY(!createDetector(*manifest, QStringLiteral("cuda"), &error));
            QVERIFY2(error.contains(QStringLiteral("not available")) && error.contains(QStringLiteral("opencv")),
                     qPrintable(error));
        }
        QVERIFY(!createDetector(*manifest, QStringLiteral("tpu"), &error));
        QVERIFY2(error.contains(QStringLiteral("unknown inference backend")), qPrintable(error));
    }

    void cascadeFallback_runsAndSaysSo()
    {
        EDGELENS_REQUIRE(QFileInfo::exists(QStringLiteral("/usr/share/opencv4/haarcascades/haarcascade_fullbody.xml")),
                         QStringLiteral("Debian's opencv-data package is not installed"));
        const ModelCatalog catalog;
        const auto manifest = catalog.find(QStringLiteral("opencv-cascades"));
        QVERIFY(manifest && manifest->isComplete());
        QString error;
        auto detector = createDetector(*manifest, &error);
        QVERIFY2(detector, qPrintable(error));
        QVERIFY(detector->manifest().fallback);
        QVERIFY(detector->backendDescription().contains(QStringLiteral("fallback")));
        DetectParams params;
        params.confidence = 0.0f;
        const QList<Detection> found = detector->detect(m_soccer, params);
        QVERIFY(detector->lastError().isEmpty());
        for (const Detection &d : found) {
            QVERIFY(d.classId == 0 || d.classId == 1);
            QVERIFY(d.box.right() <= m_soccer.cols && d.box.bottom() <= m_soccer.rows);
        }
        QVERIFY(detector->detect(cv::Mat(), params).isEmpty());
        QVERIFY(!detector->lastError().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestSharedDetectors)
#include "tst_shareddetectors.moc"
