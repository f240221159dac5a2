#include "widgets/detailview.h"

#include "markup/markupstyle.h"
#include "widgets/annotationcommand.h"
#include "widgets/boxitem.h"
#include "widgets/icons.h"
#include "widgets/imageview.h"
#include "widgets/labelpicker.h"

#include <QAction>
#include <QBrush>
#include <QCheckBox>
#include <QDir>
#include <QFileInfo>
#include <QGraphicsPixmapItem>
#include <QGraphicsRectItem>
#include <QGraphicsScene>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImageReader>
#include <QLabel>
#include <QLoggingCategory>
#include <QMouseEvent>
#include <QPen>
#include <QSlider>
#include <QSplitter>
#include <QToolButton>
#include <QTreeWidget>
#include <QUndoGroup>
#include <QUndoStack>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>

Q_LOGGING_CATEGORY(lcDetailView, "edgelens.widgets.detailview")

namespace edgelens {

namespace {

constexpr int kSliderSteps = 100;
constexpr int kThresholdMergeKey = 1;

QString boxText(const QRectF &box)
{
    return QStringLiteral("%1, %2  %3\u00d7%4")
        .arg(qRound(box.x()))
        .arg(qRound(box.y()))
        .arg(qRound(box.width()))
        .arg(qRound(box.height()));
}

QToolButton *toolButton(const QString &iconName, const QString &text, const QString &tip, QWidget *parent)
{
    auto *button = new QToolButton(parent);
    button->setIcon(icons::icon(iconName));
    button->setText(text);
    button->setToolTip(tip);
    button->setAutoRaise(true);
    return button;
}

// The server's markup colours, so a box looks the same in both panes.
QColor markupColor(const Detection &detection)
{
    return MarkupStyle::color(Annotation::colorId(detection));
}

} // namespace

DetailView::DetailView(QWidget *parent)
    : QWidget(parent)
{
    m_originalView = new ImageView(this);
    m_originalView->setObjectName(QStringLiteral("originalView"));
    m_resultView = new ImageView(this);
    m_resultView->setObjectName(QStringLiteral("resultView"));
    m_undoGroup = new QUndoGroup(this);

    auto *zoomInButton = toolButton(QStringLiteral("zoom-in"), tr("Zoom in"), tr("Zoom in (+)"), this);
    auto *zoomOutButton = toolButton(QStringLiteral("zoom-out"), tr("Zoom out"), tr("Zoom out (-)"), this);
    auto *fitButton = toolButton(QStringLiteral("zoom-fit"), tr("Fit"), tr("Fit to window (0)"), this);
    auto *actualButton = toolButton(QStringLiteral("zoom-original"), tr("1:1"), tr("Actual pixels (1)"), this);
    zoomInButton->setShortcut(QKeySequence::ZoomIn);
    zoomOutButton->setShortcut(QKeySequence::ZoomOut);

    m_boxesToggle = new QCheckBox(tr("&Boxes"), this);
    m_boxesToggle->setObjectName(QStringLiteral("boxesToggle"));
    m_boxesToggle->setChecked(true);
    m_labelsToggle = new QCheckBox(tr("&Labels"), this);
    m_labelsToggle->setObjectName(QStringLiteral("labelsToggle"));
    m_labelsToggle->setChecked(true);

    m_confidenceSlider = new QSlider(Qt::Horizontal, this);
    m_confidenceSlider->setObjectName(QStringLiteral("confidenceSlider"));
    m_confidenceSlider->setRange(0, kSliderSteps);
    m_confidenceSlider->setToolTip(tr("Show and save boxes at or above this confidence; lower ones the server sent "
                                      "appear without sending the image again"));
    m_confidenceValue = new QLabel(this);
    m_confidenceValue->setMinimumWidth(QFontMetrics(font()).horizontalAdvance(QStringLiteral("0.00 ")));
    m_countLabel = new QLabel(this);
    m_countLabel->setObjectName(QStringLiteral("countLabel"));

    auto *toolbar = new QHBoxLayout;
    for (QWidget *w : {static_cast<QWidget *>(zoomInButton), static_cast<QWidget *>(zoomOutButton),
                       static_cast<QWidget *>(fitButton), static_cast<QWidget *>(actualButton)})
        toolbar->addWidget(w);
    toolbar->addSpacing(12);
    toolbar->addWidget(m_boxesToggle);
    toolbar->addWidget(m_labelsToggle);
    toolbar->addSpacing(12);
    toolbar->addWidget(new QLabel(tr("Min. confidence:"), this));
    toolbar->addWidget(m_confidenceSlider, 1);
    toolbar->addWidget(m_confidenceValue);
    toolbar->addWidget(m_countLabel);

    m_noDataLabel = new QLabel(this);
    m_noDataLabel->setObjectName(QStringLiteral("noDataLabel"));
    m_noDataLabel->setWordWrap(true);
    m_noDataLabel->setStyleSheet(QStringLiteral("padding: 4px; background: #fff3cd; color: #5c4400;"));
    m_noDataLabel->hide();
    m_errorLabel = new QLabel(this);
    m_errorLabel->setObjectName(QStringLiteral("errorLabel"));
    m_errorLabel->setWordWrap(true);
    m_errorLabel->setStyleSheet(QStringLiteral("color: #c0392b;"));
    m_errorLabel->hide();
    m_reviewLabel = new QLabel(this);
    m_reviewLabel->setObjectName(QStringLiteral("reviewLabel"));
    m_newerLabel = new QLabel(this);
    m_newerLabel->setObjectName(QStringLiteral("newerOutputLabel"));
    m_newerLabel->setWordWrap(true);
    m_newerLabel->setStyleSheet(QStringLiteral("padding: 4px; background: #e8f0fe; color: #1a3a6b;"));
    m_newerLabel->hide();
    connect(m_newerLabel, &QLabel::linkActivated, this, &DetailView::adoptNewerOutput);
    toolbar->addSpacing(12);
    toolbar->addWidget(m_reviewLabel);

    auto *originalColumn = new QWidget(this);
    auto *originalLayout = new QVBoxLayout(originalColumn);
    originalLayout->setContentsMargins(0, 0, 0, 0);
    originalLayout->addWidget(new QLabel(tr("Original (edit the boxes here; W draws a new one)"), originalColumn));
    originalLayout->addWidget(m_originalView, 1);
    auto *resultColumn = new QWidget(this);
    auto *resultLayout = new QVBoxLayout(resultColumn);
    resultLayout->setContentsMargins(0, 0, 0, 0);
    m_resultCaption = new QLabel(tr("Result (marked-up image)"), resultColumn);
    resultLayout->addWidget(m_resultCaption);
    resultLayout->addWidget(m_resultView, 1);

    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("detectionList"));
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setHeaderLabels({tr("Label"), tr("Confidence"), tr("Box (x, y  w\u00d7h)")});
    m_list->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);

    auto *images = new QSplitter(Qt::Horizontal, this);
    images->addWidget(originalColumn);
    images->addWidget(resultColumn);
    auto *vertical = new QSplitter(Qt::Vertical, this);
    vertical->addWidget(images);
    vertical->addWidget(m_list);
    images->setStretchFactor(0, 1);
    images->setStretchFactor(1, 1);
    images->setSizes({1000, 1000}); // proportions only: equal halves
    vertical->setStretchFactor(0, 4);
    vertical->setStretchFactor(1, 1);
    vertical->setSizes({800, 200});

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(toolbar);
    layout->addWidget(m_noDataLabel);
    layout->addWidget(m_newerLabel);
    layout->addWidget(m_errorLabel);
    layout->addWidget(vertical, 1);

    connect(zoomInButton, &QToolButton::clicked, this, &DetailView::zoomIn);
    connect(zoomOutButton, &QToolButton::clicked, this, &DetailView::zoomOut);
    connect(fitButton, &QToolButton::clicked, this, &DetailView::fitToWindow);
    connect(actualButton, &QToolButton::clicked, this, &DetailView::showActualSize);
    connect(m_boxesToggle, &QCheckBox::toggled, this, &DetailView::applyFilter);
    connect(m_labelsToggle, &QCheckBox::toggled, this, &DetailView::applyFilter);
    connect(m_confidenceSlider, &QSlider::valueChanged, this, &DetailView::handleSliderMoved);
    connect(m_list, &QTreeWidget::itemSelectionChanged, this, &DetailView::handleListSelection);
    connect(m_list, &QTreeWidget::itemDoubleClicked, this, [this] { relabelSelected(); });
    connect(m_originalView->scene(), &QGraphicsScene::selectionChanged, this, &DetailView::handleSceneSelection);
    for (ImageView *view : {m_originalView, m_resultView}) {
        connect(view, &ImageView::zoomChanged, this, [this, view] { syncZoomFrom(view); });
        connect(view, &ImageView::viewScrolled, this, [this, view] { syncScrollFrom(view); });
    }
    connect(&m_watcher, &QFutureWatcher<LoadedImages>::finished, this, &DetailView::applyLoadedImages);
    connect(&m_resultWatcher, &QFutureWatcher<QImage>::finished, this, [this] {
        if (m_resultWatcher.property("path").toString() != m_resultPath || m_watcher.isRunning())
            return;
        const QImage image = m_resultWatcher.result();
        if (image.isNull())
            return;
        m_syncing = true;
        m_resultView->setImage(image);
        m_syncing = false;
        syncZoomFrom(m_originalView); // keep showing the same part as the original
    });
    m_originalView->viewport()->installEventFilter(this);

    createActions();
    handleSliderMoved(m_confidenceSlider->value());
}

