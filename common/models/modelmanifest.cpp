#include "modelmanifest.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QRegularExpression>

#include <cmath>

Q_LOGGING_CATEGORY(lcManifest, "edgelens.models.manifest")

// Q_INIT_RESOURCE must be called from outside any namespace; a static library's resources
// are only registered when someone calls it. modelcatalog.cpp uses it too.
void edgelensInitModelResources();
void edgelensInitModelResources()
{
    static const bool done = [] {
        Q_INIT_RESOURCE(edgelens_models);
        return true;
    }();
    Q_UNUSED(done);
}

namespace edgelens {

namespace {

// Collects the first problem with a "<origin>: <field>: <what>" message.
class FieldReader
{
public:
    FieldReader(const QString &origin, QString *error)
        : m_origin(origin)
        , m_error(error)
    {
    }

    bool ok() const { return m_ok; }

    void fail(const QString &field, const QString &what)
    {
        if (!m_ok)
            return; // keep the first error: later ones are often consequences
        m_ok = false;
        if (m_error)
            *m_error = QStringLiteral("%1: %2: %3").arg(m_origin, field, what);
    }

    QString string(const QJsonObject &o, const QString &key, const QString &field, bool required,
                   const QString &fallback = {})
    {
        const QJsonValue v = o.value(key);
        if (v.isUndefined() || v.isNull()) {
            if (required)
                fail(field, QStringLiteral("missing (expected a string)"));
            return fallback;
        }
        if (!v.isString()) {
            fail(field, QStringLiteral("expected a string"));
            return fallback;
        }
        return v.toString();
    }

    double number(const QJsonObject &o, const QString &key, const QString &field, bool required, double fallback,
                  double min, double max)
    {
        const QJsonValue v = o.value(key);
        if (v.isUndefined() || v.isNull()) {
            if (required)
                fail(field, QStringLiteral("missing (expected a number)"));
            return fallback;
        }
        if (!v.isDouble()) {
            fail(field, QStringLiteral("expected a number"));
            return fallback;
        }
        const double d = v.toDouble();
        if (!std::isfinite(d) || d < min || d > max) {
            fail(field, QStringLiteral("expected a number from %1 to %2, got %3").arg(min).arg(max).arg(d));
            return fallback;
        }
        return d;
    }

    bool boolean(const QJsonObject &o, const QString &key, const QString &field, bool fallback)
    {
        const QJsonValue v = o.value(key);
        if (v.isUndefined() || v.isNull())
            return fallback;
        if (!v.isBool()) {
            fail(field, QStringLiteral("expected true or false"));
            return fallback;
        }
        return v.toBool();
    }

    void triple(const QJsonObject &o, const QString &key, const QString &field, double out[3], bool nonZero)
    {
        const QJsonValue v = o.value(key);
        if (v.isUndefined() || v.isNull())
            return;
        const QJsonArray a = v.toArray();
        if (!v.isArray() || a.size() != 3) {
            fail(field, QStringLiteral("expected 3 numbers"));
            return;
        }
        for (int i = 0; i < 3; ++i) {
            if (!a.at(i).isDouble() || !std::isfinite(a.at(i).toDouble())) {
                fail(field, QStringLiteral("expected 3 numbers"));
                return;
            }
            if (nonZero && a.at(i).toDouble() == 0.0) {
                fail(field, QStringLiteral("must not contain 0 (it divides)"));
                return;
            }
        }
        for (int i = 0; i < 3; ++i)
            out[i] = a.at(i).toDouble();
    }

private:
    QString m_origin;
    QString *m_error;
    bool m_ok = true;
};

bool isDnnFamily(const QString &family)
{
    return family != QLatin1String("cascade");
}

QJsonArray tripleJson(const double v[3])
{
    return QJsonArray{v[0], v[1], v[2]};
}

} // namespace

QStringList ModelManifest::knownFamilies()
{
    return {QStringLiteral("nanodet"),   QStringLiteral("picodet"),   QStringLiteral("yolox"),     QStringLiteral("darknet"),
            QStringLiteral("fastestdet"), QStringLiteral("yolov5"),   QStringLiteral("yolov8"),
            QStringLiteral("tf-ssd"),    QStringLiteral("caffe-ssd"), QStringLiteral("cascade")};
}

QStringList ModelManifest::cocoClassNames()
{
    static const QStringList names = [] {
        edgelensInitModelResources();
        QFile file(QStringLiteral(":/edgelens/models/coco.names"));
        QStringList list;
        if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
            qCCritical(lcManifest) << "embedded coco.names is missing; class ids will have no names";
            return list;
        }
        const QStringList lines = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'));
        for (const QString &line : lines) {
            const QString name = line.trimmed();
            if (!name.isEmpty())
                list.append(name);
        }
        if (list.size() != 80)
            qCWarning(lcManifest) << "embedded coco.names has" << list.size() << "names, expected 80";
        return list;
    }();
    return names;
}

