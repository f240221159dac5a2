// DetailView's boxes: the overlay on the original, the list beside it, selection kept in step
// between them, and every edit (move, resize, draw, delete, relabel, threshold, review) as an
// undoable command. Building the view and loading images are in detailview.cpp.

#include "widgets/detailview.h"

#include "markup/markupstyle.h"
#include "widgets/annotationcommand.h"
#include "widgets/boxitem.h"
#include "widgets/detectionlist.h"
#include "widgets/imageview.h"
#include "widgets/labelpicker.h"

#include <QCheckBox>
#include <QGraphicsPixmapItem>
#include <QGraphicsRectItem>
#include <QGraphicsScene>
#include <QLabel>
#include <QMouseEvent>
#include <QPen>
#include <QSlider>
#include <QUndoStack>

#include <algorithm>
#include <cmath>

namespace edgelens {

namespace {

constexpr int kThresholdMergeKey = 1;

// The server's markup colours, so a box looks the same in both panes.
QColor markupColor(const Detection &detection)
{
    return MarkupStyle::color(Annotation::colorId(detection));
}

} // namespace

QRectF DetailView::toView(const QRectF &box) const
{
    return QRectF(box.x() * m_boxScaleX, box.y() * m_boxScaleY, box.width() * m_boxScaleX, box.height() * m_boxScaleY);
}

QRectF DetailView::toImage(const QRectF &box) const
{
    return QRectF(box.x() / m_boxScaleX, box.y() / m_boxScaleY, box.width() / m_boxScaleX, box.height() / m_boxScaleY);
}

QRectF DetailView::boxInImage(int index) const
{
    if (index < 0 || index >= m_boxItems.size())
        return {};
    return m_boxItems.at(index)->rect();
}

QString DetailView::boxCaption(const Detection &detection) const
{
    return MarkupStyle::labelText(detection);
}

void DetailView::rebuildOverlay()
{
    {
        const QSignalBlocker blocker(m_originalView->scene());
        qDeleteAll(m_boxItems);
        m_boxItems.clear();
    }
    QGraphicsPixmapItem *image = m_originalView->imageItem();
    if (!image || !m_hasDetectionData)
        return;
    for (int i = 0; i < m_annotation.boxes.size(); ++i) {
        const Detection &detection = m_annotation.boxes.at(i);
        auto *item = new BoxItem(i, toView(detection.box), markupColor(detection), image);
        // The server's stroke for this image size, so both panes show the same boxes.
        item->setLineWidth(MarkupStyle::lineWidth(image->pixmap().size()));
        item->setLabelText(boxCaption(detection));
        item->setOnEdited([this](int index, const QRectF &before, const QRectF &after) {
            handleBoxEdited(index, before, after);
        });
        item->setOnDoubleClicked([this](int index) {
            selectDetection(index);
            relabelSelected();
        });
        m_boxItems.append(item);
    }
}

void DetailView::updateOverlay()
{
    for (int i = 0; i < m_boxItems.size() && i < m_annotation.boxes.size(); ++i) {
        const Detection &detection = m_annotation.boxes.at(i);
        BoxItem *item = m_boxItems.at(i);
        item->setBox(toView(detection.box));
        item->setColor(markupColor(detection));
        item->setLabelText(boxCaption(detection));
    }
}

void DetailView::rebuildList()
{
    m_list->setDetections(m_hasDetectionData ? m_annotation.boxes : QList<Detection>());
}

void DetailView::handleSliderMoved(int value)
{
    const double threshold = double(value) / kSliderSteps;
    m_confidenceValue->setText(QString::number(threshold, 'f', 2));
    if (!m_settingSlider && m_hasDetectionData && !m_originalPath.isEmpty()
        && std::abs(threshold - m_annotation.threshold) > 1e-9) {
        Annotation after = m_annotation;
        after.threshold = threshold;
        commit(after, tr("Change the confidence threshold to %1").arg(threshold, 0, 'f', 2), kThresholdMergeKey);
        return;
    }
    applyFilter();
}

void DetailView::applyFilter()
{
    const double threshold = confidenceThreshold();
    const bool boxes = m_boxesToggle->isChecked();
    const bool labels = m_labelsToggle->isChecked();
    int shown = 0;
    for (int i = 0; i < m_annotation.boxes.size(); ++i) {
        const bool passes = Annotation::passes(m_annotation.boxes.at(i), threshold);
        shown += passes ? 1 : 0;
        m_list->setRowPassing(i, passes);
        if (i < m_boxItems.size()) {
            BoxItem *item = m_boxItems.at(i);
            item->setVisible(passes && (boxes || labels));
            if (!passes && item->isSelected())
                item->setSelected(false);
        }
    }
    if (m_hasDetectionData)
        m_countLabel->setText(tr("%1 of %2 shown").arg(shown).arg(m_annotation.boxes.size()));
    else
        m_countLabel->clear();
    updateHighlight();
}

void DetailView::updateHighlight()
{
    const int selected = selectedDetection();
    const bool boxes = m_boxesToggle->isChecked();
    const bool labels = m_labelsToggle->isChecked();
    for (int i = 0; i < m_boxItems.size(); ++i)
        m_boxItems.at(i)->setDecorations(boxes, labels, i == selected);
}

void DetailView::handleListSelection()
{
    if (m_updatingSelection)
        return;
    const int index = selectedDetection();
    m_updatingSelection = true;
    for (int i = 0; i < m_boxItems.size(); ++i)
        m_boxItems.at(i)->setSelected(i == index);
    m_updatingSelection = false;
    updateHighlight();
    if (index >= 0 && index < m_boxItems.size() && m_boxItems.at(index)->isVisible())
        m_originalView->ensureVisible(m_boxItems.at(index)->sceneBoundingRect(), 40, 40);
}

void DetailView::handleSceneSelection()
{
    if (m_updatingSelection)
        return;
    int index = -1;
    for (int i = 0; i < m_boxItems.size(); ++i) {
        if (m_boxItems.at(i)->isSelected())
            index = i;
    }
    m_updatingSelection = true;
    if (index >= 0 && index < m_list->topLevelItemCount())
        m_list->setCurrentItem(m_list->topLevelItem(index));
    else
        m_list->clearSelection();
    m_updatingSelection = false;
    updateHighlight();
}

void DetailView::selectDetection(int index)
{
    m_list->selectRow(index);
}

int DetailView::selectedDetection() const
{
    return m_list->selectedRow();
}

void DetailView::selectNextBox(int delta)
{
    QList<int> visible;
    for (int i = 0; i < m_annotation.boxes.size(); ++i) {
        if (Annotation::passes(m_annotation.boxes.at(i), m_annotation.threshold))
            visible.append(i);
    }
    if (visible.isEmpty())
        return;
    const int at = int(visible.indexOf(selectedDetection()));
    const int next = at < 0 ? (delta > 0 ? 0 : int(visible.size()) - 1)
                            : (at + delta + int(visible.size())) % int(visible.size());
    selectDetection(visible.at(next));
}

void DetailView::commit(const Annotation &after, const QString &text, int mergeKey, const DetectionResult *model)
{
    QUndoStack *stack = m_stacks.value(m_originalPath);
    if (!stack || !m_hasDetectionData)
        return;
    const AnnotationCommand::State before{m_result, m_annotation};
    const AnnotationCommand::State next{model ? *model : m_result, after};
    stack->push(new AnnotationCommand(this, m_originalPath, before, next, text, mergeKey));
}

void DetailView::applyState(const QString &path, const DetectionResult &model, const Annotation &annotation)
{
    if (path != m_originalPath) {
        Q_EMIT annotationEdited(path, model, annotation);
        return;
    }
    const int selected = selectedDetection();
    const bool sameBoxes = annotation.boxes.size() == m_annotation.boxes.size();
    Annotation state = annotation;
    // Undo is about boxes; whether the image was reviewed is the user's latest word.
    state.reviewed = m_annotation.reviewed;
    state.reviewedBy = m_annotation.reviewedBy;
    state.reviewedAt = m_annotation.reviewedAt;
    m_result = model;
    m_annotation = state;
    if (sameBoxes)
        updateOverlay();
    else
        rebuildOverlay();
    rebuildList();
    m_settingSlider = true;
    m_confidenceSlider->setValue(qRound(m_annotation.threshold * kSliderSteps));
    m_confidenceValue->setText(QString::number(m_annotation.threshold, 'f', 2));
    m_settingSlider = false;
    applyFilter();
    if (sameBoxes && selected >= 0)
        selectDetection(selected);
    updateNotices();
    Q_EMIT annotationEdited(m_originalPath, m_result, m_annotation);
}

void DetailView::handleBoxEdited(int index, const QRectF &before, const QRectF &after)
{
    if (index < 0 || index >= m_annotation.boxes.size())
        return;
    Annotation next = m_annotation;
    next.boxes[index].box = toImage(after);
    next.markEdited();
    const bool moved = qFuzzyCompare(before.width(), after.width()) && qFuzzyCompare(before.height(), after.height());
    commit(next, (moved ? tr("Move %1") : tr("Resize %1")).arg(next.boxes.at(index).label));
}

void DetailView::deleteSelected()
{
    const int index = selectedDetection();
    if (index < 0 || index >= m_annotation.boxes.size())
        return;
    Annotation next = m_annotation;
    const QString label = next.boxes.takeAt(index).label;
    next.markEdited();
    commit(next, tr("Delete %1").arg(label));
    // Keep going with the keyboard: the box that took its place is selected.
    selectNextBox(0);
}

void DetailView::startDrawing()
{
    if (!m_hasDetectionData || !m_originalView->imageItem())
        return;
    m_drawMode = true;
    m_originalView->setDragMode(QGraphicsView::NoDrag);
    m_originalView->viewport()->setCursor(Qt::CrossCursor);
}

bool DetailView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched != m_originalView->viewport())
        return QWidget::eventFilter(watched, event);
    QGraphicsPixmapItem *image = m_originalView->imageItem();
    const auto imagePos = [this, image](QMouseEvent *mouse) {
        const QPointF p = image->mapFromScene(m_originalView->mapToScene(mouse->position().toPoint()));
        const QRectF bounds = image->boundingRect();
        return QPointF(qBound(bounds.left(), p.x(), bounds.right()), qBound(bounds.top(), p.y(), bounds.bottom()));
    };
    switch (event->type()) {
    case QEvent::MouseButtonPress: {
        auto *mouse = static_cast<QMouseEvent *>(event);
        if (!image || mouse->button() != Qt::LeftButton)
            break;
        if (m_drawMode) {
            m_drawStart = imagePos(mouse);
            m_rubberBand = new QGraphicsRectItem(QRectF(m_drawStart, m_drawStart), image);
            QPen pen(QColor(255, 215, 0), 2, Qt::DashLine);
            pen.setCosmetic(true);
            m_rubberBand->setPen(pen);
            return true;
        }
        // A click beside every box deselects; dragging there still pans.
        const QList<QGraphicsItem *> hit = m_originalView->items(mouse->position().toPoint());
        const bool onBox = std::any_of(hit.cbegin(), hit.cend(), [](QGraphicsItem *item) {
            return dynamic_cast<BoxItem *>(item) != nullptr && item->isVisible();
        });
        if (!onBox)
            m_list->clearSelection();
        break;
    }
    case QEvent::MouseMove:
        if (m_drawMode && m_rubberBand) {
            m_rubberBand->setRect(QRectF(m_drawStart, imagePos(static_cast<QMouseEvent *>(event))).normalized());
            return true;
        }
        break;
    case QEvent::MouseButtonRelease:
        if (m_drawMode && m_rubberBand) {
            const QRectF drawn = QRectF(m_drawStart, imagePos(static_cast<QMouseEvent *>(event))).normalized();
            delete m_rubberBand;
            m_rubberBand = nullptr;
            m_drawMode = false;
            m_originalView->setDragMode(QGraphicsView::ScrollHandDrag);
            m_originalView->viewport()->unsetCursor();
            if (drawn.width() >= BoxItem::kMinSize && drawn.height() >= BoxItem::kMinSize)
                askLabel(-1, drawn);
            return true;
        }
        break;
    default:
        break;
    }
    return QWidget::eventFilter(watched, event);
}

