#pragma once

// Turns whatever the user dropped, pasted or passed on the command line (files, folders,
// file:// URLs) into canonical image paths, off the GUI thread. Folders are searched
// recursively; files that are not images are counted, not added. Results arrive in
// batches so a folder of 10,000 photos fills the gallery progressively.

#include "gallerymodel.h"

#include <QObject>
#include <QSet>
#include <QStringList>

#include <atomic>
#include <functional>
#include <memory>

class QUrl;

namespace edgelens {

class ImageCollector final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ImageCollector)

public:
    struct Batch
    {
        QList<GalleryModel::NewImage> images;
        QStringList videos;    // canonical paths of video files: sampled into frames, not sent as they are
        int skipped = 0;       // files that are neither supported images nor videos
        QStringList missing;   // given paths that do not exist
        int skippedOutputFolders = 0; // EdgeLens output folders met while recursing (not scanned)
    };

    explicit ImageCollector(QObject *parent = nullptr);
    ~ImageCollector() override;

    void collect(const QStringList &paths);
    void collectUrls(const QList<QUrl> &urls);
    bool isBusy() const { return m_running > 0; }
    // Output folders (the marker file, or an excluded name) skipped by the last collect.
    int skippedOutputFolders() const { return m_skippedOutputFolders; }
    int videosFoundCount() const { return m_videos; } // by the last collect
    void cancel();

    // Folder names skipped while recursing (output folders would otherwise feed results
    // back in as new images), besides any folder holding EdgeLens's output marker
    // (ImageScanner::isOutputFolder). Not applied to a folder the user names directly.
    void setExcludedFolderNames(const QStringList &names) { m_excluded = names; }

    static bool isSupportedImage(const QString &fileName);
    static QStringList supportedSuffixes(); // "jpg", "png", ... what the server can decode
    // Blocking form of collect(), for tests and the command line; calls onBatch per batch.
    static void scan(const QStringList &paths, const QStringList &excludedFolderNames,
                     const std::function<bool(const Batch &)> &onBatch);

signals:
    void imagesFound(const QList<edgelens::GalleryModel::NewImage> &images);
    void videosFound(const QStringList &canonicalPaths);
    void finished(int found, int skipped, const QStringList &missing);

private:
    int m_running = 0;
    QStringList m_excluded{QStringLiteral("inferenced")};
    int m_found = 0;
    int m_skipped = 0;
    int m_videos = 0;
    int m_skippedOutputFolders = 0;
    QStringList m_missing;
    std::shared_ptr<std::atomic_bool> m_cancelFlag;
};

} // namespace edgelens
