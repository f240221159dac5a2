#pragma once

// The settings dialog's list of devices: a checkable list (checked = enabled) with the
// selected device's address, protocol and TLS choice under it, Add and Remove buttons, and
// whether the embedded server joins them. Entries keep what the user typed, valid or not, so
// switching between devices never loses a half-typed address; the reason an entry cannot be
// used is shown in red under the fields.

#include "widgets/appsettings.h"

#include <QList>
#include <QString>
#include <QWidget>

#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTreeWidget;

namespace edgelens {

class DeviceListEditor final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DeviceListEditor)

public:
    explicit DeviceListEditor(QWidget *parent = nullptr);
    ~DeviceListEditor() override;

    void setDevices(const QList<AppSettings::Device> &devices, bool embeddedJoins);
    // Every entry converted; nullopt while one of them is invalid.
    std::optional<QList<AppSettings::Device>> devices() const;
    bool embeddedJoins() const;
    int count() const;
    int currentIndex() const;
    void setCurrentIndex(int index);
    // The selected entry when it is valid (what "Test connection" tests).
    std::optional<AppSettings::Device> currentDevice() const;

    // Reasons shown now: the selected entry's host and port, then the list's own.
    QStringList errors() const;
    // The last test's outcome, shown next to the entry.
    void setTestResult(int index, bool ok, const QString &message);

    void addDevice();    // a new entry, selected, host field focused
    // A filled entry (a device found on the network), selected; one with the same address is
    // selected instead of added twice. Returns its index.
    int appendDevice(const AppSettings::Device &device);
    void removeCurrent();

Q_SIGNALS:
    void changed();          // anything a user edited
    void currentChanged(int index);

private:
    struct Entry
    {
        QString host;
        QString port;
        AppSettings::Protocol protocol = AppSettings::Protocol::Auto;
        bool tls = false;
        bool enabled = true;
        QString testResult;
        std::optional<AppSettings::Device> toDevice(QString *reason = nullptr) const;
    };

    void buildUi();
    int appendEntry(const Entry &entry); // with its list item, selected
    void rebuildList();
    void refreshItem(int index);
    void showEntry(int index);
    void storeFields();
    void validate();
    void setFieldError(QLabel *label, const QString &error);

    QList<Entry> m_entries;
    int m_current = -1;
    bool m_loading = false;

    QTreeWidget *m_list = nullptr;
    QPushButton *m_add = nullptr;
    QPushButton *m_remove = nullptr;
    QLineEdit *m_host = nullptr;
    QLabel *m_hostError = nullptr;
    QLineEdit *m_port = nullptr;
    QLabel *m_portError = nullptr;
    QComboBox *m_protocol = nullptr;
    QCheckBox *m_tls = nullptr;
    QCheckBox *m_embeddedJoins = nullptr;
    QLabel *m_listError = nullptr;
};

} // namespace edgelens
