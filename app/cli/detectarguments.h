#pragma once

#include "client/detectionclient.h"
#include "client/devicespec.h"
#include "inputs/frameextractor.h"
#include "protocol/detection.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace edgelens {

// What `edgelens-cli [detect] PATHS...` was asked to do, read from its command line apart from
// doing it (DetectCommand). parse() exits the process for --help, --version and unknown
// options, as QCommandLineParser does.
struct DetectArguments
{
    QStringList paths;
    DetectionClient::Protocol clientProtocol = DetectionClient::Protocol::Auto;
    QList<DeviceSpec> devices;  // --host, each with the protocol and TLS settings
    bool embedded = true;       // start a server in this process (no --host, or --embedded)
    std::optional<QString> model; // --model
    DetectOptions options;      // confidence, NMS (the model is set where it applies)
    int concurrency = 4;
    double timeoutSeconds = 60;
    int retries = 3;
    QString token;
    QString outputDir;          // absolute, clean
    bool json = false;
    bool sendOriginal = false;
    int resultMaxSide = 2048;
    FrameExtractor::Options frames; // the sampling rule and frame format (framesDir per video)
    bool quiet = false;
    bool verbose = false;

    // Empty on success; otherwise the usage error to print.
    QString parse(const QStringList &arguments);
};

} // namespace edgelens
