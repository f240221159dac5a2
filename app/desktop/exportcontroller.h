#pragma once

// File ▸ Export Detections and File ▸ Copy Marked-up Images: turns gallery rows into COCO
// JSON, YOLO txt (+ classes.txt) or Pascal VOC files, or copies the saved results to a
// folder. The *To() functions do the work without dialogs (tests, scripting); the others ask
// the user where to write first.

#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

class QWidget;

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

    // format: "coco" (target = file), "yolo" or "voc" (target = folder); rows of the model.
    // Only finished images with detection data are written. *message says what happened.
    bool exportDetectionsTo(const QList<int> &rows, const QString &format, const QString &target, QString *message) const;
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
    void copyFinished(int copied, const QStringList &errors);

private:
    QStringList savedResults(const QList<int> &rows) const;

    GalleryModel *m_model;
    QWidget *m_dialogParent;
    int m_copying = 0;
    bool m_reviewedOnly = false;
};

} // namespace edgelens
