// The main window with videos: a dropped video is asked about, sampled into a group of named
// frames that the gallery collapses to one cell, the detail view steps through the frames, and
// the output opens again as the run made it. Devices are FlakyServers on loopback.

#include "flakyserver.h"
#include "mainwindowsuite.h"
#include "testdata.h"
#include "testvideos.h"

#include "detailcontroller.h"
#include "gallerydelegate.h"
#include "galleryfilterproxy.h"
#include "gallerymodel.h"
#include "galleryview.h"
#include "mainwindow.h"
#include "mainwindowparts.h"
#include "processingqueue.h"
#include "widgets/appsettings.h"
#include "widgets/detailview.h"
#include "widgets/videosamplingdialog.h"

#include <QAction>
#include <QFileInfo>
#include <QRadioButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

#include <algorithm>

using namespace edgelens;
using test::remoteSettings;

class TestMainWindowVideo : public test::MainWindowSuite
{
    Q_OBJECT

private slots:
    void videoGroup_collapsesByItsLineAndActsOnAllItsFrames()
    {
        QTemporaryDir dir;
        MainWindow window(remoteSettings(1, AppSettings::Protocol::V2, dir));
        window.resize(1200, 700);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const QString video = dir.filePath(QStringLiteral("clip.mp4"));
        QList<GalleryModel::NewImage> frames;
        for (int index : {0, 25, 50}) {
            QImage image(64, 36, QImage::Format_RGB32);
            image.fill(QColor(index * 4, 90, 120));
            const QString path = dir.filePath(QStringLiteral("clip_f%1.jpg").arg(index, 6, 10, QLatin1Char('0')));
            QVERIFY(image.save(path));
            frames.append({path, QFileInfo(path).size(), QFileInfo(path).lastModified(), video, index, {}});
        }
        QCOMPARE(window.galleryModel()->addImages(frames).size(), 3); // as frames are not sent here, nothing is
        GalleryView *view = window.galleryView();
        GalleryFilterProxy *proxy = window.galleryProxy();
        QCOMPARE(proxy->rowCount(), 3);

        const auto groupLine = [&] {
            auto *delegate = qobject_cast<GalleryDelegate *>(view->itemDelegate());
            QStyleOptionViewItem option;
            option.initFrom(view->viewport());
            option.rect = view->visualRect(proxy->index(0, 0));
            return delegate->groupLineRect(option);
        };
        QTest::mouseClick(view->viewport(), Qt::LeftButton, Qt::NoModifier, groupLine().center());
        QTRY_COMPARE(proxy->rowCount(), 1);
        QVERIFY(proxy->isGroupCollapsed(video));

        // The detail view steps through the video's frames though the gallery shows one.
        window.parts().details()->show(proxy->index(0, 0));
        DetailView *detail = window.parts().details()->view();
        QVERIFY(detail);
        QTRY_VERIFY(!detail->isLoading());
        QCOMPARE(detail->framePosition(), QStringLiteral("clip.mp4, frame 0 (1 of 3 sampled)"));
        auto *next = detail->findChild<QToolButton *>(QStringLiteral("nextFrame"));
        auto *previous = detail->findChild<QToolButton *>(QStringLiteral("previousFrame"));
        QVERIFY(next && previous);
        QVERIFY(!previous->isEnabled());
        QTest::mouseClick(next, Qt::LeftButton);
        QCOMPARE(QFileInfo(detail->originalPath()).fileName(), QStringLiteral("clip_f000025.jpg"));
        window.parts().details()->stepFrame(+1); // what "." does
        QCOMPARE(detail->framePosition(), QStringLiteral("clip.mp4, frame 50 (3 of 3 sampled)"));
        QVERIFY(!next->isEnabled());
        QVERIFY(previous->isEnabled());
        detail->close();

        // The collapsed cell stands for the whole video: removing it removes every frame.
        view->selectionModel()->select(proxy->index(0, 0), QItemSelectionModel::ClearAndSelect);
        QAction *remove = nullptr;
        for (QAction *a : window.findChildren<QAction *>()) {
            if (a->text() == QStringLiteral("&Remove from Gallery"))
                remove = a;
        }
        QVERIFY(remove);
        remove->trigger();
        QCOMPARE(window.galleryModel()->rowCount(), 0);
    }

