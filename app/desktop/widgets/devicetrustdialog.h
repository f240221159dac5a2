#pragma once

// The two questions TLS trust on first use puts to the user, as dialogs:
// - FirstUse: a device not seen before offers a certificate no authority vouches for. It
//   shows the SHA-256 fingerprint to compare with the one edgelens-server logged at start,
//   and asks: Trust (remembered in the known-devices file) or Cancel (not used).
// - Changed: a device's certificate is not the one trusted before. Processing on it has
//   stopped; it shows both fingerprints and how to forget the old one (the button here, or
//   `edgelens-cli devices forget HOST:PORT`) so the next connection asks again.

#include <QDialog>
#include <QString>

class QLabel;
class QPushButton;

namespace edgelens {

class DeviceTrustDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DeviceTrustDialog)

public:
    enum class Kind { FirstUse, Changed };
    Q_ENUM(Kind)
    // FirstUse: Accepted = trust. Changed: Accepted = forget the old fingerprint.

    // FirstUse: expected is empty.
    DeviceTrustDialog(Kind kind, const QString &deviceName, const QString &expected, const QString &offered,
                      QWidget *parent = nullptr);
    ~DeviceTrustDialog() override;

    Kind kind() const { return m_kind; }
    QString deviceName() const { return m_deviceName; }
    QString offeredFingerprint() const { return m_offered; }

    // "sha256:ab:cd:..." in two lines of 16 pairs, easy to compare by eye with a server log.
    static QString displayFingerprint(const QString &fingerprint);
    static QString forgetCommand(const QString &deviceName); // edgelens-cli devices forget HOST:PORT

    // The fingerprint the device announced on the network (mDNS, not authenticated: a hint):
    // a line under the offered one says whether they match. Empty: no line.
    void setAnnouncedFingerprint(const QString &announced);
    // That line's text ("This is the fingerprint the device announced ..." / "... NOT ...");
    // empty without an announcement.
    static QString announcementNote(const QString &announced, const QString &presented, bool *matches = nullptr);

protected:
    void showEvent(QShowEvent *event) override;

private:
    QLabel *m_announcementNote = nullptr;
    QPushButton *m_safeButton = nullptr; // the default: Enter never trusts or forgets by accident
    Kind m_kind;
    QString m_deviceName;
    QString m_offered;
};

} // namespace edgelens
