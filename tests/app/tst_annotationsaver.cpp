// What a correction in the detail window leaves on disk (AnnotationSaver::save, the function its
// worker thread runs): the sidecar with the boxes in the original's pixels, and the marked-up
// JPEG redrawn at the size results are drawn at (Settings: fit within 2048), upright, showing
// the corrected boxes and not the removed ones. With JSON sidecars off a person's work still
// gets its sidecar, and a later run keeps it.

#include "isolateduserstate.h"
#include "testimages.h"
#include "threadpoolhold.h"

#include "annotationsaver.h"
#include "mainwindow.h"
#include "mainwindowparts.h"
#include "widgets/appsettings.h"
#include "gallerymodel.h"
#include "results/annotation.h"
#include "results/resultwriter.h"
#include "imaging/imagetransfer.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <ctime>
#include <vector>

using namespace edgelens;

namespace {

// A 12 MP phone photo: 4032x3024 as shown, stored portrait with EXIF orientation 6 (turn
// clockwise to display), a gradient with sensor-like noise so it decodes like a photo.
const QSize kShown(4032, 3024);

QByteArray phonePhoto()
{
    cv::Mat shown(kShown.height(), kShown.width(), CV_8UC3);
    for (int y = 0; y < shown.rows; ++y) {
        const uchar v = uchar(60 + 60 * y / shown.rows);
        shown.row(y).setTo(cv::Scalar(v, uchar(v + 10), uchar(v + 20)));
    }
    cv::Mat noise(shown.size(), CV_8UC3);
    cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(6));
    shown += noise;
    cv::Mat stored;
    cv::rotate(shown, stored, cv::ROTATE_90_COUNTERCLOCKWISE);
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", stored, jpeg, {cv::IMWRITE_JPEG_QUALITY, 90});
    return test::withExifOrientation(QByteArray(reinterpret_cast<const char *>(jpeg.data()), qsizetype(jpeg.size())), 6);
}

QJsonObject readJson(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(file.readAll()).object() : QJsonObject();
}

