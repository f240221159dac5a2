// ThumbnailCache: bounded memory, newest requests first, EXIF orientation honoured.

#include "thumbnailcache.h"

#include <QBuffer>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace edgelens;

namespace {

QString writeJpeg(const QString &path, const QSize &size, const QColor &color)
{
    QImage image(size, QImage::Format_RGB32);
    image.fill(color);
    image.save(path, "JPEG", 90);
    return path;
}

// A JPEG whose EXIF says "rotate 90° clockwise to display" (orientation 6), written by hand
// so the test does not depend on an encoder that can write EXIF.
QByteArray jpegWithOrientation6(const QSize &stored)
{
    QImage image(stored, QImage::Format_RGB32);
    image.fill(Qt::white);
    // Left half black in storage: after a clockwise turn it becomes the top half.
    for (int y = 0; y < stored.height(); ++y)
        for (int x = 0; x < stored.width() / 2; ++x)
            image.setPixel(x, y, qRgb(0, 0, 0));
    QByteArray plain;
    QBuffer buffer(&plain);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "JPEG", 95);
    const QByteArray tiff = QByteArray::fromHex("4d4d002a00000008" // big-endian TIFF, IFD at 8
                                                "0001"             // one entry
                                                "011200030000000100060000" // Orientation = 6
                                                "00000000");       // no next IFD
    QByteArray app1 = QByteArray("Exif\0\0", 6) + tiff;
    const int length = int(app1.size()) + 2;
    QByteArray segment = QByteArray::fromHex("ffe1");
    segment.append(char(length >> 8));
    segment.append(char(length & 0xff));
    segment.append(app1);
    return plain.left(2) + segment + plain.mid(2);
}

} // namespace

class TestThumbnailCache : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void manyImages_cacheStaysWithinByteBudget()
    {
        QTemporaryDir dir;
        QStringList paths;
        for (int i = 0; i < 120; ++i)
            paths << writeJpeg(dir.filePath(QStringLiteral("%1.jpg").arg(i)), QSize(320, 240), QColor::fromHsv(i * 3, 255, 200));
        ThumbnailCache cache;
        cache.setThumbnailSize(QSize(100, 75));
        const qint64 budget = 512 * 1024; // about 17 thumbnails of 100x75x4 bytes
        cache.setMaxCostBytes(budget);
        QSignalSpy ready(&cache, &ThumbnailCache::thumbnailReady);
        for (const QString &p : paths) {
            QVERIFY(cache.thumbnail(p).isNull()); // first ask is always a miss
            QVERIFY(cache.totalCostBytes() <= budget);
        }
        QTRY_VERIFY_WITH_TIMEOUT(cache.pendingCount() == 0 && cache.runningCount() == 0, 20000);
        QVERIFY(ready.size() > 0);
        QVERIFY2(cache.totalCostBytes() <= budget, qPrintable(QString::number(cache.totalCostBytes())));
        QVERIFY(cache.cachedCount() > 0);
        QVERIFY(cache.cachedCount() < 40);
        // The last one asked for is the one most likely on screen: it must be there.
        const QImage last = cache.thumbnail(paths.last());
        QVERIFY(!last.isNull());
        QCOMPARE(last.size(), QSize(100, 75));
    }

    void scrollingPastThousands_pendingListStaysBounded()
    {
        QTemporaryDir dir;
        const QString one = writeJpeg(dir.filePath(QStringLiteral("one.jpg")), QSize(64, 48), Qt::red);
        ThumbnailCache cache;
        cache.setMaxPending(64);
        // Paths that do not exist cost a failed open each; thousands of them must not queue up.
        for (int i = 0; i < 5000; ++i)
            cache.thumbnail(dir.filePath(QStringLiteral("missing-%1.jpg").arg(i)));
        QVERIFY(cache.pendingCount() <= 64);
        cache.thumbnail(one);
        QTRY_VERIFY_WITH_TIMEOUT(cache.contains(one), 10000);
    }

    void newestRequest_isServedBeforeOlderOnes()
    {
        QTemporaryDir dir;
        QStringList paths;
        for (int i = 0; i < 60; ++i)
            paths << writeJpeg(dir.filePath(QStringLiteral("%1.jpg").arg(i)), QSize(800, 600), Qt::blue);
        ThumbnailCache cache;
        QStringList order;
        connect(&cache, &ThumbnailCache::thumbnailReady, this, [&](const QString &p) { order << p; });
        for (const QString &p : paths)
            cache.thumbnail(p);
        QTRY_VERIFY_WITH_TIMEOUT(cache.pendingCount() == 0 && cache.runningCount() == 0, 20000);
        QCOMPARE(order.size(), paths.size());
        // The first few start immediately; after those, the newest waiting request goes next.
        const int started = order.indexOf(paths.last());
        QVERIFY2(started >= 0 && started < 8, qPrintable(QString::number(started)));
        QVERIFY(order.indexOf(paths.last()) < order.indexOf(paths.at(20)));
    }

    void exifOrientation_isAppliedToThumbnails()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("rotated.jpg"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(jpegWithOrientation6(QSize(200, 100)));
        f.close();
        const QImage thumb = ThumbnailCache::load(path, QSize(100, 100));
        // Stored 200x100 landscape; shown portrait 50x100 after the clockwise turn.
        QCOMPARE(thumb.size(), QSize(50, 100));
        QVERIFY(qGray(thumb.pixel(25, 10)) < 60);   // top: the stored left half (black)
        QVERIFY(qGray(thumb.pixel(25, 90)) > 200);  // bottom: white
    }

    void unreadableFile_givesMarkedPlaceholderOnce()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("broken.jpg"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("this is not a jpeg");
        f.close();
        ThumbnailCache cache;
        QSignalSpy ready(&cache, &ThumbnailCache::thumbnailReady);
        cache.thumbnail(path);
        QVERIFY(ready.wait(5000));
        const QImage placeholder = cache.thumbnail(path);
        QVERIFY(!placeholder.isNull());
        QVERIFY(!placeholder.text(QStringLiteral("edgelens-error")).isEmpty());
        // Asked again from the cache, not reloaded: no load is waiting or running that could
        // announce it a second time.
        QCOMPARE(cache.pendingCount(), 0);
        QCOMPARE(cache.runningCount(), 0);
        QCOMPARE(ready.size(), 1);
    }

    void smallImage_isNotUpscaled()
    {
        QTemporaryDir dir;
        const QString path = writeJpeg(dir.filePath(QStringLiteral("small.jpg")), QSize(30, 20), Qt::green);
        QCOMPARE(ThumbnailCache::load(path, QSize(160, 120)).size(), QSize(30, 20));
    }
};

QTEST_MAIN(TestThumbnailCache)
#include "tst_thumbnailcache.moc"