void DetailView::relabelSelected()
{
    const int index = selectedDetection();
    if (index >= 0)
        askLabel(index, QRectF());
}

void DetailView::askLabel(int index, const QRectF &newBox)
{
    if (m_picker)
        m_picker->reject();
    QStringList choices = m_labelChoices;
    for (const Detection &d : std::as_const(m_annotation.boxes)) {
        if (!choices.contains(d.label))
            choices.append(d.label);
    }
    const QString current = index >= 0 ? m_annotation.boxes.at(index).label : m_lastLabel;
    auto *picker = new LabelPicker(choices, current, this);
    picker->setAttribute(Qt::WA_DeleteOnClose);
    picker->setWindowModality(Qt::WindowModal);
    m_picker = picker;
    const QString path = m_originalPath;
    connect(picker, &QDialog::accepted, this, [this, picker, index, newBox, path] {
        if (path != m_originalPath)
            return; // the user went to another image meanwhile
        const QString label = picker->label();
        m_lastLabel = label;
        Detection d;
        if (index >= 0 && index < m_annotation.boxes.size()) {
            d = m_annotation.boxes.at(index);
            if (d.label == label)
                return;
        }
        const QString old = d.label;
        d.label = label;
        // A class of the model keeps its id (exports and colours follow it); a new label has none.
        const int classIndex = int(m_labelChoices.indexOf(label));
        d.classId = (classIndex >= 0 && classIndex < m_classCount) ? classIndex : -1;
        Annotation next = m_annotation;
        if (index >= 0) {
            next.boxes[index] = d;
            next.markEdited();
            commit(next, tr("Relabel %1 as %2").arg(old, label));
            selectDetection(index);
        } else {
            d.box = toImage(newBox);
            d.confidence = 1.0f; // drawn by a person
            next.boxes.append(d);
            next.markEdited();
            commit(next, tr("Add %1").arg(label));
            selectDetection(int(m_annotation.boxes.size()) - 1);
        }
    });
    // Back to the image for the next key, whichever way the picker closed.
    connect(picker, &QDialog::finished, this, [this] {
        activateWindow();
        m_originalView->setFocus();
    });
    picker->open();
}

