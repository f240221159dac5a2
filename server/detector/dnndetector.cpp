#include "dnndetector.h"

#include "detector/darknetdecoder.h"
#include "detector/imagepreprocessor.h"
#include "detector/nms.h"
#include "detector/onnxcompat.h"
#include "detector/tensorview.h"

#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>

#include <opencv2/imgproc.hpp>

Q_LOGGING_CATEGORY(lcDnn, "edgelens.detector.dnn")

namespace edgelens {

namespace {

// The first located file whose name ends with one of the suffixes.
QString fileWithSuffix(const ModelManifest &m, const QStringList &suffixes)
{
    for (const ModelFile &f : m.files) {
        for (const QString &suffix : suffixes) {
            if (f.name.endsWith(suffix, Qt::CaseInsensitive) && !f.path.isEmpty())
                return f.path;
        }
    }
    return {};
}

std::string localPath(const QString &path)
{
    return QFile::encodeName(path).toStdString();
}

bool readWhole(const QString &path, qint64 maxBytes, QByteArray &bytes, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("cannot open %1: %2").arg(path, file.errorString());
        return false;
    }
    if (file.size() > maxBytes) {
        if (error)
            *error = QStringLiteral("%1 is larger than %2 MB").arg(path).arg(maxBytes >> 20);
        return false;
    }
    bytes = file.readAll();
    return true;
}

// The file's bytes through OnnxCompat, then OpenCV; a failure names the node and operator.
cv::dnn::Net loadOnnx(const ModelManifest &m, const QString &path, QString *error)
{
    QByteArray bytes;
    if (!readWhole(path, qint64(2) << 30, bytes, error))
        return {};
    QString why;
    const std::optional<OnnxCompat::Result> compatible = OnnxCompat::rewrite(bytes, &why);
    if (!compatible) {
        if (error)
            *error = QStringLiteral("%1: %2: %3").arg(m.name, path, why);
        return {};
    }
    if (!compatible->rewrites.isEmpty())
        qCInfo(lcDnn).noquote() << QStringLiteral("%1: rewrote for OpenCV %2 in memory (the file is unchanged): %3")
                                       .arg(m.name, QStringLiteral(CV_VERSION), compatible->rewrites.join(QStringLiteral("; ")));
    bytes.clear();
    try {
        return cv::dnn::readNetFromONNX(compatible->model.constData(), size_t(compatible->model.size()));
    } catch (const cv::Exception &e) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(m.name, OnnxCompat::describeFailure(path, QString::fromStdString(e.what())));
        return {};
    }
}

// cv::dnn::Net for the manifest's family; an empty Net with *error on failure.
cv::dnn::Net loadNet(const ModelManifest &m, QString *error)
{
    const auto need = [&](const QStringList &suffixes) {
        const QString path = fileWithSuffix(m, suffixes);
        if (path.isEmpty() && error)
            *error = QStringLiteral("%1: no located %2 file among the manifest's files")
                         .arg(m.name, suffixes.join(QStringLiteral(" or ")));
        return path;
    };
    const QString &family = m.family;
    if (family == QLatin1String("darknet")) {
        const QString cfgPath = need({QStringLiteral(".cfg")});
        const QString weightsPath = cfgPath.isEmpty() ? QString() : need({QStringLiteral(".weights")});
        if (weightsPath.isEmpty())
            return {};
        QByteArray cfg;
        if (!readWhole(cfgPath, 16 << 20, cfg, error))
            return {};
        const double thresh = m.decoder.value(QStringLiteral("yolo_thresh")).toDouble(0.001);
        cfg = DarknetDecoder::patchYoloThreshold(cfg, thresh);
        QByteArray weights;
        if (!readWhole(weightsPath, qint64(2) << 30, weights, error))
            return {};
        return cv::dnn::readNetFromDarknet(cfg.constData(), size_t(cfg.size()), weights.constData(),
                                           size_t(weights.size()));
    }
    if (family == QLatin1String("tf-ssd")) {
        const QString pb = need({QStringLiteral(".pb")});
        const QString pbtxt = pb.isEmpty() ? QString() : need({QStringLiteral(".pbtxt")});
        if (pbtxt.isEmpty())
            return {};
        return cv::dnn::readNetFromTensorflow(localPath(pb), localPath(pbtxt));
    }
    if (family == QLatin1String("caffe-ssd")) {
        const QString proto = need({QStringLiteral(".prototxt")});
        const QString weights = proto.isEmpty() ? QString() : need({QStringLiteral(".caffemodel")});
        if (weights.isEmpty())
            return {};
        return cv::dnn::readNetFromCaffe(localPath(proto), localPath(weights));
    }
    const QString onnx = need({QStringLiteral(".onnx")});
    if (onnx.isEmpty())
        return {};
    return loadOnnx(m, onnx, error);
}

} // namespace

QString DnnDetector::applyBackend(cv::dnn::Net &net, const QString &backend)
{
    if (backend == QLatin1String("openvino")) {
        net.setPreferableBackend(cv::dnn::DNN_BACKEND_INFERENCE_ENGINE);
        net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
        return QStringLiteral("OpenVINO/CPU");
    }
    if (backend == QLatin1String("cuda")) {
        net.setPreferableBackend(cv::dnn::DNN_BACKEND_CUDA);
        net.setPreferableTarget(cv::dnn::DNN_TARGET_CUDA);
        return QStringLiteral("CUDA/GPU");
    }
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return QStringLiteral("OpenCV/CPU");
}

