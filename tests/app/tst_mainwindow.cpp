// The main window end to end: drop files and a folder, watch them go through the embedded
// server (a real DetectionServer with a real model from EDGELENS_SHARED_DIR), and check
// what the user would: the gallery, the status bar and the files on disk.

#include "flakyserver.h"

#include "appoptions.h"
#include "embeddedserver.h"
#include "export/exporters.h"
#include "galleryfilterproxy.h"
#include "gallerymodel.h"
#include "galleryview.h"
#include "mainwindow.h"
#include "processingqueue.h"
#include "widgets/appsettings.h"
#include "widgets/detailview.h"

#include <QDir>
#include <QDropEvent>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

using namespace edgelens;

namespace {

QString samplesDir()
{
    const QByteArray shared = qgetenv("EDGELENS_SHARED_DIR");
    return QDir(QString::fromLocal8Bit(shared.isEmpty() ? QByteArray("/work/shared") : shared))
        .filePath(QStringLiteral("data/samples"));
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

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_settingsDir;

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        // Window state and AppSettings go to a throw-away folder, never the user's.
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_settingsDir.path());
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settingsDir.path());
        QCoreApplication::setOrganizationName(QStringLiteral("EdgeLensTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_mainwindow"));
        QVERIFY2(QFileInfo::exists(QDir(samplesDir()).filePath(QStringLiteral("soccer.jpg"))), qPrintable(samplesDir()));
    }

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
        auto *mime = new QMimeData;
        mime->setUrls({QUrl::fromLocalFile(in + QStringLiteral("/soccer.jpg")), QUrl::fromLocalFile(in + QStringLiteral("/cars.jpg")),
                       QUrl::fromLocalFile(in + QStringLiteral("/folder"))});
        drop(&window, mime);

        // The folder is scanned in the background; four images, the text file skipped.
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->rowCount(), 4, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(window.statusBar()->currentMessage().contains(QStringLiteral("1 other file skipped"))
                                     || !window.isCollecting(),
                                 10000);
        QTRY_VERIFY_WITH_TIMEOUT(!window.processingQueue()->isBusy() && !window.isCollecting(), 120000);
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

        QCOMPARE(window.embeddedServer()->state(), EmbeddedServer::State::Running);
        QVERIFY2(window.statusText().contains(window.embeddedServer()->modelName().section(QLatin1Char(' '), 0, 0)),
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
            shown += int(it.result.detections.size());
        QCOMPARE(exported, shown);
        QVERIFY2(window.exportDetectionsTo(QStringLiteral("yolo"), dir.filePath(QStringLiteral("export/yolo")), &message),
                 qPrintable(message));
        QVERIFY(QFile::exists(dir.filePath(QStringLiteral("export/yolo/classes.txt"))));

        // Filtering the gallery by a detected label hides the rest.
        window.galleryProxy()->setLabelFilter(QStringLiteral("car"));
        QVERIFY(window.galleryProxy()->rowCount() >= 1);
        QVERIFY(window.galleryProxy()->rowCount() < 4);

        // Dropping the same things again adds nothing and sends nothing.
        auto *again = new QMimeData;
        again->setUrls({QUrl::fromLocalFile(in)});
        drop(&window, again);
        QTRY_VERIFY_WITH_TIMEOUT(!window.isCollecting(), 10000);
        QCOMPARE(window.galleryModel()->rowCount(), 4);
        QVERIFY(!window.processingQueue()->isBusy());
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
        QCOMPARE(window.embeddedServer()->requestedModel(), other.model);
        QCOMPARE(window.embeddedServer()->state(), EmbeddedServer::State::Running);
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
        QTRY_VERIFY_WITH_TIMEOUT(!window.processingQueue()->isBusy(), 120000);
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
        QVERIFY(!window.processingQueue()->isBusy());
        QCOMPARE(window.embeddedServer()->state(), EmbeddedServer::State::Failed);
        QVERIFY2(window.statusText().contains(QStringLiteral("not running")), qPrintable(window.statusText()));
    }

    void switchRemoteTargetWhileRunning_nothingLost()
    {
        QTemporaryDir dir;
        QStringList paths;
        for (int i = 0; i < 8; ++i) {
            QImage image(32, 24, QImage::Format_RGB32);
            image.fill(QColor::fromHsv(i * 40, 200, 200));
            paths << dir.filePath(QStringLiteral("img%1.jpg").arg(i));
            image.save(paths.last());
        }
        FlakyServer first;
        FlakyServer second;
        QVERIFY(first.listen());
        QVERIFY(second.listen());
        first.replyDelayMs = 150;
        AppSettings settings;
        settings.target = AppSettings::Target::Remote;
        settings.host = QStringLiteral("127.0.0.1");
        settings.port = first.port();
        settings.protocol = AppSettings::Protocol::V2;
        settings.maxInFlight = 2;
        settings.outputDir = dir.filePath(QStringLiteral("out"));
        MainWindow window(settings);
        window.addPaths(paths);
        QTRY_VERIFY_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Done) >= 1, 10000);
        AppSettings moved = settings;
        moved.port = second.port();
        window.applySettings(moved);
        QTRY_VERIFY_WITH_TIMEOUT(!window.processingQueue()->isBusy(), 30000);
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
        AppSettings settings;
        settings.target = AppSettings::Target::Remote;
        settings.host = QStringLiteral("127.0.0.1");
        settings.port = legacy.port();
        settings.protocol = AppSettings::Protocol::Legacy;
        settings.outputDir = dir.filePath(QStringLiteral("out"));
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

        QString message;
        QVERIFY(!window.exportDetectionsTo(QStringLiteral("coco"), dir.filePath(QStringLiteral("x.json")), &message));
        QVERIFY2(message.contains(QStringLiteral("legacy")), qPrintable(message));
    }

    void restart_restoresGalleryAndResumesUnfinished()
    {
        QTemporaryDir dir;
        QStringList paths;
        for (int i = 0; i < 5; ++i) {
            QImage image(32, 24, QImage::Format_RGB32);
            image.fill(QColor::fromHsv(i * 50, 200, 200));
            paths << QFileInfo(dir.filePath(QStringLiteral("p%1.jpg").arg(i))).absoluteFilePath();
            image.save(paths.last());
        }
        FlakyServer server;
        QVERIFY(server.listen());
        AppSettings settings;
        settings.target = AppSettings::Target::Remote;
        settings.host = QStringLiteral("127.0.0.1");
        settings.port = server.port();
        settings.protocol = AppSettings::Protocol::V2;
        settings.outputDir = dir.filePath(QStringLiteral("out"));
        AppOptions options;
        options.sessionFile = dir.filePath(QStringLiteral("state/session.json"));
        {
            MainWindow first(settings, options);
            QTRY_VERIFY(first.isSessionRestored());
            first.addPaths(paths.mid(0, 3));
            QTRY_COMPARE_WITH_TIMEOUT(first.galleryModel()->count(GalleryItem::Status::Done), 3, 20000);
            first.processingQueue()->pause();
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
        QTRY_VERIFY_WITH_TIMEOUT(!second.processingQueue()->isBusy(), 20000);
        QCOMPARE(second.galleryModel()->count(GalleryItem::Status::Done), 4);
        // The two done before were not sent again; the two left over were.
        QCOMPARE(server.detectRequests - requestsBefore, 2);
        const GalleryItem &restored = second.galleryModel()->item(0);
        QCOMPARE(restored.labelSummary, QStringLiteral("1 cat"));
        QVERIFY(QFile::exists(restored.resultPath));
        QCOMPARE(second.galleryModel()->allLabels(), QStringList{QStringLiteral("cat")});
    }

    void emptyGallery_paintsDropHint()
    {
        AppSettings settings;
        MainWindow window(settings);
        window.resize(800, 600);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        // The embedded server is only started once there is something to process.
        QCOMPARE(window.embeddedServer()->state(), EmbeddedServer::State::Stopped);
        const QImage shot = window.galleryView()->viewport()->grab().toImage();
        const QColor base = window.galleryView()->palette().color(QPalette::Base);
        int inked = 0;
        for (int y = shot.height() / 3; y < 2 * shot.height() / 3; y += 2)
            for (int x = 0; x < shot.width(); x += 2)
                inked += QColor(shot.pixel(x, y)) != base;
        QVERIFY2(inked > 200, qPrintable(QString::number(inked))); // the "Drop images here" text and frame
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
