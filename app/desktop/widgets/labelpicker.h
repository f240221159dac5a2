#pragma once

#include <QDialog>
#include <QStringList>

class QLineEdit;
class QListWidget;

namespace edgelens {

// Picks a box's label: type to filter the model's classes and the labels already used, or
// type a label that does not exist yet. Enter takes the highlighted entry; the first entry
// is the typed text itself when it matches no label exactly.
class LabelPicker final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LabelPicker)

public:
    LabelPicker(const QStringList &labels, const QString &current, QWidget *parent = nullptr);

    QString label() const; // what was chosen (after accept)
    QLineEdit *filterEdit() const { return m_filter; }
    QListWidget *list() const { return m_list; }

    void accept() override;

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void refilter();

    QStringList m_labels;
    QLineEdit *m_filter = nullptr;
    QListWidget *m_list = nullptr;
    QString m_chosen;
};

} // namespace edgelens