void DetailView::zoomToSelected()
{
    const int index = selectedDetection();
    if (index < 0 || index >= m_boxItems.size())
        return;
    const QRectF r = m_boxItems.at(index)->sceneBoundingRect();
    const QSize area = m_originalView->viewport()->size();
    if (r.isEmpty() || area.isEmpty())
        return;
    // Some context around the box, as a labeller wants to see its edges.
    const double zoom = std::min(area.width() / (r.width() * 1.6), area.height() / (r.height() * 1.6));
    m_originalView->setZoom(zoom);
    m_originalView->centerOn(r.center());
}

void DetailView::replaceBoxes(const QList<Detection> &boxes, const QString &what)
{
    if (!m_hasDetectionData)
        return;
    Annotation next = m_annotation;
    next.boxes = boxes;
    next.markEdited();
    commit(next, what);
}

void DetailView::adoptNewerOutput()
{
    if (!m_annotation.hasNewerOutput)
        return;
    const DetectionResult model = m_annotation.newerOutput;
    Annotation next = Annotation::fromModel(model, m_annotation.threshold);
    commit(next, tr("Replace the corrections with the newer model output"), 0, &model);
}

void DetailView::setReviewed(bool reviewed)
{
    if (!m_hasDetectionData || m_originalPath.isEmpty() || m_annotation.reviewed == reviewed)
        return;
    m_annotation.reviewed = reviewed;
    m_annotation.reviewedBy = reviewed ? Annotation::currentUser() : QString();
    m_annotation.reviewedAt = reviewed ? QDateTime::currentDateTimeUtc() : QDateTime();
    updateNotices();
    Q_EMIT annotationEdited(m_originalPath, m_result, m_annotation);
}

} // namespace edgelens
