#include "widgets/appsettings.h"
#include "widgets/settingsdialog.h"

#ifdef EDGELENS_TEST_REAL_SERVER
#include "net/detectionserver.h"
#endif

#include "client/detectionclient.h"

#include "fakedetectionserver.h"
#include "isolateduserstate.h"
#include "testdata.h"
#include "testnetwork.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>

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

        // Enter and programmatic accept() must not store the invalid state either.
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Rejected));
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
        EDGELENS_REQUIRE_SHARED(QStringLiteral("models/nanodet-m-320/nanodet-m-320.onnx"));
        SettingsDialog dialog(AppSettings{});
        auto *model = child<QComboBox>(&dialog, "model");
        QVERIFY(model->itemText(0).contains(QStringLiteral("nanodet-m-320"))); // the catalog default
        const int index = model->findData(QStringLiteral("nanodet-m-320"));
        QVERIFY(index > 0);
        model->setCurrentIndex(index);
        QVERIFY(okButton(dialog)->isEnabled());
        QCOMPARE(dialog.settings().model, QStringLiteral("nanodet-m-320"));
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
};

QTEST_MAIN(TestSettingsDialog)
#include "tst_settingsdialog.moc"
