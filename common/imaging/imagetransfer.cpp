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

// 2048 x 2048: what the default result size can take. A larger canvas (results at original
// size) is decoded again when the answer comes rather than held for every request in flight.
constexpr qint64 kMaxCanvasPixels = 2048LL * 2048;

QByteArray encodeJpeg(const cv::Mat &image, int quality)
{
    std::vector<uchar> out;
    if (!cv::imencode(".jpg", image, out, {cv::IMWRITE_JPEG_QUALITY, std::clamp(quality, 1, 100)}))
        return {};
    return QByteArray(reinterpret_cast<const char *>(out.data()), qsizetype(out.size()));
}

// The oriented image as the result is drawn on, and how many original pixels one of its
// pixels covers (a libjpeg reduced pixel covers exactly `denominator` of them).
struct Decoded
{
    cv::Mat image;
    double scaleX = 1.0;
    double scaleY = 1.0;
};

Decoded decodeForResult(const QByteArray &file, const QSize &original, int maxSide)
{
    Decoded out;
    const int denominator = maxSide > 0 && !original.isEmpty() && ScaledDecode::isJpeg(file)
        ? ScaledDecode::smallestReductionWithin(original, maxSide)
        : 1;
    out.image = ScaledDecode::decode(file, denominator);
    if (out.image.empty())
        return out;
    const QSize decoded(out.image.cols, out.image.rows);
    if (maxSide > 0 && std::max(out.image.cols, out.image.rows) > maxSide) {
        const double fit = double(maxSide) / std::max(out.image.cols, out.image.rows);
        cv::Mat resized;
        cv::resize(out.image, resized,
                   cv::Size(std::max(1, int(std::lround(out.image.cols * fit))),
                            std::max(1, int(std::lround(out.image.rows * fit)))),
                   0, 0, cv::INTER_AREA);
        out.image = resized;
    }
    out.scaleX = double(denominator) * decoded.width() / out.image.cols;
    out.scaleY = double(denominator) * decoded.height() / out.image.rows;
    return out;
}

