#include "benchrunner.h"

#include "detector/detector.h"
#include "eval/evaldataset.h"
#include "evalrun/modelevaluation.h"
#include "http/httplistener.h"
#include "net/detectionserver.h"
#include "net/serverconfig.h"
#include "pipelinebench.h"
#include "serverbench.h"
#include "texttable.h"

#include <QDir>
#include <QFile>
#include <QSysInfo>
#include <QThread>

#include <opencv2/core.hpp>

#include <cstdio>

namespace edgelens {

namespace {

QString fixed(double value, int decimals = 1)
{
    return QString::number(value, 'f', decimals);
}

QString ratio(double value, double baseline)
{
    return baseline > 0 ? QString::number(value / baseline, 'f', 2) : QStringLiteral("n/a");
}

// "key: value" lines as /proc/cpuinfo and cv::getBuildInformation() print them.
QString valueOf(const QString &text, const QString &key)
{
    for (const QString &line : text.split(QLatin1Char('\n'))) {
        const QString trimmed = line.trimmed();
        if (trimmed.startsWith(key) && trimmed.indexOf(QLatin1Char(':')) >= key.size())
            return trimmed.section(QLatin1Char(':'), 1).trimmed();
    }
    return {};
}

QString readText(const QString &path)
{
    QFile file(path);
    // /proc files report size 0: read what there is, bounded.
    return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.read(1024 * 1024)) : QString();
}

QString loadAverage()
{
    const QString text = readText(QStringLiteral("/proc/loadavg"));
    return text.isEmpty() ? QStringLiteral("unknown") : text.section(QLatin1Char(' '), 0, 2);
}

} // namespace

struct BenchRunner::ServerFigures
{
    QString listenAddress;
    LoadFigures legacy1, legacy4, v21, v24;
    LoadFigures latencyV2, latencyHttp; // one client, boxes only
    int latencyRounds = 0;
};

BenchRunner::BenchRunner(const BenchOptions &options)
    : m_options(options)
    , m_out(stdout)
    , m_err(stderr)
{
}

QList<QByteArray> BenchRunner::readImages(const QString &dir)
{
    QList<QByteArray> images;
    for (const QString &rel : EvalDataset::scanImages(dir)) {
        QFile file(QDir(dir).filePath(rel));
        if (file.size() < 64LL * 1024 * 1024 && file.open(QIODevice::ReadOnly))
            images.append(file.readAll());
    }
    return images;
}

bool BenchRunner::loadImages()
{
    m_images = readImages(m_options.imagesDir);
    return !m_images.isEmpty();
}

void BenchRunner::printMachine(const QString &when)
{
    m_out << "load average (1, 5, 15 min) " << when << ": " << loadAverage() << '\n' << Qt::flush;
}

QString BenchRunner::scoreMap(const ModelManifest &manifest)
{
    QString error;
    const std::optional<EvalDataset> dataset = EvalDataset::load(m_options.mapImages, m_options.mapAnnotations,
                                                                 int(manifest.classNames.size()), &error);
    if (!dataset) {
        m_err << "edgelens-bench: mAP of " << manifest.name << ": " << error << '\n' << Qt::flush;
        return QStringLiteral("n/a");
    }
    EvalRunOptions options; // COCO practice: confidence 0.001, 100 detections per image
    options.jobs = m_options.workers;
    options.backend = m_options.backend;
    m_err << "scoring " << manifest.name << " on " << dataset->images.size() << " images\n" << Qt::flush;
    const std::optional<EvalRun> run = ModelEvaluation::runDetector(manifest, *dataset, options, &error);
    if (!run || !run->summary.isValid()) {
        m_err << "edgelens-bench: mAP of " << manifest.name << ": " << (run ? QStringLiteral("nothing to score") : error)
              << '\n'
              << Qt::flush;
        return QStringLiteral("n/a");
    }
    return fixed(run->summary.map, 3);
}

std::optional<BenchRunner::ServerFigures> BenchRunner::measureServer(const ModelManifest &manifest, bool detailed,
                                                                     QString *error)
{
    ServerConfig config = ServerConfig::embedded();
    config.models = {manifest};
    config.workers = m_options.workers;
    config.threads = m_options.threads;
    config.backend = m_options.backend;
    config.logLevel = QStringLiteral("warning");
    DetectionServer server;
    if (!server.start(config, error))
        return std::nullopt;

    ServerFigures figures;
    figures.listenAddress = server.listenAddress();
    ServerBench bench(server.serverAddress().toString(), server.serverPort(), m_images);
    const double seconds = m_options.seconds;
    const int count = m_options.count;
    if (detailed) {
        figures.legacy1 = bench.run(ServerBench::Protocol::Legacy, 1, seconds, count);
        figures.legacy4 = bench.run(ServerBench::Protocol::Legacy, 4, seconds, count);
        figures.v21 = bench.run(ServerBench::Protocol::V2, 1, seconds, count);
        measureLatency(server, bench, &figures);
    }
    figures.v24 = bench.run(ServerBench::Protocol::V2, 4, seconds, count);
    server.stop();
    return figures;
}