bool ModelManifest::isComplete() const
{
    if (files.isEmpty())
        return false;
    for (const ModelFile &f : files) {
        if (f.path.isEmpty())
            return false;
    }
    return true;
}

QStringList ModelManifest::missingFiles() const
{
    QStringList missing;
    for (const ModelFile &f : files) {
        if (f.path.isEmpty())
            missing.append(f.name);
    }
    return missing;
}

QJsonObject ModelManifest::Accuracy::toJson() const
{
    QJsonObject a{{QStringLiteral("map"), map}, {QStringLiteral("dataset"), dataset}};
    if (ap50 >= 0)
        a.insert(QStringLiteral("ap50"), ap50);
    return a;
}

QString ModelManifest::Accuracy::text() const
{
    if (!isKnown())
        return {};
    return dataset.isEmpty() ? QStringLiteral("mAP %1").arg(map, 0, 'f', 3)
                             : QStringLiteral("mAP %1 (%2)").arg(map, 0, 'f', 3).arg(dataset);
}

QString ModelManifest::summary() const
{
    QString text = name + QStringLiteral(" (") + family;
    if (inputWidth > 0)
        text += QStringLiteral(", %1x%2").arg(inputWidth).arg(inputHeight);
    if (accuracy.isKnown())
        text += QStringLiteral(", ") + accuracy.text();
    text += QStringLiteral(")");
    if (fallback)
        text += QStringLiteral(" [fallback]");
    if (isComplete())
        text += QStringLiteral(" - ready");
    else
        text += QStringLiteral(" - missing ") + missingFiles().join(QStringLiteral(", "));
    return text;
}

QJsonObject ModelManifest::toJson() const
{
    QJsonArray fileArray;
    for (const ModelFile &f : files) {
        QJsonObject o{{QStringLiteral("name"), f.name}};
        if (!f.sha256.isEmpty())
            o.insert(QStringLiteral("sha256"), f.sha256);
        if (!f.url.isEmpty())
            o.insert(QStringLiteral("url"), f.url);
        if (!f.path.isEmpty())
            o.insert(QStringLiteral("path"), f.path);
        fileArray.append(o);
    }
    QJsonObject o{
        {QStringLiteral("name"), name},
        {QStringLiteral("family"), family},
        {QStringLiteral("description"), description},
        {QStringLiteral("license"), license},
        {QStringLiteral("files"), fileArray},
        {QStringLiteral("default_confidence"), double(defaultConfidence)},
        {QStringLiteral("nms_iou"), double(defaultNmsIou)},
        {QStringLiteral("fallback"), fallback},
    };
    if (accuracy.isKnown())
        o.insert(QStringLiteral("accuracy"), accuracy.toJson());
    if (inputWidth > 0 || inputHeight > 0)
        o.insert(QStringLiteral("input"),
                 QJsonObject{{QStringLiteral("width"), inputWidth}, {QStringLiteral("height"), inputHeight}});
    if (isDnnFamily(family)) {
        o.insert(QStringLiteral("preprocess"),
                 QJsonObject{
                     {QStringLiteral("resize"), preprocess.resize},
                     {QStringLiteral("interpolation"), preprocess.interpolation},
                     {QStringLiteral("pad_value"), preprocess.padValue},
                     {QStringLiteral("channel_order"),
                      preprocess.swapRB ? QStringLiteral("RGB") : QStringLiteral("BGR")},
                     {QStringLiteral("scale"), preprocess.scale},
                     {QStringLiteral("mean"), tripleJson(preprocess.mean)},
                     {QStringLiteral("std"), tripleJson(preprocess.std)},
                 });
    }
    if (classNames == cocoClassNames())
        o.insert(QStringLiteral("class_names"), QStringLiteral("coco"));
    else
        o.insert(QStringLiteral("class_names"), QJsonArray::fromStringList(classNames));
    if (!decoder.isEmpty())
        o.insert(QStringLiteral("decoder"), decoder);
    return o;
}

