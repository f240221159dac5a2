#pragma once

// The toolbar above the gallery: "Show" (status filter), the label filter (every label seen
// so far) and "Sort" with its order button, applied to a GalleryFilterProxy as they change.

#include <QToolBar>

class QComboBox;
class QToolButton;

namespace edgelens {

class GalleryFilterProxy;
class GalleryModel;

class GalleryFilterBar final : public QToolBar
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GalleryFilterBar)

public:
    GalleryFilterBar(GalleryModel *model, GalleryFilterProxy *proxy, QWidget *parent = nullptr);

    // For saving and restoring the window state: the sort box's row and the order.
    int sortIndex() const;
    void setSortIndex(int index);
    bool isDescending() const;
    void setDescending(bool descending);

signals:
    void filterChanged(); // what the gallery shows changed (not its order)

private:
    void updateLabels();
    void applySort();

    GalleryModel *m_model;
    GalleryFilterProxy *m_proxy;
    QComboBox *m_statusFilter = nullptr;
    QComboBox *m_labelFilter = nullptr;
    QComboBox *m_sortBox = nullptr;
    QToolButton *m_sortOrder = nullptr;
};

} // namespace edgelens