void BenchRunner::measureLatency(DetectionServer &server, ServerBench &bench, ServerFigures *figures)
{
    // The DeepStack API on the same server: what Frigate (0.1 s timeout) and Home Assistant see.
    auto *http = new HttpListener(server.service(), HttpLimits());
    QString error;
    if (!server.addListener(http, server.serverAddress(), 0, &error)) {
        m_err << "edgelens-bench: no HTTP port for the latency figures: " << error << '\n' << Qt::flush;
        return;
    }
    bench.setHttpPort(http->serverPort());
    // Short runs taking turns, so a neighbour's burst on a shared machine hits both protocols.
    constexpr int kRounds = 4;
    const double seconds = m_options.seconds > 0 ? m_options.seconds / kRounds : 0;
    const int count = m_options.count > 0 ? std::max(1, m_options.count / kRounds) : 0;
    bench.setBoxesOnly(true);
    for (int round = 0; round < kRounds; ++round) {
        figures->latencyV2.merge(bench.run(ServerBench::Protocol::V2, 1, seconds, count));
        figures->latencyHttp.merge(bench.run(ServerBench::Protocol::DeepStack, 1, seconds, count));
    }
    bench.setBoxesOnly(false);
    figures->latencyRounds = kRounds;
}

void BenchRunner::printLatency(const ServerFigures &figures, const QString &model)
{
    m_out << "\nLatency of one client, " << model << ", boxes only (round trip: request written -> answer parsed; "
          << figures.latencyRounds << " alternating rounds per protocol). HTTP: POST /v1/vision/detection on the "
          << "same server, as DeepStack clients send it.\n\n";
    const TextTable table({{QStringLiteral("protocol"), 22, true},
                           {QStringLiteral("images"), 0, false},
                           {QStringLiteral("p50 ms"), 0, false},
                           {QStringLiteral("p99 ms"), 0, false},
                           {QStringLiteral("p50 vs v2"), 0, false},
                           {QStringLiteral("failed"), 0, false}},
                          m_options.markdown);
    m_out << table.header();
    const double base = figures.latencyV2.medianMs;
    const std::pair<QString, const LoadFigures *> rows[] = {
        {QStringLiteral("v2 (with marked JPEG)"), &figures.v21},
        {QStringLiteral("v2"), &figures.latencyV2},
        {QStringLiteral("HTTP (DeepStack API)"), &figures.latencyHttp}};
    for (const auto &[name, f] : rows) {
        m_out << table.row({name, QString::number(f->completed), fixed(f->medianMs), fixed(f->p99Ms),
                            ratio(f->medianMs, base),
                            f->failed > 0 ? QStringLiteral("%1 (%2)").arg(f->failed).arg(f->firstError)
                                          : QStringLiteral("0")})
              << Qt::flush;
    }
}

int BenchRunner::run()
{
    if (!loadImages()) {
        m_err << "edgelens-bench: " << m_options.imagesDir << ": no images (jpg, png, ...) found\n" << Qt::flush;
        return 1;
    }
    // Process-wide, like the server's --threads: every figure below runs with it.
    cv::setNumThreads(m_options.threads);
    printHeader();

    const PipelineBench pipeline(m_images, m_options.backend);
    std::optional<PipelineFigures> baseline;
    std::optional<ServerFigures> detailed;
    if (printModelTable(pipeline, &baseline, &detailed) == 0)
        return 1;
    if (detailed && baseline)
        printServerTable(pipeline, *baseline, *detailed);
    m_out << '\n';
    printMachine(QStringLiteral("at end"));
    return 0;
}

void BenchRunner::printHeader()
{
    const QString measure = m_options.count > 0 ? QStringLiteral("%1 images").arg(m_options.count)
                                                : QStringLiteral("%1 s").arg(m_options.seconds);
    const QString cpu = valueOf(readText(QStringLiteral("/proc/cpuinfo")), QStringLiteral("model name"));
    const QString framework = valueOf(QString::fromStdString(cv::getBuildInformation()),
                                      QStringLiteral("Parallel framework"));
    ServerConfig backendConfig;
    backendConfig.backend = m_options.backend;
    const QString effectiveBackend = backendConfig.effectiveBackend();
    m_out << "edgelens-bench " << EDGELENS_VERSION << ": " << m_images.size() << " images from "
          << m_options.imagesDir << ", " << measure << " per figure\n"
          << "machine: " << (cpu.isEmpty() ? QStringLiteral("unknown CPU") : cpu) << ", "
          << QThread::idealThreadCount() << " cores, " << QSysInfo::prettyProductName() << ", OpenCV " << CV_VERSION
          << " (" << (framework.isEmpty() ? QStringLiteral("unknown") : framework) << ")\n"
          << "backend " << effectiveBackend << " (available: "
          << availableBackends().join(QStringLiteral(", ")) << "), " << m_options.workers << " server workers x "
          << cv::getNumThreads() << " OpenCV threads\n";
    printMachine(QStringLiteral("at start"));
    m_out << '\n';
}

