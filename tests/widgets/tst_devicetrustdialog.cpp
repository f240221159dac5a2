// The trust-on-first-use and changed-certificate dialogs as a user meets them: the fingerprint
// readable and complete, Cancel the safe default, and the way to forget an old fingerprint.

#include "widgetchild.h"

#include "widgets/devicetrustdialog.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>

using namespace edgelens;

using test::child;

namespace {

const QString kOffered = QStringLiteral("sha256:") + QStringLiteral("0123456789abcdef").repeated(4);
const QString kExpected = QStringLiteral("sha256:") + QStringLiteral("fedcba9876543210").repeated(4);

QString hexOnly(QString text)
{
    text.remove(QStringLiteral("sha256:"));
    text.remove(QRegularExpression(QStringLiteral("[^0-9a-f]")));
    return text;
}

} // namespace

class TestDeviceTrustDialog final : public QObject
{
    Q_OBJECT

private slots:
    void firstUse_showsTheWholeFingerprintAndTrustAccepts()
    {
        DeviceTrustDialog dialog(DeviceTrustDialog::Kind::FirstUse, QStringLiteral("10.0.0.7:6000"), QString(), kOffered);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QVERIFY(dialog.windowTitle().contains(QStringLiteral("10.0.0.7:6000")));
        const QString shown = child<QLabel>(&dialog, "fingerprint")->text();
        QVERIFY2(shown.startsWith(QStringLiteral("sha256:01:23:45")), qPrintable(shown));
        QCOMPARE(hexOnly(shown), hexOnly(kOffered)); // all 32 bytes, nothing elided
        QVERIFY(child<QLabel>(&dialog, "message")->text().contains(QStringLiteral("10.0.0.7:6000")));
        // Enter must not trust a device by accident.
        QVERIFY(child<QPushButton>(&dialog, "cancelButton")->isDefault());
        QSignalSpy finished(&dialog, &QDialog::finished);
        QTest::mouseClick(child<QPushButton>(&dialog, "trustButton"), Qt::LeftButton);
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.first().first().toInt(), int(QDialog::Accepted));
        QVERIFY(!dialog.isVisible());
    }

    // Rejected is also what result() says before anything was clicked: what proves the click is
    // the dialog finishing with it (what TrustPrompter acts on) and closing.
    void firstUse_cancelFinishesRejected_andCloses()
    {
        DeviceTrustDialog dialog(DeviceTrustDialog::Kind::FirstUse, QStringLiteral("[::1]:6000"), QString(), kOffered);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QSignalSpy finished(&dialog, &QDialog::finished);
        QTest::mouseClick(child<QPushButton>(&dialog, "cancelButton"), Qt::LeftButton);
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.first().first().toInt(), int(QDialog::Rejected));
        QVERIFY(!dialog.isVisible());
    }

    void firstUse_escapeIsCancel()
    {
        DeviceTrustDialog dialog(DeviceTrustDialog::Kind::FirstUse, QStringLiteral("[::1]:6000"), QString(), kOffered);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QSignalSpy finished(&dialog, &QDialog::finished);
        QTest::keyClick(&dialog, Qt::Key_Escape);
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.first().first().toInt(), int(QDialog::Rejected));
    }

    void changed_showsBothFingerprintsAndHowToForget()
    {
        DeviceTrustDialog dialog(DeviceTrustDialog::Kind::Changed, QStringLiteral("edge.local:6000"), kExpected, kOffered);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QCOMPARE(hexOnly(child<QLabel>(&dialog, "expectedFingerprint")->text()), hexOnly(kExpected));
        QCOMPARE(hexOnly(child<QLabel>(&dialog, "offeredFingerprint")->text()), hexOnly(kOffered));
        const QString message = child<QLabel>(&dialog, "message")->text();
        QVERIFY2(message.contains(QStringLiteral("edgelens-cli devices forget edge.local:6000")), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("stopped")), qPrintable(message));
        QVERIFY(child<QPushButton>(&dialog, "closeButton")->isDefault());
        QSignalSpy closed(&dialog, &QDialog::finished);
        QTest::mouseClick(child<QPushButton>(&dialog, "closeButton"), Qt::LeftButton);
        QCOMPARE(closed.size(), 1);
        QCOMPARE(closed.first().first().toInt(), int(QDialog::Rejected)); // Close does not forget
        QVERIFY(!dialog.isVisible());

        DeviceTrustDialog again(DeviceTrustDialog::Kind::Changed, QStringLiteral("edge.local:6000"), kExpected, kOffered);
        again.show();
        QSignalSpy forgot(&again, &QDialog::finished);
        QTest::mouseClick(child<QPushButton>(&again, "forgetButton"), Qt::LeftButton);
        QCOMPARE(forgot.size(), 1);
        QCOMPARE(forgot.first().first().toInt(), int(QDialog::Accepted));
    }

    // A device found on the network announced a fingerprint: the question says whether the
    // offered certificate is that one (in any notation), and says nothing without an announcement.
    void firstUse_saysWhetherTheOfferedCertificateIsTheAnnouncedOne()
    {
        DeviceTrustDialog dialog(DeviceTrustDialog::Kind::FirstUse, QStringLiteral("10.0.0.7:6000"), QString(), kOffered);
        dialog.show();
        auto *note = dialog.findChild<QLabel *>(QStringLiteral("announcementNote"));
        QVERIFY(note);
        QVERIFY(!note->isVisible());

        dialog.setAnnouncedFingerprint(kOffered.toUpper().replace(QStringLiteral("SHA256:"), QString()));
        QVERIFY(note->isVisible());
        QVERIFY2(note->text().startsWith(QLatin1String("This is the fingerprint the device announced")),
                 qPrintable(note->text()));

        dialog.setAnnouncedFingerprint(kExpected);
        QVERIFY2(note->text().startsWith(QLatin1String("This is NOT the fingerprint")), qPrintable(note->text()));
        QVERIFY(note->text().contains(kExpected));
        QVERIFY(note->styleSheet().contains(QStringLiteral("#c0392b")));

        dialog.setAnnouncedFingerprint(QString());
        QVERIFY(!note->isVisible());
        QVERIFY(DeviceTrustDialog::announcementNote(QStringLiteral("sha256:garbage"), kOffered).isEmpty());
    }

    void displayFingerprint_acceptsEveryNotation()
    {
        const QString hex = QStringLiteral("0123456789abcdef").repeated(4);
        QStringList pairs;
        for (int i = 0; i < hex.size(); i += 2)
            pairs << hex.mid(i, 2).toUpper();
        const QString expected = DeviceTrustDialog::displayFingerprint(QStringLiteral("sha256:") + hex);
        QCOMPARE(DeviceTrustDialog::displayFingerprint(QStringLiteral("SHA256:") + pairs.join(QLatin1Char(':'))), expected);
        QCOMPARE(DeviceTrustDialog::displayFingerprint(hex.toUpper()), expected);
        QCOMPARE(expected.count(QLatin1Char('\n')), 1);
        // Not a SHA-256: shown as it came, never silently "fixed".
        QCOMPARE(DeviceTrustDialog::displayFingerprint(QStringLiteral("sha256:abc")), QStringLiteral("sha256:abc"));
    }
};

QTEST_MAIN(TestDeviceTrustDialog)
#include "tst_devicetrustdialog.moc"
