#pragma once

#include "models/modelmanifest.h"
#include "protocol/protocol.h"

#include <QHostAddress>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

class QCommandLineParser;

namespace edgelens {

// Everything a DetectionServer needs to start. The defaults are the tutorial's behaviour
// (all interfaces, port 6000, confidence 0.5) with limits that keep one client from starving
// the others.
struct ServerConfig
{
    QHostAddress host = QHostAddress::Any;
    quint16 port = protocol::kDefaultPort; // 0: the system picks (see DetectionServer::serverPort)

    // Where the models come from. `models` (already resolved manifests) wins when non-empty;
    // otherwise each `modelPaths` entry (model file, folder, manifest or catalog name) is
    // resolved through the ModelCatalog, searching `modelDirs` first; with neither, the
    // catalog's default model. The first model is the default unless `defaultModel` names one.
    QList<ModelManifest> models;
    QStringList modelPaths;
    QStringList modelDirs;
    QString defaultModel;

    float confidence = 0.5f; // legacy requests, and v2 requests that do not say
    float nmsIou = -1.0f;    // < 0: each model's own default
    int workers = 2;         // inference threads, each with its own cv::dnn::Net per model
    // OpenCV's threads for one forward (cv::setNumThreads, process-wide: the last server
    // started in a process sets it). 0: automatic, see effectiveThreads().
    int threads = 0;
    // cv::dnn backend: "opencv" (CPU), "openvino" or "cuda". Empty: $EDGELENS_DNN_BACKEND,
    // else "opencv". One this OpenCV build lacks stops start() with the available ones named.
    QString backend;

    quint32 maxFrameBytes = protocol::kDefaultMaxFrameBytes;
    qint64 maxPixels = 50'000'000; // width x height read from the header, before decoding
    int maxConnections = 64;
    int maxInFlightPerConnection = 8;
    // Requests waiting for a worker, all connections together; above it requests get `busy`
    // at once rather than waiting behind work nobody may still want.
    int maxQueued = 64;
    int idleTimeoutMs = 30'000;    // no byte from a client (and nothing of theirs running)
    int frameTimeoutMs = 0;        // a started frame must complete within this; 0: 4 x idle
    int drainTimeoutMs = 10'000;   // SIGTERM: how long in-flight requests may take to finish
    int httpPort = -1;             // >= 0: edgelens-server adds the HTTP API (docs/HTTP.md); 0: any free port
    qint64 maxHttpBodyBytes = 32 * 1024 * 1024; // HTTP request bodies, checked before they are read
    // The HTTP port's own limits (docs/HTTP.md), apart from maxConnections, so that neither
    // port can starve the other.
    int httpMaxConnections = 64;
    int httpMaxPerAddress = 16;                    // connections (or requests through a proxy) per client
    qint64 httpBodyBudgetBytes = 80 * 1024 * 1024; // request bodies in memory, all connections together
    bool httpProxyProtocol = false;                // a PROXY header starts every HTTP connection
    QStringList trustedProxies;                    // reverse proxies whose X-Forwarded-For is believed
    QString token;                 // non-empty: v2 clients must Auth first, legacy is refused
    // TLS on `port`: with both files (PEM) those, otherwise a self-signed certificate created
    // once in the per-user data folder (TlsIdentity).
    bool tls = false;
    QString tlsCertificateFile;
    QString tlsKeyFile;
    int plainPort = -1;            // >= 0: an extra plaintext listener (legacy and v2) on host:plainPort
    // Every connection starts with a PROXY protocol v1/v2 header (from a load balancer) whose
    // client address is used for logs and per-address limits; a connection without one is closed.
    bool proxyProtocol = false;
    QString logLevel = QStringLiteral("info");
    // edgelens-server announces itself on the local network (DNS-SD _edgelens._tcp through
    // avahi-daemon); --no-announce turns it off. Embedded servers never announce.
    bool announce = true;

    int effectiveFrameTimeoutMs() const { return frameTimeoutMs > 0 ? frameTimeoutMs : 4 * idleTimeoutMs; }
    // `threads`, or when 0 every core. OpenCV 4.6 spreads only one parallel loop at a time
    // over its threads, process-wide; a worker whose forward starts meanwhile runs it on its own
    // thread. So at most threads + workers - 1 threads compute: with every core, a lone request
    // gets the whole machine and a busy server oversubscribes by workers - 1 threads at most
    // (measured in docs/MODELS.md). Many cores and many clients: more workers, --threads 1.
    int effectiveThreads() const;
    // `backend`, else $EDGELENS_DNN_BACKEND, else "opencv"; lower case.
    QString effectiveBackend() const;

    // Whether `name` is a backend createDetector() knows and this OpenCV build has; otherwise
    // *error says which ones are there ("... not available in this OpenCV 4.6.0 build
    // (available: opencv)").
    static bool checkBackend(const QString &name, QString *error);

    // 127.0.0.1 on an ephemeral port: what the CLI's and the app's --embedded mode use.
    static ServerConfig embedded();

    // The edgelens-server command line (every option but --help/--version) and its reading.
    // Environment: EDGELENS_TOKEN when --token is absent.
    static void addOptions(QCommandLineParser &parser);
    static std::optional<ServerConfig> fromParser(const QCommandLineParser &parser, QString *error);

    // "debug", "info", "warning", "error": installs logging filter rules for edgelens.*.
    static bool applyLogLevel(const QString &level, QString *error);
};

} // namespace edgelens
