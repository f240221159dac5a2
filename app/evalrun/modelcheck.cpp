#include "modelcheck.h"

#include "detector/dnndetector.h"
#include "models/modelcatalog.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>

Q_LOGGING_CATEGORY(lcModelCheck, "edgelens.evalrun.modelcheck")

namespace edgelens {

namespace {

constexpr qint64 kMaxImageBytes = qint64(64) << 20;

cv::Mat readImage(const QString &path, QString *why)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *why = QStringLiteral("cannot open: %1").arg(file.errorString());
        return {};
    }
    if (file.size() > kMaxImageBytes) {
        *why = QStringLiteral("larger than %1 MB").arg(kMaxImageBytes >> 20);
        return {};
    }
    const QByteArray bytes = file.readAll();
    cv::Mat image;
    try {
        image = cv::imdecode(cv::Mat(1, int(bytes.size()), CV_8U, const_cast<char *>(bytes.constData())),
                             cv::IMREAD_COLOR);
    } catch (const cv::Exception &) {
        image.release();
    }
    if (image.empty())
        *why = QStringLiteral("not a decodable image");
    return image;
}

double median(std::vector<double> values)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

} // namespace

QStringList ModelCheck::imagesIn(const QString &folder)
{
    const QStringList patterns{QStringLiteral("*.jpg"), QStringLiteral("*.jpeg"), QStringLiteral("*.png"),
                               QStringLiteral("*.bmp"), QStringLiteral("*.webp"), QStringLiteral("*.tif"),
                               QStringLiteral("*.tiff")};
    const QDir dir(folder);
    QStringList files;
    for (const QString &name : dir.entryList(patterns, QDir::Files | QDir::Readable, QDir::Name | QDir::IgnoreCase)) {
        if (files.size() >= kMaxImages)
            break;
        files.append(dir.filePath(name));
    }
    return files;
}

std::optional<ModelCheckReport> ModelCheck::run(const ModelManifest &manifest, const QStringList &images,
                                                QString *error)
{
    if (manifest.fallback || manifest.family == QLatin1String("cascade")) {
        if (error)
            *error = QStringLiteral("%1: a cascade model has no network outputs to check").arg(manifest.name);
        return std::nullopt;
    }
    if (!manifest.isComplete()) {
        if (error)
            *error = QStringLiteral("%1: missing %2 (get it with `edgelens-cli models download %1`)")
                         .arg(manifest.name, manifest.missingFiles().join(QStringLiteral(", ")));
        return std::nullopt;
    }
    ModelCheckReport r;
    r.model = manifest.name;
    r.family = manifest.family;
    r.manifestPath = manifest.manifestPath;
    for (const ModelFile &f : manifest.files) {
        QString why;
        const QString state = f.sha256.isEmpty()          ? QStringLiteral("no checksum in the manifest")
            : ModelCatalog::verifyFile(f, &why) ? QStringLiteral("sha256 ok")
                                                          : QStringLiteral("sha256 MISMATCH");
        r.files.append(QStringLiteral("%1 (%2)").arg(QDir::toNativeSeparators(f.path), state));
        if (state == QLatin1String("sha256 MISMATCH"))
            r.warnings.append(QStringLiteral("%1 is not the file the manifest describes: %2").arg(f.name, why));
    }
    r.input = QStringLiteral("%1x%2, %3, %4")
                  .arg(manifest.inputWidth)
                  .arg(manifest.inputHeight)
                  .arg(manifest.preprocess.resize, manifest.preprocess.swapRB ? QStringLiteral("RGB") : QStringLiteral("BGR"));
    r.defaultConfidence = manifest.defaultConfidence;

    const std::unique_ptr<DnnDetector> detector = DnnDetector::create(manifest, resolveBackend({}), error);
    if (!detector)
        return std::nullopt;
    r.backend = detector->backendDescription();
    r.outputs = detector->outputShapes();

    DetectParams atDefault;
    atDefault.confidence = manifest.defaultConfidence;
    DetectParams everything; // one box per cell that survives NMS: the scores' range
    everything.confidence = 0.0f;
    everything.maxDetections = 100000;

    std::vector<double> times;
    bool anyScore = false;
    r.minScore = 1.0f;
    for (const QString &path : images) {
        QString why;
        const cv::Mat image = readImage(path, &why);
        if (image.empty()) {
            r.skipped.append(QStringLiteral("%1: %2").arg(QDir::toNativeSeparators(path), why));
            continue;
        }
        QElapsedTimer timer;
        timer.start();
        const QList<Detection> found = detector->detect(image, atDefault);
        times.push_back(double(timer.nsecsElapsed()) / 1e6);
        if (!detector->lastError().isEmpty()) {
            r.skipped.append(QStringLiteral("%1: %2").arg(QDir::toNativeSeparators(path), detector->lastError()));
            continue;
        }
        const int boxes = int(found.size());
        r.fewestBoxes = r.images == 0 ? boxes : std::min(r.fewestBoxes, boxes);
        r.mostBoxes = std::max(r.mostBoxes, boxes);
        r.boxes += boxes;
        r.farOutside += detector->lastFarOutside();
        ++r.images;
        for (const Detection &d : detector->detect(image, everything)) {
            r.minScore = std::min(r.minScore, d.confidence);
            r.maxScore = std::max(r.maxScore, d.confidence);
            ++r.scored;
            anyScore = true;
        }
    }
    if (images.isEmpty()) {
        // a blank canvas still gives the forward time
        const cv::Mat blank(manifest.inputHeight, manifest.inputWidth, CV_8UC3, cv::Scalar::all(114));
        for (int i = 0; i < 3; ++i) {
            QElapsedTimer timer;
            timer.start();
            detector->detect(blank, atDefault);
            times.push_back(double(timer.nsecsElapsed()) / 1e6);
        }
    }
    if (!anyScore)
        r.minScore = r.maxScore = 0.0f;
    r.medianMs = median(times);
    r.maxMs = times.empty() ? 0 : *std::max_element(times.begin(), times.end());

    if (r.images > 0) {
        if (r.maxScore > 1.001f)
            r.warnings.append(QStringLiteral(
                "scores up to %1, above 1: they are not probabilities; logits are being read as probabilities "
                "(set decoder.scores to \"logits\")")
                                  .arg(double(r.maxScore), 0, 'f', 2));
        if (r.mostBoxes >= atDefault.maxDetections)
            r.warnings.append(QStringLiteral(
                "%1 boxes on one image at the default confidence %2, the most a request keeps: far more than a "
                "photo holds; the preprocessing (channel_order, scale, mean, std) or the score form does not match "
                "the model")
                                  .arg(r.mostBoxes)
                                  .arg(double(r.defaultConfidence)));
        if (anyScore && r.minScore >= kLogitFloor)
            r.warnings.append(QStringLiteral(
                "no score below %1 on any image: scores that are already probabilities are being read as logits "
                "(set decoder.scores to \"probabilities\"), or the outputs are read in the wrong layout")
                                  .arg(double(kLogitFloor)));
        if (r.boxes == 0)
            r.warnings.append(QStringLiteral(
                "no box at the default confidence %1 on any image: check the preprocessing (channel_order, scale, "
                "mean, std, resize) and the decoder settings against the model's export")
                                  .arg(double(r.defaultConfidence)));
        if (r.farOutside > 0 && r.farOutside * 10 >= r.boxes)
            r.warnings.append(QStringLiteral(
                "%1 of %2 boxes reach far outside the image before clipping: the decoder (family, layout, strides) "
                "does not match the outputs")
                                  .arg(r.farOutside)
                                  .arg(r.boxes));
    }
    if (r.images == 0 && !images.isEmpty())
        r.warnings.append(QStringLiteral("no image could be run"));
    qCDebug(lcModelCheck) << "checked" << r.model << "on" << r.images << "images";
    return r;
}

