#include "thumbnailcache.h"

#include <QFutureWatcher>
#include <QImageReader>
#include <QLoggingCategory>
#include <QPainter>
#include <QtConcurrent/QtConcurrentRun>

#include <QThread>

#include <algorithm>
#include <limits>

Q_LOGGING_CATEGORY(lcThumbnails, "edgelens.app.thumbnails")

namespace edgelens {

namespace {

qint64 costOf(const QImage &image)
{
    return qMax<qint64>(1, image.sizeInBytes());
}

// QCache's cost is an int; count kibibytes so a budget above 2 GB still fits.
int toCacheCost(qint64 bytes)
{
    return int(qMin<qint64>((bytes + 1023) / 1024, std::numeric_limits<int>::max()));
}

} // namespace

ThumbnailCache::ThumbnailCache(QObject *parent)
    : QObject(parent)
{
    m_cache.setMaxCost(toCacheCost(192LL * 1024 * 1024));
    // Our own pool: thumbnails must never wait behind (or starve) inference or file jobs
    // that use the global pool; one thread per core keeps decoding ahead of scrolling.
    m_maxRunning = qBound(1, QThread::idealThreadCount(), 4);
    m_pool.setMaxThreadCount(m_maxRunning);
    m_pool.setObjectName(QStringLiteral("thumbnails"));
}

ThumbnailCache::~ThumbnailCache()
{
    m_pending.clear();
    m_pool.clear();
    m_pool.waitForDone();
}

void ThumbnailCache::setThumbnailSize(const QSize &devicePixels)
{
    if (devicePixels == m_size || devicePixels.isEmpty())
        return;
    m_size = devicePixels;
    clear();
}

void ThumbnailCache::setMaxCostBytes(qint64 bytes)
{
    m_cache.setMaxCost(toCacheCost(qMax<qint64>(bytes, 1024)));
}

qint64 ThumbnailCache::maxCostBytes() const
{
    return qint64(m_cache.maxCost()) * 1024;
}

qint64 ThumbnailCache::totalCostBytes() const
{
    return qint64(m_cache.totalCost()) * 1024;
}

int ThumbnailCache::cachedCount() const
{
    return int(m_cache.count());
}

QImage ThumbnailCache::thumbnail(const QString &path)
{
    if (const QImage *hit = m_cache.object(path))
        return *hit;
    if (!m_inFlight.contains(path)) {
        m_pending.insert(path, ++m_sequence);
        // Never keep more waiting than the cache can hold next to what is on screen, or
        // loading old requests would evict the visible thumbnails loaded just before.
        const qint64 perThumb = qMax<qint64>(1, qint64(m_size.width()) * m_size.height() * 4);
        const int fits = int(qMin<qint64>(maxCostBytes() / perThumb / 2, m_maxPending));
        const int limit = qMax(4, fits);
        if (m_pending.size() > limit) {
            // Drop the oldest quarter: they were painted long ago and are far from view now.
            QList<QPair<quint64, QString>> order;
            order.reserve(m_pending.size());
            for (auto it = m_pending.cbegin(); it != m_pending.cend(); ++it)
                order.append({it.value(), it.key()});
            std::sort(order.begin(), order.end());
            const int drop = int(m_pending.size()) - qMax(1, limit * 3 / 4);
            for (int i = 0; i < drop; ++i)
                m_pending.remove(order.at(i).second);
        }
        startJobs();
    }
    return QImage();
}

bool ThumbnailCache::contains(const QString &path) const
{
    return m_cache.contains(path);
}

void ThumbnailCache::insert(const QString &path, const QImage &image)
{
    if (image.isNull())
        return;
    m_pending.remove(path);
    m_cache.insert(path, new QImage(image), toCacheCost(costOf(image)));
    emit thumbnailReady(path);
}

void ThumbnailCache::provide(const QString &path, const QImage &image, const QSize &madeFor)
{
    if (madeFor != m_size || image.isNull())
        return;
    // A load already running for it is not needed any more: ignored when it finishes.
    if (m_inFlight.contains(path))
        m_inFlight[path] = 0;
    insert(path, image);
}

void ThumbnailCache::setProvider(std::function<bool(const QString &)> willProvide)
{
    m_willProvide = std::move(willProvide);
    startJobs();
}

void ThumbnailCache::providerChanged()
{
    startJobs();
}

void ThumbnailCache::invalidate(const QString &path)
{
    m_cache.remove(path);
    m_pending.remove(path);
    // A load already running for the old file is ignored when it finishes.
    if (m_inFlight.contains(path))
        m_inFlight[path] = 0;
}

void ThumbnailCache::clear()
{
    ++m_generation;
    m_cache.clear();
    m_pending.clear();
    for (auto it = m_inFlight.begin(); it != m_inFlight.end(); ++it)
        it.value() = 0;
}

void ThumbnailCache::startJobs()
{
    while (m_running < m_maxRunning && !m_pending.isEmpty()) {
        auto newest = m_pending.end();
        for (auto it = m_pending.begin(); it != m_pending.end(); ++it) {
            if ((newest == m_pending.end() || it.value() > newest.value()) && !(m_willProvide && m_willProvide(it.key())))
                newest = it;
        }
        if (newest == m_pending.end())
            return; // all that waits will be provided
        const QString path = newest.key();
        m_pending.erase(newest);
        const quint64 generation = m_generation;
        m_inFlight.insert(path, generation + 1);
        ++m_running;
        const QSize box = m_size;
        auto *watcher = new QFutureWatcher<QImage>(this);
        connect(watcher, &QFutureWatcher<QImage>::finished, this, [this, watcher, path, generation] {
            watcher->deleteLater();
            finishJob(path, generation, watcher->result());
        });
        watcher->setFuture(QtConcurrent::run(&m_pool, [path, box] { return ThumbnailCache::load(path, box); }));
    }
}

void ThumbnailCache::finishJob(const QString &path, quint64 generation, const QImage &image)
{
    --m_running;
    const bool current = m_inFlight.value(path) == generation + 1 && generation == m_generation;
    m_inFlight.remove(path);
    if (current && !image.isNull()) {
        m_cache.insert(path, new QImage(image), toCacheCost(costOf(image)));
        emit thumbnailReady(path);
    } else if (!current) {
        // Invalidated while loading: let the view repaint so it asks for the new file.
        emit thumbnailReady(path);
    }
    startJobs();
}

qint64 ThumbnailCache::defaultBudgetFor(const QSize &devicePixels)
{
    const qint64 perThumb = qint64(devicePixels.width()) * devicePixels.height() * 4;
    return qBound<qint64>(48LL << 20, perThumb * 1500, 256LL << 20);
}

QImage ThumbnailCache::load(const QString &path, const QSize &box, QString *error)
{
    QImageReader reader(path);
    reader.setAutoTransform(true);
    QSize full = reader.size();
    if (full.isValid() && !full.isEmpty()) {
        // size() is the stored size; a 90/270 degree EXIF turn swaps what the user sees.
        const QImageIOHandler::Transformations t = reader.transformation();
        const bool swapped = t.testFlag(QImageIOHandler::TransformationRotate90);
        const QSize shownBox = swapped ? box.transposed() : box;
        if (full.width() > shownBox.width() || full.height() > shownBox.height())
            reader.setScaledSize(full.scaled(shownBox, Qt::KeepAspectRatio).expandedTo(QSize(1, 1)));
    }
    QImage image = reader.read();
    if (image.isNull()) {
        if (error)
            *error = reader.errorString();
        qCDebug(lcThumbnails) << "cannot read" << path << reader.errorString();
        // A marker image so the delegate can show "unreadable" without asking again.
        QImage broken(8, 8, QImage::Format_ARGB32_Premultiplied);
        broken.fill(Qt::transparent);
        broken.setText(QStringLiteral("edgelens-error"), reader.errorString());
        return broken;
    }
    if (image.width() > box.width() || image.height() > box.height())
        image = image.scaled(box, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    // Premultiplied ARGB32 / RGB32 draw without conversion on every paint.
    if (image.hasAlphaChannel())
        image.convertTo(QImage::Format_ARGB32_Premultiplied);
    else
        image.convertTo(QImage::Format_RGB32);
    return image;
}

} // namespace edgelens
