#pragma once

#include "protocol/detection.h"

#include <QFutureWatcher>
#include <QImage>
#include <QList>
#include <QString>
#include <QWidget>

class QCheckBox;
class QGraphicsRectItem;
class QLabel;
class QSlider;
class QTreeWidget;

namespace edgelens {

class ImageView;

// One image in detail: the original and the server's result side by side at full
// resolution, zoomed and panned together. Boxes are drawn by this view over the original
// from the detection data, so they can be toggled, highlighted from the list and filtered
// by a local confidence slider without asking the server again. Legacy servers send only
// an image; the view then says so instead of showing an empty list.
class DetailView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DetailView)

public:
    explicit DetailView(QWidget *parent = nullptr);
    ~DetailView() override;

    // Loads both images off the GUI thread (EXIF orientation applied); itemLoaded() follows.
    // resultPath may be empty while the image has not been processed yet.
    void showItem(const QString &originalPath, const QString &resultPath, const DetectionResult &result,
                  bool hasDetectionData);

    bool isLoading() const;
    bool hasDetectionData() const;
    QString originalPath() const;

    double confidenceThreshold() const;
    int visibleBoxCount() const;        // boxes passing the threshold (drawn when boxes are on)
    bool boxesVisible() const;
    bool labelsVisible() const;
    int selectedDetection() const;      // index into the result's detections, -1 when none
    QString loadError() const;          // why an image could not be shown; empty when fine

    ImageView *originalView() const;
    ImageView *resultView() const;

public Q_SLOTS:
    void setConfidenceThreshold(double threshold); // 0..1
    void setBoxesVisible(bool visible);
    void setLabelsVisible(bool visible);
    void selectDetection(int index);
    void zoomIn();
    void zoomOut();
    void fitToWindow();
    void showActualSize();

Q_SIGNALS:
    void itemLoaded();

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

    void applyLoadedImages();
    void rebuildOverlay();
    void rebuildList();
    void applyFilter();
    void updateHighlight();
    void syncZoomFrom(ImageView *source);
    void syncScrollFrom(ImageView *source);
    void handleListSelection();
    void handleSliderMoved(int value);

    QString m_originalPath;
    QString m_resultPath;
    DetectionResult m_result;
    bool m_hasDetectionData = false;
    quint64 m_generation = 0;
    QString m_loadError;
    double m_boxScaleX = 1.0;
    double m_boxScaleY = 1.0;

    QFutureWatcher<LoadedImages> m_watcher;
    QList<QGraphicsRectItem *> m_boxItems; // same order as m_result.detections
    bool m_syncing = false;

    ImageView *m_originalView = nullptr;
    ImageView *m_resultView = nullptr;
    QCheckBox *m_boxesToggle = nullptr;
    QCheckBox *m_labelsToggle = nullptr;
    QSlider *m_confidenceSlider = nullptr;
    QLabel *m_confidenceValue = nullptr;
    QLabel *m_countLabel = nullptr;
    QLabel *m_noDataLabel = nullptr;
    QLabel *m_errorLabel = nullptr;
    QLabel *m_resultCaption = nullptr;
    QTreeWidget *m_list = nullptr;
};

} // namespace edgelens
