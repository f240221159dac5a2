#include "widgets/appsettings.h"
#include "widgets/settingsdialog.h"

#ifdef EDGELENS_TEST_REAL_SERVER
#include "net/detectionserver.h"
#endif

#include "client/detectionclient.h"
#include "client/knowndevices.h"
#include "widgets/devicetrustdialog.h"
#include "widgets/tokenstore.h"

#include "fakedetectionserver.h"
#include "isolateduserstate.h"
#include "testdata.h"
#include "testnetwork.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>
#include <QTimer>
#include <QTreeWidget>

using namespace edgelens;

namespace {

template<typename T>
T *child(QWidget *parent, const char *name)
{
    T *widget = parent->findChild<T *>(QLatin1String(name));
    if (!widget)
        qFatal("no child %s", name);
    return widget;
}

QPushButton *okButton(SettingsDialog &dialog)
{
    return dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
}

AppSettings remoteSettings(quint16 port, AppSettings::Protocol protocol = AppSettings::Protocol::Auto)
{
    AppSettings s;
    s.target = AppSettings::Target::Remote;
    s.host = QStringLiteral("127.0.0.1");
    s.port = port;
    s.protocol = protocol;
    s.timeoutMs = 5000;
    return s;
}

// Runs "Test connection" through the button, as a user would, and returns (ok, message).
std::pair<bool, QString> runConnectionTest(SettingsDialog &dialog)
{
    QSignalSpy finished(&dialog, &SettingsDialog::connectionTestFinished);
    auto *button = child<QPushButton>(&dialog, "testConnectionButton");
    if (!button->isEnabled())
        return {false, QStringLiteral("<button disabled>")};
    QTest::mouseClick(button, Qt::LeftButton);
    if (!finished.wait(15000))
        return {false, QStringLiteral("<no answer within 15 s>")};
    const QString shown = child<QLabel>(&dialog, "connectionResult")->text();
    const QString message = finished.first().at(1).toString();
    qInfo().noquote() << "connection test said:" << message;
    if (shown != message)
        return {false, QStringLiteral("<label \"%1\" differs from \"%2\">").arg(shown, message)};
    return {finished.first().at(0).toBool(), message};
}

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

void showDialog(SettingsDialog &dialog)
{
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
}

} // namespace

class TestSettingsDialog final : public QObject
{
    Q_OBJECT

private:
    test::IsolatedUserState m_configDir; // QSettings and QStandardPaths stay in a temporary folder

private slots:
    void initTestCase()
    {
        QVERIFY(m_configDir.isValid());
        // No keyring service here (as on CI and in offscreen sessions): the token must take
        // the settings-file path and say so. Pinned so a developer's own keyring is never touched.
        qputenv("DBUS_SESSION_BUS_ADDRESS", "disabled:");
    }

    void init()
    {
        QSettings(QStringLiteral("EdgeLens"), QStringLiteral("EdgeLens")).clear();
        DetectionClient::forgetDetectedProtocols();
    }

