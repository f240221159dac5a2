#include "annotationsaver.h"

#include "gallerymodel.h"
#include "imaging/imagefilereader.h"
#include "imaging/imagetransfer.h"
#include "imaging/scaleddecode.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSaveFile>
#include <QtConcurrent/QtConcurrentRun>

Q_LOGGING_CATEGORY(lcAnnotationSaver, "edgelens.app.annotationsaver")

namespace edgelens {

namespace {

bool writeAtomically(const QString &path, const QByteArray &bytes, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        *error = AnnotationSaver::tr("%1: cannot write: %2").arg(QDir::toNativeSeparators(path), file.errorString());
        file.cancelWriting();
        return false;
    }
    return true;
}

QString canonical(const QString &path)
{
    const QString c = QFileInfo(path).canonicalFilePath();
    return c.isEmpty() ? QDir::cleanPath(QFileInfo(path).absoluteFilePath()) : c;
}

} // namespace

AnnotationSaver::AnnotationSaver(GalleryModel *model, QObject *parent)
    : QObject(parent)
    , m_model(model)
{
    connect(m_model, &GalleryModel::annotationChanged, this, &AnnotationSaver::schedule);
}

AnnotationSaver::~AnnotationSaver()
{
    waitForDone();
}

void AnnotationSaver::waitForDone()
{
    // Saves still to start are written here, on this thread: quitting must not lose an edit.
    for (QFutureWatcher<QString> *watcher : std::as_const(m_watchers))
        watcher->waitForFinished();
    const QHash<QString, Job> pending = std::exchange(m_pending, {});
    for (const Job &job : pending) {
        const QString error = save(job);
        if (!error.isEmpty())
            qCWarning(lcAnnotationSaver) << error;
    }
}

QString AnnotationSaver::sidecarPathFor(const QString &resultPath)
{
    const QFileInfo info(resultPath);
    return info.dir().filePath(info.completeBaseName() + QStringLiteral(".json"));
}

void AnnotationSaver::schedule(int row)
{
    const GalleryItem &it = m_model->item(row);
    if (!it.hasDetectionData)
        return;
    Job job;
    job.originalPath = it.path;
    job.resultPath = it.resultPath;
    job.sidecarPath = it.sidecarPath.isEmpty() && !it.resultPath.isEmpty() ? sidecarPathFor(it.resultPath) : it.sidecarPath;
    job.model = it.result;
    job.annotation = it.annotation;
    job.jsonSidecars = m_output.jsonSidecars;
    job.resultMaxSide = m_output.resultMaxSide;
    job.jpegQuality = m_output.jpegQuality;
    if (job.sidecarPath.isEmpty()) {
        emit failed(tr("%1: corrections cannot be saved: the image has no output folder yet.").arg(it.fileName));
        return;
    }
    if (m_running.contains(job.originalPath)) {
        m_pending.insert(job.originalPath, job); // the newest state wins
        return;
    }
    start(job);
}

void AnnotationSaver::start(const Job &job)
{
    m_running.insert(job.originalPath);
    auto *watcher = new QFutureWatcher<QString>(this);
    m_watchers.append(watcher);
    connect(watcher, &QFutureWatcher<QString>::finished, this, [this, watcher, job] {
        m_watchers.removeOne(watcher);
        watcher->deleteLater();
        m_running.remove(job.originalPath);
        const QString error = watcher->result();
        if (error.isEmpty())
            emit saved(job.originalPath, job.resultPath);
        else
            emit failed(error);
        if (m_pending.contains(job.originalPath))
            start(m_pending.take(job.originalPath));
        else if (isIdle())
            emit idle();
    });
    watcher->setFuture(QtConcurrent::run(&AnnotationSaver::save, job));
}

QString AnnotationSaver::save(const Job &job)
{
    QString error = saveSidecar(job);
    if (!error.isEmpty())
        return error;
    error = redrawResult(job);
    if (error.isEmpty())
        qCDebug(lcAnnotationSaver) << "saved" << job.sidecarPath << "and" << job.resultPath;
    return error;
}

