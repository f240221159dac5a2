#include "devicespec.h"

#include <QHostAddress>

namespace edgelens {

QString DeviceSpec::name() const
{
    const QString shownHost = host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
    return shownHost + QLatin1Char(':') + QString::number(port);
}

QString DeviceSpec::resultName() const
{
    return label.isEmpty() ? name() : label;
}

QString DeviceSpec::embeddedLabel()
{
    return QStringLiteral("embedded");
}

QString DeviceSpec::key() const
{
    return name().toLower();
}

std::optional<DeviceSpec> DeviceSpec::parse(const QString &text, quint16 defaultPort, QString *error)
{
    auto fail = [&](const QString &why) -> std::optional<DeviceSpec> {
        if (error)
            *error = QStringLiteral("\"%1\": %2").arg(text, why);
        return std::nullopt;
    };
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty())
        return fail(QStringLiteral("empty host"));
    DeviceSpec spec;
    spec.port = defaultPort;
    QString portText;
    if (trimmed.startsWith(QLatin1Char('['))) {
        const qsizetype close = trimmed.indexOf(QLatin1Char(']'));
        if (close < 0)
            return fail(QStringLiteral("missing ']' after the IPv6 address"));
        spec.host = trimmed.mid(1, close - 1);
        const QString rest = trimmed.mid(close + 1);
        if (!rest.isEmpty()) {
            if (!rest.startsWith(QLatin1Char(':')))
                return fail(QStringLiteral("expected ':PORT' after ']'"));
            portText = rest.mid(1);
        }
        if (QHostAddress(spec.host).protocol() != QAbstractSocket::IPv6Protocol)
            return fail(QStringLiteral("not an IPv6 address between [ ]"));
    } else if (trimmed.count(QLatin1Char(':')) > 1) {
        // A bare IPv6 address cannot carry a port: "[addr]:port" does.
        if (QHostAddress(trimmed).protocol() != QAbstractSocket::IPv6Protocol)
            return fail(QStringLiteral("not a host name or address; write IPv6 with a port as [addr]:port"));
        spec.host = trimmed;
    } else {
        const qsizetype colon = trimmed.indexOf(QLatin1Char(':'));
        spec.host = colon < 0 ? trimmed : trimmed.left(colon);
        if (colon >= 0)
            portText = trimmed.mid(colon + 1);
    }
    if (spec.host.isEmpty())
        return fail(QStringLiteral("empty host"));
    if (!portText.isNull()) {
        bool ok = false;
        const uint port = portText.toUInt(&ok);
        if (!ok || port == 0 || port > 65535)
            return fail(QStringLiteral("the port must be 1..65535"));
        spec.port = quint16(port);
    }
    return spec;
}

QString DeviceStatus::stateName(State state)
{
    switch (state) {
    case State::Disabled:
        return QStringLiteral("disabled");
    case State::Idle:
        return QStringLiteral("idle");
    case State::Connecting:
        return QStringLiteral("connecting");
    case State::Up:
        return QStringLiteral("up");
    case State::Down:
        return QStringLiteral("down");
    case State::Refused:
        return QStringLiteral("refused");
    }
    return QString();
}

} // namespace edgelens
