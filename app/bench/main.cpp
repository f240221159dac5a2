// edgelens-bench: speed (and optionally accuracy) figures for the detector and the server.
// Prints numbers for people (docs/EVAL.md explains them); it is not a test and asserts nothing.

#include "benchrunner.h"
#include "decodebench.h"
#include "photogenerator.h"
#include "poolbench.h"
#include "transferaccuracy.h"
#include "videobench.h"
#include "detector/detector.h"
#include "models/modelcatalog.h"
#include "net/serverconfig.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>

using namespace edgelens;

namespace {

QString sharedDir()
{
    const QString env = qEnvironmentVariable("EDGELENS_SHARED_DIR");
    return env.isEmpty() ? QStringLiteral(EDGELENS_SOURCE_SHARED_DIR) : env;
}

int usageError(const QString &message)
{
    std::fprintf(stderr, "edgelens-bench: %s\n", qPrintable(message));
    return 2;
}

// Every complete DNN model, the catalog's default first.
QList<ModelManifest> allModels(const ModelCatalog &catalog)
{
    QList<ModelManifest> models;
    if (const auto preferred = catalog.defaultModel(); preferred && !preferred->fallback)
        models.append(*preferred);
    for (const ModelManifest &m : catalog.all()) {
        if (m.isComplete() && !m.fallback && m.family != QLatin1String("cascade")
            && (models.isEmpty() || m.name != models.first().name))
            models.append(m);
    }
    return models;
}

void addBenchOptions(QCommandLineParser &parser)
{
    const ServerConfig serverDefaults;
    parser.setApplicationDescription(QStringLiteral(
        "Speed of each model in-process and behind the server over loopback (legacy and v2 clients), and with\n"
        "--with-map its accuracy on coco128-train. Prints figures; asserts nothing."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({
        {QStringLiteral("make-photos"),
         QStringLiteral("Only write --count (default 24) 12 MP photos made from --images (default: coco128-train) "
                        "into DIR, for the shaped-link benchmark (packaging/shaped-link-bench.sh)."),
         QStringLiteral("DIR")},
        {QStringLiteral("transfer-accuracy"),
         QStringLiteral("Only the 12 MP accuracy check (docs/TRANSFER.md): --map-images (default: coco128-train) made "
                        "12 MP in memory, scored sent whole and as the client's reduced copy, with the first model; "
                        "--count limits the images (default 128).")},
        {QStringLiteral("video"),
         QStringLiteral("Video mode: a slideshow of the --map-images photos (ffmpeg, one a second, 1920x1080, 30 fps) "
                        "through edgelens-cli and the embedded server, sampled every --video-every frames, beside the "
                        "same frames as JPEG files: frames/s, images/s, peak memory, mAP of frames, of the photos "
                        "framed as the video frames them, and of the photos. Files go to DIR."),
         QStringLiteral("DIR")},
        {QStringLiteral("decode"),
         QStringLiteral("Decode mode: only decode VIDEO, keeping every --video-every frames as JPEG files (no "
                        "detector), as edgelens does, with every frame decoded, and as OpenCV's videoio + imencode: "
                        "frames decoded and kept, wall and CPU seconds, kept frames/s."),
         QStringLiteral("VIDEO")},
        {QStringLiteral("video-seconds"), QStringLiteral("Video mode: length in seconds (default 60)."),
         QStringLiteral("s"), QStringLiteral("60")},
        {QStringLiteral("video-every"), QStringLiteral("Video mode: keep every Nth frame (default 10)."),
         QStringLiteral("n"), QStringLiteral("10")},
        {QStringLiteral("models"),
         QStringLiteral("Comma-separated models (default: every complete model; the first one also gets the "
                        "detailed server figures)."),
         QStringLiteral("a,b")},
        {QStringLiteral("images"), QStringLiteral("Folder of images to send (default: the shared samples)."),
         QStringLiteral("dir"), sharedDir() + QStringLiteral("/data/samples")},
        {QStringLiteral("seconds"), QStringLiteral("Run each measurement this long (default 5)."), QStringLiteral("s"),
         QStringLiteral("5")},
        {QStringLiteral("count"), QStringLiteral("Instead of --seconds: this many images per measurement."),
         QStringLiteral("n")},
        {QStringLiteral("workers"), QStringLiteral("Server workers (default: the server's, %1).").arg(serverDefaults.workers),
         QStringLiteral("n"), QString::number(serverDefaults.workers)},
        {QStringLiteral("threads"),
         QStringLiteral("OpenCV threads per forward, for every figure (default: the server's automatic choice for "
                        "--workers)."),
         QStringLiteral("n")},
        {QStringLiteral("backend"),
         QStringLiteral("cv::dnn backend: %1 (default: $EDGELENS_DNN_BACKEND, else opencv).")
             .arg(knownBackends().join(QStringLiteral(", "))),
         QStringLiteral("name")},
        {QStringLiteral("with-map"),
         QStringLiteral("Also score each model's mAP@[.5:.95] (COCO rules, as edgelens-cli eval); takes a while.")},
        {QStringLiteral("map-images"), QStringLiteral("Images for --with-map (default: coco128-train)."),
         QStringLiteral("dir"), sharedDir() + QStringLiteral("/data/coco128-train/images")},
        {QStringLiteral("map-annotations"),
         QStringLiteral("COCO JSON or YOLO txt folder for --with-map (default: coco128-train's)."), QStringLiteral("path"),
         sharedDir() + QStringLiteral("/data/coco128-train/annotations/instances_train2017.json")},
        {QStringLiteral("no-server"), QStringLiteral("Only the in-process figures.")},
        {QStringLiteral("markdown"), QStringLiteral("Print the tables as Markdown.")},
        {QStringLiteral("pool"),
         QStringLiteral("Only the device-pool figures: 1, 2 and 3 edgelens-server processes (--workers 1 --threads 1) "
                        "with the first model, then a failover run.")},
    });
}

// The options every mode shares; 0 when they are good, else the exit code (reason printed).
int readCommonOptions(const QCommandLineParser &parser, BenchOptions *options)
{
    bool ok = false;
    options->seconds = parser.value(QStringLiteral("seconds")).toDouble(&ok);
    if (!ok || options->seconds <= 0 || options->seconds > 3600)
        return usageError(QStringLiteral("--seconds: expected a number of seconds above 0, at most 3600"));
    if (parser.isSet(QStringLiteral("count"))) {
        options->count = parser.value(QStringLiteral("count")).toInt(&ok);
        if (!ok || options->count < 1 || options->count > 1000000)
            return usageError(QStringLiteral("--count: expected a whole number from 1 to 1000000"));
        options->seconds = 0;
    }
    options->workers = parser.value(QStringLiteral("workers")).toInt(&ok);
    if (!ok || options->workers < 1 || options->workers > 64)
        return usageError(QStringLiteral("--workers: expected a whole number from 1 to 64"));
    ServerConfig threadConfig;
    threadConfig.workers = options->workers;
    if (parser.isSet(QStringLiteral("threads"))) {
        threadConfig.threads = parser.value(QStringLiteral("threads")).toInt(&ok);
        if (!ok || threadConfig.threads < 1 || threadConfig.threads > 256)
            return usageError(QStringLiteral("--threads: expected a whole number from 1 to 256"));
    }
    options->threads = threadConfig.effectiveThreads();
    if (parser.isSet(QStringLiteral("backend"))) {
        options->backend = parser.value(QStringLiteral("backend")).trimmed().toLower();
        QString error;
        if (!ServerConfig::checkBackend(options->backend, &error)) {
            std::fprintf(stderr, "edgelens-bench: --backend: %s\n", qPrintable(error));
            return 1;
        }
    }
    options->imagesDir = parser.value(QStringLiteral("images"));
    options->withMap = parser.isSet(QStringLiteral("with-map"));
    options->mapImages = parser.value(QStringLiteral("map-images"));
    options->mapAnnotations = parser.value(QStringLiteral("map-annotations"));
    options->withServer = !parser.isSet(QStringLiteral("no-server"));
    options->markdown = parser.isSet(QStringLiteral("markdown"));
    return 0;
}

int makePhotos(const QCommandLineParser &parser, const BenchOptions &options)
{
    const QString source =
        options.imagesDir.isEmpty() ? sharedDir() + QStringLiteral("/data/coco128-train/images") : options.imagesDir;
    const QString target = parser.value(QStringLiteral("make-photos"));
    QString error;
    const QStringList photos =
        PhotoGenerator::generate(source, target, parser.isSet(QStringLiteral("count")) ? options.count : 24, &error);
    if (photos.isEmpty()) {
        std::fprintf(stderr, "edgelens-bench: --make-photos: %s\n", qPrintable(error));
        return 1;
    }
    std::printf("%d photos in %s\n", int(photos.size()), qPrintable(target));
    return 0;
}

int runVideo(const QCommandLineParser &parser, const BenchOptions &options)
{
    VideoBenchOptions video;
    video.workDir = parser.value(QStringLiteral("video"));
    video.imagesDir = options.mapImages;
    video.annotations = options.mapAnnotations;
    video.cli = QCoreApplication::applicationDirPath() + QStringLiteral("/edgelens-cli");
    video.model = parser.value(QStringLiteral("models")).section(QLatin1Char(','), 0, 0);
    bool ok = false;
    video.seconds = parser.value(QStringLiteral("video-seconds")).toInt(&ok);
    if (!ok || video.seconds < 1 || video.seconds > 128)
        return usageError(QStringLiteral("--video-seconds: expected a whole number from 1 to 128 (one photo each)"));
    video.every = parser.value(QStringLiteral("video-every")).toInt(&ok);
    if (!ok || video.every < 1)
        return usageError(QStringLiteral("--video-every: expected a whole number above 0"));
    return VideoBench::run(video);
}

// The models named (each complete), else every complete one; empty after printing why.
QList<ModelManifest> chosenModels(const QCommandLineParser &parser)
{
    const ModelCatalog catalog;
    if (!parser.isSet(QStringLiteral("models"))) {
        const QList<ModelManifest> models = allModels(catalog);
        if (models.isEmpty())
            std::fprintf(stderr, "edgelens-bench: no complete model found\n%s\n", qPrintable(catalog.describeSearch()));
        return models;
    }
    QList<ModelManifest> models;
    for (const QString &name : parser.value(QStringLiteral("models")).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        QString error;
        const auto manifest = catalog.findComplete(name.trimmed(), &error);
        if (!manifest) {
            std::fprintf(stderr, "edgelens-bench: %s\n", qPrintable(error));
            return {};
        }
        models.append(*manifest);
    }
    return models;
}

int runTransferAccuracy(const QCommandLineParser &parser, const BenchOptions &options)
{
    QTextStream out(stdout);
    QTextStream err(stderr);
    TransferAccuracyOptions accuracy;
    accuracy.model = options.models.first();
    accuracy.imagesDir = options.mapImages;
    accuracy.annotations = options.mapAnnotations;
    accuracy.count = parser.isSet(QStringLiteral("count")) ? options.count : 128;
    accuracy.jobs = options.workers;
    accuracy.threads = options.threads;
    accuracy.backend = options.backend;
    return TransferAccuracy::run(accuracy, out, err);
}

int runPool(const BenchOptions &options)
{
    QTextStream out(stdout);
    QTextStream err(stderr);
    const QList<QByteArray> images = BenchRunner::readImages(options.imagesDir);
    if (images.isEmpty())
        return usageError(options.imagesDir + QStringLiteral(": no images found"));
    PoolBench pool(QCoreApplication::applicationDirPath() + QStringLiteral("/edgelens-server"),
                   options.models.first().name, images);
    return pool.run(options.seconds, options.count, options.markdown, out, err);
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
    addBenchOptions(parser);
    parser.process(app);
    // Model-loading chatter would interleave with the tables.
    ServerConfig::applyLogLevel(QStringLiteral("warning"), nullptr);

    BenchOptions options;
    if (const int code = readCommonOptions(parser, &options))
        return code;
    if (parser.isSet(QStringLiteral("make-photos")))
        return makePhotos(parser, options);
    if (parser.isSet(QStringLiteral("video")))
        return runVideo(parser, options);
    if (parser.isSet(QStringLiteral("decode"))) {
        bool ok = false;
        const int every = parser.value(QStringLiteral("video-every")).toInt(&ok);
        if (!ok || every < 1)
            return usageError(QStringLiteral("--video-every: expected a whole number above 0"));
        return DecodeBench::run(parser.value(QStringLiteral("decode")), every);
    }
    options.models = chosenModels(parser);
    if (options.models.isEmpty())
        return 1;
    if (parser.isSet(QStringLiteral("transfer-accuracy")))
        return runTransferAccuracy(parser, options);
    if (parser.isSet(QStringLiteral("pool")))
        return runPool(options);
    BenchRunner runner(options);
    return runner.run();
}
