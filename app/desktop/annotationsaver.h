#pragma once

// Saves a person's corrections as they happen: whenever an image's annotation changes in
// the gallery, its JSON sidecar is rewritten (QSaveFile: a crash leaves the old or the new
// file, never half of one) and its marked-up JPEG is redrawn from the accepted boxes with
// the server's annotator. The work runs on a worker thread, one save per image at a time;
// changes arriving meanwhile are coalesced into the next save.
//
// The redraw is the processing path's own (ImageTransfer::renderMarkup): the original is
// decoded only at the size the result is drawn at (libjpeg DCT scaling, EXIF orientation
// applied), not at full size. The sidecar keeps the boxes in the original's pixels.
//
// A person's work (edited or reviewed) always gets its sidecar, even with JSON sidecars
// turned off: the sidecar is where corrections live, what Open Results reads back, and what
// tells a later run (ResultWriter::personalSidecar) to keep them instead of overwriting them.
// Without a person's work the sidecar is written only when JSON sidecars are on or one is
// there already (it must not go stale, e.g. after every edit was undone).

#include "results/annotation.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QFutureWatcher>
#include <QString>

namespace edgelens {

class GalleryModel;

class AnnotationSaver final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AnnotationSaver)

public:
    struct Job
    {
        QString originalPath;
        QString resultPath;  // the marked-up JPEG to redraw; never the original
        QString sidecarPath;
        DetectionResult model;
        Annotation annotation;
        bool jsonSidecars = true; // the user's setting; a person's work is saved regardless
        int resultMaxSide = 2048; // the result fits within this (0: original size)
        int jpegQuality = 90;
    };

    // How results are written (Settings): applies to saves scheduled from now on.
    struct Output
    {
        bool jsonSidecars = true;
        int resultMaxSide = 2048;
        int jpegQuality = 90;
    };
    void setOutput(const Output &output) { m_output = output; }

    explicit AnnotationSaver(GalleryModel *model, QObject *parent = nullptr);
    ~AnnotationSaver() override;

    // Pure function of the job: safe on any thread. Returns an error message, empty when fine.
    static QString save(const Job &job);
    static QString sidecarPathFor(const QString &resultPath); // "<folder>/<stem>.json"

    bool isIdle() const { return m_running.isEmpty() && m_pending.isEmpty(); }
    void waitForDone(); // before quitting: nothing half done

signals:
    void saved(const QString &originalPath, const QString &resultPath);
    void failed(const QString &message);
    void idle();

private:
    void schedule(int row);
    void start(const Job &job);
    static QString saveSidecar(const Job &job);
    static QString redrawResult(const Job &job);

    GalleryModel *m_model;
    Output m_output;
    QSet<QString> m_running;        // original paths being saved
    QHash<QString, Job> m_pending;  // newer state waiting for the running save
    QList<QFutureWatcher<QString> *> m_watchers;
};

} // namespace edgelens