std::optional<ModelManifest> ModelManifest::fromJson(const QJsonObject &object, const QString &origin,
                                                     QString *error)
{
    FieldReader r(origin, error);
    ModelManifest m;

    static const QRegularExpression nameRe(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._-]*$"));
    m.name = r.string(object, QStringLiteral("name"), QStringLiteral("name"), true);
    if (r.ok() && !nameRe.match(m.name).hasMatch())
        r.fail(QStringLiteral("name"),
               QStringLiteral("\"%1\" is not a usable folder name (letters, digits, '.', '_', '-')").arg(m.name));

    m.family = r.string(object, QStringLiteral("family"), QStringLiteral("family"), true);
    if (r.ok() && !knownFamilies().contains(m.family))
        r.fail(QStringLiteral("family"), QStringLiteral("unknown family \"%1\" (expected one of %2)")
                                             .arg(m.family, knownFamilies().join(QStringLiteral(", "))));
    m.description = r.string(object, QStringLiteral("description"), QStringLiteral("description"), false);
    m.license = r.string(object, QStringLiteral("license"), QStringLiteral("license"), false);

    const QJsonValue filesValue = object.value(QStringLiteral("files"));
    if (r.ok() && (!filesValue.isArray() || filesValue.toArray().isEmpty()))
        r.fail(QStringLiteral("files"), QStringLiteral("expected a non-empty array of {name, sha256, url}"));
    const QJsonArray filesArray = filesValue.toArray();
    static const QRegularExpression shaRe(QStringLiteral("^[0-9a-f]{64}$"));
    for (int i = 0; r.ok() && i < filesArray.size(); ++i) {
        const QString field = QStringLiteral("files[%1]").arg(i);
        if (!filesArray.at(i).isObject()) {
            r.fail(field, QStringLiteral("expected an object {name, sha256, url}"));
            break;
        }
        const QJsonObject fo = filesArray.at(i).toObject();
        ModelFile f;
        f.name = r.string(fo, QStringLiteral("name"), field + QStringLiteral(".name"), true);
        if (r.ok() && (f.name.isEmpty() || f.name.contains(QLatin1Char('/')) || f.name.contains(QLatin1Char('\\'))
                       || f.name == QLatin1String("..")))
            r.fail(field + QStringLiteral(".name"), QStringLiteral("expected a plain file name"));
        f.sha256 = r.string(fo, QStringLiteral("sha256"), field + QStringLiteral(".sha256"), false).toLower();
        if (r.ok() && !f.sha256.isEmpty() && !shaRe.match(f.sha256).hasMatch())
            r.fail(field + QStringLiteral(".sha256"), QStringLiteral("expected 64 hex digits"));
        f.url = r.string(fo, QStringLiteral("url"), field + QStringLiteral(".url"), false);
        if (r.ok() && !f.url.isEmpty() && !f.url.startsWith(QLatin1String("https://"))
            && !f.url.startsWith(QLatin1String("http://")))
            r.fail(field + QStringLiteral(".url"), QStringLiteral("expected an http(s) address"));
        m.files.append(f);
    }

    const bool dnn = isDnnFamily(m.family);
    const QJsonValue inputValue = object.value(QStringLiteral("input"));
    if (r.ok() && dnn && !inputValue.isObject())
        r.fail(QStringLiteral("input"), QStringLiteral("expected an object {width, height}"));
    if (inputValue.isObject()) {
        const QJsonObject in = inputValue.toObject();
        m.inputWidth = int(r.number(in, QStringLiteral("width"), QStringLiteral("input.width"), dnn, 0, 1, 8192));
        m.inputHeight = int(r.number(in, QStringLiteral("height"), QStringLiteral("input.height"), dnn, 0, 1, 8192));
        if (r.ok() && (m.inputWidth != in.value(QStringLiteral("width")).toDouble()
                       || m.inputHeight != in.value(QStringLiteral("height")).toDouble()))
            r.fail(QStringLiteral("input"), QStringLiteral("width and height must be whole numbers"));
    }

    const QJsonValue preValue = object.value(QStringLiteral("preprocess"));
    if (r.ok() && !preValue.isUndefined() && !preValue.isObject())
        r.fail(QStringLiteral("preprocess"), QStringLiteral("expected an object"));
    if (r.ok() && preValue.isObject()) {
        const QJsonObject p = preValue.toObject();
        auto &pp = m.preprocess;
        pp.resize = r.string(p, QStringLiteral("resize"), QStringLiteral("preprocess.resize"), false, pp.resize);
        if (r.ok() && pp.resize != QLatin1String("letterbox") && pp.resize != QLatin1String("stretch"))
            r.fail(QStringLiteral("preprocess.resize"), QStringLiteral("expected \"letterbox\" or \"stretch\""));
        pp.interpolation = r.string(p, QStringLiteral("interpolation"), QStringLiteral("preprocess.interpolation"),
                                    false, pp.interpolation);
        if (r.ok()
            && !QStringList{QStringLiteral("area"), QStringLiteral("linear"), QStringLiteral("cubic"),
                            QStringLiteral("nearest")}
                    .contains(pp.interpolation))
            r.fail(QStringLiteral("preprocess.interpolation"),
                   QStringLiteral("expected \"area\", \"linear\", \"cubic\" or \"nearest\""));
        pp.padValue = r.number(p, QStringLiteral("pad_value"), QStringLiteral("preprocess.pad_value"), false,
                               pp.padValue, 0, 255);
        const QString order = r.string(p, QStringLiteral("channel_order"), QStringLiteral("preprocess.channel_order"),
                                       false, QStringLiteral("BGR"));
        if (r.ok() && order != QLatin1String("BGR") && order != QLatin1String("RGB"))
            r.fail(QStringLiteral("preprocess.channel_order"), QStringLiteral("expected \"BGR\" or \"RGB\""));
        pp.swapRB = order == QLatin1String("RGB");
        pp.scale = r.number(p, QStringLiteral("scale"), QStringLiteral("preprocess.scale"), false, pp.scale, 1e-9,
                            1e9);
        r.triple(p, QStringLiteral("mean"), QStringLiteral("preprocess.mean"), pp.mean, false);
        r.triple(p, QStringLiteral("std"), QStringLiteral("preprocess.std"), pp.std, true);
    }

    m.defaultConfidence = float(r.number(object, QStringLiteral("default_confidence"),
                                         QStringLiteral("default_confidence"), false, m.defaultConfidence, 0, 1));
    m.defaultNmsIou = float(r.number(object, QStringLiteral("nms_iou"), QStringLiteral("nms_iou"), false,
                                     m.defaultNmsIou, 0, 1));

    const QJsonValue namesValue = object.value(QStringLiteral("class_names"));
    if (r.ok()) {
        if (namesValue.isString() && namesValue.toString() == QLatin1String("coco")) {
            m.classNames = cocoClassNames();
        } else if (namesValue.isArray() && !namesValue.toArray().isEmpty()) {
            const QJsonArray a = namesValue.toArray();
            for (int i = 0; i < a.size(); ++i) {
                if (!a.at(i).isString()) {
                    r.fail(QStringLiteral("class_names[%1]").arg(i), QStringLiteral("expected a string"));
                    break;
                }
                m.classNames.append(a.at(i).toString());
            }
        } else {
            r.fail(QStringLiteral("class_names"),
                   QStringLiteral("expected \"coco\" or a non-empty array of names in class id order"));
        }
    }

    m.fallback = r.boolean(object, QStringLiteral("fallback"), QStringLiteral("fallback"), false);

    const QJsonValue accuracyValue = object.value(QStringLiteral("accuracy"));
    if (r.ok() && !accuracyValue.isUndefined() && !accuracyValue.isNull()) {
        const QJsonObject a = accuracyValue.toObject();
        if (!accuracyValue.isObject())
            r.fail(QStringLiteral("accuracy"), QStringLiteral("expected an object"));
        m.accuracy.map = r.number(a, QStringLiteral("map"), QStringLiteral("accuracy.map"), true, -1, 0, 1);
        m.accuracy.ap50 = r.number(a, QStringLiteral("ap50"), QStringLiteral("accuracy.ap50"), false, -1, 0, 1);
        m.accuracy.dataset = r.string(a, QStringLiteral("dataset"), QStringLiteral("accuracy.dataset"), true);
        if (!r.ok())
            m.accuracy = {};
    }

    const QJsonValue decoderValue = object.value(QStringLiteral("decoder"));
    if (r.ok() && !decoderValue.isUndefined() && !decoderValue.isObject())
        r.fail(QStringLiteral("decoder"), QStringLiteral("expected an object"));
    m.decoder = decoderValue.toObject();

    if (!r.ok())
        return std::nullopt;

    static const QStringList knownKeys{
        QStringLiteral("name"),    QStringLiteral("family"),     QStringLiteral("description"),
        QStringLiteral("license"), QStringLiteral("files"),      QStringLiteral("input"),
        QStringLiteral("preprocess"), QStringLiteral("default_confidence"), QStringLiteral("nms_iou"),
        QStringLiteral("class_names"), QStringLiteral("fallback"), QStringLiteral("decoder"),
        QStringLiteral("accuracy"), QStringLiteral("$comment")};
    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
        if (!knownKeys.contains(it.key()))
            qCWarning(lcManifest).noquote() << origin << ": ignoring unknown field" << it.key();
    }
    return m;
}

