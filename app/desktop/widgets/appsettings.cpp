#include "widgets/appsettings.h"

#include <QHostAddress>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QSettings>

Q_LOGGING_CATEGORY(lcAppSettings, "edgelens.widgets.appsettings")

namespace edgelens {

namespace {

const QString kOrganization = QStringLiteral("EdgeLens");
const QString kApplication = QStringLiteral("EdgeLens");

AppSettings::Target targetFromName(const QString &name, AppSettings::Target fallback)
{
    if (name == QLatin1String("embedded"))
        return AppSettings::Target::Embedded;
    if (name == QLatin1String("remote"))
        return AppSettings::Target::Remote;
    if (!name.isEmpty())
        qCWarning(lcAppSettings) << "unknown stored target" << name << "- using the default";
    return fallback;
}

AppSettings::Protocol protocolFromName(const QString &name, AppSettings::Protocol fallback)
{
    if (name == QLatin1String("auto"))
        return AppSettings::Protocol::Auto;
    if (name == QLatin1String("v2"))
        return AppSettings::Protocol::V2;
    if (name == QLatin1String("legacy"))
        return AppSettings::Protocol::Legacy;
    if (name == QLatin1String("deepstack"))
        return AppSettings::Protocol::DeepStack;
    if (!name.isEmpty())
        qCWarning(lcAppSettings) << "unknown stored protocol" << name << "- using the default";
    return fallback;
}

// A hand-edited or corrupt settings file must not leave the app with a nonsense value, so
// every number is range-checked and falls back to the default with a log line.
int readInt(QSettings &settings, const QString &key, int fallback, int min, int max)
{
    if (!settings.contains(key))
        return fallback;
    bool ok = false;
    const int value = settings.value(key).toInt(&ok);
    if (!ok || value < min || value > max) {
        qCWarning(lcAppSettings) << "stored" << key << settings.value(key) << "is out of range - using" << fallback;
        return fallback;
    }
    return value;
}

double readDouble(QSettings &settings, const QString &key, double fallback, double min, double max)
{
    if (!settings.contains(key))
        return fallback;
    bool ok = false;
    const double value = settings.value(key).toDouble(&ok);
    if (!ok || !(value >= min && value <= max)) {
        qCWarning(lcAppSettings) << "stored" << key << settings.value(key) << "is out of range - using" << fallback;
        return fallback;
    }
    return value;
}

// The device list as a QSettings array. Settings written before it existed have only
// connection/host, port and protocol: they become the list's one device.
QList<AppSettings::Device> loadDevices(QSettings &settings, const AppSettings &single)
{
    QList<AppSettings::Device> list;
    const int count = settings.beginReadArray(QStringLiteral("devices"));
    for (int i = 0; i < count; ++i) {
        settings.setArrayIndex(i);
        AppSettings::Device d;
        d.host = settings.value(QStringLiteral("host")).toString().trimmed();
        d.port = quint16(readInt(settings, QStringLiteral("port"), 0, 1, 65535));
        d.protocol = protocolFromName(settings.value(QStringLiteral("protocol")).toString(), d.protocol);
        d.tls = settings.value(QStringLiteral("tls"), false).toBool();
        d.enabled = settings.value(QStringLiteral("enabled"), true).toBool();
        if (const QString reason = d.validate(); !reason.isEmpty()) {
            qCWarning(lcAppSettings) << "stored device" << i << d.host << d.port << "is invalid, dropped:" << reason;
            continue;
        }
        list.append(d);
    }
    settings.endArray();
    if (count == 0)
        return single.remoteDevices(); // migrated from the single host/port
    return list;
}

void saveDevices(QSettings &settings, const QList<AppSettings::Device> &list)
{
    settings.remove(QStringLiteral("devices"));
    settings.beginWriteArray(QStringLiteral("devices"), int(list.size()));
    for (int i = 0; i < list.size(); ++i) {
        settings.setArrayIndex(i);
        const AppSettings::Device &d = list.at(i);
        settings.setValue(QStringLiteral("host"), d.host);
        settings.setValue(QStringLiteral("port"), int(d.port));
        settings.setValue(QStringLiteral("protocol"), AppSettings::protocolName(d.protocol));
        settings.setValue(QStringLiteral("tls"), d.tls);
        settings.setValue(QStringLiteral("enabled"), d.enabled);
    }
    settings.endArray();
}

} // namespace

QString AppSettings::targetName(Target target)
{
    return target == Target::Remote ? QStringLiteral("remote") : QStringLiteral("embedded");
}

QString AppSettings::protocolName(Protocol protocol)
{
    switch (protocol) {
    case Protocol::V2:
        return QStringLiteral("v2");
    case Protocol::Legacy:
        return QStringLiteral("legacy");
    case Protocol::DeepStack:
        return QStringLiteral("deepstack");
    case Protocol::Auto:
        break;
    }
    return QStringLiteral("auto");
}

namespace {

QString bareHost(const QString &host)
{
    const QString trimmed = host.trimmed();
    if (trimmed.startsWith(QLatin1Char('[')) && trimmed.endsWith(QLatin1Char(']')))
        return trimmed.mid(1, trimmed.size() - 2);
    return trimmed;
}

} // namespace

QString AppSettings::connectHost() const
{
    return bareHost(host);
}

QString AppSettings::Device::connectHost() const
{
    return bareHost(host);
}

QString AppSettings::Device::name() const
{
    const QString bare = connectHost();
    const QString shown = bare.contains(QLatin1Char(':')) ? QStringLiteral("[%1]").arg(bare) : bare;
    return QStringLiteral("%1:%2").arg(shown).arg(port);
}

QString AppSettings::Device::validate() const
{
    if (const QString reason = validateHost(host); !reason.isEmpty())
        return reason;
    if (port == 0)
        return QStringLiteral("Port 0 is out of range: use 1-65535.");
    if (tls && protocol == Protocol::Legacy)
        return QStringLiteral("The legacy (tutorial) protocol cannot be encrypted: choose v2 or Automatic, or turn TLS off.");
    return {};
}

DeviceSpec AppSettings::Device::toSpec() const
{
    DeviceSpec spec;
    spec.host = connectHost();
    spec.port = port;
    spec.protocol = protocol == Protocol::V2   ? DeviceSpec::Protocol::V2
        : protocol == Protocol::Legacy         ? DeviceSpec::Protocol::Legacy
        : protocol == Protocol::DeepStack      ? DeviceSpec::Protocol::DeepStack
                                               : DeviceSpec::Protocol::Auto;
    spec.tls = tls;
    spec.enabled = enabled;
    return spec;
}

bool operator==(const AppSettings::Device &a, const AppSettings::Device &b)
{
    return a.host == b.host && a.port == b.port && a.protocol == b.protocol && a.tls == b.tls && a.enabled == b.enabled;
}

QList<AppSettings::Device> AppSettings::remoteDevices() const
{
    if (!devices.isEmpty())
        return devices;
    Device single;
    single.host = host;
    single.port = port;
    single.protocol = protocol;
    return {single};
}

void AppSettings::setDevices(const QList<Device> &list)
{
    devices = list;
    if (!list.isEmpty()) {
        host = list.first().host;
        port = list.first().port;
        protocol = list.first().protocol;
    }
}

QString AppSettings::validateDevices(const QList<Device> &list, bool embeddedJoins)
{
    if (list.isEmpty() && !embeddedJoins)
        return QStringLiteral("Add a device (or let the embedded server join).");
    QStringList seen;
    bool anyEnabled = false;
    for (const Device &device : list) {
        if (const QString reason = device.validate(); !reason.isEmpty())
            return QStringLiteral("%1: %2").arg(device.name(), reason);
        const QString key = device.name().toLower();
        if (seen.contains(key))
            return QStringLiteral("%1 is listed twice.").arg(device.name());
        seen << key;
        anyEnabled = anyEnabled || device.enabled;
    }
    if (!anyEnabled && !embeddedJoins)
        return QStringLiteral("Every device is disabled: enable one (or let the embedded server join).");
    return {};
}

DetectionClient::Protocol AppSettings::clientProtocol() const
{
    switch (protocol) {
    case Protocol::V2:
        return DetectionClient::Protocol::V2;
    case Protocol::Legacy:
        return DetectionClient::Protocol::Legacy;
    case Protocol::DeepStack:
        return DetectionClient::Protocol::DeepStack;
    case Protocol::Auto:
        break;
    }
    return DetectionClient::Protocol::Auto;
}

AppSettings AppSettings::load()
{
    QSettings settings(kOrganization, kApplication);
    return load(settings);
}

AppSettings AppSettings::load(QSettings &settings)
{
    AppSettings s;
    settings.beginGroup(QStringLiteral("connection"));
    s.target = targetFromName(settings.value(QStringLiteral("target")).toString(), s.target);
    const QString host = settings.value(QStringLiteral("host"), s.host).toString().trimmed();
    if (validateHost(host).isEmpty())
        s.host = host;
    else
        qCWarning(lcAppSettings) << "stored host" << host << "is invalid - using" << s.host;
    s.port = quint16(readInt(settings, QStringLiteral("port"), s.port, 1, 65535));
    s.protocol = protocolFromName(settings.value(QStringLiteral("protocol")).toString(), s.protocol);
    s.embeddedJoins = settings.value(QStringLiteral("embeddedJoins"), false).toBool();
    s.timeoutMs = readInt(settings, QStringLiteral("timeoutMs"), s.timeoutMs, kMinTimeoutMs, kMaxTimeoutMs);
    s.maxInFlight = readInt(settings, QStringLiteral("maxInFlight"), s.maxInFlight, 1, kMaxInFlightLimit);
    settings.endGroup();
    s.setDevices(loadDevices(settings, s));

    settings.beginGroup(QStringLiteral("detection"));
    s.model = settings.value(QStringLiteral("model")).toString();
    s.confidence = readDouble(settings, QStringLiteral("confidence"), s.confidence, -1.0, 1.0);
    if (s.confidence < 0)
        s.confidence = -1;
    s.nmsIou = readDouble(settings, QStringLiteral("nmsIou"), s.nmsIou, -1.0, 1.0);
    if (s.nmsIou < 0)
        s.nmsIou = -1;
    settings.endGroup();

    settings.beginGroup(QStringLiteral("output"));
    s.outputDir = settings.value(QStringLiteral("outputDir")).toString();
    s.jpegQuality = readInt(settings, QStringLiteral("jpegQuality"), s.jpegQuality, 1, 100);
    s.jsonSidecars = settings.value(QStringLiteral("jsonSidecars"), s.jsonSidecars).toBool();
    s.sendOriginalFiles = settings.value(QStringLiteral("sendOriginalFiles"), s.sendOriginalFiles).toBool();
    s.resultMaxSide = readInt(settings, QStringLiteral("resultMaxSide"), s.resultMaxSide, 0, 65535);
    s.lastFolder = settings.value(QStringLiteral("lastFolder")).toString();
    settings.endGroup();
    return s;
}

void AppSettings::save() const
{
    QSettings settings(kOrganization, kApplication);
    save(settings);
    settings.sync();
    if (settings.status() != QSettings::NoError)
        qCWarning(lcAppSettings) << "could not write settings to" << settings.fileName();
}

void AppSettings::save(QSettings &settings) const
{
    settings.beginGroup(QStringLiteral("connection"));
    settings.setValue(QStringLiteral("target"), targetName(target));
    settings.setValue(QStringLiteral("host"), host);
    settings.setValue(QStringLiteral("port"), int(port));
    settings.setValue(QStringLiteral("protocol"), protocolName(protocol));
    settings.setValue(QStringLiteral("embeddedJoins"), embeddedJoins);
    settings.setValue(QStringLiteral("timeoutMs"), timeoutMs);
    settings.setValue(QStringLiteral("maxInFlight"), maxInFlight);
    settings.endGroup();
    saveDevices(settings, remoteDevices());

    settings.beginGroup(QStringLiteral("detection"));
    settings.setValue(QStringLiteral("model"), model);
    settings.setValue(QStringLiteral("confidence"), confidence);
    settings.setValue(QStringLiteral("nmsIou"), nmsIou);
    settings.endGroup();

    settings.beginGroup(QStringLiteral("output"));
    settings.setValue(QStringLiteral("outputDir"), outputDir);
    settings.setValue(QStringLiteral("jpegQuality"), jpegQuality);
    settings.setValue(QStringLiteral("jsonSidecars"), jsonSidecars);
    settings.setValue(QStringLiteral("sendOriginalFiles"), sendOriginalFiles);
    settings.setValue(QStringLiteral("resultMaxSide"), resultMaxSide);
    settings.setValue(QStringLiteral("lastFolder"), lastFolder);
    settings.endGroup();
}

QString AppSettings::validatePort(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty())
        return QStringLiteral("Enter a port number (1-65535).");
    bool ok = false;
    const int port = trimmed.toInt(&ok);
    if (!ok)
        return QStringLiteral("\"%1\" is not a number; a port is 1-65535.").arg(trimmed);
    if (port < 1 || port > 65535)
        return QStringLiteral("Port %1 is out of range: use 1-65535.").arg(port);
    return {};
}

