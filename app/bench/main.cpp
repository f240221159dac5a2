// edgelens-bench: speed (and optionally accuracy) figures for the detector and the server.
// Prints numbers for people (docs/EVAL.md explains them); it is not a test and asserts nothing.

#include "benchrunner.h"
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

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    // The same names as edgelens-cli, so models it downloaded (per-user data folder) are found.
    QCoreApplication::setOrganizationName(QStringLiteral("EdgeLens"));
    QCoreApplication::setApplicationName(QStringLiteral("EdgeLens"));
    QCoreApplication::setApplicationVersion(QStringLiteral(EDGELENS_VERSION));

    const ServerConfig serverDefaults;
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Speed of each model in-process and behind the server over loopback (legacy and v2 clients), and with\n"
        "--with-map its accuracy on coco128-train. Prints figures; asserts nothing."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption modelsOption(QStringLiteral("models"),
                                          QStringLiteral("Comma-separated models (default: every complete model; "
                                                         "the first one also gets the detailed server figures)."),
                                          QStringLiteral("a,b"));
    const QCommandLineOption imagesOption(QStringLiteral("images"),
                                          QStringLiteral("Folder of images to send (default: the shared samples)."),
                                          QStringLiteral("dir"), sharedDir() + QStringLiteral("/data/samples"));
    const QCommandLineOption secondsOption(QStringLiteral("seconds"),
                                           QStringLiteral("Run each measurement this long (default 5)."),
                                           QStringLiteral("s"), QStringLiteral("5"));
    const QCommandLineOption countOption(QStringLiteral("count"),
                                         QStringLiteral("Instead of --seconds: this many images per measurement."),
                                         QStringLiteral("n"));
    const QCommandLineOption workersOption(QStringLiteral("workers"),
                                           QStringLiteral("Server workers (default: the server's, %1).")
                                               .arg(serverDefaults.workers),
                                           QStringLiteral("n"), QString::number(serverDefaults.workers));
    const QCommandLineOption threadsOption(QStringLiteral("threads"),
                                           QStringLiteral("OpenCV threads per forward, for every figure (default: "
                                                          "the server's automatic choice for --workers)."),
                                           QStringLiteral("n"));
    const QCommandLineOption backendOption(QStringLiteral("backend"),
                                           QStringLiteral("cv::dnn backend: %1 (default: $EDGELENS_DNN_BACKEND, "
                                                          "else opencv).")
                                               .arg(knownBackends().join(QStringLiteral(", "))),
                                           QStringLiteral("name"));
    const QCommandLineOption withMapOption(
        QStringLiteral("with-map"),
        QStringLiteral("Also score each model's mAP@[.5:.95] (COCO rules, as edgelens-cli eval); takes a while."));
    const QCommandLineOption mapImagesOption(QStringLiteral("map-images"),
                                             QStringLiteral("Images for --with-map (default: coco128-train)."),
                                             QStringLiteral("dir"),
                                             sharedDir() + QStringLiteral("/data/coco128-train/images"));
    const QCommandLineOption mapAnnotationsOption(
        QStringLiteral("map-annotations"),
        QStringLiteral("COCO JSON or YOLO txt folder for --with-map (default: coco128-train's)."), QStringLiteral("path"),
        sharedDir() + QStringLiteral("/data/coco128-train/annotations/instances_train2017.json"));
    const QCommandLineOption noServerOption(QStringLiteral("no-server"), QStringLiteral("Only the in-process figures."));
    const QCommandLineOption poolOption(QStringLiteral("pool"),
                                        QStringLiteral("Only the device-pool figures: 1, 2 and 3 edgelens-server "
                                                       "processes (--workers 1 --threads 1) with the first model, "
                                                       "then a failover run."));
    const QCommandLineOption markdownOption(QStringLiteral("markdown"), QStringLiteral("Print the tables as Markdown."));
    const QCommandLineOption makePhotosOption(
        QStringLiteral("make-photos"),
        QStringLiteral("Only write --count (default 24) 12 MP photos made from --images (default: coco128-train) "
                       "into DIR, for the shaped-link benchmark (packaging/shaped-link-bench.sh)."),
        QStringLiteral("DIR"));
    parser.addOption(makePhotosOption);
    const QCommandLineOption transferAccuracyOption(
        QStringLiteral("transfer-accuracy"),
        QStringLiteral("Only the 12 MP accuracy check (docs/TRANSFER.md): --map-images (default: coco128-train) made "
                       "12 MP in memory, scored sent whole and as the client's reduced copy, with the first model; "
                       "--count limits the images (default 128)."));
    parser.addOption(transferAccuracyOption);
    const QCommandLineOption videoOption(
        QStringLiteral("video"),
        QStringLiteral("Video mode: a slideshow of the --map-images photos (ffmpeg, one a second, 1920x1080, 30 fps) "
                       "through edgelens-cli and the embedded server, sampled every --video-every frames, beside the "
                       "same frames as JPEG files: frames/s, images/s, peak memory, mAP of frames and photos. "
                       "Files go to DIR."),
        QStringLiteral("DIR"));
    const QCommandLineOption videoSecondsOption(QStringLiteral("video-seconds"),
                                                QStringLiteral("Video mode: length in seconds (default 60)."),
                                                QStringLiteral("s"), QStringLiteral("60"));
    const QCommandLineOption videoEveryOption(QStringLiteral("video-every"),
                                              QStringLiteral("Video mode: keep every Nth frame (default 10)."),
                                              QStringLiteral("n"), QStringLiteral("10"));
    parser.addOptions({videoOption, videoSecondsOption, videoEveryOption});
    parser.addOptions({modelsOption, imagesOption, secondsOption, countOption, workersOption, threadsOption,
                       backendOption, withMapOption, mapImagesOption, mapAnnotationsOption, noServerOption,
                       markdownOption, poolOption});
    parser.process(app);
    // Model-loading chatter would interleave with the tables.
    ServerConfig::applyLogLevel(QStringLiteral("warning"), nullptr);

    BenchOptions options;
    bool ok = false;
    options.seconds = parser.value(secondsOption).toDouble(&ok);
    if (!ok || options.seconds <= 0 || options.seconds > 3600)
        return usageError(QStringLiteral("--seconds: expected a number of seconds above 0, at most 3600"));
    if (parser.isSet(countOption)) {
        options.count = parser.value(countOption).toInt(&ok);
        if (!ok || options.count < 1 || options.count > 1000000)
            return usageError(QStringLiteral("--count: expected a whole number from 1 to 1000000"));
        options.seconds = 0;
    }
    options.workers = parser.value(workersOption).toInt(&ok);
    if (!ok || options.workers < 1 || options.workers > 64)
        return usageError(QStringLiteral("--workers: expected a whole number from 1 to 64"));
    ServerConfig threadConfig;
    threadConfig.workers = options.workers;
    if (parser.isSet(threadsOption)) {
        threadConfig.threads = parser.value(threadsOption).toInt(&ok);
        if (!ok || threadConfig.threads < 1 || threadConfig.threads > 256)
            return usageError(QStringLiteral("--threads: expected a whole number from 1 to 256"));
    }
    options.threads = threadConfig.effectiveThreads();
    if (parser.isSet(backendOption)) {
        options.backend = parser.value(backendOption).trimmed().toLower();
        QString error;
        if (!ServerConfig::checkBackend(options.backend, &error)) {
            std::fprintf(stderr, "edgelens-bench: --backend: %s\n", qPrintable(error));
            return 1;
        }
    }
    options.imagesDir = parser.value(imagesOption);
    if (parser.isSet(makePhotosOption)) {
        const QString source = options.imagesDir.isEmpty()
            ? sharedDir() + QStringLiteral("/data/coco128-train/images") : options.imagesDir;
        QString error;
        const QStringList photos = PhotoGenerator::generate(source, parser.value(makePhotosOption),
                                                            parser.isSet(countOption) ? options.count : 24, &error);
        if (photos.isEmpty()) {
            std::fprintf(stderr, "edgelens-bench: --make-photos: %s\n", qPrintable(error));
            return 1;
        }
        std::printf("%d photos in %s\n", int(photos.size()), qPrintable(parser.value(makePhotosOption)));
        return 0;
    }
    options.withMap = parser.isSet(withMapOption);
    options.mapImages = parser.value(mapImagesOption);
    options.mapAnnotations = parser.value(mapAnnotationsOption);
    options.withServer = !parser.isSet(noServerOption);
    options.markdown = parser.isSet(markdownOption);

    if (parser.isSet(videoOption)) {
        VideoBenchOptions video;
        video.workDir = parser.value(videoOption);
        video.imagesDir = parser.value(mapImagesOption);
        video.annotations = parser.value(mapAnnotationsOption);
        video.cli = QCoreApplication::applicationDirPath() + QStringLiteral("/edgelens-cli");
        video.model = parser.isSet(modelsOption) ? parser.value(modelsOption).section(QLatin1Char(','), 0, 0) : QString();
        video.seconds = parser.value(videoSecondsOption).toInt(&ok);
        if (!ok || video.seconds < 1 || video.seconds > 128)
            return usageError(QStringLiteral("--video-seconds: expected a whole number from 1 to 128 (one photo each)"));
        video.every = parser.value(videoEveryOption).toInt(&ok);
        if (!ok || video.every < 1)
            return usageError(QStringLiteral("--video-every: expected a whole number above 0"));
        return VideoBench::run(video);
    }

    const ModelCatalog catalog;
    if (parser.isSet(modelsOption)) {
        for (const QString &name : parser.value(modelsOption).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            const auto manifest = catalog.find(name.trimmed());
            if (!manifest || !manifest->isComplete()) {
                std::fprintf(stderr, "edgelens-bench: model %s %s\n%s\n", qPrintable(name),
                             manifest ? "is missing files" : "is unknown", qPrintable(catalog.describeSearch()));
                return 1;
            }
            options.models.append(*manifest);
        }
    } else {
        options.models = allModels(catalog);
    }
    if (options.models.isEmpty()) {
        std::fprintf(stderr, "edgelens-bench: no complete model found\n%s\n", qPrintable(catalog.describeSearch()));
        return 1;
    }

    if (parser.isSet(transferAccuracyOption)) {
        QTextStream out(stdout);
        QTextStream err(stderr);
        TransferAccuracyOptions accuracy;
        accuracy.model = options.models.first();
        accuracy.imagesDir = parser.value(mapImagesOption);
        accuracy.annotations = parser.value(mapAnnotationsOption);
        accuracy.count = parser.isSet(countOption) ? options.count : 128;
        accuracy.jobs = options.workers;
        accuracy.threads = options.threads;
        accuracy.backend = options.backend;
        return TransferAccuracy::run(accuracy, out, err);
    }

    if (parser.isSet(poolOption)) {
        QTextStream out(stdout);
        QTextStream err(stderr);
        const QList<QByteArray> images = BenchRunner::readImages(options.imagesDir);
        if (images.isEmpty())
            return usageError(options.imagesDir + QStringLiteral(": no images found"));
        PoolBench pool(QCoreApplication::applicationDirPath() + QStringLiteral("/edgelens-server"),
                       options.models.first().name, images);
        return pool.run(options.seconds, options.count, options.markdown, out, err);
    }

    BenchRunner runner(options);
    return runner.run();
}
