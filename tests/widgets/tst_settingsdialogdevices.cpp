// The settings dialog's device list and "Test connection": devices added, edited, disabled and
// removed and kept across a restart, invalid entries named, whole addresses shown, and each
// device tested against fake v2 and legacy servers, nothing listening, and (when the server
// library is built) a real DetectionServer, plain and TLS with its trust question.
// The dialog's other sections: tst_settingsdialog.

#include "settingsdialogsuite.h"

#include "fakedetectionserver.h"
#include "testnetwork.h"

#ifdef EDGELENS_TEST_REAL_SERVER
#include "net/detectionserver.h"
#endif

#include "client/knowndevices.h"
#include "widgets/appsettings.h"
#include "widgets/devicetrustdialog.h"
#include "widgets/settingsdialog.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTest>
#include <QTimer>
#include <QTreeWidget>

using namespace edgelens;
using namespace edgelens::test;

namespace {

QTreeWidget *deviceList(SettingsDialog &dialog)
{
    return child<QTreeWidget>(&dialog, "devices");
}

// Clicks a device in the list, as a user selects it.
void selectDevice(SettingsDialog &dialog, int index)
{
    QTreeWidget *list = deviceList(dialog);
    QTreeWidgetItem *item = list->topLevelItem(index);
    QVERIFY(item);
    const QRect rect = list->visualItemRect(item);
    QVERIFY(rect.isValid());
    QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, rect.center());
    QCOMPARE(list->currentItem(), item);
}

// Flips a device's check box (enabled / disabled) as a click on it does.
void toggleDevice(SettingsDialog &dialog, int index)
{
    selectDevice(dialog, index);
    QTreeWidgetItem *item = deviceList(dialog)->topLevelItem(index);
    item->setCheckState(0, item->checkState(0) == Qt::Checked ? Qt::Unchecked : Qt::Checked);
}

void typeInto(QLineEdit *edit, const QString &text)
{
    edit->selectAll();
    QTest::keyClick(edit, Qt::Key_Delete);
    QTest::keyClicks(edit, text);
}

void addDevice(SettingsDialog &dialog, const QString &host, const QString &port)
{
    QTest::mouseClick(child<QPushButton>(&dialog, "addDeviceButton"), Qt::LeftButton);
    typeInto(child<QLineEdit>(&dialog, "host"), host);
    typeInto(child<QLineEdit>(&dialog, "port"), port);
}

} // namespace

class TestSettingsDialogDevices final : public SettingsDialogSuite
{
    Q_OBJECT

private slots:
    // At the size the dialog opens with, the device column shows whole addresses.
    void deviceList_showsWholeAddressesAtDefaultSize()
    {
        AppSettings s = remoteSettings(6000);
        AppSettings::Device wide;
        wide.host = QStringLiteral("192.168.100.200");
        wide.port = 60000;
        wide.tls = true;
        s.setDevices({s.remoteDevices().value(0), wide});
        SettingsDialog dialog(s);
        showDialog(dialog);
        QTreeWidget *list = deviceList(dialog);
        QCOMPARE(list->topLevelItemCount(), 2);
        QCOMPARE(list->topLevelItem(1)->text(0), QStringLiteral("192.168.100.200:60000"));
        for (int column : {0, 1}) {
            // Wide enough for its widest cell (check box and text), and inside the visible area.
            int needed = 0;
            for (int row = 0; row < list->topLevelItemCount(); ++row)
                needed = qMax(needed, list->sizeHintForIndex(list->model()->index(row, column)).width());
            QVERIFY(needed > 0);
            QVERIFY2(list->columnWidth(column) >= needed,
                     qPrintable(QStringLiteral("column %1: %2 < %3").arg(column).arg(list->columnWidth(column)).arg(needed)));
            QVERIFY(list->columnViewportPosition(column) + list->columnWidth(column) <= list->viewport()->width());
        }
    }

