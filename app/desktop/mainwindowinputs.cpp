// MainWindow's ways in: drag and drop, Add Images/Add Folder, paste, and what the collector
// found (the window's other parts are in mainwindow.cpp, mainwindowactions.cpp,
// mainwindowvideos.cpp and mainwindowlive.cpp).

#include "mainwindow.h"

#include "imagecollector.h"
#include "inputs/videofilesource.h"
#include "mainwindowparts.h"
#include "resultsfolder.h"
#include "statuspresenter.h"
#include "galleryview.h"

#include <QClipboard>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QLoggingCategory>
#include <QMimeData>
#include <QStandardPaths>
#include <QUrl>

Q_LOGGING_CATEGORY(lcMainWindowInputs, "edgelens.app.mainwindow.inputs")

namespace edgelens {

namespace {

QStringList pathsFromMime(const QMimeData *mime)
{
    QStringList paths;
    if (!mime)
        return paths;
    if (mime->hasUrls()) {
        const QList<QUrl> urls = mime->urls();
        for (const QUrl &url : urls) {
            if (url.isLocalFile())
                paths.append(url.toLocalFile());
        }
        if (!paths.isEmpty())
            return paths;
    }
    if (mime->hasText()) {
        // A pasted list of paths: one per line, as file managers and terminals copy them.
        const QStringList lines = mime->text().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        for (QString line : lines) {
            line = line.trimmed();
            if (line.size() >= 2 && line.startsWith(QLatin1Char('"')) && line.endsWith(QLatin1Char('"')))
                line = line.mid(1, line.size() - 2);
            if (line.startsWith(QLatin1String("file:")))
                line = QUrl(line).toLocalFile();
            if (!line.isEmpty() && QFileInfo::exists(line))
                paths.append(line);
        }
    }
    return paths;
}

} // namespace

void MainWindow::addPaths(const QStringList &input)
{
    // An output folder dropped or named is opened for review, not sent again.
    QStringList paths;
    for (const QString &path : input) {
        if (ResultsFolder::looksLikeOutputFolder(path))
            openResults(path);
        else
            paths << path;
    }
    if (paths.isEmpty())
        return;
    m_parts->status()->showMessage(tr("Looking for images…"));
    m_parts->collector()->collect(paths);
    updateActions();
}

bool MainWindow::addMimeData(const QMimeData *mime)
{
    const QStringList paths = pathsFromMime(mime);
    if (paths.isEmpty())
        return false;
    addPaths(paths);
    return true;
}

bool MainWindow::isCollecting() const
{
    return m_parts->collector()->isBusy();
}

void MainWindow::handleCollectFinished(int found, int skipped, const QStringList &missing)
{
    QStringList parts;
    parts << tr("%n image(s) found", nullptr, found);
    if (m_parts->collector()->videosFoundCount() > 0)
        parts << tr("%n video(s) found", nullptr, m_parts->collector()->videosFoundCount());
    if (skipped > 0)
        parts << tr("%n other file(s) skipped", nullptr, skipped);
    if (m_parts->collector()->skippedOutputFolders() > 0)
        parts << tr("%n EdgeLens output folder(s) skipped", nullptr, m_parts->collector()->skippedOutputFolders());
    if (!missing.isEmpty())
        parts << tr("%n path(s) not found", nullptr, int(missing.size()));
    m_parts->status()->showMessage(parts.join(QStringLiteral(", ")), 8000);
    if (!missing.isEmpty())
        qCWarning(lcMainWindowInputs) << "not found:" << missing;
    updateActions();
    checkAllDone();
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (!pathsFromMime(event->mimeData()).isEmpty()) {
        event->acceptProposedAction();
        m_view->setDropHighlight(true);
    }
}

void MainWindow::dragLeaveEvent(QDragLeaveEvent *event)
{
    m_view->setDropHighlight(false);
    QMainWindow::dragLeaveEvent(event);
}

void MainWindow::dragMoveEvent(QDragMoveEvent *event)
{
    event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    m_view->setDropHighlight(false);
    if (addMimeData(event->mimeData()))
        event->acceptProposedAction();
    else
        m_parts->status()->showMessage(tr("Nothing to add: drop image files or folders."), 5000);
}

void MainWindow::addImages()
{
    QString start = m_settings.lastFolder;
    if (start.isEmpty() || !QFileInfo(start).isDir())
        start = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    QStringList patterns;
    for (const QString &s : ImageCollector::supportedSuffixes())
        patterns << QStringLiteral("*.") + s;
    QStringList videoPatterns;
    for (const QString &s : VideoFileSource::supportedSuffixes())
        videoPatterns << QStringLiteral("*.") + s;
    const QStringList files = QFileDialog::getOpenFileNames(this, tr("Add Images"), start,
        tr("Images and videos (%1);;Images (%2);;Videos (%3);;All files (*)")
            .arg((patterns + videoPatterns).join(QLatin1Char(' ')), patterns.join(QLatin1Char(' ')),
                 videoPatterns.join(QLatin1Char(' '))));
    if (files.isEmpty())
        return;
    rememberLastFolder(QFileInfo(files.first()).absolutePath());
    addPaths(files);
}

void MainWindow::rememberLastFolder(const QString &folder)
{
    // Only this one value is stored: m_settings may hold command-line overrides that must
    // not become the saved defaults.
    m_settings.lastFolder = folder;
    AppSettings stored = AppSettings::load();
    stored.lastFolder = folder;
    stored.save();
}

void MainWindow::addFolder()
{
    QString start = m_settings.lastFolder;
    if (start.isEmpty() || !QFileInfo(start).isDir())
        start = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Add Folder"), start);
    if (dir.isEmpty())
        return;
    rememberLastFolder(dir);
    addPaths({dir});
}

void MainWindow::pasteFromClipboard()
{
    if (!addMimeData(QGuiApplication::clipboard()->mimeData()))
        m_parts->status()->showMessage(tr("The clipboard holds no paths of existing files or folders."), 5000);
}

} // namespace edgelens