// 1. A summary row per model. Returns how many were measured; the first model's figures
// (in-process and behind the server) go to *baseline and *detailed for the server table.
int BenchRunner::printModelTable(const PipelineBench &pipeline, std::optional<PipelineFigures> *baseline,
                                 std::optional<ServerFigures> *detailed)
{
    const TextTable table({{QStringLiteral("model"), 20, true},
                           {QStringLiteral("input"), 7, true},
                           {QStringLiteral("mAP@[.5:.95]"), 0, false},
                           {QStringLiteral("forward ms"), 0, false},
                           {QStringLiteral("detect ms"), 0, false},
                           {QStringLiteral("images/s 1 thread"), 0, false},
                           {QStringLiteral("images/s v2 x4"), 0, false}},
                          m_options.markdown);
    m_out << "mAP: coco128-train, confidence 0.001, 100 boxes per image" << (m_options.withMap ? "" : " (not measured: pass --with-map)")
          << ". forward: median cv::dnn forward() on the input size. detect: median Detector::detect().\n"
          << "images/s 1 thread: decode + detect + markup + JPEG, in-process on one thread (confidence 0.5). "
          << "images/s v2 x4: the server over 127.0.0.1, 4 v2 clients.\n\n"
          << table.header() << Qt::flush;

    int measured = 0;
    for (qsizetype i = 0; i < m_options.models.size(); ++i) {
        const ModelManifest &manifest = m_options.models.at(i);
        const bool first = i == 0;
        const QString map = m_options.withMap ? scoreMap(manifest) : QStringLiteral("-");
        QString error;
        const std::optional<double> forward = PipelineBench::forwardMedianMs(manifest, 20, m_options.backend, &error);
        const std::optional<PipelineFigures> figures =
            pipeline.run(manifest, 1, m_options.seconds, m_options.count, &error);
        if (!figures) {
            m_out << table.row({manifest.name, QStringLiteral("failed: ") + error}) << Qt::flush;
            continue;
        }
        ++measured;
        std::optional<ServerFigures> server;
        if (m_options.withServer) {
            server = measureServer(manifest, first, &error);
            if (!server)
                m_err << "edgelens-bench: the server did not start for " << manifest.name << ": " << error << '\n';
        }
        if (first) {
            *baseline = figures;
            *detailed = server;
        }
        m_out << table.row({manifest.name,
                            QStringLiteral("%1x%2").arg(manifest.inputWidth).arg(manifest.inputHeight),
                            map,
                            forward ? fixed(*forward) : QStringLiteral("n/a"),
                            fixed(figures->detectMedianMs),
                            fixed(figures->imagesPerSecond),
                            server ? fixed(server->v24.imagesPerSecond) : QStringLiteral("-")})
              << Qt::flush;
    }
    return measured;
}

// 2. The first model behind the server against the detector alone.
void BenchRunner::printServerTable(const PipelineBench &pipeline, const PipelineFigures &baseline,
                                   const ServerFigures &detailed)
{
    const ModelManifest &served = m_options.models.first();
    const int workers = m_options.workers;
    QString error;
    double baselineW = 0;
    if (workers > 1) {
        if (const auto figures = pipeline.run(served, workers, m_options.seconds, m_options.count, &error))
            baselineW = figures->imagesPerSecond;
    }
    m_out << "\nServer on " << detailed.listenAddress << ", " << served.name << ", " << workers
          << " workers; detector-only: " << fixed(baseline.imagesPerSecond) << " images/s on 1 thread";
    if (baselineW > 0)
        m_out << ", " << fixed(baselineW) << " on " << workers << " threads";
    m_out << "\n\n";
    const TextTable server({{QStringLiteral("protocol"), 8, true},
                            {QStringLiteral("clients"), 0, false},
                            {QStringLiteral("images/s"), 0, false},
                            {QStringLiteral("median ms"), 0, false},
                            {QStringLiteral("p95 ms"), 0, false},
                            {QStringLiteral("vs 1 thread"), 0, false},
                            {QStringLiteral("vs %1 threads").arg(workers), 0, false},
                            {QStringLiteral("failed"), 0, false}},
                           m_options.markdown);
    m_out << server.header();
    const std::pair<const char *, const LoadFigures *> rows[] = {
        {"legacy", &detailed.legacy1}, {"legacy", &detailed.legacy4}, {"v2", &detailed.v21}, {"v2", &detailed.v24}};
    for (const auto &[protocol, figures] : rows) {
        m_out << server.row({QLatin1String(protocol), QString::number(figures->clients),
                             fixed(figures->imagesPerSecond), fixed(figures->medianMs), fixed(figures->p95Ms),
                             ratio(figures->imagesPerSecond, baseline.imagesPerSecond),
                             baselineW > 0 ? ratio(figures->imagesPerSecond, baselineW) : QStringLiteral("-"),
                             figures->failed > 0 ? QStringLiteral("%1 (%2)").arg(figures->failed).arg(figures->firstError)
                                                 : QStringLiteral("0")})
              << Qt::flush;
    }
    if (detailed.latencyRounds > 0)
        printLatency(detailed, served.name);
}

} // namespace edgelens
