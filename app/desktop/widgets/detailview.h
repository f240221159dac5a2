#pragma once

#include "results/annotation.h"
#include "protocol/detection.h"

#include <QFutureWatcher>
#include <QHash>
#include <QImage>
#include <QList>
#include <QPointer>
#include <QString>
#include <QWidget>

class QAction;
class QCheckBox;
class QGraphicsRectItem;
class QLabel;
class QSlider;
class QToolButton;
class QLayout;
class QUndoGroup;
class QUndoStack;

namespace edgelens {

class BoxItem;
class DetectionList;
class ImageView;
class LabelPicker;

// One image in detail: the original and the server's result side by side at full
// resolution, zoomed and panned together. Boxes are drawn over the original from the
// annotation (the model's detections as corrected by the user) and edited there: select,
// move, resize by the handles, delete, draw new ones, relabel with a searchable picker, all
// undoable (one undo stack per image). The confidence slider shows and saves the boxes at
// or above it, revealing lower ones the server sent without asking it again. Every change
// is announced with annotationEdited() so the owner can save it at once. Legacy servers
// send only an image; the view then says so instead of showing an empty list.
class DetailView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DetailView)

public:
    explicit DetailView(QWidget *parent = nullptr);
    ~DetailView() override;

    // Loads both images off the GUI thread (EXIF orientation applied); itemLoaded() follows.
    // resultPath may be empty while the image has not been processed yet. Without an
    // annotation, every detection is shown (threshold 0) and nothing is edited yet.
    void showItem(const QString &originalPath, const QString &resultPath, const DetectionResult &result,
                  bool hasDetectionData);
    void showItem(const QString &originalPath, const QString &resultPath, const DetectionResult &result,
                  bool hasDetectionData, const Annotation &annotation);
    // Text shown instead of the detection list when there is no detection data.
    void setNoDataText(const QString &text);
    // For a frame of a video: where it is ("clip.mp4, frame 30 (2 of 60 sampled)") and whether a
    // frame comes before and after it; an empty caption hides the frame controls (a photo).
    void setFramePosition(const QString &caption, bool hasPrevious, bool hasNext);
    QString framePosition() const; // the caption shown, empty for a photo
    // Labels the picker offers: the model's classes (their index is the class id) and the
    // labels used so far.
    void setLabelChoices(const QStringList &classNames, const QStringList &otherLabels = {});

    bool isLoading() const;
    bool hasDetectionData() const;
    QString originalPath() const;
    const Annotation &annotation() const { return m_annotation; }
    const DetectionResult &modelResult() const { return m_result; }

    double confidenceThreshold() const;
    int visibleBoxCount() const;        // boxes passing the threshold (drawn when boxes are on)
    bool boxesVisible() const;
    bool labelsVisible() const;
    int selectedDetection() const;      // index into annotation().boxes, -1 when none
    QString loadError() const;          // why an image could not be shown; empty when fine
    bool isDrawing() const { return m_drawMode; }
    // The box as the user sees it, in the original image's pixels (after display scaling).
    QRectF boxInImage(int index) const;

    ImageView *originalView() const;
    ImageView *resultView() const;
    QUndoStack *undoStack() const; // the shown image's, or null
    QUndoGroup *undoGroup() const { return m_undoGroup; }
    LabelPicker *labelPicker() const; // the open picker, or null

    // Applies an annotation state to an image (by undo commands); announces it.
    void applyState(const QString &path, const DetectionResult &model, const Annotation &annotation);

    // Keyboard help: what each single key does here, for the Help menu.
    static QList<QPair<QString, QString>> shortcutHelp();

public Q_SLOTS:
    void setConfidenceThreshold(double threshold); // 0..1
    void setBoxesVisible(bool visible);
    void setLabelsVisible(bool visible);
    void selectDetection(int index);
    void selectNextBox(int delta); // cycles through the visible boxes
    void deleteSelected();
    void startDrawing();           // the next drag on the original draws a new box
    void relabelSelected();        // opens the label picker
    void zoomToSelected();
    // Replaces the boxes with these (copy from the previous image), undoably.
    void replaceBoxes(const QList<Detection> &boxes, const QString &what);
    void adoptNewerOutput();       // the model's newer answer replaces the corrections, undoably
    void setReviewed(bool reviewed);
    void reloadResultImage(); // the marked-up image was redrawn on disk
    void zoomIn();
    void zoomOut();
    void fitToWindow();
    void showActualSize();

