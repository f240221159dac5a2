#include "widgets/detailview.h"

#include "widgets/icons.h"
#include "widgets/imageview.h"

#include <QBrush>
#include <QCheckBox>
#include <QDir>
#include <QFileInfo>
#include <QGraphicsPixmapItem>
#include <QGraphicsRectItem>
#include <QGraphicsSimpleTextItem>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImageReader>
#include <QLabel>
#include <QLoggingCategory>
#include <QPen>
#include <QSlider>
#include <QSplitter>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <cmath>

Q_LOGGING_CATEGORY(lcDetailView, "edgelens.widgets.detailview")

namespace edgelens {

namespace {

constexpr int kSliderSteps = 100;
const QColor kHighlight(255, 215, 0);

// A stable colour per class so the same label looks the same across images.
QColor classColor(const Detection &detection)
{
    const uint seed = detection.classId >= 0 ? uint(detection.classId) * 47u : qHash(detection.label);
    return QColor::fromHsv(int(seed % 360u), 200, 255);
}

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

} // namespace

DetailView::DetailView(QWidget *parent)
    : QWidget(parent)
{
    m_originalView = new ImageView(this);
    m_originalView->setObjectName(QStringLiteral("originalView"));
    m_resultView = new ImageView(this);
    m_resultView->setObjectName(QStringLiteral("resultView"));

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
    m_confidenceSlider->setToolTip(tr("Hide boxes below this confidence (filters locally, nothing is re-sent)"));
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

    m_noDataLabel = new QLabel(tr("This server returned only an image; no detection data available"), this);
    m_noDataLabel->setObjectName(QStringLiteral("noDataLabel"));
    m_noDataLabel->setWordWrap(true);
    m_noDataLabel->setStyleSheet(QStringLiteral("padding: 4px; background: #fff3cd; color: #5c4400;"));
    m_noDataLabel->hide();
    m_errorLabel = new QLabel(this);
    m_errorLabel->setObjectName(QStringLiteral("errorLabel"));
    m_errorLabel->setWordWrap(true);
    m_errorLabel->setStyleSheet(QStringLiteral("color: #c0392b;"));
    m_errorLabel->hide();

    auto *originalColumn = new QWidget(this);
    auto *originalLayout = new QVBoxLayout(originalColumn);
    originalLayout->setContentsMargins(0, 0, 0, 0);
    originalLayout->addWidget(new QLabel(tr("Original (boxes drawn from the detection data)"), originalColumn));
    originalLayout->addWidget(m_originalView, 1);
    auto *resultColumn = new QWidget(this);
    auto *resultLayout = new QVBoxLayout(resultColumn);
    resultLayout->setContentsMargins(0, 0, 0, 0);
    m_resultCaption = new QLabel(tr("Result (as returned by the server)"), resultColumn);
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
    for (ImageView *view : {m_originalView, m_resultView}) {
        connect(view, &ImageView::zoomChanged, this, [this, view] { syncZoomFrom(view); });
        connect(view, &ImageView::viewScrolled, this, [this, view] { syncScrollFrom(view); });
    }
    connect(&m_watcher, &QFutureWatcher<LoadedImages>::finished, this, &DetailView::applyLoadedImages);

    handleSliderMoved(m_confidenceSlider->value());
}

DetailView::~DetailView()
{
    // The loader only touches its own copies, but waiting keeps it from outliving the app.
    m_watcher.waitForFinished();
}

void DetailView::showItem(const QString &originalPath, const QString &resultPath, const DetectionResult &result,
                          bool hasDetectionData)
{
    ++m_generation;
    m_originalPath = originalPath;
    m_resultPath = resultPath;
    m_result = result;
    m_hasDetectionData = hasDetectionData;
    m_loadError.clear();
    m_boxItems.clear();
    m_originalView->setImage({});
    m_resultView->setImage({});
    setWindowTitle(QFileInfo(originalPath).fileName());

    m_noDataLabel->setVisible(!hasDetectionData);
    m_list->setVisible(hasDetectionData);
    for (QWidget *w : {static_cast<QWidget *>(m_boxesToggle), static_cast<QWidget *>(m_labelsToggle),
                       static_cast<QWidget *>(m_confidenceSlider)})
        w->setEnabled(hasDetectionData);
    rebuildList();

    m_errorLabel->setText(tr("Loading\u2026"));
    m_errorLabel->setStyleSheet(QString());
    m_errorLabel->show();

    // Decoding two full-resolution images can take long enough to freeze the GUI.
    const quint64 generation = m_generation;
    m_watcher.setProperty("generation", generation);
    m_watcher.setFuture(QtConcurrent::run(&DetailView::loadImages, originalPath, resultPath));
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
                                                    : tr("Result (as returned by the server)"));

    // Boxes are in the pixels the server saw; if it reported another size (a downscaled
    // upload, say), map them onto the image shown here.
    m_boxScaleX = 1.0;
    m_boxScaleY = 1.0;
    if (!loaded.original.isNull() && m_result.imageWidth > 0 && m_result.imageHeight > 0) {
        m_boxScaleX = double(loaded.original.width()) / m_result.imageWidth;
        m_boxScaleY = double(loaded.original.height()) / m_result.imageHeight;
    }

