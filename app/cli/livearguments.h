#pragma once

#include "client/devicespec.h"
#include "live/livepipeline.h"
#include "live/streamspec.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace edgelens {

// What `edgelens-cli live SOURCE ...` was asked to do, read from its command line apart from
// doing it (LiveCommand). parse() exits the process for --help and unknown options, as
// QCommandLineParser does.
struct LiveArguments
{
    StreamSpec source;            // with --rtsp-udp and --once applied
    QList<DeviceSpec> devices;    // --host, repeatable (a pool); empty: a server in this process
    std::optional<QString> model; // --model
    QString token;                // --token, else $EDGELENS_TOKEN
    double durationSeconds = 0;   // 0: until SIGINT/SIGTERM
    int perDevice = 2;            // --max-in-flight
    LivePipeline::Options pipeline; // confidence, deadline, display (maxInFlight set by the run)
    bool jsonLines = false;
    bool quiet = false;
    bool verbose = false;

    // Empty on success; otherwise the usage error to print.
    QString parse(const QStringList &arguments);
};

} // namespace edgelens