    void devices_addEditDisableRemove_persistAcrossRestart()
    {
        {
            AppSettings start = AppSettings::load();
            start.target = AppSettings::Target::Remote;
            SettingsDialog dialog(start);
            showDialog(dialog);
            QCOMPARE(deviceList(dialog)->topLevelItemCount(), 1); // migrated single device
            QCOMPARE(deviceList(dialog)->topLevelItem(0)->text(0), QStringLiteral("127.0.0.1:6000"));

            // A new entry starts without a host: OK waits for it, with the reason.
            QTest::mouseClick(child<QPushButton>(&dialog, "addDeviceButton"), Qt::LeftButton);
            QCOMPARE(deviceList(dialog)->topLevelItemCount(), 2);
            QVERIFY(!okButton(dialog)->isEnabled());
            QVERIFY(child<QLabel>(&dialog, "hostError")->text().contains(QStringLiteral("Enter a host name")));
            typeInto(child<QLineEdit>(&dialog, "host"), QStringLiteral("10.0.0.7"));
            typeInto(child<QLineEdit>(&dialog, "port"), QStringLiteral("6001"));
            auto *protocol = child<QComboBox>(&dialog, "protocol");
            protocol->setCurrentIndex(protocol->findData(int(AppSettings::Protocol::V2)));
            // On the box and its label: a check box wider than those (the form's field column)
            // does not toggle on a click in its empty right part.
            auto *tls = child<QCheckBox>(&dialog, "tls");
            QTest::mouseClick(tls, Qt::LeftButton, {}, QPoint(tls->minimumSizeHint().width() / 2, tls->height() / 2));
            QVERIFY(okButton(dialog)->isEnabled());
            QCOMPARE(deviceList(dialog)->topLevelItem(1)->text(0), QStringLiteral("10.0.0.7:6001"));
            QVERIFY(deviceList(dialog)->topLevelItem(1)->text(1).contains(QStringLiteral("TLS")));

            // A third one, then thought better of.
            addDevice(dialog, QStringLiteral("edge.local"), QStringLiteral("6002"));
            QCOMPARE(deviceList(dialog)->topLevelItemCount(), 3);
            QTest::mouseClick(child<QPushButton>(&dialog, "removeDeviceButton"), Qt::LeftButton);
            QCOMPARE(deviceList(dialog)->topLevelItemCount(), 2);

            // Edit the first (its port), and disable it: it stays listed but gets no work.
            selectDevice(dialog, 0);
            QCOMPARE(child<QLineEdit>(&dialog, "host")->text(), QStringLiteral("127.0.0.1"));
            typeInto(child<QLineEdit>(&dialog, "port"), QStringLiteral("6100"));
            toggleDevice(dialog, 0);
            QCOMPARE(deviceList(dialog)->topLevelItem(0)->checkState(0), Qt::Unchecked);
            QTest::mouseClick(child<QCheckBox>(&dialog, "embeddedJoins"), Qt::LeftButton);
            QVERIFY(okButton(dialog)->isEnabled());
            QTest::mouseClick(okButton(dialog), Qt::LeftButton);
            QCOMPARE(dialog.result(), int(QDialog::Accepted));
        }

        const AppSettings restored = AppSettings::load();
        QCOMPARE(restored.target, AppSettings::Target::Remote);
        QCOMPARE(restored.devices.size(), 2);
        QCOMPARE(restored.devices.at(0).name(), QStringLiteral("127.0.0.1:6100"));
        QCOMPARE(restored.devices.at(0).enabled, false);
        QCOMPARE(restored.devices.at(1).name(), QStringLiteral("10.0.0.7:6001"));
        QCOMPARE(restored.devices.at(1).protocol, AppSettings::Protocol::V2);
        QCOMPARE(restored.devices.at(1).tls, true);
        QCOMPARE(restored.devices.at(1).enabled, true);
        QVERIFY(restored.embeddedJoins);

        SettingsDialog reopened(restored);
        QCOMPARE(deviceList(reopened)->topLevelItemCount(), 2);
        QCOMPARE(deviceList(reopened)->topLevelItem(0)->checkState(0), Qt::Unchecked);
        QCOMPARE(deviceList(reopened)->topLevelItem(1)->checkState(0), Qt::Checked);
        QVERIFY(child<QCheckBox>(&reopened, "embeddedJoins")->isChecked());
        QVERIFY(reopened.settings() == restored);
    }

