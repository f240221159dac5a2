#include "imagetransfer.h"

#include "imagefilereader.h"
#include "markup/annotator.h"
#include "scaleddecode.h"

#include <QLoggingCategory>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

Q_LOGGING_CATEGORY(lcTransfer, "edgelens.imaging.transfer")

namespace edgelens {

namespace {

QByteArray encodeJpeg(const cv::Mat &image, int quality)
{
    std::vector<uchar> out;
    if (!cv::imencode(".jpg", image, out, {cv::IMWRITE_JPEG_QUALITY, std::clamp(quality, 1, 100)}))
        return {};
    return QByteArray(reinterpret_cast<const char *>(out.data()), qsizetype(out.size()));
}

} // namespace

QSize ImageTransfer::reducedSize(const QSize &original, const QSize &modelInput, double inputMultiple)
{
    if (original.isEmpty() || modelInput.isEmpty() || inputMultiple <= 0)
        return original;
    // Enough for the model on both axes whether it letterboxes or stretches.
    const double scale = inputMultiple * std::max(double(modelInput.width()) / original.width(),
                                                  double(modelInput.height()) / original.height());
    if (scale > 0.5)
        return original;
    return QSize(std::max(1, int(std::lround(original.width() * scale))),
                 std::max(1, int(std::lround(original.height() * scale))));
}

PreparedImage ImageTransfer::prepare(const QByteArray &file, const TransferOptions &options)
{
    PreparedImage prepared;
    prepared.payload = file;
    prepared.originalSize = ScaledDecode::orientedSize(file);
    prepared.sentSize = prepared.originalSize;
    if (options.sendOriginal || options.modelInput.isEmpty() || prepared.originalSize.isEmpty() || !ScaledDecode::isJpeg(file))
        return prepared; // PNG and the like are rarely photos; they go as they are
    const QSize target = reducedSize(prepared.originalSize, options.modelInput, options.inputMultiple);
    if (target == prepared.originalSize)
        return prepared;
    try {
        const int denominator = ScaledDecode::largestReductionHolding(prepared.originalSize, target);
        cv::Mat image = ScaledDecode::decode(file, denominator);
        if (image.empty()) {
            prepared.error = QStringLiteral("not a decodable image");
            return prepared;
        }
        // A reduced pixel covers exactly `denominator` original pixels (libjpeg's scaled IDCT).
        const double reducedScaleX = double(denominator);
        const double reducedScaleY = double(denominator);
        const QSize reduced(image.cols, image.rows);
        if (reduced != target) {
            cv::Mat resized;
            cv::resize(image, resized, cv::Size(target.width(), target.height()), 0, 0, cv::INTER_AREA);
            image = resized;
        }
        const QByteArray jpeg = encodeJpeg(image, options.jpegQuality);
        if (jpeg.isEmpty() || jpeg.size() >= file.size())
            return prepared; // nothing gained
        prepared.payload = jpeg;
        prepared.reduced = true;
        prepared.sentSize = QSize(image.cols, image.rows);
        prepared.scaleX = reducedScaleX * reduced.width() / image.cols;
        prepared.scaleY = reducedScaleY * reduced.height() / image.rows;
    } catch (const cv::Exception &e) {
        qCWarning(lcTransfer).noquote() << "reducing failed, sending the file:" << QString::fromStdString(e.what()).trimmed();
    }
    return prepared;
}

PreparedImage ImageTransfer::readAndPrepare(const QString &path, const TransferOptions &options)
{
    ImageFileReader::Result file = ImageFileReader::read(path);
    if (!file.ok()) {
        PreparedImage failed;
        failed.error = file.error;
        return failed;
    }
    return prepare(file.bytes, options);
}

QList<Detection> ImageTransfer::toOriginal(const QList<Detection> &detections, const PreparedImage &prepared)
{
    if (!prepared.reduced)
        return detections;
    const QRectF bounds(QPointF(0, 0), QSizeF(prepared.originalSize));
    QList<Detection> out = detections;
    for (Detection &d : out) {
        d.box = QRectF(d.box.x() * prepared.scaleX, d.box.y() * prepared.scaleY, d.box.width() * prepared.scaleX,
                       d.box.height() * prepared.scaleY)
                    .intersected(bounds);
    }
    return out;
}

bool ImageTransfer::completeResult(DetectionResult &result, QByteArray *jpeg, const QByteArray &file,
                                   const PreparedImage &prepared, bool drawLocally, int maxSide, int jpegQuality,
                                   const QString &note, QString *error)
{
    if (prepared.reduced) {
        result.detections = toOriginal(result.detections, prepared);
        result.imageWidth = prepared.originalSize.width();
        result.imageHeight = prepared.originalSize.height();
    }
    if (!drawLocally)
        return true;
    *jpeg = renderMarkup(file, result.detections, maxSide, jpegQuality, note, error);
    return !jpeg->isEmpty();
}

bool ImageTransfer::completeResultFromFile(DetectionResult &result, QByteArray *jpeg, const QString &path,
                                           const PreparedImage &prepared, bool drawLocally, int maxSide,
                                           int jpegQuality, const QString &note, QString *error)
{
    if (!prepared.reduced && !drawLocally)
        return true;
    const ImageFileReader::Result file = ImageFileReader::read(path);
    if (!file.ok()) {
        if (error)
            *error = file.error;
        return false;
    }
    return completeResult(result, jpeg, file.bytes, prepared, drawLocally, maxSide, jpegQuality, note, error);
}

QByteArray ImageTransfer::renderMarkup(const QByteArray &file, const QList<Detection> &detections, int maxSide,
                                       int jpegQuality, const QString &note, QString *error)
{
    try {
        const QSize original = ScaledDecode::orientedSize(file);
        const int denominator = maxSide > 0 && !original.isEmpty() && ScaledDecode::isJpeg(file)
            ? ScaledDecode::smallestReductionWithin(original, maxSide)
            : 1;
        cv::Mat image = ScaledDecode::decode(file, denominator);
        if (image.empty()) {
            if (error)
                *error = QStringLiteral("not a decodable image");
            return {};
        }
        if (maxSide > 0 && std::max(image.cols, image.rows) > maxSide) {
            const double fit = double(maxSide) / std::max(image.cols, image.rows);
            cv::Mat resized;
            cv::resize(image, resized,
                       cv::Size(std::max(1, int(std::lround(image.cols * fit))),
                                std::max(1, int(std::lround(image.rows * fit)))),
                       0, 0, cv::INTER_AREA);
            image = resized;
        }
        QList<Detection> scaled = detections;
        const QSize full = original.isEmpty() ? QSize(image.cols, image.rows) : original;
        if (full != QSize(image.cols, image.rows)) {
            const double sx = double(image.cols) / full.width();
            const double sy = double(image.rows) / full.height();
            for (Detection &d : scaled)
                d.box = QRectF(d.box.x() * sx, d.box.y() * sy, d.box.width() * sx, d.box.height() * sy);
        }
        Annotator::draw(image, scaled, note);
        QByteArray jpeg = encodeJpeg(image, jpegQuality);
        if (jpeg.isEmpty() && error)
            *error = QStringLiteral("JPEG encoding failed");
        return jpeg;
    } catch (const cv::Exception &e) {
        if (error)
            *error = QStringLiteral("drawing the result failed: %1")
                         .arg(QString::fromStdString(e.what()).trimmed().section(QLatin1Char('\n'), 0, 0));
    } catch (const std::bad_alloc &) {
        if (error)
            *error = QStringLiteral("out of memory drawing the result");
    }
    return {};
}

} // namespace edgelens