std::optional<ModelManifest> ModelManifest::load(const QString &manifestPath, QString *error)
{
    edgelensInitModelResources();
    const QString origin = QFileInfo(manifestPath).fileName();
    QFile file(manifestPath);
    // A manifest is a few KB; refuse anything that is clearly not one before reading it.
    constexpr qint64 kMaxManifestBytes = 1024 * 1024;
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("%1: cannot open: %2").arg(manifestPath, file.errorString());
        return std::nullopt;
    }
    if (file.size() > kMaxManifestBytes) {
        if (error)
            *error = QStringLiteral("%1: too large for a manifest (%2 bytes)").arg(origin).arg(file.size());
        return std::nullopt;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        if (error)
            *error = QStringLiteral("%1: not valid JSON at offset %2: %3")
                         .arg(origin)
                         .arg(parseError.offset)
                         .arg(parseError.errorString());
        return std::nullopt;
    }
    if (!doc.isObject()) {
        if (error)
            *error = QStringLiteral("%1: expected a JSON object at the top level").arg(origin);
        return std::nullopt;
    }
    auto manifest = fromJson(doc.object(), origin, error);
    if (manifest)
        manifest->manifestPath = manifestPath.startsWith(QLatin1Char(':'))
            ? manifestPath
            : QFileInfo(manifestPath).absoluteFilePath();
    return manifest;
}

} // namespace edgelens
