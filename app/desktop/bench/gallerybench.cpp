// edgelens-gallery-bench: fills the gallery with generated images and scrolls through it the
// way a user would, measuring what the user would feel:
//   - time from "add folder" until every image is in the gallery,
//   - the longest event-loop stall while thumbnails load during scrolling (a 1 ms timer
//     records the gaps between its ticks),
//   - peak memory (VmHWM from /proc/self/status).
// Run it under a real or virtual display (xvfb-run) or with QT_QPA_PLATFORM=offscreen.
//
// With --photos DIR it shows existing photos instead (e.g. 500 phone-sized ones from
// `edgelens-bench --make-photos DIR --count 500`), as freshly dropped, unprocessed images,
// and also reports the time until the first screen of thumbnails is complete and what one
// thumbnail costs to decode (QImageReader::setScaledSize, which libjpeg does by DCT scaling)
// against a full decode of the same file.

#include "gallerydelegate.h"
#include "galleryfilterproxy.h"
#include "gallerymodel.h"
#include "galleryview.h"
#include "imagecollector.h"
#include "thumbnailcache.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QImageReader>
#include <QPainter>
#include <QRandomGenerator>
#include <QScrollBar>
#include <QSet>
#include <QTemporaryDir>
#include <QTimer>
#include <QtConcurrent/QtConcurrentMap>

#include <algorithm>
#include <numeric>
#include <cstdio>
#include <ctime>

using namespace edgelens;

