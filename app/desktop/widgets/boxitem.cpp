#include "widgets/boxitem.h"

#include <QCursor>
#include <QGraphicsScene>
#include <QGraphicsSceneHoverEvent>
#include <QGraphicsSceneMouseEvent>
#include <QGraphicsSimpleTextItem>
#include <QGraphicsView>
#include <QPainter>
#include <QPainterPath>
#include <QPen>
#include <QStyleOptionGraphicsItem>

#include <cmath>
#include <utility>

namespace edgelens {

namespace {
const QColor kHighlight(255, 215, 0);
}

BoxItem::BoxItem(int index, const QRectF &rect, const QColor &color, QGraphicsItem *parent)
    : QGraphicsRectItem(rect, parent)
    , m_index(index)
    , m_color(color)
{
    setFlag(QGraphicsItem::ItemIsSelectable, true);
    setAcceptHoverEvents(true);
    // The label keeps its screen size while zooming, anchored at the box's corner.
    m_tag = new QGraphicsRectItem(this);
    m_tag->setFlag(QGraphicsItem::ItemIgnoresTransformations);
    m_tag->setPen(Qt::NoPen);
    m_tag->setAcceptedMouseButtons(Qt::NoButton);
    m_text = new QGraphicsSimpleTextItem(m_tag);
    m_text->setBrush(Qt::black);
    setColor(color);
    setBox(rect);
}

void BoxItem::setColor(const QColor &color)
{
    m_color = color;
    m_tag->setBrush(color);
    setDecorations(m_outline, m_tag->isVisible(), m_highlighted);
}

void BoxItem::setLineWidth(double imagePixels)
{
    m_lineWidth = imagePixels;
    setDecorations(m_outline, m_tag->isVisible(), m_highlighted);
}

void BoxItem::setBox(const QRectF &rect)
{
    prepareGeometryChange();
    setRect(rect.normalized());
    m_tag->setPos(this->rect().topLeft());
}

void BoxItem::setLabelText(const QString &text)
{
    m_text->setText(text);
    const QRectF textRect = m_text->boundingRect();
    m_text->setPos(2, -textRect.height() - 1);
    m_tag->setRect(QRectF(0, -textRect.height() - 2, textRect.width() + 4, textRect.height() + 2));
}

void BoxItem::setDecorations(bool outline, bool label, bool highlighted)
{
    m_outline = outline;
    m_highlighted = highlighted;
    QPen pen(highlighted ? kHighlight : m_color);
    if (m_lineWidth > 0) {
        pen.setWidthF(highlighted ? m_lineWidth * 1.5 : m_lineWidth);
    } else {
        pen.setWidthF(highlighted ? 4 : 2);
        pen.setCosmetic(true); // same on-screen width at every zoom
    }
    // A selected box stays findable even when outlines are off.
    pen.setStyle(outline ? Qt::SolidLine : (highlighted ? Qt::DashLine : Qt::NoPen));
    setPen(pen);
    m_tag->setVisible(label);
    setZValue(highlighted ? 1 : 0);
    update();
}

double BoxItem::itemUnitsPerPixel() const
{
    const QList<QGraphicsView *> views = scene() ? scene()->views() : QList<QGraphicsView *>();
    const double scale = views.isEmpty() ? 1.0 : views.first()->transform().m11() * sceneTransform().m11();
    return scale > 0 ? 1.0 / scale : 1.0;
}

QRectF BoxItem::bounds() const
{
    return parentItem() ? parentItem()->boundingRect() : QRectF();
}

QRectF BoxItem::boundingRect() const
{
    const double grow = kHandlePixels * itemUnitsPerPixel();
    return QGraphicsRectItem::boundingRect().adjusted(-grow, -grow, grow, grow);
}

QPainterPath BoxItem::shape() const
{
    QPainterPath path;
    path.addRect(boundingRect());
    return path;
}

int BoxItem::handleAt(const QPointF &pos) const
{
    const QRectF r = rect();
    const double tolerance = kHandlePixels * itemUnitsPerPixel();
    if (!r.adjusted(-tolerance, -tolerance, tolerance, tolerance).contains(pos))
        return None;
    int handle = None;
    if (std::abs(pos.x() - r.left()) <= tolerance)
        handle |= Left;
    else if (std::abs(pos.x() - r.right()) <= tolerance)
        handle |= Right;
    if (std::abs(pos.y() - r.top()) <= tolerance)
        handle |= Top;
    else if (std::abs(pos.y() - r.bottom()) <= tolerance)
        handle |= Bottom;
    if (handle != None)
        return handle;
    return r.contains(pos) ? Move : None;
}

void BoxItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget)
{
    QStyleOptionGraphicsItem plain(*option);
    plain.state &= ~QStyle::State_Selected; // our own highlight, not Qt's dashed frame
    QGraphicsRectItem::paint(painter, &plain, widget);
    if (!m_highlighted)
        return;
    const double size = kHandlePixels * itemUnitsPerPixel();
    const QRectF r = rect();
    painter->setPen(QPen(Qt::black, 0));
    painter->setBrush(kHighlight);
    for (const QPointF &p : {r.topLeft(), r.topRight(), r.bottomLeft(), r.bottomRight(),
                             QPointF(r.center().x(), r.top()), QPointF(r.center().x(), r.bottom()),
                             QPointF(r.left(), r.center().y()), QPointF(r.right(), r.center().y())})
        painter->drawRect(QRectF(p.x() - size / 2, p.y() - size / 2, size, size));
}

