// The main window end to end, getting images in and processed: drop files and a folder, paste
// paths, restore a session, change the device or model while running, watch them go through the
// embedded server (a real DetectionServer with a real model from EDGELENS_SHARED_DIR) or a device
// on loopback, and check what the user would: the gallery, the status bar and the files on disk.
// Videos and their groups: tst_mainwindowvideo; the window's layout and menus: tst_mainwindowlayout.

#include "flakyserver.h"
#include "mainwindowsuite.h"
#include "testdata.h"

#include "appoptions.h"
#include "embeddedserver.h"
#include "exportcontroller.h"
#include "export/exporters.h"
#include "galleryfilterproxy.h"
#include "gallerymodel.h"
#include "galleryview.h"
#include "mainwindow.h"
#include "mainwindowparts.h"
#include "processingqueue.h"
#include "widgets/appsettings.h"
#include "widgets/detailview.h"

#include <QApplication>
#include <QDir>
#include <QDropEvent>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolBar>
#include <QUrl>

#include <algorithm>

using namespace edgelens;

namespace {

using test::remoteSettings;
using test::samplesDir;

// Small images of distinct colours: the gallery tells them apart and any server decodes them fast.
QStringList writeColourImages(const QTemporaryDir &dir, const QString &namePattern, int count)
{
    QStringList paths;
    for (int i = 0; i < count; ++i) {
        QImage image(32, 24, QImage::Format_RGB32);
        image.fill(QColor::fromHsv(i * 300 / count, 200, 200));
        paths << QFileInfo(dir.filePath(namePattern.arg(i))).absoluteFilePath();
        if (!image.save(paths.last()))
            return {};
    }
    return paths;
}

void copySample(const QString &name, const QString &to)
{
    QDir().mkpath(QFileInfo(to).absolutePath());
    QVERIFY2(QFile::copy(QDir(samplesDir()).filePath(name), to), qPrintable(to));
}

void drop(QWidget *window, QMimeData *mime)
{
    const QPoint pos = window->rect().center();
    QDragEnterEvent enter(pos, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(window, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent dropEvent(QPointF(pos), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(window, &dropEvent);
    QVERIFY(dropEvent.isAccepted());
}

// Drag enter + drop delivered to `target` as QApplication delivers them: a widget that does
// not take drops passes them on to its parents, up to the window.
bool dropOn(QWidget *target, QMimeData *mime)
{
    const QPoint pos = target->rect().center();
    QDragEnterEvent enter(pos, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &enter);
    if (!enter.isAccepted())
        return false;
    QDropEvent dropEvent(QPointF(pos), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &dropEvent);
    return dropEvent.isAccepted();
}

// Answers every message box that comes up while it lives with `button`, remembering the
// questions asked.
class QuestionAnswerer final : public QObject
{
public:
    explicit QuestionAnswerer(QMessageBox::StandardButton button)
        : m_button(button)
    {
        connect(&m_timer, &QTimer::timeout, this, [this] {
            auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
            if (!box || !box->button(m_button))
                return;
            questions << box->text();
            box->button(m_button)->click();
        });
        m_timer.start(20);
    }
    QStringList questions;

private:
    QMessageBox::StandardButton m_button;
    QTimer m_timer;
};

// Boxes as the gallery shows them and as a file format gives them back agree: same count
// and labels per image, each box within `tolerance` pixels (formats round or normalise).
void compareDetections(const QList<GalleryItem> &shown, const QList<ExportItem> &back, double tolerance)
{
    const auto byPosition = [](const Detection &a, const Detection &b) {
        return std::make_tuple(a.label, qRound(a.box.x()), qRound(a.box.y()))
            < std::make_tuple(b.label, qRound(b.box.x()), qRound(b.box.y()));
    };
    int compared = 0;
    for (const GalleryItem &it : shown) {
        const auto match = std::find_if(back.cbegin(), back.cend(), [&](const ExportItem &e) {
            return QFileInfo(e.imagePath).canonicalFilePath() == it.path;
        });
        QVERIFY2(match != back.cend(), qPrintable(it.path));
        QList<Detection> a = it.annotation.accepted();
        QList<Detection> b = match->detections;
        QCOMPARE(b.size(), a.size());
        std::sort(a.begin(), a.end(), byPosition);
        std::sort(b.begin(), b.end(), byPosition);
        const QRectF image(0, 0, it.result.imageWidth, it.result.imageHeight);
        for (int i = 0; i < a.size(); ++i) {
            QCOMPARE(b.at(i).label, a.at(i).label);
            const QRectF want = a.at(i).box & image; // formats clip boxes to the image
            const QRectF got = b.at(i).box;
            const double worst = std::max({std::abs(got.left() - want.left()), std::abs(got.top() - want.top()),
                                           std::abs(got.right() - want.right()), std::abs(got.bottom() - want.bottom())});
            QVERIFY2(worst <= tolerance, qPrintable(QStringLiteral("%1 %2: off by %3 px").arg(it.fileName, a.at(i).label).arg(worst)));
            ++compared;
        }
    }
    QVERIFY(compared > 0);
}

} // namespace

class TestMainWindow : public test::MainWindowSuite
{
    Q_OBJECT

private slots:
    void dropTwoFilesAndFolder_processedByEmbeddedServerAndSaved()
    {
        QTemporaryDir dir;
        const QString in = dir.filePath(QStringLiteral("in"));
        copySample(QStringLiteral("soccer.jpg"), in + QStringLiteral("/soccer.jpg"));
        copySample(QStringLiteral("example_01.jpg"), in + QStringLiteral("/cars.jpg"));
        copySample(QStringLiteral("baggage_claim.jpg"), in + QStringLiteral("/folder/baggage.jpg"));
        copySample(QStringLiteral("example_05.jpg"), in + QStringLiteral("/folder/sub/horse.jpg"));
        QFile notes(in + QStringLiteral("/folder/notes.txt"));
        QVERIFY(notes.open(QIODevice::WriteOnly));
        notes.write("not an image");
        notes.close();

        AppSettings settings;
        settings.target = AppSettings::Target::Embedded;
        settings.outputDir = dir.filePath(QStringLiteral("out"));
        settings.jsonSidecars = true;
        MainWindow window(settings);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QCOMPARE(window.galleryModel()->rowCount(), 0);

        QSignalSpy allDone(&window, &MainWindow::allDone);
        // Drop events do not own their data: the test does, as a drag would.
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(in + QStringLiteral("/soccer.jpg")), QUrl::fromLocalFile(in + QStringLiteral("/cars.jpg")),
                      QUrl::fromLocalFile(in + QStringLiteral("/folder"))});
        drop(&window, &mime);

        // The folder is scanned in the background; four images, the text file skipped.
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->rowCount(), 4, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(!window.isCollecting(), 10000);
        QVERIFY2(window.statusBar()->currentMessage().contains(QStringLiteral("4 images found, 1 other file skipped")),
                 qPrintable(window.statusBar()->currentMessage()));
        QTRY_VERIFY_WITH_TIMEOUT(!window.parts().queue()->isBusy() && !window.isCollecting(), 120000);
        QVERIFY(allDone.size() >= 1);

        const GalleryModel *model = window.galleryModel();
        QCOMPARE(model->count(GalleryItem::Status::Done), 4);
        int withPeople = 0;
        for (const GalleryItem &it : model->items()) {
            QVERIFY2(it.hasDetectionData, qPrintable(it.path));
            QVERIFY2(QFile::exists(it.resultPath), qPrintable(it.resultPath));
            QVERIFY(it.resultPath.startsWith(settings.outputDir));
            QFile sidecar(it.sidecarPath);
            QVERIFY2(sidecar.open(QIODevice::ReadOnly), qPrintable(it.sidecarPath));
            const QJsonObject json = QJsonDocument::fromJson(sidecar.readAll()).object();
            QCOMPARE(json.value(QStringLiteral("image")).toString(), it.path);
            if (it.labels.contains(QStringLiteral("person")))
                ++withPeople;
            QCOMPARE(it.result.imageWidth, QImage(it.path).width());
        }
        // soccer, baggage and horse all have people in them; a detector that finds none is broken.
        QVERIFY2(withPeople >= 3, qPrintable(QString::number(withPeople)));
        QCOMPARE(QDir(settings.outputDir).entryList({QStringLiteral("*.jpg")}, QDir::Files).size(), 4);
        QCOMPARE(QDir(settings.outputDir).entryList({QStringLiteral("*.json")}, QDir::Files).size(), 4);
        // Originals never modified.
        QCOMPARE(QFileInfo(in + QStringLiteral("/soccer.jpg")).size(), QFileInfo(QDir(samplesDir()).filePath(QStringLiteral("soccer.jpg"))).size());

        QCOMPARE(window.parts().embedded()->state(), EmbeddedServer::State::Running);
        QVERIFY2(window.statusText().contains(window.parts().embedded()->modelName().section(QLatin1Char(' '), 0, 0)),
                 qPrintable(window.statusText()));

        // File > Export: what is written reads back as what the gallery shows.
        QString message;
        const QString coco = dir.filePath(QStringLiteral("export/coco.json"));
        QVERIFY2(window.exportDetectionsTo(QStringLiteral("coco"), coco, &message), qPrintable(message));
        QStringList classNames;
        QString error;
        const QList<ExportItem> back = readCoco(coco, &error, &classNames);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(back.size(), 4);
        QCOMPARE(classNames.value(0), QStringLiteral("person")); // the model's own class order
        int exported = 0;
        int shown = 0;
        for (const ExportItem &e : back)
            exported += int(e.detections.size());
        for (const GalleryItem &it : model->items())
            shown += int(it.annotation.accepted().size());
        QCOMPARE(exported, shown);
        compareDetections(model->items(), back, 0.01);
        QVERIFY2(window.exportDetectionsTo(QStringLiteral("yolo"), dir.filePath(QStringLiteral("export/yolo")), &message),
                 qPrintable(message));
        QVERIFY(QFile::exists(dir.filePath(QStringLiteral("export/yolo/classes.txt"))));
        QList<ExportItem> images;
        for (const GalleryItem &it : model->items())
            images.append(ExportItem{it.path, it.result.imageWidth, it.result.imageHeight, {}});
        const QList<ExportItem> yolo = readYolo(dir.filePath(QStringLiteral("export/yolo")), images, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        compareDetections(model->items(), yolo, 0.5);
        QVERIFY2(window.exportDetectionsTo(QStringLiteral("voc"), dir.filePath(QStringLiteral("export/voc")), &message),
                 qPrintable(message));
        const QList<ExportItem> voc = readVoc(dir.filePath(QStringLiteral("export/voc")), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(voc.size(), 4);
        compareDetections(model->items(), voc, 1.0);

        // Copy Marked-up Images: every saved result lands in the folder, nothing there is
        // overwritten (a file already called soccer.jpg stays as it was).
        const QString copies = dir.filePath(QStringLiteral("copies"));
        QVERIFY(QDir().mkpath(copies));
        QFile existing(copies + QStringLiteral("/soccer.jpg"));
        QVERIFY(existing.open(QIODevice::WriteOnly));
        existing.write("keep me");
        existing.close();
        QSignalSpy copied(window.parts().exporter(), &ExportController::copyFinished);
        QVERIFY2(window.parts().exporter()->copyMarkedUpImagesTo({0, 1, 2, 3}, copies, &message), qPrintable(message));
        QVERIFY(copied.wait(10000));
        QCOMPARE(copied.at(0).at(0).toInt(), 4);
        QVERIFY(copied.at(0).at(1).toStringList().isEmpty());
        QCOMPARE(QDir(copies).entryList(QDir::Files).size(), 5);
        QVERIFY(existing.open(QIODevice::ReadOnly));
        QCOMPARE(existing.readAll(), QByteArray("keep me"));
        existing.close();
        const QString soccerResult = model->item(model->rowOfPath(QFileInfo(in + QStringLiteral("/soccer.jpg")).canonicalFilePath())).resultPath;
        QFile copy(copies + QStringLiteral("/soccer_2.jpg"));
        QFile original(soccerResult);
        QVERIFY(copy.open(QIODevice::ReadOnly) && original.open(QIODevice::ReadOnly));
        QCOMPARE(copy.readAll(), original.readAll());

        // Filtering the gallery by a detected label hides the rest.
        window.galleryProxy()->setLabelFilter(QStringLiteral("car"));
        QVERIFY(window.galleryProxy()->rowCount() >= 1);
        QVERIFY(window.galleryProxy()->rowCount() < 4);

        // Dropping the same things again adds nothing and sends nothing.
        QMimeData again;
        again.setUrls({QUrl::fromLocalFile(in)});
        drop(&window, &again);
        QTRY_VERIFY_WITH_TIMEOUT(!window.isCollecting(), 10000);
        QCOMPARE(window.galleryModel()->rowCount(), 4);
        QVERIFY(!window.parts().queue()->isBusy());
    }

    void changeEmbeddedModel_restartsServerAndUsesNewModel()
    {
        QTemporaryDir dir;
        copySample(QStringLiteral("soccer.jpg"), dir.filePath(QStringLiteral("a.jpg")));
        copySample(QStringLiteral("example_01.jpg"), dir.filePath(QStringLiteral("b.jpg")));
        AppSettings settings;
        settings.target = AppSettings::Target::Embedded;
        settings.outputDir = dir.filePath(QStringLiteral("out"));
        MainWindow window(settings);
        window.addPaths({dir.filePath(QStringLiteral("a.jpg"))});
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Done), 1, 60000);
        const QString firstModel = window.galleryModel()->item(0).result.model;
        QVERIFY(!firstModel.isEmpty());

        AppSettings other = settings;
        other.model = firstModel == QLatin1String("fastestdet-352") ? QStringLiteral("nanodet-m-320") : QStringLiteral("fastestdet-352");
        window.applySettings(other);
        window.addPaths({dir.filePath(QStringLiteral("b.jpg"))});
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Done), 2, 60000);
        QCOMPARE(window.galleryModel()->item(1).result.model, other.model);
        QCOMPARE(window.parts().embedded()->requestedModel(), other.model);
        QCOMPARE(window.parts().embedded()->state(), EmbeddedServer::State::Running);
    }

    void pastedPathList_addsImages()
    {
        QTemporaryDir dir;
        copySample(QStringLiteral("example_02.jpg"), dir.filePath(QStringLiteral("a.jpg")));
        copySample(QStringLiteral("images.jpg"), dir.filePath(QStringLiteral("b.jpg")));
        AppSettings settings;
        settings.target = AppSettings::Target::Embedded;
        settings.outputDir = dir.filePath(QStringLiteral("out"));
        MainWindow window(settings);
        QMimeData text;
        text.setText(dir.filePath(QStringLiteral("a.jpg")) + QStringLiteral("\n\"") + dir.filePath(QStringLiteral("b.jpg"))
                     + QStringLiteral("\"\n/not/there.jpg\n"));
        QVERIFY(window.addMimeData(&text));
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->rowCount(), 2, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(!window.parts().queue()->isBusy(), 120000);
        QCOMPARE(window.galleryModel()->count(GalleryItem::Status::Done), 2);
        QMimeData nothing;
        nothing.setText(QStringLiteral("hello world"));
        QVERIFY(!window.addMimeData(&nothing));
    }

    void unknownModel_itemsFailWithReasonInsteadOfWaiting()
    {
        QTemporaryDir dir;
        copySample(QStringLiteral("example_02.jpg"), dir.filePath(QStringLiteral("a.jpg")));
        AppSettings settings;
        settings.target = AppSettings::Target::Embedded;
        settings.model = QStringLiteral("no-such-model-anywhere");
        settings.outputDir = dir.filePath(QStringLiteral("out"));
        MainWindow window(settings);
        window.addPaths({dir.filePath(QStringLiteral("a.jpg"))});
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->rowCount(), 1, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Failed), 1, 60000);
        const GalleryItem &it = window.galleryModel()->item(0);
        QVERIFY2(it.error.contains(QStringLiteral("embedded server")), qPrintable(it.error));
        QVERIFY(!window.parts().queue()->isBusy());
        QCOMPARE(window.parts().embedded()->state(), EmbeddedServer::State::Failed);
        QVERIFY2(window.statusText().contains(QStringLiteral("not running")), qPrintable(window.statusText()));
    }

    void switchRemoteTargetWhileRunning_nothingLost()
    {
        QTemporaryDir dir;
        const QStringList paths = writeColourImages(dir, QStringLiteral("img%1.jpg"), 8);
        QCOMPARE(paths.size(), 8);
        FlakyServer first;
        FlakyServer second;
        QVERIFY(first.listen());
        QVERIFY(second.listen());
        first.replyDelayMs = 150;
        AppSettings settings = remoteSettings(first.port(), AppSettings::Protocol::V2, dir);
        settings.maxInFlight = 2;
        MainWindow window(settings);
        window.addPaths(paths);
        QTRY_VERIFY_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Done) >= 1, 10000);
        AppSettings moved = settings;
        moved.port = second.port();
        window.applySettings(moved);
        QTRY_VERIFY_WITH_TIMEOUT(!window.parts().queue()->isBusy(), 30000);
        QCOMPARE(window.galleryModel()->count(GalleryItem::Status::Done), 8);
        QVERIFY(second.detectRequests >= 1);
        QVERIFY(first.answered + second.answered >= 8);
        QVERIFY2(window.statusText().contains(QStringLiteral("connected")), qPrintable(window.statusText()));
    }

    void legacyDevice_resultsShownAsReceived()
    {
        QTemporaryDir dir;
        copySample(QStringLiteral("example_02.jpg"), dir.filePath(QStringLiteral("a.jpg")));
        FlakyServer legacy(/*legacy=*/true);
        QVERIFY(legacy.listen());
        AppSettings settings = remoteSettings(legacy.port(), AppSettings::Protocol::Legacy, dir);
        MainWindow window(settings);
        window.addPaths({dir.filePath(QStringLiteral("a.jpg"))});
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Done), 1, 20000);
        const GalleryItem &it = window.galleryModel()->item(0);
        QVERIFY(!it.hasDetectionData);
        QCOMPARE(QImage(it.resultPath).size(), QSize(16, 12)); // exactly the image the device sent
        // Enter on the item opens the detail view, which knows there is no detection data.
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.galleryView()->setFocus();
        window.galleryView()->setCurrentIndex(window.galleryProxy()->index(0, 0));
        QTest::keyClick(window.galleryView(), Qt::Key_Return);
        auto *detail = window.findChild<DetailView *>();
        QVERIFY(detail);
        QTRY_VERIFY(detail->isVisible());
        QCOMPARE(detail->originalPath(), it.path);
        QVERIFY(!detail->hasDetectionData());
        // A double-click on the cell opens it too.
        detail->close();
        QTRY_VERIFY(!window.findChild<DetailView *>() || !window.findChild<DetailView *>()->isVisible());
        const QRect cell = window.galleryView()->visualRect(window.galleryProxy()->index(0, 0));
        // As a mouse delivers it: a click, then the second press arrives as a double-click.
        QTest::mouseClick(window.galleryView()->viewport(), Qt::LeftButton, Qt::NoModifier, cell.center());
        QTest::mouseDClick(window.galleryView()->viewport(), Qt::LeftButton, Qt::NoModifier, cell.center());
        QTRY_VERIFY(window.findChild<DetailView *>() && window.findChild<DetailView *>()->isVisible());
        QCOMPARE(window.findChild<DetailView *>()->originalPath(), it.path);

        QString message;
        QVERIFY(!window.exportDetectionsTo(QStringLiteral("coco"), dir.filePath(QStringLiteral("x.json")), &message));
        QVERIFY2(message.contains(QStringLiteral("legacy")), qPrintable(message));
    }

    void restart_restoresGalleryAndResumesUnfinished()
    {
        QTemporaryDir dir;
        const QStringList paths = writeColourImages(dir, QStringLiteral("p%1.jpg"), 5);
        QCOMPARE(paths.size(), 5);
        FlakyServer server;
        QVERIFY(server.listen());
        AppSettings settings = remoteSettings(server.port(), AppSettings::Protocol::V2, dir);
        AppOptions options;
        options.sessionFile = dir.filePath(QStringLiteral("state/session.json"));
        {
            MainWindow first(settings, options);
            QTRY_VERIFY(first.isSessionRestored());
            first.addPaths(paths.mid(0, 3));
            QTRY_COMPARE_WITH_TIMEOUT(first.galleryModel()->count(GalleryItem::Status::Done), 3, 20000);
            first.parts().queue()->pause();
            first.addPaths(paths.mid(3));
            QTRY_COMPARE_WITH_TIMEOUT(first.galleryModel()->rowCount(), 5, 10000);
            QCOMPARE(first.galleryModel()->count(GalleryItem::Status::Queued), 2);
            QVERIFY(first.close()); // hidden: no "quit anyway?" question, as with a scripted quit
        }
        QVERIFY(QFile::exists(options.sessionFile));
        QVERIFY(QFile::remove(paths.at(0))); // gone between runs

        const int requestsBefore = server.detectRequests;
        MainWindow second(settings, options);
        QTRY_VERIFY_WITH_TIMEOUT(second.isSessionRestored(), 10000);
        QCOMPARE(second.galleryModel()->rowCount(), 4);
        QVERIFY(second.statusBar()->currentMessage().contains(QStringLiteral("Restored 4 image")));
        QTRY_VERIFY_WITH_TIMEOUT(!second.parts().queue()->isBusy(), 20000);
        QCOMPARE(second.galleryModel()->count(GalleryItem::Status::Done), 4);
        // The two done before were not sent again; the two left over were.
        QCOMPARE(server.detectRequests - requestsBefore, 2);
        const GalleryItem &restored = second.galleryModel()->item(0);
        QCOMPARE(restored.labelSummary, QStringLiteral("1 cat"));
        QVERIFY(QFile::exists(restored.resultPath));
        QCOMPARE(second.galleryModel()->allLabels(), QStringList{QStringLiteral("cat")});
    }

    void dropOnGalleryToolbarOrStatusBar_addsImages()
    {
        QTemporaryDir dir;
        const QStringList paths = writeColourImages(dir, QStringLiteral("drop%1.png"), 3);
        QCOMPARE(paths.size(), 3);
        FlakyServer server;
        QVERIFY(server.listen());
        AppSettings settings = remoteSettings(server.port(), AppSettings::Protocol::V2, dir);
        MainWindow window(settings);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        // "Anywhere on the window": over the thumbnails, the toolbar and the status bar.
        QList<QWidget *> targets{window.galleryView()->viewport(), window.findChild<QToolBar *>(QStringLiteral("mainToolBar")),
                                 window.statusBar()};
        for (int i = 0; i < targets.size(); ++i) {
            QVERIFY(targets.at(i));
            QMimeData mime;
            mime.setUrls({QUrl::fromLocalFile(paths.at(i))});
            QVERIFY2(dropOn(targets.at(i), &mime), targets.at(i)->metaObject()->className());
            QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->rowCount(), i + 1, 10000);
        }
        // Something that is not a file is refused rather than silently accepted.
        QMimeData text;
        text.setText(QStringLiteral("just some words"));
        QVERIFY(!dropOn(window.galleryView()->viewport(), &text));
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Done), 3, 20000);
    }

    void changeTargetWhileRunning_asksFirst()
    {
        QTemporaryDir dir;
        const QStringList paths = writeColourImages(dir, QStringLiteral("t%1.jpg"), 6);
        QCOMPARE(paths.size(), 6);
        FlakyServer first;
        FlakyServer second;
        QVERIFY(first.listen());
        QVERIFY(second.listen());
        first.replyDelayMs = 400;
        AppSettings settings = remoteSettings(first.port(), AppSettings::Protocol::V2, dir);
        settings.maxInFlight = 1;
        MainWindow window(settings);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.addPaths(paths);
        QTRY_VERIFY_WITH_TIMEOUT(window.parts().queue()->isBusy(), 10000);

        AppSettings chosen = settings;
        chosen.port = second.port();
        chosen.jpegQuality = 77;
        {
            // "No": the target stays, the other changes are applied and stored.
            QuestionAnswerer no(QMessageBox::No);
            window.changeSettings(chosen);
            QCOMPARE(no.questions.size(), 1);
            QVERIFY2(no.questions.first().contains(QStringLiteral("still being processed")), qPrintable(no.questions.first()));
        }
        QCOMPARE(window.settings().port, first.port());
        QCOMPARE(window.settings().jpegQuality, 77);
        QCOMPARE(AppSettings::load().port, first.port());
        QCOMPARE(AppSettings::load().jpegQuality, 77);
        QVERIFY(window.parts().queue()->isBusy());
        {
            QuestionAnswerer yes(QMessageBox::Yes);
            window.changeSettings(chosen);
            QCOMPARE(yes.questions.size(), 1);
        }
        QCOMPARE(window.settings().port, second.port());
        QCOMPARE(AppSettings::load().port, second.port());
        QTRY_VERIFY_WITH_TIMEOUT(!window.parts().queue()->isBusy(), 30000);
        QCOMPARE(window.galleryModel()->count(GalleryItem::Status::Done), 6);
        QVERIFY(second.detectRequests >= 1);
        {
            // Nothing running: no question.
            QuestionAnswerer any(QMessageBox::No);
            window.changeSettings(settings);
            QVERIFY(any.questions.isEmpty());
        }
        QCOMPARE(window.settings().port, first.port());
    }

    void embeddedOnCommandLine_serverReadyBeforeTheFirstImage()
    {
        AppSettings settings;
        AppOptions options;
        options.embedded = true;
        MainWindow window(settings, options);
        QTRY_COMPARE_WITH_TIMEOUT(window.parts().embedded()->state(), EmbeddedServer::State::Running, 30000);
        QCOMPARE(window.galleryModel()->rowCount(), 0);
        QTRY_VERIFY2_WITH_TIMEOUT(window.statusText().contains(QStringLiteral("connected")), qPrintable(window.statusText()),
                                  10000);
    }

    void commandLine_parsesOptionsAndRejectsBadOnes()
    {
        QString error;
        QString help;
        auto ok = AppOptions::parse({QStringLiteral("edgelens"), QStringLiteral("--host"), QStringLiteral("192.168.1.20"),
                                     QStringLiteral("--port"), QStringLiteral("6001"), QStringLiteral("-o"), QStringLiteral("/tmp/out"),
                                     QStringLiteral("a.jpg"), QStringLiteral("folder")},
                                    &error, &help);
        QVERIFY2(ok, qPrintable(error));
        QCOMPARE(ok->host, QStringLiteral("192.168.1.20"));
        QCOMPARE(*ok->port, quint16(6001));
        QCOMPARE(ok->outputDir, QStringLiteral("/tmp/out"));
        QCOMPARE(ok->images, (QStringList{QStringLiteral("a.jpg"), QStringLiteral("folder")}));
        for (const char *option : {"--output", "--host", "--port", "--embedded", "--model"})
            QVERIFY2(help.contains(QLatin1String(option)), option);

        QVERIFY(!AppOptions::parse({QStringLiteral("edgelens"), QStringLiteral("--port"), QStringLiteral("70000")}, &error));
        QVERIFY(error.contains(QStringLiteral("65535")));
        QVERIFY(!AppOptions::parse({QStringLiteral("edgelens"), QStringLiteral("--host"), QStringLiteral("bad host!")}, &error));
        QVERIFY(!AppOptions::parse({QStringLiteral("edgelens"), QStringLiteral("--embedded"), QStringLiteral("--host"),
                                    QStringLiteral("10.0.0.1")},
                                   &error));
        QCOMPARE(AppOptions::withoutQtOptions({QStringLiteral("edgelens"), QStringLiteral("-platform"), QStringLiteral("offscreen"),
                                               QStringLiteral("-reverse"), QStringLiteral("x.jpg")}),
                 (QStringList{QStringLiteral("edgelens"), QStringLiteral("x.jpg")}));
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
