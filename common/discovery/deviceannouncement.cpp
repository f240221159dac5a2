#include "discovery/deviceannouncement.h"

#include <QJsonArray>
#include <QRegularExpression>

namespace edgelens {

namespace {

int readPort(const QString &text)
{
    bool ok = false;
    const int port = text.toInt(&ok);
    return ok && port > 0 && port <= 65535 ? port : -1;
}

} // namespace

QList<QPair<QString, QString>> DeviceAnnouncement::toTxt() const
{
    QList<QPair<QString, QString>> txt;
    txt.append({QStringLiteral("txtvers"), QStringLiteral("1")});
    txt.append({QStringLiteral("version"), version});
    txt.append({QStringLiteral("protocols"), protocols.join(QLatin1Char(','))});
    txt.append({QStringLiteral("tls"), tls ? QStringLiteral("1") : QStringLiteral("0")});
    if (tls && !fingerprint.isEmpty())
        txt.append({QStringLiteral("fp"), fingerprint});
    txt.append({QStringLiteral("token"), tokenRequired ? QStringLiteral("1") : QStringLiteral("0")});
    if (!model.isEmpty())
        txt.append({QStringLiteral("model"), model});
    if (httpPort > 0)
        txt.append({QStringLiteral("http"), QString::number(httpPort)});
    if (plainPort > 0)
        txt.append({QStringLiteral("plain"), QString::number(plainPort)});
    return txt;
}

DeviceAnnouncement DeviceAnnouncement::fromTxt(const QMap<QString, QString> &txt)
{
    DeviceAnnouncement a;
    a.version = txt.value(QStringLiteral("version"));
    a.protocols = txt.value(QStringLiteral("protocols")).split(QLatin1Char(','), Qt::SkipEmptyParts);
    a.tls = txt.value(QStringLiteral("tls")) == QLatin1String("1");
    // Whatever arrives is checked: a malformed fingerprint is no hint at all.
    static const QRegularExpression sha256(QStringLiteral("^sha256:[0-9a-f]{64}$"));
    const QString fingerprint = txt.value(QStringLiteral("fp")).trimmed().toLower();
    a.fingerprint = a.tls && sha256.match(fingerprint).hasMatch() ? fingerprint : QString();
    a.tokenRequired = txt.value(QStringLiteral("token")) == QLatin1String("1");
    a.model = txt.value(QStringLiteral("model"));
    a.httpPort = readPort(txt.value(QStringLiteral("http")));
    a.plainPort = readPort(txt.value(QStringLiteral("plain")));
    return a;
}

DiscoveredDevice DiscoveredDevice::fromService(const DiscoveredService &service)
{
    DiscoveredDevice device;
    device.name = service.name;
    device.host = service.preferredHost();
    device.port = service.port;
    device.hostName = service.hostName;
    for (const QHostAddress &address : service.addresses)
        device.addresses.append(address.toString());
    device.announcement = DeviceAnnouncement::fromTxt(service.txt);
    return device;
}

QString DiscoveredDevice::address() const
{
    const bool ipv6 = host.contains(QLatin1Char(':'));
    return (ipv6 ? QStringLiteral("[%1]:%2") : QStringLiteral("%1:%2")).arg(host).arg(port);
}

QJsonObject DiscoveredDevice::toJson() const
{
    const DeviceAnnouncement &a = announcement;
    QJsonObject object{
        {QStringLiteral("name"), name},
        {QStringLiteral("host"), host},
        {QStringLiteral("port"), port},
        {QStringLiteral("host_name"), hostName},
        {QStringLiteral("addresses"), QJsonArray::fromStringList(addresses)},
        {QStringLiteral("version"), a.version},
        {QStringLiteral("protocols"), QJsonArray::fromStringList(a.protocols)},
        {QStringLiteral("tls"), a.tls},
        {QStringLiteral("token_required"), a.tokenRequired},
        {QStringLiteral("model"), a.model},
    };
    if (a.tls)
        object.insert(QStringLiteral("fingerprint"), a.fingerprint);
    if (a.httpPort > 0)
        object.insert(QStringLiteral("http_port"), a.httpPort);
    if (a.plainPort > 0)
        object.insert(QStringLiteral("plain_port"), a.plainPort);
    return object;
}

} // namespace edgelens
