#pragma once

// File ▸ Export Detections and File ▸ Copy Marked-up Images: turns gallery rows into COCO
// JSON, YOLO txt (+ classes.txt), Pascal VOC or MOTChallenge (a video's tracks) files, or copies the saved results to a
// folder. The files are written on a worker thread (QtConcurrent), never the GUI thread: a
// YOLO or VOC export of thousands of images writes thousands of files, and the window keeps
// answering meanwhile, with progress and Cancel. The *To() functions do the work without
// dialogs (tests, scripting); the others ask the user where to write first.

#include "export/exportitem.h"

#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>

#include <optional>

class QProgressDialog;
class QWidget;
template<typename T>
class QFutureWatcher;

namespace edgelens {

class GalleryModel;

class ExportController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ExportController)

public:
    // dialogParent: the window the file dialogs and message boxes belong to.
    ExportController(GalleryModel *model, QWidget *dialogParent);
    ~ExportController() override;

    // format: "coco" (target = file), "yolo", "voc" or "mot" (target = folder; MOTChallenge
    // gt.txt per video, frames of videos only); rows of the model.
    // Only finished images with detection data are written. *message says what happened.
    // Writes in the calling thread and returns when done (scripting, tests).
    bool exportDetectionsTo(const QList<int> &rows, const QString &format, const QString &target, QString *message) const;
    // The same in the background: false with *message when there is nothing to export or an
    // export is running; otherwise exportProgress as files are written, then exportFinished.
    bool startExport(const QList<int> &rows, const QString &format, const QString &target, QString *message);
    void cancelExport(); // exportFinished(false, ...) follows; files already written stay
    bool isExporting() const { return m_exporting != nullptr; }
    // Asks where, then exports in the background with a progress dialog that can cancel.
    void exportDetections(const QList<int> &rows, const QString &format, const QString &startFolder);

    // Copies the saved results of rows into dir in the background, never overwriting a file
    // there ("a_2.jpg" instead); copyFinished reports the outcome.
    bool copyMarkedUpImagesTo(const QList<int> &rows, const QString &dir, QString *message);
    void copyMarkedUpImages(const QList<int> &rows, const QString &startFolder);
    bool isCopying() const { return m_copying > 0; }

    // Exports use the corrected boxes; with this on, only images a person reviewed.
    void setReviewedOnly(bool reviewedOnly) { m_reviewedOnly = reviewedOnly; }
    bool reviewedOnly() const { return m_reviewedOnly; }

signals:
    void statusMessage(const QString &message, int timeoutMs);
    void exportProgress(int done, int total);
    void exportFinished(bool ok, bool cancelled, const QString &message);
    void copyFinished(int copied, const QStringList &errors);

private:
    // What an export writes, gathered from the model on the GUI thread.
    struct ExportJob
    {
        QString format;
        QString target;
        QList<ExportItem> items;
        QStringList classNames;
        int legacy = 0;      // left out: a legacy server sent no detection data
        int notReviewed = 0; // left out: reviewed-only is on
    };
    struct ExportOutcome
    {
        bool ok = false;
        QString message;
    };
    std::optional<ExportJob> prepareExport(const QList<int> &rows, const QString &format, const QString &target,
                                           QString *message) const;
    // Writes the files; any thread.
    static ExportOutcome writeExport(const ExportJob &job, const ExportProgress &progress);
    static bool writeMot(const ExportJob &job, QString *error);
    QStringList savedResults(const QList<int> &rows) const;

    GalleryModel *m_model;
    QWidget *m_dialogParent;
    int m_copying = 0;
    bool m_reviewedOnly = false;
    QFutureWatcher<ExportOutcome> *m_exporting = nullptr;
    QPointer<QProgressDialog> m_progressDialog;
};

} // namespace edgelens
