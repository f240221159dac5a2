// File > Export Detections writes its files on a worker thread: the window's event loop runs
// while an export is under way, Cancel stops it, and progress is reported. Shown without
// timing: the thread pool is held full while the export is started, so any file that appears
// before it is let go was written by the caller's (the GUI) thread.

#include "exportcontroller.h"
#include "gallerymodel.h"
#include "threadpoolhold.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QWidget>

using namespace edgelens;
using edgelens::test::ThreadPoolHold;

namespace {

QList<int> addDoneImages(GalleryModel &model, const QString &dir, int count)
{
    QStringList paths;
    for (int i = 0; i < count; ++i) {
        QImage image(8, 6, QImage::Format_RGB32);
        image.fill(Qt::darkCyan);
        const QString path = QDir(dir).filePath(QStringLiteral("img%1.png").arg(i));
        if (!image.save(path))
            return {};
        paths << path;
    }
    const QList<int> rows = model.addPaths(paths);
    for (int row : rows) {
        Detection d;
        d.label = QStringLiteral("person");
        d.classId = 0;
        d.confidence = 0.9f;
        d.box = QRectF(1, 1, 2, 2);
        DetectionResult result;
        result.imageWidth = 8;
        result.imageHeight = 6;
        result.detections = {d};
        model.setResult(row, result, true, QString(), QString());
    }
    return rows;
}

} // namespace

class TestExportController final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
    }

    void export_writesOnAWorker_theEventLoopRunsMeanwhile_progressToTheEnd_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("target");
        QTest::addColumn<QString>("firstFile");
        QTest::newRow("coco") << "coco" << "coco/detections.json" << "coco/detections.json";
        QTest::newRow("yolo") << "yolo" << "yolo" << "yolo/img0.txt";
        QTest::newRow("voc") << "voc" << "voc" << "voc/img0.xml";
    }
    void export_writesOnAWorker_theEventLoopRunsMeanwhile_progressToTheEnd()
    {
        QFETCH(QString, format);
        QFETCH(QString, target);
        QFETCH(QString, firstFile);
        const QString images = m_dir.filePath(QStringLiteral("images-") + format);
        QVERIFY(QDir().mkpath(images));
        QVERIFY(QDir().mkpath(m_dir.filePath(QStringLiteral("coco"))));
        QWidget window;
        GalleryModel model;
        const QList<int> rows = addDoneImages(model, images, 20);
        QCOMPARE(rows.size(), 20);
        ExportController exports(&model, &window);
        QSignalSpy progress(&exports, &ExportController::exportProgress);
        QSignalSpy finished(&exports, &ExportController::exportFinished);

        auto hold = std::make_unique<ThreadPoolHold>();
        QString message;
        QVERIFY2(exports.startExport(rows, format, m_dir.filePath(target), &message), qPrintable(message));
        QVERIFY(exports.isExporting());
        // Back in the event loop with the export under way: nothing written by this thread.
        bool ticked = false;
        QTimer::singleShot(0, this, [&] { ticked = true; });
        QTRY_VERIFY(ticked);
        QVERIFY(!QFile::exists(m_dir.filePath(firstFile)));
        QCOMPARE(finished.size(), 0);
        QString busy;
        QVERIFY(!exports.startExport(rows, format, m_dir.filePath(target), &busy)); // one at a time
        hold->release();

        QVERIFY(finished.wait(30000) || finished.size() == 1);
        QCOMPARE(finished.first().at(0).toBool(), true);
        QCOMPARE(finished.first().at(1).toBool(), false);
        QVERIFY2(finished.first().at(2).toString().contains(QStringLiteral("Exported 20 image(s)")),
                 qPrintable(finished.first().at(2).toString()));
        QVERIFY(QFile::exists(m_dir.filePath(firstFile)));
        QVERIFY(!exports.isExporting());
        QVERIFY(!progress.isEmpty());
        QCOMPARE(progress.last().at(0).toInt(), 20);
        QCOMPARE(progress.last().at(1).toInt(), 20);
    }

    void cancel_stopsTheExport_beforeItWritesAnything()
    {
        const QString images = m_dir.filePath(QStringLiteral("images-cancel"));
        QVERIFY(QDir().mkpath(images));
        QWidget window;
        GalleryModel model;
        const QList<int> rows = addDoneImages(model, images, 20);
        ExportController exports(&model, &window);
        QSignalSpy finished(&exports, &ExportController::exportFinished);
        const QString target = m_dir.filePath(QStringLiteral("cancelled-yolo"));
        {
            ThreadPoolHold hold;
            QString message;
            QVERIFY2(exports.startExport(rows, QStringLiteral("yolo"), target, &message), qPrintable(message));
            exports.cancelExport();
        }
        QVERIFY(finished.wait(30000) || finished.size() == 1);
        QCOMPARE(finished.first().at(0).toBool(), false);
        QCOMPARE(finished.first().at(1).toBool(), true);
        QVERIFY2(finished.first().at(2).toString().contains(QStringLiteral("cancelled")),
                 qPrintable(finished.first().at(2).toString()));
        QVERIFY(!QFile::exists(QDir(target).filePath(QStringLiteral("img0.txt"))));
        QVERIFY(!QFile::exists(QDir(target).filePath(QStringLiteral("classes.txt"))));
    }

    void mot_ofPhotosOnly_saysItNeedsFramesOfAVideo()
    {
        const QString images = m_dir.filePath(QStringLiteral("images-mot"));
        QVERIFY(QDir().mkpath(images));
        QWidget window;
        GalleryModel model;
        const QList<int> rows = addDoneImages(model, images, 2);
        ExportController exports(&model, &window);
        QString message;
        const QString target = m_dir.filePath(QStringLiteral("mot"));
        QVERIFY(!exports.exportDetectionsTo(rows, QStringLiteral("mot"), target, &message));
        QVERIFY2(message.contains(QStringLiteral("none of the images is a frame of a video")), qPrintable(message));
        QVERIFY(QDir(target).isEmpty());
    }

    void nothingToExport_isSaidAtOnce()
    {
        QWidget window;
        GalleryModel model;
        ExportController exports(&model, &window);
        QString message;
        QVERIFY(!exports.startExport({}, QStringLiteral("coco"), m_dir.filePath(QStringLiteral("none.json")), &message));
        QVERIFY2(message.contains(QStringLiteral("no processed images")), qPrintable(message));
        QVERIFY(!exports.isExporting());
    }
};

QTEST_MAIN(TestExportController)
#include "tst_exportcontroller.moc"