    void invalidHost_keepsOkDisabledWithReason_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<QString>("reasonPart");
        QTest::newRow("octet out of range") << "192.168.1.300" << "0-255";
        QTest::newRow("space") << "my device" << "' '";
        QTest::newRow("empty") << "" << "Enter a host name";
        QTest::newRow("port in host") << "10.0.0.2:6000" << "Port field";
    }

    void invalidHost_keepsOkDisabledWithReason()
    {
        QFETCH(QString, host);
        QFETCH(QString, reasonPart);
        SettingsDialog dialog(remoteSettings(6000));
        QVERIFY(okButton(dialog)->isEnabled());
        child<QLineEdit>(&dialog, "host")->setText(host);
        QVERIFY(!okButton(dialog)->isEnabled());
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("accept\\(\\) with invalid fields ignored")));
        QVERIFY(!child<QPushButton>(&dialog, "testConnectionButton")->isEnabled());
        auto *reason = child<QLabel>(&dialog, "hostError");
        QVERIFY(reason->isVisibleTo(&dialog));
        QVERIFY2(reason->text().contains(reasonPart), qPrintable(reason->text()));

        // Enter and programmatic accept() must not store the invalid state either, nor close.
        dialog.show();
        QSignalSpy finished(&dialog, &QDialog::finished);
        dialog.accept();
        QCOMPARE(finished.size(), 0);
        QVERIFY(dialog.isVisible());
        QVERIFY(!QSettings(QStringLiteral("EdgeLens"), QStringLiteral("EdgeLens")).contains(QStringLiteral("connection/host")));

        child<QLineEdit>(&dialog, "host")->setText(QStringLiteral("edge-device.local"));
        QVERIFY(okButton(dialog)->isEnabled());
        QVERIFY(!reason->isVisibleTo(&dialog));
    }

    void invalidPort_keepsOkDisabledWithReason_data()
    {
        QTest::addColumn<QString>("port");
        QTest::addColumn<QString>("reasonPart");
        QTest::newRow("zero") << "0" << "out of range";
        QTest::newRow("too big") << "65536" << "out of range";
        QTest::newRow("negative") << "-1" << "out of range";
        QTest::newRow("text") << "http" << "not a number";
        QTest::newRow("empty") << "" << "Enter a port";
    }

    void invalidPort_keepsOkDisabledWithReason()
    {
        QFETCH(QString, port);
        QFETCH(QString, reasonPart);
        SettingsDialog dialog(remoteSettings(6000));
        child<QLineEdit>(&dialog, "port")->setText(port);
        QVERIFY(!okButton(dialog)->isEnabled());
        auto *reason = child<QLabel>(&dialog, "portError");
        QVERIFY(reason->isVisibleTo(&dialog));
        QVERIFY2(reason->text().contains(reasonPart), qPrintable(reason->text()));
        child<QLineEdit>(&dialog, "port")->setText(QStringLiteral("65535"));
        QVERIFY(okButton(dialog)->isEnabled());
    }

    void outputFolderThatIsAFile_keepsOkDisabled()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("not-a-folder"));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        SettingsDialog dialog(AppSettings{});
        child<QLineEdit>(&dialog, "outputDir")->setText(file);
        QVERIFY(!okButton(dialog)->isEnabled());
        QVERIFY(child<QLabel>(&dialog, "outputDirError")->text().contains(QStringLiteral("not a folder")));
        child<QLineEdit>(&dialog, "outputDir")->setText(QStringLiteral("relative/path"));
        QVERIFY(!okButton(dialog)->isEnabled());
        child<QLineEdit>(&dialog, "outputDir")->setText(dir.filePath(QStringLiteral("new-folder")));
        QVERIFY(okButton(dialog)->isEnabled());
    }

    void embeddedTarget_disablesAddressAndEnablesModel()
    {
        AppSettings s = remoteSettings(6000);
        SettingsDialog dialog(s);
        auto *target = child<QComboBox>(&dialog, "target");
        auto *model = child<QComboBox>(&dialog, "model");
        QVERIFY(!model->isEnabled());
        QVERIFY(child<QLineEdit>(&dialog, "host")->isEnabled());
        child<QLineEdit>(&dialog, "host")->setText(QStringLiteral("bad host"));
        QVERIFY(!okButton(dialog)->isEnabled());

        target->setCurrentIndex(target->findData(int(AppSettings::Target::Embedded)));
        QVERIFY(model->isEnabled());
        QVERIFY(!child<QLineEdit>(&dialog, "host")->isEnabled());
        QVERIFY(!child<QPushButton>(&dialog, "testConnectionButton")->isEnabled());
        // The address cannot be edited for the embedded server, so it must not block OK; the
        // last valid host is what gets stored.
        QVERIFY(okButton(dialog)->isEnabled());
        QCOMPARE(dialog.settings().host, s.host);
        QCOMPARE(dialog.settings().target, AppSettings::Target::Embedded);
    }

    void unknownStoredModel_isShownAndBlocksOk()
    {
        AppSettings s;
        s.model = QStringLiteral("no-such-model-xyz");
        SettingsDialog dialog(s);
        auto *model = child<QComboBox>(&dialog, "model");
        QVERIFY(model->currentText().contains(QStringLiteral("no-such-model-xyz")));
        QVERIFY(!okButton(dialog)->isEnabled());
        QVERIFY(child<QLabel>(&dialog, "modelError")->text().contains(QStringLiteral("no-such-model-xyz")));
        model->setCurrentIndex(0); // the catalog default
        QVERIFY(okButton(dialog)->isEnabled());
        QCOMPARE(dialog.settings().model, QString());
    }

    void modelList_showsCatalogModels()
    {
        EDGELENS_REQUIRE_SHARED(QStringLiteral("models/picodet-s-320/picodet_s_320_coco.onnx"));
        EDGELENS_REQUIRE_SHARED(QStringLiteral("models/nanodet-m-320/nanodet-m-320.onnx"));
        SettingsDialog dialog(AppSettings{});
        auto *model = child<QComboBox>(&dialog, "model");
        QVERIFY(model->itemText(0).contains(QStringLiteral("picodet-s-320"))); // the catalog default
        const int index = model->findData(QStringLiteral("nanodet-m-320"));
        QVERIFY(index > 0);
        // chosen by evidence: input size and recorded accuracy beside each name
        const QString pico = model->itemText(model->findData(QStringLiteral("picodet-s-320")));
        QVERIFY2(pico.contains(QStringLiteral("320x320")) && pico.contains(QStringLiteral("mAP 0.383")), qPrintable(pico));
        QVERIFY2(model->itemText(index).contains(QStringLiteral("mAP 0.304")), qPrintable(model->itemText(index)));
        model->setCurrentIndex(index);
        QVERIFY(okButton(dialog)->isEnabled());
        QCOMPARE(dialog.settings().model, QStringLiteral("nanodet-m-320"));
    }

    // The fields show the threshold in force: with "Model default" ticked, the chosen model's
    // own (0.40 here), not a placeholder; unticking starts from it; ticking again shows it again.
    void modelDefault_showsTheModelsValueInForce()
    {
        AppSettings s;
        s.model = QStringLiteral("test-model");
        s.confidence = -1.0;
        s.nmsIou = -1.0;
        SettingsDialog dialog(s);
        SettingsDialog::ModelChoice other{QStringLiteral("other-model"), QStringLiteral("other"), true, 0.25, 0.7};
        dialog.setModelChoices({{QStringLiteral("test-model"), QStringLiteral("test"), true, 0.4, 0.6}, other});
        auto *confidence = child<QDoubleSpinBox>(&dialog, "confidence");
        auto *nms = child<QDoubleSpinBox>(&dialog, "nms");
        auto *confidenceDefault = child<QCheckBox>(&dialog, "confidenceDefault");
        QVERIFY(confidenceDefault->isChecked());
        QVERIFY(!confidence->isEnabled());
        QCOMPARE(confidence->text(), QLocale().toString(0.4, 'f', 2));
        QCOMPARE(nms->text(), QLocale().toString(0.6, 'f', 2));
        QVERIFY(confidenceDefault->toolTip().contains(QStringLiteral("test-model")));

        auto *model = child<QComboBox>(&dialog, "model");
        model->setCurrentIndex(model->findData(QStringLiteral("other-model")));
        QCOMPARE(confidence->value(), 0.25);
        QCOMPARE(nms->value(), 0.7);

        confidenceDefault->setChecked(false);
        QVERIFY(confidence->isEnabled());
        QCOMPARE(confidence->value(), 0.25); // starts from what was in force
        confidence->setValue(0.65);
        QCOMPARE(dialog.settings().confidence, 0.65);
        QCOMPARE(dialog.settings().nmsIou, -1.0); // still the model's
        confidenceDefault->setChecked(true);
        QCOMPARE(confidence->value(), 0.25);
        QCOMPARE(dialog.settings().confidence, -1.0);
        confidenceDefault->setChecked(false);
        QCOMPARE(confidence->value(), 0.65); // the user's own value came back
    }

    void modelDefault_catalogDefaultModel_showsItsManifestValue()
    {
        EDGELENS_REQUIRE_SHARED(QStringLiteral("models/picodet-s-320/picodet_s_320_coco.onnx"));
        AppSettings s; // "Default model" (picodet-s-320, default_confidence 0.4), thresholds unset
        SettingsDialog dialog(s);
        QVERIFY(child<QCheckBox>(&dialog, "confidenceDefault")->isChecked());
        QCOMPARE(child<QDoubleSpinBox>(&dialog, "confidence")->value(), 0.4);
        QVERIFY(child<QCheckBox>(&dialog, "confidenceDefault")->toolTip().startsWith(QLatin1String("picodet-s-320")));
    }

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

    void validValues_persistAcrossRestart()
    {
        {
            SettingsDialog dialog(AppSettings::load());
            auto *target = child<QComboBox>(&dialog, "target");
            target->setCurrentIndex(target->findData(int(AppSettings::Target::Remote)));
            child<QLineEdit>(&dialog, "host")->setText(QStringLiteral("[::1]"));
            child<QLineEdit>(&dialog, "port")->setText(QStringLiteral("7001"));
            auto *protocol = child<QComboBox>(&dialog, "protocol");
            protocol->setCurrentIndex(protocol->findData(int(AppSettings::Protocol::V2)));
            child<QSpinBox>(&dialog, "timeout")->setValue(4500);
            child<QSpinBox>(&dialog, "inFlight")->setValue(7);
            child<QCheckBox>(&dialog, "confidenceDefault")->setChecked(false);
            child<QDoubleSpinBox>(&dialog, "confidence")->setValue(0.35);
            child<QCheckBox>(&dialog, "nmsDefault")->setChecked(false);
            child<QDoubleSpinBox>(&dialog, "nms")->setValue(0.6);
            child<QLineEdit>(&dialog, "outputDir")->setText(m_configDir.filePath(QStringLiteral("results")));
            child<QSpinBox>(&dialog, "jpegQuality")->setValue(72);
            child<QCheckBox>(&dialog, "jsonSidecars")->setChecked(false);
            QVERIFY(okButton(dialog)->isEnabled());
            QTest::mouseClick(okButton(dialog), Qt::LeftButton);
            QCOMPARE(dialog.result(), int(QDialog::Accepted));
        }

        // "Restart": nothing but what QSettings kept.
        const AppSettings restored = AppSettings::load();
        QCOMPARE(restored.target, AppSettings::Target::Remote);
        QCOMPARE(restored.host, QStringLiteral("[::1]"));
        QCOMPARE(restored.port, quint16(7001));
        QCOMPARE(restored.protocol, AppSettings::Protocol::V2);
        QCOMPARE(restored.timeoutMs, 4500);
        QCOMPARE(restored.maxInFlight, 7);
        QCOMPARE(restored.confidence, 0.35);
        QCOMPARE(restored.nmsIou, 0.6);
        QCOMPARE(restored.outputDir, m_configDir.filePath(QStringLiteral("results")));
        QCOMPARE(restored.jpegQuality, 72);
        QCOMPARE(restored.jsonSidecars, false);

        SettingsDialog reopened(restored);
        QCOMPARE(child<QLineEdit>(&reopened, "host")->text(), QStringLiteral("[::1]"));
        QCOMPARE(child<QLineEdit>(&reopened, "port")->text(), QStringLiteral("7001"));
        QCOMPARE(child<QSpinBox>(&reopened, "jpegQuality")->value(), 72);
        QVERIFY(!child<QCheckBox>(&reopened, "nmsDefault")->isChecked());
        QVERIFY(reopened.settings() == restored);
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

    void token_withoutKeyring_isKeptInTheSettingsFileWithANote()
    {
        QString path;
        {
            SettingsDialog dialog(remoteSettings(6000));
            QSignalSpy loaded(&dialog, &SettingsDialog::tokenLoaded);
            showDialog(dialog);
            QVERIFY(loaded.count() == 1 || loaded.wait(20000));
            auto *note = child<QLabel>(&dialog, "tokenNote");
            QVERIFY(note->isVisibleTo(&dialog));
            QVERIFY2(note->text().contains(QStringLiteral("settings file")), qPrintable(note->text()));
            auto *token = child<QLineEdit>(&dialog, "token");
            QVERIFY(token->isEnabled());
            QVERIFY(token->text().isEmpty());
            QTest::keyClicks(token, QStringLiteral("s3cret-token"));
            QCOMPARE(dialog.settings().token.value_or(QString()), QStringLiteral("s3cret-token"));
            QSignalSpy saved(&dialog, &SettingsDialog::tokenSaved);
            QTest::mouseClick(okButton(dialog), Qt::LeftButton);
            QVERIFY(saved.wait(20000));
            QCOMPARE(saved.first().at(0).toBool(), true);
        }
        QSettings settings(QStringLiteral("EdgeLens"), QStringLiteral("EdgeLens"));
        QCOMPARE(settings.value(QStringLiteral("connection/token")).toString(), QStringLiteral("s3cret-token"));
        // AppSettings itself never carries it to disk; the next dialog reads it back from the store.
        QVERIFY(!AppSettings::load().token.has_value());
        SettingsDialog reopened(AppSettings::load());
        QSignalSpy loaded(&reopened, &SettingsDialog::tokenLoaded);
        QVERIFY(loaded.wait(20000));
        QCOMPARE(child<QLineEdit>(&reopened, "token")->text(), QStringLiteral("s3cret-token"));

        // Clearing the field forgets the token.
        child<QLineEdit>(&reopened, "token")->clear();
        QSignalSpy saved(&reopened, &SettingsDialog::tokenSaved);
        reopened.accept();
        QVERIFY(saved.wait(20000));
        settings.sync();
        QVERIFY(!settings.contains(QStringLiteral("connection/token")));
    }

    void token_notYetRead_isNeitherShownNorOverwritten()
    {
        QSettings(QStringLiteral("EdgeLens"), QStringLiteral("EdgeLens")).setValue(QStringLiteral("connection/token"), QStringLiteral("keep-me"));
        {
            SettingsDialog dialog(remoteSettings(6000));
            // Accepted before the store answered: the token is unknown, not empty.
            QVERIFY(!child<QLineEdit>(&dialog, "token")->isEnabled());
            QVERIFY(!dialog.settings().token.has_value());
            dialog.accept();
        }
        // A write the dialog started would be ahead of this read: QtKeychain runs its jobs one
        // at a time in the order they were started, so the read answers after any such write.
        TokenStore after;
        QSignalSpy loaded(&after, &TokenStore::loaded);
        after.read();
        QVERIFY(loaded.wait(10000));
        QCOMPARE(loaded.first().at(0).toString(), QStringLiteral("keep-me"));
        QCOMPARE(QSettings(QStringLiteral("EdgeLens"), QStringLiteral("EdgeLens")).value(QStringLiteral("connection/token")).toString(),
                 QStringLiteral("keep-me"));
    }

    void largePhotos_sendOriginalAndResultSize_persistAcrossRestart()
    {
        {
            SettingsDialog dialog(AppSettings::load());
            auto *send = child<QCheckBox>(&dialog, "sendOriginalFiles");
            auto *size = child<QComboBox>(&dialog, "resultMaxSide");
            // The defaults: reduced copies, results fit within 2048 px.
            QVERIFY(!send->isChecked());
            QCOMPARE(size->currentData().toInt(), 2048);
            QCOMPARE(size->currentText(), QStringLiteral("Fit within 2048 px"));
            send->setChecked(true);
            size->setCurrentIndex(size->findText(QStringLiteral("Original size")));
            QTest::mouseClick(okButton(dialog), Qt::LeftButton);
            QCOMPARE(dialog.result(), int(QDialog::Accepted));
        }
        const AppSettings restored = AppSettings::load();
        QCOMPARE(restored.sendOriginalFiles, true);
        QCOMPARE(restored.resultMaxSide, 0);
        SettingsDialog reopened(restored);
        QVERIFY(child<QCheckBox>(&reopened, "sendOriginalFiles")->isChecked());
        QCOMPARE(child<QComboBox>(&reopened, "resultMaxSide")->currentText(), QStringLiteral("Original size"));
        QVERIFY(reopened.settings() == restored);

        // A size written into the settings file by hand is shown and kept, not replaced.
        AppSettings custom = restored;
        custom.resultMaxSide = 4096;
        SettingsDialog handEdited(custom);
        QCOMPARE(child<QComboBox>(&handEdited, "resultMaxSide")->currentText(), QStringLiteral("Fit within 4096 px"));
        QCOMPARE(handEdited.settings().resultMaxSide, 4096);
    }

    void cancel_storesNothing()
    {
        SettingsDialog dialog(AppSettings::load());
        child<QSpinBox>(&dialog, "jpegQuality")->setValue(12);
        dialog.reject();
        QCOMPARE(AppSettings::load().jpegQuality, AppSettings().jpegQuality);
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

    // Issue 16: a model is chosen by evidence. Beside input size and mAP (the manifest's), the
    // time one image took on the device, as its server-info says (measured_ms).
    void modelList_showsTheDevicesMeasuredTimeBesideSizeAndAccuracy()
    {
        EDGELENS_REQUIRE_SHARED(QStringLiteral("models/picodet-s-320/picodet_s_320_coco.onnx"));
        const auto modelEntry = [](const QString &name, double measuredMs) {
            QJsonObject entry{{QStringLiteral("name"), name}, {QStringLiteral("input_width"), 320},
                              {QStringLiteral("input_height"), 320}};
            if (measuredMs >= 0)
                entry.insert(QStringLiteral("measured_ms"), measuredMs);
            return entry;
        };
        test::FakeDetectionServer server(test::FakeDetectionServer::Mode::V2);
        server.setInfo(QJsonObject{
            {QStringLiteral("software"), QStringLiteral("EdgeLens Server")},
            {QStringLiteral("protocol_version"), 2},
            // nanodet-m-320 without a time: a cascade or an older server sends none.
            {QStringLiteral("models"), QJsonArray{modelEntry(QStringLiteral("picodet-s-320"), 36.2),
                                                  modelEntry(QStringLiteral("nanodet-m-320"), -1)}},
        });
        QVERIFY(server.listenOnLoopback());
        SettingsDialog dialog(remoteSettings(server.serverPort()));
        auto *model = child<QComboBox>(&dialog, "model");
        const auto textOf = [model](const char *name) { return model->itemText(model->findData(QLatin1String(name))); };
        QVERIFY2(!textOf("picodet-s-320").contains(QStringLiteral("ms per image")), qPrintable(textOf("picodet-s-320")));
        model->setCurrentIndex(model->findData(QStringLiteral("nanodet-m-320")));

        // What the app passes from the last server-info its devices sent.
        dialog.showMeasuredTimes(QJsonObject{{QStringLiteral("models"), QJsonArray{modelEntry(QStringLiteral("picodet-s-320"), 120.0)}}},
                                 QStringLiteral("this computer"));
        QVERIFY2(textOf("picodet-s-320").endsWith(QStringLiteral("120.0 ms per image on this computer")),
                 qPrintable(textOf("picodet-s-320")));

        // Testing a device shows that device's own figures.
        const auto [ok, message] = runConnectionTest(dialog);
        QVERIFY2(ok, qPrintable(message));
        const QString pico = textOf("picodet-s-320");
        QVERIFY2(pico.contains(QStringLiteral("320x320")) && pico.contains(QStringLiteral("mAP 0.383"))
                     && pico.endsWith(QStringLiteral("36.2 ms per image on 127.0.0.1:%1").arg(server.serverPort())),
                 qPrintable(pico));
        QVERIFY2(!textOf("nanodet-m-320").contains(QStringLiteral("ms per image")), qPrintable(textOf("nanodet-m-320")));
        QCOMPARE(dialog.settings().model, QStringLiteral("nanodet-m-320")); // the choice stays
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

QTEST_MAIN(TestSettingsDialog)
#include "tst_settingsdialog.moc"
