#pragma once

#include "detector/detector.h"
#include "protocol/detection.h"
#include "protocol/protocol.h"

#include <QByteArray>
#include <QSize>
#include <QString>

namespace edgelens {

// What one image goes through: how to detect and whether to draw and encode the result.
struct PipelineRequest
{
    DetectParams params;
    bool markup = false; // draw the detections and encode a JPEG
    int jpegQuality = 90;
    qint64 maxPixels = 0; // 0: no limit; checked on the decoded image (the header is checked before)
    // Without markup, decode a large JPEG at 1/2, 1/4 or 1/8 (libjpeg DCT scaling) when the reduced
    // image still holds the model's input several times over. Boxes come back in full-size pixels.
    bool reducedDecode = false;
};

// What came out: detections in the full-size image's pixels, its size, the JPEG when asked for,
// or a protocol error code with a message worded for a person.
struct PipelineOutcome
{
    bool ok = false;
    protocol::ErrorCode errorCode = protocol::ErrorCode::Internal;
    QString errorString;
    QSize imageSize;   // the full-size (EXIF-oriented) image, whatever was decoded
    QSize decodedSize; // what was decoded: smaller than imageSize after a reduced decode
    QList<Detection> detections;
    QByteArray jpeg;
    StageTimings timings;
};

// decode -> detect -> draw -> encode, the per-image work the server's engine, the evaluator and
// the bench share. Runs on the calling thread with the given Detector (not thread-safe: one
// pipeline per thread, like the Detector).
class ImagePipeline final
{
    Q_DISABLE_COPY_MOVE(ImagePipeline)

public:
    explicit ImagePipeline(Detector &detector);

    PipelineOutcome run(const QByteArray &encoded, const PipelineRequest &request);

    // The libjpeg scale denominator (1, 2, 4 or 8) for an image of `imageSize` fed to a model
    // whose input is `modelInput`: the largest that keeps both sides at least `margin` times the
    // input's. 1 for an unknown input size (cascades scan the image at its own size).
    static int reductionFor(const QSize &imageSize, const QSize &modelInput, double margin);

    // The note the server writes on marked-up images of a fallback detector; empty otherwise.
    static QString markupNote(const ModelManifest &manifest);

private:
    Detector &m_detector;
};

} // namespace edgelens