    void devices_invalidEntries_keepOkDisabledWithReason()
    {
        SettingsDialog dialog(remoteSettings(6000));
        showDialog(dialog);
        auto *listError = child<QLabel>(&dialog, "devicesError");

        // The same device twice.
        addDevice(dialog, QStringLiteral("127.0.0.1"), QStringLiteral("6000"));
        QVERIFY(!okButton(dialog)->isEnabled());
        QVERIFY2(listError->text().contains(QStringLiteral("listed twice")), qPrintable(listError->text()));
        typeInto(child<QLineEdit>(&dialog, "port"), QStringLiteral("6001"));
        QVERIFY(okButton(dialog)->isEnabled());
        QVERIFY(!listError->isVisibleTo(&dialog));

        // An invalid entry that is not selected is named by its position.
        typeInto(child<QLineEdit>(&dialog, "host"), QStringLiteral("bad host"));
        selectDevice(dialog, 0);
        QVERIFY(!okButton(dialog)->isEnabled());
        QVERIFY2(listError->text().startsWith(QStringLiteral("Device 2:")), qPrintable(listError->text()));
        QVERIFY2(dialog.validationErrors().join(QLatin1Char(' ')).contains(QStringLiteral("' '")),
                 qPrintable(dialog.validationErrors().join(QLatin1Char(' '))));
        selectDevice(dialog, 1);
        QCOMPARE(child<QLineEdit>(&dialog, "host")->text(), QStringLiteral("bad host")); // kept as typed
        typeInto(child<QLineEdit>(&dialog, "host"), QStringLiteral("10.1.1.1"));
        QVERIFY(okButton(dialog)->isEnabled());

        // TLS over the tutorial's protocol cannot work.
        auto *protocol = child<QComboBox>(&dialog, "protocol");
        protocol->setCurrentIndex(protocol->findData(int(AppSettings::Protocol::Legacy)));
        child<QCheckBox>(&dialog, "tls")->setChecked(true);
        QVERIFY2(!okButton(dialog)->isEnabled(), qPrintable(dialog.validationErrors().join(QLatin1Char('|'))));
        QVERIFY2(listError->text().contains(QStringLiteral("cannot be encrypted")), qPrintable(listError->text()));
        child<QCheckBox>(&dialog, "tls")->setChecked(false);
        QVERIFY(okButton(dialog)->isEnabled());

        // Every device disabled: nothing would process the images, unless the embedded server joins.
        toggleDevice(dialog, 0);
        toggleDevice(dialog, 1);
        QVERIFY(!okButton(dialog)->isEnabled());
        QVERIFY2(listError->text().contains(QStringLiteral("disabled")), qPrintable(listError->text()));
        QTest::mouseClick(child<QCheckBox>(&dialog, "embeddedJoins"), Qt::LeftButton);
        QVERIFY(okButton(dialog)->isEnabled());
        QTest::mouseClick(child<QCheckBox>(&dialog, "embeddedJoins"), Qt::LeftButton);

        // No device at all.
        selectDevice(dialog, 0);
        QTest::mouseClick(child<QPushButton>(&dialog, "removeDeviceButton"), Qt::LeftButton);
        QTest::mouseClick(child<QPushButton>(&dialog, "removeDeviceButton"), Qt::LeftButton);
        QCOMPARE(deviceList(dialog)->topLevelItemCount(), 0);
        QVERIFY(!okButton(dialog)->isEnabled());
        QVERIFY2(listError->text().contains(QStringLiteral("Add a device")), qPrintable(listError->text()));
        QVERIFY(!child<QPushButton>(&dialog, "testConnectionButton")->isEnabled());
        // Nothing invalid was stored meanwhile.
        QVERIFY(dialog.settings().remoteDevices() == remoteSettings(6000).remoteDevices());
    }