namespace {

qint64 vmHwmKb()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

qint64 threadCpuUs()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return qint64(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// The machine is shared: figures mean little without how busy it was.
QByteArray loadAverage()
{
    QFile file(QStringLiteral("/proc/loadavg"));
    return file.open(QIODevice::ReadOnly) ? file.readAll().split(' ').mid(0, 3).join(' ') : QByteArray("?");
}

QImage makeImage(int index, int w, int h)
{
    QImage image(w, h, QImage::Format_RGB32);
    QRandomGenerator rng(quint32(index) * 7919u + 1);
    image.fill(QColor::fromHsv(int(rng.bounded(360)), 80, 200));
    QPainter p(&image);
    for (int i = 0; i < 6; ++i) {
        p.setBrush(QColor::fromHsv(int(rng.bounded(360)), 200, 220));
        p.setPen(Qt::NoPen);
        p.drawEllipse(QRect(int(rng.bounded(w)), int(rng.bounded(h)), 20 + int(rng.bounded(w / 3)), 20 + int(rng.bounded(h / 3))));
    }
    p.setPen(Qt::black);
    p.drawText(image.rect(), Qt::AlignCenter, QString::number(index));
    return image;
}

// Waits in the event loop (so the GUI keeps working) until pred() or timeout.
bool waitFor(const std::function<bool()> &pred, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (!pred()) {
        if (t.elapsed() > timeoutMs)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    }
    return true;
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("edgelens-gallery-bench"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Gallery population, scrolling stalls and memory with many images."));
    parser.addHelpOption();
    const QCommandLineOption countOpt(QStringLiteral("count"), QStringLiteral("Images to generate (default 10000)."), QStringLiteral("n"), QStringLiteral("10000"));
    const QCommandLineOption sizeOpt(QStringLiteral("size"), QStringLiteral("Generated image size WxH (default 640x480)."), QStringLiteral("WxH"), QStringLiteral("640x480"));
    const QCommandLineOption dirOpt(QStringLiteral("dir"), QStringLiteral("Reuse/keep images in this folder instead of a temporary one."), QStringLiteral("dir"));
    const QCommandLineOption scrollOpt(QStringLiteral("scroll-seconds"), QStringLiteral("How long to scroll top to bottom (default 20)."), QStringLiteral("s"), QStringLiteral("20"));
    const QCommandLineOption photosOpt(QStringLiteral("photos"),
                                       QStringLiteral("Show the JPEGs in this folder (unprocessed) instead of generated "
                                                      "images; --count and --size are ignored."),
                                       QStringLiteral("dir"));
    parser.addOptions({countOpt, sizeOpt, dirOpt, scrollOpt, photosOpt});
    parser.process(app);

    const bool photos = parser.isSet(photosOpt);
    const QStringList photoFiles = photos
        ? QDir(parser.value(photosOpt)).entryList({QStringLiteral("*.jpg"), QStringLiteral("*.jpeg")}, QDir::Files, QDir::Name)
        : QStringList();
    if (photos && photoFiles.isEmpty()) {
        std::fprintf(stderr, "no JPEGs in %s\n", qPrintable(parser.value(photosOpt)));
        return 1;
    }
    const int count = photos ? int(photoFiles.size()) : qMax(1, parser.value(countOpt).toInt());
    const QStringList wh = parser.value(sizeOpt).split(QLatin1Char('x'));
    const int w = qMax(16, wh.value(0).toInt());
    const int h = qMax(16, wh.value(1).toInt());
    const double scrollSeconds = qMax(1.0, parser.value(scrollOpt).toDouble());

    QTemporaryDir temp;
    const QString root = parser.isSet(dirOpt) ? parser.value(dirOpt) : temp.path();
    QDir(root).mkpath(QStringLiteral("images/inferenced"));
    const QString imagesDir = QDir(root).filePath(QStringLiteral("images"));
    const QString resultsDir = QDir(imagesDir).filePath(QStringLiteral("inferenced"));

    QElapsedTimer timer;
    const QString photosDir = photos ? QDir(parser.value(photosOpt)).absolutePath() : QString();
    const QSize thumb(160, 120);

    // 1. Generate: originals plus stand-ins for marked-up results, so both thumbnails load.
    timer.start();
    QList<int> indexes(count);
    std::iota(indexes.begin(), indexes.end(), 0);
    if (!photos) {
        QtConcurrent::blockingMap(indexes, [&](int i) {
            const QString name = QStringLiteral("img_%1.jpg").arg(i, 5, 10, QLatin1Char('0'));
            const QString original = QDir(imagesDir).filePath(name);
            const QString result = QDir(resultsDir).filePath(name);
            if (QFile::exists(original) && QFile::exists(result))
                return;
            QImage image = makeImage(i, w, h);
            image.save(original, "JPEG", 85);
            QPainter p(&image);
            p.setPen(QPen(Qt::red, 3));
            p.drawRect(w / 4, h / 4, w / 2, h / 2);
            p.end();
            image.save(result, "JPEG", 85);
        });
        std::printf("generated %d + %d JPEGs (%dx%d) in %.1f s\n", count, count, w, h, timer.elapsed() / 1000.0);
    }
    std::fflush(stdout);
    const qint64 hwmBefore = vmHwmKb();
    std::printf("load average at the start: %s\n", loadAverage().constData());

    // 2. The gallery as the app builds it.
    GalleryModel model;
    GalleryFilterProxy proxy;
    proxy.setSourceModel(&model);
    ThumbnailCache cache;
    GalleryDelegate delegate(&cache);
    GalleryView view;
    view.setModel(&proxy);
    view.setItemDelegate(&delegate);
    delegate.setThumbnailSize(thumb);
    cache.setThumbnailSize(thumb * view.devicePixelRatio());
    cache.setMaxCostBytes(ThumbnailCache::defaultBudgetFor(thumb * view.devicePixelRatio()));
    view.setGridSize(delegate.sizeHint(QStyleOptionViewItem(), QModelIndex()) + QSize(8, 8));
    QObject::connect(&cache, &ThumbnailCache::thumbnailReady, view.viewport(), qOverload<>(&QWidget::update));
    view.resize(1400, 900);
    view.show();

    // Gaps between 1 ms ticks are how long the event loop could not run.
    QElapsedTimer clock;
    clock.start();
    qint64 lastTick = clock.elapsed();
    qint64 worstGap = 0;
    // On a loaded machine a gap can be the scheduler's doing: the GUI thread's own CPU time
    // between two ticks is what our code kept the loop busy for.
    qint64 lastCpuUs = threadCpuUs();
    qint64 worstBusyMs = 0;
    bool measuring = false;
    QTimer ticker;
    ticker.setTimerType(Qt::PreciseTimer);
    ticker.setInterval(1);
    QObject::connect(&ticker, &QTimer::timeout, [&] {
        const qint64 now = clock.elapsed();
        if (measuring)
            worstGap = std::max(worstGap, now - lastTick);
        const qint64 cpu = threadCpuUs();
        if (measuring)
            worstBusyMs = std::max(worstBusyMs, (cpu - lastCpuUs) / 1000);
        lastCpuUs = cpu;
        lastTick = now;
    });
    ticker.start();

    // Every visible cell shows its thumbnails (both, once an item has a result).
    const auto visibleComplete = [&] {
        QSet<int> rows;
        const QRect area = view.viewport()->rect();
        for (int y = 5; y < area.height(); y += 40)
            for (int x = 5; x < area.width(); x += 40) {
                const QModelIndex idx = view.indexAt(QPoint(x, y));
                if (idx.isValid())
                    rows.insert(proxy.mapToSource(idx).row());
            }
        for (int row : std::as_const(rows)) {
            const GalleryItem &it = model.item(row);
            if (!cache.contains(it.path) || (!it.resultPath.isEmpty() && !cache.contains(it.resultPath)))
                return false;
        }
        return !rows.isEmpty();
    };

    ImageCollector collector;
    QObject::connect(&collector, &ImageCollector::imagesFound, [&](const QList<GalleryModel::NewImage> &images) {
        model.addImages(images);
    });
    timer.restart();
    lastTick = clock.elapsed();
    measuring = true;
    collector.collect({photos ? photosDir : imagesDir});
    if (!waitFor([&] { return !collector.isBusy() && model.rowCount() == count; }, 120000)) {
        std::fprintf(stderr, "gallery did not fill: %d of %d\n", model.rowCount(), count);
        return 1;
    }
    const qint64 populateMs = timer.elapsed();
    const qint64 populateStall = worstGap;
    const qint64 populateBusy = worstBusyMs;
    // What a user waits for after dropping the folder: the first screen of thumbnails.
    const bool firstScreen = waitFor(visibleComplete, 120000);
    const qint64 firstScreenMs = firstScreen ? timer.elapsed() : -1;
    const qint64 firstScreenStall = worstGap;
    const qint64 firstScreenBusy = worstBusyMs;
    // Every item as finished, pointing at its "result", as after a completed batch.
    for (int row = 0; row < model.rowCount() && !photos; ++row) {
        DetectionResult r;
        r.imageWidth = w;
        r.imageHeight = h;
        Detection d;
        d.classId = 0;
        d.label = QStringLiteral("person");
        d.confidence = 0.9f;
        d.box = QRectF(w / 4.0, h / 4.0, w / 2.0, h / 2.0);
        r.detections = {d};
        model.setResult(row, r, true, QDir(resultsDir).filePath(model.item(row).fileName), QString());
    }
    waitFor([] { return false; }, 300);

    // 3. Scroll from top to bottom at a steady pace, as a user dragging the scroll bar would.
    QScrollBar *bar = view.verticalScrollBar();
    bar->setValue(0);
    waitFor([&] { return cache.pendingCount() == 0 && cache.runningCount() == 0; }, 10000);
    worstGap = 0;
    worstBusyMs = 0;
    lastTick = clock.elapsed();
    QList<qint64> gaps;
    int frames = 0;
    timer.restart();
    QTimer scroller;
    scroller.setInterval(16);
    QObject::connect(&scroller, &QTimer::timeout, [&] {
        const double t = timer.elapsed() / (scrollSeconds * 1000.0);
        bar->setValue(int(std::min(1.0, t) * bar->maximum()));
        ++frames;
    });
    scroller.start();
    waitFor([&] { return timer.elapsed() >= scrollSeconds * 1000.0; }, int(scrollSeconds * 1000) + 5000);
    scroller.stop();
    const qint64 scrollStall = worstGap;
    const qint64 scrollBusy = worstBusyMs;
    const qint64 scrollMs = timer.elapsed();
    waitFor([&] { return cache.pendingCount() == 0 && cache.runningCount() == 0; }, 10000);
    measuring = false;

    // 4. Jump to random places (a user dragging the scroll bar thumb and letting go): how long
    //    until every visible cell shows both thumbnails.
    QRandomGenerator jumps(42);
    QList<qint64> fill;
    worstGap = 0;
    worstBusyMs = 0;
    measuring = true;
    lastTick = clock.elapsed();
    for (int i = 0; i < 20; ++i) {
        bar->setValue(int(jumps.bounded(bar->maximum() + 1)));
        QElapsedTimer t;
        t.start();
        if (!waitFor(visibleComplete, 10000)) {
            std::fprintf(stderr, "visible thumbnails did not all load within 10 s\n");
            break;
        }
        fill.append(t.elapsed());
    }
    const qint64 jumpStall = worstGap;
    const qint64 jumpBusy = worstBusyMs;
    measuring = false;
    std::sort(fill.begin(), fill.end());

    std::printf("load average at the end: %s\n", loadAverage().constData());
    std::printf("(stall: longest gap between 1 ms ticks; busy: the most GUI-thread CPU time between two ticks)\n");
    std::printf("gallery populated with %d images in %.0f ms (longest stall meanwhile %lld ms, busy %lld ms)\n", count,
                double(populateMs), populateStall, populateBusy);
    std::printf("first screen of thumbnails complete %lld ms after the folder was added (longest stall until then %lld ms, busy %lld ms)\n",
                firstScreenMs, firstScreenStall, firstScreenBusy);
    std::printf("scrolled %d px top to bottom in %.1f s (%d frames): longest stall %lld ms, busy %lld ms\n", bar->maximum(),
                scrollMs / 1000.0, frames, scrollStall, scrollBusy);
    if (!fill.isEmpty())
        std::printf("after %lld jumps to random positions: visible cells complete in median %lld ms, worst %lld ms; longest stall %lld ms, busy %lld ms\n",
                    qint64(fill.size()), fill.at(fill.size() / 2), fill.last(), jumpStall, jumpBusy);
    std::printf("thumbnail cache: %d thumbnails, %.1f MB of %.1f MB budget\n", cache.cachedCount(),
                cache.totalCostBytes() / 1048576.0, cache.maxCostBytes() / 1048576.0);
    std::printf("peak RSS (VmHWM): %.1f MB (%.1f MB before the gallery existed)\n", vmHwmKb() / 1024.0, hwmBefore / 1024.0);
    if (photos) {
        // What one thumbnail costs: the scaled decode the cache does, against a full decode
        // (measured last: a full 12 MP decode would otherwise set the peak memory).
        const int samples = int(std::min<qsizetype>(5, photoFiles.size()));
        double scaledMs = 0;
        double fullMs = 0;
        QSize fullSize;
        for (int i = 0; i < samples; ++i) {
            const QString path = QDir(photosDir).filePath(photoFiles.at(i));
            qint64 start = threadCpuUs();
            ThumbnailCache::load(path, thumb);
            scaledMs += (threadCpuUs() - start) / 1000.0;
            start = threadCpuUs();
            fullSize = QImageReader(path).read().size();
            fullMs += (threadCpuUs() - start) / 1000.0;
        }
        std::printf("%d photos (%dx%d); one thumbnail decodes in %.1f ms of CPU, a full decode takes %.1f ms (mean of %d)\n",
                    count, fullSize.width(), fullSize.height(), scaledMs / samples, fullMs / samples, samples);
    }
    return 0;
}