    void droppedVideo_isSampledIntoAGroupOfNamedFrames()
    {
        EDGELENS_REQUIRE(test::haveFfmpeg(), "ffmpeg and ffprobe (Debian package ffmpeg) make the test video");
        QTemporaryDir dir;
        // Three slides of ten frames each at 10 fps: sampling every 10 frames keeps 0, 10 and 20.
        QStringList slides;
        for (const QColor &colour : {QColor(Qt::darkRed), QColor(Qt::darkGreen), QColor(Qt::darkBlue)}) {
            QImage image(160, 90, QImage::Format_RGB32);
            image.fill(colour);
            slides << dir.filePath(QStringLiteral("slide%1.png").arg(slides.size()));
            QVERIFY(image.save(slides.last()));
        }
        const QString video = dir.filePath(QStringLiteral("clip.mp4"));
        QString error;
        QVERIFY2(test::makeSlideshow(video, slides, 10, QSize(320, 180), 10, &error), qPrintable(error));
        FlakyServer server;
        QVERIFY(server.listen());
        MainWindow window(remoteSettings(server.port(), AppSettings::Protocol::V2, dir));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.addPaths({video});

        // Asked before it runs, with the count the choice gives.
        VideoSamplingDialog *dialog = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((dialog = window.findChild<VideoSamplingDialog *>()) != nullptr, 20000);
        QVERIFY2(dialog->countText().contains(QStringLiteral("3 frames")), qPrintable(dialog->countText())); // 1 a second
        dialog->findChild<QRadioButton *>(QStringLiteral("everyFrames"))->setChecked(true);
        dialog->findChild<QSpinBox *>(QStringLiteral("frames"))->setValue(15);
        QVERIFY2(dialog->countText().startsWith(QStringLiteral("2 frames")), qPrintable(dialog->countText()));
        dialog->findChild<QSpinBox *>(QStringLiteral("frames"))->setValue(10);
        QVERIFY2(dialog->countText().startsWith(QStringLiteral("3 frames")), qPrintable(dialog->countText()));
        dialog->accept();

        GalleryModel *model = window.galleryModel();
        QTRY_VERIFY_WITH_TIMEOUT(model->count(GalleryItem::Status::Done) == 3 && !window.parts().queue()->isBusy(), 60000);
        QCOMPARE(model->rowCount(), 3);
        const QString canonicalVideo = QFileInfo(video).canonicalFilePath();
        QStringList names;
        QList<qint64> indices;
        for (int row = 0; row < model->rowCount(); ++row) {
            QCOMPARE(model->item(row).group, canonicalVideo);
            names << model->item(row).fileName;
            indices << model->item(row).groupOrder;
        }
        std::sort(names.begin(), names.end());
        std::sort(indices.begin(), indices.end());
        QCOMPARE(names, (QStringList{QStringLiteral("clip_f000000.jpg"), QStringLiteral("clip_f000010.jpg"),
                                     QStringLiteral("clip_f000020.jpg")}));
        QCOMPARE(indices, (QList<qint64>{0, 10, 20}));
        GalleryFilterProxy *proxy = window.galleryProxy();
        QVERIFY(proxy->index(0, 0).data(GalleryFilterProxy::GroupLeadRole).toBool());
        QCOMPARE(proxy->index(0, 0).data(Qt::DisplayRole).toString(), QStringLiteral("clip_f000000.jpg"));
        const GalleryFilterProxy::GroupSummary summary = proxy->groupSummary(canonicalVideo);
        QCOMPARE(summary.items, 3);
        QCOMPARE(summary.done, 3);
        QCOMPARE(summary.expected, 3);
        // The detail view says where the frame is, with the decoder's time of it.
        window.parts().details()->show(proxy->index(1, 0));
        DetailView *detail = window.parts().details()->view();
        QVERIFY(detail);
        QCOMPARE(detail->framePosition(), QStringLiteral("clip.mp4, frame 10 (2 of 3 sampled) at 1.000 s"));
        detail->close();

        // The output opens again as the run made it: the same group, frames and origins.
        MainWindow reopened(remoteSettings(server.port(), AppSettings::Protocol::V2, dir));
        QSignalSpy opened(&reopened, &MainWindow::resultsOpened);
        reopened.openResults(dir.filePath(QStringLiteral("out")));
        QVERIFY(opened.wait(30000));
        QCOMPARE(opened.first().at(0).toInt(), 3); // pairs
        QCOMPARE(opened.first().at(1).toInt(), 0); // the frame files are originals, not results
        for (const GalleryItem &made : model->items()) {
            const int row = reopened.galleryModel()->rowOfPath(made.path);
            QVERIFY2(row >= 0, qPrintable(made.path));
            const GalleryItem &back = reopened.galleryModel()->item(row);
            QCOMPARE(back.group, made.group);
            QCOMPARE(back.groupOrder, made.groupOrder);
            QCOMPARE(back.origin, made.origin);
        }
    }
};

QTEST_MAIN(TestMainWindowVideo)
#include "tst_mainwindowvideo.moc"
