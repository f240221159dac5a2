#pragma once

#include <QGraphicsView>
#include <QImage>
#include <QPointF>

class QGraphicsPixmapItem;

namespace edgelens {

// A QGraphicsView showing one image at full resolution with wheel / button zoom, fit and
// 1:1, and hand-drag panning. It reports zoom and scroll changes so a second view can
// follow (DetailView keeps original and result in step).
class ImageView final : public QGraphicsView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ImageView)

public:
    static constexpr double kMinZoom = 0.02;
    static constexpr double kMaxZoom = 32.0;
    static constexpr double kZoomStep = 1.25;

    explicit ImageView(QWidget *parent = nullptr);
    ~ImageView() override;

    void setImage(const QImage &image); // a null image clears the view
    QSize imageSize() const;
    QGraphicsPixmapItem *imageItem() const; // overlays are added as its children (image pixels)

    double zoom() const; // 1.0 = one image pixel per screen pixel
    bool isFitMode() const;

    // The visible centre as a fraction of the image (0..1 each way), for syncing views of
    // images that differ in size.
    QPointF normalizedCenter() const;
    void centerOnNormalized(const QPointF &center);

public Q_SLOTS:
    void setZoom(double zoom);
    void zoomIn();
    void zoomOut();
    void fitToWindow();
    void showActualSize();

Q_SIGNALS:
    void zoomChanged(double zoom);
    void viewScrolled();

protected:
    void wheelEvent(QWheelEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;

private:
    void applyZoom(double zoom, bool force = false);

    QGraphicsScene *m_scene = nullptr;
    QGraphicsPixmapItem *m_imageItem = nullptr;
    QSize m_imageSize;
    bool m_fitMode = true;
};

} // namespace edgelens
