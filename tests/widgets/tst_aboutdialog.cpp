#include "widgets/aboutdialog.h"
#include "widgets/icons.h"

#include <QLabel>
#include <QStandardPaths>
#include <QTest>

using namespace edgelens;

class TestAboutDialog final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void about_showsVersionsAndLicence()
    {
        AboutDialog dialog;
        const QString text = dialog.findChild<QLabel *>(QStringLiteral("aboutText"))->text();
        QVERIFY2(text.contains(QStringLiteral("EdgeLens " EDGELENS_VERSION)), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("Qt ") + QString::fromLatin1(qVersion())), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("OpenCV 4.")), qPrintable(text));
        QVERIFY(text.contains(QStringLiteral("Licences")));
        QVERIFY(!dialog.windowIcon().isNull());
    }

    void appIcon_hasEveryShippedSize()
    {
        const QIcon icon = icons::appIcon();
        const QList<QSize> sizes = icon.availableSizes();
        for (int size : {16, 32, 48, 64, 128, 256})
            QVERIFY2(sizes.contains(QSize(size, size)), qPrintable(QString::number(size)));
        const QImage big = icon.pixmap(256, 256).toImage();
        QCOMPARE(big.size(), QSize(256, 256));
        // Rounded corners are transparent, the centre is opaque: it really is the drawn icon.
        QCOMPARE(qAlpha(big.pixel(0, 0)), 0);
        QCOMPARE(qAlpha(big.pixel(128, 128)), 255);
    }

    void toolbarIcons_loadAndUnknownNamesAreNull()
    {
        for (const char *name : {"zoom-in", "zoom-out", "zoom-fit", "zoom-original", "run", "stop", "settings", "export"})
            QVERIFY2(!icons::icon(QLatin1String(name)).isNull(), name);
        QTest::ignoreMessage(QtWarningMsg, "no icon named \"no-such-icon\"");
        QVERIFY(icons::icon(QStringLiteral("no-such-icon")).isNull());
    }
};

QTEST_MAIN(TestAboutDialog)
#include "tst_aboutdialog.moc"
