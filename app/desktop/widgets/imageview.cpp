#include "widgets/imageview.h"

#include <QGraphicsPixmapItem>
#include <QGraphicsScene>
#include <QKeyEvent>
#include <QLoggingCategory>
#include <QScrollBar>
#include <QWheelEvent>

#include <cmath>

Q_LOGGING_CATEGORY(lcImageView, "edgelens.widgets.imageview")

namespace edgelens {

ImageView::ImageView(QWidget *parent)
    : QGraphicsView(parent)
    , m_scene(new QGraphicsScene(this))
{
    setScene(m_scene);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setResizeAnchor(QGraphicsView::AnchorViewCenter);
    setRenderHint(QPainter::SmoothPixmapTransform);
    setBackgroundBrush(QColor(48, 48, 48));
    setFrameShape(QFrame::NoFrame);
    connect(horizontalScrollBar(), &QScrollBar::valueChanged, this, &ImageView::viewScrolled);
    connect(verticalScrollBar(), &QScrollBar::valueChanged, this, &ImageView::viewScrolled);
}

ImageView::~ImageView() = default;

void ImageView::setImage(const QImage &image)
{
    m_scene->clear();
    m_imageItem = nullptr;
    m_imageSize = image.size();
    qCDebug(lcImageView) << "showing" << m_imageSize;
    if (!image.isNull()) {
        m_imageItem = m_scene->addPixmap(QPixmap::fromImage(image));
        m_imageItem->setTransformationMode(Qt::SmoothTransformation);
    }
    m_scene->setSceneRect(QRectF(QPointF(0, 0), QSizeF(m_imageSize)));
    fitToWindow();
}

QSize ImageView::imageSize() const
{
    return m_imageSize;
}

QGraphicsPixmapItem *ImageView::imageItem() const
{
    return m_imageItem;
}

double ImageView::zoom() const
{
    return transform().m11();
}

bool ImageView::isFitMode() const
{
    return m_fitMode;
}

void ImageView::applyZoom(double zoom, bool force)
{
    zoom = qBound(kMinZoom, zoom, kMaxZoom);
    if (!force && std::abs(zoom - this->zoom()) < 1e-9)
        return;
    setTransform(QTransform::fromScale(zoom, zoom));
    Q_EMIT zoomChanged(zoom);
}

void ImageView::setZoom(double zoom)
{
    // Leaving fit mode is a change for a follower even when the factor happens to match.
    const bool wasFit = m_fitMode;
    m_fitMode = false;
    applyZoom(zoom, wasFit);
}

void ImageView::zoomIn()
{
    setZoom(zoom() * kZoomStep);
}

void ImageView::zoomOut()
{
    setZoom(zoom() / kZoomStep);
}

void ImageView::showActualSize()
{
    setZoom(1.0);
}

void ImageView::fitToWindow()
{
    m_fitMode = true;
    if (m_imageSize.isEmpty()) {
        applyZoom(1.0);
        return;
    }
    const QSize area = viewport()->size();
    const double fit = std::min(double(area.width()) / m_imageSize.width(), double(area.height()) / m_imageSize.height());
    // Never enlarge a small image just to fill the window: fit means "whole image visible".
    applyZoom(fit > 0 ? std::min(fit, 1.0) : 1.0);
    centerOn(m_scene->sceneRect().center());
}

QPointF ImageView::normalizedCenter() const
{
    if (m_imageSize.isEmpty())
        return {0.5, 0.5};
    const QPointF center = mapToScene(viewport()->rect().center());
    return {center.x() / m_imageSize.width(), center.y() / m_imageSize.height()};
}

void ImageView::centerOnNormalized(const QPointF &center)
{
    if (m_imageSize.isEmpty())
        return;
    centerOn(center.x() * m_imageSize.width(), center.y() * m_imageSize.height());
}

void ImageView::wheelEvent(QWheelEvent *event)
{
    const int delta = event->angleDelta().y();
    if (delta == 0) {
        QGraphicsView::wheelEvent(event);
        return;
    }
    setZoom(zoom() * std::pow(kZoomStep, delta / 120.0));
    event->accept();
}

void ImageView::resizeEvent(QResizeEvent *event)
{
    QGraphicsView::resizeEvent(event);
    if (m_fitMode)
        fitToWindow();
}

void ImageView::keyPressEvent(QKeyEvent *event)
{
    switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
        zoomIn();
        break;
    case Qt::Key_Minus:
        zoomOut();
        break;
    case Qt::Key_1:
        showActualSize();
        break;
    case Qt::Key_0:
        fitToWindow();
        break;
    default:
        QGraphicsView::keyPressEvent(event);
        return;
    }
    event->accept();
}

} // namespace edgelens
