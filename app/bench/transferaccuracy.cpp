#include "transferaccuracy.h"

#include "photogenerator.h"
#include "detector/detector.h"
#include "detector/imagepipeline.h"
#include "eval/cocoevaluator.h"
#include "eval/evaldataset.h"
#include "evalrun/detectorworkers.h"
#include "imaging/imagetransfer.h"

#include <QElapsedTimer>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <memory>
#include <vector>

namespace edgelens {

namespace {

enum Way { WholeFile, WholeFileDeviceReduced, Transfer, WayCount };

const char *const kWayNames[WayCount] = {
    "whole 12 MP file, full decode (v2 sending files)",
    "whole 12 MP file, device's reduced decode",
    "default transfer (reduced copy, boxes mapped back)",
};

struct Scored
{
    QList<Detection> detections[WayCount];
    qint64 bytes[WayCount] = {};
    QSize sent;
    QString failure;
};

// From the photo's pixels back to the annotated image's (the photo is a stretched upscale).
QList<Detection> toAnnotated(QList<Detection> detections, const QSize &photo, const GroundTruthImage &truth)
{
    const double sx = double(truth.width) / photo.width();
    const double sy = double(truth.height) / photo.height();
    for (Detection &d : detections)
        d.box = QRectF(d.box.x() * sx, d.box.y() * sy, d.box.width() * sx, d.box.height() * sy);
    return detections;
}

Scored scoreOne(Detector &detector, const EvalImage &image, int index, const DetectParams &params)
{
    Scored out;
    const cv::Mat small = cv::imread(image.path.toStdString(), cv::IMREAD_COLOR);
    if (small.empty() || image.groundTruth.width <= 0 || image.groundTruth.height <= 0) {
        out.failure = QStringLiteral("%1: cannot decode, or no size in the annotations").arg(image.relativePath);
        return out;
    }
    cv::RNG rng(quint64(12345 + index)); // the same photo on every run, whatever the thread
    const QByteArray photo = PhotoGenerator::makePhoto(small, rng);
    const QSize photoSize(PhotoGenerator::kWidth, PhotoGenerator::kHeight);
    ImagePipeline pipeline(detector);
    PipelineRequest whole;
    whole.params = params;
    PipelineRequest reduced = whole;
    reduced.reducedDecode = true; // what the server does when no marked-up image is asked for

    TransferOptions transfer; // the desktop app's defaults
    transfer.modelInput = QSize(detector.manifest().inputWidth, detector.manifest().inputHeight);
    const PreparedImage prepared = ImageTransfer::prepare(photo, transfer);
    out.sent = prepared.sentSize;

    const QByteArray *payloads[WayCount] = {&photo, &photo, &prepared.payload};
    const PipelineRequest *requests[WayCount] = {&whole, &reduced, &reduced};
    for (int way = 0; way < WayCount; ++way) {
        const PipelineOutcome done = pipeline.run(*payloads[way], *requests[way]);
        if (!done.ok) {
            out.failure = QStringLiteral("%1: %2").arg(image.relativePath, done.errorString);
            return out;
        }
        DetectionResult result;
        result.detections = done.detections;
        result.imageWidth = done.imageSize.width();
        result.imageHeight = done.imageSize.height();
        if (way == Transfer)
            ImageTransfer::mapToOriginal(result, prepared);
        out.detections[way] = toAnnotated(result.detections, photoSize, image.groundTruth);
        out.bytes[way] = payloads[way]->size();
    }
    return out;
}

} // namespace

int TransferAccuracy::run(const TransferAccuracyOptions &options, QTextStream &out, QTextStream &err)
{
    QString error;
    const std::optional<EvalDataset> dataset =
        EvalDataset::load(options.imagesDir, options.annotations, int(options.model.classNames.size()), &error);
    if (!dataset) {
        err << "edgelens-bench: --transfer-accuracy: " << error << Qt::endl;
        return 1;
    }
    const int total = std::min(options.count, int(dataset->images.size()));
    if (total <= 0) {
        err << "edgelens-bench: --transfer-accuracy: no images in " << options.imagesDir << Qt::endl;
        return 1;
    }
    const int jobs = std::clamp(options.jobs, 1, total);
    cv::setNumThreads(std::max(1, options.threads));
    const std::optional<DetectorWorkers> workers = DetectorWorkers::create(options.model, options.backend, jobs, &error);
    if (!workers) {
        err << "edgelens-bench: cannot load model " << options.model.name << ": " << error << Qt::endl;
        return 1;
    }
    out << "12 MP accuracy: " << total << " images of " << options.imagesDir << " upscaled to "
        << PhotoGenerator::kWidth << "x" << PhotoGenerator::kHeight << " (noise, JPEG 92), model "
        << options.model.name << ", mAP@[.5:.95] as edgelens-cli eval scores it" << Qt::endl;
    out.flush();

    DetectParams params; // COCO practice, as edgelens-cli eval
    params.confidence = 0.001f;
    params.maxDetections = 100;
    std::vector<Scored> scored(static_cast<size_t>(total));
    QElapsedTimer wall;
    wall.start();
    workers->forEach(total, [&](Detector &detector, int i) {
        scored[size_t(i)] = scoreOne(detector, dataset->images.at(i), i, params);
    });

    const QStringList classNames = dataset->classNames.isEmpty() ? options.model.classNames : dataset->classNames;
    std::vector<std::unique_ptr<CocoEvaluator>> evaluators;
    for (int way = 0; way < WayCount; ++way)
        evaluators.push_back(std::make_unique<CocoEvaluator>(classNames, params.maxDetections));
    qint64 bytes[WayCount] = {};
    int failures = 0;
    QSize sent;
    for (int i = 0; i < total; ++i) {
        const Scored &s = scored[size_t(i)];
        if (!s.failure.isEmpty()) {
            err << "not scored: " << s.failure << Qt::endl;
            ++failures;
            continue;
        }
        sent = s.sent;
        for (int way = 0; way < WayCount; ++way) {
            evaluators[size_t(way)]->addImage(dataset->images.at(i).groundTruth.boxes, s.detections[way]);
            bytes[way] += s.bytes[way];
        }
    }
    const int scoredCount = total - failures;
    if (scoredCount == 0)
        return 1;
    EvalSummary summaries[WayCount];
    for (int way = 0; way < WayCount; ++way)
        summaries[way] = evaluators[size_t(way)]->evaluate();

    out << "| how the 12 MP photo reaches the model | mAP | AP50 | KB sent per image |\n|---|---|---|---|\n";
    for (int way = 0; way < WayCount; ++way) {
        out << "| " << kWayNames[way] << " | " << QString::number(summaries[way].map, 'f', 4) << " | "
            << QString::number(summaries[way].ap50, 'f', 4) << " | " << bytes[way] / scoredCount / 1024 << " |\n";
    }
    const double difference = summaries[Transfer].map - summaries[WholeFile].map;
    out << "reduced copies of " << sent.width() << "x" << sent.height() << "; transfer - whole file: "
        << QString::number(difference, 'f', 4) << " mAP ("
        << (std::abs(difference) <= 0.01 ? "within" : "NOT within") << " the 0.01 limit); " << scoredCount
        << " images scored in " << QString::number(double(wall.elapsed()) / 1000.0, 'f', 1) << " s" << Qt::endl;
    return 0;
}

} // namespace edgelens
