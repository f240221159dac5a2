#include "modelevaluation.h"

#include "detectorworkers.h"

#include "detector/detector.h"
#include "detector/imagepipeline.h"
#include "eval/predictionreader.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QMutex>
#include <QMutexLocker>
#include <QTextStream>

#include <algorithm>
#include <cmath>
#include <vector>

Q_LOGGING_CATEGORY(lcModelEval, "edgelens.eval.run", QtInfoMsg)

namespace edgelens {

namespace {

// Same ceiling as the server's default frame limit: anything bigger is not a photo.
constexpr qint64 kMaxImageBytes = 64LL * 1024 * 1024;

struct ImageOutcome
{
    QList<Detection> detections;
    double ms = -1;
    QSize decodedSize;
    QString failure;
};

ImageOutcome detectOne(Detector &detector, const QString &path, const DetectParams &params)
{
    ImageOutcome outcome;
    QElapsedTimer timer;
    timer.start();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        outcome.failure = QStringLiteral("cannot open: %1").arg(file.errorString());
        return outcome;
    }
    if (file.size() > kMaxImageBytes) {
        outcome.failure = QStringLiteral("%1 bytes is too large for an image").arg(file.size());
        return outcome;
    }
    const QByteArray bytes = file.readAll();
    PipelineRequest request;
    request.params = params;
    PipelineOutcome done = ImagePipeline(detector).run(bytes, request);
    if (!done.ok) {
        outcome.failure = done.errorCode == protocol::ErrorCode::UndecodableImage
            ? QStringLiteral("not a decodable image")
            : QStringLiteral("detection failed: %1").arg(done.errorString);
        return outcome;
    }
    outcome.decodedSize = done.imageSize;
    outcome.detections = std::move(done.detections);
    outcome.ms = double(timer.nsecsElapsed()) / 1e6;
    return outcome;
}

double round3(double v)
{
    return std::round(v * 1000.0) / 1000.0;
}

} // namespace

double ModelEvaluation::percentile(QList<double> values, double p)
{
    if (values.isEmpty())
        return 0;
    std::sort(values.begin(), values.end());
    // Nearest rank: the smallest value with at least p% of the values at or below it.
    const double rank = std::ceil(std::clamp(p, 0.0, 100.0) / 100.0 * double(values.size()));
    const qsizetype index = std::clamp<qsizetype>(qsizetype(rank) - 1, 0, values.size() - 1);
    return values.at(index);
}