QByteArray readBytes(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

QList<Detection> detectionsOf(const QJsonValue &value)
{
    QList<Detection> out;
    for (const QJsonValue &v : value.toArray())
        out.append(detectionFromJson(v.toObject()));
    return out;
}

double processCpuMs()
{
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

// How much the result differs from the unmarked image at a point (largest channel difference
// over a 3x3 patch): the markup is there when it is large.
int markupAt(const cv::Mat &result, const cv::Mat &plain, const QPointF &point)
{
    const cv::Rect patch(std::clamp(int(point.x()) - 1, 0, result.cols - 3), std::clamp(int(point.y()) - 1, 0, result.rows - 3), 3, 3);
    cv::Mat diff;
    cv::absdiff(result(patch), plain(patch), diff);
    double largest = 0;
    cv::minMaxLoc(diff.reshape(1), nullptr, &largest);
    return int(largest);
}

} // namespace

class TestAnnotationSaver : public QObject
{
    Q_OBJECT

private:
    test::IsolatedUserState m_user; // the window saves its state in QSettings
    QTemporaryDir m_dir;
    QString m_original;

    // The model found a person and a dog; the person moved, the dog was deleted, a
    // hand-drawn "goalpost" was added: in the original's pixels, as the gallery holds them.
    AnnotationSaver::Job correctedJob(const QString &outName) const
    {
        AnnotationSaver::Job job;
        job.originalPath = m_original;
        job.resultPath = QDir(m_dir.filePath(outName)).filePath(QStringLiteral("photo.jpg"));
        job.sidecarPath = AnnotationSaver::sidecarPathFor(job.resultPath);
        job.model.imageWidth = kShown.width();
        job.model.imageHeight = kShown.height();
        job.model.model = QStringLiteral("nanodet-m-320");
        job.model.detections = {Detection{0, QStringLiteral("person"), 0.9f, QRectF(400, 600, 800, 1600)},
                                Detection{16, QStringLiteral("dog"), 0.8f, QRectF(2600, 1800, 900, 700)}};
        job.annotation = Annotation::fromModel(job.model, 0.5);
        job.annotation.boxes[0].box = QRectF(480, 640, 800, 1600);
        job.annotation.boxes.removeAt(1);
        job.annotation.boxes.append(Detection{-1, QStringLiteral("goalpost"), 1.0f, QRectF(2000, 300, 1200, 500)});
        job.annotation.markEdited();
        job.resultMaxSide = 2048;
        return job;
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_original = m_dir.filePath(QStringLiteral("in/photo.jpg"));
        QVERIFY(QDir().mkpath(QFileInfo(m_original).absolutePath()));
        QFile file(m_original);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QVERIFY(file.write(phonePhoto()) > 0);
    }

    void correctedPhoto_resultAtTheResultSizeUpright_boxesInOriginalPixels()
    {
        AnnotationSaver::Job job = correctedJob(QStringLiteral("out"));
        job.jsonSidecars = false; // a person's work is saved all the same (see below)
        const QByteArray before = readBytes(m_original);
        const QString error = AnnotationSaver::save(job);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(readBytes(m_original), before); // the original is never touched

        // The result has the size results are drawn at, the processing path's (2016x1512).
        const cv::Mat result = cv::imread(job.resultPath.toStdString(), cv::IMREAD_COLOR);
        QVERIFY(!result.empty());
        const QSize expected = ImageTransfer::resultSize(kShown, 2048, true);
        QCOMPARE(expected, QSize(2016, 1512));
        QCOMPARE(QSize(result.cols, result.rows), expected);

        // It is the upright original with the corrected boxes drawn where they are, scaled;
        // the deleted dog is not drawn.
        const cv::Mat plain = cv::imread(m_original.toStdString(), cv::IMREAD_REDUCED_COLOR_2);
        QCOMPARE(QSize(plain.cols, plain.rows), expected);
        const double scale = double(expected.width()) / kShown.width();
        const QList<Detection> accepted = job.annotation.accepted();
        QCOMPARE(accepted.size(), 2);
        for (const Detection &d : accepted) {
            const QRectF box(d.box.topLeft() * scale, d.box.size() * scale);
            const QPointF leftEdge(box.left(), box.center().y());
            const QPointF rightEdge(box.right(), box.center().y());
            QVERIFY2(markupAt(result, plain, leftEdge) > 50 && markupAt(result, plain, rightEdge) > 50,
                     qPrintable(QStringLiteral("%1: no stroke at its edges").arg(d.label)));
            QVERIFY2(markupAt(result, plain, box.center()) < 40, qPrintable(d.label));
        }
        const QRectF dog(QPointF(2600, 1800) * scale, QSizeF(900, 700) * scale);
        QVERIFY(markupAt(result, plain, QPointF(dog.right(), dog.center().y())) < 40);

        // The sidecar holds the corrections in the original's pixels, and the model's own list.
        const QJsonObject sidecar = readJson(job.sidecarPath);
        QVERIFY2(!sidecar.isEmpty(), "corrections with JSON sidecars off must still be saved");
        QVERIFY(sidecar.value(QStringLiteral("edited")).toBool());
        QCOMPARE(sidecar.value(QStringLiteral("width")).toInt(), kShown.width());
        QCOMPARE(sidecar.value(QStringLiteral("height")).toInt(), kShown.height());
        const QList<Detection> saved = detectionsOf(sidecar.value(QStringLiteral("detections")));
        QCOMPARE(saved.size(), accepted.size());
        for (int i = 0; i < saved.size(); ++i) {
            QCOMPARE(saved.at(i).label, accepted.at(i).label);
            QVERIFY2(std::abs(saved.at(i).box.x() - accepted.at(i).box.x()) < 0.01
                         && std::abs(saved.at(i).box.width() - accepted.at(i).box.width()) < 0.01
                         && std::abs(saved.at(i).box.y() - accepted.at(i).box.y()) < 0.01
                         && std::abs(saved.at(i).box.height() - accepted.at(i).box.height()) < 0.01,
                     qPrintable(saved.at(i).label));
        }
        QCOMPARE(detectionsOf(sidecar.value(QStringLiteral("model_detections"))).size(), 2);

        // What a save costs, against a full decode of the same photo, as CPU time in this run
        // (figures for docs/APP.md; nothing is asserted about speed).
        const int rounds = 3;
        double start = processCpuMs();
        for (int i = 0; i < rounds; ++i)
            QCOMPARE(AnnotationSaver::save(job), QString());
        const double saveMs = (processCpuMs() - start) / rounds;
        start = processCpuMs();
        for (int i = 0; i < rounds; ++i)
            QVERIFY(!cv::imread(m_original.toStdString(), cv::IMREAD_COLOR).empty());
        const double decodeMs = (processCpuMs() - start) / rounds;
        qInfo("saving a correction of a %dx%d photo: %.0f ms CPU per save; one full decode of it: %.0f ms CPU "
              "(save / full decode %.2f)",
              kShown.width(), kShown.height(), saveMs, decodeMs, saveMs / decodeMs);
    }

    void originalSizeSetting_resultAtOriginalSize()
    {
        AnnotationSaver::Job job = correctedJob(QStringLiteral("full"));
        job.resultMaxSide = 0;
        const QString error = AnnotationSaver::save(job);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        const cv::Mat result = cv::imread(job.resultPath.toStdString(), cv::IMREAD_COLOR);
        QCOMPARE(QSize(result.cols, result.rows), kShown);
    }

    // The path an edit in the detail window takes: the gallery's annotation changes, the saver
    // saves on its worker thread with the output settings it was given last.
    void editInTheGallery_savedWithTheCurrentSettings()
    {
        const AnnotationSaver::Job job = correctedJob(QStringLiteral("gallery"));
        GalleryModel model;
        AnnotationSaver saver(&model);
        saver.setOutput({/*jsonSidecars=*/false, /*resultMaxSide=*/2048, /*jpegQuality=*/90});
        const QList<int> rows = model.addPaths({m_original});
        QCOMPARE(rows.size(), 1);
        QVERIFY(QDir().mkpath(QFileInfo(job.resultPath).absolutePath()));
        QVERIFY(QFile::copy(m_original, job.resultPath)); // stands in for the processed result
        model.setResult(rows.first(), job.model, true, job.resultPath, QString()); // JSON off: no sidecar
        QSignalSpy saved(&saver, &AnnotationSaver::saved);
        QSignalSpy failed(&saver, &AnnotationSaver::failed);
        model.setAnnotation(rows.first(), job.model, job.annotation);
        QTRY_VERIFY_WITH_TIMEOUT(saver.isIdle(), 30000);
        QCOMPARE(failed.count(), 0);
        QCOMPARE(saved.count(), 1);
        cv::Mat result = cv::imread(job.resultPath.toStdString(), cv::IMREAD_COLOR);
        QCOMPARE(QSize(result.cols, result.rows), QSize(2016, 1512));
        QVERIFY(readJson(job.sidecarPath).value(QStringLiteral("edited")).toBool());

        // Settings ▸ Result image size changed: the next edit's redraw follows it.
        saver.setOutput({false, 1024, 90});
        Annotation next = job.annotation;
        next.boxes[0].box.translate(10, 0);
        model.setAnnotation(rows.first(), job.model, next);
        QTRY_VERIFY_WITH_TIMEOUT(saver.isIdle() && saved.count() == 2, 30000);
        result = cv::imread(job.resultPath.toStdString(), cv::IMREAD_COLOR);
        QCOMPARE(QSize(result.cols, result.rows), ImageTransfer::resultSize(kShown, 1024, true));
        QCOMPARE(detectionsOf(readJson(job.sidecarPath).value(QStringLiteral("detections"))).first().box.x(), 490.0);
    }

    void jsonOff_modelOutputOnly_noNewSidecar_anExistingOneFollows()
    {
        AnnotationSaver::Job job = correctedJob(QStringLiteral("plain"));
        job.jsonSidecars = false;
        job.annotation = Annotation::fromModel(job.model, 0.5); // nobody changed anything
        QVERIFY(!job.annotation.isPersonal());
        QCOMPARE(AnnotationSaver::save(job), QString());
        QVERIFY(QFileInfo::exists(job.resultPath));
        QVERIFY2(!QFileInfo::exists(job.sidecarPath), "JSON sidecars are off and there is no person's work");

        // Corrections made, then all undone: the sidecar written for them must not keep
        // claiming an edit (a later run would keep stale boxes).
        const AnnotationSaver::Job edited = correctedJob(QStringLiteral("plain"));
        QCOMPARE(AnnotationSaver::save(edited), QString());
        QVERIFY(readJson(job.sidecarPath).value(QStringLiteral("edited")).toBool());
        QCOMPARE(AnnotationSaver::save(job), QString());
        const QJsonObject sidecar = readJson(job.sidecarPath);
        QVERIFY(!sidecar.value(QStringLiteral("edited")).toBool());
        QCOMPARE(detectionsOf(sidecar.value(QStringLiteral("detections"))).size(), 2);
    }

    void jsonOff_correctionsSurviveALaterRun()
    {
        AnnotationSaver::Job job = correctedJob(QStringLiteral("rerun"));
        job.jsonSidecars = false;
        QCOMPARE(AnnotationSaver::save(job), QString());
        const QByteArray corrected = readBytes(job.resultPath);
        const QByteArray sidecarBefore = readBytes(job.sidecarPath);
        QVERIFY(!corrected.isEmpty() && !sidecarBefore.isEmpty());

        // The same image processed again into the same folder, JSON sidecars still off.
        ResultWriter writer(m_dir.filePath(QStringLiteral("rerun")));
        writer.setWriteJson(false);
        ClientResult again;
        again.hasDetectionData = true;
        again.result = job.model;
        again.result.detections = {Detection{0, QStringLiteral("person"), 0.7f, QRectF(0, 0, 100, 100)}};
        again.jpeg = test::solidImageBytes(kShown.width() / 2, kShown.height() / 2, Qt::red);
        QString error;
        bool kept = false;
        QVERIFY2(writer.write(ScannedImage{m_original, QStringLiteral("photo.jpg")}, again, &error, &kept), qPrintable(error));
        QVERIFY(kept);
        QCOMPARE(readBytes(job.resultPath), corrected);
        const QJsonObject sidecar = readJson(job.sidecarPath);
        QCOMPARE(detectionsOf(sidecar.value(QStringLiteral("detections"))).size(), job.annotation.accepted().size());
        QVERIFY(sidecar.value(QStringLiteral("newer_model_output")).isObject());
    }

    // Quitting with a 12 MP redraw still to do: the window does not wait for it on the GUI
    // thread (the thread pool is held, so the redraw cannot even start: a close that waited
    // would never return, or would redraw on this thread), it stays open and answering, and it
    // closes by itself once the correction is saved.
    void quitWithACorrectionBeingSaved_theWindowAnswers_andClosesOnceSaved()
    {
        const AnnotationSaver::Job job = correctedJob(QStringLiteral("quit"));
        AppSettings settings;
        settings.target = AppSettings::Target::Remote;
        settings.host = QStringLiteral("127.0.0.1");
        settings.outputDir = m_dir.filePath(QStringLiteral("quit"));
        MainWindow window(settings);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        GalleryModel *model = window.galleryModel();
        const QList<int> rows = model->addPaths({m_original});
        QCOMPARE(rows.size(), 1);
        QVERIFY(QDir().mkpath(QFileInfo(job.resultPath).absolutePath()));
        QVERIFY(QFile::copy(m_original, job.resultPath)); // stands in for the processed result
        model->setResult(rows.first(), job.model, true, job.resultPath, job.sidecarPath);
        QSignalSpy saved(window.parts().annotations(), &AnnotationSaver::saved);

        auto hold = std::make_unique<test::ThreadPoolHold>();
        model->setAnnotation(rows.first(), job.model, job.annotation); // the saver schedules its redraw
        QVERIFY(!window.parts().annotations()->isIdle());
        window.close();
        QVERIFY(window.isVisible()); // not closed, and not waiting
        QCOMPARE(saved.count(), 0);
        bool ticked = false;
        QTimer::singleShot(0, &window, [&] { ticked = true; });
        QTRY_VERIFY(ticked); // the event loop turns while the save is pending
        QVERIFY(window.isVisible());
        QVERIFY(!QFile::exists(job.sidecarPath));

        hold->release();
        QTRY_VERIFY_WITH_TIMEOUT(!window.isVisible(), 60000);
        QCOMPARE(saved.count(), 1);
        QVERIFY(readJson(job.sidecarPath).value(QStringLiteral("edited")).toBool());
    }
};

QTEST_MAIN(TestAnnotationSaver)
#include "tst_annotationsaver.moc"
