#include "knowndevices.h"

#include "protocol/tlsfingerprint.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStandardPaths>

namespace edgelens {

KnownDevices::KnownDevices(const QString &path)
    : m_path(path)
{
}

QString KnownDevices::defaultPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation) + QStringLiteral("/known-devices");
}

QList<QPair<QString, QString>> KnownDevices::all() const
{
    QList<QPair<QString, QString>> entries;
    QFile file(m_path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return entries;
    const QStringList lines = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'));
    for (const QString &line : lines) {
        const QString trimmed = line.trimmed();
        if (trimmed.isEmpty() || trimmed.startsWith(QLatin1Char('#')))
            continue;
        const QStringList parts = trimmed.split(QRegularExpression(QStringLiteral("\\s+")));
        const QString fingerprint = parts.size() == 2 ? TlsFingerprint::normalize(parts.at(1)) : QString();
        if (!fingerprint.isEmpty())
            entries.append({parts.at(0).toLower(), fingerprint});
    }
    return entries;
}

std::optional<QString> KnownDevices::fingerprint(const QString &deviceKey) const
{
    const QString key = deviceKey.toLower();
    for (const auto &entry : all()) {
        if (entry.first == key)
            return entry.second;
    }
    return std::nullopt;
}

bool KnownDevices::remember(const QString &deviceKey, const QString &fingerprint, QString *error)
{
    const QString normalized = TlsFingerprint::normalize(fingerprint);
    if (normalized.isEmpty()) {
        if (error)
            *error = QStringLiteral("not a sha256 fingerprint: %1").arg(fingerprint);
        return false;
    }
    QList<QPair<QString, QString>> entries = all();
    const QString key = deviceKey.toLower();
    bool replaced = false;
    for (auto &entry : entries) {
        if (entry.first == key) {
            entry.second = normalized;
            replaced = true;
        }
    }
    if (!replaced)
        entries.append({key, normalized});
    return write(entries, error);
}

bool KnownDevices::forget(const QString &deviceKey, bool *wasKnown, QString *error)
{
    QList<QPair<QString, QString>> entries = all();
    const QString key = deviceKey.toLower();
    const qsizetype before = entries.size();
    entries.removeIf([&key](const QPair<QString, QString> &entry) { return entry.first == key; });
    if (wasKnown)
        *wasKnown = entries.size() != before;
    return entries.size() == before || write(entries, error);
}

bool KnownDevices::write(const QList<QPair<QString, QString>> &entries, QString *error) const
{
    QDir().mkpath(QFileInfo(m_path).absolutePath());
    QSaveFile file(m_path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) {
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(m_path, file.errorString());
        return false;
    }
    QByteArray text = "# EdgeLens devices trusted on first use: HOST:PORT sha256:FINGERPRINT\n";
    for (const auto &entry : entries)
        text += entry.first.toUtf8() + ' ' + entry.second.toUtf8() + '\n';
    file.write(text);
    if (!file.commit()) {
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(m_path, file.errorString());
        return false;
    }
    return true;
}

} // namespace edgelens
