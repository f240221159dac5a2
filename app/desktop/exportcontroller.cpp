#include "exportcontroller.h"

#include "models/modelcatalog.h"
#include "export/exporters.h"
#include "gallerymodel.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QLoggingCategory>
#include <QMessageBox>
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

bool ExportController::exportDetectionsTo(const QList<int> &rows, const QString &format, const QString &target,
                                          QString *message) const
{
    QList<ExportItem> items;
    int legacy = 0;
    int notReviewed = 0;
    QStringList classNames;
    for (int row : rows) {
        const GalleryItem &it = m_model->item(row);
        if (it.status != GalleryItem::Status::Done)
            continue;
        if (!it.hasDetectionData) {
            ++legacy;
            continue;
        }
        if (m_reviewedOnly && !it.annotation.reviewed) {
            ++notReviewed;
            continue;
        }
        // What a person corrected (or the model's boxes at the chosen threshold).
        items.append(ExportItem{it.path, it.result.imageWidth, it.result.imageHeight, it.annotation.accepted()});
        // Class ids should be the model's own (COCO order), not first-seen order, so files
        // from several exports agree; the catalog knows the model by name.
        if (classNames.isEmpty() && !it.result.model.isEmpty()) {
            if (const std::optional<ModelManifest> manifest = ModelCatalog().find(it.result.model))
                classNames = manifest->classNames;
        }
    }
    if (items.isEmpty()) {
        *message = notReviewed > 0 ? tr("No image is reviewed yet; export reviewed images only is on.")
            : legacy > 0           ? tr("The processed images came from a legacy server, which sends no detection data to export.")
                                   : tr("There are no processed images to export yet.");
        return false;
    }
    QString error;
    bool ok = false;
    if (format == QLatin1String("coco"))
        ok = exportCoco(items, classNames, target, &error);
    else if (format == QLatin1String("yolo"))
        ok = exportYolo(items, classNames, target, &error);
    else if (format == QLatin1String("voc"))
        ok = exportVoc(items, target, &error);
    else
        error = tr("unknown format %1").arg(format);
    if (!ok) {
        *message = tr("Export failed: %1").arg(error);
        qCWarning(lcExportController) << format << "export to" << target << "failed:" << error;
        return false;
    }
    *message = tr("Exported %n image(s) to %1.", nullptr, int(items.size())).arg(QDir::toNativeSeparators(target));
    if (legacy > 0)
        *message += QLatin1Char(' ') + tr("%n legacy result(s) without detection data were left out.", nullptr, legacy);
    if (notReviewed > 0)
        *message += QLatin1Char(' ') + tr("%n image(s) not reviewed yet were left out.", nullptr, notReviewed);
    return true;
}

void ExportController::exportDetections(const QList<int> &rows, const QString &format, const QString &startFolder)
{
    const QString start = startFolder.isEmpty() ? QDir::homePath() : startFolder;
    QString target;
    if (format == QLatin1String("coco")) {
        target = QFileDialog::getSaveFileName(m_dialogParent, tr("Export COCO JSON"),
                                              QDir(start).filePath(QStringLiteral("detections.json")), tr("COCO JSON (*.json)"));
    } else {
        target = QFileDialog::getExistingDirectory(m_dialogParent,
                                                   format == QLatin1String("yolo") ? tr("Export YOLO Labels To") : tr("Export Pascal VOC To"),
                                                   start);
    }
    if (target.isEmpty())
        return;
    QApplication::setOverrideCursor(Qt::WaitCursor);
    QString message;
    const bool ok = exportDetectionsTo(rows, format, target, &message);
    QApplication::restoreOverrideCursor();
    if (!ok) {
        QMessageBox::warning(m_dialogParent, tr("Export Detections"), message);
        return;
    }
    emit statusMessage(message, 8000);
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
