#include "settingsdialogsuite.h"

#include "client/detectionclient.h"

#include <QDebug>
#include <QDialogButtonBox>
#include <QLabel>
#include <QSettings>
#include <QSignalSpy>
#include <QTest>

namespace edgelens::test {

QPushButton *okButton(SettingsDialog &dialog)
{
    return dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
}

AppSettings remoteSettings(quint16 port, AppSettings::Protocol protocol)
{
    AppSettings s;
    s.target = AppSettings::Target::Remote;
    s.host = QStringLiteral("127.0.0.1");
    s.port = port;
    s.protocol = protocol;
    s.timeoutMs = 5000;
    return s;
}

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

void showDialog(SettingsDialog &dialog)
{
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
}

void SettingsDialogSuite::initTestCase()
{
    QVERIFY(m_configDir.isValid());
    // No keyring service here (as on CI and in offscreen sessions): the token must take
    // the settings-file path and say so. Pinned so a developer's own keyring is never touched.
    qputenv("DBUS_SESSION_BUS_ADDRESS", "disabled:");
}

void SettingsDialogSuite::init()
{
    QSettings(QStringLiteral("EdgeLens"), QStringLiteral("EdgeLens")).clear();
    DetectionClient::forgetDetectedProtocols();
}

} // namespace edgelens::test
