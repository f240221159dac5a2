#include "imagepipeline.h"

#include "imaging/scaleddecode.h"
#include "markup/annotator.h"

#include <QElapsedTimer>
#include <QLoggingCategory>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <vector>

Q_LOGGING_CATEGORY(lcPipeline, "edgelens.detector.pipeline")

namespace edgelens {

using protocol::ErrorCode;

namespace {

// The device decodes reduced only while the reduced image still holds the model's input this
// many times over on both sides, so the letterbox resize still averages several pixels into one.
constexpr double kDeviceReductionMargin = 2.0;

double elapsedMs(QElapsedTimer &timer)
{
    const double ms = double(timer.nsecsElapsed()) / 1e6;
    timer.restart();
    return ms;
}

PipelineOutcome failure(ErrorCode code, const QString &message)
{
    PipelineOutcome outcome;
    outcome.errorCode = code;
    outcome.errorString = message;
    return outcome;
}

} // namespace

ImagePipeline::ImagePipeline(Detector &detector)
    : m_detector(detector)
{
}

int ImagePipeline::reductionFor(const QSize &imageSize, const QSize &modelInput, double margin)
{
    if (modelInput.width() <= 0 || modelInput.height() <= 0 || imageSize.isEmpty())
        return 1;
    return ScaledDecode::largestReductionHolding(imageSize, QSizeF(modelInput) * margin);
}

QString ImagePipeline::markupNote(const ModelManifest &manifest)
{
    const bool fallback = manifest.fallback || manifest.family == QLatin1String("cascade");
    return fallback ? QStringLiteral("fallback detector: ") + manifest.name : QString();
}

PipelineOutcome ImagePipeline::run(const QByteArray &encoded, const PipelineRequest &request)
{
    PipelineOutcome outcome;
    StageTimings &timings = outcome.timings;
    QElapsedTimer timer;
    timer.start();
    const ModelManifest &manifest = m_detector.manifest();

    try {
        int denominator = 1;
        QSize fullSize;
        if (request.reducedDecode && !request.markup && ScaledDecode::isJpeg(encoded)) {
            fullSize = ScaledDecode::orientedSize(encoded);
            denominator = reductionFor(fullSize, QSize(manifest.inputWidth, manifest.inputHeight),
                                       kDeviceReductionMargin);
        }
        cv::Mat image = ScaledDecode::decode(encoded, denominator);
        timings.decodeMs = elapsedMs(timer);
        if (image.empty())
            return failure(ErrorCode::UndecodableImage, QStringLiteral("the image data could not be decoded"));
        outcome.decodedSize = QSize(image.cols, image.rows);
        if (denominator == 1)
            fullSize = outcome.decodedSize;
        if (request.maxPixels > 0 && qint64(fullSize.width()) * fullSize.height() > request.maxPixels) {
            return failure(ErrorCode::TooLarge, QStringLiteral("image of %1x%2 pixels exceeds the limit of %3 pixels")
                                                    .arg(fullSize.width())
                                                    .arg(fullSize.height())
                                                    .arg(request.maxPixels));
        }
        outcome.imageSize = fullSize;

        outcome.detections = m_detector.detect(image, request.params);
        timings.inferenceMs = elapsedMs(timer);
        if (outcome.detections.isEmpty() && !m_detector.lastError().isEmpty())
            return failure(ErrorCode::Internal, QStringLiteral("inference failed: ") + m_detector.lastError());
        if (denominator > 1) {
            // A reduced pixel covers `denominator` full-size pixels (the last one maybe fewer).
            const double sx = double(fullSize.width()) / image.cols;
            const double sy = double(fullSize.height()) / image.rows;
            const QRectF bounds(0, 0, fullSize.width(), fullSize.height());
            for (Detection &d : outcome.detections) {
                d.box = QRectF(d.box.x() * sx, d.box.y() * sy, d.box.width() * sx, d.box.height() * sy)
                            .intersected(bounds);
            }
        }

        if (request.markup) {
            Annotator::draw(image, outcome.detections, markupNote(manifest));
            timings.markupMs = elapsedMs(timer);
            std::vector<uchar> jpeg;
            const int quality = qBound(1, request.jpegQuality, 100);
            if (!cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, quality}))
                return failure(ErrorCode::Internal, QStringLiteral("JPEG encoding failed"));
            outcome.jpeg = QByteArray(reinterpret_cast<const char *>(jpeg.data()), qsizetype(jpeg.size()));
            timings.encodeMs = elapsedMs(timer);
        }
    } catch (const cv::Exception &e) {
        // OpenCV reports corrupt streams and resource exhaustion by exception; one bad image
        // must not take the caller down.
        const QString what = QString::fromStdString(e.what()).trimmed();
        qCWarning(lcPipeline).noquote() << "OpenCV error:" << what;
        const bool decoding = outcome.decodedSize.isEmpty();
        return failure(decoding ? ErrorCode::UndecodableImage : ErrorCode::Internal,
                       (decoding ? QStringLiteral("the image data could not be decoded: ")
                                 : QStringLiteral("processing failed: "))
                           + what.section(QLatin1Char('\n'), 0, 0));
    } catch (const std::bad_alloc &) {
        return failure(ErrorCode::Internal, QStringLiteral("out of memory"));
    }
    outcome.ok = true;
    return outcome;
}

} // namespace edgelens