    m_syncing = true;
    m_originalView->setImage(loaded.original);
    m_resultView->setImage(loaded.result);
    m_syncing = false;
    rebuildOverlay();
    applyFilter();
    Q_EMIT itemLoaded();
}

void DetailView::rebuildOverlay()
{
    m_boxItems.clear();
    QGraphicsPixmapItem *image = m_originalView->imageItem();
    if (!image || !m_hasDetectionData)
        return;
    for (const Detection &detection : std::as_const(m_result.detections)) {
        const QRectF box(detection.box.x() * m_boxScaleX, detection.box.y() * m_boxScaleY,
                         detection.box.width() * m_boxScaleX, detection.box.height() * m_boxScaleY);
        auto *rect = new QGraphicsRectItem(box, image);
        const QColor color = classColor(detection);
        QPen pen(color, 2);
        pen.setCosmetic(true); // same on-screen width at every zoom
        rect->setPen(pen);
        rect->setData(0, color);

        // The label keeps its screen size while zooming, anchored at the box's corner.
        auto *tag = new QGraphicsRectItem(rect);
        tag->setFlag(QGraphicsItem::ItemIgnoresTransformations);
        tag->setPos(box.topLeft());
        tag->setPen(Qt::NoPen);
        tag->setBrush(color);
        auto *text = new QGraphicsSimpleTextItem(
            QStringLiteral("%1 %2").arg(detection.label, QString::number(detection.confidence, 'f', 2)), tag);
        text->setBrush(Qt::black);
        const QRectF textRect = text->boundingRect();
        text->setPos(2, -textRect.height() - 1);
        tag->setRect(QRectF(0, -textRect.height() - 2, textRect.width() + 4, textRect.height() + 2));
        m_boxItems.append(rect);
    }
}

void DetailView::rebuildList()
{
    const QSignalBlocker blocker(m_list);
    m_list->clear();
    if (!m_hasDetectionData)
        return;
    for (int i = 0; i < m_result.detections.size(); ++i) {
        const Detection &detection = m_result.detections.at(i);
        auto *item = new QTreeWidgetItem(m_list);
        item->setText(0, detection.label);
        item->setText(1, QString::number(detection.confidence, 'f', 3));
        item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
        item->setText(2, boxText(detection.box));
        item->setData(0, Qt::UserRole, i);
        item->setData(0, Qt::DecorationRole, classColor(detection));
    }
}

void DetailView::handleSliderMoved(int value)
{
    m_confidenceValue->setText(QString::number(double(value) / kSliderSteps, 'f', 2));
    applyFilter();
}

void DetailView::applyFilter()
{
    const double threshold = confidenceThreshold();
    const bool boxes = m_boxesToggle->isChecked();
    const bool labels = m_labelsToggle->isChecked();
    int shown = 0;
    for (int i = 0; i < m_result.detections.size(); ++i) {
        const bool passes = m_result.detections.at(i).confidence >= threshold;
        shown += passes ? 1 : 0;
        if (i < m_list->topLevelItemCount())
            m_list->topLevelItem(i)->setHidden(!passes);
        if (i < m_boxItems.size()) {
            QGraphicsRectItem *rect = m_boxItems.at(i);
            rect->setVisible(passes && (boxes || labels));
            // Labels without boxes: keep the item (and its label child), drop the outline.
            QPen pen = rect->pen();
            pen.setStyle(boxes ? Qt::SolidLine : Qt::NoPen);
            rect->setPen(pen);
            const auto children = rect->childItems();
            for (QGraphicsItem *child : children)
                child->setVisible(labels);
        }
    }
    if (m_hasDetectionData)
        m_countLabel->setText(tr("%1 of %2 shown").arg(shown).arg(m_result.detections.size()));
    else
        m_countLabel->clear();
    updateHighlight();
}

void DetailView::updateHighlight()
{
    const int selected = selectedDetection();
    for (int i = 0; i < m_boxItems.size(); ++i) {
        QGraphicsRectItem *rect = m_boxItems.at(i);
        QPen pen = rect->pen();
        const bool isSelected = i == selected;
        pen.setColor(isSelected ? kHighlight : rect->data(0).value<QColor>());
        pen.setWidthF(isSelected ? 4 : 2);
        rect->setPen(pen);
        rect->setZValue(isSelected ? 1 : 0);
        // A selected box stays findable even when boxes are toggled off.
        if (isSelected && pen.style() == Qt::NoPen && rect->isVisible()) {
            pen.setStyle(Qt::DashLine);
            rect->setPen(pen);
        }
    }
}

void DetailView::handleListSelection()
{
    updateHighlight();
    const int index = selectedDetection();
    if (index >= 0 && index < m_boxItems.size() && m_boxItems.at(index)->isVisible())
        m_originalView->ensureVisible(m_boxItems.at(index)->sceneBoundingRect(), 40, 40);
}

void DetailView::selectDetection(int index)
{
    if (index < 0 || index >= m_list->topLevelItemCount()) {
        m_list->clearSelection();
        return;
    }
    m_list->setCurrentItem(m_list->topLevelItem(index));
}

int DetailView::selectedDetection() const
{
    const QList<QTreeWidgetItem *> selected = m_list->selectedItems();
    if (selected.isEmpty() || selected.first()->isHidden())
        return -1;
    return selected.first()->data(0, Qt::UserRole).toInt();
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
    for (const QGraphicsRectItem *rect : m_boxItems)
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

} // namespace edgelens
