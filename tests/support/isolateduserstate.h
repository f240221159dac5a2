#pragma once

// Keeps a suite away from the real user's files: QStandardPaths test mode, QSettings (which
// ignores test mode) redirected into a temporary folder, and the XDG variables a child process
// needs to do the same. Create one per test case, in initTestCase(), before anything reads
// settings; it lives as long as the test object.

#include <QHash>
#include <QString>
#include <QTemporaryDir>

namespace edgelens::test {

class IsolatedUserState final
{
    Q_DISABLE_COPY_MOVE(IsolatedUserState)

public:
    IsolatedUserState();

    bool isValid() const { return m_dir.isValid(); }
    QString path() const { return m_dir.path(); }
    QString filePath(const QString &relative) const { return m_dir.filePath(relative); }
    QString settingsDir() const; // where QSettings' user scope now lives

    // XDG_DATA_HOME and XDG_CONFIG_HOME below path(), for ProcessOptions::environment: a child
    // program's per-user data lands in dataHome()/edgelens.
    QHash<QString, QString> childEnvironment() const;
    QString dataHome() const;

private:
    QTemporaryDir m_dir;
};

} // namespace edgelens::test
