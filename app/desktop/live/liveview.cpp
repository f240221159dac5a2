#include "liveview.h"

#include "markup/markupstyle.h"

#include <QPainter>
#include <QPaintEvent>

namespace edgelens {

LiveView::LiveView(QWidget *parent)
    : QWidget(parent)
{
    setMinimumSize(320, 180);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

LiveView::~LiveView() = default;

void LiveView::showResult(const LiveResult &result)
{
    m_result = result;
    const cv::Mat &frame = m_result.frame.image;
    m_image = frame.empty() || frame.type() != CV_8UC3
        ? QImage()
        : QImage(frame.data, frame.cols, frame.rows, int(frame.step), QImage::Format_BGR888);
    update();
}

void LiveView::setFigures(const LiveFigures &figures)
{
    m_figures = figures;
    update();
}

void LiveView::setState(const QString &state)
{
    m_state = state;
    update();
}

QString LiveView::overlayText() const
{
    QStringList lines;
    if (!m_state.isEmpty())
        lines << m_state;
    lines << m_figures.summaryLine();
    if (m_result.frame.isValid() && !m_result.detected && m_result.boxesSequence > 0)
        lines << tr("boxes from frame %1, %2 ms old").arg(m_result.boxesSequence).arg(m_result.boxesAgeMs);
    return lines.join(QLatin1Char('\n'));
}

void LiveView::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    painter.fillRect(rect(), Qt::black);
    if (!m_image.isNull()) {
        const QSize fitted = m_image.size().scaled(size(), Qt::KeepAspectRatio);
        const QRect target(QPoint((width() - fitted.width()) / 2, (height() - fitted.height()) / 2), fitted);
        painter.setRenderHint(QPainter::SmoothPixmapTransform);
        painter.drawImage(target, m_image);
        const double scale = double(fitted.width()) / m_image.width();
        painter.setRenderHint(QPainter::Antialiasing);
        for (const Detection &d : m_result.detections) {
            const QColor color = MarkupStyle::color(d.classId);
            const QRectF box(target.left() + d.box.x() * scale, target.top() + d.box.y() * scale, d.box.width() * scale,
                             d.box.height() * scale);
            painter.setPen(QPen(color, 2));
            painter.setBrush(Qt::NoBrush);
            painter.drawRect(box);
            const QString label = MarkupStyle::labelText(d);
            const QRectF textBox = painter.fontMetrics().boundingRect(label).adjusted(-3, -1, 3, 1);
            const QRectF tag(box.topLeft() - QPointF(0, textBox.height()), textBox.size());
            painter.fillRect(tag, color);
            painter.setPen(MarkupStyle::textColorOn(color));
            painter.drawText(tag, Qt::AlignCenter, label);
        }
    }
    const QString text = overlayText();
    QRect box = painter.fontMetrics().boundingRect(QRect(8, 8, width() - 16, height() - 16), Qt::TextWordWrap, text);
    box.adjust(-6, -4, 6, 4);
    painter.fillRect(box, QColor(0, 0, 0, 160));
    painter.setPen(Qt::white);
    painter.drawText(box.adjusted(6, 4, -6, -4), Qt::TextWordWrap, text);
}

} // namespace edgelens
