#include "serverconfig.h"

#include <QCommandLineParser>
#include <QLoggingCategory>
#include <QProcessEnvironment>
#include <QThread>

namespace edgelens {

namespace {

bool readInt(const QCommandLineParser &parser, const QString &name, qint64 min, qint64 max, qint64 *out,
             QString *error)
{
    if (!parser.isSet(name))
        return true;
    QString text = parser.value(name).trimmed();
    qint64 factor = 1;
    if (text.endsWith(QLatin1Char('M'), Qt::CaseInsensitive)) {
        factor = 1'000'000;
        text.chop(1);
    }
    bool ok = false;
    const qint64 value = text.toLongLong(&ok) * factor;
    if (!ok || value < min || value > max) {
        *error = QStringLiteral("--%1: expected a whole number from %2 to %3, got \"%4\"")
                     .arg(name)
                     .arg(min)
                     .arg(max)
                     .arg(parser.value(name));
        return false;
    }
    *out = value;
    return true;
}

bool readDouble(const QCommandLineParser &parser, const QString &name, double min, double max, double *out,
                QString *error)
{
    if (!parser.isSet(name))
        return true;
    bool ok = false;
    const double value = parser.value(name).trimmed().toDouble(&ok);
    if (!ok || value < min || value > max) {
        *error = QStringLiteral("--%1: expected a number from %2 to %3, got \"%4\"")
                     .arg(name)
                     .arg(min)
                     .arg(max)
                     .arg(parser.value(name));
        return false;
    }
    *out = value;
    return true;
}

} // namespace

ServerConfig ServerConfig::embedded()
{
    ServerConfig config;
    config.host = QHostAddress::LocalHost;
    config.port = 0;
    return config;
}

void ServerConfig::addOptions(QCommandLineParser &parser)
{
    const ServerConfig d;
    parser.addOptions({
        {QStringLiteral("host"), QStringLiteral("Address to listen on (default: all interfaces)."),
         QStringLiteral("address")},
        {QStringLiteral("port"), QStringLiteral("TCP port (default: %1; 0 picks a free one).").arg(d.port),
         QStringLiteral("port")},
        {QStringLiteral("model"),
         QStringLiteral("Model to serve: a model file, a folder, a manifest (.json) or a catalog name. Repeatable; "
                        "the first is the default."),
         QStringLiteral("model")},
        {QStringLiteral("models-dir"), QStringLiteral("Extra folder to search for models. Repeatable."),
         QStringLiteral("dir")},
        {QStringLiteral("conf"), QStringLiteral("Default confidence threshold (default: %1).").arg(d.confidence),
         QStringLiteral("0..1")},
        {QStringLiteral("nms"), QStringLiteral("Default NMS IoU threshold (default: each model's own)."),
         QStringLiteral("0..1")},
        {QStringLiteral("workers"), QStringLiteral("Inference threads (default: %1).").arg(d.workers),
         QStringLiteral("n")},
        {QStringLiteral("max-frame-mb"),
         QStringLiteral("Largest request accepted, in MiB (default: %1).").arg(d.maxFrameBytes / (1024 * 1024)),
         QStringLiteral("mb")},
        {QStringLiteral("max-pixels"),
         QStringLiteral("Largest image accepted, width x height from its header (default: %1).").arg(d.maxPixels),
         QStringLiteral("n")},
        {QStringLiteral("max-connections"),
         QStringLiteral("Simultaneous connections (default: %1).").arg(d.maxConnections), QStringLiteral("n")},
        {QStringLiteral("idle-timeout"),
         QStringLiteral("Seconds a connection may stay silent (default: %1).").arg(d.idleTimeoutMs / 1000),
         QStringLiteral("seconds")},
        {QStringLiteral("token"),
         QStringLiteral("Require v2 clients to authenticate with this token; refuses legacy clients "
                        "(default: $EDGELENS_TOKEN)."),
         QStringLiteral("token")},
        {QStringLiteral("log-level"), QStringLiteral("debug, info, warning or error (default: info)."),
         QStringLiteral("level")},
    });
}

std::optional<ServerConfig> ServerConfig::fromParser(const QCommandLineParser &parser, QString *error)
{
    QString dummy;
    if (!error)
        error = &dummy;
    ServerConfig config;

    if (parser.isSet(QStringLiteral("host"))) {
        const QString host = parser.value(QStringLiteral("host")).trimmed();
        if (host == QLatin1String("localhost")) {
            config.host = QHostAddress::LocalHost;
        } else if (host == QLatin1String("*") || host.isEmpty()) {
            config.host = QHostAddress::Any;
        } else if (!config.host.setAddress(host)) {
            *error = QStringLiteral("--host: \"%1\" is not an IPv4 or IPv6 address").arg(host);
            return std::nullopt;
        }
    }

    qint64 value = config.port;
    if (!readInt(parser, QStringLiteral("port"), 0, 65535, &value, error))
        return std::nullopt;
    config.port = quint16(value);

    config.modelPaths = parser.values(QStringLiteral("model"));
    config.modelDirs = parser.values(QStringLiteral("models-dir"));

    double number = config.confidence;
    if (!readDouble(parser, QStringLiteral("conf"), 0.0, 1.0, &number, error))
        return std::nullopt;
    config.confidence = float(number);
    number = config.nmsIou;
    if (!readDouble(parser, QStringLiteral("nms"), 0.0, 1.0, &number, error))
        return std::nullopt;
    config.nmsIou = float(number);

    value = config.workers;
    if (!readInt(parser, QStringLiteral("workers"), 1, 64, &value, error))
        return std::nullopt;
    config.workers = int(value);

    value = config.maxFrameBytes / (1024 * 1024);
    if (!readInt(parser, QStringLiteral("max-frame-mb"), 1, protocol::kMaxFrameLimit / (1024 * 1024), &value, error))
        return std::nullopt;
    config.maxFrameBytes = quint32(value * 1024 * 1024);

    value = config.maxPixels;
    if (!readInt(parser, QStringLiteral("max-pixels"), 1, qint64(1) << 40, &value, error))
        return std::nullopt;
    config.maxPixels = value;

    value = config.maxConnections;
    if (!readInt(parser, QStringLiteral("max-connections"), 1, 100'000, &value, error))
        return std::nullopt;
    config.maxConnections = int(value);

    number = config.idleTimeoutMs / 1000.0;
    if (!readDouble(parser, QStringLiteral("idle-timeout"), 0.05, 86'400, &number, error))
        return std::nullopt;
    config.idleTimeoutMs = int(number * 1000.0);

    config.token = parser.isSet(QStringLiteral("token"))
        ? parser.value(QStringLiteral("token"))
        : QProcessEnvironment::systemEnvironment().value(QStringLiteral("EDGELENS_TOKEN"));

    if (parser.isSet(QStringLiteral("log-level"))) {
        config.logLevel = parser.value(QStringLiteral("log-level")).trimmed().toLower();
        static const QStringList levels = {QStringLiteral("debug"), QStringLiteral("info"), QStringLiteral("warning"),
                                           QStringLiteral("error")};
        if (!levels.contains(config.logLevel)) {
            *error = QStringLiteral("--log-level: expected debug, info, warning or error, got \"%1\"")
                         .arg(parser.value(QStringLiteral("log-level")));
            return std::nullopt;
        }
    }
    return config;
}

bool ServerConfig::applyLogLevel(const QString &level, QString *error)
{
    QString rules;
    if (level == QLatin1String("debug"))
        rules = QStringLiteral("edgelens.*=true");
    else if (level == QLatin1String("info"))
        rules = QStringLiteral("edgelens.*.debug=false");
    else if (level == QLatin1String("warning"))
        rules = QStringLiteral("edgelens.*.debug=false\nedgelens.*.info=false");
    else if (level == QLatin1String("error"))
        rules = QStringLiteral("edgelens.*.debug=false\nedgelens.*.info=false\nedgelens.*.warning=false");
    else {
        if (error)
            *error = QStringLiteral("unknown log level \"%1\"").arg(level);
        return false;
    }
    QLoggingCategory::setFilterRules(rules);
    return true;
}

} // namespace edgelens
