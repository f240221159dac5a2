// The main window's layout and menus: menus and toolbar follow the conventions with shortcuts,
// the filters wrap to their own row in a narrow window, the empty gallery paints its drop hint,
// a selected cell stays readable, and Settings shows the device's measured time per image.

#include "fakedetectionserver.h"
#include "flakyserver.h"
#include "mainwindowsuite.h"

#include "client/detectionclient.h"
#include "embeddedserver.h"
#include "galleryfilterproxy.h"
#include "gallerymodel.h"
#include "galleryview.h"
#include "mainwindow.h"
#include "mainwindowparts.h"
#include "widgets/appsettings.h"
#include "widgets/settingsdialog.h"

#include <QAction>
#include <QComboBox>
#include <QJsonArray>
#include <QJsonObject>
#include <QMenuBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>

#include <cmath>

using namespace edgelens;
using test::remoteSettings;

class TestMainWindowLayout : public test::MainWindowSuite
{
    Q_OBJECT

private slots:
    void menusAndToolbar_followConventionsWithShortcuts()
    {
        AppSettings settings;
        MainWindow window(settings);
        QStringList menus;
        for (QAction *a : window.menuBar()->actions())
            menus << a->text().remove(QLatin1Char('&'));
        QCOMPARE(menus, (QStringList{QStringLiteral("File"), QStringLiteral("Edit"), QStringLiteral("View"),
                                     QStringLiteral("Tools"), QStringLiteral("Help")}));
        auto *bar = window.findChild<QToolBar *>(QStringLiteral("mainToolBar"));
        QVERIFY(bar);
        int checked = 0;
        for (QAction *a : bar->actions()) {
            if (a->isSeparator())
                continue;
            if (auto *button = qobject_cast<QToolButton *>(bar->widgetForAction(a)); button && button->menu()) {
                // A drop-down (Export): each of its entries needs its own shortcut.
                for (QAction *entry : button->menu()->actions()) {
                    if (!entry->isSeparator())
                        QVERIFY2(!entry->shortcut().isEmpty(), qPrintable(entry->text()));
                }
                continue;
            }
            QVERIFY2(!a->shortcut().isEmpty(), qPrintable(a->text()));
            ++checked;
        }
        QVERIFY(checked >= 6);
    }

