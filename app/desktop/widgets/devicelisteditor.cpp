#include "widgets/devicelisteditor.h"

#include "widgets/errorlabel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLoggingCategory>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

Q_LOGGING_CATEGORY(lcDeviceListEditor, "edgelens.widgets.devicelist")

namespace edgelens {

namespace {

enum Column { NameColumn, ProtocolColumn, TestColumn };

QString protocolLabel(AppSettings::Protocol protocol, bool tls)
{
    QString text;
    switch (protocol) {
    case AppSettings::Protocol::V2:
        text = QStringLiteral("v2");
        break;
    case AppSettings::Protocol::Legacy:
        text = QStringLiteral("legacy");
        break;
    case AppSettings::Protocol::DeepStack:
        text = QStringLiteral("DeepStack HTTP");
        break;
    case AppSettings::Protocol::Auto:
        text = QStringLiteral("automatic");
        break;
    }
    return tls ? text + QStringLiteral(", TLS") : text;
}

} // namespace

std::optional<AppSettings::Device> DeviceListEditor::Entry::toDevice(QString *reason) const
{
    QString error = AppSettings::validateHost(host);
    if (error.isEmpty())
        error = AppSettings::validatePort(port);
    AppSettings::Device device;
    if (error.isEmpty()) {
        device.host = host.trimmed();
        device.port = quint16(port.trimmed().toInt());
        device.protocol = protocol;
        device.tls = tls;
        device.enabled = enabled;
        error = device.validate();
    }
    if (reason)
        *reason = error;
    if (!error.isEmpty())
        return std::nullopt;
    return device;
}

DeviceListEditor::DeviceListEditor(QWidget *parent)
    : QWidget(parent)
{
    buildUi();
}

DeviceListEditor::~DeviceListEditor() = default;

void DeviceListEditor::buildUi()
{
    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("devices"));
    m_list->setHeaderLabels({tr("Device"), tr("Protocol"), tr("Last test")});
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setMinimumHeight(5 * m_list->fontMetrics().lineSpacing());
    // The address and protocol are short and must show whole ("127.0.0.1:6000", not
    // "127.0.0.1:..."); the test result takes what is left and elides (its tooltip has it all).
    m_list->header()->setSectionResizeMode(NameColumn, QHeaderView::ResizeToContents);
    m_list->header()->setSectionResizeMode(ProtocolColumn, QHeaderView::ResizeToContents);
    m_list->header()->setStretchLastSection(true);
    m_list->setToolTip(tr("Checked devices get images; uncheck one to keep it in the list without using it."));

    m_add = new QPushButton(tr("&Add"), this);
    m_add->setObjectName(QStringLiteral("addDeviceButton"));
    m_remove = new QPushButton(tr("Re&move"), this);
    m_remove->setObjectName(QStringLiteral("removeDeviceButton"));
    auto *buttons = new QVBoxLayout;
    buttons->addWidget(m_add);
    buttons->addWidget(m_remove);
    buttons->addStretch(1);
    auto *listRow = new QHBoxLayout;
    listRow->addWidget(m_list, 1);
    listRow->addLayout(buttons);

    m_host = new QLineEdit(this);
    m_host->setObjectName(QStringLiteral("host"));
    m_host->setPlaceholderText(tr("192.168.1.20, ::1 or device.local"));
    m_host->setMinimumWidth(300);
    m_hostError = makeErrorLabel(QStringLiteral("hostError"), this);
    m_port = new QLineEdit(this);
    m_port->setObjectName(QStringLiteral("port"));
    m_port->setMaximumWidth(90);
    m_portError = makeErrorLabel(QStringLiteral("portError"), this);
    m_protocol = new QComboBox(this);
    m_protocol->setObjectName(QStringLiteral("protocol"));
    m_protocol->addItem(tr("Automatic (v2, else legacy)"), int(AppSettings::Protocol::Auto));
    m_protocol->addItem(tr("EdgeLens v2"), int(AppSettings::Protocol::V2));
    m_protocol->addItem(tr("Legacy (tutorial: image in, image out)"), int(AppSettings::Protocol::Legacy));
    m_protocol->addItem(tr("DeepStack / CodeProject.AI (HTTP)"), int(AppSettings::Protocol::DeepStack));
    m_tls = new QCheckBox(tr("Encrypted connection (TLS)"), this);
    m_tls->setObjectName(QStringLiteral("tls"));
    m_tls->setToolTip(tr("The device must run edgelens-server --tls. The first connection shows its certificate's "
                         "fingerprint and asks whether to trust it."));

