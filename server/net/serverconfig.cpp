#include "serverconfig.h"

#include "trustedproxies.h"

#include "detector/detector.h"

#include <QCommandLineParser>
#include <QLoggingCategory>
#include <QProcessEnvironment>
#include <QThread>

#include <opencv2/core/version.hpp>

#include <limits>
#include <type_traits>

namespace edgelens {

namespace {

// One reader for every numeric option: integers may end in M (millions), as in --max-pixels
// 20M; a value outside [min, max] is refused naming the option and the range.
template <typename Number>
bool readNumber(const QCommandLineParser &parser, const QString &name, Number min, Number max, Number *out,
                QString *error)
{
    if (!parser.isSet(name))
        return true;
    QString text = parser.value(name).trimmed();
    bool ok = false;
    // Checked in a wide type, so that 4294967298 is not taken for an int's 2.
    std::conditional_t<std::is_integral_v<Number>, qint64, double> value{};
    if constexpr (std::is_integral_v<Number>) {
        qint64 factor = 1;
        if (text.endsWith(QLatin1Char('M'), Qt::CaseInsensitive)) {
            factor = 1'000'000;
            text.chop(1);
        }
        value = text.toLongLong(&ok);
        // Compared without qAbs (undefined for the lowest qint64) and multiplied only when in
        // range: a refused value must not overflow on its way to the refusal either.
        const qint64 limit = std::numeric_limits<qint64>::max() / factor;
        ok = ok && value <= limit && value >= -limit;
        if (ok)
            value *= factor;
    } else {
        value = text.toDouble(&ok);
    }
    if (!ok || value < min || value > max) {
        *error = QStringLiteral("--%1: expected %2 from %3 to %4, got \"%5\"")
                     .arg(name, std::is_integral_v<Number> ? QStringLiteral("a whole number") : QStringLiteral("a number"))
                     .arg(min)
                     .arg(max)
                     .arg(parser.value(name));
        return false;
    }
    *out = Number(value);
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
        {QStringLiteral("workers"),
         QStringLiteral("Images processed at once, each on its own thread with its own copy of the model "
                        "(default: %1).")
             .arg(d.workers),
         QStringLiteral("n")},
        {QStringLiteral("threads"),
         QStringLiteral("OpenCV threads one forward pass may use (cv::setNumThreads, for the whole process; "
                        "OpenCV parallelises one forward at a time, concurrent ones run on their worker's "
                        "thread; default: every core, here %1).")
             .arg(d.effectiveThreads()),
         QStringLiteral("n")},
        {QStringLiteral("backend"),
         QStringLiteral("cv::dnn backend: %1 (default: $EDGELENS_DNN_BACKEND, else opencv). This OpenCV %2 "
                        "build has: %3.")
             .arg(knownBackends().join(QStringLiteral(", ")), QStringLiteral(CV_VERSION),
                  availableBackends().join(QStringLiteral(", "))),
         QStringLiteral("name")},
        {QStringLiteral("max-frame-mb"),
         QStringLiteral("Largest request accepted, in MiB (default: %1).").arg(d.maxFrameBytes / (1024 * 1024)),
         QStringLiteral("mb")},
        {QStringLiteral("max-pixels"),
         QStringLiteral("Largest image accepted, width x height from its header (default: %1).").arg(d.maxPixels),
         QStringLiteral("n")},
        {QStringLiteral("max-connections"),
         QStringLiteral("Simultaneous connections (default: %1).").arg(d.maxConnections), QStringLiteral("n")},
        {QStringLiteral("max-queue"),
         QStringLiteral("Requests waiting for a worker, all clients together; more are answered busy "
                        "(default: %1).")
             .arg(d.maxQueued),
         QStringLiteral("n")},
        {QStringLiteral("idle-timeout"),
         QStringLiteral("Seconds a connection may stay silent (default: %1).").arg(d.idleTimeoutMs / 1000),
         QStringLiteral("seconds")},
        {QStringLiteral("http-port"),
         QStringLiteral("Also serve the DeepStack / CodeProject.AI HTTP API, /metrics, /healthz and /readyz on "
                        "this port (default: off; 0 picks a free one; see docs/HTTP.md)."),
         QStringLiteral("port")},
        {QStringLiteral("http-max-body-mb"),
         QStringLiteral("Largest HTTP request body, in MiB (default: %1).").arg(d.maxHttpBodyBytes / (1024 * 1024)),
         QStringLiteral("mb")},
        {QStringLiteral("http-max-connections"),
         QStringLiteral("Simultaneous HTTP connections, apart from --max-connections (default: %1).")
             .arg(d.httpMaxConnections),
         QStringLiteral("n")},
        {QStringLiteral("http-max-per-address"),
         QStringLiteral("HTTP connections from one client address; behind --trusted-proxy, its requests at once "
                        "(default: %1).")
             .arg(d.httpMaxPerAddress),
         QStringLiteral("n")},
        {QStringLiteral("http-body-budget-mb"),
         QStringLiteral("HTTP request bodies held in memory, all connections together, in MiB; more wait, then get "
                        "503 (default: %1).")
             .arg(d.httpBodyBudgetBytes / (1024 * 1024)),
         QStringLiteral("mb")},
        {QStringLiteral("http-proxy-protocol"),
         QStringLiteral("Expect a PROXY protocol v1/v2 header at the start of every HTTP connection (a TCP load "
                        "balancer in front). Only behind a load balancer.")},
        {QStringLiteral("trusted-proxy"),
         QStringLiteral("A reverse proxy (address or subnet) in front of the HTTP port whose X-Forwarded-For header "
                        "names the client, for limits and the auth throttle. Repeatable."),
         QStringLiteral("address")},
        {QStringLiteral("token"),
         QStringLiteral("Require v2 clients to authenticate with this token; refuses legacy clients "
                        "(default: $EDGELENS_TOKEN)."),
         QStringLiteral("token")},
        {QStringLiteral("tls"),
         QStringLiteral("Serve TLS (1.2 or later) on --port. Without --tls-cert/--tls-key a self-signed certificate "
                        "is created once in the per-user data folder; its sha256 fingerprint is logged at start.")},
        {QStringLiteral("tls-cert"), QStringLiteral("TLS certificate (PEM) to use with --tls."), QStringLiteral("file")},
        {QStringLiteral("tls-key"), QStringLiteral("TLS private key (PEM, unencrypted) to use with --tls."),
         QStringLiteral("file")},
        {QStringLiteral("plain-port"),
         QStringLiteral("Also serve plaintext (legacy and v2) on this port, for clients that cannot speak TLS. "
                        "Only on networks you trust."),
         QStringLiteral("port")},
        {QStringLiteral("proxy-protocol"),
         QStringLiteral("Expect a PROXY protocol v1/v2 header (nginx proxy_protocol, HAProxy send-proxy) at the start "
                        "of every connection and use the client address it carries. Only behind a load balancer.")},
        {QStringLiteral("no-announce"),
         QStringLiteral("Do not announce this server on the local network (DNS-SD _edgelens._tcp over mDNS, "
                        "through avahi-daemon; see docs/DEPLOY.md).")},
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

    qint64 port = config.port;
    if (!readNumber<qint64>(parser, QStringLiteral("port"), 0, 65535, &port, error))
        return std::nullopt;
    config.port = quint16(port);

    config.modelPaths = parser.values(QStringLiteral("model"));
    config.modelDirs = parser.values(QStringLiteral("models-dir"));

    if (!readNumber(parser, QStringLiteral("conf"), 0.0f, 1.0f, &config.confidence, error)
        || !readNumber(parser, QStringLiteral("nms"), 0.0f, 1.0f, &config.nmsIou, error)
        || !readNumber(parser, QStringLiteral("workers"), 1, 64, &config.workers, error)
        || !readNumber(parser, QStringLiteral("threads"), 1, 256, &config.threads, error)
        || !readNumber<qint64>(parser, QStringLiteral("max-pixels"), 1, qint64(1) << 40, &config.maxPixels, error)
        || !readNumber(parser, QStringLiteral("max-connections"), 1, 100'000, &config.maxConnections, error)
        || !readNumber(parser, QStringLiteral("max-queue"), 1, 100'000, &config.maxQueued, error))
        return std::nullopt;

    qint64 frameMb = config.maxFrameBytes / (1024 * 1024);
    if (!readNumber<qint64>(parser, QStringLiteral("max-frame-mb"), 1, protocol::kMaxFrameLimit / (1024 * 1024),
                            &frameMb, error))
        return std::nullopt;
    config.maxFrameBytes = quint32(frameMb * 1024 * 1024);

    qint64 httpPort = config.httpPort;
    qint64 httpBodyMb = config.maxHttpBodyBytes / (1024 * 1024);
    if (!readNumber<qint64>(parser, QStringLiteral("http-port"), 0, 65535, &httpPort, error)
        || !readNumber<qint64>(parser, QStringLiteral("http-max-body-mb"), 1, 4096, &httpBodyMb, error))
        return std::nullopt;
    config.httpPort = int(httpPort);
    config.maxHttpBodyBytes = httpBodyMb * 1024 * 1024;
    qint64 httpBudgetMb = config.httpBodyBudgetBytes / (1024 * 1024);
    if (!readNumber(parser, QStringLiteral("http-max-connections"), 1, 100'000, &config.httpMaxConnections, error)
        || !readNumber(parser, QStringLiteral("http-max-per-address"), 1, 100'000, &config.httpMaxPerAddress, error)
        || !readNumber<qint64>(parser, QStringLiteral("http-body-budget-mb"), 1, 65536, &httpBudgetMb, error))
        return std::nullopt;
    config.httpBodyBudgetBytes = httpBudgetMb * 1024 * 1024;
    if (config.httpBodyBudgetBytes < config.maxHttpBodyBytes) {
        *error = QStringLiteral("--http-body-budget-mb must be at least --http-max-body-mb (a body at the limit must fit)");
        return std::nullopt;
    }
    config.httpProxyProtocol = parser.isSet(QStringLiteral("http-proxy-protocol"));
    config.trustedProxies = parser.values(QStringLiteral("trusted-proxy"));
    if (!TrustedProxies::parse(config.trustedProxies, error))
        return std::nullopt;

    double idleSeconds = config.idleTimeoutMs / 1000.0;
    if (!readNumber(parser, QStringLiteral("idle-timeout"), 0.05, 86'400.0, &idleSeconds, error))
        return std::nullopt;
    config.idleTimeoutMs = int(idleSeconds * 1000.0);

    config.tls = parser.isSet(QStringLiteral("tls"));
    config.tlsCertificateFile = parser.value(QStringLiteral("tls-cert"));
    config.tlsKeyFile = parser.value(QStringLiteral("tls-key"));
    if (!config.tls && (parser.isSet(QStringLiteral("tls-cert")) || parser.isSet(QStringLiteral("tls-key")))) {
        *error = QStringLiteral("--tls-cert and --tls-key need --tls");
        return std::nullopt;
    }
    if (config.tlsCertificateFile.isEmpty() != config.tlsKeyFile.isEmpty()) {
        *error = QStringLiteral("--tls-cert and --tls-key go together");
        return std::nullopt;
    }
    qint64 plainPort = config.plainPort;
    if (!readNumber<qint64>(parser, QStringLiteral("plain-port"), 0, 65535, &plainPort, error))
        return std::nullopt;
    config.plainPort = int(plainPort);
    config.proxyProtocol = parser.isSet(QStringLiteral("proxy-protocol"));
    config.announce = !parser.isSet(QStringLiteral("no-announce"));
    if (config.proxyProtocol && config.tls) {
        // The header would have to be read before the TLS handshake, which QSslServer starts
        // on its own; a balancer in front terminates TLS itself or passes plaintext on.
        *error = QStringLiteral("--proxy-protocol works on plaintext ports only; use it without --tls (the load "
                                "balancer can terminate TLS)");
        return std::nullopt;
    }
    if (config.httpProxyProtocol && config.tls) {
        *error = QStringLiteral("--http-proxy-protocol works on plaintext ports only (with --tls the HTTP port is HTTPS)");
        return std::nullopt;
    }

    if (parser.isSet(QStringLiteral("backend"))) {
        config.backend = parser.value(QStringLiteral("backend")).trimmed().toLower();
        if (!checkBackend(config.backend, error)) {
            *error = QStringLiteral("--backend: ") + *error;
            return std::nullopt;
        }
    }

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

int ServerConfig::effectiveThreads() const
{
    return threads > 0 ? threads : qMax(1, QThread::idealThreadCount());
}

QString ServerConfig::effectiveBackend() const
{
    return resolveBackend(backend);
}

bool ServerConfig::checkBackend(const QString &name, QString *error)
{
    const QString problem = backendProblem(name);
    if (error && !problem.isEmpty())
        *error = problem;
    return problem.isEmpty();
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
