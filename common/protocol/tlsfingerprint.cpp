#include "tlsfingerprint.h"

#include <QCryptographicHash>
#include <QRegularExpression>

namespace edgelens {

namespace {

const QLatin1String kPrefix("sha256:");

} // namespace

QString TlsFingerprint::ofDer(const QByteArray &der)
{
    return kPrefix + QString::fromLatin1(QCryptographicHash::hash(der, QCryptographicHash::Sha256).toHex());
}

QString TlsFingerprint::normalize(const QString &text)
{
    QString hex = text.trimmed().toLower();
    if (hex.startsWith(kPrefix))
        hex = hex.mid(kPrefix.size());
    hex.remove(QLatin1Char(':'));
    static const QRegularExpression valid(QStringLiteral("^[0-9a-f]{64}$"));
    return valid.match(hex).hasMatch() ? kPrefix + hex : QString();
}

} // namespace edgelens
