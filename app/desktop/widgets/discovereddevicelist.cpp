#include "widgets/discovereddevicelist.h"

#include "discovery/servicebrowser.h"

#include <QHeaderView>
#include <QLabel>
#include <QLoggingCategory>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

Q_LOGGING_CATEGORY(lcDiscoveredList, "edgelens.widgets.discovered")

namespace edgelens {

namespace {

// Add first: always in view, whatever the dialog's width cuts off at the right.
enum Column { AddColumn, NameColumn, AddressColumn, ModelColumn, TlsColumn };

QString tlsText(const DeviceAnnouncement &a)
{
    if (!a.tls)
        return DiscoveredDeviceList::tr("no");
    // The start of the fingerprint is enough to tell devices apart; the tooltip has it all.
    return a.fingerprint.isEmpty() ? DiscoveredDeviceList::tr("yes")
                                   : DiscoveredDeviceList::tr("yes, %1\u2026").arg(a.fingerprint.left(15));
}

} // namespace

DiscoveredDeviceList::DiscoveredDeviceList(QWidget *parent)
    : QWidget(parent)
    , m_browser(new ServiceBrowser(this))
{
    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("discoveredDevices"));
    m_list->setHeaderLabels({QString(), tr("Found on the network"), tr("Address"), tr("Model"), tr("TLS")});
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setSelectionMode(QAbstractItemView::NoSelection);
    m_list->setMinimumHeight(4 * m_list->fontMetrics().lineSpacing());
    m_list->setMaximumHeight(7 * m_list->fontMetrics().lineSpacing());
    for (int column : {AddColumn, NameColumn, AddressColumn, ModelColumn})
        m_list->header()->setSectionResizeMode(column, QHeaderView::ResizeToContents);
    m_list->header()->setStretchLastSection(true);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("discoveryStatus"));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_list);
    layout->addWidget(m_status);

    connect(m_browser, &ServiceBrowser::found, this, &DiscoveredDeviceList::showService);
    connect(m_browser, &ServiceBrowser::updated, this, &DiscoveredDeviceList::showService);
    connect(m_browser, &ServiceBrowser::removed, this, &DiscoveredDeviceList::removeService);
    m_available = m_browser->start(QString::fromLatin1(DeviceAnnouncement::kServiceType));
    updateStatus();
}

DiscoveredDeviceList::~DiscoveredDeviceList() = default;

QList<DiscoveredDevice> DiscoveredDeviceList::devices() const
{
    QList<DiscoveredDevice> list;
    for (int i = 0; i < m_list->topLevelItemCount(); ++i)
        list.append(m_devices.value(m_list->topLevelItem(i)->data(NameColumn, Qt::UserRole).toString()));
    return list;
}

void DiscoveredDeviceList::showService(const DiscoveredService &service)
{
    const DiscoveredDevice device = DiscoveredDevice::fromService(service);
    m_devices.insert(device.name, device);
    QTreeWidgetItem *item = nullptr;
    for (int i = 0; i < m_list->topLevelItemCount() && !item; ++i) {
        if (m_list->topLevelItem(i)->data(NameColumn, Qt::UserRole).toString() == device.name)
            item = m_list->topLevelItem(i);
    }
    if (!item) {
        item = new QTreeWidgetItem(m_list);
        item->setData(NameColumn, Qt::UserRole, device.name);
        auto *add = new QPushButton(tr("Add"), m_list);
        add->setObjectName(QStringLiteral("addDiscoveredButton"));
        add->setToolTip(tr("Add this device to the list below with its port and TLS setting"));
        const QString name = device.name;
        connect(add, &QPushButton::clicked, this, [this, name] {
            if (m_devices.contains(name))
                Q_EMIT addRequested(m_devices.value(name));
        });
        m_list->setItemWidget(item, AddColumn, add);
    }
    const DeviceAnnouncement &a = device.announcement;
    item->setText(NameColumn, device.name);
    item->setToolTip(NameColumn, tr("%1 (%2), EdgeLens %3, protocols %4%5")
                                     .arg(device.name, device.hostName, a.version, a.protocols.join(QStringLiteral(", ")),
                                          a.tokenRequired ? tr(", needs the access token") : QString()));
    item->setText(AddressColumn, device.address());
    item->setToolTip(AddressColumn, device.addresses.join(QLatin1Char('\n')));
    item->setText(ModelColumn, a.model);
    item->setText(TlsColumn, tlsText(a));
    item->setToolTip(TlsColumn, a.tls ? tr("Announced fingerprint %1 (a hint: the first connection still asks "
                                           "whether to trust the certificate)")
                                            .arg(a.fingerprint)
                                      : QString());
    updateStatus();
}

void DiscoveredDeviceList::removeService(const QString &name)
{
    m_devices.remove(name);
    for (int i = 0; i < m_list->topLevelItemCount(); ++i) {
        if (m_list->topLevelItem(i)->data(NameColumn, Qt::UserRole).toString() == name) {
            delete m_list->takeTopLevelItem(i);
            break;
        }
    }
    updateStatus();
}

void DiscoveredDeviceList::updateStatus()
{
    // The list takes room only when it has something to show: the dialog is tall already.
    m_list->setVisible(!m_devices.isEmpty());
    if (!m_available) {
        m_status->setText(tr("Not available here (no mDNS: %1).").arg(m_browser->lastError()));
        m_status->setToolTip(tr("Devices announce themselves through avahi-daemon; add them by address below."));
    } else if (m_devices.isEmpty()) {
        m_status->setText(tr("Looking for EdgeLens devices\u2026"));
        m_status->setToolTip(tr("Devices started with --no-announce, or on other networks, are added by address "
                                "below."));
    } else {
        m_status->setText(tr("%n device(s) found on the network.", nullptr, int(m_devices.size())));
        m_status->setToolTip(QString());
    }
}

} // namespace edgelens
