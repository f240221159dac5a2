#pragma once

// Where one image EdgeLens processes came from: a photo file, a frame of a video file, or a
// frame of a live source. Plain data that travels with the image through the scanner, the
// queue, the result writer and the exports; each writes what it knows of the origin with
// writeTo() and reads it back with fromJson(), so none of them asks "is this a video?".

#include <QJsonObject>
#include <QMetaType>
#include <QSize>
#include <QString>

namespace edgelens {

struct ImageOrigin
{
    enum class Kind {
        Photo,      // the file itself is the image
        VideoFrame, // one decoded frame of a video file, written out as an image file
        LiveFrame,  // one frame of a camera or stream (no file to go back to)
    };

    Kind kind = Kind::Photo;
    QString source;        // the video file (absolute) or the stream (credentials masked); empty for a photo
    qint64 sourceBytes = -1; // the video file's size, which tells two files of the same name apart
    QSize frameSize;       // the decoded frame's size
    qint64 frameIndex = -1;  // 0-based, in shown order; every frame counts, decoded or not
    double timestampMs = -1; // the decoder's presentation time of this frame, from the stream's start
    QString samplingRule;  // how the frame was chosen ("every 30 frames"), for people and scripts
    bool variableFrameRate = false; // the source's frame durations differ: index / fps is not its time

    static ImageOrigin photo() { return {}; }

    bool isPhoto() const { return kind == Kind::Photo; }
    // The image file was written by EdgeLens from the source (a frame file in the output
    // folder), so it lying inside the output folder does not mean the output holds inputs.
    bool isDerived() const { return kind != Kind::Photo; }

    // The file results are placed relative to: the image itself for a photo, the video for
    // a frame (its results go beside the video's folder's output, not into the frames folder).
    QString anchorPath(const QString &imagePath) const { return kind == Kind::VideoFrame ? source : imagePath; }

    // A frame's file name: "<stem>_f<index, 6 digits>.<suffix>" ("clip_f000030.jpg").
    static QString frameFileName(const QString &sourceStem, qint64 frameIndex, const QString &suffix);

    // Adds the origin's keys to a sidecar or an export entry: nothing for a photo; for a frame
    // "video" {path, bytes, width, height}, "frame_index", "timestamp_ms", "sampling" and
    // "variable_frame_rate" when set ("stream" instead of "video" for a live frame).
    void writeTo(QJsonObject &object) const;
    // Reads what writeTo() wrote; an object without those keys is a photo.
    static ImageOrigin fromJson(const QJsonObject &object);

    friend bool operator==(const ImageOrigin &a, const ImageOrigin &b)
    {
        return a.kind == b.kind && a.source == b.source && a.sourceBytes == b.sourceBytes
            && a.frameSize == b.frameSize && a.frameIndex == b.frameIndex && a.timestampMs == b.timestampMs
            && a.samplingRule == b.samplingRule && a.variableFrameRate == b.variableFrameRate;
    }
    friend bool operator!=(const ImageOrigin &a, const ImageOrigin &b) { return !(a == b); }
};

} // namespace edgelens

Q_DECLARE_METATYPE(edgelens::ImageOrigin)
