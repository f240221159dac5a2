// edgelens: the desktop app. Everything but argument handling lives in edgelens_desktop.

#include "appoptions.h"
#include "englishplurals.h"
#include "gallerymodel.h"
#include "mainwindow.h"
#include "sessionstore.h"
#include "widgets/appsettings.h"
#include "widgets/icons.h"

#include <QApplication>
#include <QDir>

#include <optional>

static void setIdentity()
{
    QCoreApplication::setOrganizationName(QStringLiteral("EdgeLens"));
    QCoreApplication::setApplicationName(QStringLiteral("EdgeLens"));
    QCoreApplication::setApplicationVersion(QStringLiteral(EDGELENS_VERSION));
}

int main(int argc, char *argv[])
{
    std::optional<edgelens::AppOptions> options;
    {
        // Parse before any display connection so --help, --version and usage errors work
        // over ssh, in CI and in scripts.
        QCoreApplication core(argc, argv);
        setIdentity();
        int exitCode = 0;
        const QStringList ours = edgelens::AppOptions::withoutQtOptions(core.arguments());
        if (!edgelens::AppOptions::parse(ours, &exitCode))
            return exitCode;
    }

    QApplication app(argc, argv);
    setIdentity();
    QApplication::setApplicationDisplayName(QStringLiteral("EdgeLens"));
    QApplication::setDesktopFileName(QStringLiteral("edgelens"));
    QApplication::setWindowIcon(edgelens::icons::appIcon());
    edgelens::EnglishPlurals plurals;
    QCoreApplication::installTranslator(&plurals);
    {
        // QApplication has removed its own options now.
        int exitCode = 0;
        options = edgelens::AppOptions::parse(app, &exitCode);
        if (!options)
            return exitCode;
    }

    edgelens::AppSettings settings = edgelens::AppSettings::load();
    // Command-line choices hold for this session; the saved settings stay as they were
    // unless the user changes them in the dialog.
    if (!options->host.isEmpty()) {
        settings.target = edgelens::AppSettings::Target::Remote;
        settings.host = options->host;
    }
    if (options->port)
        settings.port = *options->port;
    if (!options->host.isEmpty() || options->port)
        settings.devices.clear(); // the one device given on the command line
    if (options->embedded)
        settings.target = edgelens::AppSettings::Target::Embedded;
    if (!options->model.isEmpty())
        settings.model = options->model;
    if (!options->outputDir.isEmpty())
        settings.outputDir = QDir(options->outputDir).absolutePath();

    if (!options->noSession)
        options->sessionFile = edgelens::SessionStore::defaultPath();

    edgelens::MainWindow window(settings, *options);
    window.show();
    const int rc = app.exec();
    // Scripted runs (--quit-when-done) need to know whether everything went through.
    if (rc == 0 && options->quitWhenDone
        && window.galleryModel()->count(edgelens::GalleryItem::Status::Failed) > 0)
        return 1;
    return rc;
}
