#pragma once

// The gallery grid. Adds what QListView lacks for this app: a first-run empty state and
// settings tuned for many thousands of equally sized cells.

#include <QListView>

namespace edgelens {

class GalleryView final : public QListView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GalleryView)

public:
    explicit GalleryView(QWidget *parent = nullptr);

    void setEmptyText(const QString &title, const QString &hint);
    // Drawn while files are dragged over the window, so it is clear a drop will be taken.
    void setDropHighlight(bool on);

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    QString m_emptyTitle;
    QString m_emptyHint;
    bool m_dropHighlight = false;
};

} // namespace edgelens
