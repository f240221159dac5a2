#include "imagecollector.h"

#include "inputs/imagescanner.h"
#include "inputs/videofilesource.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QLoggingCategory>
#include <QUrl>
#include <QtConcurrent/QtConcurrentRun>

#include <atomic>

Q_LOGGING_CATEGORY(lcCollector, "edgelens.app.collector")

namespace edgelens {

namespace {

constexpr int kBatchSize = 500;
constexpr qint64 kBatchMs = 150;

} // namespace

ImageCollector::ImageCollector(QObject *parent)
    : QObject(parent)
    , m_cancelFlag(std::make_shared<std::atomic_bool>(false))
{
}

ImageCollector::~ImageCollector()
{
    // Running scans only hold the shared flag and post to watchers parented to us, which
    // die with us; telling them to stop keeps a huge scan from running on after exit.
    m_cancelFlag->store(true);
}

QStringList ImageCollector::supportedSuffixes()
{
    // One list for the CLI and the app, so both pick the same files from a folder.
    return ImageScanner::supportedSuffixes();
}

bool ImageCollector::isSupportedImage(const QString &fileName)
{
    return ImageScanner::isSupportedImage(fileName);
}

void ImageCollector::scan(const QStringList &paths, const QStringList &excludedFolderNames,
                          const std::function<bool(const Batch &)> &onBatch)
{
    Batch batch;
    QSet<QString> seen;
    QElapsedTimer sinceFlush;
    sinceFlush.start();
    bool stop = false;
    const auto flush = [&](bool force) {
        if (stop)
            return;
        if (!force && batch.images.size() < kBatchSize && sinceFlush.elapsed() < kBatchMs)
            return;
        if (batch.images.isEmpty() && batch.videos.isEmpty() && batch.skipped == 0 && batch.missing.isEmpty() && batch.skippedOutputFolders == 0)
            return;
        stop = !onBatch(batch);
        batch = Batch();
        sinceFlush.restart();
    };
    const auto addFile = [&](const QFileInfo &info) {
        const bool video = VideoFileSource::isSupportedVideo(info.fileName());
        if (!video && !isSupportedImage(info.fileName())) {
            ++batch.skipped;
            return;
        }
        const QString canonical = info.canonicalFilePath();
        if (canonical.isEmpty() || seen.contains(canonical))
            return;
        seen.insert(canonical);
        if (video) {
            batch.videos.append(canonical);
            return;
        }
        batch.images.append({canonical, info.size(), info.lastModified(), QString(), -1, {}});
    };

    for (const QString &given : paths) {
        if (stop)
            break;
        const QFileInfo info(given);
        if (!info.exists()) {
            batch.missing.append(given);
            continue;
        }
        if (info.isFile()) {
            addFile(info);
            flush(false);
            continue;
        }
        if (!info.isDir()) {
            ++batch.skipped;
            continue;
        }
        // Symlinked folders are not followed: a link back up the tree would never end.
        // Files in name order, then subfolders in name order, so "order added" reads like
        // the folder does in a file manager.
        QStringList stack{info.absoluteFilePath()};
        while (!stack.isEmpty() && !stop) {
            const QDir dir(stack.takeLast());
            const QFileInfoList entries = dir.entryInfoList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot,
                                                            QDir::Name | QDir::IgnoreCase | QDir::DirsLast);
            QStringList subdirs;
            for (const QFileInfo &entry : entries) {
                if (entry.isDir()) {
                    if (entry.isSymLink())
                        continue;
                    if (excludedFolderNames.contains(entry.fileName())
                        || ImageScanner::isOutputFolder(entry.absoluteFilePath()))
                        ++batch.skippedOutputFolders;
                    else
                        subdirs.append(entry.absoluteFilePath());
                    continue;
                }
                addFile(entry);
                flush(false);
                if (stop)
                    break;
            }
            for (auto it = subdirs.crbegin(); it != subdirs.crend(); ++it)
                stack.append(*it);
        }
    }
    flush(true);
}

void ImageCollector::collect(const QStringList &paths)
{
    if (paths.isEmpty())
        return;
    if (m_running == 0) {
        m_found = 0;
        m_skipped = 0;
        m_videos = 0;
        m_skippedOutputFolders = 0;
        m_missing.clear();
        m_cancelFlag = std::make_shared<std::atomic_bool>(false);
    }
    ++m_running;
    auto cancelFlag = m_cancelFlag;
    const QStringList excluded = m_excluded;
    auto *watcher = new QFutureWatcher<Batch>(this);
    connect(watcher, &QFutureWatcher<Batch>::resultsReadyAt, this, [this, watcher](int begin, int end) {
        for (int i = begin; i < end; ++i) {
            const Batch batch = watcher->resultAt(i);
            m_skipped += batch.skipped;
            m_skippedOutputFolders += batch.skippedOutputFolders;
            m_missing += batch.missing;
            m_found += int(batch.images.size());
            m_videos += int(batch.videos.size());
            if (!batch.images.isEmpty())
                emit imagesFound(batch.images);
            if (!batch.videos.isEmpty())
                emit videosFound(batch.videos);
        }
    });
    connect(watcher, &QFutureWatcher<Batch>::finished, this, [this, watcher] {
        watcher->deleteLater();
        if (--m_running == 0)
            emit finished(m_found, m_skipped, m_missing);
    });
    watcher->setFuture(QtConcurrent::run([paths, excluded, cancelFlag](QPromise<Batch> &promise) {
        scan(paths, excluded, [&](const Batch &batch) {
            if (cancelFlag->load() || promise.isCanceled())
                return false;
            promise.addResult(batch);
            return true;
        });
    }));
}

void ImageCollector::collectUrls(const QList<QUrl> &urls)
{
    QStringList paths;
    for (const QUrl &url : urls) {
        if (url.isLocalFile())
            paths.append(url.toLocalFile());
        else
            qCInfo(lcCollector) << "ignoring non-local URL" << url.toDisplayString();
    }
    collect(paths);
}

void ImageCollector::cancel()
{
    m_cancelFlag->store(true);
}

} // namespace edgelens
