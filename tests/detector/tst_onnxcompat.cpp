#include "detector/detector.h"
#include "detector/onnxcompat.h"

#include <QSaveFile>
#include <QTemporaryDir>
#include <QTest>

#include <onnx/onnx_pb.h>
#include <opencv2/dnn.hpp>

#include <string>
#include <vector>

using namespace edgelens;

namespace {

// OpenCV 4.7 reads Clip's bounds as inputs; the project's OpenCV (4.6) does not.
constexpr bool kOpenCVRejectsClipInputs = CV_VERSION_MAJOR == 4 && CV_VERSION_MINOR <= 6;

// How a bound reaches the Clip node in the test graphs.
enum class Bound { Initializer, ConstantNode, Computed };

onnx::TensorProto scalarTensor(const std::string &name, float value, bool raw)
{
    onnx::TensorProto t;
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::FLOAT);
    if (raw)
        t.set_raw_data(std::string(reinterpret_cast<const char *>(&value), sizeof value));
    else
        t.add_float_data(value);
    return t;
}

void addValueInfo(onnx::ValueInfoProto *info, const std::string &name)
{
    info->set_name(name);
    onnx::TypeProto_Tensor *type = info->mutable_type()->mutable_tensor_type();
    type->set_elem_type(onnx::TensorProto::FLOAT);
    for (const int d : {1, 1, 1, 4})
        type->mutable_shape()->add_dim()->set_dim_value(d);
}

// y = Clip(x, min, max) in the opset 11 form (bounds as inputs), x and y [1, 1, 1, 4]: what
// exporters of the last years write for ReLU6 and what OpenCV 4.6 refuses to read.
QByteArray clipModel(Bound bound, float min, float max)
{
    onnx::ModelProto model;
    model.set_ir_version(7);
    model.set_producer_name("tst_onnxcompat");
    onnx::OperatorSetIdProto *opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(11);
    onnx::GraphProto *graph = model.mutable_graph();
    graph->set_name("clip");
    addValueInfo(graph->add_input(), "x");
    addValueInfo(graph->add_output(), "y");

    if (bound == Bound::Initializer) {
        *graph->add_initializer() = scalarTensor("min", min, true);
        *graph->add_initializer() = scalarTensor("max", max, false);
    } else if (bound == Bound::ConstantNode) {
        for (const auto &[name, value] : {std::pair<std::string, float>{"min", min}, {"max", max}}) {
            onnx::NodeProto *c = graph->add_node();
            c->set_op_type("Constant");
            c->set_name("const_" + name);
            c->add_output(name);
            onnx::AttributeProto *a = c->add_attribute();
            a->set_name("value");
            a->set_type(onnx::AttributeProto::TENSOR);
            *a->mutable_t() = scalarTensor(name + "_t", value, true);
        }
    } else {
        // max computed from the input: no attribute can say that
        *graph->add_initializer() = scalarTensor("min", min, true);
        onnx::NodeProto *m = graph->add_node();
        m->set_op_type("ReduceMax");
        m->set_name("reduce");
        m->add_input("x");
        m->add_output("max");
    }
    onnx::NodeProto *clip = graph->add_node();
    clip->set_op_type("Clip");
    clip->set_name("relu6_0");
    clip->add_input("x");
    clip->add_input("min");
    clip->add_input("max");
    clip->add_output("y");

    std::string bytes;
    model.SerializeToString(&bytes);
    return QByteArray(bytes.data(), qsizetype(bytes.size()));
}