QString AnnotationSaver::saveSidecar(const Job &job)
{
    if (canonical(job.sidecarPath) == canonical(job.originalPath))
        return tr("%1: refusing to overwrite the original.").arg(job.sidecarPath);
    // Why a person's work is saved with JSON sidecars off: see the header.
    if (!job.jsonSidecars && !job.annotation.isPersonal() && !QFileInfo::exists(job.sidecarPath))
        return QString();
    // Keys this class does not manage (protocol, timings, device...) stay as they were.
    QJsonObject sidecar;
    QFile existing(job.sidecarPath);
    if (existing.open(QIODevice::ReadOnly) && existing.size() < 64 * 1024 * 1024)
        sidecar = QJsonDocument::fromJson(existing.readAll()).object();
    existing.close();
    if (sidecar.isEmpty()) {
        sidecar = toJson(job.model);
        sidecar.insert(QStringLiteral("has_detection_data"), true);
        if (!job.resultPath.isEmpty())
            sidecar.insert(QStringLiteral("result_image"), QFileInfo(job.resultPath).fileName());
    }
    sidecar.insert(QStringLiteral("image"), job.originalPath);
    // The answer the corrections apply to (adopting a newer output changes it).
    const QJsonObject modelJson = toJson(job.model);
    for (const QString &key : {QStringLiteral("width"), QStringLiteral("height"), QStringLiteral("timings")}) {
        if (modelJson.contains(key))
            sidecar.insert(key, modelJson.value(key));
    }
    sidecar::writeAnnotation(sidecar, job.model, job.annotation);

    if (!QDir().mkpath(QFileInfo(job.sidecarPath).absolutePath()))
        return tr("%1: cannot create the folder.").arg(QFileInfo(job.sidecarPath).absolutePath());
    QString error;
    writeAtomically(job.sidecarPath, QJsonDocument(sidecar).toJson(QJsonDocument::Indented), &error);
    return error;
}

QString AnnotationSaver::redrawResult(const Job &job)
{
    if (job.resultPath.isEmpty() || canonical(job.resultPath) == canonical(job.originalPath))
        return QString();
    const ImageFileReader::Result file = ImageFileReader::read(job.originalPath);
    if (!file.ok())
        return tr("%1: cannot redraw the marked-up image: %2").arg(job.resultPath, file.error);
    // The boxes are in the pixels of the image the model answered for; renderMarkup takes them
    // in the original's (EXIF-oriented) pixels, which that image normally is.
    const QSize original = ScaledDecode::orientedSize(file.bytes);
    const double sx = job.model.imageWidth > 0 && !original.isEmpty() ? double(original.width()) / job.model.imageWidth : 1.0;
    const double sy = job.model.imageHeight > 0 && !original.isEmpty() ? double(original.height()) / job.model.imageHeight : 1.0;
    QList<Detection> boxes = job.annotation.accepted();
    for (Detection &d : boxes) {
        d.box = QRectF(d.box.x() * sx, d.box.y() * sy, d.box.width() * sx, d.box.height() * sy);
        d.classId = Annotation::colorId(d); // a person's new labels get a colour of their own
    }
    if (!QDir().mkpath(QFileInfo(job.resultPath).absolutePath()))
        return tr("%1: cannot create the folder.").arg(QFileInfo(job.resultPath).absolutePath());
    QString error;
    const QByteArray jpeg =
        ImageTransfer::renderMarkup(file.bytes, boxes, job.resultMaxSide, job.jpegQuality, QString(), &error);
    if (jpeg.isEmpty())
        return tr("%1: cannot redraw the marked-up image: %2").arg(job.resultPath, error);
    writeAtomically(job.resultPath, jpeg, &error);
    return error;
}

} // namespace edgelens
