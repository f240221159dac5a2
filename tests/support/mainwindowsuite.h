#pragma once

// The base of the Qt Test suites that drive the desktop app's MainWindow: what initTestCase sets
// up for all of them (window state and AppSettings in a throw-away folder, never the user's; the
// English plurals main() installs, so messages read as the user sees them; the sample photos
// there), and the settings of a remote device on this machine. A suite derives from it and adds
// its tests as private slots. Part of edgelens_apptestsupport (it links the desktop library).

#include "englishplurals.h"
#include "widgets/appsettings.h"

#include <QObject>
#include <QTemporaryDir>

namespace edgelens::test {

// A remote device on this machine, results under the test's own folder.
AppSettings remoteSettings(quint16 port, AppSettings::Protocol protocol, const QTemporaryDir &dir);

class MainWindowSuite : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_settingsDir;
    EnglishPlurals m_plurals;

private slots:
    void initTestCase();
};

} // namespace edgelens::test
