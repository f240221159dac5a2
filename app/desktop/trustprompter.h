#pragma once

// The app's answers to the TLS trust questions of the client (TlsSocketFactory):
// - trustNeeded: a device not seen before shows the first-use dialog with its fingerprint.
//   Trust records it in the known-devices file and the connection goes on; Cancel refuses it:
//   the device is not used, its work goes to the other devices or fails with the reason.
// - fingerprintChanged: the device has already been refused (nothing was sent to it); the
//   warning dialog shows both fingerprints and offers to forget the old one, after which the
//   device is tried again and asks like a new one.
// The dialogs are window-modal but never block: they are opened, not exec()'d, so the client
// (in the GUI thread) keeps serving the other devices while the user reads them. One dialog per
// device at a time.

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QString>

class QWidget;

namespace edgelens {

class DetectionClient;
class DeviceSpec;
class DeviceTrustDialog;
class StatusPresenter;

class TrustPrompter final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrustPrompter)

public:
    TrustPrompter(DetectionClient *client, StatusPresenter *status, QWidget *window);
    ~TrustPrompter() override;

    // Dialogs still open (tests, and closing the window).
    int openDialogs() const;
    // Fingerprints devices announced on the network (device key -> fingerprint, from the
    // settings dialog): the first-use question says whether the offered certificate matches.
    void addAnnouncedFingerprints(const QHash<QString, QString> &announced);

Q_SIGNALS:
    // The user trusted (true) or refused (false) a new device.
    void decided(const QString &deviceName, bool trusted);

private:
    void askFirstUse(const DeviceSpec &device, const QString &fingerprint);
    void warnChanged(const DeviceSpec &device, const QString &expected, const QString &offered, bool pinned);
    void forget(const QString &deviceKey, const QString &deviceName);

    DetectionClient *m_client;
    StatusPresenter *m_status;
    QWidget *m_window;
    QHash<QString, QPointer<DeviceTrustDialog>> m_open; // device key -> its dialog
    QHash<QString, QString> m_announced;                 // device key -> announced fingerprint
};

} // namespace edgelens