Q_SIGNALS:
    void itemLoaded();
    void frameStepRequested(int delta); // the previous (-1) or next (+1) frame's button
    // The annotation of path changed (an edit, undo/redo, review): save it.
    void annotationEdited(const QString &path, const edgelens::DetectionResult &model,
                          const edgelens::Annotation &annotation);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    struct LoadedImages
    {
        QImage original;
        QImage result;
        QString originalError;
        QString resultError;
    };
    static LoadedImages loadImages(const QString &originalPath, const QString &resultPath);
    static QImage loadImage(const QString &path, QString *error);

    static constexpr int kSliderSteps = 100; // the confidence slider's resolution

    QLayout *createToolbar(); // zoom, boxes and labels, the confidence slider, the review state
    QWidget *createFrameBar(); // for a frame of a video
    void createNotices();     // no detection data, a newer output, a load error
    QWidget *createPanes();   // original and result side by side, the list of boxes below
    void connectParts();
    void createActions();
    void applyLoadedImages();
    void rebuildOverlay();
    void updateOverlay(); // same boxes, new geometry/labels
    void rebuildList();
    void applyFilter();
    void updateHighlight();
    void syncZoomFrom(ImageView *source);
    void syncScrollFrom(ImageView *source);
    void handleListSelection();
    void handleSceneSelection();
    void handleSliderMoved(int value);
    void updateNotices();
    QRectF toView(const QRectF &imageBox) const;
    QRectF toImage(const QRectF &viewBox) const;
    void commit(const Annotation &after, const QString &text, int mergeKey = 0,
                const DetectionResult *model = nullptr);
    void handleBoxEdited(int index, const QRectF &before, const QRectF &after);
    void askLabel(int index, const QRectF &newBox);
    QString boxCaption(const Detection &detection) const;

    QString m_originalPath;
    QString m_resultPath;
    DetectionResult m_result;
    Annotation m_annotation;
    bool m_hasDetectionData = false;
    quint64 m_generation = 0;
    QString m_loadError;
    QString m_noDataText;
    double m_boxScaleX = 1.0;
    double m_boxScaleY = 1.0;
    QStringList m_labelChoices;
    int m_classCount = 0;
    QString m_lastLabel;

    QFutureWatcher<LoadedImages> m_watcher;
    QFutureWatcher<QImage> m_resultWatcher;
    QList<BoxItem *> m_boxItems; // same order as m_annotation.boxes
    bool m_syncing = false;
    bool m_updatingSelection = false;
    bool m_settingSlider = false;

    bool m_drawMode = false;
    QPointF m_drawStart;
    QGraphicsRectItem *m_rubberBand = nullptr;
    QPointer<LabelPicker> m_picker;

    QUndoGroup *m_undoGroup = nullptr;
    QHash<QString, QUndoStack *> m_stacks; // per image path

    ImageView *m_originalView = nullptr;
    ImageView *m_resultView = nullptr;
    QCheckBox *m_boxesToggle = nullptr;
    QCheckBox *m_labelsToggle = nullptr;
    QSlider *m_confidenceSlider = nullptr;
    QLabel *m_confidenceValue = nullptr;
    QLabel *m_countLabel = nullptr;
    QLabel *m_noDataLabel = nullptr;
    QLabel *m_errorLabel = nullptr;
    QLabel *m_reviewLabel = nullptr;
    QLabel *m_newerLabel = nullptr;
    QLabel *m_resultCaption = nullptr;
    QWidget *m_frameBar = nullptr; // previous frame, where this frame is, next frame
    QLabel *m_frameCaption = nullptr;
    QToolButton *m_previousFrame = nullptr;
    QToolButton *m_nextFrame = nullptr;
    DetectionList *m_list = nullptr;
};

} // namespace edgelens
