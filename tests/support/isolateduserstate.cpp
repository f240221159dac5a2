#include "isolateduserstate.h"

#include <QSettings>
#include <QStandardPaths>

namespace edgelens::test {

IsolatedUserState::IsolatedUserState()
{
    QStandardPaths::setTestModeEnabled(true);
    if (!m_dir.isValid())
        qWarning("IsolatedUserState: cannot create a temporary folder: %s", qPrintable(m_dir.errorString()));
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settingsDir());
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settingsDir());
}

QString IsolatedUserState::settingsDir() const
{
    return m_dir.filePath(QStringLiteral("settings"));
}

QString IsolatedUserState::dataHome() const
{
    return m_dir.filePath(QStringLiteral("xdg-data"));
}

QHash<QString, QString> IsolatedUserState::childEnvironment() const
{
    return {{QStringLiteral("XDG_DATA_HOME"), dataHome()},
            {QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("xdg-config"))}};
}

} // namespace edgelens::test
