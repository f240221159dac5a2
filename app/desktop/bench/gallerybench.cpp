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
#include <variant>
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

// How long the GUI thread's event loop could not run: the gaps between the ticks of a 1 ms
// timer. On a loaded machine a gap can be the scheduler's doing, so the GUI thread's own CPU
// time between two ticks (busy) is what our code kept the loop busy for.
class StallMonitor final
{
public:
    StallMonitor()
    {
        m_clock.start();
        m_ticker.setTimerType(Qt::PreciseTimer);
        m_ticker.setInterval(1);
        QObject::connect(&m_ticker, &QTimer::timeout, [this] { tick(); });
        m_ticker.start();
    }
    void start() // from now on, worst figures count (reset)
    {
        m_worstGapMs = 0;
        m_worstBusyMs = 0;
        m_lastTick = m_clock.elapsed();
        m_measuring = true;
    }
    void stop() { m_measuring = false; }
    qint64 worstGapMs() const { return m_worstGapMs; }
    qint64 worstBusyMs() const { return m_worstBusyMs; }

private:
    void tick()
    {
        const qint64 now = m_clock.elapsed();
        const qint64 cpu = threadCpuUs();
        if (m_measuring) {
            m_worstGapMs = std::max(m_worstGapMs, now - m_lastTick);
            m_worstBusyMs = std::max(m_worstBusyMs, (cpu - m_lastCpuUs) / 1000);
        }
        m_lastCpuUs = cpu;
        m_lastTick = now;
    }

    QElapsedTimer m_clock;
    QTimer m_ticker;
    qint64 m_lastTick = 0;
    qint64 m_lastCpuUs = threadCpuUs();
    qint64 m_worstGapMs = 0;
    qint64 m_worstBusyMs = 0;
    bool m_measuring = false;
};

struct Options
{
    int count = 10000;
    QSize size = QSize(640, 480);
    double scrollSeconds = 20;
    QString root;       // images/ and images/inferenced/ go here
    QString photosDir;  // non-empty: show these JPEGs instead of generated images
    QStringList photoFiles;
};

// The longest stall (and busiest tick) over one stage, and how long the stage took.
struct Stage
{
    qint64 ms = -1;
    qint64 stallMs = 0;
    qint64 busyMs = 0;
};

// The gallery as the app builds it, and the stages a user goes through with it.
class GalleryBench final
{
public:
    explicit GalleryBench(const Options &options)
        : m_options(options)
        , m_imagesDir(QDir(options.root).filePath(QStringLiteral("images")))
        , m_resultsDir(QDir(m_imagesDir).filePath(QStringLiteral("inferenced")))
        , m_delegate(&m_cache)
    {
        QDir(options.root).mkpath(QStringLiteral("images/inferenced"));
    }

