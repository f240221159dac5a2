// DetailView: building the view, showing an item (images loaded off the GUI thread), the
// notices above the panes, and the two panes zoomed and panned together. Box editing is in
// detailviewediting.cpp.

#include "widgets/detailview.h"

#include "widgets/boxitem.h"
#include "widgets/detectionlist.h"
#include "widgets/icons.h"
#include "widgets/imageview.h"
#include "widgets/labelpicker.h"

#include <QAction>
#include <QCheckBox>
#include <QDir>
#include <QFileInfo>
#include <QGraphicsScene>
#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QSlider>
#include <QSplitter>
#include <QToolButton>
#include <QUndoGroup>
#include <QUndoStack>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace edgelens {

namespace {

QToolButton *toolButton(const QString &iconName, const QString &text, const QString &tip, QWidget *parent)
{
    auto *button = new QToolButton(parent);
    button->setIcon(icons::icon(iconName));
    button->setText(text);
    button->setToolTip(tip);
    button->setAutoRaise(true);
    return button;
}

QLabel *noticeLabel(const char *objectName, const QString &styleSheet, QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setObjectName(QLatin1String(objectName));
    label->setWordWrap(true);
    label->setStyleSheet(styleSheet);
    label->hide();
    return label;
}

} // namespace

DetailView::DetailView(QWidget *parent)
    : QWidget(parent)
{
    // The views first: the focus chain follows creation order, and the original leads it.
    m_originalView = new ImageView(this);
    m_originalView->setObjectName(QStringLiteral("originalView"));
    m_resultView = new ImageView(this);
    m_resultView->setObjectName(QStringLiteral("resultView"));
    m_undoGroup = new QUndoGroup(this);
    QLayout *toolbar = createToolbar();
    createNotices();
    QWidget *panes = createPanes();

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(toolbar);
    layout->addWidget(createFrameBar());
    layout->addWidget(m_noDataLabel);
    layout->addWidget(m_newerLabel);
    layout->addWidget(m_errorLabel);
    layout->addWidget(panes, 1);

    connectParts();
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

QLayout *DetailView::createToolbar()
{
    auto *zoomInButton = toolButton(QStringLiteral("zoom-in"), tr("Zoom in"), tr("Zoom in (+)"), this);
    auto *zoomOutButton = toolButton(QStringLiteral("zoom-out"), tr("Zoom out"), tr("Zoom out (-)"), this);
    auto *fitButton = toolButton(QStringLiteral("zoom-fit"), tr("Fit"), tr("Fit to window (0)"), this);
    auto *actualButton = toolButton(QStringLiteral("zoom-original"), tr("1:1"), tr("Actual pixels (1)"), this);
    zoomInButton->setShortcut(QKeySequence::ZoomIn);
    zoomOutButton->setShortcut(QKeySequence::ZoomOut);
    connect(zoomInButton, &QToolButton::clicked, this, &DetailView::zoomIn);
    connect(zoomOutButton, &QToolButton::clicked, this, &DetailView::zoomOut);
    connect(fitButton, &QToolButton::clicked, this, &DetailView::fitToWindow);
    connect(actualButton, &QToolButton::clicked, this, &DetailView::showActualSize);

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
    m_reviewLabel = new QLabel(this);
    m_reviewLabel->setObjectName(QStringLiteral("reviewLabel"));

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
    toolbar->addSpacing(12);
    toolbar->addWidget(m_reviewLabel);
    return toolbar;
}

void DetailView::createNotices()
{
    m_noDataLabel = noticeLabel("noDataLabel", QStringLiteral("padding: 4px; background: #fff3cd; color: #5c4400;"), this);
    m_errorLabel = noticeLabel("errorLabel", QStringLiteral("color: #c0392b;"), this);
    m_newerLabel = noticeLabel("newerOutputLabel", QStringLiteral("padding: 4px; background: #e8f0fe; color: #1a3a6b;"),
                               this);
    connect(m_newerLabel, &QLabel::linkActivated, this, &DetailView::adoptNewerOutput);
}

QWidget *DetailView::createFrameBar()
{
    m_frameBar = new QWidget(this);
    m_frameBar->setObjectName(QStringLiteral("frameBar"));
    auto *bar = new QHBoxLayout(m_frameBar);
    bar->setContentsMargins(0, 0, 0, 0);
    m_previousFrame = new QToolButton(m_frameBar);
    m_previousFrame->setObjectName(QStringLiteral("previousFrame"));
    m_previousFrame->setText(tr("\u25c0 Previous frame"));
    m_previousFrame->setToolTip(tr("The previous sampled frame of this video (,)"));
    m_previousFrame->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_nextFrame = new QToolButton(m_frameBar);
    m_nextFrame->setObjectName(QStringLiteral("nextFrame"));
    m_nextFrame->setText(tr("Next frame \u25b6"));
    m_nextFrame->setToolTip(tr("The next sampled frame of this video (.)"));
    m_nextFrame->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_frameCaption = new QLabel(m_frameBar);
    m_frameCaption->setObjectName(QStringLiteral("frameCaption"));
    bar->addWidget(m_previousFrame);
    bar->addWidget(m_frameCaption);
    bar->addWidget(m_nextFrame);
    bar->addStretch(1);
    connect(m_previousFrame, &QToolButton::clicked, this, [this] { Q_EMIT frameStepRequested(-1); });
    connect(m_nextFrame, &QToolButton::clicked, this, [this] { Q_EMIT frameStepRequested(+1); });
    m_frameBar->hide();
    return m_frameBar;
}

void DetailView::setFramePosition(const QString &caption, bool hasPrevious, bool hasNext)
{
    m_frameCaption->setText(caption);
    m_previousFrame->setEnabled(hasPrevious);
    m_nextFrame->setEnabled(hasNext);
    m_frameBar->setVisible(!caption.isEmpty());
}

QString DetailView::framePosition() const
{
    return m_frameCaption->text();
}

QWidget *DetailView::createPanes()
{
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

    m_list = new DetectionList(this);

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
    return vertical;
}

void DetailView::connectParts()
{
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
        syncZoomFrom(m_originalView); // keep showing the same part of the scene
    });
    m_originalView->viewport()->installEventFilter(this);
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
