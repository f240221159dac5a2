#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <optional>

namespace edgelens {

// OpenCV 4.6's ONNX importer rejects some graph forms that newer exporters write although it
// reads an exact equivalent. This pass rewrites those forms in memory (never on disk, so a
// model file keeps its upstream bytes and sha256) before cv::dnn::readNetFromONNX sees them:
// - Clip (opset 11+) with constant min/max inputs becomes Clip with min/max attributes
//   (the opset 6 form), e.g. the 87 ReLU6 nodes of PP-PicoDet's published exports.
// The result is only meant for OpenCV: the opset stays as declared, so the rewritten graph
// is not a valid opset 11 model for other runtimes.
class OnnxCompat final
{
public:
    struct Result
    {
        QByteArray model;     // what to give readNetFromONNX: the input itself when nothing changed
        QStringList rewrites; // one line per kind of rewrite: "87 Clip nodes: constant min/max inputs -> attributes"
    };

    // nullopt with *error when the bytes are not an ONNX model protobuf can read.
    static std::optional<Result> rewrite(const QByteArray &onnx, QString *error);

    // Words a user can act on for an OpenCV ONNX import failure: the file, the node, its
    // operator and OpenCV's own reason, e.g. "model.onnx: node Clip_0 (operator Clip): OpenCV
    // 4.6 cannot read it: node_proto.input_size() == 1 in function 'parseClip'". Falls back to
    // the file and OpenCV's whole message when it names no node.
    static QString describeFailure(const QString &file, const QString &opencvMessage);
};

} // namespace edgelens
