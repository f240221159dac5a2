#pragma once

// Thumbnails for the gallery, decoded off the GUI thread and kept in a cache bounded by
// bytes. Callers ask from paint(): a hit returns the image, a miss schedules a load and
// returns null; thumbnailReady() then tells the view to repaint that path.
//
// Newest requests are served first (what is being painted now is what is visible), and
// the pending list is capped: requests from items scrolled past long ago are dropped and
// simply asked for again if those items come back into view.

#include <QCache>
#include <QHash>
#include <QImage>
#include <QObject>
#include <QSize>
#include <QString>
#include <QThreadPool>

#include <functional>

namespace edgelens {

class ThumbnailCache final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ThumbnailCache)

public:
    explicit ThumbnailCache(QObject *parent = nullptr);
    ~ThumbnailCache() override;

    // Pixel size of the box thumbnails are scaled into (device pixels, aspect kept).
    void setThumbnailSize(const QSize &devicePixels);
    QSize thumbnailSize() const { return m_size; }
    void setMaxCostBytes(qint64 bytes);
    qint64 maxCostBytes() const;
    qint64 totalCostBytes() const;
    int cachedCount() const;
    int pendingCount() const { return int(m_pending.size()); }
    int runningCount() const { return m_running; }
    void setMaxPending(int count) { m_maxPending = qMax(1, count); }

    // Null on a miss (the load is scheduled). A file that cannot be read yields a small
    // placeholder so it is not retried on every paint.
    QImage thumbnail(const QString &path);
    bool contains(const QString &path) const;
    void insert(const QString &path, const QImage &image); // e.g. a result decoded elsewhere
    void invalidate(const QString &path);                   // the file changed on disk
    // A thumbnail made elsewhere from an image decoded anyway (the processing queue's), for a
    // box of madeFor; ignored when the thumbnail size changed meanwhile.
    void provide(const QString &path, const QImage &image, const QSize &madeFor);
    // Who will provide thumbnails soon: a requested path it claims waits instead of being
    // decoded twice. The provider calls providerChanged() when a claim ends without a thumbnail.
    void setProvider(std::function<bool(const QString &)> willProvide);
    void providerChanged();
    void clear();

    // The budget the app uses for thumbnails of this size: about 1,500 thumbnails (750
    // original/result pairs, a couple of dozen screens), between 48 and 256 MB.
    static qint64 defaultBudgetFor(const QSize &devicePixels);

    // Scaled, EXIF-oriented image; usable from any thread.
    static QImage load(const QString &path, const QSize &box, QString *error = nullptr);

signals:
    void thumbnailReady(const QString &path);

private:
    void startJobs();
    void finishJob(const QString &path, quint64 generation, const QImage &image);

    QCache<QString, QImage> m_cache;
    QHash<QString, quint64> m_pending; // path -> request sequence (newest served first)
    QHash<QString, quint64> m_inFlight;
    std::function<bool(const QString &)> m_willProvide;
    quint64 m_sequence = 0;
    quint64 m_generation = 0; // bumped by clear()/size changes so stale loads are ignored
    int m_running = 0;
    int m_maxRunning = 2;
    int m_maxPending = 256;
    QSize m_size{240, 180};
    QThreadPool m_pool;
};

} // namespace edgelens
