#include "decoder.h"

#include "detector/darknetdecoder.h"
#include "detector/tensorview.h"
#include "detector/fastestdetdecoder.h"
#include "detector/nanodetdecoder.h"
#include "detector/ssddecoder.h"
#include "detector/yolov5decoder.h"
#include "detector/yolov8decoder.h"
#include "detector/yoloxdecoder.h"

#include <QJsonArray>

namespace edgelens {

namespace {

bool readStrides(const ModelManifest &m, std::vector<int> &strides, QString *error)
{
    const QJsonValue v = m.decoder.value(QStringLiteral("strides"));
    if (v.isUndefined())
        return true;
    const QJsonArray a = v.toArray();
    if (!v.isArray() || a.isEmpty()) {
        if (error)
            *error = QStringLiteral("%1: decoder.strides: expected an array of whole numbers").arg(m.name);
        return false;
    }
    strides.clear();
    for (const QJsonValue &s : a) {
        const int stride = s.toInt(0);
        if (stride < 1 || stride > 1024) {
            if (error)
                *error = QStringLiteral("%1: decoder.strides: expected whole numbers from 1 to 1024").arg(m.name);
            return false;
        }
        strides.push_back(stride);
    }
    return true;
}

bool readNumber(const ModelManifest &m, const QString &key, double min, double max, double &value, QString *error)
{
    const QJsonValue v = m.decoder.value(key);
    if (v.isUndefined())
        return true;
    if (!v.isDouble() || v.toDouble() < min || v.toDouble() > max) {
        if (error)
            *error = QStringLiteral("%1: decoder.%2: expected a number from %3 to %4").arg(m.name, key).arg(min).arg(max);
        return false;
    }
    value = v.toDouble();
    return true;
}

// decoder.scores: "logits" or "probabilities", else the family's usual form.
bool readScores(const ModelManifest &m, Decoder::Scores usual, Decoder::Scores &scores, QString *error)
{
    const QJsonValue v = m.decoder.value(QStringLiteral("scores"));
    scores = usual;
    if (v.isUndefined())
        return true;
    if (v == QLatin1String("logits"))
        scores = Decoder::Scores::Logits;
    else if (v == QLatin1String("probabilities"))
        scores = Decoder::Scores::Probabilities;
    else {
        if (error)
            *error = QStringLiteral("%1: decoder.scores: expected \"logits\" or \"probabilities\"").arg(m.name);
        return false;
    }
    return true;
}

} // namespace

bool Decoder::unexpectedOutputs(const QString &family, const QString &expected, const std::vector<cv::Mat> &outputs,
                                QString *error)
{
    if (error)
        *error = QStringLiteral("%1: expected %2, got %3").arg(family, expected, TensorView::describe(outputs));
    return false;
}

std::unique_ptr<Decoder> Decoder::create(const ModelManifest &m, QString *error)
{
    const cv::Size input(m.inputWidth, m.inputHeight);
    const int classes = int(m.classNames.size());
    if (input.width <= 0 || input.height <= 0 || classes <= 0) {
        if (error)
            *error = QStringLiteral("%1: a %2 model needs input size and class names").arg(m.name, m.family);
        return nullptr;
    }
    static const QStringList scoresEitherWay{QStringLiteral("yolox"), QStringLiteral("yolov5"), QStringLiteral("yolov8")};
    if (m.decoder.contains(QStringLiteral("scores")) && !scoresEitherWay.contains(m.family)) {
        if (error)
            *error = QStringLiteral("%1: decoder.scores: family %2 has one known score form; only yolox, yolov5 and "
                                    "yolov8 read this setting").arg(m.name, m.family);
        return nullptr;
    }
    if (m.family == QLatin1String("nanodet") || m.family == QLatin1String("picodet")) {
        const bool pico = m.family == QLatin1String("picodet");
        std::vector<int> strides = pico ? std::vector<int>{8, 16, 32, 64} : std::vector<int>{8, 16, 32};
        double bins = 8;
        if (!readStrides(m, strides, error) || !readNumber(m, QStringLiteral("reg_bins"), 1, 64, bins, error))
            return nullptr;
        return std::make_unique<NanoDetDecoder>(
            input, classes, strides, int(bins),
            pico ? NanoDetDecoder::CellCentre::HalfStride : NanoDetDecoder::CellCentre::NanoDet, m.family);
    }
    if (m.family == QLatin1String("yolox")) {
        std::vector<int> strides{8, 16, 32};
        Scores scores = Scores::Logits;
        if (!readStrides(m, strides, error) || !readScores(m, Scores::Logits, scores, error))
            return nullptr;
        const QString layout = m.decoder.value(QStringLiteral("layout")).toString(QStringLiteral("channel-major-blocks"));
        if (layout != QLatin1String("channel-major-blocks") && layout != QLatin1String("rows")) {
            if (error)
                *error = QStringLiteral("%1: decoder.layout: expected \"channel-major-blocks\" or \"rows\"").arg(m.name);
            return nullptr;
        }
        return std::make_unique<YoloxDecoder>(input, classes,
                                              layout == QLatin1String("rows") ? YoloxDecoder::Layout::Rows
                                                                              : YoloxDecoder::Layout::ChannelMajorBlocks,
                                              strides, scores);
    }
    if (m.family == QLatin1String("darknet"))
        return std::make_unique<DarknetDecoder>(input, classes);
    if (m.family == QLatin1String("fastestdet")) {
        double obj = 0.6;
        double cls = 0.4;
        if (!readNumber(m, QStringLiteral("obj_exponent"), 0, 10, obj, error)
            || !readNumber(m, QStringLiteral("cls_exponent"), 0, 10, cls, error))
            return nullptr;
        return std::make_unique<FastestDetDecoder>(input, classes, float(obj), float(cls));
    }
    if (m.family == QLatin1String("yolov5") || m.family == QLatin1String("yolov8")) {
        // ultralytics' exports end with sigmoid; an export cut before it gives logits
        Scores scores = Scores::Probabilities;
        if (!readScores(m, Scores::Probabilities, scores, error))
            return nullptr;
        if (m.family == QLatin1String("yolov5"))
            return std::make_unique<Yolov5Decoder>(classes, scores);
        return std::make_unique<Yolov8Decoder>(classes, scores);
    }
    if (m.family == QLatin1String("tf-ssd") || m.family == QLatin1String("caffe-ssd")) {
        const QString labelMap = m.decoder.value(QStringLiteral("label_map")).toString(QStringLiteral("offset"));
        if (labelMap != QLatin1String("offset") && labelMap != QLatin1String("coco90")) {
            if (error)
                *error = QStringLiteral("%1: decoder.label_map: expected \"offset\" or \"coco90\"").arg(m.name);
            return nullptr;
        }
        double offset = 1;
        if (!readNumber(m, QStringLiteral("label_offset"), -1000, 1000, offset, error))
            return nullptr;
        return std::make_unique<SsdDecoder>(input, classes,
                                            labelMap == QLatin1String("coco90") ? SsdDecoder::LabelMap::Coco90
                                                                                : SsdDecoder::LabelMap::Offset,
                                            int(offset));
    }
    if (error)
        *error = QStringLiteral("%1: family \"%2\" has no tensor decoder").arg(m.name, m.family);
    return nullptr;
}

} // namespace edgelens
