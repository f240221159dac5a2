// edgelens-server: the headless device server. Everything but argument handling and process
// lifetime lives in edgelens_server (DetectionServer).

#include "http/httplistener.h"
#include "net/detectionserver.h"
#include "net/deviceannouncer.h"
#include "net/serverconfig.h"
#include "net/unixsignalwatcher.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <csignal>
#include <cstdio>

namespace {

enum ExitCode { Ok = 0, Failure = 1, NoModel = 2 };

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("edgelens-server"));
    QCoreApplication::setOrganizationName(QStringLiteral("EdgeLens"));
    QCoreApplication::setApplicationVersion(QStringLiteral(EDGELENS_VERSION));
    qSetMessagePattern(QStringLiteral("%{time yyyy-MM-ddThh:mm:ss.zzz} %{if-warning}warning %{endif}"
                                      "%{if-critical}error %{endif}%{category}: %{message}"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "EdgeLens device server: receives images over TCP and answers with detections and the marked-up "
        "image.\nSpeaks the tutorial's legacy protocol (length + image, reply length + JPEG) and protocol v2 "
        "(docs/PROTOCOL.md) on the same port, optionally inside TLS (--tls; docs/SECURITY.md)."));
    parser.addHelpOption();
    parser.addVersionOption();
    edgelens::ServerConfig::addOptions(parser);
    parser.process(app); // exits for --help, --version and unknown options

    QString error;
    const std::optional<edgelens::ServerConfig> config = edgelens::ServerConfig::fromParser(parser, &error);
    if (!config) {
        std::fprintf(stderr, "edgelens-server: %s\n", qPrintable(error));
        return Failure;
    }
    edgelens::ServerConfig::applyLogLevel(config->logLevel, nullptr);

    // Installed before the models load so an early SIGTERM still ends in a clean exit.
    edgelens::DetectionServer server;
    int exitCode = Ok;
    edgelens::DeviceAnnouncer announcer;
    edgelens::UnixSignalWatcher signalWatcher({SIGINT, SIGTERM});
    QObject::connect(&signalWatcher, &edgelens::UnixSignalWatcher::signalReceived, &app, [&](int signalNumber) {
        static bool stopping = false;
        if (stopping) {
            std::fprintf(stderr, "edgelens-server: second signal %d, aborting running requests\n", signalNumber);
            exitCode = Failure;
            server.stop();
            app.quit();
            return;
        }
        stopping = true;
        announcer.withdraw(); // draining: new clients should not come
        server.drain(config->drainTimeoutMs);
    });
    if (!server.start(*config, &error)) {
        std::fprintf(stderr, "edgelens-server: %s\n", qPrintable(error.trimmed()));
        return server.startFailure() == edgelens::DetectionServer::StartFailure::NoModel ? NoModel : Failure;
    }

    if (config->httpPort >= 0) {
        auto *http = new edgelens::HttpListener(server.service(), edgelens::HttpLimits::fromConfig(*config));
        if (server.tlsIdentity())
            http->useTls(*server.tlsIdentity()); // the same certificate, so the same fingerprint
        if (!server.addListener(http, config->host, quint16(config->httpPort), &error)) {
            std::fprintf(stderr, "edgelens-server: %s\n", qPrintable(error.trimmed()));
            return Failure;
        }
    }
    QObject::connect(&server, &edgelens::DetectionServer::drained, &app, &QCoreApplication::quit);

    // Compare with what a client shows before trusting the device (docs/SECURITY.md).
    if (!server.tlsFingerprint().isEmpty())
        std::printf("tls certificate %s\n", qPrintable(server.tlsFingerprint()));
    if (server.plainPort() != 0)
        std::printf("plaintext also on port %u\n", unsigned(server.plainPort()));
    for (const edgelens::Listener *listener : server.listeners()) {
        if (listener->kind().startsWith(QLatin1String("http")))
            std::printf("%s listening on %s:%u\n", qPrintable(listener->kind()),
                        qPrintable(listener->serverAddress().toString()),
                        unsigned(listener->serverPort()));
    }
    if (config->announce) {
        QString why;
        if (!announcer.start(server, &why))
            // A log line, not output: stdout's first line stays "listening on" for scripts.
            std::fprintf(stderr, "not announced on the network: %s\n", qPrintable(why));
    }
    // Scripts and tests wait for this exact line before connecting (the HTTP port is printed first).
    std::printf("listening on %s\n", qPrintable(server.listenAddress()));
    std::fflush(stdout);

    const int loopCode = app.exec();
    return exitCode != Ok ? exitCode : loopCode;
}