    auto *fields = new QFormLayout;
    auto *hostBox = new QVBoxLayout;
    hostBox->setSpacing(2);
    hostBox->addWidget(m_host);
    hostBox->addWidget(m_hostError);
    fields->addRow(tr("&Host / IP:"), hostBox);
    auto *portBox = new QVBoxLayout;
    portBox->setSpacing(2);
    auto *portRow = new QHBoxLayout;
    portRow->addWidget(m_port);
    portRow->addStretch(1);
    portBox->addLayout(portRow);
    portBox->addWidget(m_portError);
    fields->addRow(tr("&Port:"), portBox);
    fields->addRow(tr("P&rotocol:"), m_protocol);
    fields->addRow(QString(), m_tls);

    m_embeddedJoins = new QCheckBox(tr("The embedded server joins them (this computer helps)"), this);
    m_embeddedJoins->setObjectName(QStringLiteral("embeddedJoins"));
    m_listError = makeErrorLabel(QStringLiteral("devicesError"), this);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(listRow);
    layout->addLayout(fields);
    layout->addWidget(m_embeddedJoins);
    layout->addWidget(m_listError);

    connect(m_add, &QPushButton::clicked, this, &DeviceListEditor::addDevice);
    connect(m_remove, &QPushButton::clicked, this, &DeviceListEditor::removeCurrent);
    connect(m_list, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem *item) {
        if (!m_loading)
            showEntry(item ? m_list->indexOfTopLevelItem(item) : -1);
    });
    connect(m_list, &QTreeWidget::itemChanged, this, [this](QTreeWidgetItem *item, int column) {
        const int index = m_list->indexOfTopLevelItem(item);
        if (m_loading || column != NameColumn || index < 0 || index >= m_entries.size())
            return;
        m_entries[index].enabled = item->checkState(NameColumn) == Qt::Checked;
        validate();
        emit changed();
    });
    for (QLineEdit *edit : {m_host, m_port})
        connect(edit, &QLineEdit::textChanged, this, &DeviceListEditor::storeFields);
    connect(m_protocol, &QComboBox::currentIndexChanged, this, &DeviceListEditor::storeFields);
    connect(m_tls, &QCheckBox::toggled, this, &DeviceListEditor::storeFields);
    connect(m_embeddedJoins, &QCheckBox::toggled, this, [this] {
        validate();
        emit changed();
    });
}

void DeviceListEditor::setDevices(const QList<AppSettings::Device> &devices, bool embeddedJoins)
{
    m_entries.clear();
    for (const AppSettings::Device &d : devices)
        m_entries.append({d.host, QString::number(d.port), d.protocol, d.tls, d.enabled, QString()});
    {
        const QSignalBlocker blocker(m_embeddedJoins);
        m_embeddedJoins->setChecked(embeddedJoins);
    }
    rebuildList();
    setCurrentIndex(m_entries.isEmpty() ? -1 : 0);
    validate();
}

std::optional<QList<AppSettings::Device>> DeviceListEditor::devices() const
{
    QList<AppSettings::Device> list;
    for (const Entry &entry : m_entries) {
        const std::optional<AppSettings::Device> device = entry.toDevice();
        if (!device)
            return std::nullopt;
        list.append(*device);
    }
    return list;
}

bool DeviceListEditor::embeddedJoins() const
{
    return m_embeddedJoins->isChecked();
}

int DeviceListEditor::count() const
{
    return int(m_entries.size());
}

int DeviceListEditor::currentIndex() const
{
    return m_current;
}

void DeviceListEditor::setCurrentIndex(int index)
{
    if (index >= 0 && index < m_list->topLevelItemCount()) {
        m_list->setCurrentItem(m_list->topLevelItem(index)); // showEntry via currentItemChanged
        // No signal when the item already was current: removing an entry moves the list's
        // current item while m_loading hides it, and m_current would point past the end.
        if (m_current != index)
            showEntry(index);
    } else {
        showEntry(-1);
    }
}

std::optional<AppSettings::Device> DeviceListEditor::currentDevice() const
{
    if (m_current < 0 || m_current >= m_entries.size())
        return std::nullopt;
    return m_entries.at(m_current).toDevice();
}

void DeviceListEditor::rebuildList()
{
    m_loading = true;
    m_list->clear();
    for (int i = 0; i < m_entries.size(); ++i) {
        auto *item = new QTreeWidgetItem(m_list);
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        Q_UNUSED(item)
        refreshItem(i);
    }
    m_loading = false;
}

void DeviceListEditor::refreshItem(int index)
{
    QTreeWidgetItem *item = m_list->topLevelItem(index);
    if (!item || index >= m_entries.size())
        return;
    const bool wasLoading = m_loading;
    m_loading = true;
    const Entry &entry = m_entries.at(index);
    QString reason;
    const std::optional<AppSettings::Device> device = entry.toDevice(&reason);
    item->setText(NameColumn, device ? device->name() : (entry.host.trimmed().isEmpty() ? tr("(new device)") : entry.host));
    item->setCheckState(NameColumn, entry.enabled ? Qt::Checked : Qt::Unchecked);
    item->setText(ProtocolColumn, protocolLabel(entry.protocol, entry.tls));
    item->setText(TestColumn, device ? entry.testResult : reason);
    item->setToolTip(TestColumn, device ? entry.testResult : reason);
    item->setForeground(TestColumn, device ? QBrush() : QBrush(QColor(0xc0, 0x39, 0x2b)));
    m_loading = wasLoading;
}