std::optional<EvalRun> ModelEvaluation::runDetector(const ModelManifest &manifest, const EvalDataset &dataset,
                                                    const EvalRunOptions &options, QString *error,
                                                    const Progress &progress)
{
    const int total = int(dataset.images.size());
    const int jobs = std::clamp(options.jobs, 1, std::max(1, total));

    QString loadError;
    const std::optional<DetectorWorkers> workers = DetectorWorkers::create(manifest, options.backend, jobs, &loadError);
    if (!workers) {
        if (error)
            *error = QStringLiteral("cannot load model %1: %2").arg(manifest.name, loadError);
        return std::nullopt;
    }

    DetectParams params;
    params.confidence = options.confidence;
    params.nmsIou = options.nmsIou;
    params.maxDetections = options.maxDetections;

    std::vector<ImageOutcome> outcomes(static_cast<size_t>(total));
    int done = 0;
    QMutex progressMutex;
    QElapsedTimer wall;
    wall.start();
    workers->forEach(total, [&](Detector &detector, int i) {
        outcomes[size_t(i)] = detectOne(detector, dataset.images.at(i).path, params);
        if (progress) {
            QMutexLocker lock(&progressMutex);
            progress(++done, total);
        }
    });

    EvalRun run;
    run.wallSeconds = double(wall.nsecsElapsed()) / 1e9;
    run.model = manifest.name;
    run.backend = workers->first().backendDescription();
    run.jobs = jobs;
    run.warnings = dataset.warnings;

    const QStringList classNames = dataset.classNames.isEmpty() ? manifest.classNames : dataset.classNames;
    if (!dataset.classNames.isEmpty() && !manifest.classNames.isEmpty()
        && dataset.classNames.size() != manifest.classNames.size()) {
        run.warnings.append(QStringLiteral("the annotations have %1 classes, model %2 has %3: class ids are "
                                           "compared as numbers")
                                .arg(dataset.classNames.size())
                                .arg(manifest.name)
                                .arg(manifest.classNames.size()));
    }
    CocoEvaluator evaluator(classNames, options.maxDetections);
    int sizeMismatches = 0;
    QString firstMismatch;
    for (int i = 0; i < total; ++i) {
        const EvalImage &image = dataset.images.at(i);
        const ImageOutcome &outcome = outcomes[size_t(i)];
        if (!outcome.failure.isEmpty()) {
            run.warnings.append(QStringLiteral("%1: %2; not scored").arg(image.relativePath, outcome.failure));
            continue;
        }
        const GroundTruthImage &gt = image.groundTruth;
        if (gt.width > 0 && gt.height > 0 && outcome.decodedSize != QSize(gt.width, gt.height)) {
            if (sizeMismatches++ == 0)
                firstMismatch = QStringLiteral("%1 is %2x%3, the annotations say %4x%5")
                                    .arg(image.relativePath)
                                    .arg(outcome.decodedSize.width())
                                    .arg(outcome.decodedSize.height())
                                    .arg(gt.width)
                                    .arg(gt.height);
        }
        evaluator.addImage(gt.boxes, outcome.detections);
        run.imageMs.append(outcome.ms);
    }
    if (sizeMismatches > 0)
        run.warnings.append(QStringLiteral("%1 images differ in size from their annotations (%2): boxes may not line up")
                                .arg(sizeMismatches)
                                .arg(firstMismatch));
    run.summary = evaluator.evaluate();
    run.medianMs = percentile(run.imageMs, 50);
    run.p95Ms = percentile(run.imageMs, 95);
    run.detectionsPerImage =
        run.summary.imageCount > 0 ? double(run.summary.detectionCount) / run.summary.imageCount : 0.0;
    qCDebug(lcModelEval) << manifest.name << "scored" << run.summary.imageCount << "images in" << run.wallSeconds << "s";
    return run;
}

