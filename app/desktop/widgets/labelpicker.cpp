#include "widgets/labelpicker.h"

#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QVBoxLayout>

namespace edgelens {

namespace {
constexpr int kNewLabelRole = Qt::UserRole + 1;
}

LabelPicker::LabelPicker(const QStringList &labels, const QString &current, QWidget *parent)
    : QDialog(parent)
    , m_labels(labels)
{
    setWindowTitle(tr("Label"));
    setObjectName(QStringLiteral("labelPicker"));
    m_filter = new QLineEdit(this);
    m_filter->setObjectName(QStringLiteral("labelFilter"));
    m_filter->setPlaceholderText(tr("Type to search, or a new label"));
    m_filter->setClearButtonEnabled(true);
    m_list = new QListWidget(this);
    m_list->setObjectName(QStringLiteral("labelList"));
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(tr("Label of the selected box:"), this));
    layout->addWidget(m_filter);
    layout->addWidget(m_list, 1);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_filter, &QLineEdit::textChanged, this, &LabelPicker::refilter);
    connect(m_list, &QListWidget::itemActivated, this, &QDialog::accept);
    // Up/Down move through the list while typing goes on in the filter.
    m_filter->installEventFilter(this);
    refilter();
    for (int i = 0; i < m_list->count(); ++i) {
        if (m_list->item(i)->text() == current)
            m_list->setCurrentRow(i);
    }
    m_filter->setFocus();
    resize(320, 360);
}

void LabelPicker::refilter()
{
    const QString text = m_filter->text().trimmed();
    m_list->clear();
    bool exact = false;
    for (const QString &label : std::as_const(m_labels)) {
        if (!text.isEmpty() && !label.contains(text, Qt::CaseInsensitive))
            continue;
        exact = exact || label.compare(text, Qt::CaseInsensitive) == 0;
        m_list->addItem(label);
    }
    int current = 0;
    if (!text.isEmpty() && !exact) {
        auto *item = new QListWidgetItem(tr("New label \u201c%1\u201d").arg(text));
        item->setData(kNewLabelRole, text);
        m_list->insertItem(m_list->count(), item);
        // An existing label that starts like the typed text is the likelier wish.
        current = m_list->count() > 1 ? 0 : m_list->count() - 1;
    }
    if (exact) {
        for (int i = 0; i < m_list->count(); ++i) {
            if (m_list->item(i)->text().compare(text, Qt::CaseInsensitive) == 0)
                current = i;
        }
    }
    m_list->setCurrentRow(m_list->count() > 0 ? current : -1);
}

bool LabelPicker::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_filter && event->type() == QEvent::KeyPress) {
        const int key = static_cast<QKeyEvent *>(event)->key();
        if (key == Qt::Key_Up || key == Qt::Key_Down || key == Qt::Key_PageUp || key == Qt::Key_PageDown) {
            QCoreApplication::sendEvent(m_list, event);
            return true;
        }
    }
    return QDialog::eventFilter(watched, event);
}

QString LabelPicker::label() const
{
    return m_chosen;
}

void LabelPicker::accept()
{
    const QListWidgetItem *item = m_list->currentItem();
    if (item)
        m_chosen = item->data(kNewLabelRole).isValid() ? item->data(kNewLabelRole).toString() : item->text();
    else
        m_chosen = m_filter->text().trimmed();
    if (m_chosen.isEmpty())
        return; // nothing to name the box with: stay open
    QDialog::accept();
}

} // namespace edgelens