QString opencvError(const QByteArray &model)
{
    try {
        cv::dnn::readNetFromONNX(model.constData(), size_t(model.size()));
    } catch (const cv::Exception &e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

std::vector<float> run(const QByteArray &model, const std::vector<float> &input)
{
    cv::dnn::Net net = cv::dnn::readNetFromONNX(model.constData(), size_t(model.size()));
    const int shape[] = {1, 1, 1, int(input.size())};
    cv::Mat blob(4, shape, CV_32F);
    std::copy(input.begin(), input.end(), blob.ptr<float>());
    net.setInput(blob);
    const cv::Mat out = net.forward();
    return std::vector<float>(out.ptr<float>(), out.ptr<float>() + out.total());
}

} // namespace

class TestOnnxCompat : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void clipWithConstantBounds_isRejectedRaw_andClipsAfterTheRewrite_data()
    {
        QTest::addColumn<int>("bound");
        QTest::newRow("initializers") << int(Bound::Initializer);
        QTest::newRow("Constant nodes") << int(Bound::ConstantNode);
    }

    void clipWithConstantBounds_isRejectedRaw_andClipsAfterTheRewrite()
    {
        QFETCH(int, bound);
        const QByteArray raw = clipModel(Bound(bound), 0.0f, 6.0f);
        // the premise: OpenCV 4.6 (Debian 12's) cannot read the opset 11 form
        const QString rawError = opencvError(raw);
        if (kOpenCVRejectsClipInputs)
            QVERIFY2(rawError.contains(QStringLiteral("Clip")), qPrintable(rawError));

        QString error;
        const std::optional<OnnxCompat::Result> result = OnnxCompat::rewrite(raw, &error);
        QVERIFY2(result, qPrintable(error));
        QCOMPARE(result->rewrites.size(), 1);
        QVERIFY2(result->rewrites.first().startsWith(QStringLiteral("1 Clip node")), qPrintable(result->rewrites.first()));
        QVERIFY(result->model != raw);
        QCOMPARE(opencvError(result->model), QString());
        const std::vector<float> y = run(result->model, {-3.0f, 2.5f, 7.0f, 6.0f});
        QCOMPARE(y, (std::vector<float>{0.0f, 2.5f, 6.0f, 6.0f}));
    }

    void otherBounds_keepTheirValues()
    {
        const std::optional<OnnxCompat::Result> result = OnnxCompat::rewrite(clipModel(Bound::Initializer, -1.5f, 0.5f), nullptr);
        QVERIFY(result);
        QCOMPARE(run(result->model, {-3.0f, -1.0f, 0.25f, 9.0f}), (std::vector<float>{-1.5f, -1.0f, 0.25f, 0.5f}));
    }

    void computedBound_isLeftAlone_andTheFailureNamesFileNodeAndOperator()
    {
        const QByteArray raw = clipModel(Bound::Computed, 0.0f, 0.0f);
        const std::optional<OnnxCompat::Result> result = OnnxCompat::rewrite(raw, nullptr);
        QVERIFY(result);
        QVERIFY(result->rewrites.isEmpty());
        QCOMPARE(result->model, raw); // nothing to do: the very same bytes
        const QString rawError = opencvError(raw);
        if (!kOpenCVRejectsClipInputs)
            return; // a later OpenCV reads the node: there is no failure to describe
        QVERIFY2(!rawError.isEmpty(), "OpenCV 4.6 read a Clip with a computed bound");
        const QString message = OnnxCompat::describeFailure(QStringLiteral("/models/mine.onnx"), rawError);
        QVERIFY2(message.startsWith(QStringLiteral("/models/mine.onnx: node relu6_0 (operator Clip): OpenCV ")),
                 qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("input_size")), qPrintable(message));
        QVERIFY2(!message.contains(QStringLiteral("onnx_importer.cpp")), qPrintable(message));
    }

    void modelThatStillCannotLoad_saysFileNodeAndOperator()
    {
        if (!kOpenCVRejectsClipInputs)
            return; // a later OpenCV loads the graph
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("computed.onnx"));
        QSaveFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(clipModel(Bound::Computed, 0.0f, 0.0f));
        QVERIFY(file.commit());
        ModelManifest m;
        m.name = QStringLiteral("computed");
        m.family = QStringLiteral("yolov8");
        m.files = {ModelFile{QStringLiteral("computed.onnx"), {}, {}, path}};
        m.inputWidth = 4;
        m.inputHeight = 1;
        m.classNames = ModelManifest::cocoClassNames();
        QString error;
        QVERIFY(!createDetector(m, &error));
        QVERIFY2(error.startsWith(QStringLiteral("computed: %1: node relu6_0 (operator Clip): OpenCV ").arg(path)),
                 qPrintable(error));
    }

    void messageWithoutNode_keepsOpenCVsWords()
    {
        const QString message = OnnxCompat::describeFailure(QStringLiteral("a.onnx"), QStringLiteral("something odd\n"));
        QVERIFY2(message.startsWith(QStringLiteral("a.onnx: OpenCV ")), qPrintable(message));
        QVERIFY2(message.endsWith(QStringLiteral("cannot read it: something odd")), qPrintable(message));
    }

    void notOnnx_isAnErrorNotACrash()
    {
        QString error;
        QVERIFY(!OnnxCompat::rewrite(QByteArray("\xff\xff\xff\xff not protobuf", 18), &error));
        QVERIFY2(error.contains(QStringLiteral("not an ONNX model")), qPrintable(error));
        QVERIFY(!OnnxCompat::rewrite(QByteArray(), &error));
    }
};

QTEST_GUILESS_MAIN(TestOnnxCompat)
#include "tst_onnxcompat.moc"