    // 1. Originals plus stand-ins for marked-up results, so both thumbnails load.
    void generate()
    {
        if (!m_options.photosDir.isEmpty())
            return;
        QElapsedTimer timer;
        timer.start();
        QList<int> indexes(m_options.count);
        std::iota(indexes.begin(), indexes.end(), 0);
        const int w = m_options.size.width();
        const int h = m_options.size.height();
        QtConcurrent::blockingMap(indexes, [&](int i) {
            const QString name = QStringLiteral("img_%1.jpg").arg(i, 5, 10, QLatin1Char('0'));
            const QString original = QDir(m_imagesDir).filePath(name);
            const QString result = QDir(m_resultsDir).filePath(name);
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
        std::printf("generated %d + %d JPEGs (%dx%d) in %.1f s\n", m_options.count, m_options.count, w, h,
                    timer.elapsed() / 1000.0);
        std::fflush(stdout);
    }

    void showGallery()
    {
        m_proxy.setSourceModel(&m_model);
        m_view.setModel(&m_proxy);
        m_view.setItemDelegate(&m_delegate);
        m_delegate.setThumbnailSize(kThumb);
        m_cache.setThumbnailSize(kThumb * m_view.devicePixelRatio());
        m_cache.setMaxCostBytes(ThumbnailCache::defaultBudgetFor(kThumb * m_view.devicePixelRatio()));
        m_view.setGridSize(m_delegate.sizeHint(QStyleOptionViewItem(), QModelIndex()) + QSize(8, 8));
        QObject::connect(&m_cache, &ThumbnailCache::thumbnailReady, m_view.viewport(), qOverload<>(&QWidget::update));
        m_view.resize(1400, 900);
        m_view.show();
    }

    // 2. Add the folder: until every image is in the gallery, then until the first screen of
    // thumbnails is complete (what a user waits for after dropping the folder).
    bool populate()
    {
        ImageCollector collector;
        QObject::connect(&collector, &ImageCollector::imagesFound,
                         [this](const QList<GalleryModel::NewImage> &images) { m_model.addImages(images); });
        QElapsedTimer timer;
        timer.start();
        m_stalls.start();
        collector.collect({m_options.photosDir.isEmpty() ? m_imagesDir : m_options.photosDir});
        if (!waitFor([&] { return !collector.isBusy() && m_model.rowCount() == m_options.count; }, 120000)) {
            std::fprintf(stderr, "gallery did not fill: %d of %d\n", m_model.rowCount(), m_options.count);
            return false;
        }
        m_populate = {timer.elapsed(), m_stalls.worstGapMs(), m_stalls.worstBusyMs()};
        const bool complete = waitFor([this] { return visibleComplete(); }, 120000);
        m_firstScreen = {complete ? timer.elapsed() : -1, m_stalls.worstGapMs(), m_stalls.worstBusyMs()};
        return true;
    }

    // Every item as finished, pointing at its "result", as after a completed batch.
    void finishAll()
    {
        if (!m_options.photosDir.isEmpty())
            return;
        const double w = m_options.size.width();
        const double h = m_options.size.height();
        for (int row = 0; row < m_model.rowCount(); ++row) {
            DetectionResult r;
            r.imageWidth = int(w);
            r.imageHeight = int(h);
            Detection d;
            d.classId = 0;
            d.label = QStringLiteral("person");
            d.confidence = 0.9f;
            d.box = QRectF(w / 4.0, h / 4.0, w / 2.0, h / 2.0);
            r.detections = {d};
            m_model.setResult(row, r, true, QDir(m_resultsDir).filePath(m_model.item(row).fileName), QString());
        }
        waitFor([] { return false; }, 300);
    }

    // 3. Scroll from top to bottom at a steady pace, as a user dragging the scroll bar would.
    void scroll()
    {
        QScrollBar *bar = m_view.verticalScrollBar();
        bar->setValue(0);
        waitFor([this] { return cacheIdle(); }, 10000);
        m_stalls.start();
        QElapsedTimer timer;
        timer.start();
        QTimer scroller;
        scroller.setInterval(16);
        const double seconds = m_options.scrollSeconds;
        QObject::connect(&scroller, &QTimer::timeout, [&] {
            const double t = timer.elapsed() / (seconds * 1000.0);
            bar->setValue(int(std::min(1.0, t) * bar->maximum()));
            ++m_scrollFrames;
        });
        scroller.start();
        waitFor([&] { return timer.elapsed() >= seconds * 1000.0; }, int(seconds * 1000) + 5000);
        scroller.stop();
        m_scroll = {timer.elapsed(), m_stalls.worstGapMs(), m_stalls.worstBusyMs()};
        waitFor([this] { return cacheIdle(); }, 10000);
        m_stalls.stop();
    }

    // 4. Jump to random places (a user dragging the scroll bar thumb and letting go): how long
    //    until every visible cell shows both thumbnails.
    void jump()
    {
        QScrollBar *bar = m_view.verticalScrollBar();
        QRandomGenerator jumps(42);
        m_stalls.start();
        for (int i = 0; i < 20; ++i) {
            bar->setValue(int(jumps.bounded(bar->maximum() + 1)));
            QElapsedTimer t;
            t.start();
            if (!waitFor([this] { return visibleComplete(); }, 10000)) {
                std::fprintf(stderr, "visible thumbnails did not all load within 10 s\n");
                break;
            }
            m_fillMs.append(t.elapsed());
        }
        m_jump = {-1, m_stalls.worstGapMs(), m_stalls.worstBusyMs()};
        m_stalls.stop();
        std::sort(m_fillMs.begin(), m_fillMs.end());
    }

    void report(qint64 hwmBeforeKb) const
    {
        std::printf("load average at the end: %s\n", loadAverage().constData());
        std::printf("(stall: longest gap between 1 ms ticks; busy: the most GUI-thread CPU time between two ticks)\n");
        std::printf("gallery populated with %d images in %.0f ms (longest stall meanwhile %lld ms, busy %lld ms)\n",
                    m_options.count, double(m_populate.ms), m_populate.stallMs, m_populate.busyMs);
        std::printf("first screen of thumbnails complete %lld ms after the folder was added (longest stall until then "
                    "%lld ms, busy %lld ms)\n",
                    m_firstScreen.ms, m_firstScreen.stallMs, m_firstScreen.busyMs);
        std::printf("scrolled %d px top to bottom in %.1f s (%d frames): longest stall %lld ms, busy %lld ms\n",
                    m_view.verticalScrollBar()->maximum(), m_scroll.ms / 1000.0, m_scrollFrames, m_scroll.stallMs,
                    m_scroll.busyMs);
        if (!m_fillMs.isEmpty())
            std::printf("after %lld jumps to random positions: visible cells complete in median %lld ms, worst %lld ms; "
                        "longest stall %lld ms, busy %lld ms\n",
                        qint64(m_fillMs.size()), m_fillMs.at(m_fillMs.size() / 2), m_fillMs.last(), m_jump.stallMs,
                        m_jump.busyMs);
        std::printf("thumbnail cache: %d thumbnails, %.1f MB of %.1f MB budget\n", m_cache.cachedCount(),
                    m_cache.totalCostBytes() / 1048576.0, m_cache.maxCostBytes() / 1048576.0);
        std::printf("peak RSS (VmHWM): %.1f MB (%.1f MB before the gallery existed)\n", vmHwmKb() / 1024.0,
                    hwmBeforeKb / 1024.0);
    }

    // What one thumbnail costs: the scaled decode the cache does, against a full decode
    // (measured last: a full 12 MP decode would otherwise set the peak memory).
    void reportThumbnailCost() const
    {
        if (m_options.photosDir.isEmpty())
            return;
        const int samples = int(std::min<qsizetype>(5, m_options.photoFiles.size()));
        double scaledMs = 0;
        double fullMs = 0;
        QSize fullSize;
        for (int i = 0; i < samples; ++i) {
            const QString path = QDir(m_options.photosDir).filePath(m_options.photoFiles.at(i));
            qint64 start = threadCpuUs();
            ThumbnailCache::load(path, kThumb);
            scaledMs += (threadCpuUs() - start) / 1000.0;
            start = threadCpuUs();
            fullSize = QImageReader(path).read().size();
            fullMs += (threadCpuUs() - start) / 1000.0;
        }
        std::printf("%d photos (%dx%d); one thumbnail decodes in %.1f ms of CPU, a full decode takes %.1f ms (mean of %d)\n",
                    m_options.count, fullSize.width(), fullSize.height(), scaledMs / samples, fullMs / samples, samples);
    }

private:
    static constexpr QSize kThumb = QSize(160, 120);

    bool cacheIdle() const { return m_cache.pendingCount() == 0 && m_cache.runningCount() == 0; }

    // Every visible cell shows its thumbnails (both, once an item has a result).
    bool visibleComplete() const
    {
        QSet<int> rows;
        const QRect area = m_view.viewport()->rect();
        for (int y = 5; y < area.height(); y += 40)
            for (int x = 5; x < area.width(); x += 40) {
                const QModelIndex idx = m_view.indexAt(QPoint(x, y));
                if (idx.isValid())
                    rows.insert(m_proxy.mapToSource(idx).row());
            }
        for (int row : std::as_const(rows)) {
            const GalleryItem &it = m_model.item(row);
            if (!m_cache.contains(it.path) || (!it.resultPath.isEmpty() && !m_cache.contains(it.resultPath)))
                return false;
        }
        return !rows.isEmpty();
    }

    const Options m_options;
    const QString m_imagesDir;
    const QString m_resultsDir;
    GalleryModel m_model;
    GalleryFilterProxy m_proxy;
    ThumbnailCache m_cache;
    GalleryDelegate m_delegate;
    GalleryView m_view;
    StallMonitor m_stalls;
    Stage m_populate, m_firstScreen, m_scroll, m_jump;
    int m_scrollFrames = 0;
    QList<qint64> m_fillMs;
};

// The options, or an exit code after printing why.
std::variant<Options, int> parseOptions(const QApplication &app, const QString &temporaryRoot)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Gallery population, scrolling stalls and memory with many images."));
    parser.addHelpOption();
    parser.addOptions({
        {QStringLiteral("count"), QStringLiteral("Images to generate (default 10000)."), QStringLiteral("n"),
         QStringLiteral("10000")},
        {QStringLiteral("size"), QStringLiteral("Generated image size WxH (default 640x480)."), QStringLiteral("WxH"),
         QStringLiteral("640x480")},
        {QStringLiteral("dir"), QStringLiteral("Reuse/keep images in this folder instead of a temporary one."),
         QStringLiteral("dir")},
        {QStringLiteral("scroll-seconds"), QStringLiteral("How long to scroll top to bottom (default 20)."),
         QStringLiteral("s"), QStringLiteral("20")},
        {QStringLiteral("photos"),
         QStringLiteral("Show the JPEGs in this folder (unprocessed) instead of generated images; --count and --size "
                        "are ignored."),
         QStringLiteral("dir")},
    });
    parser.process(app);

    Options o;
    if (parser.isSet(QStringLiteral("photos"))) {
        o.photosDir = QDir(parser.value(QStringLiteral("photos"))).absolutePath();
        o.photoFiles = QDir(o.photosDir).entryList({QStringLiteral("*.jpg"), QStringLiteral("*.jpeg")}, QDir::Files,
                                                   QDir::Name);
        if (o.photoFiles.isEmpty()) {
            std::fprintf(stderr, "no JPEGs in %s\n", qPrintable(o.photosDir));
            return 1;
        }
    }
    o.count = o.photosDir.isEmpty() ? qMax(1, parser.value(QStringLiteral("count")).toInt()) : int(o.photoFiles.size());
    const QStringList wh = parser.value(QStringLiteral("size")).split(QLatin1Char('x'));
    o.size = QSize(qMax(16, wh.value(0).toInt()), qMax(16, wh.value(1).toInt()));
    o.scrollSeconds = qMax(1.0, parser.value(QStringLiteral("scroll-seconds")).toDouble());
    o.root = parser.isSet(QStringLiteral("dir")) ? parser.value(QStringLiteral("dir")) : temporaryRoot;
    return o;
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("edgelens-gallery-bench"));
    QTemporaryDir temp;
    const std::variant<Options, int> parsed = parseOptions(app, temp.path());
    if (const int *code = std::get_if<int>(&parsed))
        return *code;

    GalleryBench bench(std::get<Options>(parsed));
    bench.generate();
    const qint64 hwmBefore = vmHwmKb();
    std::printf("load average at the start: %s\n", loadAverage().constData());
    bench.showGallery();
    if (!bench.populate())
        return 1;
    bench.finishAll();
    bench.scroll();
    bench.jump();
    bench.report(hwmBefore);
    bench.reportThumbnailCost();
    return 0;
}