void DeviceListEditor::showEntry(int index)
{
    m_current = (index >= 0 && index < m_entries.size()) ? index : -1;
    const bool has = m_current >= 0;
    m_loading = true;
    const Entry entry = has ? m_entries.at(m_current) : Entry{};
    m_host->setText(has ? entry.host : QString());
    m_port->setText(has ? entry.port : QString());
    m_protocol->setCurrentIndex(m_protocol->findData(int(entry.protocol)));
    m_tls->setChecked(entry.tls);
    m_loading = false;
    for (QWidget *w : std::initializer_list<QWidget *>{m_host, m_port, m_protocol, m_tls, m_remove})
        w->setEnabled(has);
    validate();
    emit currentChanged(m_current);
}

void DeviceListEditor::storeFields()
{
    if (m_loading || m_current < 0)
        return;
    Entry &entry = m_entries[m_current];
    entry.host = m_host->text();
    entry.port = m_port->text();
    entry.protocol = AppSettings::Protocol(m_protocol->currentData().toInt());
    entry.tls = m_tls->isChecked();
    entry.testResult.clear(); // tested another address
    refreshItem(m_current);
    validate();
    emit changed();
}

void DeviceListEditor::addDevice()
{
    Entry entry;
    entry.port = QString::number(AppSettings().port);
    appendEntry(entry);
    m_host->setFocus();
    emit changed();
}

int DeviceListEditor::appendDevice(const AppSettings::Device &device)
{
    const QString key = device.toSpec().key();
    for (int i = 0; i < m_entries.size(); ++i) {
        if (const std::optional<AppSettings::Device> existing = m_entries.at(i).toDevice()) {
            if (existing->toSpec().key() == key) {
                setCurrentIndex(i);
                return i;
            }
        }
    }
    const int index = appendEntry({device.host, QString::number(device.port), device.protocol, device.tls,
                                   device.enabled, QString()});
    validate();
    emit changed();
    return index;
}

int DeviceListEditor::appendEntry(const Entry &entry)
{
    m_entries.append(entry);
    m_loading = true;
    auto *item = new QTreeWidgetItem(m_list);
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    m_loading = false;
    const int index = int(m_entries.size()) - 1;
    refreshItem(index);
    setCurrentIndex(index);
    return index;
}

void DeviceListEditor::removeCurrent()
{
    if (m_current < 0)
        return;
    const int removed = m_current;
    m_entries.removeAt(removed);
    m_loading = true;
    delete m_list->takeTopLevelItem(removed);
    m_loading = false;
    setCurrentIndex(qMin(removed, int(m_entries.size()) - 1));
    validate();
    emit changed();
}

void DeviceListEditor::setTestResult(int index, bool ok, const QString &message)
{
    if (index < 0 || index >= m_entries.size())
        return;
    m_entries[index].testResult = (ok ? tr("OK: ") : tr("Failed: ")) + message;
    refreshItem(index);
}

void DeviceListEditor::setFieldError(QLabel *label, const QString &error)
{
    label->setText(error);
    label->setVisible(!error.isEmpty());
}

void DeviceListEditor::validate()
{
    if (m_current >= 0) {
        const Entry &entry = m_entries.at(m_current);
        setFieldError(m_hostError, AppSettings::validateHost(entry.host));
        setFieldError(m_portError, AppSettings::validatePort(entry.port));
    } else {
        setFieldError(m_hostError, QString());
        setFieldError(m_portError, QString());
    }
    QString listError;
    if (m_hostError->text().isEmpty() && m_portError->text().isEmpty()) {
        // An entry that is not selected is named, so the user knows which one to fix.
        for (int i = 0; i < m_entries.size() && listError.isEmpty(); ++i) {
            QString reason;
            if (!m_entries.at(i).toDevice(&reason))
                listError = i == m_current ? reason : tr("Device %1: %2").arg(i + 1).arg(reason);
        }
        if (listError.isEmpty()) {
            if (const std::optional<QList<AppSettings::Device>> list = devices())
                listError = AppSettings::validateDevices(*list, m_embeddedJoins->isChecked());
        }
    }
    setFieldError(m_listError, listError);
}

QStringList DeviceListEditor::errors() const
{
    QStringList list;
    for (const QLabel *label : {m_hostError, m_portError, m_listError}) {
        if (!label->text().isEmpty())
            list << label->text();
    }
    return list;
}

} // namespace edgelens
