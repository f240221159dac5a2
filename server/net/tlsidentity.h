#pragma once

#include <QSslCertificate>
#include <QSslKey>
#include <QString>
#include <QStringList>

#include <optional>

namespace edgelens {

// The server's TLS certificate and key. Given files (--tls-cert/--tls-key, PEM) are loaded as
// they are; without them a self-signed certificate is created on first start in the per-user
// data folder (key file mode 0600) and reused on later starts, so its fingerprint, which
// clients pin, stays the same. Qt cannot create certificates, so that one job uses OpenSSL's
// libcrypto directly.
struct TlsIdentity
{
    QSslCertificate certificate;
    QSslKey key;
    QString certificatePath;
    QString keyPath;
    bool created = false; // made just now

    // TlsFingerprint of the certificate: what clients pin and the known-devices file holds.
    QString fingerprint() const;

    // Both paths empty: defaultDirectory()'s pair, created when missing. One path alone is an error.
    static std::optional<TlsIdentity> loadOrCreate(const QString &certificatePath, const QString &keyPath,
                                                   QString *error);
    static QString defaultDirectory(); // <per-user data>/edgelens/tls

    // Writes a new self-signed certificate (EC P-256, SHA-256, ten years) for `hostNames` and
    // `addresses` (its subject alternative names) and its key, atomically, the key 0600.
    static bool createSelfSigned(const QString &certificatePath, const QString &keyPath, const QStringList &hostNames,
                                 const QStringList &addresses, QString *error);
    // localhost, 127.0.0.1, ::1, this host's name and every address of its interfaces.
    static void localNames(QStringList *hostNames, QStringList *addresses);
};

} // namespace edgelens