QString ModelCheckReport::toText() const
{
    QStringList lines;
    const auto line = [&](const QString &label, const QString &text) {
        lines.append(QStringLiteral("%1 %2").arg(label, -9).arg(text));
    };
    line(QStringLiteral("model"), QStringLiteral("%1 (family %2)").arg(model, family));
    line(QStringLiteral("manifest"), QDir::toNativeSeparators(manifestPath));
    for (const QString &f : files)
        line(QStringLiteral("file"), f);
    line(QStringLiteral("input"), input);
    line(QStringLiteral("loaded"), backend);
    line(QStringLiteral("outputs"), outputs);
    if (images == 0) {
        line(QStringLiteral("time"), QStringLiteral("%1 ms median on a blank canvas (max %2)")
                                          .arg(medianMs, 0, 'f', 1)
                                          .arg(maxMs, 0, 'f', 1));
        line(QStringLiteral("images"), QStringLiteral("none run: scores and boxes not checked (give --images DIR)"));
    } else {
        line(QStringLiteral("images"), QString::number(images));
        line(QStringLiteral("time"), QStringLiteral("%1 ms median per image, preprocess to NMS (max %2)")
                                          .arg(medianMs, 0, 'f', 1)
                                          .arg(maxMs, 0, 'f', 1));
        line(QStringLiteral("scores"), QStringLiteral("%1 .. %2 over %3 boxes at confidence 0")
                                            .arg(double(minScore), 0, 'f', 3)
                                            .arg(double(maxScore), 0, 'f', 3)
                                            .arg(scored));
        line(QStringLiteral("boxes"), QStringLiteral("%1 at the default confidence %2 (%3 to %4 per image), %5 reaching "
                                                     "far outside the image")
                                           .arg(boxes)
                                           .arg(double(defaultConfidence), 0, 'f', 2)
                                           .arg(fewestBoxes)
                                           .arg(mostBoxes)
                                           .arg(farOutside));
    }
    for (const QString &s : skipped)
        line(QStringLiteral("skipped"), s);
    for (const QString &w : warnings)
        lines.append(QStringLiteral("warning: ") + w);
    if (warnings.isEmpty())
        lines.append(images > 0 ? QStringLiteral("no sign of a mismatch between the manifest and the model")
                                : QStringLiteral("loads and runs; run it on images to check scores and boxes"));
    return lines.join(QLatin1Char('\n'));
}

} // namespace edgelens
