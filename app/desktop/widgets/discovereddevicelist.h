#pragma once

// The settings dialog's "found on the network" list: EdgeLens servers announcing themselves
// over mDNS (ServiceBrowser, through avahi-daemon), shown as they appear and disappear with
// their address, model and TLS fingerprint, each with an Add button. Without Avahi it says so
// in one line; the manual entry next to it works as before.

#include "discovery/deviceannouncement.h"

#include <QHash>
#include <QWidget>

class QLabel;
class QTreeWidget;
class QTreeWidgetItem;

namespace edgelens {

class ServiceBrowser;

class DiscoveredDeviceList final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DiscoveredDeviceList)

public:
    explicit DiscoveredDeviceList(QWidget *parent = nullptr);
    ~DiscoveredDeviceList() override;

    QList<DiscoveredDevice> devices() const; // shown now, in list order

Q_SIGNALS:
    void addRequested(const edgelens::DiscoveredDevice &device);

private:
    void showService(const DiscoveredService &service);
    void removeService(const QString &name);
    void updateStatus();

    ServiceBrowser *m_browser = nullptr;
    QTreeWidget *m_list = nullptr;
    QLabel *m_status = nullptr;
    QHash<QString, DiscoveredDevice> m_devices; // by service name
    bool m_available = true;
};

} // namespace edgelens