cv::dnn::Net DnnDetector::readNetwork(const ModelManifest &manifest, QString *error)
{
    try {
        return loadNet(manifest, error);
    } catch (const cv::Exception &e) {
        if (error)
            *error = QStringLiteral("%1: OpenCV could not load the model: %2")
                         .arg(manifest.name, QString::fromStdString(e.what()).trimmed());
        return {};
    }
}

std::unique_ptr<DnnDetector> DnnDetector::create(const ModelManifest &manifest, const QString &backend,
                                                 QString *error)
{
    std::unique_ptr<DnnDetector> d(new DnnDetector);
    d->m_manifest = manifest;
    d->m_decoder = Decoder::create(manifest, error);
    if (!d->m_decoder)
        return nullptr;
    try {
        QString loadError;
        d->m_net = loadNet(manifest, &loadError);
        if (d->m_net.empty()) {
            if (error)
                *error = loadError.isEmpty() ? QStringLiteral("%1: OpenCV loaded an empty network").arg(manifest.name)
                                             : loadError;
            return nullptr;
        }
        d->m_backendDescription = applyBackend(d->m_net, backend);
        d->m_outputNames = d->m_net.getUnconnectedOutLayersNames();

        // One forward on a blank canvas proves the outputs fit the family now, with a clear
        // message at startup instead of an empty result on every request.
        cv::Mat blank(manifest.inputHeight, manifest.inputWidth, CV_8UC3, cv::Scalar::all(0));
        CanvasMapping mapping;
        d->m_net.setInput(ImagePreprocessor::blob(blank, manifest, &mapping));
        std::vector<cv::Mat> outputs;
        d->m_net.forward(outputs, d->m_outputNames);
        d->m_outputShapes = TensorView::describe(outputs);
        std::vector<Candidate> ignored;
        QString decodeError;
        if (!d->m_decoder->decode(outputs, 2.0f, ignored, &decodeError)) {
            if (error)
                *error = QStringLiteral("%1: the network's outputs do not fit family %2: %3")
                             .arg(manifest.name, manifest.family, decodeError);
            return nullptr;
        }
    } catch (const cv::Exception &e) {
        if (error)
            *error = QStringLiteral("%1: OpenCV could not load or run the model: %2")
                         .arg(manifest.name, QString::fromStdString(e.what()).trimmed());
        return nullptr;
    }
    qCDebug(lcDnn) << "loaded" << manifest.name << "on" << d->m_backendDescription;
    return d;
}

QList<Detection> DnnDetector::detect(const cv::Mat &input, const DetectParams &params)
{
    m_lastError.clear();
    m_lastFarOutside = 0;
    if (input.empty() || input.cols < 1 || input.rows < 1) {
        m_lastError = QStringLiteral("empty image");
        return {};
    }
    cv::Mat bgr = input;
    try {
        if (bgr.depth() == CV_16U)
            bgr.convertTo(bgr, CV_8U, 1.0 / 256.0);
        else if (bgr.depth() != CV_8U) {
            m_lastError = QStringLiteral("unsupported pixel depth (expected 8-bit)");
            return {};
        }
        if (bgr.channels() == 1)
            cv::cvtColor(bgr, bgr, cv::COLOR_GRAY2BGR);
        else if (bgr.channels() == 4)
            cv::cvtColor(bgr, bgr, cv::COLOR_BGRA2BGR);
        else if (bgr.channels() != 3) {
            m_lastError = QStringLiteral("unsupported channel count %1").arg(bgr.channels());
            return {};
        }

        CanvasMapping mapping;
        m_net.setInput(ImagePreprocessor::blob(bgr, m_manifest, &mapping));
        std::vector<cv::Mat> outputs;
        m_net.forward(outputs, m_outputNames);

        std::vector<Candidate> candidates;
        if (!m_decoder->decode(outputs, std::max(0.0f, params.confidence), candidates, &m_lastError)) {
            qCWarning(lcDnn).noquote() << m_manifest.name << ":" << m_lastError;
            return {};
        }
        const float iou = params.nmsIou >= 0 ? params.nmsIou : m_manifest.defaultNmsIou;
        const std::vector<Candidate> kept = Nms::classwise(std::move(candidates), iou, params.maxDetections,
                                                           params.classFilter);
        QList<Detection> detections;
        detections.reserve(qsizetype(kept.size()));
        const float marginX = 0.1f * float(m_manifest.inputWidth);
        const float marginY = 0.1f * float(m_manifest.inputHeight);
        for (const Candidate &c : kept) {
            if (c.box.x < -marginX || c.box.y < -marginY || c.box.x + c.box.width > float(m_manifest.inputWidth) + marginX
                || c.box.y + c.box.height > float(m_manifest.inputHeight) + marginY)
                ++m_lastFarOutside;
            Detection d;
            d.classId = c.classId;
            d.label = m_manifest.classNames.value(c.classId, QStringLiteral("class %1").arg(c.classId));
            d.confidence = c.score;
            d.box = mapping.toImage(c.box);
            if (d.box.width() <= 0 || d.box.height() <= 0)
                continue; // entirely in the letterbox padding
            detections.append(d);
        }
        return detections;
    } catch (const cv::Exception &e) {
        m_lastError = QStringLiteral("inference failed: %1").arg(QString::fromStdString(e.what()).trimmed());
        qCWarning(lcDnn).noquote() << m_manifest.name << ":" << m_lastError;
        return {};
    }
}

const ModelManifest &DnnDetector::manifest() const
{
    return m_manifest;
}

QString DnnDetector::backendDescription() const
{
    return m_backendDescription;
}

QString DnnDetector::lastError() const
{
    return m_lastError;
}

QString DnnDetector::outputShapes() const
{
    return m_outputShapes;
}

int DnnDetector::lastFarOutside() const
{
    return m_lastFarOutside;
}

} // namespace edgelens