std::optional<EvalRun> ModelEvaluation::runPredictions(const QString &predictionsDir, const EvalDataset &dataset,
                                                       int maxDetections, QString *error)
{
    EvalRun run;
    run.warnings = dataset.warnings;
    QElapsedTimer wall;
    wall.start();
    QStringList models;
    int missing = 0;
    QString firstMissing;
    int legacy = 0;
    QString firstLegacy;
    QList<std::pair<const EvalImage *, QList<Detection>>> scored;
    for (const EvalImage &image : dataset.images) {
        const QString path = PredictionReader::findSidecar(predictionsDir, image.relativePath);
        if (path.isEmpty()) {
            if (missing++ == 0)
                firstMissing = PredictionReader::sidecarPath(predictionsDir, image.relativePath);
            scored.append(std::make_pair(&image, QList<Detection>()));
            continue;
        }
        QString readError;
        bool hasDetectionData = true;
        const std::optional<DetectionResult> result = PredictionReader::readFile(path, &readError, &hasDetectionData);
        if (!result) {
            if (error)
                *error = readError;
            return std::nullopt;
        }
        if (!hasDetectionData) {
            // Its image is left out entirely: "nothing found" would count its boxes as misses.
            if (legacy++ == 0)
                firstLegacy = path;
            continue;
        }
        const GroundTruthImage &gt = image.groundTruth;
        if (result->imageWidth > 0 && gt.width > 0
            && (result->imageWidth != gt.width || result->imageHeight != gt.height)) {
            run.warnings.append(QStringLiteral("%1: predictions are for a %2x%3 image, the annotations say %4x%5")
                                    .arg(path)
                                    .arg(result->imageWidth)
                                    .arg(result->imageHeight)
                                    .arg(gt.width)
                                    .arg(gt.height));
        }
        if (!result->model.isEmpty() && !models.contains(result->model))
            models.append(result->model);
        scored.append(std::make_pair(&image, result->detections));
    }
    if (legacy > 0 && scored.size() == missing) { // no sidecar with detection data at all
        if (error)
            *error = QStringLiteral("%1: the sidecars were written for a legacy server, which returns only the "
                                    "marked-up image (has_detection_data: false), so there is nothing to score; "
                                    "run edgelens-cli --json against a v2 server or with --embedded")
                         .arg(predictionsDir);
        return std::nullopt;
    }
    if (legacy > 0)
        run.warnings.append(QStringLiteral("%1 of %2 images have a sidecar from a legacy server without detection "
                                           "data (first: %3); those images are not scored")
                                .arg(legacy)
                                .arg(dataset.images.size())
                                .arg(firstLegacy));
    if (missing == dataset.images.size()) {
        if (error)
            *error = QStringLiteral("%1: no prediction sidecars for any of the %2 images (first expected: %3); "
                                    "run edgelens-cli with --json first")
                         .arg(predictionsDir)
                         .arg(dataset.images.size())
                         .arg(firstMissing);
        return std::nullopt;
    }
    if (missing > 0)
        run.warnings.append(QStringLiteral("%1 of %2 images have no sidecar (first: %3); counted as nothing found")
                                .arg(missing)
                                .arg(dataset.images.size())
                                .arg(firstMissing));
    if (models.size() > 1)
        run.warnings.append(QStringLiteral("the sidecars come from several models: %1").arg(models.join(QStringLiteral(", "))));
    run.model = models.join(QStringLiteral(", "));

    // YOLO labels without a names file: the sidecars' own labels name the classes.
    QStringList classNames = dataset.classNames;
    if (classNames.isEmpty()) {
        for (const auto &entry : std::as_const(scored)) {
            for (const Detection &d : entry.second) {
                if (d.classId < 0 || d.classId > 10000 || d.label.isEmpty())
                    continue;
                while (classNames.size() <= d.classId)
                    classNames.append(QString::number(classNames.size()));
                classNames[d.classId] = d.label;
            }
        }
    }
    CocoEvaluator evaluator(classNames, maxDetections);
    for (const auto &entry : scored) {
        QList<Detection> detections = entry.second;
        // A sidecar from a run with a higher --max-det: keep what a max-det run would have kept.
        std::stable_sort(detections.begin(), detections.end(),
                         [](const Detection &a, const Detection &b) { return a.confidence > b.confidence; });
        if (detections.size() > maxDetections)
            detections.resize(maxDetections);
        evaluator.addImage(entry.first->groundTruth.boxes, detections);
    }
    run.summary = evaluator.evaluate();
    run.wallSeconds = double(wall.nsecsElapsed()) / 1e9;
    run.detectionsPerImage =
        run.summary.imageCount > 0 ? double(run.summary.detectionCount) / run.summary.imageCount : 0.0;
    return run;
}

QJsonObject EvalRun::toJson() const
{
    QJsonObject o = summary.toJson();
    o.insert(QStringLiteral("model"), model);
    if (!backend.isEmpty())
        o.insert(QStringLiteral("backend"), backend);
    o.insert(QStringLiteral("detections_per_image"), round3(detectionsPerImage));
    if (!imageMs.isEmpty()) {
        o.insert(QStringLiteral("jobs"), jobs);
        o.insert(QStringLiteral("median_ms"), round3(medianMs));
        o.insert(QStringLiteral("p95_ms"), round3(p95Ms));
    }
    o.insert(QStringLiteral("wall_seconds"), round3(wallSeconds));
    o.insert(QStringLiteral("warnings"), QJsonArray::fromStringList(warnings));
    return o;
}

QString EvalRun::toText() const
{
    QString text;
    QTextStream out(&text);
    if (!model.isEmpty())
        out << "model " << model << (backend.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(backend)) << '\n';
    out << summary.toText();
    out << '\n' << "detections per image " << QString::number(detectionsPerImage, 'f', 1) << '\n';
    if (!imageMs.isEmpty()) {
        out << "per image (decode + detect): median " << QString::number(medianMs, 'f', 1) << " ms, p95 "
            << QString::number(p95Ms, 'f', 1) << " ms" << (jobs > 1 ? QStringLiteral(" (%1 jobs)").arg(jobs) : QString())
            << '\n';
    }
    out << "wall time " << QString::number(wallSeconds, 'f', 1) << " s\n";
    return text;
}

} // namespace edgelens
