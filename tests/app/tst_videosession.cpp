// A video still being sampled when the app quits: the session keeps it, and the next start
// samples it on after the last frame the gallery got, as one uninterrupted run would have,
// without extracting or sending again what was there.

#include "flakyserver.h"
#include "mainwindowsuite.h"
#include "testdata.h"
#include "testvideos.h"

#include "appoptions.h"
#include "galleryfilterproxy.h"
#include "gallerymodel.h"
#include "mainwindow.h"
#include "mainwindowparts.h"
#include "processingqueue.h"
#include "widgets/appsettings.h"
#include "widgets/videosamplingdialog.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRadioButton>
#include <QSpinBox>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

using namespace edgelens;

namespace {

QList<qint64> frameIndices(const GalleryModel *model, const QString &video)
{
    QList<qint64> indices;
    for (const GalleryItem &it : model->items()) {
        if (it.group == video)
            indices.append(it.groupOrder);
    }
    std::sort(indices.begin(), indices.end());
    return indices;
}

// Drops the video on the window and answers its sampling dialog: every n frames.
bool sampleEveryNFrames(MainWindow &window, const QString &video, int n)
{
    window.addPaths({video});
    VideoSamplingDialog *dialog = nullptr;
    if (!QTest::qWaitFor([&] { return (dialog = window.findChild<VideoSamplingDialog *>()) != nullptr; }, 20000))
        return false;
    dialog->findChild<QRadioButton *>(QStringLiteral("everyFrames"))->setChecked(true);
    dialog->findChild<QSpinBox *>(QStringLiteral("frames"))->setValue(n);
    dialog->accept();
    return true;
}

QJsonObject readJson(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

} // namespace

class TestVideoSession final : public test::MainWindowSuite
{
    Q_OBJECT

private slots:
    void quitMidVideo_restartSamplesOnFromTheLastFrame()
    {
        EDGELENS_REQUIRE(test::haveFfmpeg(), "ffmpeg and ffprobe (Debian package ffmpeg) make the test video");
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        // Twelve slides of 25 frames at 25 fps; every 5th frame: 60 frames, 0 to 295.
        QStringList slides;
        for (int i = 0; i < 12; ++i) {
            QImage image(160, 90, QImage::Format_RGB32);
            image.fill(QColor::fromHsv(i * 30, 200, 180));
            slides << dir.filePath(QStringLiteral("slide%1.png").arg(i));
            QVERIFY(image.save(slides.last()));
        }
        const QString video = dir.filePath(QStringLiteral("clip.mp4"));
        QString error;
        QVERIFY2(test::makeSlideshow(video, slides, 25, QSize(320, 180), 25, &error), qPrintable(error));
        const QString canonicalVideo = QFileInfo(video).canonicalFilePath();
        QList<qint64> allFrames;
        for (qint64 index = 0; index < 300; index += 5)
            allFrames.append(index);

        FlakyServer server;
        server.replyDelayMs = 40; // the first run must still be sampling when it quits
        QVERIFY(server.listen());
        const AppSettings settings = test::remoteSettings(server.port(), AppSettings::Protocol::V2, dir);
        AppOptions options;
        options.sessionFile = dir.filePath(QStringLiteral("state/session.json"));

        QList<qint64> firstRun;
        int doneInFirstRun = 0;
        QHash<QString, QDateTime> written; // frame files of the first run
        {
            MainWindow first(settings, options);
            QTRY_VERIFY(first.isSessionRestored());
            QVERIFY(sampleEveryNFrames(first, video, 5));
            GalleryModel *model = first.galleryModel();
            QTRY_VERIFY_WITH_TIMEOUT(model->count(GalleryItem::Status::Done) >= 4, 30000);
            first.parts().queue()->pause();
            QCOMPARE(first.parts().queue()->videosRunning(), 1);
            firstRun = frameIndices(model, canonicalVideo);
            doneInFirstRun = model->count(GalleryItem::Status::Done);
            for (const GalleryItem &it : model->items())
                written.insert(it.path, QFileInfo(it.path).lastModified());
            QVERIFY2(firstRun.size() < allFrames.size(), qPrintable(QString::number(firstRun.size())));
            QCOMPARE(firstRun, allFrames.mid(0, firstRun.size())); // in order, none missing
            QVERIFY(first.close());
        }

        // The session names the video, its rule and the last frame the gallery got.
        const QJsonArray sampling = readJson(options.sessionFile).value(QStringLiteral("videos_sampling")).toArray();
        QCOMPARE(sampling.size(), 1);
        const QJsonObject stored = sampling.first().toObject();
        QCOMPARE(stored.value(QStringLiteral("path")).toString(), canonicalVideo);
        QCOMPARE(stored.value(QStringLiteral("resume_after_index")).toInteger(), firstRun.last());
        QCOMPARE(stored.value(QStringLiteral("rule")).toObject().value(QStringLiteral("every_frames")).toInt(), 5);

        const int requestsBefore = server.detectRequests;
        server.replyDelayMs = 0;
        MainWindow second(settings, options);
        QTRY_VERIFY_WITH_TIMEOUT(second.isSessionRestored(), 10000);
        const QString message = second.statusBar()->currentMessage();
        QVERIFY2(message.contains(QStringLiteral("Sampling of 1 video goes on")), qPrintable(message));
        GalleryModel *model = second.galleryModel();
        QTRY_VERIFY_WITH_TIMEOUT(second.parts().queue()->videosRunning() == 0 && !second.parts().queue()->isBusy(),
                                 60000);
        // The rule is known: not asked again (a question would be open by now, its probe long done).
        QVERIFY(second.findChild<VideoSamplingDialog *>() == nullptr);
        QCOMPARE(frameIndices(model, canonicalVideo), allFrames);
        QCOMPARE(model->count(GalleryItem::Status::Done), int(allFrames.size()));
        // What was done in the first run was not sent again; everything else was, once. Its
        // frame files were not written again either: sampling went on, it did not start over.
        QCOMPARE(server.detectRequests - requestsBefore, int(allFrames.size()) - doneInFirstRun);
        for (auto it = written.cbegin(); it != written.cend(); ++it)
            QVERIFY2(QFileInfo(it.key()).lastModified() == it.value(), qPrintable(it.key()));
        const GalleryFilterProxy::GroupSummary summary = second.galleryProxy()->groupSummary(canonicalVideo);
        QCOMPARE(summary.items, int(allFrames.size()));
        QCOMPARE(summary.expected, qint64(allFrames.size()));
        // Finished: the next start has nothing to continue.
        second.saveSession();
        QVERIFY(!readJson(options.sessionFile).contains(QStringLiteral("videos_sampling")));

        // Sampled again, by another rule whose frames the gallery already has: as with photos
        // dropped twice, nothing is added or sent again.
        const int requestsDone = server.detectRequests;
        QVERIFY(sampleEveryNFrames(second, video, 10));
        QTRY_COMPARE_WITH_TIMEOUT(second.parts().queue()->videosRunning(), 0, 30000);
        QTRY_VERIFY_WITH_TIMEOUT(!second.parts().queue()->isBusy(), 30000);
        QCOMPARE(model->rowCount(), int(allFrames.size()));
        QCOMPARE(model->count(GalleryItem::Status::Done), int(allFrames.size()));
        QCOMPARE(server.detectRequests, requestsDone);
    }
};

QTEST_MAIN(TestVideoSession)
#include "tst_videosession.moc"
