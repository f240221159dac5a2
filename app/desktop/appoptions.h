#pragma once

// What `edgelens` accepts on the command line. Parsed once in main() and handed to the
// main window; anything given here overrides the saved settings for this session only.

#include <QString>
#include <QStringList>
#include <QtGlobal>

#include <optional>

class QCoreApplication;

namespace edgelens {

struct AppOptions
{
    QStringList images;     // files or folders to add at start
    QString outputDir;      // --output
    QString host;           // --host (implies a remote target)
    std::optional<quint16> port; // --port
    bool embedded = false;  // --embedded: force the embedded server
    QString model;          // --model (embedded server)
    bool quitWhenDone = false; // --quit-when-done: scripted runs and screenshots
    // Where the gallery is kept between runs; empty: not kept (tests, --no-session).
    // main() sets SessionStore::defaultPath() unless --no-session is given.
    QString sessionFile;
    bool noSession = false;    // --no-session
    QString live;              // --live SOURCE: open the live view on it at start

    // Parses app.arguments(). On --help / --version prints and sets *exitCode (0); on a
    // usage error prints the reason to stderr and sets *exitCode (2). nullopt means exit.
    static std::optional<AppOptions> parse(const QCoreApplication &app, int *exitCode);
    static std::optional<AppOptions> parse(const QStringList &arguments, int *exitCode);
    // The arguments without QApplication's own options (-platform x, -style x, -reverse, ...),
    // for parsing before a QApplication exists to remove them.
    static QStringList withoutQtOptions(const QStringList &arguments);
    static std::optional<AppOptions> parse(const QStringList &arguments, QString *error, QString *helpText = nullptr);
};

} // namespace edgelens
