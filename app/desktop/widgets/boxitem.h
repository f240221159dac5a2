#pragma once

#include <QGraphicsRectItem>

#include <functional>

class QGraphicsSimpleTextItem;

namespace edgelens {

// One detection drawn over the original in the detail view, editable with the mouse: click
// selects, dragging the inside moves, dragging an edge or corner handle resizes, a double
// click asks for a new label. The rect is in the parent image item's pixels. Nothing is
// committed here: when the mouse is released the owner is told what changed (before and
// after) and records it as an undoable edit.
class BoxItem final : public QGraphicsRectItem
{
public:
    enum Handle { None = 0, Left = 1, Right = 2, Top = 4, Bottom = 8, Move = 16 };
    static constexpr double kHandlePixels = 7.0; // on screen, at any zoom
    static constexpr double kMinSize = 2.0;       // image pixels

    using EditedFunction = std::function<void(int index, const QRectF &before, const QRectF &after)>;
    using IndexFunction = std::function<void(int index)>;

    BoxItem(int index, const QRectF &rect, const QColor &color, QGraphicsItem *parent);

    int index() const { return m_index; }
    QColor color() const { return m_color; }
    void setColor(const QColor &color);
    void setBox(const QRectF &rect); // moves the label tag along
    void setLabelText(const QString &text);
    void setDecorations(bool outline, bool label, bool highlighted);
    void setLineWidth(double imagePixels); // scales with the zoom, as the marked-up image does

    void setOnEdited(EditedFunction function) { m_onEdited = std::move(function); }
    void setOnDoubleClicked(IndexFunction function) { m_onDoubleClicked = std::move(function); }

    int handleAt(const QPointF &itemPos) const; // Handle bits, None when outside

    QRectF boundingRect() const override;
    QPainterPath shape() const override; // handles just outside the box still hit
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

protected:
    void hoverMoveEvent(QGraphicsSceneHoverEvent *event) override;
    void mousePressEvent(QGraphicsSceneMouseEvent *event) override;
    void mouseMoveEvent(QGraphicsSceneMouseEvent *event) override;
    void mouseReleaseEvent(QGraphicsSceneMouseEvent *event) override;
    void mouseDoubleClickEvent(QGraphicsSceneMouseEvent *event) override;

private:
    double itemUnitsPerPixel() const;
    QRectF bounds() const; // the image the box must stay inside

    int m_index;
    QColor m_color;
    bool m_outline = true;
    double m_lineWidth = 0; // 0: 2 screen pixels
    bool m_highlighted = false;
    QGraphicsRectItem *m_tag = nullptr;
    QGraphicsSimpleTextItem *m_text = nullptr;

    int m_dragHandle = None;
    QPointF m_pressPos;
    QRectF m_pressRect;
    EditedFunction m_onEdited;
    IndexFunction m_onDoubleClicked;
};

} // namespace edgelens
