#pragma once

// The devices whose TLS certificate this user has trusted on first use, like ssh's
// known_hosts: one "HOST:PORT sha256:HEX" line per device in a file under the user's config
// folder (QStandardPaths::AppConfigLocation/known-devices). Read on every lookup, so two
// programs (the app and the CLI) see each other's decisions; written atomically.

#include <QList>
#include <QPair>
#include <QString>

#include <optional>

namespace edgelens {

class KnownDevices final
{
public:
    explicit KnownDevices(const QString &path = defaultPath());

    static QString defaultPath();
    QString path() const { return m_path; }

    // The remembered fingerprint ("sha256:" + 64 lower-case hex digits) of a device key
    // ("host:port", DeviceSpec::key()).
    std::optional<QString> fingerprint(const QString &deviceKey) const;
    bool remember(const QString &deviceKey, const QString &fingerprint, QString *error = nullptr);
    // False with an error when the file cannot be written; *wasKnown says whether it was there.
    bool forget(const QString &deviceKey, bool *wasKnown, QString *error = nullptr);
    QList<QPair<QString, QString>> all() const; // (device key, fingerprint), file order


private:
    bool write(const QList<QPair<QString, QString>> &entries, QString *error) const;

    QString m_path;
};

} // namespace edgelens