    void devices_testEach_showsTheResultOnThatDevice()
    {
        test::FakeDetectionServer v2(test::FakeDetectionServer::Mode::V2);
        v2.setInfo(QJsonObject{{QStringLiteral("software"), QStringLiteral("EdgeLens Server")},
                               {QStringLiteral("protocol_version"), 2}});
        QVERIFY(v2.listenOnLoopback());
        const quint16 closed = test::unusedLoopbackPort();
        SettingsDialog dialog(remoteSettings(closed));
        showDialog(dialog);
        addDevice(dialog, QStringLiteral("127.0.0.1"), QString::number(v2.serverPort()));

        const auto [ok, message] = runConnectionTest(dialog); // the selected one: the new device
        QVERIFY2(ok, qPrintable(message));
        QVERIFY2(deviceList(dialog)->topLevelItem(1)->text(2).startsWith(QStringLiteral("OK")),
                 qPrintable(deviceList(dialog)->topLevelItem(1)->text(2)));
        QVERIFY(deviceList(dialog)->topLevelItem(0)->text(2).isEmpty()); // not tested yet

        selectDevice(dialog, 0);
        const auto [ok0, message0] = runConnectionTest(dialog);
        QVERIFY2(!ok0, qPrintable(message0));
        QVERIFY2(deviceList(dialog)->topLevelItem(0)->text(2).contains(QStringLiteral("refused"), Qt::CaseInsensitive),
                 qPrintable(deviceList(dialog)->topLevelItem(0)->text(2)));
        QVERIFY(deviceList(dialog)->topLevelItem(1)->text(2).startsWith(QStringLiteral("OK")));
    }

    void testConnection_v2Server_showsServerInfoAndRoundTrip()
    {
        test::FakeDetectionServer server(test::FakeDetectionServer::Mode::V2);
        server.setInfo(QJsonObject{
            {QStringLiteral("software"), QStringLiteral("EdgeLens Server")},
            {QStringLiteral("version"), QStringLiteral("0.1.0")},
            {QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), QStringLiteral("nanodet-m-320")},
                                                  {QStringLiteral("version"), QStringLiteral("1.0")}}},
            {QStringLiteral("protocol_version"), 2},
        });
        QVERIFY(server.listenOnLoopback());
        SettingsDialog dialog(remoteSettings(server.serverPort()));
        const auto [ok, message] = runConnectionTest(dialog);
        QVERIFY2(ok, qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("EdgeLens Server 0.1.0")), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("nanodet-m-320 1.0")), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("protocol v2")), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("round trip")) && message.contains(QStringLiteral(" ms")), qPrintable(message));
        QCOMPARE(server.infoRequests(), 1);
        // The button is usable again for a second test.
        QVERIFY(child<QPushButton>(&dialog, "testConnectionButton")->isEnabled());
    }

    void testConnection_legacyServer_saysLegacy()
    {
        test::FakeDetectionServer server(test::FakeDetectionServer::Mode::Legacy);
        QVERIFY(server.listenOnLoopback());
        SettingsDialog dialog(remoteSettings(server.serverPort(), AppSettings::Protocol::Auto));
        const auto [ok, message] = runConnectionTest(dialog);
        QVERIFY2(ok, qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("legacy")), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("no detection data")), qPrintable(message));
        QCOMPARE(server.imagesReceived(), 1);
    }

    void testConnection_v2OnlyAgainstLegacyServer_fails()
    {
        test::FakeDetectionServer server(test::FakeDetectionServer::Mode::Legacy);
        QVERIFY(server.listenOnLoopback());
        AppSettings s = remoteSettings(server.serverPort(), AppSettings::Protocol::V2);
        s.timeoutMs = 1500;
        SettingsDialog dialog(s);
        const auto [ok, message] = runConnectionTest(dialog);
        QVERIFY2(!ok, qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("Timed out")) && message.contains(QStringLiteral("Legacy")), qPrintable(message));
    }

    void testConnection_nothingListening_reportsRefused()
    {
        const quint16 port = test::unusedLoopbackPort();
        SettingsDialog dialog(remoteSettings(port));
        const auto [ok, message] = runConnectionTest(dialog);
        QVERIFY2(!ok, qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("refused"), Qt::CaseInsensitive), qPrintable(message));
        QVERIFY2(message.contains(QString::number(port)), qPrintable(message));
        QVERIFY(child<QLabel>(&dialog, "connectionResult")->styleSheet().contains(QStringLiteral("#c0392b")));
    }

    void testConnection_realDetectionServer_showsItsModel()
    {
#ifdef EDGELENS_TEST_REAL_SERVER
        DetectionServer server;
        ServerConfig config = ServerConfig::embedded();
        config.workers = 1;
        QString error;
        // The embedded configuration falls back to the cascades, so a server always starts.
        QVERIFY2(server.start(config, &error), qPrintable(error));
        SettingsDialog dialog(remoteSettings(server.serverPort()));
        const auto [ok, message] = runConnectionTest(dialog);
        QVERIFY2(ok, qPrintable(message));
        QVERIFY2(message.contains(server.modelNames().value(0)), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("round trip")), qPrintable(message));
