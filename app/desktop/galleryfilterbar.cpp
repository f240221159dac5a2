#include "galleryfilterbar.h"

#include "galleryfilterproxy.h"
#include "gallerymodel.h"

#include <QComboBox>
#include <QLabel>
#include <QSignalBlocker>
#include <QToolButton>

namespace edgelens {

GalleryFilterBar::GalleryFilterBar(GalleryModel *model, GalleryFilterProxy *proxy, QWidget *parent)
    : QToolBar(tr("Filter"), parent)
    , m_model(model)
    , m_proxy(proxy)
{
    // The name is what QMainWindow::saveState() files the bar under.
    setObjectName(QStringLiteral("filterToolBar"));
    setMovable(false);
    addWidget(new QLabel(tr(" Show: "), this));
    m_statusFilter = new QComboBox(this);
    m_statusFilter->setObjectName(QStringLiteral("statusFilter"));
    m_statusFilter->addItem(tr("All images"), int(GalleryFilterProxy::StatusFilter::All));
    m_statusFilter->addItem(tr("Waiting"), int(GalleryFilterProxy::StatusFilter::Pending));
    m_statusFilter->addItem(tr("Done"), int(GalleryFilterProxy::StatusFilter::Done));
    m_statusFilter->addItem(tr("With detections"), int(GalleryFilterProxy::StatusFilter::WithDetections));
    m_statusFilter->addItem(tr("Nothing detected"), int(GalleryFilterProxy::StatusFilter::WithoutDetections));
    m_statusFilter->addItem(tr("Failed or cancelled"), int(GalleryFilterProxy::StatusFilter::Failed));
    m_statusFilter->addItem(tr("Not reviewed"), int(GalleryFilterProxy::StatusFilter::NotReviewed));
    m_statusFilter->addItem(tr("Reviewed"), int(GalleryFilterProxy::StatusFilter::Reviewed));
    addWidget(m_statusFilter);
    connect(m_statusFilter, &QComboBox::currentIndexChanged, this, [this] {
        m_proxy->setStatusFilter(GalleryFilterProxy::StatusFilter(m_statusFilter->currentData().toInt()));
        emit filterChanged();
    });

    m_labelFilter = new QComboBox(this);
    m_labelFilter->setObjectName(QStringLiteral("labelFilter"));
    m_labelFilter->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    addWidget(m_labelFilter);
    connect(m_labelFilter, &QComboBox::currentIndexChanged, this, [this] {
        m_proxy->setLabelFilter(m_labelFilter->currentData().toString());
        emit filterChanged();
    });
    connect(m_model, &GalleryModel::labelsChanged, this, &GalleryFilterBar::updateLabels);
    updateLabels();

    addWidget(new QLabel(tr("  Sort: "), this));
    m_sortBox = new QComboBox(this);
    m_sortBox->setObjectName(QStringLiteral("sortKey"));
    m_sortBox->addItem(tr("Order added"), int(GalleryFilterProxy::SortKey::Added));
    m_sortBox->addItem(tr("Name"), int(GalleryFilterProxy::SortKey::Name));
    m_sortBox->addItem(tr("Detections"), int(GalleryFilterProxy::SortKey::Detections));
    m_sortBox->addItem(tr("Date modified"), int(GalleryFilterProxy::SortKey::Modified));
    m_sortBox->addItem(tr("Time processed"), int(GalleryFilterProxy::SortKey::Finished));
    addWidget(m_sortBox);
    m_sortOrder = new QToolButton(this);
    m_sortOrder->setObjectName(QStringLiteral("sortOrder"));
    m_sortOrder->setCheckable(true);
    m_sortOrder->setAutoRaise(true);
    m_sortOrder->setToolTip(tr("Descending order"));
    m_sortOrder->setArrowType(Qt::UpArrow);
    addWidget(m_sortOrder);
    connect(m_sortBox, &QComboBox::currentIndexChanged, this, &GalleryFilterBar::applySort);
    connect(m_sortOrder, &QToolButton::toggled, this, &GalleryFilterBar::applySort);
}

int GalleryFilterBar::sortIndex() const
{
    return m_sortBox->currentIndex();
}

void GalleryFilterBar::setSortIndex(int index)
{
    m_sortBox->setCurrentIndex(qBound(0, index, m_sortBox->count() - 1));
}

bool GalleryFilterBar::isDescending() const
{
    return m_sortOrder->isChecked();
}

void GalleryFilterBar::setDescending(bool descending)
{
    m_sortOrder->setChecked(descending);
}

void GalleryFilterBar::applySort()
{
    m_sortOrder->setArrowType(m_sortOrder->isChecked() ? Qt::DownArrow : Qt::UpArrow);
    m_proxy->setSortKey(GalleryFilterProxy::SortKey(m_sortBox->currentData().toInt()),
                        m_sortOrder->isChecked() ? Qt::DescendingOrder : Qt::AscendingOrder);
}

void GalleryFilterBar::updateLabels()
{
    const QString current = m_labelFilter->currentData().toString();
    const QSignalBlocker block(m_labelFilter);
    m_labelFilter->clear();
    m_labelFilter->addItem(tr("Any label"), QString());
    const QStringList labels = m_model->allLabels();
    for (const QString &label : labels)
        m_labelFilter->addItem(label, label);
    int index = m_labelFilter->findData(current);
    if (index < 0 && !current.isEmpty()) {
        // Keep a chosen label selectable even when no image carries it any more.
        m_labelFilter->addItem(current, current);
        index = m_labelFilter->count() - 1;
    }
    m_labelFilter->setCurrentIndex(qMax(0, index));
}

} // namespace edgelens