// Area-averages `image` down to `target`. OpenCV's INTER_AREA is fast only for whole-number
// factors (about 1 ms to halve 3 MP, against about 20 ms for 2016x1512 -> 853x640), so exact
// halvings go first while the half still holds the target; the last step, less than a factor
// of two, is bilinear.
cv::Mat shrink(const cv::Mat &image, const QSize &target)
{
    cv::Mat current = image;
    while (current.cols % 2 == 0 && current.rows % 2 == 0 && current.cols / 2 >= target.width()
           && current.rows / 2 >= target.height()) {
        cv::Mat half;
        cv::resize(current, half, cv::Size(current.cols / 2, current.rows / 2), 0, 0, cv::INTER_AREA);
        current = half;
    }
    if (QSize(current.cols, current.rows) == target)
        return current;
    const bool twiceOrMore = current.cols >= 2 * target.width() && current.rows >= 2 * target.height();
    cv::Mat out;
    cv::resize(current, out, cv::Size(target.width(), target.height()), 0, 0,
               twiceOrMore ? cv::INTER_AREA : cv::INTER_LINEAR);
    return out;
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

QSize ImageTransfer::resultSize(const QSize &original, int maxSide, bool jpeg)
{
    if (maxSide <= 0 || original.isEmpty())
        return original;
    QSize size = ScaledDecode::reducedSize(original, jpeg ? ScaledDecode::smallestReductionWithin(original, maxSide) : 1);
    if (std::max(size.width(), size.height()) > maxSide) {
        const double fit = double(maxSide) / std::max(size.width(), size.height());
        size = QSize(std::max(1, int(std::lround(size.width() * fit))), std::max(1, int(std::lround(size.height() * fit))));
    }
    return size;
}

qint64 ImageTransfer::maxCanvasPixels()
{
    return kMaxCanvasPixels;
}

PreparedImage ImageTransfer::prepare(const QByteArray &file, const TransferOptions &options)
{
    PreparedImage prepared;
    prepared.payload = file;
    prepared.originalSize = ScaledDecode::orientedSize(file);
    prepared.sentSize = prepared.originalSize;
    const bool jpeg = ScaledDecode::isJpeg(file);
    // PNG and the like are rarely photos; they go as they are.
    const bool mayReduce = !options.sendOriginal && !options.modelInput.isEmpty() && !prepared.originalSize.isEmpty() && jpeg;
    const QSize target = mayReduce ? reducedSize(prepared.originalSize, options.modelInput, options.inputMultiple)
                                   : prepared.originalSize;
    const bool reduce = mayReduce && target != prepared.originalSize;
    try {
        Decoded canvas;
        if (options.resultMaxSide >= 0 && !prepared.originalSize.isEmpty()) {
            const QSize size = resultSize(prepared.originalSize, options.resultMaxSide, jpeg);
            if (qint64(size.width()) * size.height() <= kMaxCanvasPixels) {
                // Undecodable: no canvas; the server's answer says why, as without one.
                canvas = decodeForResult(file, prepared.originalSize, options.resultMaxSide);
                prepared.canvas = canvas.image;
            }
        }
        cv::Mat sent;
        if (reduce) {
            // One decode serves both when the result's canvas holds the model's copy.
            Decoded source = canvas;
            if (source.image.empty() || source.image.cols < target.width() || source.image.rows < target.height()) {
                const int denominator = ScaledDecode::largestReductionHolding(prepared.originalSize, target);
                source.image = ScaledDecode::decode(file, denominator);
                source.scaleX = source.scaleY = double(denominator);
            }
            if (source.image.empty()) {
                prepared.error = QStringLiteral("not a decodable image");
                return prepared;
            }
            sent = shrink(source.image, target);
            const QByteArray encoded = encodeJpeg(sent, options.jpegQuality);
            if (!encoded.isEmpty() && encoded.size() < file.size()) {
                prepared.payload = encoded;
                prepared.reduced = true;
                prepared.sentSize = QSize(sent.cols, sent.rows);
                prepared.scaleX = source.scaleX * source.image.cols / sent.cols;
                prepared.scaleY = source.scaleY * source.image.rows / sent.rows;
            } // else nothing gained: the file goes
        }
        if (!options.thumbnailBox.isEmpty() && !prepared.originalSize.isEmpty()) {
            // From the smallest image at hand that still fills what the thumbnail shows.
            QSize shown = prepared.originalSize;
            if (shown.width() > options.thumbnailBox.width() || shown.height() > options.thumbnailBox.height())
                shown = shown.scaled(options.thumbnailBox, Qt::KeepAspectRatio).expandedTo(QSize(1, 1));
            const auto holds = [&shown](const cv::Mat &m) { return !m.empty() && m.cols >= shown.width() && m.rows >= shown.height(); };
            // The size a thumbnail of the file itself gets, whatever it is made from.
            if (holds(sent))
                prepared.thumbnail = thumbnailOfSize(sent, shown);
            else if (holds(prepared.canvas))
                prepared.thumbnail = thumbnailOfSize(prepared.canvas, shown);
        }
    } catch (const cv::Exception &e) {
        qCWarning(lcTransfer).noquote() << "reducing failed, sending the file:" << QString::fromStdString(e.what()).trimmed();
    } catch (const std::bad_alloc &) {
        qCWarning(lcTransfer) << "out of memory reducing, sending the file";
        prepared.canvas = cv::Mat();
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

PreparedImage ImageTransfer::prepareFromPixels(const cv::Mat &bgr, const QString &path, const TransferOptions &options)
{
    if (bgr.empty() || bgr.type() != CV_8UC3)
        return readAndPrepare(path, options);
    PreparedImage prepared;
    prepared.originalSize = QSize(bgr.cols, bgr.rows);
    prepared.sentSize = prepared.originalSize;
    const bool mayReduce = !options.sendOriginal && !options.modelInput.isEmpty() && options.inputMultiple > 0;
    // A file is reduced only when that saves half of each side: below that, decoding it here
    // costs about what the device saves. The pixels are decoded already, so any copy smaller
    // than the frame is worth it (a 1080p frame for a 320 model: 1138x640, about a third of the
    // pixels for the device to decode, at the input multiple that scores like the whole image).
    const double scale = options.inputMultiple
        * std::max(double(options.modelInput.width()) / bgr.cols, double(options.modelInput.height()) / bgr.rows);
    const QSize target = mayReduce && scale < 1.0
        ? QSize(std::max(1, int(std::lround(bgr.cols * scale))), std::max(1, int(std::lround(bgr.rows * scale))))
        : prepared.originalSize;
    try {
        cv::Mat sent;
        if (target != prepared.originalSize) {
            sent = shrink(bgr, target);
            prepared.payload = encodeJpeg(sent, options.jpegQuality);
            prepared.reduced = !prepared.payload.isEmpty();
            prepared.sentSize = QSize(sent.cols, sent.rows);
            prepared.scaleX = double(bgr.cols) / sent.cols;
            prepared.scaleY = double(bgr.rows) / sent.rows;
        }
        if (options.resultMaxSide >= 0) {
            const QSize size = resultSize(prepared.originalSize, options.resultMaxSide, false);
            if (size == prepared.originalSize)
                prepared.canvas = bgr;
            else if (qint64(size.width()) * size.height() <= kMaxCanvasPixels)
                cv::resize(bgr, prepared.canvas, cv::Size(size.width(), size.height()), 0, 0, cv::INTER_AREA);
            if (qint64(prepared.canvas.cols) * prepared.canvas.rows > kMaxCanvasPixels)
                prepared.canvas = cv::Mat(); // drawn from the file when the answer comes
        }
        if (!options.thumbnailBox.isEmpty()) {
            QSize shown = prepared.originalSize;
            if (shown.width() > options.thumbnailBox.width() || shown.height() > options.thumbnailBox.height())
                shown = shown.scaled(options.thumbnailBox, Qt::KeepAspectRatio).expandedTo(QSize(1, 1));
            // From the smallest image at hand that still fills what the thumbnail shows.
            const bool sentHolds = !sent.empty() && sent.cols >= shown.width() && sent.rows >= shown.height();
            prepared.thumbnail = thumbnailOfSize(sentHolds ? sent : bgr, shown);
        }
    } catch (const cv::Exception &e) {
        qCWarning(lcTransfer).noquote() << "preparing from pixels failed, reading the file:"
                                        << QString::fromStdString(e.what()).trimmed();
        return readAndPrepare(path, options);
    } catch (const std::bad_alloc &) {
        qCWarning(lcTransfer) << "out of memory preparing from pixels, reading the file";
        return readAndPrepare(path, options);
    }
    if (!prepared.reduced) {
        // Nothing to gain from a copy: the file goes as it is, as a photo's would.
        ImageFileReader::Result file = ImageFileReader::read(path);
        if (!file.ok()) {
            prepared.error = file.error;
            return prepared;
        }
        prepared.payload = std::move(file.bytes);
        prepared.sentSize = prepared.originalSize;
        prepared.scaleX = prepared.scaleY = 1.0;
    }
    return prepared;
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

void ImageTransfer::mapToOriginal(DetectionResult &result, const PreparedImage &prepared)
{
    if (!prepared.reduced)
        return;
    result.detections = toOriginal(result.detections, prepared);
    result.imageWidth = prepared.originalSize.width();
    result.imageHeight = prepared.originalSize.height();
}

bool ImageTransfer::completeResult(DetectionResult &result, QByteArray *jpeg, const QByteArray &file,
                                   const PreparedImage &prepared, bool drawLocally, int maxSide, int jpegQuality,
                                   const QString &note, QString *error)
{
    mapToOriginal(result, prepared);
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

namespace {

template<typename Draw>
QByteArray guarded(QString *error, Draw draw)
{
    try {
        return draw();
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

} // namespace

QByteArray ImageTransfer::renderMarkup(const QByteArray &file, const QList<Detection> &detections, int maxSide,
                                       int jpegQuality, const QString &note, QString *error)
{
    return guarded(error, [&]() -> QByteArray {
        const QSize original = ScaledDecode::orientedSize(file);
        Decoded decoded = decodeForResult(file, original, maxSide);
        if (decoded.image.empty()) {
            if (error)
                *error = QStringLiteral("not a decodable image");
            return {};
        }
        return renderMarkupOn(decoded.image, original, detections, jpegQuality, note, error);
    });
}

QByteArray ImageTransfer::renderMarkupOn(cv::Mat &canvas, const QSize &originalSize, const QList<Detection> &detections,
                                         int jpegQuality, const QString &note, QString *error)
{
    return guarded(error, [&]() -> QByteArray {
        if (canvas.empty() || canvas.type() != CV_8UC3) {
            if (error)
                *error = QStringLiteral("no image to draw on");
            return {};
        }
        QList<Detection> scaled = detections;
        const QSize full = originalSize.isEmpty() ? QSize(canvas.cols, canvas.rows) : originalSize;
        if (full != QSize(canvas.cols, canvas.rows)) {
            const double sx = double(canvas.cols) / full.width();
            const double sy = double(canvas.rows) / full.height();
            for (Detection &d : scaled)
                d.box = QRectF(d.box.x() * sx, d.box.y() * sy, d.box.width() * sx, d.box.height() * sy);
        }
        Annotator::draw(canvas, scaled, note);
        QByteArray jpeg = encodeJpeg(canvas, jpegQuality);
        if (jpeg.isEmpty() && error)
            *error = QStringLiteral("JPEG encoding failed");
        return jpeg;
    });
}

QImage ImageTransfer::thumbnail(const cv::Mat &bgr, const QSize &box)
{
    if (bgr.empty() || box.isEmpty())
        return {};
    QSize size(bgr.cols, bgr.rows);
    if (size.width() > box.width() || size.height() > box.height())
        size = size.scaled(box, Qt::KeepAspectRatio).expandedTo(QSize(1, 1));
    return thumbnailOfSize(bgr, size);
}

QImage ImageTransfer::thumbnailOfSize(const cv::Mat &bgr, const QSize &size)
{
    if (bgr.empty() || bgr.type() != CV_8UC3 || size.isEmpty())
        return {};
    try {
        const cv::Mat small = shrink(bgr, size);
        // Wraps the pixels (no copy); the conversion makes the RGB32 image the gallery paints.
        const QImage wrapped(small.data, small.cols, small.rows, int(small.step), QImage::Format_BGR888);
        return wrapped.convertToFormat(QImage::Format_RGB32);
    } catch (const cv::Exception &e) {
        qCWarning(lcTransfer).noquote() << "thumbnail failed:" << QString::fromStdString(e.what()).trimmed();
    } catch (const std::bad_alloc &) {
    }
    return {};
}

} // namespace edgelens
