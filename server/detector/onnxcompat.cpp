#include "onnxcompat.h"

#include <QHash>
#include <QLoggingCategory>
#include <QRegularExpression>

#include <onnx/onnx_pb.h>
#include <opencv2/core/version.hpp>

#include <cstring>
#include <limits>

Q_LOGGING_CATEGORY(lcOnnxCompat, "edgelens.detector.onnxcompat")

namespace edgelens {

namespace {

// The value of a one-element float or double tensor; nullopt for anything else (another type,
// several elements), which leaves the node to OpenCV as it is.
std::optional<float> scalarOf(const onnx::TensorProto &t)
{
    qint64 elements = 1;
    for (const qint64 d : t.dims())
        elements *= d;
    if (elements != 1)
        return std::nullopt;
    if (t.data_type() == onnx::TensorProto::FLOAT) {
        if (t.float_data_size() == 1)
            return t.float_data(0);
        if (t.raw_data().size() == sizeof(float)) {
            float v = 0; // ONNX raw_data is little endian, as is every host OpenCV 4.6 supports here
            std::memcpy(&v, t.raw_data().data(), sizeof v);
            return v;
        }
    } else if (t.data_type() == onnx::TensorProto::DOUBLE) {
        if (t.double_data_size() == 1)
            return float(t.double_data(0));
        if (t.raw_data().size() == sizeof(double)) {
            double v = 0;
            std::memcpy(&v, t.raw_data().data(), sizeof v);
            return float(v);
        }
    }
    return std::nullopt;
}

// Constant values the graph defines by name: initializers and Constant nodes.
class Constants final
{
public:
    explicit Constants(const onnx::GraphProto &graph)
    {
        for (const onnx::TensorProto &t : graph.initializer())
            m_tensors.insert(QString::fromStdString(t.name()), &t);
        for (const onnx::NodeProto &node : graph.node()) {
            if (node.op_type() != "Constant" || node.output_size() != 1)
                continue;
            for (const onnx::AttributeProto &a : node.attribute()) {
                if (a.name() == "value" && a.has_t())
                    m_tensors.insert(QString::fromStdString(node.output(0)), &a.t());
                else if (a.name() == "value_float")
                    m_floats.insert(QString::fromStdString(node.output(0)), a.f());
            }
        }
    }

    std::optional<float> scalar(const std::string &name) const
    {
        const QString key = QString::fromStdString(name);
        if (const auto f = m_floats.constFind(key); f != m_floats.cend())
            return *f;
        if (const auto t = m_tensors.constFind(key); t != m_tensors.cend())
            return scalarOf(**t);
        return std::nullopt;
    }

private:
    QHash<QString, const onnx::TensorProto *> m_tensors;
    QHash<QString, float> m_floats;
};

void addFloatAttribute(onnx::NodeProto &node, const char *name, float value)
{
    onnx::AttributeProto *a = node.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(value);
}

// Clip(x, min, max) with constant min/max -> Clip(x) {min, max}: the same function, in the
// form OpenCV 4.6's parseClip requires (exactly one input). An omitted bound ("" or absent)
// is unbounded on that side, as in both opsets.
int rewriteClips(onnx::GraphProto &graph, const Constants &constants)
{
    int rewritten = 0;
    for (onnx::NodeProto &node : *graph.mutable_node()) {
        if (node.op_type() != "Clip" || node.input_size() < 2)
            continue;
        std::optional<float> bounds[2];
        bool constant = true;
        for (int i = 1; i < node.input_size() && i < 3; ++i) {
            if (node.input(i).empty())
                continue;
            bounds[i - 1] = constants.scalar(node.input(i));
            constant = constant && bounds[i - 1].has_value();
        }
        if (!constant || node.input_size() > 3)
            continue; // a computed bound has no attribute form: OpenCV reports the node
        node.mutable_input()->DeleteSubrange(1, node.input_size() - 1);
        addFloatAttribute(node, "min", bounds[0].value_or(std::numeric_limits<float>::lowest()));
        addFloatAttribute(node, "max", bounds[1].value_or(std::numeric_limits<float>::max()));
        ++rewritten;
    }
    return rewritten;
}

} // namespace

std::optional<OnnxCompat::Result> OnnxCompat::rewrite(const QByteArray &onnx, QString *error)
{
    onnx::ModelProto model;
    if (!model.ParseFromArray(onnx.constData(), int(onnx.size())) || !model.has_graph()) {
        if (error)
            *error = QStringLiteral("not an ONNX model (the protobuf data cannot be read)");
        return std::nullopt;
    }
    Result result;
    const Constants constants(model.graph());
    const int clips = rewriteClips(*model.mutable_graph(), constants);
    if (clips > 0)
        result.rewrites << QStringLiteral("%1 Clip node(s): constant min/max inputs -> attributes").arg(clips);

    if (result.rewrites.isEmpty()) {
        result.model = onnx;
        return result;
    }
    std::string bytes;
    if (!model.SerializeToString(&bytes)) {
        if (error)
            *error = QStringLiteral("the rewritten ONNX graph cannot be serialised");
        return std::nullopt;
    }
    result.model = QByteArray(bytes.data(), qsizetype(bytes.size()));
    return result;
}

QString OnnxCompat::describeFailure(const QString &file, const QString &opencvMessage)
{
    // OpenCV 4.6: "... Node [Clip@ai.onnx]:(onnx_node!Clip_0) parse error: OpenCV(4.6.0)
    // /path/onnx_importer.cpp:1234: error: (-215:Assertion failed) node_proto.input_size() == 1
    // in function 'parseClip'"
    static const QRegularExpression node(QStringLiteral(R"(Node \[([^@\]]+)(?:@[^\]]*)?\]:\(([^)]*)\))"));
    static const QRegularExpression reason(QStringLiteral(R"(error: \(-?\d+:[^)]*\) (.*)$)"),
                                           QRegularExpression::DotMatchesEverythingOption);
    const QString message = opencvMessage.trimmed();
    const QRegularExpressionMatch n = node.match(message);
    if (!n.hasMatch())
        return QStringLiteral("%1: OpenCV %2 cannot read it: %3").arg(file, QStringLiteral(CV_VERSION), message);
    QString nodeName = n.captured(2);
    nodeName.remove(QRegularExpression(QStringLiteral("^onnx_node!")));
    // the innermost "error: (...) why" is OpenCV's reason; the outer ones repeat the node
    const QString tail = message.mid(n.capturedEnd());
    const QRegularExpressionMatch r = reason.match(tail);
    const QString why = (r.hasMatch() ? r.captured(1) : tail).simplified();
    return QStringLiteral("%1: node %2 (operator %3): OpenCV %4 cannot read it: %5")
        .arg(file, nodeName, n.captured(1), QStringLiteral(CV_VERSION), why);
}

} // namespace edgelens
