#include "resultwriter.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSaveFile>

#include <algorithm>
#include <cmath>

Q_LOGGING_CATEGORY(lcWriter, "edgelens.client.writer", QtInfoMsg)

namespace edgelens {

namespace {

QString defaultStem(const QString &relativePath)
{
    const QFileInfo info(relativePath);
    const QString folder = QFileInfo(relativePath).path();
    const QString stem = info.completeBaseName().isEmpty() ? info.fileName() : info.completeBaseName();
    return folder == QLatin1String(".") ? stem : folder + QLatin1Char('/') + stem;
}

QString canonicalOrClean(const QString &path)
{
    const QString canonical = QFileInfo(path).canonicalFilePath();
    return canonical.isEmpty() ? QDir::cleanPath(QFileInfo(path).absoluteFilePath()) : canonical;
}

} // namespace

ResultWriter::ResultWriter(const QString &outputDir)
{
    setOutputDir(outputDir);
}

void ResultWriter::setOutputDir(const QString &outputDir)
{
    m_outputDir = outputDir.isEmpty() ? QString() : QDir::cleanPath(QFileInfo(outputDir).absoluteFilePath());
    updateOutputHoldsInputs();
}

void ResultWriter::updateOutputHoldsInputs()
{
    const QString folder = canonicalOrClean(m_outputDir);
    m_outputHoldsInputs = !m_outputDir.isEmpty()
        && std::any_of(m_inputs.cbegin(), m_inputs.cend(), [&](const QString &input) { return ImageScanner::isInside(input, folder); });
}

QString ResultWriter::outputDir() const
{
    return m_outputDir;
}

void ResultWriter::setWriteJson(bool enabled)
{
    m_writeJson = enabled;
}

bool ResultWriter::writeJson() const
{
    return m_writeJson;
}

void ResultWriter::setThresholdPolicy(const ThresholdPolicy &policy)
{
    m_policy = policy;
}

QJsonObject ResultWriter::personalSidecar(const QString &path, const QString &imagePath)
{
    QFile file(path);
    // A sidecar is a few KB; anything huge is not one of ours.
    if (!file.open(QIODevice::ReadOnly) || file.size() > 64 * 1024 * 1024)
        return {};
    const QJsonObject object = QJsonDocument::fromJson(file.readAll()).object();
    const bool personal = object.value(QStringLiteral("edited")).toBool() || object.value(QStringLiteral("reviewed")).toBool();
    if (!personal || canonicalOrClean(object.value(QStringLiteral("image")).toString()) != canonicalOrClean(imagePath))
        return {};
    return object;
}

void ResultWriter::planOutputs(const QList<ScannedImage> &images)
{
    m_stemOverrides.clear();
    m_inputs.clear();
    QSet<QString> taken; // case-folded, so the plan also holds on case-insensitive file systems
    for (const ScannedImage &image : images) {
        m_inputs.insert(canonicalOrClean(image.absolutePath));
        const QString base = defaultStem(image.relativePath);
        QString stem = base;
        if (taken.contains(stem.toCaseFolded())) {
            // Keep the original suffix in the name so the user sees which input it came from.
            const QString withSuffix = QFileInfo(image.relativePath).path() == QLatin1String(".")
                ? QFileInfo(image.relativePath).fileName()
                : QFileInfo(image.relativePath).path() + QLatin1Char('/') + QFileInfo(image.relativePath).fileName();
            stem = withSuffix;
            for (int n = 2; taken.contains(stem.toCaseFolded()); ++n)
                stem = withSuffix + QLatin1Char('-') + QString::number(n);
            m_stemOverrides.insert(image.absolutePath, stem);
        }
        taken.insert(stem.toCaseFolded());
    }
    updateOutputHoldsInputs();
}

QString ResultWriter::outputStem(const ScannedImage &image) const
{
    return m_stemOverrides.value(image.absolutePath, defaultStem(image.relativePath));
}

QString ResultWriter::imageOutputPath(const ScannedImage &image) const
{
    return QDir::cleanPath(m_outputDir + QLatin1Char('/') + outputStem(image) + QStringLiteral(".jpg"));
}

QString ResultWriter::jsonOutputPath(const ScannedImage &image) const
{
    return QDir::cleanPath(m_outputDir + QLatin1Char('/') + outputStem(image) + QStringLiteral(".json"));
}

QJsonObject ResultWriter::sidecarJson(const ScannedImage &image, const ClientResult &result,
                                      const QString &resultImageName, double threshold)
{
    QJsonObject object = toJson(result.result);
    object.insert(QStringLiteral("image"), image.absolutePath);
    object.insert(QStringLiteral("relative_path"), image.relativePath);
    // A frame of a video says which video, which frame and when; a photo adds nothing.
    image.origin.writeTo(object);
    if (!resultImageName.isEmpty())
        object.insert(QStringLiteral("result_image"), resultImageName);
    object.insert(QStringLiteral("has_detection_data"), result.hasDetectionData);
    object.insert(QStringLiteral("protocol"), !result.protocol.isEmpty() ? result.protocol
                                              : result.legacy         ? QStringLiteral("legacy")
                                                                      : QStringLiteral("v2"));
    object.insert(QStringLiteral("round_trip_ms"), std::round(result.roundTripMs * 1000.0) / 1000.0);
    if (!result.device.isEmpty())
        object.insert(QStringLiteral("device"), result.device);
    if (!result.hasDetectionData) {
        // A legacy server sends only pixels: an empty list would claim "nothing found".
        object.remove(QStringLiteral("detections"));
        object.remove(QStringLiteral("timings"));
        object.remove(QStringLiteral("model"));
    } else {
        sidecar::writeAnnotation(object, result.result, Annotation::fromModel(result.result, threshold));
    }
    return object;
}

bool ResultWriter::write(const ScannedImage &image, const ClientResult &result, QString *error, bool *kept) const
{
    if (kept)
        *kept = false;
    if (m_outputDir.isEmpty()) {
        if (error)
            *error = QStringLiteral("No output folder set.");
        return false;
    }
    const QString imagePath = imageOutputPath(image);
    const QString jsonPath = jsonOutputPath(image);
    const bool writeImage = !result.jpeg.isEmpty();
    if (!writeImage && !m_writeJson) {
        if (error)
            *error = QStringLiteral("%1: the server returned no image and JSON output is off.").arg(image.absolutePath);
        return false;
    }
    markOutputFolderFor(image);
    QJsonObject personal = personalSidecar(jsonPath, image.absolutePath);
    if (!personal.isEmpty()) {
        // Someone corrected or reviewed this image: keep that, and the JPEG drawn from it.
        if (result.hasDetectionData)
            personal.insert(QStringLiteral("newer_model_output"), toJson(result.result));
        qCInfo(lcWriter) << "kept the corrections in" << jsonPath;
        if (kept)
            *kept = true;
        return writeFile(jsonPath, QJsonDocument(personal).toJson(QJsonDocument::Indented), image.absolutePath, error);
    }
    if (writeImage && !writeFile(imagePath, result.jpeg, image.absolutePath, error))
        return false;
    if (m_writeJson) {
        const QJsonObject sidecar = sidecarJson(image, result, writeImage ? QFileInfo(imagePath).fileName() : QString(),
                                                m_policy.thresholdFor(result.result.model));
        if (!writeFile(jsonPath, QJsonDocument(sidecar).toJson(QJsonDocument::Indented), image.absolutePath,
                       error))
            return false;
    }
    return true;
}

bool ResultWriter::markOutputFolder(const QString &folder, QString *error)
{
    const QString path = QDir(folder).filePath(ImageScanner::outputMarkerName());
    if (QFileInfo::exists(path))
        return true;
    // Only a folder that is ours: new, empty, or the default name. An existing folder of the
    // user's (results sent to ~/Pictures) must not vanish from later scans.
    const QFileInfo info(folder);
    if (info.exists() && info.fileName() != QLatin1String("inferenced")
        && !QDir(folder).isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System))
        return true;
    QJsonObject marker;
    marker.insert(QStringLiteral("tool"), QStringLiteral("EdgeLens"));
    marker.insert(QStringLiteral("version"), QStringLiteral(EDGELENS_VERSION));
    marker.insert(QStringLiteral("created"), QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    marker.insert(QStringLiteral("about"), QStringLiteral("EdgeLens results; folder scans skip this folder"));
    if (!QDir().mkpath(folder)) {
        if (error)
            *error = QStringLiteral("%1: cannot create the folder.").arg(folder);
        return false;
    }
    QSaveFile file(path);
    const QByteArray bytes = QJsonDocument(marker).toJson(QJsonDocument::Indented);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        if (error)
            *error = QStringLiteral("%1: cannot write: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

void ResultWriter::markOutputFolderFor(const ScannedImage &image) const
{
    if (m_outputHoldsInputs
        || ImageScanner::isInside(canonicalOrClean(QFileInfo(image.absolutePath).absolutePath()), canonicalOrClean(m_outputDir)))
        return;
    QString error;
    // The result itself is saved; without the marker a later scan only sees it as a photo.
    if (!markOutputFolder(m_outputDir, &error))
        qCWarning(lcWriter).noquote() << error;
}

bool ResultWriter::writeFile(const QString &path, const QByteArray &bytes, const QString &inputPath,
                             QString *error) const
{
    const QString canonical = canonicalOrClean(path);
    if (m_inputs.contains(canonical) || canonical == canonicalOrClean(inputPath)) {
        if (error)
            *error = QStringLiteral("%1: refusing to overwrite an input image; choose another output folder.").arg(path);
        return false;
    }
    const QString folder = QFileInfo(path).absolutePath();
    if (!QDir().mkpath(folder)) {
        if (error)
            *error = QStringLiteral("%1: cannot create the folder.").arg(folder);
        return false;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error)
            *error = QStringLiteral("%1: cannot write: %2").arg(path, file.errorString());
        return false;
    }
    if (file.write(bytes) != bytes.size() || !file.commit()) {
        if (error)
            *error = QStringLiteral("%1: cannot write: %2").arg(path, file.errorString());
        file.cancelWriting();
        return false;
    }
    qCDebug(lcWriter) << "wrote" << path << bytes.size() << "bytes";
    return true;
}

} // namespace edgelens
