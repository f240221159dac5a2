#include "exportcontroller.h"

#include "models/modelcatalog.h"
#include "export/exporters.h"
#include "gallerymodel.h"

#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QLoggingCategory>
#include <QMessageBox>
#include <QProgressDialog>
#include <QPromise>
#include <QWidget>
#include <QtConcurrent/QtConcurrentRun>

#include <optional>

Q_LOGGING_CATEGORY(lcExportController, "edgelens.app.export")

namespace edgelens {

ExportController::ExportController(GalleryModel *model, QWidget *dialogParent)
    : QObject(dialogParent)
    , m_model(model)
    , m_dialogParent(dialogParent)
{
}

ExportController::~ExportController() = default;

std::optional<ExportController::ExportJob> ExportController::prepareExport(const QList<int> &rows, const QString &format,
                                                                          const QString &target, QString *message) const
{
    ExportJob job;
    job.format = format;
    job.target = target;
    for (int row : rows) {
        const GalleryItem &it = m_model->item(row);
        if (it.status != GalleryItem::Status::Done)
            continue;
        if (!it.hasDetectionData) {
            ++job.legacy;
            continue;
        }
        if (m_reviewedOnly && !it.annotation.reviewed) {
            ++job.notReviewed;
            continue;
        }
        // What a person corrected (or the model's boxes at the chosen threshold).
        job.items.append(ExportItem{it.path, it.result.imageWidth, it.result.imageHeight, it.annotation.accepted(), it.origin});
        // Class ids should be the model's own (COCO order), not first-seen order, so files
        // from several exports agree; the catalog knows the model by name.
        if (job.classNames.isEmpty() && !it.result.model.isEmpty()) {
            if (const std::optional<ModelManifest> manifest = ModelCatalog().find(it.result.model))
                job.classNames = manifest->classNames;
        }
    }
    if (job.items.isEmpty()) {
        *message = job.notReviewed > 0 ? tr("No image is reviewed yet; export reviewed images only is on.")
            : job.legacy > 0           ? tr("The processed images came from a legacy server, which sends no detection data to export.")
                                       : tr("There are no processed images to export yet.");
        return std::nullopt;
    }
    if (format != QLatin1String("coco") && format != QLatin1String("yolo") && format != QLatin1String("voc")
        && format != QLatin1String("mot")) {
        *message = tr("Export failed: %1").arg(tr("unknown format %1").arg(format));
        return std::nullopt;
    }
    return job;
}

ExportController::ExportOutcome ExportController::writeExport(const ExportJob &job, const ExportProgress &progress)
{
    QString error;
    bool ok = false;
    if (job.format == QLatin1String("coco"))
        ok = exportCoco(job.items, job.classNames, job.target, &error, progress);
    else if (job.format == QLatin1String("mot"))
        ok = writeMot(job, &error);
    else if (job.format == QLatin1String("yolo"))
        ok = exportYolo(job.items, job.classNames, job.target, &error, false, progress);
    else
        ok = exportVoc(job.items, job.target, &error, {}, progress);
    ExportOutcome outcome;
    if (!ok) {
        outcome.message = tr("Export failed: %1").arg(error);
        qCWarning(lcExportController) << job.format << "export to" << job.target << "failed:" << error;
        return outcome;
    }
    outcome.ok = true;
    outcome.message = tr("Exported %n image(s) to %1.", nullptr, int(job.items.size())).arg(QDir::toNativeSeparators(job.target));
    if (job.legacy > 0)
        outcome.message += QLatin1Char(' ') + tr("%n legacy result(s) without detection data were left out.", nullptr, job.legacy);
    if (job.notReviewed > 0)
        outcome.message += QLatin1Char(' ') + tr("%n image(s) not reviewed yet were left out.", nullptr, job.notReviewed);
    return outcome;
}

bool ExportController::writeMot(const ExportJob &job, QString *error)
{
    const int sequences = exportMot(job.items, job.classNames, job.target, error);
    if (sequences == 0)
        *error = tr("none of the images is a frame of a video");
    return sequences > 0;
}

bool ExportController::exportDetectionsTo(const QList<int> &rows, const QString &format, const QString &target,
                                          QString *message) const
{
    const std::optional<ExportJob> job = prepareExport(rows, format, target, message);
    if (!job)
        return false;
    const ExportOutcome outcome = writeExport(*job, {});
    *message = outcome.message;
    return outcome.ok;
}

bool ExportController::startExport(const QList<int> &rows, const QString &format, const QString &target, QString *message)
{
    if (m_exporting) {
        *message = tr("An export is still running.");
        return false;
    }
    const std::optional<ExportJob> job = prepareExport(rows, format, target, message);
    if (!job)
        return false;
    *message = tr("Exporting %n image(s)…", nullptr, int(job->items.size()));
    m_exporting = new QFutureWatcher<ExportOutcome>(this);
    connect(m_exporting, &QFutureWatcher<ExportOutcome>::progressValueChanged, this,
            [this](int done) { emit exportProgress(done, m_exporting ? m_exporting->progressMaximum() : done); });
    connect(m_exporting, &QFutureWatcher<ExportOutcome>::finished, this, [this, target = job->target] {
        QFutureWatcher<ExportOutcome> *watcher = std::exchange(m_exporting, nullptr);
        watcher->deleteLater();
        // Cancelled before it began, the task never ran and left no result.
        ExportOutcome outcome;
        if (watcher->future().resultCount() > 0)
            outcome = watcher->result();
        const bool cancelled = watcher->isCanceled() && !outcome.ok;
        if (cancelled)
            outcome.message = tr("Export to %1 cancelled; files written before stay.").arg(QDir::toNativeSeparators(target));
        emit exportFinished(outcome.ok, cancelled, outcome.message);
    });
    m_exporting->setFuture(QtConcurrent::run([job = *job](QPromise<ExportOutcome> &promise) {
        promise.setProgressRange(0, int(job.items.size()));
        const ExportOutcome outcome = writeExport(job, [&promise](int done, int) {
            promise.setProgressValue(done);
            return !promise.isCanceled();
        });
        promise.setProgressValue(int(job.items.size()));
        promise.addResult(outcome);
    }));
    return true;
}

void ExportController::cancelExport()
{
    if (m_exporting)
        m_exporting->cancel();
}

void ExportController::exportDetections(const QList<int> &rows, const QString &format, const QString &startFolder)
{
    const QString start = startFolder.isEmpty() ? QDir::homePath() : startFolder;
    QString target;
    if (format == QLatin1String("coco")) {
        target = QFileDialog::getSaveFileName(m_dialogParent, tr("Export COCO JSON"),
                                              QDir(start).filePath(QStringLiteral("detections.json")), tr("COCO JSON (*.json)"));
    } else {
        const QString title = format == QLatin1String("yolo") ? tr("Export YOLO Labels To")
            : format == QLatin1String("mot")                    ? tr("Export MOTChallenge Tracks To")
                                                                : tr("Export Pascal VOC To");
        target = QFileDialog::getExistingDirectory(m_dialogParent, title, start);
    }
    if (target.isEmpty())
        return;
    QString message;
    if (!startExport(rows, format, target, &message)) {
        QMessageBox::warning(m_dialogParent, tr("Export Detections"), message);
        return;
    }
    emit statusMessage(message, 0);
    // Shown only when the export takes a while; Cancel stops it between two files.
    auto *dialog = new QProgressDialog(message, tr("Cancel"), 0, 0, m_dialogParent);
    dialog->setWindowTitle(tr("Export Detections"));
    dialog->setWindowModality(Qt::WindowModal);
    dialog->setMinimumDuration(500);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_progressDialog = dialog;
    connect(dialog, &QProgressDialog::canceled, this, &ExportController::cancelExport);
    connect(this, &ExportController::exportProgress, dialog, [dialog](int done, int total) {
        dialog->setMaximum(total);
        dialog->setValue(done);
    });
    auto *once = new QObject(this);
    connect(this, &ExportController::exportFinished, once, [this, once](bool ok, bool cancelled, const QString &outcome) {
        once->deleteLater();
        if (m_progressDialog)
            m_progressDialog->close();
        if (!ok && !cancelled) {
            QMessageBox::warning(m_dialogParent, tr("Export Detections"), outcome);
            return;
        }
        emit statusMessage(outcome, 8000);
    });
}

QStringList ExportController::savedResults(const QList<int> &rows) const
{
    QStringList sources;
    for (int row : rows) {
        const GalleryItem &it = m_model->item(row);
        if (it.status == GalleryItem::Status::Done && !it.resultPath.isEmpty())
            sources.append(it.resultPath);
    }
    return sources;
}

bool ExportController::copyMarkedUpImagesTo(const QList<int> &rows, const QString &dir, QString *message)
{
    const QStringList sources = savedResults(rows);
    if (sources.isEmpty()) {
        *message = tr("There are no saved results to copy yet.");
        return false;
    }
    QString error;
    if (!exportutil::ensureDirectory(dir, &error)) {
        *message = error;
        return false;
    }
    *message = tr("Copying %n image(s)…", nullptr, int(sources.size()));
    ++m_copying;
    auto *watcher = new QFutureWatcher<QStringList>(this);
    connect(watcher, &QFutureWatcher<QStringList>::finished, this, [this, watcher, dir, n = int(sources.size())] {
        watcher->deleteLater();
        --m_copying;
        const QStringList errors = watcher->result();
        if (errors.isEmpty())
            emit statusMessage(tr("Copied %n marked-up image(s) to %1.", nullptr, n).arg(QDir::toNativeSeparators(dir)), 8000);
        emit copyFinished(n - int(errors.size()), errors);
    });
    watcher->setFuture(QtConcurrent::run([sources, dir] {
        QStringList errors;
        const QDir target(dir);
        for (const QString &src : sources) {
            const QFileInfo name(QFileInfo(src).fileName());
            // Never overwrite: a second "photo.jpg" from another output folder gets a number.
            QString dest = target.filePath(name.fileName());
            for (int i = 2; QFileInfo::exists(dest); ++i)
                dest = target.filePath(QStringLiteral("%1_%2.%3").arg(name.completeBaseName()).arg(i).arg(name.suffix()));
            if (!QFile::copy(src, dest))
                errors.append(QStringLiteral("%1 → %2").arg(QDir::toNativeSeparators(src), QDir::toNativeSeparators(dest)));
        }
        return errors;
    }));
    return true;
}

void ExportController::copyMarkedUpImages(const QList<int> &rows, const QString &startFolder)
{
    if (savedResults(rows).isEmpty()) {
        QMessageBox::information(m_dialogParent, tr("Copy Marked-up Images"), tr("There are no saved results to copy yet."));
        return;
    }
    const QString dir = QFileDialog::getExistingDirectory(m_dialogParent, tr("Copy Marked-up Images To"), startFolder);
    if (dir.isEmpty())
        return;
    QString message;
    if (!copyMarkedUpImagesTo(rows, dir, &message)) {
        QMessageBox::warning(m_dialogParent, tr("Copy Marked-up Images"), message);
        return;
    }
    emit statusMessage(message, 0);
    // The outcome replaces the "Copying…" message; failures deserve more than a status line.
    auto *once = new QObject(this);
    connect(this, &ExportController::copyFinished, once, [this, once](int, const QStringList &errors) {
        once->deleteLater();
        if (!errors.isEmpty()) {
            QMessageBox::warning(m_dialogParent, tr("Copy Marked-up Images"),
                                 tr("%n image(s) could not be copied:", nullptr, int(errors.size())) + QStringLiteral("\n")
                                     + errors.mid(0, 10).join(QLatin1Char('\n')));
        }
    });
}

} // namespace edgelens
