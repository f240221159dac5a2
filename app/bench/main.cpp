// edgelens-bench: throughput figures for the detector and the server. Prints numbers for
// people (docs/EVAL.md explains them); it is not a test and asserts nothing.

#include "detector/modelcatalog.h"
#include "eval/evaldataset.h"
#include "net/detectionserver.h"
#include "net/serverconfig.h"
#include "pipelinebench.h"
#include "serverbench.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTextStream>
#include <QThread>

using namespace edgelens;

namespace {

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

QTextStream &err()
{
    static QTextStream stream(stderr);
    return stream;
}

QString defaultImagesDir()
{
    const QString env = qEnvironmentVariable("EDGELENS_SHARED_DIR");
    return (env.isEmpty() ? QStringLiteral(EDGELENS_SOURCE_SHARED_DIR) : env) + QStringLiteral("/data/samples");
}

QString fixed(double value, int decimals = 1)
{
    return QString::number(value, 'f', decimals);
}

QString ratio(double value, double baseline)
{
    return baseline > 0 ? QString::number(value / baseline, 'f', 2) : QStringLiteral("n/a");
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    // The same names as edgelens-cli, so models it downloaded (per-user data folder) are found.
    QCoreApplication::setOrganizationName(QStringLiteral("EdgeLens"));
    QCoreApplication::setApplicationName(QStringLiteral("EdgeLens"));
    QCoreApplication::setApplicationVersion(QStringLiteral(EDGELENS_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Throughput of the detector in-process and of the server over loopback (legacy and v2 clients).\n"
        "Prints figures; asserts nothing."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption modelsOption(QStringLiteral("models"),
                                          QStringLiteral("Comma-separated models (default: every complete model; "
                                                         "the first one is also served)."),
                                          QStringLiteral("a,b"));
    const QCommandLineOption imagesOption(QStringLiteral("images"),
                                          QStringLiteral("Folder of images to send (default: the shared samples)."),
                                          QStringLiteral("dir"), defaultImagesDir());
    const QCommandLineOption secondsOption(QStringLiteral("seconds"),
                                           QStringLiteral("Run each measurement this long (default 5)."),
                                           QStringLiteral("s"), QStringLiteral("5"));
    const QCommandLineOption countOption(QStringLiteral("count"),
                                         QStringLiteral("Instead of --seconds: this many images per measurement."),
                                         QStringLiteral("n"));
    const QCommandLineOption workersOption(QStringLiteral("workers"),
                                           QStringLiteral("Server worker threads (default: the server's default)."),
                                           QStringLiteral("n"), QString::number(ServerConfig().workers));
    const QCommandLineOption noServerOption(QStringLiteral("no-server"),
                                            QStringLiteral("Only the in-process figures."));
    parser.addOptions({modelsOption, imagesOption, secondsOption, countOption, workersOption, noServerOption});
    parser.process(app);
    // Model-loading chatter would interleave with the tables.
    ServerConfig::applyLogLevel(QStringLiteral("warning"), nullptr);

    bool ok = false;
    double seconds = parser.value(secondsOption).toDouble(&ok);
    if (!ok || seconds <= 0 || seconds > 3600) {
        err() << "edgelens-bench: --seconds: expected a number of seconds above 0, at most 3600\n";
        return 2;
    }
    int count = 0;
    if (parser.isSet(countOption)) {
        count = parser.value(countOption).toInt(&ok);
        if (!ok || count < 1 || count > 1000000) {
            err() << "edgelens-bench: --count: expected a whole number from 1 to 1000000\n";
            return 2;
        }
        seconds = 0;
    }
    const int workers = parser.value(workersOption).toInt(&ok);
    if (!ok || workers < 1 || workers > 64) {
        err() << "edgelens-bench: --workers: expected a whole number from 1 to 64\n";
        return 2;
    }

    // Images are read once: every figure measures decoding from memory, not the disk.
    const QString imagesDir = parser.value(imagesOption);
    QList<QByteArray> images;
    for (const QString &rel : EvalDataset::scanImages(imagesDir)) {
        QFile file(QDir(imagesDir).filePath(rel));
        if (file.size() < 64LL * 1024 * 1024 && file.open(QIODevice::ReadOnly))
            images.append(file.readAll());
    }
    if (images.isEmpty()) {
        err() << "edgelens-bench: " << imagesDir << ": no images (jpg, png, ...) found\n";
        return 1;
    }

    const ModelCatalog catalog;
    QList<ModelManifest> models;
    if (parser.isSet(modelsOption)) {
        for (const QString &name : parser.value(modelsOption).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            const auto manifest = catalog.find(name.trimmed());
            if (!manifest || !manifest->isComplete()) {
                err() << "edgelens-bench: model " << name << (manifest ? " is missing files" : " is unknown") << '\n'
                      << catalog.describeSearch() << '\n';
                return 1;
            }
            models.append(*manifest);
        }
    } else {
        if (const auto preferred = catalog.defaultModel(); preferred && !preferred->fallback)
            models.append(*preferred);
        for (const ModelManifest &m : catalog.all()) {
            if (m.isComplete() && !m.fallback && m.family != QLatin1String("cascade") && (models.isEmpty() || m.name != models.first().name))
                models.append(m);
        }
    }
    if (models.isEmpty()) {
        err() << "edgelens-bench: no complete model found\n" << catalog.describeSearch() << '\n';
        return 1;
    }

    const QString measure = count > 0 ? QStringLiteral("%1 images").arg(count) : QStringLiteral("%1 s").arg(seconds);
    out() << "edgelens-bench " << EDGELENS_VERSION << ": " << images.size() << " images from " << imagesDir << ", "
          << measure << " per figure, " << QThread::idealThreadCount() << " cores\n\n";

    // 1. Per model, in-process.
    const PipelineBench pipeline(images);
    out() << "In-process, 1 thread: decode + detect + markup + JPEG encode (confidence 0.5)\n";
    out() << QStringLiteral("%1 %2 %3 %4 %5\n")
                 .arg(QStringLiteral("model"), -22)
                 .arg(QStringLiteral("backend"), -12)
                 .arg(QStringLiteral("forward ms"), 10)
                 .arg(QStringLiteral("detect ms"), 10)
                 .arg(QStringLiteral("images/s"), 9)
          << Qt::flush;
    double baseline1 = 0;
    for (const ModelManifest &manifest : std::as_const(models)) {
        QString error;
        const std::optional<double> forward = PipelineBench::forwardMedianMs(manifest, 20, &error);
        const std::optional<PipelineFigures> figures = pipeline.run(manifest, 1, seconds, count, &error);
        if (!figures) {
            out() << QStringLiteral("%1 failed: %2\n").arg(manifest.name, -22).arg(error);
            continue;
        }
        if (baseline1 == 0)
            baseline1 = figures->imagesPerSecond;
        out() << QStringLiteral("%1 %2 %3 %4 %5\n")
                     .arg(manifest.name, -22)
                     .arg(figures->backend, -12)
                     .arg(forward ? fixed(*forward) : QStringLiteral("n/a"), 10)
                     .arg(fixed(figures->detectMedianMs), 10)
                     .arg(fixed(figures->imagesPerSecond), 9)
              << Qt::flush;
    }
    if (parser.isSet(noServerOption))
        return 0;

    // 2. The first model behind the server, over loopback.
    const ModelManifest &served = models.first();
    QString error;
    double baselineW = 0;
    if (workers > 1) {
        if (const auto figures = pipeline.run(served, workers, seconds, count, &error))
            baselineW = figures->imagesPerSecond;
    }
    ServerConfig config = ServerConfig::embedded();
    config.models = {served};
    config.workers = workers;
    config.logLevel = QStringLiteral("warning");
    DetectionServer server;
    if (!server.start(config, &error)) {
        err() << "edgelens-bench: the server did not start: " << error << '\n';
        return 1;
    }
    out() << "\nServer on " << server.listenAddress() << ", " << served.name << ", " << workers
          << " workers; detector-only: " << fixed(baseline1) << " images/s on 1 thread";
    if (baselineW > 0)
        out() << ", " << fixed(baselineW) << " on " << workers << " threads";
    out() << '\n';
    out() << QStringLiteral("%1 %2 %3 %4 %5 %6 %7\n")
                 .arg(QStringLiteral("protocol"), -9)
                 .arg(QStringLiteral("clients"), 7)
                 .arg(QStringLiteral("images/s"), 9)
                 .arg(QStringLiteral("median ms"), 10)
                 .arg(QStringLiteral("p95 ms"), 8)
                 .arg(QStringLiteral("vs 1 thread"), 11)
                 .arg(QStringLiteral("vs %1 threads").arg(workers), 13)
          << Qt::flush;
    ServerBench bench(server.serverAddress().toString(), server.serverPort(), images);
    for (const auto protocol : {ServerBench::Protocol::Legacy, ServerBench::Protocol::V2}) {
        for (const int clients : {1, 4}) {
            const LoadFigures figures = bench.run(protocol, clients, seconds, count);
            out() << QStringLiteral("%1 %2 %3 %4 %5 %6 %7")
                         .arg(protocol == ServerBench::Protocol::Legacy ? QStringLiteral("legacy") : QStringLiteral("v2"), -9)
                         .arg(clients, 7)
                         .arg(fixed(figures.imagesPerSecond), 9)
                         .arg(fixed(figures.medianMs), 10)
                         .arg(fixed(figures.p95Ms), 8)
                         .arg(ratio(figures.imagesPerSecond, baseline1), 11)
                         .arg(workers > 1 ? ratio(figures.imagesPerSecond, baselineW) : QStringLiteral("-"), 13);
            if (figures.failed > 0)
                out() << "  (" << figures.failed << " failed: " << figures.firstError << ')';
            out() << '\n' << Qt::flush;
        }
    }
    server.stop();
    return 0;
}