#else
        QSKIP("edgelens_server is not part of this build");
#endif
    }

    void testConnection_tlsDevice_asksTrust_thenReportsTheKnownFingerprint()
    {
#ifdef EDGELENS_TEST_REAL_SERVER
        DetectionServer server;
        ServerConfig config = ServerConfig::embedded();
        config.workers = 1;
        config.tls = true; // its self-signed certificate, made in the test's data folder
        QString error;
        QVERIFY2(server.start(config, &error), qPrintable(error));
        const QString fingerprint = server.tlsFingerprint();
        const QString key = QStringLiteral("127.0.0.1:%1").arg(server.serverPort());
        QFile::remove(KnownDevices::defaultPath());
        AppSettings settings = remoteSettings(server.serverPort(), AppSettings::Protocol::V2);
        AppSettings::Device device = settings.remoteDevices().first();
        device.tls = true;
        settings.setDevices({device});
        SettingsDialog dialog(settings);
        showDialog(dialog);

        // The first test of a new device asks as processing would; the user compares and trusts.
        QString shownFingerprint;
        QTimer answer;
        answer.setInterval(50);
        connect(&answer, &QTimer::timeout, this, [&] {
            for (QWidget *w : QApplication::topLevelWidgets()) {
                auto *ask = qobject_cast<DeviceTrustDialog *>(w);
                if (!ask || !ask->isVisible() || ask->objectName() != QLatin1String("trustDeviceDialog"))
                    continue;
                shownFingerprint = ask->findChild<QLabel *>(QStringLiteral("fingerprint"))->text();
                QTest::mouseClick(ask->findChild<QPushButton *>(QStringLiteral("trustButton")), Qt::LeftButton);
                answer.stop();
            }
        });
        answer.start();
        const auto [ok, message] = runConnectionTest(dialog);
        QVERIFY2(ok, qPrintable(message));
        QCOMPARE(shownFingerprint, DeviceTrustDialog::displayFingerprint(fingerprint));
        QVERIFY2(message.contains(QStringLiteral("TLS, certificate %1 trusted now").arg(fingerprint)), qPrintable(message));
        QCOMPARE(KnownDevices().fingerprint(key).value_or(QString()), fingerprint);

        // Known now: no question, and the report names the fingerprint it matched.
        shownFingerprint.clear();
        const auto [again, secondMessage] = runConnectionTest(dialog);
        QVERIFY2(again, qPrintable(secondMessage));
        QVERIFY2(secondMessage.contains(QStringLiteral("TLS, known certificate ") + fingerprint), qPrintable(secondMessage));
        QVERIFY(shownFingerprint.isEmpty());

        // Another certificate under that name: the test fails loudly with both fingerprints.
        const QString other = QStringLiteral("sha256:") + QString(64, QLatin1Char('b'));
        QVERIFY(KnownDevices().remember(key, other));
        const auto [changed, changedMessage] = runConnectionTest(dialog);
        QVERIFY(!changed);
        QVERIFY2(changedMessage.contains(other) && changedMessage.contains(fingerprint), qPrintable(changedMessage));
        QFile::remove(KnownDevices::defaultPath());
#else
        QSKIP("edgelens_server is not part of this build");
#endif
    }
};

QTEST_MAIN(TestSettingsDialogDevices)
#include "tst_settingsdialogdevices.moc"