void BoxItem::hoverMoveEvent(QGraphicsSceneHoverEvent *event)
{
    const int handle = handleAt(event->pos());
    if (handle == Move)
        setCursor(Qt::SizeAllCursor);
    else if (handle == (Left | Top) || handle == (Right | Bottom))
        setCursor(Qt::SizeFDiagCursor);
    else if (handle == (Right | Top) || handle == (Left | Bottom))
        setCursor(Qt::SizeBDiagCursor);
    else if (handle & (Left | Right))
        setCursor(Qt::SizeHorCursor);
    else if (handle & (Top | Bottom))
        setCursor(Qt::SizeVerCursor);
    else
        unsetCursor();
    QGraphicsRectItem::hoverMoveEvent(event);
}

void BoxItem::mousePressEvent(QGraphicsSceneMouseEvent *event)
{
    if (event->button() != Qt::LeftButton) {
        event->ignore();
        return;
    }
    m_dragHandle = handleAt(event->pos());
    if (m_dragHandle == None) {
        event->ignore();
        return;
    }
    if (scene() && !isSelected()) {
        scene()->clearSelection();
        setSelected(true);
    }
    m_pressPos = event->pos();
    m_pressRect = rect();
    event->accept();
}

void BoxItem::mouseMoveEvent(QGraphicsSceneMouseEvent *event)
{
    if (m_dragHandle == None)
        return;
    const QPointF delta = event->pos() - m_pressPos;
    const QRectF limit = bounds();
    QRectF r = m_pressRect;
    if (m_dragHandle == Move) {
        r.translate(delta);
        if (limit.isValid()) {
            r.moveLeft(qBound(limit.left(), r.left(), limit.right() - r.width()));
            r.moveTop(qBound(limit.top(), r.top(), limit.bottom() - r.height()));
        }
    } else {
        if (m_dragHandle & Left)
            r.setLeft(std::min(r.left() + delta.x(), r.right() - kMinSize));
        if (m_dragHandle & Right)
            r.setRight(std::max(r.right() + delta.x(), r.left() + kMinSize));
        if (m_dragHandle & Top)
            r.setTop(std::min(r.top() + delta.y(), r.bottom() - kMinSize));
        if (m_dragHandle & Bottom)
            r.setBottom(std::max(r.bottom() + delta.y(), r.top() + kMinSize));
        if (limit.isValid())
            r = r.intersected(limit);
    }
    setBox(r);
}

void BoxItem::mouseReleaseEvent(QGraphicsSceneMouseEvent *event)
{
    const int handle = std::exchange(m_dragHandle, int(None));
    if (handle == None || event->button() != Qt::LeftButton)
        return;
    if (rect() != m_pressRect && m_onEdited)
        m_onEdited(m_index, m_pressRect, rect());
}

void BoxItem::mouseDoubleClickEvent(QGraphicsSceneMouseEvent *event)
{
    if (event->button() == Qt::LeftButton && m_onDoubleClicked) {
        event->accept();
        m_onDoubleClicked(m_index);
        return;
    }
    QGraphicsRectItem::mouseDoubleClickEvent(event);
}

} // namespace edgelens
