// Reviewing and correcting in the app, end to end with the embedded server and a real model:
// what a labeller does in the detail window (mouse and keys on the original's viewport)
// must land in the JSON sidecar and the exports, survive a restart, and survive processing
// the image again.

#include "clientoutcomes.h"
#include "fakedetectionserver.h"
#include "processrunner.h"
#include "testdata.h"
#include "testvideos.h"

#include "annotationsaver.h"
#include "appoptions.h"
#include "detailcontroller.h"
#include "exportcontroller.h"
#include "export/exporters.h"
#include "galleryfilterproxy.h"
#include "gallerymodel.h"
#include "galleryview.h"
#include "mainwindow.h"
#include "mainwindowparts.h"
#include "processingqueue.h"
#include "client/detectionclient.h"
#include "widgets/appsettings.h"
#include "widgets/detailview.h"
#include "widgets/imageview.h"
#include "widgets/labelpicker.h"

#include <QApplication>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QGraphicsPixmapItem>
#include <QJsonArray>
#include <QLabel>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QMap>
#include <QSet>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>
#include <QUndoStack>

using namespace edgelens;

namespace {

using test::samplesDir;

QPoint onViewport(DetailView *view, const QPointF &imagePoint)
{
    ImageView *v = view->originalView();
    return v->mapFromScene(v->imageItem()->mapToScene(imagePoint));
}

void drag(QWidget *viewport, const QPoint &from, const QPoint &to)
{
    QTest::mousePress(viewport, Qt::LeftButton, {}, from);
    for (int i = 1; i <= 4; ++i)
        QTest::mouseMove(viewport, from + (to - from) * i / 4);
    QTest::mouseRelease(viewport, Qt::LeftButton, {}, to);
}

QJsonObject readJson(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

QList<Detection> detectionsOf(const QJsonValue &value)
{
    QList<Detection> out;
    for (const QJsonValue &v : value.toArray())
        out.append(detectionFromJson(v.toObject()));
    return out;
}

bool sameBoxes(const QList<Detection> &a, const QList<Detection> &b, double tolerance)
{
    if (a.size() != b.size())
        return false;
    for (int i = 0; i < a.size(); ++i) {
        const QRectF &x = a.at(i).box;
        const QRectF &y = b.at(i).box;
        if (a.at(i).label != b.at(i).label || std::abs(x.x() - y.x()) > tolerance || std::abs(x.y() - y.y()) > tolerance
            || std::abs(x.width() - y.width()) > tolerance || std::abs(x.height() - y.height()) > tolerance)
            return false;
    }
    return true;
}

// Settings that send to a device counting what it receives (opening results must send nothing).
AppSettings countedDeviceSettings(const test::FakeDetectionServer &device, const QString &outputDir)
{
    AppSettings settings;
    settings.target = AppSettings::Target::Remote;
    settings.host = QStringLiteral("127.0.0.1");
    settings.port = device.serverPort();
    settings.outputDir = outputDir;
    return settings;
}

} // namespace

class TestReview final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_settingsDir;

    static void waitForSaves(MainWindow &window)
    {
        QTRY_VERIFY_WITH_TIMEOUT(window.parts().annotations()->isIdle(), 20000);
    }

