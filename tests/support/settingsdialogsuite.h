#pragma once

// The base of the Qt Test suites that drive the SettingsDialog, and what they do with it as a
// user would: find its fields by name, press OK, show it, run "Test connection" through the
// button. initTestCase keeps QSettings, QStandardPaths and the keyring away from the user's own;
// init starts every test from empty settings. A suite derives from it and adds its tests as
// private slots. Part of edgelens_widgettestsupport (it links the widgets library).

#include "isolateduserstate.h"
#include "widgetchild.h"

#include "widgets/appsettings.h"
#include "widgets/settingsdialog.h"

#include <QObject>
#include <QPushButton>
#include <QString>

#include <utility>

namespace edgelens::test {

QPushButton *okButton(SettingsDialog &dialog);
// One remote device on 127.0.0.1:port, with a 5 s timeout.
AppSettings remoteSettings(quint16 port, AppSettings::Protocol protocol = AppSettings::Protocol::Auto);
// Runs "Test connection" through the button, as a user would, and returns (ok, message).
std::pair<bool, QString> runConnectionTest(SettingsDialog &dialog);
void showDialog(SettingsDialog &dialog);

class SettingsDialogSuite : public QObject
{
    Q_OBJECT

protected:
    IsolatedUserState m_configDir; // QSettings and QStandardPaths stay in a temporary folder

private slots:
    void initTestCase();
    void init();
};

} // namespace edgelens::test
