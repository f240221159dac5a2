#include "trustprompter.h"

#include "client/detectionclient.h"
#include "client/knowndevices.h"
#include "client/tlssocketfactory.h"
#include "statuspresenter.h"
#include "widgets/devicetrustdialog.h"

#include <QLoggingCategory>
#include <QWidget>

Q_LOGGING_CATEGORY(lcTrust, "edgelens.app.trust")

namespace edgelens {

TrustPrompter::TrustPrompter(DetectionClient *client, StatusPresenter *status, QWidget *window)
    : QObject(window)
    , m_client(client)
    , m_status(status)
    , m_window(window)
{
    TlsSocketFactory *tls = m_client->tls();
    connect(tls, &TlsSocketFactory::trustNeeded, this, &TrustPrompter::askFirstUse);
    connect(tls, &TlsSocketFactory::fingerprintChanged, this, &TrustPrompter::warnChanged);
    connect(tls, &TlsSocketFactory::deviceRemembered, this,
            [this](const DeviceSpec &device, const QString &fingerprint, const QString &file) {
                qCInfo(lcTrust).noquote() << "trusting" << device.name() << fingerprint << "from now on (" + file + ")";
                m_status->showMessage(tr("%1 trusted; its certificate %2 is recorded in %3.")
                                          .arg(device.name(), fingerprint, file),
                                      8000);
            });
}

TrustPrompter::~TrustPrompter() = default;

int TrustPrompter::openDialogs() const
{
    int n = 0;
    for (const QPointer<DeviceTrustDialog> &dialog : m_open)
        n += dialog ? 1 : 0;
    return n;
}

void TrustPrompter::addAnnouncedFingerprints(const QHash<QString, QString> &announced)
{
    m_announced.insert(announced);
}

void TrustPrompter::askFirstUse(const DeviceSpec &device, const QString &fingerprint)
{
    const QString key = device.key();
    if (QPointer<DeviceTrustDialog> open = m_open.value(key)) {
        if (open->kind() == DeviceTrustDialog::Kind::FirstUse && open->offeredFingerprint() == fingerprint)
            return; // already asking
        open->reject();
    }
    qCInfo(lcTrust).noquote() << device.name() << "is new; asking whether to trust" << fingerprint;
    auto *dialog = new DeviceTrustDialog(DeviceTrustDialog::Kind::FirstUse, device.name(), QString(), fingerprint, m_window);
    dialog->setAnnouncedFingerprint(m_announced.value(key));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_open.insert(key, dialog);
    const QString name = device.name();
    connect(dialog, &QDialog::finished, this, [this, key, name, fingerprint](int result) {
        const bool trusted = result == QDialog::Accepted;
        // decide() may connect at once (and emit): the dialog is out of the map first.
        m_open.remove(key);
        m_status->setDeviceUntrusted(key, !trusted);
        m_client->tls()->decide(key, fingerprint,
                                trusted ? TlsSocketFactory::Decision::AcceptAlways : TlsSocketFactory::Decision::Reject);
        if (!trusted) {
            qCInfo(lcTrust).noquote() << name << "not trusted; it gets no images";
            m_status->showMessage(tr("%1 is not trusted: it gets no images (its work goes to the other devices). "
                                     "Retry Failed asks again.")
                                      .arg(name),
                                  10000);
        }
        Q_EMIT decided(name, trusted);
    });
    dialog->open();
}

void TrustPrompter::warnChanged(const DeviceSpec &device, const QString &expected, const QString &offered, bool pinned)
{
    const QString key = device.key();
    m_status->setDeviceUntrusted(key, true);
    m_status->showError(tr("The TLS certificate of %1 has CHANGED (trusted %2, offered %3): nothing is sent to it.")
                            .arg(device.name(), expected, offered));
    if (QPointer<DeviceTrustDialog> open = m_open.value(key)) {
        if (open->kind() == DeviceTrustDialog::Kind::Changed && open->offeredFingerprint() == offered)
            return;
        open->reject();
    }
    auto *dialog = new DeviceTrustDialog(DeviceTrustDialog::Kind::Changed, device.name(), expected, offered, m_window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_open.insert(key, dialog);
    const QString name = device.name();
    connect(dialog, &QDialog::finished, this, [this, key, name, pinned](int result) {
        m_open.remove(key);
        if (result != QDialog::Accepted)
            return;
        if (pinned) {
            // A pin is not a memory: it lives in the device's settings.
            m_status->showMessage(tr("%1 has a pinned fingerprint: change it in Settings.").arg(name), 8000);
            return;
        }
        forget(key, name);
    });
    dialog->open();
}

void TrustPrompter::forget(const QString &deviceKey, const QString &deviceName)
{
    KnownDevices known = m_client->tls()->knownDevices();
    bool wasKnown = false;
    QString error;
    if (!known.forget(deviceKey, &wasKnown, &error)) {
        m_status->showError(tr("Could not forget %1: %2").arg(deviceName, error));
        return;
    }
    qCInfo(lcTrust).noquote() << "forgot the fingerprint of" << deviceName << "in" << known.path();
    m_status->setDeviceUntrusted(deviceKey, false);
    m_status->clearLastError();
    m_status->showMessage(tr("Forgot the old fingerprint of %1; connecting again asks whether to trust the new one.")
                              .arg(deviceName),
                          8000);
    m_client->retryRefusedDevices();
}

} // namespace edgelens