    // Opens the detail window on the gallery's first image, active, at 1:1 zoom.
    static DetailView *openDetail(MainWindow &window, int proxyRow = 0)
    {
        window.parts().details()->show(window.galleryProxy()->index(proxyRow, 0));
        DetailView *view = window.parts().details()->view();
        if (!view)
            return nullptr;
        QSignalSpy loaded(view, &DetailView::itemLoaded);
        if (view->isLoading() || !view->originalView()->imageItem())
            loaded.wait(20000);
        QApplication::setActiveWindow(view);
        if (!QTest::qWaitForWindowActive(view))
            return nullptr;
        view->showActualSize();
        return view;
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_settingsDir.path());
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settingsDir.path());
        QCoreApplication::setOrganizationName(QStringLiteral("EdgeLensTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_review"));
        const QString sample = QDir(samplesDir()).filePath(QStringLiteral("example_02.jpg"));
        if (!QFileInfo::exists(sample))
            QFAIL(qPrintable(QStringLiteral("missing sample data: %1").arg(sample)));
    }

    void example02_showsItsAirplaneByDefault_andTheSliderRevealsMoreWithoutARequest()
    {
        QTemporaryDir dir;
        const QString image = dir.filePath(QStringLiteral("in/example_02.jpg"));
        QDir().mkpath(dir.filePath(QStringLiteral("in")));
        QVERIFY(QFile::copy(QDir(samplesDir()).filePath(QStringLiteral("example_02.jpg")), image));

        AppSettings settings; // defaults: embedded server, the model's own confidence
        QCOMPARE(settings.confidence, -1.0);
        settings.outputDir = dir.filePath(QStringLiteral("out"));
        AppOptions options;
        options.noSession = true;
        MainWindow window(settings, options);
        window.show();
        QSignalSpy answers(window.parts().client(), &DetectionClient::resultReady);
        window.addPaths({image});
        QTRY_VERIFY_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Done) == 1, 120000);
        QCOMPARE(answers.count(), 1);

        const GalleryItem it = window.galleryModel()->item(0);
        QVERIFY(it.hasDetectionData);
        // picodet-s-320 (the default) recommends 0.4; the airplane scores about 0.85.
        QCOMPARE(it.annotation.threshold, 0.4);
        QVERIFY2(it.labels.contains(QStringLiteral("airplane")), qPrintable(it.labelSummary));
        // The request asked down to the floor, so more came back than is shown.
        int below = 0;
        double lowest = 1.0;
        for (const Detection &d : it.result.detections) {
            below += d.confidence < 0.4 ? 1 : 0;
            lowest = std::min(lowest, double(d.confidence));
            QVERIFY(d.confidence >= ThresholdPolicy::kRequestFloor - 0.001);
        }
        QVERIFY2(below >= 1, "the model found nothing between 0.1 and 0.4");
        waitForSaves(window);
        const QJsonObject sidecar = readJson(it.sidecarPath);
        QCOMPARE(detectionsOf(sidecar.value(QStringLiteral("detections"))).size(), it.annotation.accepted().size());
        QCOMPARE(detectionsOf(sidecar.value(QStringLiteral("below_threshold"))).size(), below);
        QCOMPARE(sidecar.value(QStringLiteral("confidence_threshold")).toDouble(), 0.4);

        DetailView *view = openDetail(window);
        QVERIFY(view);
        const int shownBefore = view->visibleBoxCount();
        QCOMPARE(shownBefore, int(it.annotation.accepted().size()));
        view->setConfidenceThreshold(std::floor(lowest * 100) / 100); // the slider's steps
        QCOMPARE(view->visibleBoxCount(), int(it.result.detections.size()));
        QVERIFY(view->visibleBoxCount() > shownBefore);
        // Nothing was sent again: the boxes were already here. Sending would have queued the
        // image at once (the queue busy); once nothing is in flight, no answer can still come.
        QVERIFY(!window.parts().queue()->isBusy());
        QTRY_VERIFY_WITH_TIMEOUT(test::nothingInFlight(*window.parts().client()), 20000);
        QCOMPARE(answers.count(), 1);
        QVERIFY(!window.parts().queue()->isBusy());
        // And what the slider revealed is what is saved now.
        QTRY_COMPARE(window.galleryModel()->item(0).annotation.accepted().size(), it.result.detections.size());
        waitForSaves(window);
        QCOMPARE(detectionsOf(readJson(it.sidecarPath).value(QStringLiteral("detections"))).size(),
                 it.result.detections.size());
    }

    void correctionsInTheDetailView_areSavedExported_surviveRestartAndReprocessing()
    {
        QTemporaryDir dir;
        QDir().mkpath(dir.filePath(QStringLiteral("in")));
        for (const QString &name : {QStringLiteral("soccer.jpg"), QStringLiteral("example_05.jpg")})
            QVERIFY(QFile::copy(QDir(samplesDir()).filePath(name), dir.filePath(QStringLiteral("in/") + name)));
        AppSettings settings;
        settings.outputDir = dir.filePath(QStringLiteral("out"));
        AppOptions options;
        options.sessionFile = dir.filePath(QStringLiteral("session.json"));
        QString path;
        QList<Detection> corrected;
        {
            MainWindow window(settings, options);
            window.show();
            QTRY_VERIFY_WITH_TIMEOUT(window.isSessionRestored(), 10000);
            window.addPaths({dir.filePath(QStringLiteral("in"))});
            QTRY_VERIFY_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Done) == 2, 120000);
            waitForSaves(window);
            DetailView *view = openDetail(window);
            QVERIFY(view);
            path = view->originalPath();
            const int row = window.galleryModel()->rowOfPath(path);
            const GalleryItem before = window.galleryModel()->item(row);
            QVERIFY2(before.annotation.accepted().size() >= 2, qPrintable(before.labelSummary));
            QWidget *viewport = view->originalView()->viewport();

            // Move the first accepted box by 12 and 8 pixels, away from the image's edges (a box
            // cannot leave the image).
            int first = -1;
            for (int i = 0; i < before.annotation.boxes.size() && first < 0; ++i) {
                if (Annotation::passes(before.annotation.boxes.at(i), before.annotation.threshold))
                    first = i;
            }
            QTest::keyClick(viewport, Qt::Key_Tab);
            QCOMPARE(view->selectedDetection(), first);
            view->zoomToSelected();
            const QRectF box = before.annotation.boxes.at(first).box;
            // A point inside the box, away from its edges (handles) and from every other shown box
            // (a person riding a horse has a box inside the horse's).
            QPointF grab;
            bool clear = false;
            for (int step = 0; step < 49 && !clear; ++step) {
                grab = box.topLeft() + QPointF(box.width() * (0.2 + 0.1 * (step % 7)), box.height() * (0.2 + 0.1 * (step / 7)));
                clear = true;
                for (int i = 0; i < before.annotation.boxes.size(); ++i) {
                    const Detection &other = before.annotation.boxes.at(i);
                    if (i != first && Annotation::passes(other, before.annotation.threshold)
                        && other.box.adjusted(-4, -4, 4, 4).contains(grab))
                        clear = false;
                }
            }
            QVERIFY2(clear, "no point of the first box is clear of the others");
            const QPointF shift(box.right() + 12 <= before.result.imageWidth ? 12 : -12,
                                box.bottom() + 8 <= before.result.imageHeight ? 8 : -8);
            drag(viewport, onViewport(view, grab), onViewport(view, grab + shift));
            QRectF moved = view->annotation().boxes.at(first).box;
            QVERIFY2(std::abs(moved.x() - (box.x() + shift.x())) < 2 && std::abs(moved.y() - (box.y() + shift.y())) < 2,
                     qPrintable(QStringLiteral("%1,%2 from %3,%4 %5x%6 grabbed at %7,%8").arg(moved.x()).arg(moved.y()).arg(box.x()).arg(box.y()).arg(box.width()).arg(box.height()).arg(grab.x()).arg(grab.y())));
            view->fitToWindow();
            view->showActualSize();

            // Relabel it, delete the next one, draw a new one; undo and redo the drawing.
            QTest::keyClick(viewport, Qt::Key_E);
            QTRY_VERIFY(view->labelPicker());
            QTest::keyClicks(view->labelPicker()->filterEdit(), QStringLiteral("referee"));
            QTest::keyClick(view->labelPicker()->filterEdit(), Qt::Key_Return);
            QCOMPARE(view->annotation().boxes.at(first).label, QStringLiteral("referee"));
            QTest::keyClick(viewport, Qt::Key_Tab);
            const int deleted = view->selectedDetection();
            QVERIFY(deleted >= 0 && deleted != first);
            const int countBefore = int(view->annotation().boxes.size());
            QTest::keyClick(viewport, Qt::Key_Delete);
            QCOMPARE(int(view->annotation().boxes.size()), countBefore - 1);
            QTest::keyClick(viewport, Qt::Key_W);
            drag(viewport, onViewport(view, QPointF(20, 20)), onViewport(view, QPointF(70, 90)));
            QTRY_VERIFY(view->labelPicker());
            QTest::keyClicks(view->labelPicker()->filterEdit(), QStringLiteral("goalpost"));
            QTest::keyClick(view->labelPicker()->filterEdit(), Qt::Key_Return);
            QCOMPARE(view->annotation().boxes.last().label, QStringLiteral("goalpost"));
            QTest::keyClick(viewport, Qt::Key_Z, Qt::ControlModifier);
            QCOMPARE(int(view->annotation().boxes.size()), countBefore - 1);
            QTest::keyClick(viewport, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
            QCOMPARE(view->annotation().boxes.last().label, QStringLiteral("goalpost"));

            // Saved as it happened: the sidecar holds the corrections and the model's own list.
            waitForSaves(window);
            const GalleryItem after = window.galleryModel()->item(row);
            corrected = after.annotation.accepted();
            QVERIFY(after.labels.contains(QStringLiteral("referee")));
            QVERIFY(after.labels.contains(QStringLiteral("goalpost")));
            const QJsonObject sidecar = readJson(after.sidecarPath);
            QVERIFY(sidecar.value(QStringLiteral("edited")).toBool());
            QVERIFY(!sidecar.value(QStringLiteral("edited_by")).toString().isEmpty());
            QVERIFY(sameBoxes(detectionsOf(sidecar.value(QStringLiteral("detections"))), corrected, 0.01));
            QVERIFY(sameBoxes(detectionsOf(sidecar.value(QStringLiteral("model_detections"))), before.result.detections, 0.01));
            QVERIFY(!sidecar.value(QStringLiteral("reviewed")).toBool());

            // Space accepts it and moves on to the other image, not reviewed yet.
            QTest::keyClick(viewport, Qt::Key_Space);
            QTRY_VERIFY(window.parts().details()->view()->originalPath() != path);
            QVERIFY(window.galleryModel()->item(row).annotation.reviewed);
            waitForSaves(window);
            QVERIFY(readJson(after.sidecarPath).value(QStringLiteral("reviewed")).toBool());
            QVERIFY(!readJson(after.sidecarPath).value(QStringLiteral("reviewed_at")).toString().isEmpty());

            // The "not reviewed" filter leaves the other image only.
            window.galleryProxy()->setStatusFilter(GalleryFilterProxy::StatusFilter::NotReviewed);
            QCOMPARE(window.galleryProxy()->rowCount(), 1);
            window.galleryProxy()->setStatusFilter(GalleryFilterProxy::StatusFilter::All);

            // A COCO export reads back with the corrected boxes; "reviewed only" keeps just this one.
            QString message;
            window.parts().exporter()->setReviewedOnly(true);
            const QString coco = dir.filePath(QStringLiteral("export/coco.json"));
            QVERIFY2(window.exportDetectionsTo(QStringLiteral("coco"), coco, &message), qPrintable(message));
            QString error;
            const QList<ExportItem> back = readCoco(coco, &error);
            QVERIFY2(error.isEmpty(), qPrintable(error));
            QCOMPARE(back.size(), 1);
            QCOMPARE(QFileInfo(back.first().imagePath).canonicalFilePath(), path);
            QVERIFY(sameBoxes(back.first().detections, corrected, 0.51)); // COCO keeps a tenth of a pixel

            // Processing it again keeps the corrections; the new answer is stored beside them.
            window.parts().queue()->enqueue({path});
            QTRY_VERIFY_WITH_TIMEOUT(!window.parts().queue()->isBusy(), 120000);
            waitForSaves(window);
            const GalleryItem again = window.galleryModel()->item(row);
            QVERIFY(sameBoxes(again.annotation.accepted(), corrected, 0.01));
            QVERIFY(again.annotation.reviewed);
            QVERIFY(again.annotation.hasNewerOutput);
            const QJsonObject kept = readJson(again.sidecarPath);
            QVERIFY(sameBoxes(detectionsOf(kept.value(QStringLiteral("detections"))), corrected, 0.01));
            QVERIFY(kept.value(QStringLiteral("newer_model_output")).isObject());
            window.close();
        }
        // A restart: the session brings the corrections and the reviewed state back.
        MainWindow window(settings, options);
        QTRY_VERIFY_WITH_TIMEOUT(window.isSessionRestored(), 10000);
        const int row = window.galleryModel()->rowOfPath(path);
        QVERIFY(row >= 0);
        const GalleryItem restored = window.galleryModel()->item(row);
        QVERIFY(restored.annotation.reviewed);
        QVERIFY(sameBoxes(restored.annotation.accepted(), corrected, 0.01));

        // Adopting the newer output is explicit and undoable.
        DetailView *view = openDetail(window, window.galleryProxy()->mapFromSource(window.galleryModel()->index(row)).row());
        QVERIFY(view);
        QVERIFY(view->annotation().hasNewerOutput);
        view->adoptNewerOutput();
        QVERIFY(!view->annotation().hasNewerOutput);
        QVERIFY(!window.galleryModel()->item(row).annotation.edited);
        view->undoStack()->undo();
        QVERIFY(sameBoxes(window.galleryModel()->item(row).annotation.accepted(), corrected, 0.01));
        waitForSaves(window);
    }

    void openResults_ofTheCliOutput_pairsEveryImageAndSendsNothing()
    {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("cli-out"));
        const test::ProcessRun cli = test::runProcess(test::executablePath(QStringLiteral("edgelens-cli")),
                                                      {samplesDir(), QStringLiteral("--embedded"), QStringLiteral("--json"),
                                                       QStringLiteral("--output"), out});
        QVERIFY2(cli.exitCode == 0, qPrintable(cli.err));

        // The app points at a device that counts what it is sent.
        test::FakeDetectionServer device(test::FakeDetectionServer::Mode::V2);
        QVERIFY(device.listenOnLoopback());
        const AppSettings settings = countedDeviceSettings(device, dir.filePath(QStringLiteral("app-out")));
        AppOptions options;
        options.noSession = true;
        MainWindow window(settings, options);
        window.show();
        QSignalSpy opened(&window, &MainWindow::resultsOpened);
        window.openResults(out);
        QVERIFY(opened.wait(30000));
        QCOMPARE(opened.first().at(0).toInt(), 9); // pairs
        QCOMPARE(opened.first().at(1).toInt(), 0); // results only
        const GalleryModel *model = window.galleryModel();
        QCOMPARE(model->rowCount(), 9);
        for (const GalleryItem &it : model->items()) {
            QCOMPARE(it.status, GalleryItem::Status::Done);
            QVERIFY2(it.hasDetectionData, qPrintable(it.path));
            QCOMPARE(model->deviceDisplayName(it.device), QStringLiteral("this computer")); // the CLI's --embedded
            QCOMPARE(QFileInfo(it.path).absolutePath(), QFileInfo(samplesDir()).canonicalFilePath());
            QVERIFY2(QFileInfo(it.resultPath).absolutePath().startsWith(QFileInfo(out).canonicalFilePath()),
                     qPrintable(it.resultPath));
            QVERIFY(!it.annotation.reviewed);
        }
        const int withBoxes = int(std::count_if(model->items().cbegin(), model->items().cend(),
                                                [](const GalleryItem &it) { return !it.annotation.accepted().isEmpty(); }));
        QVERIFY2(withBoxes >= 7, qPrintable(QString::number(withBoxes)));
        // Ready for export at once.
        QString message;
        QVERIFY2(window.exportDetectionsTo(QStringLiteral("coco"), dir.filePath(QStringLiteral("coco.json")), &message),
                 qPrintable(message));
        // Nothing queued and nothing on its way to the device (server info included): its
        // count is final.
        QVERIFY(!window.parts().queue()->isBusy());
        QTRY_VERIFY_WITH_TIMEOUT(test::nothingInFlight(*window.parts().client()), 20000);
        QCOMPARE(device.imagesReceived(), 0);

        // The tutorial's inferenced/ folder: marked-up JPEGs only, dropped on the window.
        const QString inferenced = dir.filePath(QStringLiteral("tutorial/inferenced"));
        QDir().mkpath(inferenced);
        for (const QString &name : {QStringLiteral("soccer.jpg"), QStringLiteral("example_01.jpg")})
            QVERIFY(QFile::copy(QDir(out).filePath(name), QDir(inferenced).filePath(name)));
        opened.clear();
        window.addPaths({inferenced});
        QVERIFY(opened.wait(30000));
        QCOMPARE(opened.first().at(0).toInt(), 0);
        QCOMPARE(opened.first().at(1).toInt(), 2);
        QCOMPARE(model->rowCount(), 11);
        const int row = model->rowOfPath(QFileInfo(QDir(inferenced).filePath(QStringLiteral("soccer.jpg"))).canonicalFilePath());
        QVERIFY(row >= 0);
        QVERIFY(model->item(row).resultsOnly);
        QVERIFY(!model->item(row).hasDetectionData);
        DetailView *view = openDetail(window, window.galleryProxy()->mapFromSource(model->index(row)).row());
        QVERIFY(view);
        auto *noData = view->findChild<QLabel *>(QStringLiteral("noDataLabel"));
        QVERIFY(noData->isVisibleTo(view));
        QVERIFY2(noData->text().contains(QStringLiteral("No detection data")), qPrintable(noData->text()));
        QVERIFY(!window.parts().queue()->isBusy());
        QTRY_VERIFY_WITH_TIMEOUT(test::nothingInFlight(*window.parts().client()), 20000);
        QCOMPARE(device.imagesReceived(), 0);
    }

    void openResults_ofAVideosFrames_regroupsThemWithTheirOriginsAndCorrections()
    {
        EDGELENS_REQUIRE(test::haveFfmpeg(), "ffmpeg and ffprobe (Debian package ffmpeg) make the test video");
        QTemporaryDir dir;
        // The same photo for frames 0-19 (the players do not move), another from frame 20.
        const QString soccer = QDir(samplesDir()).filePath(QStringLiteral("soccer.jpg"));
        const QString video = dir.filePath(QStringLiteral("clip.mp4"));
        QString error;
        QVERIFY2(test::makeSlideshow(video, {soccer, soccer, QDir(samplesDir()).filePath(QStringLiteral("example_05.jpg"))},
                                     10, QSize(640, 360), 10, &error),
                 qPrintable(error));
        const QString out = dir.filePath(QStringLiteral("cli-out"));
        const test::ProcessRun cli = test::runProcess(test::executablePath(QStringLiteral("edgelens-cli")),
                                                      {video, QStringLiteral("--every-frames"), QStringLiteral("10"),
                                                       QStringLiteral("--embedded"), QStringLiteral("--json"),
                                                       QStringLiteral("--output"), out});
        QVERIFY2(cli.exitCode == 0, qPrintable(cli.err));
        // What the run wrote is the reference: frame index -> its sidecar.
        QMap<qint64, QJsonObject> sidecars;
        QDirIterator jsons(out, {QStringLiteral("*.json")}, QDir::Files, QDirIterator::Subdirectories);
        while (jsons.hasNext()) {
            const QJsonObject sidecar = readJson(jsons.next());
            if (sidecar.contains(QStringLiteral("frame_index")))
                sidecars.insert(sidecar.value(QStringLiteral("frame_index")).toInteger(), sidecar);
        }
        QCOMPARE(sidecars.keys(), (QList<qint64>{0, 10, 20}));
        const QString group = ImageOrigin::fromJson(sidecars.first()).source;
        QVERIFY(!group.isEmpty());

        test::FakeDetectionServer device(test::FakeDetectionServer::Mode::V2);
        QVERIFY(device.listenOnLoopback());
        const AppSettings settings = countedDeviceSettings(device, dir.filePath(QStringLiteral("app-out")));
        AppOptions options;
        options.sessionFile = dir.filePath(QStringLiteral("session.json"));
        const auto checkFrames = [&](const MainWindow &window) {
            const GalleryModel *model = window.galleryModel();
            const GalleryFilterProxy *proxy = window.galleryProxy();
            QCOMPARE(model->rowCount(), 3);
            QCOMPARE(proxy->rowCount(), 3);
            for (int i = 0; i < proxy->rowCount(); ++i) { // one group, in frame order
                const GalleryItem &it = model->item(proxy->mapToSource(proxy->index(i, 0)).row());
                const QJsonObject &sidecar = sidecars.value(qint64(i) * 10);
                QCOMPARE(it.group, group);
                QCOMPARE(it.groupOrder, qint64(i) * 10);
                QCOMPARE(it.origin, ImageOrigin::fromJson(sidecar));
                QCOMPARE(it.path, QFileInfo(sidecar.value(QStringLiteral("image")).toString()).canonicalFilePath());
                QCOMPARE(proxy->index(i, 0).data(GalleryFilterProxy::GroupLeadRole).toBool(), i == 0);
            }
            QCOMPARE(proxy->groupSummary(group).items, 3);
            QCOMPARE(proxy->groupSummary(group).done, 3);
        };

        QString correctedPath;
        {
            MainWindow window(settings, options);
            window.show();
            QTRY_VERIFY_WITH_TIMEOUT(window.isSessionRestored(), 10000);
            QSignalSpy opened(&window, &MainWindow::resultsOpened);
            window.openResults(out);
            QVERIFY(opened.wait(30000));
            QCOMPARE(opened.first().at(0).toInt(), 3); // pairs
            // The frames folder holds the originals, not marked-up images without data.
            QCOMPARE(opened.first().at(1).toInt(), 0);
            checkFrames(window);
            if (QTest::currentTestFailed())
                return;
            GalleryModel *model = window.galleryModel();
            GalleryFilterProxy *proxy = window.galleryProxy();
            proxy->setGroupCollapsed(group, true);
            QCOMPARE(proxy->rowCount(), 1);
            QCOMPARE(proxy->sourceRowsOf(proxy->index(0, 0)).size(), 3);
            proxy->setGroupCollapsed(group, false);

            // The detail view steps through the video's frames.
            DetailView *view = openDetail(window);
            QVERIFY(view);
            QVERIFY2(view->framePosition().startsWith(QStringLiteral("clip.mp4, frame 0 (1 of 3 sampled)")),
                     qPrintable(view->framePosition()));
            window.parts().details()->stepFrame(+1);
            QVERIFY2(view->framePosition().startsWith(QStringLiteral("clip.mp4, frame 10 (2 of 3 sampled)")),
                     qPrintable(view->framePosition()));
            correctedPath = view->originalPath();
            const int row = model->rowOfPath(correctedPath);
            QCOMPARE(model->item(row).groupOrder, qint64(10));

            // The boxes show the ids that follow each player across the video's frames.
            const QList<Detection> shownBoxes = view->annotation().accepted();
            QVERIFY2(!shownBoxes.isEmpty(), qPrintable(model->item(row).labelSummary));
            QList<int> shownIds;
            for (const Detection &d : shownBoxes)
                shownIds << d.trackId;
            QVERIFY(!shownIds.contains(0));
            auto *list = view->findChild<QTreeWidget *>(QStringLiteral("detectionList"));
            QVERIFY(list);
            QVERIFY(!list->isColumnHidden(3));
            QCOMPARE(list->topLevelItem(0)->text(3), QStringLiteral("#%1").arg(shownBoxes.first().trackId));

            // A person relabels a box: it keeps its id (a new label alone would start a new
            // track), and the sidecar, which keeps the frame's origin, records both.
            QWidget *viewport = view->originalView()->viewport();
            QTest::keyClick(viewport, Qt::Key_Tab);
            const int first = view->selectedDetection();
            QVERIFY(first >= 0);
            const int keptId = view->annotation().boxes.at(first).trackId;
            QVERIFY(keptId > 0);
            QTest::keyClick(viewport, Qt::Key_E);
            QTRY_VERIFY(view->labelPicker());
            QTest::keyClicks(view->labelPicker()->filterEdit(), QStringLiteral("referee"));
            QTest::keyClick(view->labelPicker()->filterEdit(), Qt::Key_Return);
            QCOMPARE(view->annotation().boxes.at(first).label, QStringLiteral("referee"));
            waitForSaves(window);
            const QJsonObject saved = readJson(model->item(row).sidecarPath);
            QVERIFY(saved.value(QStringLiteral("edited")).toBool());
            QCOMPARE(ImageOrigin::fromJson(saved), model->item(row).origin);
            bool savedWithId = false;
            for (const Detection &d : detectionsOf(saved.value(QStringLiteral("detections"))))
                savedWithId = savedWithId || (d.label == QLatin1String("referee") && d.trackId == keptId);
            QVERIFY(savedWithId);

            // Exports know the frames: COCO with index and track ids, MOT with one id per player.
            QString message;
            const QString coco = dir.filePath(QStringLiteral("export/coco.json"));
            QVERIFY2(window.exportDetectionsTo(QStringLiteral("coco"), coco, &message), qPrintable(message));
            const QList<ExportItem> back = readCoco(coco, &error);
            QVERIFY2(error.isEmpty(), qPrintable(error));
            QCOMPARE(back.size(), 3);
            QStringList referees;
            for (const ExportItem &item : back) {
                QCOMPARE(item.origin.kind, ImageOrigin::Kind::VideoFrame);
                QVERIFY(item.origin.frameIndex == 0 || item.origin.frameIndex == 10 || item.origin.frameIndex == 20);
                QVERIFY(!item.detections.isEmpty());
                QList<int> ids;
                for (const Detection &d : item.detections) {
                    QVERIFY(d.trackId > 0);
                    ids << d.trackId;
                    if (d.label == QLatin1String("referee")) {
                        referees << QString::number(item.origin.frameIndex);
                        QCOMPARE(d.trackId, keptId);
                    }
                }
                if (item.origin.frameIndex == 10)
                    QCOMPARE(ids, shownIds); // what the detail view showed
            }
            QCOMPARE(referees, QStringList{QStringLiteral("10")});
            const QString mot = dir.filePath(QStringLiteral("export/mot"));
            QVERIFY2(window.exportDetectionsTo(QStringLiteral("mot"), mot, &message), qPrintable(message));
            const QList<MotRow> rows = readMot(QDir(mot).filePath(QStringLiteral("clip/gt/gt.txt")), &error);
            QVERIFY2(!rows.isEmpty(), qPrintable(error));
            QSet<int> idsAt1;
            QSet<int> idsAt11;
            for (const MotRow &r : rows) {
                QVERIFY(r.frame == 1 || r.frame == 11 || r.frame == 21); // MOT counts from 1
                if (r.frame == 1)
                    idsAt1.insert(r.id);
                else if (r.frame == 11)
                    idsAt11.insert(r.id);
            }
            QVERIFY(idsAt1.intersects(idsAt11)); // players that did not move kept their ids
            QVERIFY(!window.parts().queue()->isBusy());
            QTRY_VERIFY_WITH_TIMEOUT(test::nothingInFlight(*window.parts().client()), 20000);
            QCOMPARE(device.imagesReceived(), 0); // reading results sends nothing
            window.saveSession();
        }
        // A restart: the session brings the group, the origins and the correction back.
        {
            MainWindow window(settings, options);
            QTRY_VERIFY_WITH_TIMEOUT(window.isSessionRestored(), 10000);
            checkFrames(window);
            const int row = window.galleryModel()->rowOfPath(correctedPath);
            QVERIFY(row >= 0);
            QVERIFY(window.galleryModel()->item(row).annotation.edited);
            QVERIFY(window.galleryModel()->item(row).labels.contains(QStringLiteral("referee")));
        }
        // Opened again without the session: the correction comes from the sidecar.
        options.sessionFile.clear();
        options.noSession = true;
        MainWindow window(settings, options);
        QSignalSpy opened(&window, &MainWindow::resultsOpened);
        window.openResults(out);
        QVERIFY(opened.wait(30000));
        checkFrames(window);
        const int row = window.galleryModel()->rowOfPath(correctedPath);
        QVERIFY(row >= 0);
        QVERIFY(window.galleryModel()->item(row).labels.contains(QStringLiteral("referee")));
    }
};

QTEST_MAIN(TestReview)
#include "tst_review.moc"