QString AppSettings::validateHost(const QString &input)
{
    const QString host = input.trimmed();
    if (host.isEmpty())
        return QStringLiteral("Enter a host name or an IP address.");

    if (host.contains(QLatin1Char(':')) || host.startsWith(QLatin1Char('['))) {
        QString bare = host;
        if (bare.startsWith(QLatin1Char('['))) {
            if (!bare.endsWith(QLatin1Char(']')))
                return QStringLiteral("\"%1\" has an opening '[' without a closing ']'.").arg(host);
            bare = bare.mid(1, bare.size() - 2);
        }
        if (bare.contains(QLatin1Char('%')))
            return QStringLiteral("\"%1\": IPv6 scope ids (%) are not supported; use a global or loopback address.").arg(host);
        QHostAddress address;
        if (!address.setAddress(bare) || address.protocol() != QAbstractSocket::IPv6Protocol)
            return QStringLiteral("\"%1\" is not a valid IPv6 address (a port goes in the Port field, not after ':').").arg(host);
        return {};
    }

    // Digits and dots only: this must be a dotted-quad IPv4 address. QHostAddress alone
    // would also accept inet_aton shorthands like "10.1", which users rarely mean.
    static const QRegularExpression numeric(QStringLiteral("^[0-9.]+$"));
    if (numeric.match(host).hasMatch()) {
        const QStringList parts = host.split(QLatin1Char('.'));
        if (parts.size() != 4)
            return QStringLiteral("\"%1\" is not a valid IPv4 address: expected four numbers separated by dots.").arg(host);
        for (const QString &part : parts) {
            bool ok = false;
            const int value = part.toInt(&ok);
            if (part.isEmpty() || part.size() > 3 || !ok || value > 255)
                return QStringLiteral("\"%1\" is not a valid IPv4 address: each number must be 0-255.").arg(host);
        }
        QHostAddress address;
        if (!address.setAddress(host) || address.protocol() != QAbstractSocket::IPv4Protocol)
            return QStringLiteral("\"%1\" is not a valid IPv4 address.").arg(host);
        return {};
    }

    // RFC 1123 host name: labels of letters, digits and '-', 1-63 chars, not starting or
    // ending with '-', at most 253 chars overall; one trailing dot (FQDN root) is allowed.
    QString name = host;
    if (name.endsWith(QLatin1Char('.')))
        name.chop(1);
    if (name.size() > 253)
        return QStringLiteral("Host name is too long (%1 characters, at most 253).").arg(name.size());
    const QStringList labels = name.split(QLatin1Char('.'));
    for (const QString &label : labels) {
        if (label.isEmpty())
            return QStringLiteral("\"%1\" has an empty part between dots.").arg(host);
        if (label.size() > 63)
            return QStringLiteral("\"%1\": each part of a host name may have at most 63 characters.").arg(host);
        for (const QChar c : label) {
            const bool allowed = (c >= QLatin1Char('a') && c <= QLatin1Char('z'))
                || (c >= QLatin1Char('A') && c <= QLatin1Char('Z'))
                || (c >= QLatin1Char('0') && c <= QLatin1Char('9')) || c == QLatin1Char('-');
            if (!allowed)
                return QStringLiteral("\"%1\" contains '%2'; host names may only use letters, digits, '-' and '.'.")
                    .arg(host, QString(c));
        }
        if (label.startsWith(QLatin1Char('-')) || label.endsWith(QLatin1Char('-')))
            return QStringLiteral("\"%1\": a part of a host name may not start or end with '-'.").arg(host);
    }
    return {};
}

bool operator==(const AppSettings &a, const AppSettings &b)
{
    return a.target == b.target && a.remoteDevices() == b.remoteDevices() && a.embeddedJoins == b.embeddedJoins
        && a.token == b.token && a.timeoutMs == b.timeoutMs && a.maxInFlight == b.maxInFlight && a.model == b.model
        && qFuzzyCompare(a.confidence + 1.0, b.confidence + 1.0) && qFuzzyCompare(a.nmsIou + 2.0, b.nmsIou + 2.0)
        && a.outputDir == b.outputDir && a.jpegQuality == b.jpegQuality && a.jsonSidecars == b.jsonSidecars
        && a.sendOriginalFiles == b.sendOriginalFiles && a.resultMaxSide == b.resultMaxSide && a.lastFolder == b.lastFolder;
}

} // namespace edgelens