    // Issue 16: the model list in Settings shows what one image took on the device, from the
    // server-info the window received (not only after a Test Connection in the dialog).
    void settings_showTheDevicesMeasuredTimePerImage()
    {
        test::FakeDetectionServer device(test::FakeDetectionServer::Mode::V2);
        device.setInfo(QJsonObject{
            {QStringLiteral("protocol_version"), 2},
            {QStringLiteral("models"), QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("picodet-s-320")},
                                                              {QStringLiteral("default"), true},
                                                              {QStringLiteral("measured_ms"), 42.5}}}},
        });
        QVERIFY(device.listenOnLoopback());
        QTemporaryDir dir;
        MainWindow window(remoteSettings(device.serverPort(), AppSettings::Protocol::V2, dir));
        QSignalSpy info(window.parts().client(), &DetectionClient::serverInfoReceived);
        window.show();
        QVERIFY(info.count() > 0 || info.wait(20000));

        QAction *settings = nullptr;
        for (QAction *a : window.findChildren<QAction *>()) {
            if (a->shortcut() == QKeySequence(Qt::CTRL | Qt::Key_Comma))
                settings = a;
        }
        QVERIFY(settings);
        QString shown;
        auto *poll = new QTimer(&window);
        connect(poll, &QTimer::timeout, &window, [&window, &shown, poll] {
            auto *dialog = window.findChild<SettingsDialog *>();
            if (!dialog || !dialog->isVisible())
                return;
            poll->stop();
            auto *model = dialog->findChild<QComboBox *>(QStringLiteral("model"));
            shown = model->itemText(model->findData(QStringLiteral("picodet-s-320")));
            dialog->reject();
        });
        poll->start(20);
        settings->trigger(); // returns when the dialog closes
        QVERIFY2(shown.contains(QStringLiteral("42.5 ms per image on ")), qPrintable(shown));
    }

    void selectedCell_textStaysReadable()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("a_rather_long_file_name.jpg"));
        QImage image(64, 48, QImage::Format_RGB32);
        image.fill(Qt::darkGreen);
        QVERIFY(image.save(path));
        FlakyServer server;
        QVERIFY(server.listen());
        AppSettings settings = remoteSettings(server.port(), AppSettings::Protocol::V2, dir);
        MainWindow window(settings);
        window.resize(900, 600);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.addPaths({path});
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Done), 1, 10000);

        // The text lines under the thumbnails: how many pixels stand out from the cell's
        // background. A selection that paints white text on white leaves only the status dot.
        const auto inkInTextLines = [&window] {
            const QRect cell = window.galleryView()->visualRect(window.galleryProxy()->index(0, 0));
            const QImage shot = window.galleryView()->viewport()->grab().toImage();
            const QRect lines(cell.left(), cell.bottom() - cell.height() / 4, cell.width(), cell.height() / 4);
            const QColor background(shot.pixel(cell.right() - 2, cell.bottom() - 2));
            int ink = 0;
            for (int y = lines.top(); y <= lines.bottom(); ++y) {
                for (int x = lines.left(); x <= lines.right(); ++x) {
                    const QColor c(shot.pixel(x, y));
                    ink += std::abs(c.red() - background.red()) + std::abs(c.green() - background.green())
                            + std::abs(c.blue() - background.blue())
                        > 240;
                }
            }
            return ink;
        };
        const int unselected = inkInTextLines();
        QVERIFY2(unselected > 150, qPrintable(QString::number(unselected)));
        window.galleryView()->selectionModel()->select(window.galleryProxy()->index(0, 0), QItemSelectionModel::Select);
        const int selected = inkInTextLines();
        QVERIFY2(selected > unselected / 2, qPrintable(QStringLiteral("%1 vs %2 unselected").arg(selected).arg(unselected)));
    }

    void narrowWindow_filtersMoveToTheirOwnRow()
    {
        AppSettings settings;
        MainWindow window(settings);
        window.resize(1600, 700);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto *sort = window.findChild<QComboBox *>(QStringLiteral("sortKey"));
        auto *main = window.findChild<QToolBar *>(QStringLiteral("mainToolBar"));
        auto *filters = window.findChild<QToolBar *>(QStringLiteral("filterToolBar"));
        QVERIFY(sort && main && filters);
        QTRY_VERIFY(sort->isVisible());
        QCOMPARE(filters->geometry().top(), main->geometry().top()); // one row

        window.resize(900, 700);
        // Every filter stays usable: nothing hides behind an overflow arrow.
        QTRY_VERIFY(filters->geometry().top() > main->geometry().top());
        QTRY_VERIFY(sort->isVisible());
        QVERIFY(filters->geometry().contains(sort->geometry().translated(filters->geometry().topLeft())));

        window.resize(1600, 700);
        QTRY_COMPARE(filters->geometry().top(), main->geometry().top());
    }

    void emptyGallery_paintsDropHint()
    {
        AppSettings settings;
        MainWindow window(settings);
        window.resize(800, 600);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        // The embedded server is only started once there is something to process.
        QCOMPARE(window.parts().embedded()->state(), EmbeddedServer::State::Stopped);
        const QImage shot = window.galleryView()->viewport()->grab().toImage();
        const QColor base = window.galleryView()->palette().color(QPalette::Base);
        int inked = 0;
        for (int y = shot.height() / 3; y < 2 * shot.height() / 3; y += 2)
            for (int x = 0; x < shot.width(); x += 2)
                inked += QColor(shot.pixel(x, y)) != base;
        QVERIFY2(inked > 200, qPrintable(QString::number(inked))); // the "Drop images here" text and frame
    }
};

QTEST_MAIN(TestMainWindowLayout)
#include "tst_mainwindowlayout.moc"
