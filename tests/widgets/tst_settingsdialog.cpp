// The settings dialog, all but its device list: host, port and output folder checked as typed
// (OK stays disabled with the reason), the embedded target, the model list and its thresholds,
// the token without a keyring, large photos, and what OK and Cancel store across a restart.
// The device list and "Test connection": tst_settingsdialogdevices.

#include "settingsdialogsuite.h"

#include "fakedetectionserver.h"
#include "testdata.h"

#include "widgets/appsettings.h"
#include "widgets/settingsdialog.h"
#include "widgets/tokenstore.h"

#include <QCheckBox>
#include <QComboBox>
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
#include <QTemporaryDir>
#include <QTest>

using namespace edgelens;
using namespace edgelens::test;

class TestSettingsDialog final : public SettingsDialogSuite
{
    Q_OBJECT

private slots:
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
};

QTEST_MAIN(TestSettingsDialog)
#include "tst_settingsdialog.moc"
