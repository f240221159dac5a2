#include "mainwindowsuite.h"

#include "testdata.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>
#include <QTest>

namespace edgelens::test {

AppSettings remoteSettings(quint16 port, AppSettings::Protocol protocol, const QTemporaryDir &dir)
{
    AppSettings settings;
    settings.target = AppSettings::Target::Remote;
    settings.host = QStringLiteral("127.0.0.1");
    settings.port = port;
    settings.protocol = protocol;
    settings.outputDir = dir.filePath(QStringLiteral("out"));
    return settings;
}

void MainWindowSuite::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::installTranslator(&m_plurals);
    // Window state and AppSettings go to a throw-away folder, never the user's.
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_settingsDir.path());
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settingsDir.path());
    QCoreApplication::setOrganizationName(QStringLiteral("EdgeLensTest"));
    // Named after the suite (tst_mainwindow, tst_mainwindowvideo, ...), as tst_mainwindow always was.
    QCoreApplication::setApplicationName(QFileInfo(QCoreApplication::applicationFilePath()).completeBaseName());
    QVERIFY2(QFileInfo::exists(QDir(samplesDir()).filePath(QStringLiteral("soccer.jpg"))), qPrintable(samplesDir()));
}

} // namespace edgelens::test
