#pragma once

#include "protocol/detection.h"

#include <QByteArray>
#include <QImage>
#include <QList>
#include <QSize>
#include <QString>

#include <opencv2/core/mat.hpp>

namespace edgelens {

// How a client sends a photo to a v2 server that tells it the model's input size.
struct TransferOptions
{
    bool sendOriginal = false; // "send original files": the file's bytes as they are
    QSize modelInput;          // the served model's input (server-info); empty: unknown, send as is
    // The reduced copy keeps this many pixels per model input pixel on each side. Chosen by
    // measuring accuracy on 12 MP photos (docs/TRANSFER.md): 2 scores like the whole file.
    double inputMultiple = 2.0;
    int jpegQuality = 90;
    // The result is drawn here within this side (0: original size; negative: not drawn here).
    // prepare() then decodes the file once, at the least reduction the result needs, makes the
    // model's copy from that decode and keeps it (PreparedImage::canvas) to draw the result on.
    int resultMaxSide = -1;
    // Non-empty: prepare() also makes the original's thumbnail (within this box) from its decode.
    QSize thumbnailBox;
};

// What to send for one file, and how its answer maps back to the file's own pixels.
struct PreparedImage
{
    QByteArray payload;   // the bytes to send: a reduced JPEG, or the file itself
    bool reduced = false;
    QSize originalSize;   // the file's image after EXIF orientation; empty when unknown
    QSize sentSize;       // the payload's image size (== originalSize when not reduced)
    double scaleX = 1.0;  // payload pixels -> original pixels
    double scaleY = 1.0;
    QString error;        // the file is not a decodable image
    // The oriented image at the size the result is drawn at (TransferOptions::resultMaxSide),
    // held only while the request is in flight; empty when no result is drawn here or when it
    // would be larger than ImageTransfer::maxCanvasPixels() (the result then decodes the file again).
    cv::Mat canvas;
    QImage thumbnail; // the original's, when TransferOptions::thumbnailBox asked for it
};

// Client side of "send what the model needs, draw the result where it is viewed": reduces a
// large photo with libjpeg's DCT scaling (a 12 MP JPEG is never decoded at full size to shrink
// it), applies its EXIF orientation before re-encoding, maps the server's boxes back to the
// original oriented image, and draws the markup (the shared Annotator) on a copy of the
// original. Stateless and thread-safe: call it on worker threads.
class ImageTransfer final
{
public:
    static PreparedImage prepare(const QByteArray &file, const TransferOptions &options);
    // prepare() for the file at path, read the one bounded way (ImageFileReader); a file that
    // cannot be read or is too large comes back with .error set.
    static PreparedImage readAndPrepare(const QString &path, const TransferOptions &options);
    // prepare() for an image already decoded (8-bit BGR, upright: a video frame), saved as the
    // file at path: the reduced copy, the canvas and the thumbnail come from the pixels, so the
    // file is not decoded again; it is read only when it goes as it is (not reduced, or
    // sendOriginal). Unlike a file, any copy smaller than the image is made (no decode to pay
    // for). The canvas may share the pixels' memory (it is drawn on in place).
    static PreparedImage prepareFromPixels(const cv::Mat &bgr, const QString &path, const TransferOptions &options);

    // The size a reduced copy of an `original`-sized image gets for `modelInput`; `original`
    // itself when reducing would not save at least half of each side.
    static QSize reducedSize(const QSize &original, const QSize &modelInput, double inputMultiple);

    // The size the result of an `original`-sized image is drawn at for maxSide (0: original).
    static QSize resultSize(const QSize &original, int maxSide, bool jpeg);
    // A canvas above this many pixels is not held while its request is in flight (memory).
    static qint64 maxCanvasPixels();

    // Boxes from the payload's pixels to the original's, clipped to the original.
    static QList<Detection> toOriginal(const QList<Detection> &detections, const PreparedImage &prepared);
    // The server's answer for the payload made the answer for the file: boxes and size in the
    // original's pixels.
    static void mapToOriginal(DetectionResult &result, const PreparedImage &prepared);

    // The original image (EXIF-oriented) with the detections (in its pixels) drawn by the
    // shared Annotator, as a JPEG. maxSide > 0: the result fits within maxSide x maxSide,
    // decoded at the least libjpeg reduction that fits (then area-resized if 1/8 is not
    // enough); 0: original size, identical to the server's markup of the same detections.
    static QByteArray renderMarkup(const QByteArray &file, const QList<Detection> &detections, int maxSide,
                                   int jpegQuality, const QString &note, QString *error);
    // The same drawn in place on a canvas prepare() kept (the file is not read again); the
    // same pixels as renderMarkup of the file with the maxSide the canvas was made for.
    static QByteArray renderMarkupOn(cv::Mat &canvas, const QSize &originalSize, const QList<Detection> &detections,
                                     int jpegQuality, const QString &note, QString *error);

    // Turns the server's answer for a prepared image into the answer for the file: boxes and
    // size in the original's pixels, and (when drawLocally) the marked-up JPEG drawn here.
    // False with *error when the result image could not be drawn.
    static bool completeResult(DetectionResult &result, QByteArray *jpeg, const QByteArray &file,
                               const PreparedImage &prepared, bool drawLocally, int maxSide, int jpegQuality,
                               const QString &note, QString *error);
    // completeResult() for the file at path, read again only when it is needed (a reduced copy
    // was sent or the markup is drawn here), so only work in flight holds image bytes.
    static bool completeResultFromFile(DetectionResult &result, QByteArray *jpeg, const QString &path,
                                       const PreparedImage &prepared, bool drawLocally, int maxSide, int jpegQuality,
                                       const QString &note, QString *error);

    // A gallery thumbnail (RGB32, within box, aspect kept, never enlarged) of an 8-bit BGR image.
    static QImage thumbnail(const cv::Mat &bgr, const QSize &box);

private:
    static QImage thumbnailOfSize(const cv::Mat &bgr, const QSize &size);
};

} // namespace edgelens