DetailView::~DetailView()
{
    // The loader only touches its own copies, but waiting keeps it from outliving the app.
    m_watcher.waitForFinished();
    m_resultWatcher.waitForFinished();
    // The scene goes with the views, after the list its selection signal would update.
    disconnect(m_originalView->scene(), nullptr, this, nullptr);
    m_boxItems.clear();
}

QList<QPair<QString, QString>> DetailView::shortcutHelp()
{
    return {
        {tr("W"), tr("Draw a new box (drag on the original), then pick its label")},
        {tr("Click / Tab / Shift+Tab"), tr("Select a box / the next / the previous box")},
        {tr("Drag, handles"), tr("Move the selected box / resize it by an edge or corner")},
        {tr("E, F2, double click"), tr("Change the selected box's label (type to search or add a label)")},
        {tr("Delete, Backspace"), tr("Delete the selected box")},
        {tr("Z"), tr("Zoom to the selected box")},
        {tr("B / L"), tr("Show or hide boxes / labels")},
        {tr("Ctrl+Z / Ctrl+Shift+Z"), tr("Undo / redo (per image)")},
        {tr("+ / - / 0 / 1"), tr("Zoom in / out / fit / actual pixels")},
    };
}

void DetailView::createActions()
{
    const auto add = [this](const QList<QKeySequence> &keys, const QString &text, auto slot) {
        auto *action = new QAction(text, this);
        action->setShortcuts(keys);
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        connect(action, &QAction::triggered, this, slot);
        addAction(action);
        return action;
    };
    add({QKeySequence(Qt::Key_W)}, tr("Draw box"), &DetailView::startDrawing);
    add({QKeySequence(Qt::Key_Delete), QKeySequence(Qt::Key_Backspace)}, tr("Delete box"), &DetailView::deleteSelected);
    add({QKeySequence(Qt::Key_Tab)}, tr("Next box"), [this] { selectNextBox(+1); });
    add({QKeySequence(Qt::SHIFT | Qt::Key_Backtab), QKeySequence(Qt::Key_Backtab)}, tr("Previous box"),
        [this] { selectNextBox(-1); });
    add({QKeySequence(Qt::Key_E), QKeySequence(Qt::Key_F2)}, tr("Change label"), &DetailView::relabelSelected);
    add({QKeySequence(Qt::Key_Z)}, tr("Zoom to box"), &DetailView::zoomToSelected);
    add({QKeySequence(Qt::Key_B)}, tr("Toggle boxes"), [this] { m_boxesToggle->toggle(); });
    add({QKeySequence(Qt::Key_L)}, tr("Toggle labels"), [this] { m_labelsToggle->toggle(); });
    QAction *undo = m_undoGroup->createUndoAction(this);
    undo->setShortcuts({QKeySequence::Undo});
    undo->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    addAction(undo);
    QAction *redo = m_undoGroup->createRedoAction(this);
    redo->setShortcuts({QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
    redo->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    addAction(redo);
}

void DetailView::showItem(const QString &originalPath, const QString &resultPath, const DetectionResult &result,
                          bool hasDetectionData)
{
    showItem(originalPath, resultPath, result, hasDetectionData, Annotation::fromModel(result, 0.0));
}

void DetailView::showItem(const QString &originalPath, const QString &resultPath, const DetectionResult &result,
                          bool hasDetectionData, const Annotation &annotation)
{
    ++m_generation;
    m_drawMode = false;
    m_rubberBand = nullptr;
    m_originalView->unsetCursor();
    if (m_picker)
        m_picker->reject();
    m_originalPath = originalPath;
    m_resultPath = resultPath;
    m_result = result;
    m_annotation = annotation;
    m_hasDetectionData = hasDetectionData;
    m_loadError.clear();
    m_boxItems.clear();
    m_originalView->setImage({});
    m_resultView->setImage({});
    setWindowTitle(QFileInfo(originalPath).fileName());

    QUndoStack *&stack = m_stacks[originalPath];
    if (!stack) {
        stack = new QUndoStack(m_undoGroup);
        stack->setUndoLimit(500);
        m_undoGroup->addStack(stack);
    }
    m_undoGroup->setActiveStack(stack);

    m_list->setVisible(hasDetectionData);
    for (QWidget *w : {static_cast<QWidget *>(m_boxesToggle), static_cast<QWidget *>(m_labelsToggle),
                       static_cast<QWidget *>(m_confidenceSlider)})
        w->setEnabled(hasDetectionData);
    m_settingSlider = true;
    m_confidenceSlider->setValue(qRound(annotation.threshold * kSliderSteps));
    m_settingSlider = false;
    handleSliderMoved(m_confidenceSlider->value());
    rebuildList();
    updateNotices();

    m_errorLabel->setText(tr("Loading\u2026"));
    m_errorLabel->setStyleSheet(QString());
    m_errorLabel->show();

    // Decoding two full-resolution images can take long enough to freeze the GUI.
    const quint64 generation = m_generation;
    m_watcher.setProperty("generation", generation);
    m_watcher.setFuture(QtConcurrent::run(&DetailView::loadImages, originalPath, resultPath));
}

void DetailView::setNoDataText(const QString &text)
{
    m_noDataText = text;
    updateNotices();
}

void DetailView::setLabelChoices(const QStringList &classNames, const QStringList &otherLabels)
{
    m_labelChoices = classNames;
    m_classCount = int(classNames.size());
    for (const QString &label : otherLabels) {
        if (!m_labelChoices.contains(label))
            m_labelChoices.append(label);
    }
}

QImage DetailView::loadImage(const QString &path, QString *error)
{
    QImageReader reader(path);
    reader.setAutoTransform(true); // the server decodes with EXIF orientation applied too
    QImage image = reader.read();
    if (image.isNull())
        *error = tr("Cannot show %1: %2").arg(QDir::toNativeSeparators(path), reader.errorString());
    return image;
}

DetailView::LoadedImages DetailView::loadImages(const QString &originalPath, const QString &resultPath)
{
    LoadedImages loaded;
    loaded.original = loadImage(originalPath, &loaded.originalError);
    if (!resultPath.isEmpty())
        loaded.result = loadImage(resultPath, &loaded.resultError);
    return loaded;
}

void DetailView::applyLoadedImages()
{
    if (m_watcher.property("generation").toULongLong() != m_generation)
        return; // a newer showItem() is loading; its own finished() will follow
    const LoadedImages loaded = m_watcher.result();

    QStringList errors;
    if (!loaded.originalError.isEmpty())
        errors << loaded.originalError;
    if (!loaded.resultError.isEmpty())
        errors << loaded.resultError;
    m_loadError = errors.join(QLatin1Char('\n'));
    m_errorLabel->setStyleSheet(QStringLiteral("color: #c0392b;"));
    m_errorLabel->setText(m_loadError);
    m_errorLabel->setVisible(!m_loadError.isEmpty());
    m_resultCaption->setText(m_resultPath.isEmpty() ? tr("Result (not processed yet)")
                                                    : tr("Result (marked-up image)"));

    // Boxes are in the pixels the server saw; if it reported another size (a downscaled
    // upload, say), map them onto the image shown here.
    m_boxScaleX = 1.0;
    m_boxScaleY = 1.0;
    if (!loaded.original.isNull() && m_result.imageWidth > 0 && m_result.imageHeight > 0) {
        m_boxScaleX = double(loaded.original.width()) / m_result.imageWidth;
        m_boxScaleY = double(loaded.original.height()) / m_result.imageHeight;
    }

    m_syncing = true;
    m_boxItems.clear();
    m_originalView->setImage(loaded.original);
    m_resultView->setImage(loaded.result);
    m_syncing = false;
    rebuildOverlay();
    applyFilter();
    Q_EMIT itemLoaded();
}

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
    const QSignalBlocker blocker(m_list);
    m_list->clear();
    if (!m_hasDetectionData)
        return;
    for (int i = 0; i < m_annotation.boxes.size(); ++i) {
        const Detection &detection = m_annotation.boxes.at(i);
        auto *item = new QTreeWidgetItem(m_list);
        item->setText(0, detection.label);
        item->setText(1, QString::number(detection.confidence, 'f', 3));
        item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
        item->setText(2, boxText(detection.box));
        item->setData(0, Qt::UserRole, i);
        item->setData(0, Qt::DecorationRole, markupColor(detection));
    }
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
        if (i < m_list->topLevelItemCount())
            m_list->topLevelItem(i)->setHidden(!passes);
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

void DetailView::updateNotices()
{
    const bool legacy = !m_hasDetectionData && !m_originalPath.isEmpty();
    m_noDataLabel->setText(m_noDataText.isEmpty()
                               ? tr("This server returned only an image; no detection data available")
                               : m_noDataText);
    m_noDataLabel->setVisible(legacy);
    if (!m_hasDetectionData) {
        m_reviewLabel->clear();
    } else if (m_annotation.reviewed) {
        m_reviewLabel->setText(tr("\u2714 Reviewed by %1").arg(m_annotation.reviewedBy));
        m_reviewLabel->setStyleSheet(QStringLiteral("color: #1e7e34; font-weight: bold;"));
    } else {
        m_reviewLabel->setText(m_annotation.edited ? tr("Corrected, not reviewed") : tr("Not reviewed"));
        m_reviewLabel->setStyleSheet(QString());
    }
    if (m_annotation.hasNewerOutput) {
        m_newerLabel->setText(tr("The image was processed again (%1, %n box(es)); your corrections are kept. "
                                 "<a href=\"adopt\">Replace them with the new output</a> (undoable).",
                                 nullptr, int(m_annotation.newerOutput.detections.size()))
                                  .arg(m_annotation.newerOutput.model.toHtmlEscaped()));
        m_newerLabel->show();
    } else {
        m_newerLabel->hide();
    }
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
    if (index < 0 || index >= m_list->topLevelItemCount()) {
        m_list->clearSelection();
        return;
    }
    m_list->setCurrentItem(m_list->topLevelItem(index));
    m_list->topLevelItem(index)->setSelected(true);
}

int DetailView::selectedDetection() const
{
    const QList<QTreeWidgetItem *> selected = m_list->selectedItems();
    if (selected.isEmpty() || selected.first()->isHidden())
        return -1;
    return selected.first()->data(0, Qt::UserRole).toInt();
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

void DetailView::reloadResultImage()
{
    if (m_resultPath.isEmpty())
        return;
    m_resultWatcher.setProperty("path", m_resultPath);
    m_resultWatcher.setFuture(QtConcurrent::run([path = m_resultPath] {
        QString error;
        return loadImage(path, &error);
    }));
}

void DetailView::syncZoomFrom(ImageView *source)
{
    if (m_syncing)
        return;
    ImageView *other = source == m_originalView ? m_resultView : m_originalView;
    if (source->imageSize().isEmpty() || other->imageSize().isEmpty())
        return;
    m_syncing = true;
    if (source->isFitMode()) {
        // "Fit" means each whole image in its own pane; their panes may differ in size.
        if (!other->isFitMode())
            other->fitToWindow();
        m_syncing = false;
        return;
    }
    // Show the same part of the scene, even if the result was saved at another size.
    const double ratio = double(source->imageSize().width()) / other->imageSize().width();
    const QPointF center = source->normalizedCenter();
    other->setZoom(source->zoom() * ratio);
    other->centerOnNormalized(center);
    m_syncing = false;
}

void DetailView::syncScrollFrom(ImageView *source)
{
    if (m_syncing)
        return;
    ImageView *other = source == m_originalView ? m_resultView : m_originalView;
    m_syncing = true;
    other->centerOnNormalized(source->normalizedCenter());
    m_syncing = false;
}

void DetailView::zoomIn()
{
    m_originalView->zoomIn();
}

void DetailView::zoomOut()
{
    m_originalView->zoomOut();
}

void DetailView::showActualSize()
{
    m_originalView->showActualSize();
}

void DetailView::fitToWindow()
{
    m_syncing = true;
    m_originalView->fitToWindow();
    m_resultView->fitToWindow();
    m_syncing = false;
}

void DetailView::setConfidenceThreshold(double threshold)
{
    m_confidenceSlider->setValue(qRound(qBound(0.0, threshold, 1.0) * kSliderSteps));
}

double DetailView::confidenceThreshold() const
{
    return double(m_confidenceSlider->value()) / kSliderSteps;
}

void DetailView::setBoxesVisible(bool visible)
{
    m_boxesToggle->setChecked(visible);
}

void DetailView::setLabelsVisible(bool visible)
{
    m_labelsToggle->setChecked(visible);
}

bool DetailView::boxesVisible() const
{
    return m_boxesToggle->isChecked();
}

bool DetailView::labelsVisible() const
{
    return m_labelsToggle->isChecked();
}

int DetailView::visibleBoxCount() const
{
    int count = 0;
    for (const BoxItem *rect : m_boxItems)
        count += rect->isVisible() && rect->pen().style() != Qt::NoPen ? 1 : 0;
    return count;
}

bool DetailView::isLoading() const
{
    return m_watcher.isRunning();
}

bool DetailView::hasDetectionData() const
{
    return m_hasDetectionData;
}

QString DetailView::originalPath() const
{
    return m_originalPath;
}

QString DetailView::loadError() const
{
    return m_loadError;
}

ImageView *DetailView::originalView() const
{
    return m_originalView;
}

ImageView *DetailView::resultView() const
{
    return m_resultView;
}

LabelPicker *DetailView::labelPicker() const
{
    return m_picker.data();
}

QUndoStack *DetailView::undoStack() const
{
    return m_stacks.value(m_originalPath);
}

} // namespace edgelens
